// Idempotency-Key: a repeat (also a concurrent one) creates nothing new; a different body is a
// conflict; a retry after a failed create goes out under a new reference (contract v2: a
// reference is sent to payment-generator at most once, ever) and creates exactly one payment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, fault, fileStack, sentReferences, stats, upstreamPayments, ORDER } from './support.mjs';

const ctx = fileStack();

test('the same key and body replays the 201 and creates nothing upstream', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  const first = await client.create(ORDER, { 'idempotency-key': 'order-1001' });
  assert.equal(first.status, 201);
  const again = await client.create(ORDER, { 'idempotency-key': 'order-1001' });
  assert.equal(again.status, 201);
  assert.deepEqual(again.json, first.json);
  assert.equal((await stats(stack)).create, 1);
  const other = await client.create(ORDER, { 'idempotency-key': 'order-1002' });
  assert.notEqual(other.json.reference, first.json.reference);
  const none = await client.create(ORDER);
  assert.notEqual(none.json.reference, first.json.reference);
  assert.equal((await stats(stack)).create, 3);
});

test('the same key with a different body is 409 and creates nothing', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  await client.create(ORDER, { 'idempotency-key': 'k-conflict' });
  const r = await client.create({ ...ORDER, name: 'Someone Else' }, { 'idempotency-key': 'k-conflict' });
  assert.equal(r.status, 409);
  assert.equal(r.json.error.type, 'idempotency_conflict');
  assert.equal((await stats(stack)).create, 1);
});

test('an empty, over-long or non-printable key is 400 naming Idempotency-Key', async () => {
  const client = api(ctx());
  for (const key of ['', 'k'.repeat(256), 'tab\there']) {
    const r = await client.create(ORDER, { 'idempotency-key': key });
    assert.equal(r.status, 400, JSON.stringify(key));
    assert.equal(r.json.error.field, 'Idempotency-Key');
  }
  assert.equal((await client.create(ORDER, { 'idempotency-key': 'k'.repeat(255) })).status, 201);
});

test('20 concurrent identical creates: one upstream payment, identical answers', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  const answers = await Promise.all(Array.from({ length: 20 }, () => client.create(ORDER, { 'idempotency-key': 'burst-1' })));
  assert.deepEqual(answers.map((a) => a.status), Array(20).fill(201));
  for (const a of answers) assert.deepEqual(a.json, answers[0].json);
  assert.equal((await upstreamPayments(stack)).length, 1);
  assert.equal((await stats(stack)).create, 1);
});

test('a retry with the same key after a failed create goes out under a new reference: one payment', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  await fault(stack, 'create', 'http500');
  const failed = await client.create(ORDER, { 'idempotency-key': 'retry-me' });
  assert.equal(failed.status, 502);
  const retried = await client.create(ORDER, { 'idempotency-key': 'retry-me' });
  assert.equal(retried.status, 201, retried.text);
  const payments = await upstreamPayments(stack);
  assert.equal(payments.length, 1);
  assert.equal(payments[0].reference, retried.json.reference);
  const sent = await sentReferences(stack);
  assert.equal(sent.length, 2);
  assert.equal(new Set(sent).size, 2, `each reference sent once: ${sent}`);
  assert.equal(sent[1], retried.json.reference);
});
