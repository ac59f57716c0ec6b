// The admin API over a real local D1 (Miniflare's): list, filters, search, keyset paging while
// orders arrive, bad parameters, one order, the summary, the CSV export, fulfil/unfulfil, recheck,
// and the gate. Rows are seeded straight into the ledger (stack.ledger) where the ledger's writer
// is another helper's; recheck uses a real payment.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually, fileStack, settle, webhookReceiver, ORDER } from './support.mjs';
import { startWorker } from '../support/harness.mjs';

const TOKEN = 'test-admin-token-0123456789abcdefghij';
const receiver = await webhookReceiver();
const ctx = fileStack({ vars: { KP_ADMIN_TOKEN: TOKEN, KP_WEBHOOK_URL: receiver.url } });
after(() => receiver.close());
// The payment's object writes the rows once the ledger helper's writer is merged.
const AUTH = { authorization: `Bearer ${TOKEN}` };
// 2026-12-07 12:00 in Malaysia.
const BASE = Date.parse('2026-12-07T12:00:00+08:00');
const HOUR = 3_600_000;

let serial = 0;
/** Inserts one ledger row (unless `ignore` and the payment's object wrote it first); returns it. */
async function seed(stack, row = {}, { ignore = false } = {}) {
  serial += 1;
  const full = {
    id: `KP${serial}-1.seed.${serial}`, reference: `KP${serial}-1`, orderid: `ORD-${serial}`, status: 'paid',
    code: '00', amount_sen: 4500, currency: 'MYR', created_ms: BASE, updated_ms: BASE, paid_ms: BASE,
    name: 'Siti Aminah', email: 'siti@example.my', mobile: '+60123456789', description: 'Batik',
    items: '[{"sku":"batik-scarf","name":"Kelantan batik scarf","quantity":1,"amount":"45.00"}]',
    ref_1: null, ref_2: null, ref_3: null, events: '[]', revision: 1, fulfilled_ms: null, note: null,
    ...row,
  };
  const names = Object.keys(full);
  await stack.ledger(`INSERT ${ignore ? 'OR IGNORE ' : ''}INTO orders (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`, ...names.map((n) => full[n]));
  return full;
}

async function admin(path, init = {}) {
  const { scan } = ctx();
  return scan.fetch(path, { ...init, headers: { ...AUTH, ...(init.headers ?? {}) } });
}
const post = (path, body, headers = {}) =>
  admin(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const clear = () => ctx().stack.ledger('DELETE FROM orders');
const ids = (r) => r.json.orders.map((o) => o.id);

test('without credentials the admin API answers 401 with the envelope only; with the token 200', async () => {
  await clear();
  const { scan } = ctx();
  for (const headers of [{}, { authorization: 'Bearer not-the-token-0123456789abcdefghij' }, { authorization: TOKEN }]) {
    for (const path of ['/admin/api/orders', '/admin/api/orders.csv', '/admin/api/summary', '/admin/api/orders/x']) {
      const r = await scan.fetch(path, { headers });
      assert.equal(r.status, 401, path);
      assert.deepEqual(Object.keys(r.json), ['error']);
      assert.equal(r.json.error.type, 'unauthorized');
    }
  }
  const r = await admin('/admin/api/orders');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { orders: [], next_cursor: null });
});

