// Contract v2, the payment lifecycle: every payment has its own Durable Object, which drives
// it to a final status by itself (reconciliation on KP_RECONCILE_SCHEDULE), answers final
// statuses from its record, shares one requery among many askers, never sends a reference
// upstream twice, and keeps the gateway's answer even when the caller has gone.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import {
  api, eventually, fileStack, sandboxConfig, sentReferences, settle, sleep, stats, upstreamPayments, webhookReceiver, ORDER,
} from './support.mjs';

const receiver = await webhookReceiver();
const ctx = fileStack({
  vars: { KP_WEBHOOK_URL: receiver.url, KP_RECONCILE_SCHEDULE: '2,5', KP_UPSTREAM_TIMEOUT_MS: '1500' },
});
after(() => receiver.close());

const SLOT_REFERENCE = /^KP([0-9A-V]{20})-[0-9a-z]+$/;
const eventsFor = (reference, type) =>
  receiver.events.filter((e) => e.status === 200 && e.body.includes(reference) && JSON.parse(e.body).type === type);
const statusOf = (client, made) => client.get(`/api/payments/${encodeURIComponent(made.id)}`);

test('a paid payment with no callback and no status poll yields exactly one signed payment.paid', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  await sandboxConfig(stack, { callbacks: false, early22Seconds: 0 });
  const made = (await client.create(ORDER)).json;
  await settle(stack, made.reference, 'paid');
  const delivered = await eventually(() => eventsFor(made.reference, 'payment.paid')[0], 15_000, 'payment.paid from reconciliation');
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(delivered.signature);
  assert.equal(createHmac('sha256', stack.secrets.KP_SIGNING_SECRET).update(`${t}.${delivered.body}`).digest('hex'), v1);
  const event = JSON.parse(delivered.body);
  assert.deepEqual([event.data.status, event.data.reference, event.id], ['paid', made.reference, `evt_${made.reference}_paid`]);
  await sleep(5000);
  assert.equal(eventsFor(made.reference, 'payment.paid').length, 1, 'one event for one change');
  // Final is final: the record answers, the gateway is not asked again.
  const before = (await stats(stack)).requery;
  const status = await statusOf(client, made);
  assert.deepEqual([status.json.status, status.json.code], ['paid', '00']);
  assert.equal((await stats(stack)).requery, before);
});

test('a pending payment is requeried at each scheduled time, then no more', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  await sandboxConfig(stack, { early22Seconds: 0 });
  await client.create(ORDER);
  await sleep(7500);
  const afterSchedule = (await stats(stack)).requery;
  assert.equal(afterSchedule, 2, 'one requery at 2 s and one at 5 s');
  await sleep(3000);
  assert.equal((await stats(stack)).requery, afterSchedule, 'nothing after the last scheduled time');
});

test('50 concurrent status requests: at most 2 requeries while pending, none once final', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  await sandboxConfig(stack, { early22Seconds: 0 });
  const made = (await client.create(ORDER)).json;
  const before = (await stats(stack)).requery;
  const answers = await Promise.all(Array.from({ length: 50 }, () => statusOf(client, made)));
  assert.deepEqual([...new Set(answers.map((a) => a.json.status))], ['pending']);
  assert.ok((await stats(stack)).requery - before <= 2, `requeries: ${(await stats(stack)).requery - before}`);

  await settle(stack, made.reference, 'paid');
  await sleep(2100);
  assert.equal((await statusOf(client, made)).json.status, 'paid');
  const paid = (await stats(stack)).requery;
  const finals = await Promise.all(Array.from({ length: 50 }, () => statusOf(client, made)));
  assert.deepEqual([...new Set(finals.map((a) => a.json.status))], ['paid']);
  assert.equal((await stats(stack)).requery, paid, 'a final status costs no upstream call');
});

