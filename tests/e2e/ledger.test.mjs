// Contract v3, the ledger (../shared/spec/orders-api.md "The ledger"): each payment's object
// writes its row to D1 off the request path: pending once the gateway answered the create,
// then paid or failed as confirmed, with the buyer's contact and the catalog's item names; the
// daily cron deletes money facts past KP_LEDGER_RETENTION_DAYS and erases contact past
// KP_RETENTION_DAYS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually, fileStack, sandboxConfig, settle, ORDER, PAYER } from './support.mjs';

const ctx = fileStack({ vars: { KP_RECONCILE_SCHEDULE: '60' } });
const DAY = 86_400_000;

const rowOf = async (stack, id) => (await stack.ledger('SELECT * FROM orders WHERE id = ?', id)).results[0];
const rowReads = (stack, id, status, ms = 10_000) =>
  eventually(async () => {
    const row = await rowOf(stack, id);
    return row?.status === status && row;
  }, ms, `the ledger row of ${id} reading ${status}`);

test('a created payment writes a pending row with its buyer and items; Pay makes it paid', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  await sandboxConfig(stack, { callbacks: false, early22Seconds: 0 });
  const made = (await client.create(ORDER)).json;
  const pending = await rowReads(stack, made.id, 'pending');
  assert.deepEqual(
    [pending.reference, pending.orderid, pending.name, pending.email, pending.currency],
    [made.reference, made.orderid, PAYER.name, PAYER.email, 'MYR'],
  );
  assert.equal(pending.amount_sen, Math.round(Number(made.amount) * 100));
  assert.ok(pending.mobile, 'the mobile number is kept until retention');
  const items = JSON.parse(pending.items);
  assert.deepEqual(items.map((i) => [i.sku, i.quantity]), [['batik-scarf', 2]]);
  assert.ok(items[0].name && items[0].name !== 'batik-scarf', `the catalog's name: ${items[0].name}`);
  assert.equal(pending.paid_ms, null);

  await settle(stack, made.reference, 'paid');
  // A status poll confirms it; the row follows within seconds (nobody waits for it).
  const status = await client.get(`/api/payments/${encodeURIComponent(made.id)}`);
  assert.equal(status.json.status, 'paid');
  const paid = await rowReads(stack, made.id, 'paid');
  assert.ok(paid.revision > pending.revision, `${pending.revision} -> ${paid.revision}`);
  assert.ok(paid.paid_ms >= paid.created_ms);
  assert.equal(paid.code, '00');
  assert.equal(paid.email, PAYER.email, 'contact present until KP_RETENTION_DAYS');
});

test('Fail makes the row failed, and the merchant\'s columns are never written by the object', { timeout: 120_000 }, async () => {
  const { stack } = ctx();
  const client = api(ctx());
  await sandboxConfig(stack, { callbacks: false, early22Seconds: 0 });
  const made = (await client.create(ORDER)).json;
  await rowReads(stack, made.id, 'pending');
  await stack.ledger('UPDATE orders SET note = ? WHERE id = ?', 'call the buyer', made.id);
  await settle(stack, made.reference, 'failed');
  // A 22 inside the first minute is pending (with its code); the scheduled check at 60 s
  // confirms the failure, and the row follows.
  const status = await client.get(`/api/payments/${encodeURIComponent(made.id)}`);
  assert.deepEqual([status.json.status, status.json.code], ['pending', '22']);
  await eventually(async () => (await rowOf(stack, made.id))?.code === '22', 10_000, 'the early 22 in the row');
  const failed = await rowReads(stack, made.id, 'failed', 90_000);
  assert.deepEqual([failed.code, failed.paid_ms, failed.note], ['22', null, 'call the buyer']);
});

test('the daily sweep deletes rows past KP_LEDGER_RETENTION_DAYS and erases contact past KP_RETENTION_DAYS', async () => {
  const { stack } = ctx();
  const now = Date.now();
  const insert = (id, created) => stack.ledger(
    `INSERT INTO orders (id, reference, orderid, status, amount_sen, created_ms, updated_ms, name, email, mobile,
       description, revision) VALUES (?, ?, 'o', 'paid', 100, ?, ?, 'N', 'e@example.my', '0123456789', 'd', 1)`,
    id, `ref-${id}`, created, created,
  );
  await insert('old', now - 2558 * DAY);
  await insert('erased', now - 91 * DAY);
  await insert('fresh', now - DAY);
  await stack.worker.scheduled();
  const rows = (await stack.ledger("SELECT id, name, email, mobile, amount_sen FROM orders WHERE id IN ('old', 'erased', 'fresh') ORDER BY id")).results;
  assert.deepEqual(rows, [
    { id: 'erased', name: null, email: null, mobile: null, amount_sen: 100 },
    { id: 'fresh', name: 'N', email: 'e@example.my', mobile: '0123456789', amount_sen: 100 },
  ]);
});
