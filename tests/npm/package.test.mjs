// The BUILT npm package (pkg/, from scripts/build-npm.sh) as a merchant's Node backend uses it,
// against the sandbox: the whole payment, errors, secrets, and its type declarations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { startSandbox } from '../../sandbox/server.mjs';

const require = createRequire(import.meta.url);
const PKG = new URL('../../pkg/', import.meta.url);
const cjs = require('../../pkg/node/index.cjs');
const esm = await import('../../pkg/node/index.mjs');
const PASSWORD = 'pw-Npm-Secret-7';
let sandbox;
let kp;

const settle = (reference, outcome) =>
  fetch(`${sandbox.url}/__sandbox/settle`, { method: 'POST', body: JSON.stringify({ reference, outcome }) });

before(async () => {
  sandbox = await startSandbox({ username: 'npm-merchant', password: PASSWORD, early22Seconds: 1 });
  kp = new cjs.KelantanPay({ username: 'npm-merchant', password: PASSWORD, provider: 'sandbox', account: '000000', baseUrl: sandbox.url, timeoutMs: 3000 });
});
after(() => sandbox.stop());

test('login -> create -> requery -> pay on the sandbox -> paid', async () => {
  await kp.login();
  const created = await kp.createPayment({
    amount: 45, name: 'Siti Aminah', email: 'siti@example.my', mobile: '+60 12-345 6789', description: 'Batik scarf', via: 'app',
  });
  assert.equal(created.amount, '45.00');
  assert.match(created.reference, /^[A-Z0-9]{1,30}$/);
  assert.ok(created.checkoutUrl.startsWith(`${sandbox.url}/kelantanpay/${created.reference}/`));
  assert.match(created.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const stored = (await fetch(`${sandbox.url}/__sandbox/payments`).then((r) => r.json()))[0];
  assert.deepEqual([stored.mobile, stored.via, stored.amount], ['0123456789', 'App', 45]);

  // Inside the early window a 22 is not a failure for a payment this client created.
  const early = await kp.requery(created.reference);
  assert.deepEqual([early.code, early.status], ['22', 'pending']);

  const waiting = kp.waitForFinalStatus(created.reference, { timeoutMs: 15000 });
  await new Promise((r) => setTimeout(r, 300));
  await settle(created.reference, 'paid');
  const final = await waiting;
  assert.deepEqual([final.status, final.code, final.amount], ['paid', '00', '45.00']);
  assert.equal(final.raw.ref_no, created.reference);
});

test('waitForFinalStatus answers pending at its timeout, and failed once failed', async () => {
  const created = await kp.createPayment({ amount: '3.10', name: 'Ali', email: 'ali@example.my', mobile: '0198765432', reference: 'NPM-WAIT-1' });
  assert.equal(created.reference, 'NPM-WAIT-1');
  const pending = await kp.waitForFinalStatus('NPM-WAIT-1', { timeoutMs: 1500 });
  assert.equal(pending.status, 'pending');
  await settle('NPM-WAIT-1', 'failed');
  const failed = await kp.checkStatus('NPM-WAIT-1', { createdAt: Date.now() - 120_000 });
  assert.equal(failed.status, 'failed');
});

test('errors are KelantanPayError with kind, field and status, in both module systems', async () => {
  assert.equal(cjs.KelantanPayError, esm.KelantanPayError);
  const err = await kp.createPayment({ amount: '10.999', name: 'A', email: 'a@b.my', mobile: '0123456789' }).catch((e) => e);
  assert.ok(err instanceof esm.KelantanPayError);
  assert.ok(err instanceof Error);
  assert.deepEqual([err.name, err.kind, err.field, err.status], ['KelantanPayError', 'invalid_request', 'amount', 400]);
  assert.throws(() => new esm.KelantanPay({ username: 'x', password: 'y', provider: 'p' }), (e) => e.field === 'account');
  await assert.rejects(kp.requery('has spaces'), (e) => e.kind === 'invalid_request' && e.field === 'reference');

  await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'POST', body: JSON.stringify({ call: 'create', fault: 'html502' }) });
  const upstream = await kp.createPayment({ amount: 5, name: 'A', email: 'a@b.my', mobile: '0123456789' }).catch((e) => e);
  assert.deepEqual([upstream.kind, upstream.status, upstream.upstreamStatus], ['upstream_error', 502, 502]);
});

test('neither the password nor a login token appears in any error', async () => {
  const wrong = 'pw-Wrong-Secret-9';
  const client = new cjs.KelantanPay({ username: 'npm-merchant', password: wrong, provider: 'p', account: 'a', baseUrl: sandbox.url });
  const err = await client.login().catch((e) => e);
  assert.equal(err.kind, 'upstream_auth_failed');
  const tokens = sandbox.tokens();
  assert.ok(tokens.length > 0);
  const errors = [err];
  await fetch(`${sandbox.url}/__sandbox/faults`, { method: 'POST', body: JSON.stringify({ call: 'create', fault: 'malformed' }) });
  errors.push(await kp.createPayment({ amount: 5, name: 'A', email: 'a@b.my', mobile: '0123456789' }).catch((e) => e));
  for (const e of errors) {
    const shown = [String(e), e.stack, JSON.stringify(e), JSON.stringify(Object.entries(e))].join('\n');
    for (const secret of [wrong, PASSWORD, ...tokens]) assert.ok(!shown.includes(secret), shown);
  }
});

test('the type declarations name the real shapes, with no any', () => {
  const dts = readFileSync(new URL('node/kelantanpay.d.ts', PKG), 'utf8');
  for (const name of ['KelantanPayOptions', 'CreatePaymentParams', 'CreatedPayment', 'PaymentStatusResult', 'class KelantanPayError', 'class KelantanPay']) {
    assert.ok(dts.includes(name), name);
  }
  assert.match(dts, /createPayment\(params: CreatePaymentParams\): Promise<CreatedPayment>/);
  assert.match(dts, /waitForFinalStatus\(reference: string, options\?: WaitOptions\): Promise<PaymentStatusResult>/);
  assert.doesNotMatch(dts, /:\s*any\b/);
  const manifest = JSON.parse(readFileSync(new URL('package.json', PKG), 'utf8'));
  assert.equal(manifest.name, 'kelantanpay');
  assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
  assert.equal(manifest.exports['.'].node.require, './node/index.cjs');
});
