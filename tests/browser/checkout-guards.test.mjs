// What keeps the payer from a wrong or double payment: inline validation that stops the request,
// one payment however often Pay is pressed, and the Worker's field errors shown where they belong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withPage, recordPaymentPosts, screenshot } from './browser.mjs';
import { sharedStack, PAYER, addToCart, fillCheckout, openStore, sandboxStats } from './storefront.mjs';

const stack = sharedStack();

test('a bad email shows the inline error and sends no payment request', { timeout: 60_000 }, () => withPage(async (page) => {
  const posts = recordPaymentPosts(page);
  await openStore(page, stack().worker.url);
  await addToCart(page, 'shirt-ceplok');
  await fillCheckout(page, { ...PAYER, email: 'siti@example' });
  await page.click('#pay-button');

  const error = page.locator('#email-error');
  await error.waitFor();
  assert.match(await error.textContent(), /Enter a valid email address/);
  assert.equal(await page.getAttribute('#email', 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'email', 'focus moves to the field to fix');
  await screenshot(page, 'guards-bad-email');

  await page.fill('#email', PAYER.email);
  await error.waitFor({ state: 'hidden' });
  await page.waitForTimeout(300); // a request the page was about to send would show up by now
  assert.equal(posts.length, 0, 'no POST /api/payments was made');
}));

test('a double click on Pay creates one payment, and so does coming back and paying again', { timeout: 60_000 }, () => withPage(async (page) => {
  const posts = recordPaymentPosts(page);
  const before = await sandboxStats(stack().sandbox.url);
  await openStore(page, stack().worker.url);
  await addToCart(page, 'scarf-parang');
  await fillCheckout(page);
  await Promise.all([
    page.waitForURL((url) => url.href.startsWith(stack().sandbox.url)),
    page.dblclick('#pay-button'),
  ]);
  const firstCheckout = page.url();
  await screenshot(page, 'guards-double-click-sandbox');

  // The Back button returns to the store with the same cart and form: same key, same payment.
  await page.goBack();
  await page.locator('#pay-button:not([disabled])').waitFor();
  await Promise.all([
    page.waitForURL((url) => url.href.startsWith(stack().sandbox.url)),
    page.click('#pay-button'),
  ]);
  assert.equal(page.url(), firstCheckout, 'the resubmit lands on the same checkout page');

  const keys = new Set(posts.map((request) => request.headers()['idempotency-key']));
  assert.equal(keys.size, 1, `one Idempotency-Key for every attempt, got ${[...keys].join(', ')}`);
  const afterStats = await sandboxStats(stack().sandbox.url);
  assert.equal(afterStats.create - before.create, 1, 'the gateway saw one payment creation');
}));

test('a field error from the Worker is shown under that field; other errors in a banner', { timeout: 60_000 }, () => withPage(async (page) => {
  let answer;
  await page.route('**/api/payments', (route) => route.fulfill(answer));
  await openStore(page, stack().worker.url);
  await addToCart(page, 'sarong-kawung');
  await fillCheckout(page);

  answer = {
    status: 400, contentType: 'application/json', headers: { 'X-Request-Id': 'req-field' },
    body: JSON.stringify({ error: { type: 'invalid_request', message: 'mobile must be a Malaysian mobile number such as 012-345 6789', field: 'mobile', request_id: 'req-field' } }),
  };
  await page.click('#pay-button');
  await page.locator('#mobile-error').waitFor();
  assert.match(await page.textContent('#mobile-error'), /Malaysian mobile number/);
  assert.equal(await page.isHidden('#form-error'), true);
  assert.equal(await page.isDisabled('#pay-button'), false, 'the button is usable again');
  await screenshot(page, 'guards-worker-field-error');

  answer = {
    status: 504, contentType: 'application/json', headers: { 'X-Request-Id': 'req-slow' },
    body: JSON.stringify({ error: { type: 'upstream_timeout', message: 'KelantanPay did not answer in time', request_id: 'req-slow' } }),
  };
  await page.click('#pay-button');
  await page.locator('#form-error').waitFor();
  assert.match(await page.textContent('#form-error'), /took too long/);
  assert.match(await page.textContent('#form-error'), /req-slow/);
  await screenshot(page, 'guards-worker-banner-error');
}));

test('open-amount mode shows an amount field instead of products and checks it', { timeout: 60_000 }, () => withPage(async (page) => {
  const posts = recordPaymentPosts(page);
  await page.route('**/api/config', (route) => route.fulfill({
    status: 200, contentType: 'application/json',
    body: JSON.stringify({ currency: 'MYR', mode: 'open', catalog: [], min_amount: '1.00', max_amount: '30000.00' }),
  }));
  await page.goto(stack().worker.url);
  await page.locator('#amount').waitFor();
  assert.equal(await page.locator('.product').count(), 0);
  assert.equal(await page.isHidden('#cart'), true);

  await page.fill('#amount', '12.345');
  await fillCheckout(page);
  await page.click('#pay-button');
  await page.locator('#amount-error').waitFor();
  assert.match(await page.textContent('#amount-error'), /at most two decimal places/);
  await page.fill('#amount', '40000');
  await page.click('#pay-button');
  assert.match(await page.textContent('#amount-error'), /between RM\s1\.00 and RM\s30,000\.00/);
  await screenshot(page, 'guards-open-amount');
  assert.equal(posts.length, 0);
}));

test('the status page shows an unknown code and a gateway error as they are, then the final state', { timeout: 60_000 }, () => withPage(async (page) => {
  const answers = [
    { status: 200, body: { id: 'h', reference: 'KP123', status: 'unknown', code: '99', checked_at: new Date().toISOString() } },
    { status: 502, body: { error: { type: 'upstream_error', message: 'KelantanPay error: Service busy', request_id: 'req-busy' } } },
    { status: 200, body: { id: 'h', reference: 'KP123', status: 'paid', code: '00', checked_at: new Date().toISOString() } },
  ];
  const seen = [];
  await page.route('**/api/payments/*', (route) => {
    const { status, body } = answers[Math.min(seen.length, answers.length - 1)];
    seen.push(status);
    return route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  });
  await page.goto(`${stack().worker.url}/?kp_payment=h`);
  await page.locator('#payment-status[data-status="unknown"]').waitFor();
  assert.match(await page.textContent('#status-message'), /code 99/);
  await screenshot(page, 'guards-status-unknown');
  await page.locator('#status-request-id', { hasText: 'req-busy' }).waitFor();
  assert.match(await page.textContent('#status-message'), /could not be checked just now: The payment gateway could not handle this/);
  await screenshot(page, 'guards-status-gateway-error');
  await page.locator('#payment-status[data-status="paid"]').waitFor();
  assert.match(await page.textContent('#receipt-reference'), /KP123/);
}));
