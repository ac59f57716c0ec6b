// CORS per allowlist, and the per-client rate limit on creation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from '../support/harness.mjs';
import { api, fileStack, stats, ORDER } from './support.mjs';

const ctx = fileStack({ vars: { KP_ALLOWED_ORIGINS: 'https://shop.example, https://www.shop.example' } });

test('an allowed origin: preflight and simple requests get its origin echoed', async () => {
  const client = api(ctx());
  const pre = await client.raw('/api/payments', {
    method: 'OPTIONS',
    headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, idempotency-key' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'https://shop.example');
  assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
  assert.match(pre.headers.get('access-control-allow-headers'), /content-type/);
  assert.match(pre.headers.get('access-control-allow-headers'), /idempotency-key/);
  assert.match(pre.headers.get('vary'), /Origin/);
  const simple = await client.get('/api/config', { origin: 'https://www.shop.example' });
  assert.equal(simple.headers.get('access-control-allow-origin'), 'https://www.shop.example');
  const create = await client.create(ORDER, { origin: 'https://shop.example' });
  assert.equal(create.status, 201);
  assert.equal(create.headers.get('access-control-allow-origin'), 'https://shop.example');
});

test('the Worker\'s own origin is always allowed', async () => {
  const { stack } = ctx();
  const r = await api(ctx()).create(ORDER, { origin: stack.worker.url });
  assert.equal(r.status, 201);
  assert.equal(r.headers.get('access-control-allow-origin'), stack.worker.url);
});

test('another origin gets no CORS headers, and its state-changing requests are 403', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  const read = await client.get('/api/config', { origin: 'https://evil.example' });
  assert.equal(read.status, 200);
  assert.equal(read.headers.get('access-control-allow-origin'), null);
  const create = await client.create(ORDER, { origin: 'https://evil.example' });
  assert.equal(create.status, 403);
  assert.equal(create.json.error.type, 'origin_not_allowed');
  assert.equal(create.headers.get('access-control-allow-origin'), null);
  const callback = await client.raw('/api/callback', { method: 'POST', headers: { origin: 'https://evil.example' }, body: 'reference=x' });
  assert.equal(callback.status, 403);
  const pre = await client.raw('/api/payments', { method: 'OPTIONS', headers: { origin: 'https://shop.example.evil.example', 'access-control-request-method': 'POST' } });
  assert.equal(pre.status, 403);
  assert.equal(pre.headers.get('access-control-allow-origin'), null);
  assert.equal((await stats(stack)).create, 0);
});

test('a refused request whose body was never read is still answered, never reset', async () => {
  // Before the Worker drained unread bodies, about 1 in 130 of these died with ECONNRESET.
  const client = api(ctx());
  const statuses = new Set();
  for (let i = 0; i < 400; i += 1) {
    const r = await client.raw('/api/callback', {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'reference=x',
    });
    statuses.add(r.status);
  }
  assert.deepEqual([...statuses], [403]);
});

test('creation is rate limited per client IP, with Retry-After; other endpoints are not', async () => {
  const { stack } = ctx();
  const limited = await startWorker({ sandboxUrl: stack.sandbox.url, secrets: stack.secrets, vars: { KP_RATE_LIMIT_PER_MINUTE: '3' } });
  const create = (ip, body = ORDER) => fetch(`${limited.url}/api/payments`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip }, body: JSON.stringify(body),
  });
  try {
    const invalid = await create('203.0.113.7', { ...ORDER, email: 'bad' });
    assert.equal(invalid.status, 400, 'checked before counting');
    for (let i = 0; i < 3; i += 1) assert.equal((await create('203.0.113.7')).status, 201);
    const over = await create('203.0.113.7');
    assert.equal(over.status, 429);
    assert.equal((await over.json()).error.type, 'rate_limited');
    const wait = Number(over.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
    assert.equal((await create('198.51.100.9')).status, 201, 'another client has its own budget');
    assert.equal((await fetch(`${limited.url}/api/config`, { headers: { 'cf-connecting-ip': '203.0.113.7' } })).status, 200);
    assert.equal((await stats(stack)).create, 4);
  } finally {
    await limited.stop();
  }
});
