// What careless and hostile clients send (issue 10): control characters in fields, handles
// re-spelled in their spare bits, bare `/api` paths, bodies without Content-Length, return URLs
// that only look like the shop's, and gateway answers that quote the merchant's secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { freePort, randomSecrets, startWorker } from '../support/harness.mjs';
import { LeakScan } from '../support/leakscan.mjs';
import { api, fileStack, stats, upstreamPayments, ORDER, sleep } from './support.mjs';

const ctx = fileStack({
  vars: { KP_RETURN_URLS: 'https://shop.example/pay,https://www.shop.example', KP_RETURN_URL: 'https://shop.example/pay' },
});

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const logLines = (worker) => worker.logs.map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter(Boolean);

test('no field may carry a control character, leading, trailing or inside', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  const cases = [
    ['email', { email: 'siti@example.com\n' }],
    ['email', { email: '\tsiti@example.com' }],
    ['name', { name: 'Siti Aminah\r\n' }],
    ['name', { name: 'Siti\u0000Aminah' }],
    ['mobile', { mobile: '012-345 6789\n' }],
    ['description', { description: 'Batik\u2028scarf' }],
    ['ref_1', { ref_1: 'order-9\u001b[31m' }],
    ['via', { via: 'Web\n' }],
    ['return_url', { return_url: 'https://shop.example/pay\n' }],
    ['items[0].sku', { items: [{ sku: 'batik-scarf\n', quantity: 1 }] }],
  ];
  for (const [field, change] of cases) {
    const r = await client.create({ ...ORDER, ...change });
    assert.equal(r.status, 400, `${JSON.stringify(change)}: ${r.text}`);
    assert.equal(r.json.error.field, field, JSON.stringify(change));
  }
  const trimmed = await client.create({ ...ORDER, name: '  Siti Aminah  ', email: ' siti@example.my ' });
  assert.equal(trimmed.status, 201, 'surrounding spaces are trimmed, not refused');
  const [sent] = await upstreamPayments(stack);
  assert.deepEqual([sent.name, sent.email], ['Siti Aminah', 'siti@example.my']);
  assert.equal((await stats(stack)).create, 1);
});

test('a payment id re-spelled in its spare bits does not verify, and costs no requery', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  const created = await client.create();
  assert.equal(created.status, 201);
  const { id } = created.json;
  const last = ALPHABET.indexOf(id.at(-1));
  // The 22nd character of a 16-byte tag carries 2 bits of it and 4 spare bits: flipping the
  // lowest bit decodes to the same tag with a lenient decoder.
  const respelled = id.slice(0, -1) + ALPHABET[last ^ 1];
  const before = await stats(stack);
  const status = await client.get(`/api/payments/${encodeURIComponent(respelled)}`);
  assert.equal(status.status, 404, status.text);
  assert.equal(status.json.error.type, 'not_found');
  const callback = await client.get(`/api/callback?kp_payment=${encodeURIComponent(respelled)}`);
  assert.equal(callback.status, 404, callback.text);
  assert.equal((await stats(stack)).requery, before.requery, 'no upstream call for a forged id');
  assert.equal((await client.get(`/api/payments/${encodeURIComponent(id)}`)).status, 200, 'the genuine id still verifies');
});

test('every /api path answers the JSON error envelope, /api itself included', async () => {
  const client = api(ctx());
  for (const [method, path] of [
    ['GET', '/api'], ['GET', '/api/'], ['POST', '/api'], ['GET', '/api?x=1'], ['GET', '/api/payments/a/b'],
    ['GET', '/api/unknown/deeper'], ['DELETE', '/api'], ['GET', '/api//health/x'],
  ]) {
    const r = await client.raw(path, { method });
    assert.equal(r.status, 404, `${method} ${path}: ${r.status} ${r.text}`);
    assert.match(r.headers.get('content-type'), /application\/json/, `${method} ${path}`);
    assert.equal(r.json?.error?.type, 'not_found', `${method} ${path}: ${r.text}`);
    assert.equal(r.json.error.request_id, r.headers.get('x-request-id'));
  }
});