test('the list is newest first, filtered by status, dates (Malaysia time), fulfilment and search', async () => {
  await clear();
  const { stack } = ctx();
  const a = await seed(stack, { created_ms: BASE - 30 * HOUR, name: 'Ahmad', email: 'ahmad@x.my', status: 'failed', code: '22', paid_ms: null });
  const b = await seed(stack, { created_ms: BASE - 12 * HOUR - 1, name: 'Nur 100%_off', orderid: 'INV-77' }); // 23:59:59.999 on the 6th, Malaysia
  const c = await seed(stack, { created_ms: BASE - 12 * HOUR, name: 'siti', fulfilled_ms: BASE, note: 'sent' }); // 00:00 on the 7th
  const d = await seed(stack, { created_ms: BASE, status: 'pending', code: '11', paid_ms: null, name: null, email: null, mobile: null });
  assert.deepEqual(ids(await admin('/admin/api/orders')), [d.id, c.id, b.id, a.id]);
  assert.deepEqual(ids(await admin('/admin/api/orders?status=paid')), [c.id, b.id]);
  assert.deepEqual(ids(await admin('/admin/api/orders?fulfilled=true')), [c.id]);
  assert.deepEqual(ids(await admin('/admin/api/orders?fulfilled=false&status=paid')), [b.id]);
  assert.deepEqual(ids(await admin('/admin/api/orders?from=2026-12-07')), [d.id, c.id]);
  assert.deepEqual(ids(await admin('/admin/api/orders?to=2026-12-06')), [b.id, a.id]);
  assert.deepEqual(ids(await admin('/admin/api/orders?from=2026-12-06T15:59:59.999Z&to=2026-12-06T16:00:00Z')), [c.id, b.id]);
  // Search: name (any case), e-mail, reference, order id; % and _ match themselves.
  assert.deepEqual(ids(await admin('/admin/api/orders?q=AHMAD')), [a.id]);
  assert.deepEqual(ids(await admin('/admin/api/orders?q=ahmad%40x')), [a.id]);
  assert.deepEqual(ids(await admin(`/admin/api/orders?q=${c.reference}`)), [c.id]);
  assert.deepEqual(ids(await admin('/admin/api/orders?q=inv-77')), [b.id]);
  assert.deepEqual(ids(await admin('/admin/api/orders?q=100%25_')), [b.id]);
  assert.deepEqual(ids(await admin('/admin/api/orders?q=%25')), [b.id]);
  assert.deepEqual(ids(await admin('/admin/api/orders?q=s_ti')), []);
  // The contract's row: amount as text, ISO times, items, contact null once erased, no events.
  const row = (await admin('/admin/api/orders?status=pending')).json.orders[0];
  assert.equal(row.amount, '45.00');
  assert.equal(row.created_at, '2026-12-07T04:00:00Z');
  assert.deepEqual([row.name, row.email, row.mobile, row.paid_at], [null, null, null, null]);
  assert.equal(row.items[0].sku, 'batik-scarf');
  assert.equal(row.events, undefined);
});