test('a create that times out is abandoned: its retry goes out under a new reference, each sent once', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  await sandboxConfig(stack, { createDelayMs: 2500 });
  const timedOut = await client.create(ORDER, { 'idempotency-key': 'slow-1' });
  assert.equal(timedOut.status, 504, timedOut.text);
  await sandboxConfig(stack, { createDelayMs: 0 });
  const retried = await client.create(ORDER, { 'idempotency-key': 'slow-1' });
  assert.equal(retried.status, 201, retried.text);
  const sent = await sentReferences(stack);
  assert.equal(sent.length, 2);
  assert.notEqual(sent[0], sent[1]);
  assert.equal(sent[1], retried.json.reference);
  // Both landed in the key's one object: the same slot, the next attempt.
  assert.equal(SLOT_REFERENCE.exec(sent[0])[1], SLOT_REFERENCE.exec(sent[1])[1]);
  const again = await client.create(ORDER, { 'idempotency-key': 'slow-1' });
  assert.deepEqual(again.json, retried.json);
});

test('10 concurrent repeats during a 1.2 s create: one upstream create, identical 201s', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  await sandboxConfig(stack, { createDelayMs: 1200 });
  const answers = await Promise.all(Array.from({ length: 10 }, () => client.create(ORDER, { 'idempotency-key': 'burst-slow' })));
  assert.deepEqual(answers.map((a) => a.status), Array(10).fill(201));
  for (const a of answers) assert.deepEqual(a.json, answers[0].json);
  assert.equal((await stats(stack)).create, 1);
});

test('a caller that disconnects mid-create: the answer is kept, its retry replays it, it is reconciled', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  await sandboxConfig(stack, { createDelayMs: 1200, callbacks: false, early22Seconds: 0 });
  const gone = new AbortController();
  const abandoned = client.create(ORDER, { 'idempotency-key': 'walked-away' }, gone.signal).catch((e) => e);
  await sleep(300);
  gone.abort();
  assert.equal((await abandoned).name, 'AbortError');
  await sleep(1500);
  await sandboxConfig(stack, { createDelayMs: 0 });
  const retried = await client.create(ORDER, { 'idempotency-key': 'walked-away' });
  assert.equal(retried.status, 201, retried.text);
  assert.equal((await stats(stack)).create, 1, 'the retry replays the stored 201');
  assert.equal((await upstreamPayments(stack))[0].reference, retried.json.reference);
  await settle(stack, retried.json.reference, 'paid');
  await eventually(() => eventsFor(retried.json.reference, 'payment.paid')[0], 15_000, 'the kept payment reconciled to paid');
});

test('a paid requery naming another amount is unknown, logged, and sends no payment.paid', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  await sandboxConfig(stack, { requeryAmount: '1.00', early22Seconds: 0, callbacks: false });
  const made = (await client.create(ORDER)).json;
  await settle(stack, made.reference, 'paid');
  const status = await statusOf(client, made);
  assert.deepEqual([status.json.status, status.json.code], ['unknown', '00']);
  await eventually(() => stack.worker.logs.some((l) => l.includes('amount_mismatch') && l.includes(made.reference)), 5000, 'the amount_mismatch log line');
  await sleep(5000);
  assert.equal(eventsFor(made.reference, 'payment.paid').length, 0);
});

test('a paid requery whose amount is there but empty is unknown, never paid (issue 27 item 4)', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  await sandboxConfig(stack, { requeryAmount: '', early22Seconds: 0, callbacks: false });
  const made = (await client.create(ORDER)).json;
  await settle(stack, made.reference, 'paid');
  const status = await statusOf(client, made);
  assert.deepEqual([status.json.status, status.json.code], ['unknown', '00']);
  await eventually(() => stack.worker.logs.some((l) => l.includes('amount_mismatch') && l.includes(made.reference)), 5000, 'the amount_mismatch log line');
  assert.equal(eventsFor(made.reference, 'payment.paid').length, 0);
});

test('two payments never share an object; one key always names the same one', async () => {
  const client = api(ctx());
  const slots = [];
  for (const headers of [{}, {}, { 'idempotency-key': 'same' }, { 'idempotency-key': 'other' }]) {
    const made = (await client.create(ORDER, headers)).json;
    slots.push(SLOT_REFERENCE.exec(made.reference)[1]);
  }
  assert.equal(new Set(slots).size, 4);
  const again = (await client.create(ORDER, { 'idempotency-key': 'same' })).json;
  assert.equal(SLOT_REFERENCE.exec(again.reference)[1], slots[2]);
});

