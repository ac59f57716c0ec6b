// Older phones (issue 27, item 9): Safari before 17.4 (every iOS 16 device) and Chrome before 116
// have no AbortSignal.any. The drop-in script must still create a payment and read its status
// there; AbortSignal.any is deleted before any script of the page runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openBrowser, screenshot } from './browser.mjs';
import { sharedStack, addToCart, fillCheckout, openStore, waitForStatus } from './storefront.mjs';

const stack = sharedStack();
const onSandbox = (url) => url.href.startsWith(stack().sandbox.url);
const backOnStore = (url) => url.href.startsWith(stack().worker.url) && url.searchParams.has('kp_payment');

test('without AbortSignal.any: create, pay on the sandbox page, the status reads paid', { timeout: 90_000 }, async () => {
  const { page, close } = await openBrowser();
  try {
    await page.addInitScript(() => { delete AbortSignal.any; });
    const statusReads = [];
    page.on('response', (r) => { if (/\/api\/payments\/[^/]+$/.test(new URL(r.url()).pathname)) statusReads.push(r.status()); });
    await openStore(page, stack().worker.url);
    assert.equal(await page.evaluate(() => typeof AbortSignal.any), 'undefined', 'the init script ran first');
    await addToCart(page, 'scarf-parang');
    await fillCheckout(page);
    await Promise.all([page.waitForURL(onSandbox), page.click('#pay-button')]);
    await Promise.all([page.waitForURL(backOnStore), page.click('#pay')]);
    await waitForStatus(page, 'paid', 30_000);
    assert.match(await page.textContent('#receipt-amount'), /RM\s45\.50/);
    assert.ok(statusReads.includes(200), `the status was read through the drop-in (${statusReads})`);
    await screenshot(page, 'old-browser-paid');
  } catch (error) {
    await screenshot(page, 'old-browser-failure').catch(() => {});
    throw error;
  } finally {
    await close();
  }
});
