// The drop-in client's field rules against the shared case table that the core's own test
// (tests/field_rules.rs) runs too: one table, so the two cannot drift apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { normaliseMobile, toSen, validateOrder } from '../../www/kelantanpay.js';

const table = JSON.parse(readFileSync(new URL('../rules/fields.json', import.meta.url), 'utf8'));
const config = { mode: 'open', ...table.bounds };

function order(set) {
  const merged = { ...table.base, ...set };
  for (const [key, value] of Object.entries(set)) if (value === null) delete merged[key];
  return merged;
}

test('every case of the shared table holds in the drop-in client', () => {
  assert.ok(table.cases.length > 50, 'the table lost its cases');
  for (const { set, ok, error } of table.cases) {
    const errors = validateOrder(order(set), config).map((e) => [e.field, e.code]);
    const label = JSON.stringify(set);
    if (error) {
      assert.deepEqual(errors[0], error, label);
      continue;
    }
    assert.deepEqual(errors, [], label);
    const accepted = order(set);
    if ('amount_sen' in ok) assert.equal(toSen(accepted.amount), ok.amount_sen, label);
    if ('mobile' in ok) assert.equal(normaliseMobile(accepted.mobile), ok.mobile, label);
    if ('name' in ok) assert.equal(accepted.name.trim(), ok.name, label);
  }
});

test('every code the table uses has a message in both languages, with the field named', () => {
  const codes = new Set(table.cases.filter((c) => c.error).map((c) => c.error.join('.')));
  for (const pair of codes) {
    const [field] = pair.split('.');
    const [error] = validateOrder(order(table.cases.find((c) => c.error?.join('.') === pair).set), config);
    const en = error.messageIn('en');
    const ms = error.messageIn('ms');
    assert.ok(en && ms && en !== ms, `${pair}: ${en} / ${ms}`);
    assert.doesNotMatch(`${en} ${ms}`, /\{|undefined| \.|  /, pair);
    if (field === 'amount' && error.code === 'bounds') assert.match(en, /between RM 1\.00 and RM 30,000\.00/);
  }
});

test('in catalog mode the amount is the Worker\'s business; without a config only a sent amount is checked', () => {
  assert.deepEqual(validateOrder({ ...table.base, amount: 'x' }, { mode: 'catalog' }), []);
  assert.deepEqual(validateOrder({ name: 'A', email: 'a@b.co', mobile: '0123456789' }), []);
  assert.equal(validateOrder({ ...table.base, amount: '1.001' })[0].code, 'decimals');
});
