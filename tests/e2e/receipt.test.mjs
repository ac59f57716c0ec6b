// Contract v3, "Receipts": GET /receipt/{id} in workerd against the sandbox. A paid payment's
// printable page (BM and EN: shop name, amount, items, reference, order id, paid time; no buyer
// contact; every text escaped; its headers), 404 for a pending payment and a bad or forged id.
// The drop-in's link to it: tests/browser/receipt.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, eventually, fileStack, sandboxConfig, settle, PAYER } from './support.mjs';

const HOSTILE = '<img src=x onerror=alert(1)>';
const CATALOG = JSON.stringify([
  { sku: 'kuih-lapis', name: `Kuih lapis ${HOSTILE}`, amount: '12.50' },
  { sku: 'batik-scarf', name: 'Kelantan batik scarf', amount: '20.00' },
]);
const ctx = fileStack({ vars: { KP_CATALOG: CATALOG, KP_SHOP_NAME: `Kedai Siti ${HOSTILE}` } });
const ORDER = { items: [{ sku: 'kuih-lapis', quantity: 2 }, { sku: 'batik-scarf', quantity: 1 }], ...PAYER };
const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const receiptOf = (client, id, init = {}) => client.raw(`/receipt/${encodeURIComponent(id)}`, init);

async function paid(stack, client) {
  await sandboxConfig(stack, { callbacks: false, early22Seconds: 0 });
  const made = await client.create(ORDER);
  assert.equal(made.status, 201, made.text);
  await settle(stack, made.json.reference, 'paid');
  await eventually(async () => (await client.get(`/api/payments/${encodeURIComponent(made.json.id)}`)).json?.status === 'paid', 15_000, 'the payment confirmed paid');
  return made.json;
}

test('a paid payment has a printable receipt: amount, items, reference, order id, paid time, escaped, no contact', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  const made = await paid(stack, client);
  const r = await receiptOf(client, made.id);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(r.headers.get('content-security-policy'), CSP);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(r.headers.get('x-robots-tag'), 'noindex');
  assert.equal(r.headers.get('access-control-allow-origin'), null);
  const html = r.text;
  assert.match(html, /^<!doctype html><html lang="ms">/);
  assert.ok(html.includes('<strong>RM 45.00</strong>'), html);
  assert.ok(html.includes('<td>Kuih lapis &lt;img src=x onerror=alert(1)&gt;</td><td>2</td><td>RM 25.00</td>'), html);
  assert.ok(html.includes('<td>Kelantan batik scarf</td><td>1</td><td>RM 20.00</td>'), html);
  assert.ok(html.includes(`<h1>Kedai Siti &lt;img src=x onerror=alert(1)&gt;</h1>`), html);
  assert.ok(!html.includes('<img'), 'nothing of the settings or the catalog is markup');
  assert.ok(html.includes(`<dd>${made.reference}</dd>`) && html.includes(`<dd>${made.orderid}</dd>`), html);
  assert.match(html, /<dd>\d{4}-\d\d-\d\d \d\d:\d\d \(MYT\)<\/dd>/);
  assert.ok(html.includes('Rujukan <span lang="en">Reference</span>'));
  for (const contact of [PAYER.name, PAYER.email, '0123456789', '12-345 6789', 'siti@']) {
    assert.ok(!html.includes(contact), `${contact} on the receipt`);
  }
  // HEAD: the same headers, no body.
  const head = await receiptOf(client, made.id, { method: 'HEAD' });
  assert.deepEqual([head.status, head.text, head.headers.get('content-security-policy')], [200, '', CSP]);
  // Its style and script are the storefront's static files.
  for (const file of ['/receipt.css', '/receipt.js']) assert.equal((await client.get(file)).status, 200, file);
});

test('no receipt for a pending payment, a mistyped or forged id, or another method', async () => {
  const { stack } = ctx();
  const client = api(ctx());
  await sandboxConfig(stack, { callbacks: false, early22Seconds: 0 });
  const made = (await client.create(ORDER)).json;
  const pending = await receiptOf(client, made.id);
  assert.equal(pending.status, 404, pending.text);
  assert.equal(pending.json.error.type, 'not_found');
  assert.ok(!pending.text.includes(made.reference));
  // A handle whose signature does not verify, for a real reference; and nonsense.
  const [, signature] = /\.([^.]+)$/.exec(made.id);
  const forged = made.id.replace(/[^.]+$/, signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')));
  for (const id of [forged, 'nonsense', `${made.reference}.x`]) {
    const r = await receiptOf(client, id);
    assert.equal(r.status, 404, `${id}: ${r.text}`);
  }
  assert.equal((await receiptOf(client, '')).status, 404, '/receipt/ itself');
  const post = await receiptOf(client, made.id, { method: 'POST' });
  assert.equal(post.status, 405, post.text);
  // Once paid, the same id has its receipt.
  await settle(stack, made.reference, 'paid');
  await eventually(async () => (await client.get(`/api/payments/${encodeURIComponent(made.id)}`)).json?.status === 'paid', 15_000, 'paid');
  assert.equal((await receiptOf(client, made.id)).status, 200);
});
