// A hundred forged "paid" callbacks for unpaid payments: not one payment is reported paid, no
// payment.paid webhook leaves, and a real payment among them is still recognised.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { api, eventually, fileStack, settle, sleep, stats, webhookReceiver, ORDER } from '../e2e/support.mjs';

const receiver = await webhookReceiver();
const ctx = fileStack({ vars: { KP_WEBHOOK_URL: receiver.url, KP_RATE_LIMIT_PER_MINUTE: '100000' }, sandbox: { early22Seconds: 0 } });
after(() => receiver.close());

test('forged paid callbacks change nothing; a real payment is recognised', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  const payments = [];
  for (let i = 0; i < 10; i += 1) payments.push((await client.create()).json);

  const forgeries = [];
  for (const [i, p] of payments.entries()) {
    const id = encodeURIComponent(p.id);
    const tampered = encodeURIComponent(`${p.id.slice(0, -4)}${randomBytes(3).toString('base64url').slice(0, 4)}`);
    forgeries.push(
      ['POST', `/api/callback?kp_payment=${id}`, 'application/json', JSON.stringify({ status: '00', reference: p.reference })],
      ['POST', '/api/callback', 'application/x-www-form-urlencoded', `status=00&reference=${p.reference}&amount=${p.amount}`],
      ['POST', '/api/callback', 'application/json', JSON.stringify({ status: 'paid', ref_no: p.reference, paid: true })],
      ['GET', `/api/callback?status=00&userid=${p.reference}`],
      ['POST', `/api/callback?kp_payment=${tampered}`, 'application/x-www-form-urlencoded', 'status=00'],
      ['POST', `/api/callback?kp_payment=${encodeURIComponent(randomBytes(24).toString('base64url'))}`, 'text/plain', 'status=00'],
      ['POST', '/api/callback', 'application/json', JSON.stringify({ status: '00', orderid: p.orderid })],
      ['POST', '/api/callback', 'application/json', JSON.stringify({ status: '00', reference: `${p.reference}X${i}` })],
      ['GET', `/api/callback?RefNo=${p.reference}&status=00`],
      ['POST', '/api/callback', 'application/json', '{"status":"00","reference":'],
    );
  }
  const answers = await Promise.all(forgeries.map(([method, path, type, body]) =>
    client.raw(path, { method, headers: type ? { 'content-type': type } : {}, body })));
  assert.equal(answers.length, 100);
  for (const a of answers) assert.ok([200, 400, 404].includes(a.status), `${a.status} ${a.text}`);
  const statuses = await Promise.all(payments.map((p) => client.get(`/api/payments/${encodeURIComponent(p.id)}`)));
  assert.deepEqual(statuses.map((s) => s.json.status), Array(10).fill('pending'));
  await sleep(500);
  assert.deepEqual(receiver.events, [], 'no webhook for an unpaid payment');
  const requeries = (await stats(stack)).requery;
  assert.ok(requeries >= 10, 'callbacks naming a real payment were checked with KelantanPay');

  // One real payment among them: exactly that one is paid, one event.
  await settle(stack, payments[3].reference, 'paid');
  await client.raw(`/api/callback?kp_payment=${encodeURIComponent(payments[3].id)}`, { method: 'POST' });
  // A callback is a hint: the forgeries' requeries of a moment ago are shared, and the requery it
  // is owed begins within 5 s of the last one (README: callbacks), so "paid" comes within seconds.
  const statusOf = async (p) => (await client.get(`/api/payments/${encodeURIComponent(p.id)}`)).json.status;
  await eventually(async () => (await statusOf(payments[3])) === 'paid', 15_000, 'the real payment to read paid');
  const after = await Promise.all(payments.map(statusOf));
  assert.deepEqual(after, payments.map((_, i) => (i === 3 ? 'paid' : 'pending')));
  const event = await eventually(() => receiver.events[0], 20_000, 'the payment.paid webhook');
  assert.equal(JSON.parse(event.body).data.reference, payments[3].reference);
  await sleep(500);
  assert.equal(receiver.events.length, 1);
});
