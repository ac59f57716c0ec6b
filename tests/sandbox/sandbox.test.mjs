// The sandbox must behave like KelantanPay as documented, quirks included, or every suite that
// runs against it proves nothing.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '../../sandbox/server.mjs';

const dataFile = join(mkdtempSync(join(tmpdir(), 'kp-sandbox-')), 'state.json');
const logLines = [];
let sandbox;
const post = (path, body) =>
  fetch(sandbox.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    .then(async (r) => ({ status: r.status, body: await r.json(), headers: r.headers }));
const get = (path) => fetch(sandbox.url + path).then(async (r) => ({ status: r.status, body: await r.json() }));
const login = async () => (await post('/api/loginApi', { username: 'merchant-a', password: 'pw-Secret-1' })).body.token;
const payment = (token, extra = {}) => ({
  token, via: 'Web', amount: 12.5, name: 'Siti', email: 'siti@example.my', mobile: '0123456789',
  description: 'Batik', country: 'MY', account: '000000', provider: 'sandbox', ...extra,
});

before(async () => {
  sandbox = await startSandbox({ username: 'merchant-a', password: 'pw-Secret-1', dataFile, log: (l) => logLines.push(l) });
});
after(() => sandbox.stop());
beforeEach(() => post('/__sandbox/reset', {}));

test('login: a JWT with exp; wrong password is status "false" with code as a string', async () => {
  const ok = await post('/api/loginApi', { username: 'merchant-a', password: 'pw-Secret-1' });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.status, 'true');
  assert.match(ok.body.token, /^eyJ0eXAiOiJKV1Qi[\w-]*\.[\w-]+\.[\w-]+$/);
  const claims = JSON.parse(Buffer.from(ok.body.token.split('.')[1], 'base64url'));
  assert.ok(claims.exp - claims.iat === 3600);
  const bad = await post('/api/loginApi', { username: 'merchant-a', password: 'nope' });
  assert.deepEqual([bad.status, bad.body.status, bad.body.code], [200, 'false', '401']);
  const missing = await post('/api/loginApi', { username: 'merchant-a' });
  assert.equal(missing.body.status, 'false');
  assert.match(missing.body.description, /password/);
});

test('create: documented success shape, token in the body, validation as status "false"', async () => {
  const token = await login();
  const ok = await post('/api/payment-generator', payment(token, { userid: 'REF-1', returnurl: 'http://shop/r' }));
  assert.equal(ok.body.status, 'true');
  assert.equal(ok.body.reference, 'REF-1');
  assert.match(ok.body.orderid, /^KPAY\d{14}$/);
  assert.match(ok.body.token, /^[a-z0-9]{30}$/);
  assert.equal(ok.body.url, `${sandbox.url}/kelantanpay/REF-1/${ok.body.token}`);
  assert.equal(ok.body.amount, 12.5);

  const noToken = await post('/api/payment-generator', payment('eyJ.forged.token', { userid: 'REF-2' }));
  assert.equal(noToken.status, 401);
  const badEmail = await post('/api/payment-generator', payment(token, { userid: 'REF-3', email: '' }));
  assert.deepEqual([badEmail.status, badEmail.body.status], [200, 'false']);
  assert.match(badEmail.body.description, /email/);
  const dup = await post('/api/payment-generator', payment(token, { userid: 'REF-1' }));
  assert.equal(dup.body.description, 'Duplicate reference');
  const stringAmount = await post('/api/payment-generator', payment(token, { userid: 'REF-4', amount: '7.10' }));
  assert.equal(stringAmount.body.status, 'true');
  assert.equal((await get('/__sandbox/payments')).body.length, 2);
});

test('expired tokens are refused with HTTP 401', async () => {
  await post('/__sandbox/config', { tokenTtlSeconds: 1 });
  const token = await login();
  await new Promise((r) => setTimeout(r, 2100));
  const late = await post('/api/payment-generator', payment(token, { userid: 'LATE' }));
  assert.equal(late.status, 401);
  await post('/__sandbox/config', { tokenTtlSeconds: 3600 });
});

test('requery: early 22, then 11, then 00 after Pay; unknown is "Record not found"', async () => {
  await post('/__sandbox/config', { early22Seconds: 1 });
  const token = await login();
  await post('/api/payment-generator', payment(token, { userid: 'Q 1/ä' }));
  const path = `/api/kelantan-requery/merchant-a/${encodeURIComponent('Q 1/ä')}`;
  assert.equal((await get(path)).body.status, '22');
  await new Promise((r) => setTimeout(r, 1100));
  const pending = (await get(path)).body;
  assert.equal(pending.status, '11');
  assert.equal(pending.amount, '12.50');
  await post('/__sandbox/settle', { reference: 'Q 1/ä', outcome: 'paid' });
  assert.equal((await get(path)).body.status, '00');
  assert.equal((await get('/api/kelantan-requery/merchant-a/nope')).body.description, 'Record not found');
  assert.equal((await get(`/api/kelantan-requery/someone-else/${encodeURIComponent('Q 1/ä')}`)).body.status, 'false');
  await post('/__sandbox/config', { early22Seconds: 3 });
});

