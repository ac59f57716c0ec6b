// POST /api/payments: pricing in both modes, every field rule, what reaches KelantanPay, and the
// limits on the request itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorker } from '../support/harness.mjs';
import { api, fileStack, stats, upstreamPayments, ORDER, PAYER } from './support.mjs';

const ctx = fileStack();

const invalid = async (body, field, headers) => {
  const r = await api(ctx()).create(body, headers);
  assert.equal(r.status, 400, `${field}: ${r.text}`);
  assert.equal(r.json.error.type, 'invalid_request');
  assert.equal(r.json.error.field, field, r.text);
  return r;
};

test('catalog mode: the Worker prices the order and sends KelantanPay the documented fields', async () => {
  const { stack } = ctx();
  const r = await api(ctx()).create({
    items: [{ sku: 'batik-scarf', quantity: 2 }, { sku: 'keropok-lekor', quantity: 1 }],
    ...PAYER, via: 'aPp', surprise: 'never sent upstream',
  });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.amount, '102.00');
  assert.equal(r.json.currency, 'MYR');
  assert.equal(r.json.status, 'pending');
  assert.match(r.json.reference, /^[A-Za-z0-9_-]{1,30}$/);
  assert.match(r.json.orderid, /^KPAY/);
  assert.match(r.json.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(r.json.checkout_url.startsWith(`${stack.sandbox.url}/kelantanpay/`));
  const [sent] = await upstreamPayments(stack);
  assert.equal(sent.reference, r.json.reference);
  assert.equal(sent.amount, 102);
  assert.equal(sent.mobile, '0123456789');
  assert.equal(sent.via, 'App');
  assert.equal(sent.provider, 'sandbox');
  assert.equal(sent.account, '000000');
  assert.equal(sent.country, 'MY');
  assert.match(sent.description, /batik/i);
  assert.equal(sent.surprise, undefined);
  const id = encodeURIComponent(r.json.id);
  assert.equal(sent.returnurl, `http://127.0.0.1:8787/?kp_payment=${id}`);
  assert.equal(sent.callbackurl, `${stack.worker.url}/api/callback?kp_payment=${id}`);
  assert.deepEqual(await stats(stack), { login: 1, create: 1, requery: 0, sendMessage: 0 });
});

test('a UTF-8 body reaches KelantanPay byte for byte (the body crosses the driver as one char per byte)', async () => {
  const name = 'Nur Ñadia 林美玲 😀';
  const description = 'Songket — tenunan Kelantan, 2×';
  const r = await api(ctx()).create({ ...ORDER, name, description });
  assert.equal(r.status, 201, r.text);
  const sent = (await upstreamPayments(ctx().stack)).find((p) => p.reference === r.json.reference);
  assert.deepEqual([sent.name, sent.description], [name, description]);
});

test('catalog mode refuses a client-sent amount, unknown SKUs and bad quantities', async () => {
  await invalid({ ...ORDER, amount: '1.00' }, 'amount');
  await invalid({ ...PAYER }, 'items');
  await invalid({ ...PAYER, items: [] }, 'items');
  await invalid({ ...PAYER, items: [{ sku: 'BATIK-SCARF', quantity: 1 }] }, 'items[0].sku');
  await invalid({ ...PAYER, items: [{ sku: 'batik-scarf', quantity: 1 }, { sku: 'batik-scarf', quantity: 100 }] }, 'items[1].quantity');
  await invalid({ ...PAYER, items: [{ sku: 'batik-scarf' }] }, 'items[0].quantity');
  await invalid({ ...PAYER, items: Array.from({ length: 51 }, () => ({ sku: 'batik-scarf', quantity: 1 })) }, 'items');
  assert.equal((await stats(ctx().stack)).create, 0);
});

