// The login token: one login for many cold requests, renewal before expiry, one re-login and one
// retry when KelantanPay rejects it, and a refused login reported as such.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from '../support/harness.mjs';
import { api, control, fault, fileStack, sleep, stats, upstreamPayments, ORDER } from './support.mjs';

const ctx = fileStack({ vars: { KP_RATE_LIMIT_PER_MINUTE: '1000' } });

async function coldWorker(vars = {}) {
  const { stack } = ctx();
  return startWorker({ sandboxUrl: stack.sandbox.url, secrets: stack.secrets, vars: { KP_RATE_LIMIT_PER_MINUTE: '1000', ...vars } });
}
const createOn = (worker, headers = {}) => fetch(`${worker.url}/api/payments`, {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(ORDER),
}).then(async (r) => ({ status: r.status, json: await r.json() }));

test('50 concurrent creates on a cold Worker share exactly one login', async () => {
  const { stack } = ctx();
  const worker = await coldWorker();
  try {
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => createOn(worker, { 'cf-connecting-ip': `10.0.0.${i}` })));
    assert.deepEqual(answers.map((a) => a.status), Array(50).fill(201));
    const counts = await stats(stack);
    assert.equal(counts.login, 1);
    assert.equal(counts.create, 50);
  } finally {
    await worker.stop();
  }
});

test('the token is renewed before it expires', async () => {
  const { stack } = ctx();
  // 62 s tokens: renewal is due 60 s before expiry, so two seconds later a new login happens.
  await control(stack, 'POST', 'config', { tokenTtlSeconds: 62 });
  const worker = await coldWorker();
  try {
    assert.equal((await createOn(worker)).status, 201);
    assert.equal((await createOn(worker)).status, 201);
    assert.equal((await stats(stack)).login, 1);
    await sleep(2500);
    assert.equal((await createOn(worker)).status, 201);
    assert.equal((await stats(stack)).login, 2);
  } finally {
    await control(stack, 'POST', 'config', { tokenTtlSeconds: 3600 });
    await worker.stop();
  }
});

test('a 401 on create: one re-login and one retry, one payment', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  assert.equal((await client.create()).status, 201);
  await control(stack, 'POST', 'reset', {});
  await fault(stack, 'create', 'unauthorized');
  const r = await client.create();
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(await stats(stack), { login: 1, create: 2, requery: 0, sendMessage: 0 });
  assert.equal((await upstreamPayments(stack)).length, 1);
});

test('a 401 that survives the re-login is 502, and nothing loops', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  assert.equal((await client.create()).status, 201);
  await control(stack, 'POST', 'reset', {});
  await fault(stack, 'create', 'unauthorized', 2);
  const r = await client.create();
  assert.equal(r.status, 502);
  assert.equal(r.json.error.type, 'upstream_error');
  assert.deepEqual(await stats(stack), { login: 1, create: 2, requery: 0, sendMessage: 0 });
  assert.equal((await client.create()).status, 201, 'the next request recovers');
});

test('wrong credentials: 503 upstream_auth_failed, and the password appears nowhere', async () => {
  const { stack } = ctx();
  const worker = await startWorker({ sandboxUrl: stack.sandbox.url, secrets: { ...stack.secrets, KP_PASSWORD: 'pw-Definitely-Wrong-1' } });
  try {
    const r = await createOn(worker);
    assert.equal(r.status, 503);
    assert.equal(r.json.error.type, 'upstream_auth_failed');
    await sleep(100);
    for (const text of [JSON.stringify(r.json), ...worker.logs]) assert.ok(!text.includes('pw-Definitely-Wrong-1'));
  } finally {
    await worker.stop();
  }
});
