// The storefront on a phone (375 x 812, touch): every view fits without sideways scrolling and
// every control is at least 44 x 44 px (screenshots in artifacts/screenshots/mobile-*). And the
// language: the browser's first, then the switch, which is remembered; amounts read RM 1,234.50.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withPage, screenshot } from './browser.mjs';
import { sharedStack, PAYER, addToCart, fillCheckout, openStore, waitForStatus } from './storefront.mjs';
import { layoutProblems } from './a11y.mjs';

const stack = sharedStack();
const PHONE = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

async function assertFits(page, name) {
  await screenshot(page, `mobile-${name}`);
  const { overflow, small, cut } = await layoutProblems(page);
  assert.equal(overflow, 0, `${name}: the page scrolls ${overflow} px sideways`);
  assert.deepEqual(cut, [], `${name}: elements past the screen's edge`);
  assert.deepEqual(small, [], `${name}: controls under 44 x 44 px`);
}

const status = (body) => ({ status: 200, contentType: 'application/json', body: JSON.stringify({ id: 'h', reference: 'KP20261201ABCDEFGHIJ', checked_at: '2026-12-01T08:00:00Z', ...body }) });

test('at 375 x 812 the shop, the checkout and the status pages fit, with 44 px tap targets', { timeout: 120_000 }, () => withPage(async (page) => {
  await openStore(page, stack().worker.url);
  await assertFits(page, '1-shop');
  await page.tap('[data-add="sarong-kawung"]');
  await page.tap('[data-add="scarf-parang"]');
  await page.tap('[data-focus="more:scarf-parang"]');
  await assertFits(page, '2-cart');
  await page.tap('#pay-button');
  await page.locator('#name-error').waitFor();
  await assertFits(page, '3-checkout-errors');
  await page.tap('[data-lang="ms"]');
  await assertFits(page, '4-checkout-errors-ms');
  await page.tap('[data-lang="en"]');

  await fillCheckout(page);
  await Promise.all([page.waitForURL((u) => u.href.startsWith(stack().sandbox.url)), page.tap('#pay-button')]);
  await Promise.all([page.waitForURL((u) => u.searchParams.has('kp_payment')), page.tap('#pay')]);
  await waitForStatus(page, 'paid', 30_000);
  await assertFits(page, '5-status-paid');

  for (const [look, body] of [['pending', { status: 'pending', code: '11' }], ['failed', { status: 'failed', code: '22' }], ['unknown', { status: 'unknown', code: '99' }]]) {
    await page.route('**/api/payments/*', (route) => route.fulfill(status(body)));
    await page.goto(`${stack().worker.url}/?kp_payment=h`);
    await waitForStatus(page, look, 15_000);
    await assertFits(page, `6-status-${look}`);
    await page.unroute('**/api/payments/*');
  }
}, PHONE));

test('the first visit follows the browser\'s language; the switch is remembered; amounts read RM 1,234.50', { timeout: 60_000 }, () => withPage(async (page) => {
  // a catalog price with thousands, shown by the page (the Worker prices real orders itself)
  await page.route('**/api/config', (route) => route.fulfill({
    status: 200, contentType: 'application/json',
    body: JSON.stringify({ currency: 'MYR', mode: 'catalog', catalog: [{ sku: 'songket', name: 'Songket, kain penuh', amount: '1234.50' }], min_amount: '1.00', max_amount: '30000.00' }),
  }));
  await openStore(page, stack().worker.url);
  assert.equal(await page.getAttribute('html', 'lang'), 'ms');
  assert.equal(await page.getAttribute('[data-lang="ms"]', 'aria-pressed'), 'true');
  assert.match(await page.textContent('[data-add="songket"]'), /Tambah ke troli/);
  assert.equal(await page.textContent('.product__price'), 'RM 1,234.50');
  await page.click('[data-add="songket"]');
  await page.click('[data-add="songket"]');
  assert.equal(await page.textContent('#cart-total'), 'RM 2,469.00');
  assert.equal(await page.textContent('#pay-label'), 'Bayar RM 2,469.00');
  await screenshot(page, 'language-ms');

  await page.click('[data-lang="en"]');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.equal(await page.textContent('#pay-label'), 'Pay RM 2,469.00');
  assert.match(await page.textContent('#checkout-title'), /^Checkout$/);
  await page.reload();
  await page.locator('.product').first().waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en', 'the choice outlives a reload');
  assert.match(await page.textContent('[data-add="songket"]'), /Add another/);
  assert.equal(await page.textContent('.cart-line__total'), 'RM 2,469.00');

  await page.click('[data-lang="ms"]');
  await page.click('#pay-button');
  await page.locator('#name-error').waitFor();
  assert.equal(await page.textContent('#name-error'), 'Nama diperlukan.');
  await page.fill('#name', PAYER.name);
  await page.fill('#email', 'siti@example');
  await page.click('#pay-button');
  assert.equal(await page.textContent('#email-error'), 'Masukkan alamat e-mel yang sah, seperti siti@example.my.');
  await page.click('[data-lang="en"]');
  assert.equal(await page.textContent('#email-error'), 'Enter a valid email address, such as siti@example.my.', 'shown errors follow the switch');
  await screenshot(page, 'language-errors-en');
}, { locale: 'ms-MY' }));
