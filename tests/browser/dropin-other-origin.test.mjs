// The drop-in client as a merchant uses it: the README's static-site page from another origin
// (other-origin.mjs). Pay on the sandbox, a double click, a bad email, the script's headers. Its
// Fail journey is in checkout-flow.test.mjs, where it waits out the early-22 minute alongside
// the storefront's.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { withPage, recordPaymentPosts, screenshot } from './browser.mjs';
import { fillShopForm, otherOriginShop } from './other-origin.mjs';

const shop = otherOriginShop();

const fill = (page, payer) => fillShopForm(page, shop().origin, payer);
const onSandbox = (url) => url.href.startsWith(shop().stack.sandbox.url);
const backOnShop = (url) => url.href.startsWith(`${shop().origin}/pay?kp_payment=`);
const paymentsFor = async (email) => (await fetch(`${shop().stack.sandbox.url}/__sandbox/payments`).then((r) => r.json())).filter((p) => p.email === email);

describe('the drop-in client on another origin', { concurrency: true }, () => {
  test('its script comes with CORS and caching headers for other origins', async () => {
    const script = await fetch(`${shop().stack.worker.url}/kelantanpay.js`, { headers: { Origin: shop().origin } });
    assert.equal(script.status, 200);
    assert.equal(script.headers.get('access-control-allow-origin'), '*');
    assert.match(script.headers.get('content-type'), /^text\/javascript/);
    assert.match(script.headers.get('cache-control'), /^public, max-age=300\b/);
    assert.ok(script.headers.get('etag'), 'revalidation by ETag');
    assert.match(await script.text(), /export function createPayment/);
    const types = await fetch(`${shop().stack.worker.url}/kelantanpay.d.ts`);
    assert.equal(types.headers.get('access-control-allow-origin'), '*');
    assert.match(await types.text(), /export function watchStatus/);
    assert.equal((await fetch(`${shop().stack.worker.url}/_headers`)).status, 404, 'the headers file itself is not served');
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
