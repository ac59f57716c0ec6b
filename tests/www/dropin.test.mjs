// The drop-in client's own logic in Node, with fetch, sessionStorage and timers faked: the
// Idempotency-Key per attempt, local checks before any request, error messages in both
// languages, the status polling schedule, its size budget and its type declarations.
import { test, mock, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const FILE = new URL('../../www/kelantanpay.js', import.meta.url);

class MemoryStorage {
  #items = new Map();
  getItem(key) { return this.#items.has(key) ? this.#items.get(key) : null; }
  setItem(key, value) { this.#items.set(key, String(value)); }
  removeItem(key) { this.#items.delete(key); }
}
globalThis.sessionStorage = new MemoryStorage();
const kp = await import(FILE);

const ORDER = { amount: '12.50', name: 'Siti Aminah', email: 'siti@example.my', mobile: '012-345 6789' };
const CREATED = { id: 'h1', reference: 'R1', orderid: 'KPAY1', checkout_url: 'https://pay.example/x', amount: '12.50', status: 'pending' };

/** Answers each request with `answer(request)` ({ status, body, headers }) and records it. */
function fakeFetch(answer) {
  const calls = [];
  globalThis.fetch = async (url, init = {}) => {
    const request = { path: new URL(url, 'http://x').pathname, method: init.method ?? 'GET', headers: init.headers ?? {}, body: init.body };
    calls.push(request);
    const { status = 200, body = {}, headers = {} } = await answer(request, calls.length);
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
  };
  return calls;
}

beforeEach(() => {
  globalThis.sessionStorage = new MemoryStorage();
  kp.setLanguage('en');
});

test('the same order gets the same Idempotency-Key, also for two calls at once (a double click)', async () => {
  let release;
  const gate = new Promise((resolve) => { release = resolve; });
  const calls = fakeFetch(async () => { await gate; return { status: 201, body: CREATED }; });
  const first = kp.createPayment(ORDER);
  const second = kp.createPayment({ ...ORDER });
  release();
  assert.deepEqual(await first, CREATED);
  assert.equal(await second, await first);
  assert.equal(calls.length, 1, 'two clicks, one request');
  await kp.createPayment(ORDER); // Back on the shop, Pay again: same key, the Worker answers the same 201
  assert.equal(calls.length, 2);
  assert.equal(calls[1].headers['Idempotency-Key'], calls[0].headers['Idempotency-Key']);
  await kp.createPayment({ ...ORDER, amount: '13.00' });
  assert.notEqual(calls[2].headers['Idempotency-Key'], calls[0].headers['Idempotency-Key'], 'a changed order is a new attempt');
  assert.deepEqual(JSON.parse(calls[0].body), ORDER);
  assert.equal(calls[0].headers['Content-Type'], 'application/json');
});

test('a final status ends the attempt: the same order afterwards is a new payment', async () => {
  const calls = fakeFetch(({ method }) => (method === 'POST'
    ? { status: 201, body: CREATED }
    : { body: { id: 'h1', reference: 'R1', status: 'paid', code: '00', checked_at: '2026-12-01T00:00:00Z' } }));
  await kp.createPayment(ORDER);
  const paid = await kp.watchStatus('h1');
  assert.equal(paid.status, 'paid');
  assert.equal(paid.amount, '12.50', 'the amount this tab created is added to the status');
  await kp.createPayment(ORDER);
  const keys = calls.filter((c) => c.method === 'POST').map((c) => c.headers['Idempotency-Key']);
  assert.notEqual(keys[0], keys[1]);
});

test('a request waits longer than the Worker\'s 30 s for a running original, so its answer is not lost', async () => {
  const waits = [];
  const timeout = AbortSignal.timeout;
  AbortSignal.timeout = (ms) => { waits.push(ms); return timeout.call(AbortSignal, ms); };
  try {
    fakeFetch(() => ({ status: 201, body: CREATED }));
    await kp.createPayment({ ...ORDER, name: 'Wait' });
    assert.ok(waits.length === 1 && waits[0] > 30_000, `gives up after ${waits} ms`);
  } finally {
    AbortSignal.timeout = timeout;
  }
});

test('a key older than the Worker keeps it (24 h) is not reused: the same cart a day later is a new attempt', async () => {
  mock.timers.enable({ apis: ['Date'], now: Date.parse('2026-12-01T08:00:00Z') });
  try {
    const calls = fakeFetch(() => ({ status: 201, body: CREATED }));
    await kp.createPayment(ORDER);
    mock.timers.setTime(Date.parse('2026-12-01T20:00:00Z'));
    await kp.createPayment(ORDER);
    mock.timers.setTime(Date.parse('2026-12-02T08:00:01Z'));
    await kp.createPayment(ORDER);
    const [first, sameDay, nextDay] = calls.map((c) => c.headers['Idempotency-Key']);
    assert.equal(sameDay, first, 'within the day: the same attempt');
    assert.notEqual(nextDay, first, 'after 24 h the Worker has forgotten the key: a new one');
  } finally {
    mock.timers.reset();
  }
});

test('a field the rules refuse rejects with its field and code, before any request', async () => {
  const calls = fakeFetch(() => ({ status: 201, body: CREATED }));
  await assert.rejects(kp.createPayment({ ...ORDER, email: 'siti@example' }), (error) => {
    assert.ok(error instanceof kp.KelantanPayError);
    assert.deepEqual([error.kind, error.field, error.code, error.status], ['invalid_request', 'email', 'invalid', 0]);
    assert.match(error.message, /valid email address/);
    assert.match(error.messageIn('ms'), /alamat e-mel yang sah/);
    return true;
  });
  await assert.rejects(kp.createPayment({ ...ORDER, amount: '99999' }, { config: { mode: 'open', min_amount: '1.00', max_amount: '30000.00' } }),
    (error) => error.code === 'bounds' && error.message === 'The amount must be between RM 1.00 and RM 30,000.00.');
  assert.equal(calls.length, 0);
});

test('the Worker\'s errors keep its field, type (as kind) and request id, and read in both languages', async () => {
  fakeFetch(() => ({ status: 400, body: { error: { type: 'invalid_request', field: 'mobile', message: 'mobile must be a Malaysian mobile number such as 012-345 6789', request_id: 'r1' } } }));
  const error = await kp.createPayment(ORDER).catch((e) => e);
  assert.deepEqual([error.status, error.kind, error.field, error.requestId, error.code], [400, 'invalid_request', 'mobile', 'r1', undefined]);
  assert.equal(error.message, 'Mobile must be a Malaysian mobile number such as 012-345 6789.');
  kp.setLanguage('ms-MY');
  assert.equal(error.message, 'Semak Nombor telefon bimbit.');

  fakeFetch(() => ({ status: 429, body: { error: { type: 'rate_limited', message: 'slow down' } }, headers: { 'Retry-After': '42' } }));
  const limited = await kp.createPayment({ ...ORDER, name: 'Aminah' }).catch((e) => e);
  assert.equal(limited.retryAfter, 42);
  assert.equal(limited.messageIn('ms'), 'Terlalu banyak percubaan. Sila tunggu 42 saat dan cuba lagi.');
  assert.equal(limited.messageIn('en'), 'Too many attempts. Please wait 42 seconds and try again.');

  for (const [kind, en, ms] of [
    ['upstream_timeout', /took too long/, /terlalu lama/],
    ['upstream_error', /could not handle this/, /tidak dapat memprosesnya/],
    ['upstream_auth_failed', /not ready/, /belum bersedia/],
    ['origin_not_allowed', /may not use/, /tidak dibenarkan/],
  ]) {
    const e = new kp.KelantanPayError({ kind, status: 502 });
    assert.match(e.messageIn('en'), en, kind);
    assert.match(e.messageIn('ms'), ms, kind);
  }
  globalThis.fetch = async () => { throw new TypeError('fetch failed'); };
  const offline = await kp.createPayment({ ...ORDER, name: 'Nur' }).catch((e) => e);
  assert.equal(offline.kind, 'network_error');
  assert.match(offline.messageIn('ms'), /tidak dapat dihubungi/);
});

test('watchStatus backs off gently (1 s growing to 8 s), reports changes only, and stops at a final status', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const answers = ['pending', 'pending', 'pending', 'pending', 'pending', 'pending', 'pending', 'pending', 'failed'];
    const calls = fakeFetch((_, n) => ({ body: { id: 'h', reference: 'R', status: answers[n - 1], code: n === 9 ? '22' : '11' } }));
    const changes = [];
    const done = kp.watchStatus('h', { onChange: (p) => changes.push(p.status) });
    const delays = [];
    for (let i = 1; i < answers.length; i += 1) {
      while (calls.length < i) await new Promise(setImmediate);
      await new Promise(setImmediate);
      const before = Date.now();
      // step to the next request, recording the delay that was waited
      let waited = 0;
      while (calls.length === i) {
        mock.timers.tick(250);
        waited += 250;
        await new Promise(setImmediate);
      }
      delays.push(Date.now() - before === waited ? waited : NaN);
    }
    const final = await done;
    assert.equal(final.status, 'failed');
    assert.deepEqual(changes, ['pending', 'failed']);
    assert.deepEqual(delays, [1000, 1500, 2250, 3500, 5250, 7750, 8000, 8000].map((d) => Math.ceil(d / 250) * 250));
  } finally {
    mock.timers.reset();
  }
});

test('watchStatus rejects on an id that never verifies, and a 429 waits for Retry-After', async () => {
  fakeFetch(() => ({ status: 404, body: { error: { type: 'not_found', message: 'no such payment' } } }));
  await assert.rejects(kp.watchStatus('forged'), (e) => e.status === 404 && e.messageIn('ms') === 'Pembayaran ini tidak dapat ditemui.');
  await assert.rejects(kp.watchStatus(null), (e) => e.kind === 'not_found');

  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    const calls = fakeFetch((_, n) => (n === 1
      ? { status: 429, body: { error: { type: 'rate_limited', message: 'x' } }, headers: { 'Retry-After': '20' } }
      : { body: { id: 'h', status: 'paid', code: '00' } }));
    const errors = [];
    const done = kp.watchStatus('h', { onError: (e) => errors.push(e.kind) });
    while (errors.length < 1) await new Promise(setImmediate);
    await new Promise(setImmediate);
    for (let t = 0; t < 19_000; t += 1000) {
      mock.timers.tick(1000);
      await new Promise(setImmediate);
    }
    assert.equal(calls.length, 1, 'no request before Retry-After has passed');
    for (let t = 0; t < 5000 && calls.length === 1; t += 250) {
      mock.timers.tick(250);
      await new Promise(setImmediate);
    }
    assert.equal((await done).status, 'paid');
    assert.deepEqual(errors, ['rate_limited']);
  } finally {
    mock.timers.reset();
  }
});

test('an aborted watch rejects with the abort reason and asks nothing more', async () => {
  const controller = new AbortController();
  const calls = fakeFetch(() => { controller.abort(); return { body: { status: 'pending' } }; });
  await assert.rejects(kp.watchStatus('h', { signal: controller.signal }), { name: 'AbortError' });
  assert.equal(calls.length, 1);
});

test('amounts read "RM 1,234.50" whatever the language; parsing never guesses', () => {
  for (const [value, text] of [[123450, 'RM 1,234.50'], ['1234.5', 'RM 1,234.50'], [5, 'RM 0.05'], ['30000.00', 'RM 30,000.00'], [100000000000, 'RM 1,000,000,000.00'], ['12', 'RM 12.00']]) {
    assert.equal(kp.formatRinggit(value), text, String(value));
  }
  kp.setLanguage('ms');
  assert.equal(kp.formatRinggit(123450), 'RM 1,234.50');
  assert.equal(kp.formatRinggit('abc'), 'abc');
  assert.equal(kp.toSen('0.1'), 10);
  assert.equal(kp.toSen(' 1'), null);
  assert.equal(kp.toSen('1.005'), null);
  assert.equal(kp.statusLabel('paid'), 'Dibayar');
  assert.equal(kp.statusLabel('paid', 'en'), 'Paid');
  assert.equal(kp.pickLanguage('ms-MY'), 'ms');
  assert.equal(kp.pickLanguage('en-GB'), 'en');
  assert.equal(kp.pickLanguage('id'), 'en');
});

test('the error says kind, as the npm package\'s does; type stays a deprecated alias of it', async () => {
  fakeFetch(() => ({ status: 502, body: { error: { type: 'upstream_error', message: 'busy' } } }));
  const error = await kp.createPayment({ ...ORDER, name: 'Alias' }).catch((e) => e);
  assert.equal(error.kind, 'upstream_error');
  assert.equal(error.type, 'upstream_error', 'storefronts written against type keep working');
  assert.ok(!Object.keys(error).includes('type'), 'one field, not two that can disagree');
  const old = new kp.KelantanPayError({ type: 'rate_limited', retryAfter: 5 });
  assert.equal(old.kind, 'rate_limited');
  assert.match(old.messageIn('en'), /wait 5 seconds/);
});

test('redirectToCheckout goes only to the gateway origin the Worker answered with, over https', async () => {
  const visited = [];
  globalThis.location = { assign: (url) => visited.push(url) };
  // a fresh copy of the script: nothing answered yet in this "tab"
  const fresh = await import(`${FILE.href}?fresh`);
  const refused = (payment, options, what) => assert.throws(() => fresh.redirectToCheckout(payment, options),
    (e) => e instanceof fresh.KelantanPayError && e.kind === 'other', what);
  try {
    refused(CREATED, undefined, 'no Worker answer yet, no checkoutOrigin: no origin to trust');
    fakeFetch(() => ({ status: 201, body: CREATED }));
    const payment = await fresh.createPayment({ ...ORDER, name: 'Origin' });
    fresh.redirectToCheckout(payment);
    fresh.redirectToCheckout(payment); // a double click: both awaits resolve to this object
    fresh.redirectToCheckout({ checkout_url: 'https://pay.example/other?x=1' });
    for (const checkout_url of [
      'https://evil.example/x', 'https://pay.example.evil.com/x', 'https://pay.exampl/x', 'http://pay.example/x',
      'https://pay.example:8443/x', 'https://evil.example/https://pay.example/x', 'javascript:alert(1)',
      'data:text/html,x', '//pay.example/x', '', undefined,
    ]) {
      refused({ checkout_url }, undefined, String(checkout_url));
    }
    // A payment created elsewhere (a backend) names its gateway's origin.
    const local = { checkout_url: 'http://127.0.0.1:8788/kelantanpay/x' };
    refused(local, undefined, 'the Worker answered another origin');
    fresh.redirectToCheckout(local, { checkoutOrigin: 'http://127.0.0.1:8788' });
    fresh.redirectToCheckout({ checkout_url: 'http://localhost:8788/k' }, { checkoutOrigin: 'http://localhost:8788' });
    fresh.redirectToCheckout({ checkout_url: 'http://[::1]:8788/k' }, { checkoutOrigin: 'http://[::1]:8788' });
    for (const [checkout_url, checkoutOrigin] of [
      ['http://pay.example/x', 'http://pay.example'],
      ['http://127.0.0.1.evil.com/x', 'http://127.0.0.1.evil.com'],
      ['http://localhost.evil.com/x', 'http://localhost.evil.com'],
      ['http://10.0.0.1/x', 'http://10.0.0.1'],
      ['https://pay.example/x', 'https://pay.example/'],
      ['javascript:alert(1)', 'null'],
    ]) {
      refused({ checkout_url }, { checkoutOrigin }, `${checkout_url} with ${checkoutOrigin}`);
    }
    assert.deepEqual(visited, ['https://pay.example/x', 'https://pay.example/other?x=1', 'http://127.0.0.1:8788/kelantanpay/x',
      'http://localhost:8788/k', 'http://[::1]:8788/k']);
  } finally {
    delete globalThis.location;
  }
});

test('the script stays within 5 KB gzip and its .d.ts declares exactly what it exports', () => {
  const source = readFileSync(FILE);
  const gzip = gzipSync(source, { level: 9 }).length;
  assert.ok(gzip <= 5 * 1024, `kelantanpay.js is ${gzip} bytes gzip`);
  const declared = readFileSync(new URL('../../www/kelantanpay.d.ts', import.meta.url), 'utf8');
  const names = (text, pattern) => [...text.matchAll(pattern)].map((m) => m[1]).sort();
  const exported = Object.keys(kp).sort();
  assert.deepEqual(names(declared, /^export (?:declare )?(?:function|class|const) (\w+)/gm).filter((n, i, a) => a.indexOf(n) === i), exported);
});
