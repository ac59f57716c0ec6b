// Accessibility of the demo storefront: axe-core over the shop, the checkout form with its errors
// and every status page (0 serious or critical violations, in both languages), status changes
// announced, focus on the first field to fix, and the whole purchase with the keyboard alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withPage, screenshot } from './browser.mjs';
import { sharedStack, PAYER, addToCart, openStore, waitForStatus } from './storefront.mjs';
import { seriousViolations, tabTo } from './a11y.mjs';

const stack = sharedStack();

async function assertAccessible(page, what) {
  assert.deepEqual(await seriousViolations(page), [], what);
}

test('axe: the shop, and the checkout form with its errors shown, in both languages', { timeout: 60_000 }, () => withPage(async (page) => {
  await openStore(page, stack().worker.url);
  await assertAccessible(page, 'empty shop');
  await addToCart(page, 'sarong-kawung');
  await assertAccessible(page, 'shop with a cart');

  await page.click('#pay-button');
  await page.locator('#name-error').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'name', 'focus moves to the first field to fix');
  for (const field of ['name', 'email', 'mobile']) {
    assert.equal(await page.getAttribute(`#${field}`, 'aria-invalid'), 'true', field);
    assert.match(await page.getAttribute(`#${field}`, 'aria-describedby'), new RegExp(`${field}-error`), field);
  }
  await assertAccessible(page, 'checkout with errors (en)');
  await page.click('[data-lang="ms"]');
  assert.match(await page.textContent('#email-error'), /E-mel diperlukan/);
  await assertAccessible(page, 'checkout with errors (ms)');
  await screenshot(page, 'a11y-checkout-errors-ms');
}));

const STATUS_PAGES = {
  pending: [{ status: 200, body: { id: 'h', reference: 'KP1', status: 'pending', code: '11', checked_at: '2026-12-01T08:00:00Z' } }],
  paid: [{ status: 200, body: { id: 'h', reference: 'KP1', status: 'paid', code: '00', checked_at: '2026-12-01T08:00:00Z' } }],
  failed: [{ status: 200, body: { id: 'h', reference: 'KP1', status: 'failed', code: '22', checked_at: '2026-12-01T08:00:00Z' } }],
  unknown: [{ status: 200, body: { id: 'h', reference: 'KP1', status: 'unknown', code: '99', checked_at: '2026-12-01T08:00:00Z' } }],
  error: [{ status: 404, body: { error: { type: 'not_found', message: 'no such payment', request_id: 'r1' } } }],
};

test('axe: every status page, and each change is announced', { timeout: 90_000 }, () => withPage(async (page) => {
  let answers = [];
  await page.route('**/api/payments/*', (route) => {
    const { status, body } = answers[0];
    return route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  });
  for (const [look, replies] of Object.entries(STATUS_PAGES)) {
    answers = replies;
    for (const lang of ['en', 'ms']) {
      await page.goto(`${stack().worker.url}/?kp_payment=h`);
      if (lang === 'ms') await page.click('[data-lang="ms"]');
      await page.locator(`#payment-status[data-status="${look}"]`).waitFor();
      assert.equal(await page.getAttribute('#status-live', 'aria-live'), 'polite');
      assert.ok(await page.locator('#status-live #status-title').count(), 'the title is inside the live region');
      await assertAccessible(page, `status ${look} (${lang})`);
    }
    await page.click('[data-lang="en"]');
  }
}));

test('the whole purchase with the keyboard alone', { timeout: 90_000 }, () => withPage(async (page) => {
  await page.goto(stack().worker.url);
  await page.locator('.product').first().waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip-link', 'the first stop skips to the content');
  await page.keyboard.press('Enter');

  await tabTo(page, '[data-add="scarf-parang"]');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter'); // focus stays on the rebuilt button: a second one
  assert.equal(await page.inputValue('.qty__input'), '2');
  await tabTo(page, '[data-focus="less:scarf-parang"]');
  await page.keyboard.press('Space');
  assert.equal(await page.inputValue('.qty__input'), '1');

  await tabTo(page, '#name');
  await page.keyboard.type(PAYER.name);
  await page.keyboard.press('Tab');
  await page.keyboard.type('siti@example'); // a mistake, fixed by keyboard too
  await page.keyboard.press('Tab');
  await page.keyboard.type(PAYER.mobile);
  await tabTo(page, '#pay-button');
  await page.keyboard.press('Enter');
  await page.locator('#email-error').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'email');
  await page.keyboard.press('End');
  await page.keyboard.type('.my');
  await screenshot(page, 'keyboard-1-checkout');
  await tabTo(page, '#pay-button');
  await Promise.all([page.waitForURL((u) => u.href.startsWith(stack().sandbox.url)), page.keyboard.press('Enter')]);

  await tabTo(page, '#pay');
  await Promise.all([page.waitForURL((u) => u.searchParams.has('kp_payment')), page.keyboard.press('Enter')]);
  await waitForStatus(page, 'paid', 30_000);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'status-title', 'focus starts at the status');
  assert.match(await page.textContent('#receipt-amount'), /^RM 45\.50$/);
  await screenshot(page, 'keyboard-2-paid');
  await tabTo(page, '#continue-shopping');
  await page.keyboard.press('Enter');
  await page.locator('#cart-empty').waitFor();
  assert.equal(await page.locator('.cart-line').count(), 0);
}));