test('paging by cursor never repeats or skips a row while new orders arrive', async () => {
  await clear();
  const { stack } = ctx();
  const original = [];
  // Ties on created_ms: the id breaks them.
  for (let i = 0; i < 40; i++) original.push((await seed(stack, { created_ms: BASE - Math.floor(i / 3) * 1000 })).id);
  const seen = [];
  let cursor = null;
  let pages = 0;
  do {
    const r = await admin(`/admin/api/orders?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, r.text);
    seen.push(...ids(r));
    cursor = r.json.next_cursor;
    pages += 1;
    // New orders arrive between pages (newer than everything, and one tying the newest).
    await seed(stack, { created_ms: BASE + pages * 1000 });
    await seed(stack, { created_ms: BASE });
  } while (cursor && pages < 50);
  const expectedFromFirst = seen.slice(0, 7);
  assert.equal(new Set(seen).size, seen.length, 'no row twice');
  for (const id of original) assert.ok(seen.includes(id), `row ${id} was skipped`);
  assert.ok(expectedFromFirst.every((id) => original.includes(id)));
  // A cursor is only good for its own filters, and cannot be edited.
  const first = await admin('/admin/api/orders?limit=2');
  const other = await admin(`/admin/api/orders?limit=2&status=failed&cursor=${encodeURIComponent(first.json.next_cursor)}`);
  assert.deepEqual([other.status, other.json.error.field], [400, 'cursor']);
  const edited = first.json.next_cursor.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A'));
  assert.equal((await admin(`/admin/api/orders?limit=2&cursor=${encodeURIComponent(edited)}`)).status, 400);
});

test('each bad parameter answers 400 invalid_request naming it', async () => {
  for (const [query, field] of [
    ['status=shipped', 'status'], ['limit=0', 'limit'], ['limit=201', 'limit'], ['limit=1.5', 'limit'],
    ['fulfilled=1', 'fulfilled'], ['from=2026-02-30', 'from'], ['to=7/12/2026', 'to'],
    ['from=2026-12-08&to=2026-12-07', 'to'], ['cursor=nope', 'cursor'], [`q=${'x'.repeat(49)}`, 'q'], [`q=${'%25'.repeat(25)}`, 'q'],
    ['status=paid&status=failed', 'status'],
  ]) {
    for (const path of ['/admin/api/orders', '/admin/api/orders.csv']) {
      const r = await admin(`${path}?${query}`);
      assert.deepEqual([r.status, r.json?.error?.type, r.json?.error?.field], [400, 'invalid_request', field], `${path}?${query}`);
    }
  }
  // D1's LIKE pattern limit (50 bytes) is reached, never passed: the longest searches work.
  for (const q of ['x'.repeat(48), '%25'.repeat(24), '%C3%A9'.repeat(24)]) {
    const ok = await admin(`/admin/api/orders?q=${q}`);
    assert.equal(ok.status, 200, `${q}: ${ok.text}`);
  }
  const r = await admin('/admin/api/summary?from=soon');
  assert.deepEqual([r.status, r.json.error.field], [400, 'from']);
});

test('one order answers with its events; an unknown id is 404', async () => {
  await clear();
  const events = [{ type: 'payment.paid', id: 'evt_1', attempts: 2, result: '200', last_at: '2026-12-07T04:00:05Z' }];
  const row = await seed(ctx().stack, { events: JSON.stringify(events) });
  const r = await admin(`/admin/api/orders/${encodeURIComponent(row.id)}`);
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.events, events);
  assert.equal(r.json.reference, row.reference);
  const missing = await admin('/admin/api/orders/KP0-0.none.tag');
  assert.deepEqual([missing.status, missing.json.error.type], [404, 'not_found']);
});

test('the summary counts and totals each status, and the paid totals of today, this week and this month', async () => {
  await clear();
  const { stack } = ctx();
  const now = Date.now();
  await seed(stack, { created_ms: now, paid_ms: now, amount_sen: 1050 });
  await seed(stack, { created_ms: now, paid_ms: now, amount_sen: 2000 });
  await seed(stack, { created_ms: now, status: 'pending', paid_ms: null, amount_sen: 999 });
  await seed(stack, { created_ms: now - 400 * 86_400_000, paid_ms: now - 400 * 86_400_000, amount_sen: 77 });
  const r = await admin('/admin/api/summary');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.statuses.paid, { count: 3, total: '31.27' });
  assert.deepEqual(r.json.statuses.pending, { count: 1, total: '9.99' });
  assert.deepEqual(r.json.statuses.failed, { count: 0, total: '0.00' });
  assert.deepEqual(r.json.paid_totals, { today: '30.50', week: '30.50', month: '30.50' });
  const ranged = await admin(`/admin/api/summary?from=${new Date(now - 86_400_000).toISOString()}`);
  assert.deepEqual(ranged.json.statuses.paid, { count: 2, total: '30.50' });
});

test('the CSV has a header, RFC 4180 quoting, neutralised formulas, and streams a large export', async () => {
  await clear();
  const { stack, scan } = ctx();
  await seed(stack, { created_ms: BASE + 10, name: '=HYPERLINK("http://evil.example","click")', note: 'line1\nline2, "quoted"', description: 'Batik, songket' });
  await seed(stack, { created_ms: BASE + 9, name: 'Nur Ain 🌸 ü', email: '@evil', orderid: '-2+3' });
  let r = await admin('/admin/api/orders.csv');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const lines = r.text.split('\r\n');
  assert.equal(lines[0], 'id,reference,orderid,status,code,amount,currency,created_at,updated_at,paid_at,name,email,mobile,description,items,ref_1,ref_2,ref_3,fulfilled_at,note');
  assert.ok(r.text.includes(`,"'=HYPERLINK(""http://evil.example"",""click"")",`), r.text);
  assert.ok(r.text.includes(',"Batik, songket",'));
  assert.ok(r.text.includes(',"line1\nline2, ""quoted"""\r\n'));
  assert.ok(r.text.includes(",'-2+3,"));
  assert.ok(r.text.includes(",Nur Ain 🌸 ü,'@evil,"));
  assert.ok(r.text.endsWith('\r\n'));
  // A large export: several pages of the keyset, in order, each row once.
  await clear();
  const rows = 1234;
  // D1 binds at most 100 parameters per statement.
  for (let start = 0; start < rows; start += 50) {
    const batch = Array.from({ length: Math.min(50, rows - start) }, (_, k) => start + k);
    const values = batch.map(() => "(?, 'KPx-1', 'O', 'paid', 'x', 100, 'MYR', ?, 0, 'd', '[]', '[]', 1)").join(', ');
    await stack.ledger(`INSERT INTO orders (id, reference, orderid, status, code, amount_sen, currency, created_ms, updated_ms, description, items, events, revision) VALUES ${values}`,
      ...batch.flatMap((i) => [`row-${String(i).padStart(5, '0')}`, BASE - i]));
  }
  const response = await fetch(`${stack.worker.url}/admin/api/orders.csv`, { headers: AUTH });
  assert.equal(response.status, 200);
  const reader = response.body.getReader();
  let text = '';
  let chunks = 0;
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks += 1;
    text += decoder.decode(value, { stream: true });
  }
  scan.record(response.headers, text);
  const body = text.split('\r\n').filter(Boolean).slice(1).map((line) => line.split(',')[0]);
  assert.equal(body.length, rows);
  assert.deepEqual(body, Array.from({ length: rows }, (_, i) => `row-${String(i).padStart(5, '0')}`));
  // That the answer starts before the last page is read is the machine's order of effects
  // (native test `the_csv_streams_its_pages_and_an_error_mid_way_cuts_it`): how the client's reads
  // coalesce the chunks is the network's business.
  assert.ok(chunks >= 1);
});

test('fulfil marks a paid order with its note, unfulfil undoes it; 409 for an order not paid', async () => {
  await clear();
  const { stack } = ctx();
  const paid = await seed(stack);
  const pending = await seed(stack, { status: 'pending', paid_ms: null });
  const path = (row, action) => `/admin/api/orders/${encodeURIComponent(row.id)}/${action}`;
  let r = await post(path(paid, 'fulfil'), { note: 'Poslaju EX123456789MY' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.note, 'Poslaju EX123456789MY');
  assert.match(r.json.fulfilled_at, /^\d{4}-\d\d-\d\dT/);
  const stored = (await stack.ledger('SELECT fulfilled_ms, note, revision, status FROM orders WHERE id = ?', paid.id)).results[0];
  assert.equal(stored.note, 'Poslaju EX123456789MY');
  assert.deepEqual([stored.revision, stored.status], [1, 'paid'], 'the object\'s columns untouched');
  assert.deepEqual(ids(await admin('/admin/api/orders?fulfilled=true')), [paid.id]);
  r = await post(path(paid, 'unfulfil'), {});
  assert.deepEqual([r.status, r.json.fulfilled_at, r.json.note], [200, null, null]);
  r = await post(path(pending, 'fulfil'), {});
  assert.deepEqual([r.status, r.json.error.type], [409, 'conflict']);
  r = await post('/admin/api/orders/KP0-0.none.tag/fulfil', {});
  assert.equal(r.status, 404);
  // A JSON body is required; a note is at most 500 characters.
  r = await admin(path(paid, 'fulfil'), { method: 'POST' });
  assert.deepEqual([r.status, r.json.error.field], [400, 'body']);
  r = await admin(path(paid, 'fulfil'), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
  assert.equal(r.status, 415);
  r = await post(path(paid, 'fulfil'), { note: 'x'.repeat(501) });
  assert.deepEqual([r.status, r.json.error.field], [400, 'note']);
  r = await post(path(paid, 'fulfil'), 'not json');
  assert.deepEqual([r.status, r.json.error.field], [400, 'body']);
});

test('recheck asks the gateway for the payment and answers the order as it then stands', async () => {
  await clear();
  const { stack } = ctx();
  const made = (await api(ctx()).create()).json;
  await seed(stack, { id: made.id, reference: made.reference, status: 'pending', code: '11', paid_ms: null }, { ignore: true });
  await settle(stack, made.reference, 'paid');
  const r = await post(`/admin/api/orders/${encodeURIComponent(made.id)}/recheck`, {});
  assert.equal(r.status, 200, r.text);
  assert.deepEqual([r.json.id, r.json.status, r.json.code], [made.id, 'paid', '00']);
  const forged = await post(`/admin/api/orders/${encodeURIComponent(made.id.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))}/recheck`, {});
  assert.equal(forged.status, 404);
  const redeliver = await post(`/admin/api/orders/${encodeURIComponent(made.id.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))}/redeliver`, {});
  assert.equal(redeliver.status, 404);
});

test('a Worker without the LEDGER binding answers the admin API 503 not_configured', async () => {
  const { stack } = ctx();
  const worker = await startWorker({ sandboxUrl: stack.sandbox.url, vars: { KP_ADMIN_TOKEN: TOKEN }, secrets: stack.secrets, ledger: false });
  try {
    const r = await fetch(`${worker.url}/admin/api/orders`, { headers: AUTH });
    const body = await r.json();
    assert.deepEqual([r.status, body.error.type], [503, 'not_configured']);
    const health = await fetch(`${worker.url}/api/health`);
    assert.equal(health.status, 200, 'the payment API is unchanged');
  } finally {
    await worker.stop();
  }
});

test('real payments reach the inbox: paid and pending, items and buyer text as sent; redeliver sends the same event again', async () => {
  await clear();
  const { stack } = ctx();
  const client = api(ctx());
  const paid = (await client.create({ ...ORDER, name: '<img src=x onerror=alert(1)>' })).json;
  // (A gateway 22 within a minute of creation is still pending: the early-22 rule.)
  const pending = (await client.create()).json;
  await settle(stack, paid.reference, 'paid');
  await client.get(`/api/payments/${encodeURIComponent(paid.id)}`);
  const order = await eventually(async () => {
    const r = await admin(`/admin/api/orders/${encodeURIComponent(paid.id)}`);
    return r.status === 200 && r.json.status === 'paid' && r.json.events.length > 0 && r.json;
  }, 20_000, 'the paid row with its webhook event');
  assert.equal(order.name, '<img src=x onerror=alert(1)>');
  assert.equal(order.amount, '90.00');
  assert.deepEqual(order.items.map((i) => [i.sku, i.quantity, i.amount]), [['batik-scarf', 2, '90.00']]);
  assert.match(order.paid_at, /^\d{4}-\d\d-\d\dT/);
  await eventually(async () => ids(await admin('/admin/api/orders?status=pending')).includes(pending.id), 20_000, 'the pending row');
  // Only this test's paid payment among its two (an earlier test's payment may still write its
  // row after this test's clear: its object delivers its webhook and writes the events).
  const paidIds = ids(await admin('/admin/api/orders?status=paid'));
  assert.ok(paidIds.includes(paid.id) && !paidIds.includes(pending.id), JSON.stringify(paidIds));
  const paidEvents = () => receiver.events.filter((e) => e.status === 200 && JSON.parse(e.body).data?.id === paid.id);
  await eventually(() => paidEvents().length === 1, 20_000, 'the first delivery');
  const r = await post(`/admin/api/orders/${encodeURIComponent(paid.id)}/redeliver`, {});
  assert.deepEqual([r.status, r.json], [202, { queued: true }]);
  await eventually(() => paidEvents().length === 2, 20_000, 'the redelivery');
  const [first, again] = paidEvents().map((e) => JSON.parse(e.body));
  assert.equal(again.id, first.id, 'the same event id');
});
