// The payer's two journeys through the demo storefront and the sandbox's checkout page:
// pay and see a receipt; fail and get back to the cart. Real Worker, real sandbox, real Chromium.
// And the drop-in client's Fail journey on a merchant's page on another origin. They run at once:
// each Fail journey waits out the one-minute early-22 window.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openBrowser, screenshot } from './browser.mjs';
import { sharedStack, PAYER, addToCart, fillCheckout, openStore, waitForStatus } from './storefront.mjs';
import { fillShopForm, otherOriginShop } from './other-origin.mjs';

const stack = sharedStack();
const shop = otherOriginShop();

const onSandbox = (url) => url.href.startsWith(stack().sandbox.url);
const backOnStore = (url) => url.href.startsWith(stack().worker.url) && url.searchParams.has('kp_payment');

/** Store -> cart -> checkout form -> the sandbox's checkout page. */
async function checkoutToSandbox(page, shot) {
  await openStore(page, stack().worker.url);
  await screenshot(page, `${shot}-1-store`);
  await addToCart(page, 'sarong-kawung', 2);
  await addToCart(page, 'scarf-parang');
  assert.match(await page.textContent('#cart-total'), /RM\s223\.50/);
  await fillCheckout(page);
  await screenshot(page, `${shot}-2-checkout-filled`);
  await Promise.all([page.waitForURL(onSandbox), page.click('#pay-button')]);
  await screenshot(page, `${shot}-3-sandbox-checkout`);
}

describe('paid and failed, in the storefront and on a merchant\'s page', { concurrency: true }, () => {
  test('pay on the sandbox page: back on the store the status is "paid" with a receipt', { timeout: 90_000 }, async () => {
    const { page, close } = await openBrowser();
    try {
      await checkoutToSandbox(page, 'paid');
      await Promise.all([page.waitForURL(backOnStore), page.click('#pay')]);
      await waitForStatus(page, 'paid', 30_000);
      assert.match(await page.textContent('#payment-status'), /paid/i);
      assert.match(await page.textContent('#receipt-amount'), /RM\s223\.50/);
      assert.notEqual((await page.textContent('#receipt-reference')).trim(), '');
      await screenshot(page, 'paid-4-status-paid');

      await page.click('#continue-shopping');
      await page.locator('#cart-empty').waitFor();
      assert.equal(await page.locator('.cart-line').count(), 0, 'a paid cart is emptied');
      await screenshot(page, 'paid-5-back-to-empty-store');
    } finally {
      await close();
    }
  });

  test('fail on the sandbox page: the status ends "failed" and "Try again" brings the cart back', { timeout: 150_000 }, async () => {
    const { page, close } = await openBrowser();
    try {
      await checkoutToSandbox(page, 'failed');
      await Promise.all([page.waitForURL(backOnStore), page.click('#fail')]);
      // A 22 within the first minute is reported as pending (the gateway's early-22 rule),
      // so "failed" shows only once the payment is older than that.
      await page.locator('#status-progress').waitFor();
      await screenshot(page, 'failed-4-status-pending');
      await waitForStatus(page, 'failed', 120_000);
      assert.match(await page.textContent('#payment-status'), /failed/i);
      await page.locator('#try-again').waitFor();
      await screenshot(page, 'failed-5-status-failed');

      await page.click('#try-again');
      await page.locator('#checkout').waitFor();
      assert.equal(await page.locator('.cart-line').count(), 2, 'the cart is intact');
      assert.equal(await page.inputValue('#email'), PAYER.email, 'the form is refilled');
      assert.equal(new URL(page.url()).searchParams.has('kp_payment'), false);
      await screenshot(page, 'failed-6-try-again');
    } finally {
      await close();
    }
  });

  test('the drop-in on another origin: create -> Fail on the sandbox -> the status ends failed', { timeout: 150_000 }, async () => {
    const { page, close } = await openBrowser();
    try {
      const { origin, stack: own } = shop();
      await fillShopForm(page, origin, { email: 'failed@example.my' });
      await Promise.all([page.waitForURL((u) => u.href.startsWith(own.sandbox.url)), page.click('#kp-form button')]);
      await Promise.all([page.waitForURL((u) => u.href.startsWith(`${origin}/pay?kp_payment=`)), page.click('#fail')]);
      await page.locator('#kp-status', { hasText: /^Pending \(/ }).waitFor({ timeout: 30_000 });
      await page.locator('#kp-status', { hasText: /^Failed \(/ }).waitFor({ timeout: 120_000 });
      await screenshot(page, 'dropin-failed-status');
    } finally {
      await close();
    }
  });
});
