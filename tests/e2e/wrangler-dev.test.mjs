// A smoke run through `npx wrangler dev`, as merchants develop: one wrangler start, a handful of
// requests. wrangler's proxy differs from Miniflare where a refused request's body is left
// unread: the next request on the same keep-alive connection used to hang or answer
// `503 Your worker restarted mid-request`. Browsers reuse connections, so every pair below goes
// over ONE connection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomSecrets, startSandbox, startWranglerDev } from '../support/harness.mjs';
import { LeakScan } from '../support/leakscan.mjs';
import { ORDER } from './support.mjs';

const REQUEST_TIMEOUT_MS = 10_000;
let stack;
let agent;
let scan;

before(async () => {
  const secrets = randomSecrets();
  const sandbox = await startSandbox({
    username: secrets.KP_USERNAME,
    password: secrets.KP_PASSWORD,
    dataFile: join(mkdtempSync(join(tmpdir(), 'kp-sandbox-')), 'state.json'),
  });
  try {
    const worker = await startWranglerDev({ sandboxUrl: sandbox.url, secrets });
    stack = { sandbox, worker, secrets, stop: async () => { await worker.stop(); await sandbox.stop(); } };
    scan = new LeakScan(stack);
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
}, { timeout: 120_000 });

after(async () => {
  agent?.destroy();
  if (!stack) return;
  await stack.stop();
  // stop() ends wrangler's whole process group: no workerd is left behind.
  assert.throws(() => process.kill(-stack.worker.pid, 0), { code: 'ESRCH' });
  await assert.rejects(fetch(`${stack.worker.url}/api/health`, { signal: AbortSignal.timeout(2_000) }));
});

/** One request over the shared keep-alive connection; resolves { status, headers, text, json, socket }. */
function send(method, path, { body, headers = {}, chunked = false } = {}) {
  return new Promise((resolve, reject) => {
    const { port } = new URL(stack.worker.url);
    const all = { ...headers };
    if (body !== undefined && !chunked) all['content-length'] = Buffer.byteLength(body);
    if (chunked) all['transfer-encoding'] = 'chunked';
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: all }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        scan.record(Object.entries(res.headers), text);
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json, socket: req.socket });
      });
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const big = (kib) => JSON.stringify({ ...ORDER, pad: 'x'.repeat(kib * 1024) });
const JSON_TYPE = { 'content-type': 'application/json' };

test('wrangler dev: health, config, create, status and the storefront', async () => {
  agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const health = await send('GET', '/api/health');
  assert.equal(health.status, 200);
  assert.equal(health.json.configured, true, health.text);
  const config = await send('GET', '/api/config');
  assert.equal(config.json.mode, 'catalog');
  const created = await send('POST', '/api/payments', { body: JSON.stringify(ORDER), headers: JSON_TYPE });
  assert.equal(created.status, 201, created.text);
  const status = await send('GET', `/api/payments/${encodeURIComponent(created.json.id)}`);
  assert.equal(status.status, 200, status.text);
  assert.equal(status.json.reference, created.json.reference);
  const page = await send('GET', '/');
  assert.equal(page.status, 200);
  assert.match(page.text, /<html/i);
  const bare = await send('GET', '/api');
  assert.equal(bare.status, 404);
  assert.equal(bare.json.error.type, 'not_found');
});

test('wrangler dev: a refused body leaves the connection usable for the next request', async () => {
  agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set();
  const pairs = [
    ['413 (17 KiB create)', () => send('POST', '/api/payments', { body: big(17), headers: JSON_TYPE }), 413],
    ['413 (17 KiB callback)', () => send('POST', '/api/callback', { body: big(17), headers: JSON_TYPE }), 413],
    ['413 (no Content-Length)', () => send('POST', '/api/payments', { body: big(40), headers: JSON_TYPE, chunked: true }), 413],
    ['415', () => send('POST', '/api/payments', { body: JSON.stringify(ORDER), headers: { 'content-type': 'text/plain' } }), 415],
    ['404 with a body', () => send('POST', '/api/nowhere', { body: big(1), headers: JSON_TYPE }), 404],
  ];
  for (const [what, refused, code] of pairs) {
    const r = await refused();
    assert.equal(r.status, code, `${what}: ${r.text}`);
    assert.equal(r.json?.error?.type !== undefined, true, `${what}: not the JSON error envelope: ${r.text}`);
    sockets.add(r.socket);
    const health = await send('GET', '/api/health');
    assert.equal(health.status, 200, `after ${what}: ${health.status} ${health.text}`);
    const create = await send('POST', '/api/payments', { body: JSON.stringify(ORDER), headers: JSON_TYPE });
    assert.equal(create.status, 201, `create after ${what}: ${create.status} ${create.text}`);
    sockets.add(create.socket);
  }
  assert.equal(sockets.size, 1, 'every request went over one keep-alive connection');
});

test('wrangler dev: the v2 lifecycle (one payment per key, callback, final from the record)', async () => {
  agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const control = (name, body) => fetch(`${stack.sandbox.url}/__sandbox/${name}`, { method: body ? 'POST' : 'GET', body: body && JSON.stringify(body) }).then((r) => r.json());
  const keyed = { ...JSON_TYPE, 'idempotency-key': 'wrangler-dev-1' };
  const first = await send('POST', '/api/payments', { body: JSON.stringify(ORDER), headers: keyed });
  const again = await send('POST', '/api/payments', { body: JSON.stringify(ORDER), headers: keyed });
  assert.equal(first.status, 201, first.text);
  assert.deepEqual(again.json, first.json);
  assert.match(first.json.reference, /^KP[0-9A-V]{20}-[0-9a-z]{6,7}$/);
  const sent = await control('references');
  assert.equal(sent.filter((r) => r === first.json.reference).length, 1, 'one upstream create for the key');
  await control('settle', { reference: first.json.reference, outcome: 'paid' });
  const callback = await send('POST', `/api/callback?kp_payment=${encodeURIComponent(first.json.id)}`, {
    body: 'status=00', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(callback.text, 'RECEIVEOK');
  const before = (await control('stats')).requery;
  const status = await send('GET', `/api/payments/${encodeURIComponent(first.json.id)}`);
  assert.deepEqual([status.json.status, status.json.code], ['paid', '00']);
  assert.equal((await control('stats')).requery, before, 'a final status comes from the record');
});

test('wrangler dev: what the Worker answered and logged holds no secret', async () => {
  await new Promise((r) => setTimeout(r, 200));
  const lines = stack.worker.workerLogs();
  assert.ok(lines.some((l) => l.includes('"msg":"request"')), `no Worker log lines:\n${lines.slice(-20).join('\n')}`);
  const places = await scan.assertClean({ logs: lines });
  assert.ok(places > 20, `only ${places} answers and log lines scanned`);
});