test('every payer field rule names its field, and nothing is sent upstream', async () => {
  const cases = [
    [{ name: '' }, 'name'], [{ name: 'x'.repeat(101) }, 'name'], [{ name: 'A\u0007B' }, 'name'],
    [{ email: 'not-an-email' }, 'email'], [{ email: `${'a'.repeat(250)}@e.my` }, 'email'],
    [{ mobile: '12345' }, 'mobile'], [{ mobile: '+44 20 7946 0958' }, 'mobile'],
    [{ description: '' }, 'description'], [{ description: 'd'.repeat(256) }, 'description'],
    [{ via: 'Phone' }, 'via'], [{ ref_1: 'r'.repeat(101) }, 'ref_1'], [{ ref_3: 'a\nb' }, 'ref_3'],
    [{ return_url: 'https://evil.example/' }, 'return_url'], [{ return_url: 'javascript:alert(1)' }, 'return_url'],
    [{ name: 42 }, 'name'],
  ];
  for (const [change, field] of cases) await invalid({ ...ORDER, ...change }, field);
  for (const field of ['name', 'email', 'mobile']) {
    const body = { ...ORDER };
    delete body[field];
    await invalid(body, field);
  }
  assert.equal((await stats(ctx().stack)).create, 0);
});

test('an allowed return_url gets kp_payment added; defaults to KP_RETURN_URL', async () => {
  const { stack } = ctx();
  const r = await api(ctx()).create({ ...ORDER, return_url: 'http://localhost:8787/thanks?from=shop' });
  assert.equal(r.status, 201, r.text);
  const [sent] = await upstreamPayments(stack);
  assert.equal(sent.returnurl, `http://localhost:8787/thanks?from=shop&kp_payment=${encodeURIComponent(r.json.id)}`);
});

test('open mode: amount required, two decimals at most, within the bounds', async () => {
  const { stack } = ctx();
  const open = await startWorker({ sandboxUrl: stack.sandbox.url, secrets: stack.secrets, vars: { KP_CATALOG: undefined, KP_MIN_AMOUNT: '1.00', KP_MAX_AMOUNT: '500.00' } });
  const post = (body) => fetch(`${open.url}/api/payments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    .then(async (r) => ({ status: r.status, json: await r.json() }));
  try {
    for (const [amount, expected] of [['12.5', '12.50'], [7, '7.00'], ['500.00', '500.00'], [0.99 + 0.01, '1.00']]) {
      const r = await post({ ...PAYER, amount });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      assert.equal(r.json.amount, expected);
    }
    for (const amount of ['12.505', '0.99', '500.01', -5, 0, '1e2', 'abc', null, '']) {
      const r = await post({ ...PAYER, amount });
      assert.equal(r.status, 400, `amount ${JSON.stringify(amount)}`);
      assert.equal(r.json.error.field, 'amount');
    }
    const withItems = await post({ ...PAYER, amount: '5.00', items: [{ sku: 'batik-scarf', quantity: 1 }] });
    assert.equal(withItems.json.error.field, 'items');
    const sent = await upstreamPayments(stack);
    assert.equal(sent.length, 4);
    assert.equal(sent[0].amount, 12.5);
    assert.equal(sent[0].description, 'Payment');
  } finally {
    await open.stop();
  }
});

test('malformed JSON is 400, a non-JSON body 415, over 16 KiB 413', async () => {
  const client = api(ctx());
  const malformed = await client.create('{"items": [');
  assert.equal(malformed.status, 400);
  assert.equal(malformed.json.error.type, 'invalid_request');
  for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded']) {
    const r = await client.raw('/api/payments', { method: 'POST', headers: type ? { 'content-type': type } : {}, body: JSON.stringify(ORDER) });
    assert.equal(r.status, 415, String(type));
    assert.equal(r.json.error.type, 'unsupported_media_type');
  }
  const huge = await client.create({ ...ORDER, padding: 'x'.repeat(17 * 1024) });
  assert.equal(huge.status, 413);
  assert.equal(huge.json.error.type, 'payload_too_large');
  const array = await client.create('[1,2]');
  assert.equal(array.status, 400);
  assert.equal((await stats(ctx().stack)).create, 0);
});
