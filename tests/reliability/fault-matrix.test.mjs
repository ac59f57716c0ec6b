// Every upstream call x every fault the sandbox can inject: the Worker answers per the contract's
// error table, creates no payment twice, loses no state, and the next request recovers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from '../support/harness.mjs';
import { LeakScan } from '../support/leakscan.mjs';
import { api, control, fault, fileStack, stats, upstreamPayments, ORDER } from '../e2e/support.mjs';

const TIMEOUT_MS = 1500;
const VARS = { KP_UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), KP_RATE_LIMIT_PER_MINUTE: '100000' };
const ctx = fileStack({ vars: VARS });

// [call, fault, times, expected status, expected error type]. Login and requery are retried
// (3 attempts) on 5xx and connection errors, never on a timeout; creation is never retried
// except once after a 401 with a fresh login. A refused login (`login x unauthorized`) is
// remembered for 30 s, so it has its own Worker and test below.
const MATRIX = [
  ['login', 'http500', 3, 502, 'upstream_error'],
  ['login', 'http500', 1, 201, null],
  ['login', 'html502', 3, 502, 'upstream_error'],
  ['login', 'malformed', 1, 502, 'upstream_error'],
  ['login', 'hang', 1, 504, 'upstream_timeout'],
  ['login', 'status_false', 1, 502, 'upstream_error'],
  ['login', 'oversized', 1, 502, 'upstream_error'],
  ['create', 'http500', 1, 502, 'upstream_error'],
  ['create', 'html502', 1, 502, 'upstream_error'],
  ['create', 'malformed', 1, 502, 'upstream_error'],
  ['create', 'hang', 1, 504, 'upstream_timeout'],
  ['create', 'unauthorized', 1, 201, null],
  ['create', 'unauthorized', 2, 502, 'upstream_error'],
  ['create', 'status_false', 1, 502, 'upstream_error'],
  ['create', 'oversized', 1, 502, 'upstream_error'],
  ['requery', 'http500', 3, 502, 'upstream_error'],
  ['requery', 'http500', 1, 200, null],
  ['requery', 'html502', 3, 502, 'upstream_error'],
  ['requery', 'html502', 2, 200, null],
  ['requery', 'malformed', 1, 502, 'upstream_error'],
  ['requery', 'hang', 1, 504, 'upstream_timeout'],
  ['requery', 'unauthorized', 1, 502, 'upstream_error'],
  ['requery', 'status_false', 1, 502, 'upstream_error'],
  ['requery', 'oversized', 1, 502, 'upstream_error'],
];

for (const [call, kind, times, status, type] of MATRIX) {
  test(`${call} x ${kind} (x${times}) -> ${status}${type ? ` ${type}` : ''}`, async () => {
    const { stack } = ctx();
    const client = api(ctx());
    // Short-lived tokens make every request log in, so login faults are always reached.
    await control(stack, 'POST', 'config', { tokenTtlSeconds: call === 'login' ? 30 : 3600, early22Seconds: 0 });
    const existing = call === 'requery' ? (await client.create()).json : null;
    const key = `fault-${call}-${kind}-${times}`;
    await fault(stack, call, kind, times);

    const started = Date.now();
    const r = call === 'requery'
      ? await client.get(`/api/payments/${encodeURIComponent(existing.id)}`)
      : await client.create(ORDER, { 'idempotency-key': key });
    assert.equal(r.status, status, r.text);
    if (type) {
      assert.equal(r.json.error.type, type);
      assert.equal(r.json.error.request_id, r.headers.get('x-request-id'));
    }
    if (kind === 'hang') assert.ok(Date.now() - started < TIMEOUT_MS + 2000, 'a hang is cut at the timeout, not retried');

    // No payment twice, whatever happened.
    const before = await upstreamPayments(stack);
    assert.ok(before.length <= 1);
    await control(stack, 'DELETE', 'faults');
    if (call === 'requery') {
      const again = await client.get(`/api/payments/${encodeURIComponent(existing.id)}`);
      assert.equal(again.status, 200, again.text);
      assert.equal(again.json.status, 'pending');
    } else {
      // The same key after the fault: the original answer, or the one creation it was waiting for.
      const again = await client.create(ORDER, { 'idempotency-key': key });
      assert.equal(again.status, 201, again.text);
      if (status === 201) assert.deepEqual(again.json, r.json);
      const after = await upstreamPayments(stack);
      assert.equal(after.length, 1, 'exactly one upstream payment for one idempotency key');
      assert.equal(after[0].reference, again.json.reference);
    }
    assert.ok((await stats(stack)).create <= 3);
  });
}

test('login x unauthorized (x1) -> 503 upstream_auth_failed, and the refusal is remembered', async () => {
  const { stack } = ctx();
  // Its own Worker: the remembered refusal would answer for the gateway in the other cases.
  const own = await startWorker({ sandboxUrl: stack.sandbox.url, secrets: stack.secrets, vars: VARS });
  const scan = new LeakScan({ ...stack, worker: own });
  const create = () => scan.fetch('/api/payments', {
    method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': 'fault-login-unauthorized' }, body: JSON.stringify(ORDER),
  });
  try {
    await fault(stack, 'login', 'unauthorized', 1);
    const r = await create();
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.error.type, 'upstream_auth_failed');
    assert.equal(r.json.error.request_id, r.headers.get('x-request-id'));
    await control(stack, 'DELETE', 'faults');
    const logins = (await stats(stack)).login;
    const again = await create();
    assert.equal(again.status, 503, 'within 30 s the refusal answers, not the gateway');
    assert.equal((await stats(stack)).login, logins, 'no second login');
    assert.deepEqual(await upstreamPayments(stack), []);
    await scan.assertClean({ logs: own.logs });
  } finally {
    await own.stop();
  }
});
