// The installed package (from the packed tarball) as a merchant's Node backend uses it, against
// the sandbox: statuses from a process that did not create the payment, error details, hooks,
// webhooks, the callback recipe, and that no secret shows anywhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startSandbox } from '../../sandbox/server.mjs';
import { theProject } from './project.mjs';

const PASSWORD = 'pw-Npm-Secret-7';
const USER = 'npm-merchant';
let sandbox;
let cjs;
let esm;

const settle = (reference, outcome) =>
  fetch(`${sandbox.url}/__sandbox/settle`, { method: 'POST', body: JSON.stringify({ reference, outcome }) });
const fault = (call, kind, times = 1) =>
  fetch(`${sandbox.url}/__sandbox/faults`, { method: 'POST', body: JSON.stringify({ call, fault: kind, times }) });
const payer = { amount: '9.90', name: 'Wan', email: 'wan@example.my', mobile: '0123456789' };
const client = (extra = {}) =>
  new esm.KelantanPay({ username: USER, password: PASSWORD, provider: 'sandbox', account: '000000', baseUrl: sandbox.url, timeoutMs: 3000, ...extra });

/** A fetch that moves the requery answer's created_at `ageSecs` into the past (or drops it). */
const ageing = (ageSecs) => async (request, init) => {
  const response = await fetch(request, init);
  if (!request.url.includes('kelantan-requery')) return response;
  const body = await response.json();
  if (ageSecs === null) delete body.created_at;
  else body.created_at = new Date(Date.now() - ageSecs * 1000).toISOString();
  return Response.json(body, { status: response.status });
};

before(async () => {
  // A long early-22 window, so "young" holds however slow the machine is.
  sandbox = await startSandbox({ username: USER, password: PASSWORD, early22Seconds: 30 });
  const dir = theProject();
  const require = createRequire(join(dir, 'index.js'));
  cjs = require('kelantanpay');
  esm = await import(join(dir, 'node_modules/kelantanpay/dist/node.mjs'));
});
after(() => sandbox?.stop());

test('import and require share one instance, and the package.json export resolves', () => {
  assert.equal(cjs.KelantanPayError, esm.KelantanPayError);
  assert.equal(cjs.KelantanPay, esm.KelantanPay);
  const require = createRequire(join(theProject(), 'index.js'));
  assert.equal(require('kelantanpay/package.json').name, 'kelantanpay');
});

test('another process (a fresh client) reads a young 22 as pending from the gateway\'s own date', async () => {
  const created = await client().createPayment(payer);
  const other = client();
  const early = await other.requery(created.reference);
  assert.deepEqual([early.code, early.status, early.ageKnown], ['22', 'pending', true]);
  assert.ok(Math.abs(Date.parse(early.createdAt) - Date.parse(created.createdAt)) <= 2000);
});

test('a 115-second-old failed payment is failed at once for checkStatus and waitForFinalStatus without createdAt', async () => {
  const created = await client().createPayment(payer);
  await settle(created.reference, 'failed');
  const other = client({ fetch: ageing(115) });
  let requeries = 0;
  other.on('request', (e) => { if (e.call === 'requery') requeries += 1; });
  const check = await other.checkStatus(created.reference);
  assert.deepEqual([check.status, check.ageKnown, requeries], ['failed', true, 1]);
  const started = Date.now();
  const wait = await other.waitForFinalStatus(created.reference, { timeoutMs: 30000 });
  assert.equal(wait.status, 'failed');
  assert.ok(Date.now() - started < 2000, 'no waiting out a window that has passed');
  // With no date anywhere the age is unknown, said so, and a 22 is not called final early.
  const blind = await client({ fetch: ageing(null) }).requery(created.reference);
  assert.deepEqual([blind.status, blind.ageKnown, blind.createdAt], ['pending', false, undefined]);
});