test('a merchant endpoint that hangs delays only its own payment event', { timeout: 60_000 }, async () => {
  const { stack } = ctx();
  await sandboxConfig(stack, { early22Seconds: 0 });
  const seen = [];
  let hungReference = null;
  const slow = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      if (hungReference && body.includes(hungReference)) return; // never answered: the Worker times out
      seen.push(body);
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => slow.listen(0, '127.0.0.1', r));
  const { startWorker } = await import('../support/harness.mjs');
  const worker = await startWorker({
    sandboxUrl: stack.sandbox.url, secrets: stack.secrets,
    vars: { KP_WEBHOOK_URL: `http://127.0.0.1:${slow.address().port}/hooks` },
  });
  try {
    const create = () => fetch(`${worker.url}/api/payments`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ORDER),
    }).then((r) => r.json());
    const hung = await create();
    const fine = await create();
    hungReference = hung.reference;
    await settle(stack, hung.reference, 'paid');
    await settle(stack, fine.reference, 'paid');
    const ask = (made) => fetch(`${worker.url}/api/payments/${encodeURIComponent(made.id)}`).then((r) => r.json());
    assert.equal((await ask(hung)).status, 'paid');
    const started = Date.now();
    assert.equal((await ask(fine)).status, 'paid');
    await eventually(() => seen.find((b) => b.includes(fine.reference)), 5000, 'the other payment event, while the first hangs');
    assert.ok(Date.now() - started < 5000);
    assert.ok(!seen.some((b) => b.includes(hung.reference)));
  } finally {
    slow.closeAllConnections();
    await new Promise((r) => slow.close(r));
    await worker.stop();
  }
});

test('retention: a record past KP_RETENTION_DAYS and its reconcile schedule is deleted', { timeout: 60_000 }, async () => {
  const { stack } = ctx();
  const { startWorker } = await import('../support/harness.mjs');
  // 0.00005 days is 4.3 seconds; the one scheduled check (1 s) is behind it by then. Retention
  // never deletes a payment whose schedule still has a time ahead (the default's is 24 h).
  const worker = await startWorker({
    sandboxUrl: stack.sandbox.url, secrets: stack.secrets,
    vars: { KP_RETENTION_DAYS: '0.00005', KP_RECONCILE_SCHEDULE: '1' },
  });
  try {
    const created = await fetch(`${worker.url}/api/payments`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ORDER),
    }).then((r) => r.json());
    const callback = (query = `reference=${created.reference}`) => fetch(`${worker.url}/api/callback?${query}`, { method: 'POST' });
    assert.equal((await callback()).status, 200, 'the record exists');
    const deleted = (l) => l.includes('"msg":"retention"') && l.includes(created.reference);
    await eventually(() => worker.logs.some(deleted), 15_000, 'the retention log line');
    const gone = await callback();
    assert.equal(gone.status, 404, 'the record was deleted');
    await gone.text();
    // Its handle still verifies (handles never expire), and buys nothing once the record is
    // gone: 404 as for any payment the Worker cannot find, and no requery.
    const before = (await stats(stack)).requery;
    const handled = await callback(`kp_payment=${encodeURIComponent(created.id)}`);
    assert.equal(handled.status, 404, 'a handle whose record is gone finds nothing');
    await handled.text();
    assert.equal((await stats(stack)).requery, before, 'a deleted record is never requeried');
  } finally {
    await worker.stop();
  }
});

test('a create refused with 401 is re-sent once after a fresh login, under the next reference', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  const { fault } = await import('./support.mjs');
  await fault(stack, 'create', 'unauthorized');
  const made = await client.create(ORDER, { 'idempotency-key': 'expired-token' });
  assert.equal(made.status, 201, made.text);
  const sent = await sentReferences(stack);
  assert.equal(sent.length, 2);
  assert.notEqual(sent[0], sent[1], 'the refused reference is never sent again');
  assert.equal(sent[1], made.json.reference);
  // stats were reset before this test: whether or not a token was cached, a login followed the 401.
  assert.ok((await stats(stack)).login >= 1, 'logged in afresh after the 401');
});

test('a callback whose kp_payment does not verify falls back to the payload reference', async () => {
  const client = api(ctx());
  const made = (await client.create(ORDER)).json;
  const r = await client.raw('/api/callback?kp_payment=forged.handle.value', {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `ref_no=${made.reference}&status=00`,
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, 'RECEIVEOK');
});