test('a body without Content-Length is refused at 16 KiB, without waiting for its end', async () => {
  const { stack } = ctx();
  const { port } = new URL(stack.worker.url);
  for (const path of ['/api/payments', '/api/callback']) {
    const outcome = await new Promise((resolve, reject) => {
      let ended = false;
      const req = http.request({
        host: '127.0.0.1', port, method: 'POST', path, agent: false,
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      }, (res) => {
        const answeredBeforeEnd = !ended;
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ status: res.statusCode, text, answeredBeforeEnd }));
      });
      req.on('error', (e) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? undefined : reject(e)));
      req.write(`{"pad":"${'x'.repeat(20 * 1024)}`);
      // The sender then stalls: a Worker that reads to the end before checking would wait here.
      setTimeout(() => { ended = true; req.end('"}'); }, 8_000);
    });
    assert.equal(outcome.status, 413, `${path}: ${outcome.text}`);
    assert.equal(JSON.parse(outcome.text).error.type, 'payload_too_large');
    assert.ok(outcome.answeredBeforeEnd, `${path}: the 413 came only after the whole body`);
  }
  assert.equal((await stats(stack)).create, 0);
});

test('a body within the limit may arrive slowly: only the drain of a refused body is timed', async () => {
  const { stack } = ctx();
  const { port } = new URL(stack.worker.url);
  const body = JSON.stringify(ORDER);
  const outcome = await new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method: 'POST', path: '/api/payments', agent: false,
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.write(body.slice(0, 20));
    setTimeout(() => req.end(body.slice(20)), 3_000);
  });
  assert.equal(outcome.status, 201, outcome.text);
});

test('return URLs match by origin and path segment; an existing kp_payment is replaced', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  for (const url of [
    'https://shop.example.evil.com/pay',
    'https://www.shop.example.evil.com/',
    'https://shop.example/payload',
    'https://shop.example/pay/../admin',
    'http://shop.example/pay',
    'https://shop.example:8443/pay',
  ]) {
    const r = await client.create({ ...ORDER, return_url: url });
    assert.equal(r.status, 400, `${url}: ${r.text}`);
    assert.equal(r.json.error.field, 'return_url', url);
  }
  assert.equal((await stats(stack)).create, 0);
  const r = await client.create({ ...ORDER, return_url: 'https://shop.example/pay/done?kp_payment=forged.1.x&order=7' });
  assert.equal(r.status, 201, r.text);
  const www = await client.create({ ...ORDER, return_url: 'https://WWW.shop.example/any/page' });
  assert.equal(www.status, 201, www.text);
  const sent = await upstreamPayments(stack);
  const returned = new URL(sent.find((p) => p.userid === r.json.reference).returnurl);
  assert.equal(returned.pathname, '/pay/done');
  assert.deepEqual(returned.searchParams.getAll('kp_payment'), [r.json.id]);
  assert.equal(returned.searchParams.get('order'), '7');
});

test('a refused login is remembered: wrong credentials cost one login, not one per request', async () => {
  const { stack } = ctx();
  const wrong = await startWorker({ sandboxUrl: stack.sandbox.url, secrets: { ...stack.secrets, KP_PASSWORD: 'not-the-password' } });
  const scan = new LeakScan({ ...stack, worker: wrong });
  try {
    for (let i = 0; i < 6; i += 1) {
      const r = await scan.fetch('/api/payments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ORDER) });
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.error.type, 'upstream_auth_failed');
      assert.doesNotMatch(r.json.error.message, /Invalid username or password/, 'the gateway\'s words stay in the log');
    }
    assert.equal((await stats(stack)).login, 1);
    await sleep(100);
    const failures = logLines(wrong).filter((l) => l.error === 'upstream_auth_failed');
    assert.equal(failures.length, 6);
    assert.match(failures[0].detail, /Invalid username or password/);
    assert.ok(!JSON.stringify(failures).includes('not-the-password'));
    await scan.assertClean({ logs: wrong.logs });
  } finally {
    await wrong.stop();
  }
});

/** A gateway that logs in, then answers every create with a description quoting the secrets. */
async function indiscreetGateway() {
  const signature = randomBytes(24).toString('base64url');
  const token = `eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ exp: 4102444800 })).toString('base64url')}.${signature}`;
  let credentials = {};
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => { raw += d; });
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : {};
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url === '/api/loginApi') {
        credentials = body;
        return res.end(JSON.stringify({ status: 'true', token, code: 200 }));
      }
      const description = `Merchant ${credentials.username} (password ${credentials.password}) sent token ${body.token}, signature ${signature}. ${'Please contact support. '.repeat(20)}`;
      res.end(JSON.stringify({ status: 'false', description, code: 422 }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, token, signature, close: () => new Promise((r) => server.close(r)) };
}