test('errors carry code, call, raw and upstreamStatus, a duplicate has its own kind, JSON has the message', async () => {
  const kp = client();
  const made = await kp.createPayment({ ...payer, reference: 'NPM-DUP-1' });
  const dup = await kp.createPayment({ ...payer, reference: made.reference }).catch((e) => e);
  assert.deepEqual([dup.kind, dup.status, dup.code, dup.call, dup.upstreamStatus], ['duplicate_reference', 409, '409', 'createPayment', 200]);
  assert.equal(dup.raw.description, 'Duplicate reference');
  const json = JSON.parse(JSON.stringify(dup));
  assert.equal(json.message, dup.message);
  assert.equal(json.kind, 'duplicate_reference');

  await fault('requery', 'status_false');
  const gateway = await kp.requery(made.reference).catch((e) => e);
  assert.deepEqual([gateway.kind, gateway.upstreamStatus, gateway.code, gateway.call], ['upstream_error', 200, '500', 'requery']);
  assert.equal(gateway.raw.status, 'false');
});

test('network failures keep their cause: a refused connection and a DNS failure differ', async () => {
  const closed = createServer();
  await new Promise((ok) => closed.listen(0, '127.0.0.1', ok));
  const port = closed.address().port;
  await new Promise((ok) => closed.close(ok));
  const refused = await client({ baseUrl: `http://127.0.0.1:${port}`, retries: 0 }).login().catch((e) => e);
  assert.equal(refused.kind, 'upstream_error');
  assert.equal(refused.cause.cause.code, 'ECONNREFUSED');
  assert.match(refused.message, /ECONNREFUSED/);
  const dnsFetch = async () => { throw new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND gw.invalid'), { code: 'ENOTFOUND' }) }); };
  const dns = await client({ fetch: dnsFetch, retries: 0 }).login().catch((e) => e);
  assert.match(dns.message, /ENOTFOUND/);
  assert.equal(dns.cause.cause.code, 'ENOTFOUND');
});

test('unknown keys are refused by name; returnUrl and return_url both work, not together', async () => {
  assert.throws(() => client({ basUrl: 'x' }), (e) => e.kind === 'invalid_request' && e.field === 'basUrl' && /baseUrl/.test(e.message));
  const kp = client();
  await assert.rejects(kp.createPayment({ ...payer, amout: 1 }), (e) => e.field === 'amout');
  await assert.rejects(kp.requery('R1', { createdat: 1 }), (e) => e.field === 'createdat');
  await assert.rejects(kp.createPayment({ ...payer, returnUrl: 'https://a.example/r', return_url: 'https://a.example/r' }), (e) => e.field === 'returnUrl');
  const made = await kp.createPayment({ ...payer, returnUrl: 'https://shop.example/back', callbackUrl: 'https://shop.example/cb' });
  const stored = (await fetch(`${sandbox.url}/__sandbox/payments`).then((r) => r.json())).find((p) => p.reference === made.reference);
  assert.deepEqual([stored.returnurl, stored.callbackurl], ['https://shop.example/back', 'https://shop.example/cb']);
});

test('baseUrl: https anywhere, plain http only to loopback (the Worker\'s KP_BASE_URL rule)', () => {
  for (const bad of ['http://payment.kelantanpay.com', 'http://10.0.0.5:8788', 'http://127.0.0.1.evil.com', 'http://localhost.evil.com/']) {
    assert.throws(() => client({ baseUrl: bad }), (e) => e instanceof esm.KelantanPayError && e.kind === 'invalid_request'
      && e.field === 'baseUrl' && /baseUrl must be an https:\/\/ URL \(plain http:\/\/ only to localhost, 127\.0\.0\.1 or \[::1\]\)/.test(e.message), bad);
  }
  for (const good of ['https://payment.kelantanpay.com', 'http://localhost:8788', 'http://[::1]:8788', sandbox.url]) client({ baseUrl: good }).free();
});

test('after free() a clear error, not a null pointer; Symbol.dispose frees', async () => {
  const kp = client();
  kp.free();
  await assert.rejects(kp.requery('R1'), (e) => e instanceof esm.KelantanPayError && /freed/.test(e.message));
  const other = client();
  other[Symbol.dispose]();
  await assert.rejects(other.login(), /freed/);
});

test('hooks: the fetch option, a User-Agent with appInfo, events without secrets, a signal on every call', async () => {
  const seen = [];
  const kp = client({
    appInfo: { name: 'shop', version: '1.2.3', url: 'https://shop.example' },
    fetch: (request, init) => { seen.push(request.headers.get('user-agent')); return fetch(request, init); },
  });
  const events = [];
  kp.on('request', (e) => events.push(['request', e])).on('response', (e) => events.push(['response', e]));
  kp.on('response', () => { throw new Error('a broken listener'); });
  const made = await kp.createPayment(payer);
  assert.match(seen[0], /^kelantanpay-js\/\d+\.\d+\.\d+ shop\/1\.2\.3 \(https:\/\/shop\.example\)$/);
  assert.deepEqual(events.map(([n, e]) => `${n}:${e.call}:${e.status ?? ''}`), ['request:login:', 'response:login:200', 'request:createPayment:', 'response:createPayment:200']);
  const shown = JSON.stringify(events);
  for (const secret of [PASSWORD, ...sandbox.tokens()]) assert.ok(!shown.includes(secret));

  const controller = new AbortController();
  const waiting = kp.waitForFinalStatus(made.reference, { timeoutMs: 20000, signal: controller.signal });
  setTimeout(() => controller.abort(), 300);
  const started = Date.now();
  await assert.rejects(waiting, (e) => e.name === 'AbortError');
  assert.ok(Date.now() - started < 2000);
  const before = seen.length;
  await assert.rejects(kp.createPayment(payer, { signal: AbortSignal.abort() }), (e) => e.name === 'AbortError');
  assert.equal(seen.length, before, 'an aborted call sends nothing');
  await assert.rejects(kp.login({ signal: 'nope' }), (e) => e.field === 'signal');
  assert.throws(() => kp.on('sent', () => {}), (e) => e.field === 'event');
});

test('verifyWebhook: rotation, array headers, tolerance, and every refusal is invalid_signature', () => {
  const { signWebhook, verifyWebhook, KelantanPayError } = esm;
  const body = JSON.stringify({ id: 'evt_R_failed', type: 'payment.failed', created: 1, data: { reference: 'R', amount: '1.00', status: 'failed' } });
  const header = signWebhook(body, 'whsec_old', { timestamp: 1_800_000_000 });
  const now = new Date(1_800_000_100_000);
  assert.equal(verifyWebhook(body, header, ['whsec_new', 'whsec_old'], { now }).type, 'payment.failed');
  assert.equal(verifyWebhook(Buffer.from(body), [header], 'whsec_old', { now }).data.reference, 'R');
  const refusal = (...args) => { try { verifyWebhook(...args); return 'accepted'; } catch (e) { assert.ok(e instanceof KelantanPayError); return e.kind; } };
  assert.equal(refusal(body, header, 'whsec_old', { now: new Date(1_800_000_301_000) }), 'invalid_signature');
  assert.equal(refusal(body, header, 'whsec_old', { now: new Date(1_800_000_400_000), toleranceSec: 600 }), 'accepted');
  assert.equal(refusal(body, undefined, 'whsec_old', { now }), 'invalid_signature');
  assert.equal(refusal(body, 't=1800000000', 'whsec_old', { now }), 'invalid_signature');
  assert.equal(refusal(body, header, 'whsec_wrong', { now }), 'invalid_signature');
  assert.equal(refusal(JSON.parse(body), header, 'whsec_old', { now }), 'invalid_request');
  assert.equal(refusal(body, header, 'whsec_old', { now, tolerance: 1 }), 'invalid_request');
});

test('the callback recipe: parseCallback -> checkStatus -> RECEIVEOK, on a real sandbox callback', async () => {
  const kp = client();
  const handled = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const hint = esm.parseCallback(Buffer.concat(chunks), req.headers['content-type'], req.url);
    const status = await kp.checkStatus(hint.reference);
    handled.push([hint.reference, hint.fields.status, status.status]);
    res.end('RECEIVEOK');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    const made = await kp.createPayment({ ...payer, callback_url: `http://127.0.0.1:${server.address().port}/kp/callback?shop=1` });
    const settled = await settle(made.reference, 'paid').then((r) => r.json());
    assert.deepEqual(settled.callback, { delivered: true, http_status: 200, body: 'RECEIVEOK' });
    assert.deepEqual(handled, [[made.reference, '00', 'paid']]);
  } finally {
    server.close();
  }
  const forged = esm.parseCallback({ status: '00', reference: 'has spaces', orderid: 'KPAY1' }, undefined, { kp_payment: 'h.1.x' });
  assert.deepEqual([forged.reference, forged.orderid, forged.kpPayment], [null, 'KPAY1', 'h.1.x']);
});

