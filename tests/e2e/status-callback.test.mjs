// Status and callbacks: the Worker only ever reports what a requery confirmed; callbacks are
// hints, forged ones change nothing; confirmed changes reach the merchant's webhook once, signed,
// retried until accepted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { api, control, eventually, fileStack, settle, sleep, stats, webhookReceiver, ORDER } from './support.mjs';

const receiver = await webhookReceiver();
const ctx = fileStack({ vars: { KP_WEBHOOK_URL: receiver.url } });
after(() => receiver.close());

const verify = (event, secret) => {
  const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(event.signature) ?? [];
  assert.ok(t, `malformed signature header ${event.signature}`);
  const expected = createHmac('sha256', secret).update(`${t}.${event.body}`).digest();
  assert.ok(timingSafeEqual(expected, Buffer.from(v1, 'hex')), 'signature does not verify');
  assert.ok(Math.abs(Date.now() / 1000 - Number(t)) < 600);
  return JSON.parse(event.body);
};
const eventsOf = (type) => receiver.events.filter((e) => e.status === 200 && JSON.parse(e.body).type === type);

test('a fresh payment is pending; an early 22 is retried and still reported pending', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  const made = (await client.create()).json;
  await control(stack, 'POST', 'config', { early22Seconds: 30 });
  try {
    const r = await client.get(`/api/payments/${encodeURIComponent(made.id)}`);
    assert.equal(r.status, 200);
    assert.deepEqual([r.json.status, r.json.code, r.json.reference, r.json.id], ['pending', '22', made.reference, made.id]);
    assert.match(r.json.checked_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal((await stats(stack)).requery, 4, 'one requery and three retries with backoff');
  } finally {
    await control(stack, 'POST', 'config', { early22Seconds: 0 });
  }
  await sleep(2100); // an answer younger than 2 s is shared; this one must be asked anew
  const later = await client.get(`/api/payments/${encodeURIComponent(made.id)}`);
  assert.deepEqual([later.json.status, later.json.code], ['pending', '11']);
});

test('a handle that does not verify is 404 with no upstream call', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  const { id } = (await client.create()).json;
  const before = (await stats(stack)).requery;
  for (const bad of [`${id.slice(0, -3)}AAA`, `X${id}`, id.replace(/\.[^.]+\./, '.zzzz.'), 'nonsense', 'a.b.c']) {
    const r = await client.get(`/api/payments/${encodeURIComponent(bad)}`);
    assert.equal(r.status, 404, bad);
    assert.equal(r.json.error.type, 'not_found');
  }
  assert.equal((await stats(stack)).requery, before);
});

test('paid: callbacks in every shape answer RECEIVEOK; one signed webhook, however many callbacks', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  const made = (await client.create()).json;
  receiver.answers.push(500, 503); // the merchant's first two deliveries fail: retried until 2xx
  await settle(stack, made.reference, 'paid');
  const id = encodeURIComponent(made.id);
  const shapes = [
    () => client.raw(`/api/callback?kp_payment=${id}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'status=00' }),
    () => client.raw('/api/callback', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reference: made.reference, status: '00' }) }),
    () => client.raw('/api/callback', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `ref_no=${encodeURIComponent(made.reference)}` }),
    () => client.raw(`/api/callback?orderid=${encodeURIComponent(made.orderid)}`),
    () => client.raw(`/api/callback?RefNo=${encodeURIComponent(made.reference)}`, { method: 'POST' }),
  ];
  for (const send of shapes) {
    const r = await send();
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, 'RECEIVEOK');
    assert.match(r.headers.get('content-type'), /^text\/plain/);
  }
  const status = await client.get(`/api/payments/${id}`);
  assert.deepEqual([status.json.status, status.json.code], ['paid', '00']);

  const delivered = await eventually(() => eventsOf('payment.paid')[0], 40_000, 'the payment.paid webhook');
  const event = verify(delivered, stack.secrets.KP_SIGNING_SECRET);
  assert.deepEqual(event.data, {
    id: made.id, reference: made.reference, orderid: made.orderid, amount: '90.00', status: 'paid', code: '00',
    created_at: made.created_at, description: '2 × Kelantan batik scarf', ref_1: '', ref_2: '', ref_3: '',
    items: [{ sku: 'batik-scarf', quantity: 2, amount: '90.00' }],
  });
  assert.match(event.id, /^evt_/);
  assert.ok(receiver.events.filter((e) => e.status !== 200).length >= 2, 'the failed deliveries were retried');
  await sleep(1500);
  assert.equal(eventsOf('payment.paid').length, 1, 'one event for one change');
});

test('a callback naming no known payment is 404 and requeries nothing', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  const before = (await stats(stack)).requery;
  for (const [path, body] of [
    ['/api/callback', 'reference=NOPE-1&status=00'],
    ['/api/callback?kp_payment=forged.handle.value', 'status=00'],
    ['/api/callback', ''],
  ]) {
    const r = await client.raw(path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    assert.equal(r.status, 404, `${path} ${body}`);
  }
  assert.equal((await stats(stack)).requery, before);
});

test('a forged "paid" callback for an unpaid payment changes nothing', async () => {
  const client = api(ctx());
  const made = (await client.create()).json;
  const r = await client.post(`/api/callback?kp_payment=${encodeURIComponent(made.id)}`, { status: '00', reference: made.reference, paid: true });
  assert.equal(r.text, 'RECEIVEOK');
  const status = await client.get(`/api/payments/${encodeURIComponent(made.id)}`);
  assert.equal(status.json.status, 'pending');
  await sleep(300);
  assert.ok(!receiver.events.some((e) => e.body.includes(made.reference)), 'no webhook for an unpaid payment');
});

test('failed: a 22 inside the first minute is pending; after it, failed and one payment.failed event', { timeout: 120_000 }, async () => {
  const { stack } = ctx();
  const client = api(ctx());
  const made = (await client.create(ORDER)).json;
  await settle(stack, made.reference, 'failed');
  const id = encodeURIComponent(made.id);
  const early = await client.get(`/api/payments/${id}`);
  assert.deepEqual([early.json.status, early.json.code], ['pending', '22']);
  assert.ok(!receiver.events.some((e) => e.body.includes(made.reference)), 'not yet a failure');
  const createdMs = Date.parse(made.created_at);
  await sleep(Math.max(0, createdMs + 62_000 - Date.now()));
  const late = await client.get(`/api/payments/${id}`);
  assert.deepEqual([late.json.status, late.json.code], ['failed', '22']);
  await client.raw(`/api/callback?kp_payment=${id}`, { method: 'POST' });
  const delivered = await eventually(() => eventsOf('payment.failed').find((e) => e.body.includes(made.reference)), 20_000, 'payment.failed');
  assert.equal(verify(delivered, stack.secrets.KP_SIGNING_SECRET).data.status, 'failed');
  await sleep(1000);
  assert.equal(eventsOf('payment.failed').length, 1);
});
