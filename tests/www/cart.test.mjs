import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addOne, cartLines, itemCount, setQuantity, totalSen } from '../../www/cart.js';
import { formatRinggit, toSen } from '../../www/kelantanpay.js';

const catalog = [
  { sku: 'a', name: 'A', amount: '89.00' },
  { sku: 'b', name: 'B', amount: '45.50' },
];

test('the display total is exact in sen', () => {
  let cart = addOne(addOne(addOne({}, 'a'), 'a'), 'b');
  const lines = cartLines(cart, catalog);
  assert.equal(totalSen(lines), 22350);
  assert.equal(itemCount(lines), 3);
  assert.equal(formatRinggit(totalSen(lines)), 'RM 223.50');
  cart = setQuantity(cart, 'a', 0);
  assert.deepEqual(cart, { b: 1 });
});

test('quantities stay within 1..99 and unknown SKUs are dropped', () => {
  assert.deepEqual(setQuantity({ a: 1 }, 'a', 500), { a: 99 });
  assert.deepEqual(setQuantity({ a: 1 }, 'a', 'x'), {});
  assert.deepEqual(setQuantity({ a: 3 }, 'a', 2.7), { a: 2 });
  assert.equal(addOne({ a: 99 }, 'a').a, 99);
  assert.deepEqual(cartLines({ gone: 2, b: 1 }, catalog).map((l) => l.product.sku), ['b']);
});

test('toSen reads decimal strings without floats', () => {
  assert.equal(toSen('0.1'), 10);
  assert.equal(toSen('19.99'), 1999);
  assert.equal(toSen('1.005'), null);
  assert.equal(toSen(' 1'), null);
});
