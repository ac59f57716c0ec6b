// The drop-in client as a merchant uses it: the README's static-site page, exactly as printed
// there, served from another origin with the settings the README asks for, importing
// /kelantanpay.js from the Worker. Pay and Fail on the sandbox, a double click, a bad email.
// The tests run concurrently: the Fail journey waits out the one-minute early-22 window.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startStack } from '../support/harness.mjs';
import { openBrowser, recordPaymentPosts, screenshot } from './browser.mjs';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const WORKER_URL = /'https:\/\/pay\.shop\.example\/kelantanpay\.js'/;

function snippet() {
  const section = README.slice(README.indexOf('## Take payments from your own static site'));
  const match = /```html\n([\s\S]*?)```/.exec(section);
  assert.ok(match, 'the README has no html snippet in its static-site section');
  assert.match(match[1], WORKER_URL);
  return match[1];
}

let stack;
let site;
let origin;
before(async () => {
  const code = snippet();
  site = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const ok = url.pathname === '/pay';
    const lang = url.searchParams.get('lang') === 'ms' ? 'ms' : 'en';
    res.writeHead(ok ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(ok
      ? `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>Shop</title></head><body>${code.replace(WORKER_URL, `'${stack.worker.url}/kelantanpay.js'`)}</body></html>`
      : 'not found');
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${site.address().port}`;
  // README step 1, in open-amount mode (no catalog)
  stack = await startStack({
    vars: { KP_CATALOG: undefined, KP_ALLOWED_ORIGINS: origin, KP_RETURN_URLS: `${origin}/pay`, KP_RETURN_URL: `${origin}/pay` },
    sandbox: { early22Seconds: 0 },
  });
}, { timeout: 120_000 });
after(async () => {
  await stack?.stop();
  site?.close();
}, { timeout: 30_000 });

async function withPage(steps) {
  const browser = await openBrowser();
  try {
    await steps(browser.page);
  } finally {
    await browser.close();
  }
}

async function fill(page, payer) {
  await page.goto(`${origin}/pay${payer.lang ? `?lang=${payer.lang}` : ''}`);
  await page.fill('input[name=amount]', payer.amount ?? '12.50');
  await page.fill('input[name=name]', 'Siti Aminah');
  await page.fill('input[name=email]', payer.email);
  await page.fill('input[name=mobile]', '012-345 6789');
}

const onSandbox = (url) => url.href.startsWith(stack.sandbox.url);
const backOnShop = (url) => url.href.startsWith(`${origin}/pay?kp_payment=`);
const paymentsFor = async (email) => (await fetch(`${stack.sandbox.url}/__sandbox/payments`).then((r) => r.json())).filter((p) => p.email === email);

describe('the drop-in client on another origin', { concurrency: true }, () => {
  test('its script comes with CORS and caching headers for other origins', async () => {
    const script = await fetch(`${stack.worker.url}/kelantanpay.js`, { headers: { Origin: origin } });
    assert.equal(script.status, 200);
    assert.equal(script.headers.get('access-control-allow-origin'), '*');
    assert.match(script.headers.get('content-type'), /^text\/javascript/);
    assert.match(script.headers.get('cache-control'), /^public, max-age=300\b/);
    assert.ok(script.headers.get('etag'), 'revalidation by ETag');
    assert.match(await script.text(), /export function createPayment/);
    const types = await fetch(`${stack.worker.url}/kelantanpay.d.ts`);
    assert.equal(types.headers.get('access-control-allow-origin'), '*');
    assert.match(await types.text(), /export function watchStatus/);
    assert.equal((await fetch(`${stack.worker.url}/_headers`)).status, 404, 'the headers file itself is not served');
  });

  test('create -> Pay on the sandbox -> back on the shop the status is paid', { timeout: 90_000 }, () => withPage(async (page) => {
    await fill(page, { email: 'paid@example.my', amount: '1234.50' });
    await Promise.all([page.waitForURL(onSandbox), page.click('#kp-form button')]);
    await screenshot(page, 'dropin-paid-1-sandbox');
    await Promise.all([page.waitForURL(backOnShop), page.click('#pay')]);
    await page.locator('#kp-status', { hasText: /^Paid \(/ }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'dropin-paid-2-status');
    const [stored] = await paymentsFor('paid@example.my');
    assert.deepEqual([stored.amountText, stored.mobile], ['1234.50', '0123456789']);
    assert.match(await page.textContent('#kp-status'), new RegExp(stored.reference));

    await page.reload(); // the kp_payment parameter brings the status back
    await page.locator('#kp-status', { hasText: /^Paid \(/ }).waitFor({ timeout: 15_000 });
  }));

  test('create -> Fail on the sandbox -> the status ends failed', { timeout: 150_000 }, () => withPage(async (page) => {
    await fill(page, { email: 'failed@example.my' });
    await Promise.all([page.waitForURL(onSandbox), page.click('#kp-form button')]);
    await Promise.all([page.waitForURL(backOnShop), page.click('#fail')]);
    await page.locator('#kp-status', { hasText: /^Pending \(/ }).waitFor({ timeout: 30_000 });
    await page.locator('#kp-status', { hasText: /^Failed \(/ }).waitFor({ timeout: 120_000 });
    await screenshot(page, 'dropin-failed-status');
  }));

  test('a double click on Pay makes one payment', { timeout: 60_000 }, () => withPage(async (page) => {
    const posts = recordPaymentPosts(page);
    await fill(page, { email: 'double@example.my' });
    await Promise.all([page.waitForURL(onSandbox), page.dblclick('#kp-form button')]);
    const keys = new Set(posts.map((request) => request.headers()['idempotency-key']));
    assert.equal(keys.size, 1, 'one Idempotency-Key');
    assert.ok(posts.length <= 2, `${posts.length} requests`);
    assert.equal((await paymentsFor('double@example.my')).length, 1, 'the gateway saw one payment');
  }));

  test('a bad email shows the field error, in the page\'s language, without a create call', { timeout: 60_000 }, () => withPage(async (page) => {
    const posts = recordPaymentPosts(page);
    await fill(page, { email: 'siti@example', lang: 'ms' });
    await page.click('#kp-form button');
    await page.locator('#kp-error', { hasText: 'Masukkan alamat e-mel yang sah' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.name), 'email', 'focus moves to the field to fix');
    await screenshot(page, 'dropin-bad-email-ms');
    await page.waitForTimeout(300); // a request the page was about to send would show up by now
    assert.equal(posts.length, 0, 'no POST /api/payments was made');
  }));
});
