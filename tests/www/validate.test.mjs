// The storefront's field rules must agree with the Worker's (src/customer.rs, src/amount.rs):
// these cases are the core's own test cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAmount, checkCheckout, checkEmail, checkMobile, checkName, normaliseMobile, sentence } from '../../www/validate.js';

test('mobile numbers are normalised to local form like the core does', () => {
  for (const input of ['+60 12-345 6789', '60123456789', '012-345 6789', '(012) 345 6789', '0123456789']) {
    assert.equal(normaliseMobile(input), '0123456789', input);
  }
  assert.equal(normaliseMobile('+60 11-1234 5678'), '01112345678');
  for (const input of ['', '12345', '+65 9123 4567', '03-1234 5678', '0123456789012', '01234567a9', '+６０１２３４５６７８９']) {
    assert.equal(normaliseMobile(input), null, input);
    assert.ok(checkMobile(input), input);
  }
  assert.equal(checkMobile(''), 'mobile is required');
});

test('email rules match the core', () => {
  for (const input of ['testuser@example.com', 'a.b+tag@mail.example.com.my', '  x@y.co  ']) {
    assert.equal(checkEmail(input), null, input);
  }
  const long = `${'a'.repeat(250)}@example.com`;
  for (const input of ['plain', '@example.com', 'a@', 'a@b', 'a@@b.com', 'a..b@c.com', 'a@-b.com', 'a b@c.com', 'a@c.c0m', long]) {
    assert.equal(checkEmail(input), 'email is not a valid address', input);
  }
  assert.equal(checkEmail(''), 'email is required');
});

test('name is 1 to 100 characters without control characters', () => {
  assert.equal(checkName('  Siti  '), null);
  assert.equal(checkName('   '), 'name is required');
  assert.equal(checkName('x'.repeat(100)), null);
  assert.equal(checkName('é'.repeat(101)), 'name must be at most 100 characters');
  assert.equal(checkName('a\u0007b'), 'name must not contain control characters');
});

test('open amounts: two decimals at most, within the configured bounds', () => {
  const bounds = { min_amount: '1.00', max_amount: '30000.00' };
  assert.equal(checkAmount('12.50', bounds), null);
  assert.equal(checkAmount('12', bounds), null);
  assert.equal(checkAmount('1.234', bounds), 'amount must have at most two decimal places');
  for (const input of ['-1', '+1', '1e3', '1,000', '1.', '.5', 'NaN', 'RM5']) {
    assert.equal(checkAmount(input, bounds), 'amount must be a number such as 12 or 12.50', input);
  }
  assert.equal(checkAmount('0.00', bounds), 'amount must be greater than zero');
  assert.match(checkAmount('0.50', bounds), /between RM\s1\.00 and RM\s30,000\.00/);
  assert.match(checkAmount('99999999999999', bounds), /between/);
});

test('checkCheckout reports every failing field, and amount only in open mode', () => {
  const form = { name: '', email: 'x', mobile: '0123456789', amount: '' };
  assert.deepEqual(Object.keys(checkCheckout(form, { mode: 'catalog' })), ['name', 'email']);
  assert.deepEqual(Object.keys(checkCheckout(form, { mode: 'open', min_amount: '1.00', max_amount: '9.00' })), ['amount', 'name', 'email']);
});

test('messages are shown as sentences', () => {
  assert.equal(sentence('email is not a valid address'), 'Email is not a valid address.');
  assert.equal(sentence('Done!'), 'Done!');
});