test('neither the password nor a login token appears in any error, message, stack or JSON', async () => {
  const wrong = 'pw-Wrong-Secret-9';
  const errors = [await client({ password: wrong }).login().catch((e) => e)];
  assert.equal(errors[0].kind, 'upstream_auth_failed');
  assert.equal(errors[0].upstreamStatus, 200);
  const kp = client();
  await kp.login();
  for (const kind of ['malformed', 'status_false', 'html502']) {
    await fault('create', kind);
    errors.push(await kp.createPayment(payer).catch((e) => e));
  }
  await fault('create', 'unauthorized', 2);
  errors.push(await kp.createPayment(payer).catch((e) => e));
  for (const e of errors) {
    assert.ok(e instanceof esm.KelantanPayError, String(e));
    const shown = [String(e), e.stack, JSON.stringify(e), JSON.stringify(Object.entries(e)), JSON.stringify(e.raw)].join('\n');
    for (const secret of [wrong, PASSWORD, ...sandbox.tokens()]) assert.ok(!shown.includes(secret), shown);
  }
});

test('the package README shows every export in a code example', async () => {
  const { readFileSync } = await import('node:fs');
  const readme = readFileSync(join(theProject(), 'node_modules/kelantanpay/README.md'), 'utf8');
  const code = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
  assert.deepEqual(Object.keys(cjs).sort(), ['KelantanPay', 'KelantanPayError', 'parseCallback', 'signWebhook', 'verifyWebhook']);
  for (const name of Object.keys(cjs)) assert.match(code, new RegExp(`\\b${name}\\b[.(]|new ${name}\\(|instanceof ${name}`), name);
});

test('an endless gateway answer is read only to the cap: upstream_error at once, the stream cancelled', async () => {
  await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'DELETE' }); // a test before may leave one queued
  const created = await client().createPayment(payer);
  let pulled = 0;
  let cancelled = false;
  const endless = async (request, init) => {
    if (!request.url.includes('kelantan-requery')) return fetch(request, init);
    // 16 KiB a millisecond for ever; the caller's timeout (its abort signal) ends it.
    const body = new ReadableStream({
      start(controller) {
        init?.signal?.addEventListener('abort', () => controller.error(new DOMException('aborted', 'AbortError')));
      },
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        pulled += 16384;
        controller.enqueue(new Uint8Array(16384).fill(32));
      },
      cancel() { cancelled = true; },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const started = Date.now();
  const error = await client({ fetch: endless }).requery(created.reference).catch((e) => e);
  assert.ok(error instanceof esm.KelantanPayError, String(error));
  assert.equal(error.kind, 'upstream_error', error.message);
  assert.match(error.message, /over 65536 bytes/);
  assert.ok(Date.now() - started < 2500, 'not a timeout');
  assert.ok(cancelled, 'the rest of the body is never read');
  assert.ok(pulled <= 65536 + 3 * 16384, `read ${pulled} bytes`);
});