test('checkout page: Pay posts a form callback and 303s to returnurl; Fail stays 22', async () => {
  const received = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { received.push({ type: req.headers['content-type'], body }); res.end('RECEIVEOK'); });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const callbackurl = `http://127.0.0.1:${receiver.address().port}/cb`;
  try {
    const token = await login();
    const made = (await post('/api/payment-generator', payment(token, { userid: 'PAY-1', callbackurl, returnurl: 'http://shop.test/back' }))).body;
    const page = await fetch(made.url);
    const html = await page.text();
    assert.match(html, /KelantanPay Sandbox/);
    assert.match(html, /RM 12\.50/);
    assert.match(html, /id="pay"/);
    assert.match(html, /id="fail"/);
    const paid = await fetch(`${made.url}/pay`, { method: 'POST', redirect: 'manual' });
    assert.equal(paid.status, 303);
    assert.equal(paid.headers.get('location'), 'http://shop.test/back');
    assert.equal(received.length, 1);
    assert.equal(received[0].type, 'application/x-www-form-urlencoded');
    const form = new URLSearchParams(received[0].body);
    assert.deepEqual([form.get('status'), form.get('reference'), form.get('amount')], ['00', 'PAY-1', '12.50']);
    // Settling twice changes nothing and sends nothing more.
    await fetch(`${made.url}/fail`, { method: 'POST', redirect: 'manual' });
    assert.equal(received.length, 1);

    const other = (await post('/api/payment-generator', payment(token, { userid: 'FAIL-1', callbackurl }))).body;
    await fetch(`${other.url}/fail`, { method: 'POST', redirect: 'manual' });
    assert.equal(new URLSearchParams(received[1].body).get('status'), '22');
    assert.equal((await get('/api/kelantan-requery/merchant-a/FAIL-1')).body.status, '22');
    assert.equal((await fetch(`${sandbox.url}/kelantanpay/PAY-1/wrongsession`)).status, 404);
  } finally {
    receiver.close();
  }
});

test('a callback target that is down does not break settling', async () => {
  const token = await login();
  await post('/api/payment-generator', payment(token, { userid: 'DOWN-1', callbackurl: 'http://127.0.0.1:9/cb' }));
  const settled = await post('/__sandbox/settle', { reference: 'DOWN-1', outcome: 'paid' });
  assert.equal(settled.body.status, '00');
  assert.equal(settled.body.callback.delivered, false);
});

test('faults: each kind, consumed one request at a time, counted in stats; a faulted create stores nothing', async () => {
  const token = await login();
  const cases = [
    ['http500', (r) => assert.equal(r.status, 500)],
    ['html502', async (r) => { assert.equal(r.status, 502); assert.match(r.headers.get('content-type'), /html/); }],
    ['malformed', async (r) => { assert.equal(r.status, 200); await assert.rejects(r.clone().json()); }],
    ['unauthorized', (r) => assert.equal(r.status, 401)],
    ['status_false', async (r) => assert.equal((await r.json()).status, 'false')],
    ['oversized', async (r) => {
      assert.equal(r.headers.get('content-length'), null);
      const answer = await r.json();
      assert.deepEqual([answer.status, answer.reference, answer.orderid], ['true', 'F-oversized', 'KPAYOVERSIZED']);
      assert.ok(answer.pad.length >= 1024 * 1024);
    }],
  ];
  for (const [fault, check] of cases) {
    await post('/__sandbox/faults', { call: 'create', fault, times: 1 });
    const r = await fetch(`${sandbox.url}/api/payment-generator`, { method: 'POST', body: JSON.stringify(payment(token, { userid: `F-${fault}` })) });
    await check(r);
  }
  assert.equal((await get('/__sandbox/payments')).body.length, 0);
  assert.equal((await post('/api/payment-generator', payment(token, { userid: 'AFTER' }))).body.status, 'true');

  await post('/__sandbox/faults', { call: 'requery', fault: 'hang', times: 1 });
  await assert.rejects(fetch(`${sandbox.url}/api/kelantan-requery/merchant-a/AFTER`, { signal: AbortSignal.timeout(300) }));
  await post('/__sandbox/faults', { call: 'login', fault: 'unauthorized', times: 2 });
  await post('/__sandbox/faults', { call: 'login', fault: 'http500', times: 1 });
  const deleted = await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'DELETE' }).then((r) => r.json());
  assert.deepEqual(deleted.queued.login, []);
  const stats = (await get('/__sandbox/stats')).body;
  assert.deepEqual(stats, { login: 1, create: 7, requery: 1, sendMessage: 0 });
  assert.equal((await post('/__sandbox/faults', { call: 'nope', fault: 'hang' })).status, 400);
});

test('state survives a restart: payments and old tokens', async () => {
  const token = await login();
  await post('/api/payment-generator', payment(token, { userid: 'KEEP-1' }));
  await sandbox.stop();
  sandbox = await startSandbox({ username: 'merchant-a', password: 'pw-Secret-1', dataFile, log: (l) => logLines.push(l) });
  assert.equal((await get('/api/kelantan-requery/merchant-a/KEEP-1')).body.ref_no, 'KEEP-1');
  assert.equal((await post('/api/payment-generator', payment(token, { userid: 'KEEP-2' }))).body.status, 'true');
});

test('log lines never carry the password or a token', async () => {
  const token = await login();
  await post('/api/payment-generator', payment(token, { userid: 'LOG-1' }));
  assert.ok(logLines.length > 5);
  for (const line of logLines) {
    assert.ok(!line.includes('pw-Secret-1'), line);
    assert.ok(!line.includes(token.split('.')[2]), line);
  }
});