test('a gateway description reaches the browser without the username, password or tokens, at most 200 characters', async () => {
  const gateway = await indiscreetGateway();
  const secrets = randomSecrets();
  const worker = await startWorker({ sandboxUrl: gateway.url, secrets });
  try {
    const r = await fetch(`${worker.url}/api/payments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ORDER) });
    const text = await r.text();
    assert.equal(r.status, 502, text);
    const { message } = JSON.parse(text).error;
    assert.match(message, /^Merchant \[redacted\] \(password \[redacted\]\) sent token \[redacted\]/);
    assert.ok([...message].length <= 200, `${[...message].length} characters`);
    await sleep(100);
    for (const secret of [secrets.KP_USERNAME, secrets.KP_PASSWORD, gateway.token, gateway.signature]) {
      assert.ok(!text.includes(secret), 'a secret reached the response');
      assert.ok(!worker.logs.some((l) => l.includes(secret)), 'a secret reached the log');
    }
  } finally {
    await worker.stop();
    await gateway.close();
  }
});

test('an unreachable gateway gets a generic message; the reason is in the log line only', async () => {
  const closed = await freePort();
  const worker = await startWorker({ sandboxUrl: `http://127.0.0.1:${closed}`, secrets: randomSecrets(), vars: { KP_UPSTREAM_TIMEOUT_MS: '1500' } });
  try {
    const r = await fetch(`${worker.url}/api/payments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ORDER) });
    const body = await r.json();
    assert.equal(r.status, 502);
    assert.equal(body.error.type, 'upstream_error');
    assert.equal(body.error.message, 'could not reach KelantanPay');
    await sleep(100);
    const line = logLines(worker).find((l) => l.request_id === body.error.request_id);
    assert.ok(line?.detail && line.detail !== body.error.message, JSON.stringify(line));
  } finally {
    await worker.stop();
  }
});

/** A small seeded generator (mulberry32), so a failing case can be replayed. */
function random(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (list) => list[Math.floor(next() * list.length)];
  return { next, pick };
}

const ERROR_TYPES = new Set(['invalid_request', 'origin_not_allowed', 'not_found', 'method_not_allowed', 'payload_too_large', 'unsupported_media_type']);

test('fuzz: 300 hostile requests (paths under /api, control characters, re-spelled handles) answer the envelope, never a 5xx', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  const seed = Number(process.env.FUZZ_SEED ?? 20261201);
  const { next, pick } = random(seed);
  const created = await client.create();
  const { id } = created.json;
  const controls = ['\n', '\r', '\t', '\u0000', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029', '\u202e', '\u2066'];
  const fields = ['name', 'email', 'mobile', 'description', 'ref_1', 'ref_2', 'ref_3', 'via', 'return_url'];
  // No dot segments: the client's URL parser resolves `..` and `%2e%2e` before sending.
  const segments = ['', 'api', 'payments', 'health', 'config', 'callback', '%2F', '%00', '.x', 'x'.repeat(300), id, encodeURIComponent(id)];
  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
  const before = (await stats(stack)).create;
  for (let i = 0; i < 300; i += 1) {
    const kind = pick(['path', 'field', 'handle']);
    let r;
    let what;
    if (kind === 'path') {
      const path = `/api${Array.from({ length: Math.floor(next() * 3) }, () => `/${pick(segments)}`).join('')}${next() < 0.3 ? '?kp_payment=x' : ''}`;
      const method = pick(methods);
      what = `${method} ${path}`;
      r = await client.raw(path, { method, headers: { 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{"a":1}' });
    } else if (kind === 'field') {
      const field = pick(fields);
      const base = { ...ORDER, return_url: 'https://shop.example/pay', description: 'Batik' };
      const value = String(base[field] ?? 'Web');
      const at = Math.floor(next() * (value.length + 1));
      base[field] = value.slice(0, at) + pick(controls) + value.slice(at);
      what = `${field}=${JSON.stringify(base[field])}`;
      r = await client.create(base);
      assert.equal(r.status, 400, `${what}: ${r.text}`);
      assert.equal(r.json.error.field, field, what);
    } else {
      const at = Math.floor(next() * id.length);
      const forged = id.slice(0, at) + pick([...ALPHABET, '=', '.', '%']) + id.slice(at + 1);
      what = `handle ${forged}`;
      r = await client.get(`/api/payments/${encodeURIComponent(forged)}`);
      if (forged !== id) assert.equal(r.status, 404, `${what}: ${r.text}`);
    }
    assert.ok(r.status < 500, `${what}: ${r.status} ${r.text}`);
    if (r.status >= 400) {
      assert.ok(ERROR_TYPES.has(r.json?.error?.type), `${what}: ${r.status} ${r.text}`);
      assert.equal(r.json.error.request_id, r.headers.get('x-request-id'), what);
    }
  }
  assert.equal((await stats(stack)).create, before, 'no hostile request reached the gateway');
  await sleep(100);
  assert.deepEqual(stack.worker.logs.filter((l) => /panicked|RuntimeError|unreachable/i.test(l)), []);
});
