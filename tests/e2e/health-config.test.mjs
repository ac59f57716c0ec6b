// Health, config in both pricing modes, a Worker missing its secrets, and the generic HTTP rules
// (request ids, 404, 405 with Allow, static files).
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { startWorker } from '../support/harness.mjs';
import { LeakScan } from '../support/leakscan.mjs';
import { api, fileStack, stats, ORDER } from './support.mjs';

const ctx = fileStack();

test('health: configured, version, no upstream call', async () => {
  const { stack } = ctx();
  const r = await api(ctx()).get('/api/health');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { ok: true, version: '0.1.0', configured: true });
  assert.match(r.headers.get('x-request-id'), /^[0-9a-f]{16}$/);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.deepEqual(await stats(stack), { login: 0, create: 0, requery: 0, sendMessage: 0 });
});

test('config in catalog mode: the demo products, amounts as two-place strings', async () => {
  const r = await api(ctx()).get('/api/config');
  assert.equal(r.status, 200);
  assert.equal(r.json.currency, 'MYR');
  assert.equal(r.json.mode, 'catalog');
  assert.deepEqual(r.json.catalog.map((p) => [p.sku, p.amount]), [
    ['batik-scarf', '45.00'], ['songket-pouch', '28.50'], ['keropok-lekor', '12.00'],
  ]);
  assert.deepEqual([r.json.min_amount, r.json.max_amount], ['1.00', '30000.00']);
});

test('config in open mode reports its bounds', async () => {
  const { stack } = ctx();
  const open = await startWorker({ sandboxUrl: stack.sandbox.url, secrets: stack.secrets, vars: { KP_CATALOG: undefined, KP_MIN_AMOUNT: '5', KP_MAX_AMOUNT: '100.5' } });
  try {
    const config = await fetch(`${open.url}/api/config`).then((r) => r.json());
    assert.deepEqual(config, { currency: 'MYR', mode: 'open', catalog: [], min_amount: '5.00', max_amount: '100.50' });
  } finally {
    await open.stop();
  }
});

test('without secrets: health says what is missing (never a value), payment endpoints answer 503', async () => {
  const { stack } = ctx();
  const bare = await startWorker({ sandboxUrl: stack.sandbox.url, secrets: { KP_USERNAME: stack.secrets.KP_USERNAME } });
  const scan = new LeakScan({ ...stack, worker: bare });
  try {
    const health = await scan.fetch('/api/health');
    assert.equal(health.status, 200);
    assert.equal(health.json.configured, false);
    assert.ok(health.json.problems.some((p) => p.includes('KP_PASSWORD')));
    assert.ok(health.json.problems.some((p) => p.includes('KP_SIGNING_SECRET')));
    assert.ok(!health.text.includes(stack.secrets.KP_USERNAME));
    const create = await scan.fetch('/api/payments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ORDER) });
    assert.equal(create.status, 503);
    assert.equal(create.json.error.type, 'not_configured');
    assert.equal(create.json.error.request_id, create.headers.get('x-request-id'));
    const status = await scan.fetch('/api/payments/anything');
    assert.equal(status.status, 503);
    assert.deepEqual(await stats(stack), { login: 0, create: 0, requery: 0, sendMessage: 0 });
    await scan.assertClean({ logs: bare.logs });
  } finally {
    await bare.stop();
  }
});

test('a signing secret copied from .dev.vars.example is refused: health names it, payments answer 503 (issue 27, item 8)', async () => {
  const { stack } = ctx();
  const placeholder = /^KP_SIGNING_SECRET=(.+)$/m.exec(readFileSync(new URL('../../.dev.vars.example', import.meta.url), 'utf8'))[1];
  assert.ok(placeholder.length >= 32, 'the placeholder passes the length rule');
  const copied = await startWorker({ sandboxUrl: stack.sandbox.url, secrets: { ...stack.secrets, KP_SIGNING_SECRET: placeholder } });
  try {
    const health = await fetch(`${copied.url}/api/health`).then((r) => r.json());
    assert.equal(health.configured, false);
    assert.ok(health.problems.includes('KP_SIGNING_SECRET is a published example value'), JSON.stringify(health));
    assert.ok(!JSON.stringify(health).includes(placeholder), 'names, never values');
    const create = await fetch(`${copied.url}/api/payments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ORDER) });
    assert.equal(create.status, 503);
    assert.equal((await create.json()).error.type, 'not_configured');
  } finally {
    await copied.stop();
  }
});

test('unknown API routes are 404, wrong methods 405 with Allow', async () => {
  const client = api(ctx());
  const missing = await client.get('/api/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error.type, 'not_found');
  for (const [method, path, allow] of [
    ['GET', '/api/payments', 'POST, OPTIONS'],
    ['DELETE', '/api/payments/abc', 'GET, OPTIONS'],
    ['POST', '/api/health', 'GET, OPTIONS'],
    ['PUT', '/api/callback', 'GET, POST, OPTIONS'],
  ]) {
    const r = await client.raw(path, { method });
    assert.equal(r.status, 405, `${method} ${path}`);
    assert.equal(r.json.error.type, 'method_not_allowed');
    assert.equal(r.headers.get('allow'), allow);
  }
});

test('the storefront is served outside /api/, unknown files are 404', async () => {
  const client = api(ctx());
  const page = await client.get('/');
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /text\/html/);
  assert.equal((await client.get('/no-such-file.js')).status, 404);
});

test('every request leaves one JSON log line with route, status, duration and upstream calls', async () => {
  const { stack } = ctx();
  const r = await api(ctx()).get('/api/config');
  await new Promise((res) => setTimeout(res, 100));
  const line = stack.worker.logs.map((l) => { try { return JSON.parse(l); } catch { return null; } })
    .find((l) => l?.request_id === r.headers.get('x-request-id'));
  assert.ok(line, 'no log line for the request');
  assert.equal(line.msg, 'request');
  assert.equal(line.route, '/api/config');
  assert.equal(line.status, 200);
  assert.equal(typeof line.duration_ms, 'number');
  assert.equal(line.upstream_calls, 0);
});
