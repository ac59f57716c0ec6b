// The payer's receipt (contract v3, "Receipts") in Chromium against the real Worker and the
// sandbox: the demo shop's status view links to it once the payment is paid (in both languages),
// the link opens it; the page carries BM and EN, no contact details, runs its print button under
// its CSP, prints black on white without the button, and axe finds no serious violation.
// Every wait is on a selector or a polled condition with a deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openBrowser, screenshot } from './browser.mjs';
import { seriousViolations } from './a11y.mjs';
import { CATALOG, PAYER, sharedStack, waitForStatus } from './storefront.mjs';

const stack = sharedStack();

/** A catalog payment made through the Worker's API, as the storefront makes it. */
async function createPayment(items) {
  const response = await fetch(`${stack().worker.url}/api/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items, ...PAYER }),
    signal: AbortSignal.timeout(10_000),
  });
  const payment = await response.json();
  assert.equal(response.status, 201, JSON.stringify(payment));
  return payment;
}

async function paidPayment() {
  const { sandbox } = stack();
  const payment = await createPayment([{ sku: CATALOG[1].sku, quantity: 2 }]);
  const settled = await fetch(`${sandbox.url}/__sandbox/settle`, {
    method: 'POST', body: JSON.stringify({ reference: payment.reference, outcome: 'paid' }), signal: AbortSignal.timeout(10_000),
  });
  assert.equal(settled.status, 200);
  return payment;
}

test('once paid, the status view links to the receipt, which prints in both languages without contact details', async () => {
  const payment = await paidPayment();
  const { page, close } = await openBrowser();
  try {
    const problems = [];
    // (the browser's own /favicon.ico request answers 404: the receipt has no icon)
    page.on('console', (m) => m.type() === 'error' && !m.location().url?.endsWith('/favicon.ico') && problems.push(`${m.text()} ${m.location().url}`));
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('response', (r) => r.status() >= 400 && problems.push(`${r.status()} ${new URL(r.url()).pathname}`));
    await page.goto(`${stack().worker.url}/?kp_payment=${encodeURIComponent(payment.id)}`);
    await waitForStatus(page, 'paid', 30_000);
    const link = page.locator('#receipt-link');
    await link.waitFor({ state: 'visible' });
    assert.equal(await link.textContent(), 'Print receipt');
    const href = `${stack().worker.url}/receipt/${encodeURIComponent(payment.id)}`;
    assert.equal(await link.getAttribute('href'), href);
    await page.click('[data-lang="ms"]');
    await page.locator('#receipt-link', { hasText: 'Cetak resit' }).waitFor();

    await link.click();
    await page.waitForURL(href);
    await page.locator('h1').waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'ms');
    const text = await page.locator('body').innerText();
    for (const words of ['Resit pembayaran', 'Payment receipt', 'Rujukan', 'Reference', 'No. pesanan', 'Order ID', 'Masa dibayar', 'Paid at',
      'RM 91.00', CATALOG[1].name, payment.reference, payment.orderid]) {
      assert.ok(text.includes(words), `"${words}" missing from:\n${text}`);
    }
    assert.ok(await page.locator('[lang="en"]', { hasText: 'Amount paid' }).count() === 1);
    for (const contact of [PAYER.name, PAYER.email, PAYER.mobile, '0123456789', 'Siti']) {
      assert.ok(!text.includes(contact), `${contact} on the receipt`);
    }
    // receipt.css and receipt.js ran under the page's CSP: styled, and the button shown and working.
    const print = page.locator('#print');
    await print.waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor), 'rgb(247, 240, 227)');
    await page.evaluate(() => { window.printed = 0; window.print = () => { window.printed += 1; }; });
    await print.click();
    assert.equal(await page.evaluate(() => window.printed), 1);
    assert.deepEqual(await seriousViolations(page), []);
    await screenshot(page, 'receipt-screen');

    await page.emulateMedia({ media: 'print' });
    assert.equal(await print.isVisible(), false, 'the print button is not printed');
    const colours = await page.evaluate(() => [document.body, document.querySelector('dt'), document.querySelector('[lang="en"]')]
      .map((e) => [getComputedStyle(e).color, getComputedStyle(document.body).backgroundColor]));
    for (const [color, background] of colours) assert.deepEqual([color, background], ['rgb(0, 0, 0)', 'rgb(255, 255, 255)']);
    // It fits the paper: nothing wider than an 80 mm roll's printable width (about 72 mm, 272 px) sticks out.
    await page.setViewportSize({ width: 272, height: 900 });
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 272), 'fits 80 mm');
    await screenshot(page, 'receipt-print');
    assert.deepEqual(problems, []);
  } finally {
    await close();
  }
});

test('a pending payment has no receipt link and no receipt', async () => {
  const { worker } = stack();
  const payment = await createPayment([{ sku: CATALOG[0].sku, quantity: 1 }]);
  const { page, close } = await openBrowser();
  try {
    await page.goto(`${worker.url}/?kp_payment=${encodeURIComponent(payment.id)}`);
    await waitForStatus(page, 'pending', 30_000);
    assert.equal(await page.locator('#receipt-link').isVisible(), false);
    const receipt = await page.goto(`${worker.url}/receipt/${encodeURIComponent(payment.id)}`);
    assert.equal(receipt.status(), 404);
  } finally {
    await close();
  }
});
