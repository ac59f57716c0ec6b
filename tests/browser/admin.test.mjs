// The merchant's order inbox (/admin, contract v3) in Chromium against the real Worker, its D1
// ledger and the sandbox: sign in with the token; payments made through the API and paid or
// failed on the sandbox show up without a reload; search, CSV download, mark fulfilled (and
// undo), recheck, redeliver; a buyer named like an XSS payload is shown as text; axe finds no
// serious violation signed out, signed in, in one order and on a phone; both languages; a link to
// one order (`#order=<id>`) opens it through the sign-in form, and its deliveries name each channel.
// `KP_SCREENSHOT=1` also writes docs/admin-inbox.png (the README's picture of the inbox on a phone).
// Every wait is on a selector or a polled condition with a deadline.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { openBrowser, screenshot } from './browser.mjs';
import { layoutProblems, seriousViolations } from './a11y.mjs';
import { CATALOG, stackOptions } from './storefront.mjs';
import { ROOT, startStack } from '../support/harness.mjs';
import { startAccess } from '../e2e/access.mjs';

const TOKEN = 'test-admin-token-0123456789abcdefghij';
const SHOP = 'Kedai Batik Kelantan';
const XSS = '<img src=x onerror=alert(1)>';
const PHONE = { viewport: { width: 360, height: 780 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

let stack;
let access; // a stand-in for Cloudflare Access (its certs server and token minting)
before(async () => {
  access = await startAccess();
  const options = await stackOptions();
  const vars = { ...options.vars, KP_ADMIN_TOKEN: TOKEN, KP_SHOP_NAME: SHOP, KP_ACCESS_TEAM_DOMAIN: access.team, KP_ACCESS_AUD: access.aud };
  stack = await startStack({ ...options, vars });
}, { timeout: 120_000 });
after(async () => {
  await stack?.stop();
  await access?.stop();
}, { timeout: 30_000 });

const adminUrl = () => `${stack.worker.url}/admin`;

/** Polls `check` until it returns something truthy, or fails after `ms`. */
async function eventually(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A catalog payment made through the Worker's API, as the storefront makes it: its JSON answer. */
async function createPayment(name, email, items = [{ sku: CATALOG[1].sku, quantity: 2 }]) {
  const response = await fetch(`${stack.worker.url}/api/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items, name, email, mobile: '012-345 6789' }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.json();
  assert.equal(response.status, 201, JSON.stringify(body));
  return body;
}

/** Pay or Fail on the sandbox, as the payer's click does (then the sandbox calls the Worker back). */
async function settle(reference, outcome) {
  const response = await fetch(`${stack.sandbox.url}/__sandbox/settle`, {
    method: 'POST', body: JSON.stringify({ reference, outcome }), signal: AbortSignal.timeout(10_000),
  });
  assert.equal(response.status, 200);
}

async function paymentStatus(id) {
  const response = await fetch(`${stack.worker.url}/api/payments/${encodeURIComponent(id)}`, { signal: AbortSignal.timeout(10_000) });
  return (await response.json()).status;
}

/** The admin API as a script calls it (the Bearer token). */
async function adminGet(pathAndQuery) {
  const response = await fetch(`${stack.worker.url}${pathAndQuery}`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(10_000) });
  assert.equal(response.status, 200, pathAndQuery);
  return response.json();
}

/** Watches the page for what must never happen: a dialog (an executed payload) or a CSP violation. */
function watchPage(page) {
  const seen = { dialogs: [], csp: [], errors: [] };
  page.on('dialog', (dialog) => {
    seen.dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) seen.csp.push(message.text());
  });
  page.on('pageerror', (error) => seen.errors.push(String(error)));
  return seen;
}

async function signIn(page) {
  await page.goto(adminUrl());
  await page.locator('#signin:not([hidden])').waitFor();
  await page.fill('#token', TOKEN);
  await page.click('#signin-button');
  await page.locator('#inbox:not([hidden])').waitFor();
}

const row = (page, id, status) => page.locator(`#orders .order[data-id="${id}"]${status ? `[data-status="${status}"]` : ''}`);

async function assertNoSeriousViolations(page, where) {
  assert.deepEqual(await seriousViolations(page), [], `axe (${where})`);
}

async function assertFits(page, where) {
  const { overflow, small, cut } = await layoutProblems(page);
  assert.equal(overflow, 0, `${where}: the page scrolls ${overflow} px sideways`);
  assert.deepEqual(cut, [], `${where}: elements past the screen's edge`);
  assert.deepEqual(small, [], `${where}: controls under 44 x 44 px`);
}

/**
 * docs/admin-inbox.png, the README's picture: the signed-in inbox on a phone a little taller
 * than the test's (a few orders under the totals and the search) at 1.5x, to stay under 150 KB.
 */
async function readmePicture() {
  const { page, close } = await openBrowser({ ...PHONE, viewport: { width: 360, height: 1000 }, deviceScaleFactor: 1.5 });
  try {
    await signIn(page);
    await page.locator('#orders .order').first().waitFor();
    await page.locator('#total-month', { hasText: /RM/ }).waitFor();
    await page.locator('#shop-name', { hasText: SHOP }).waitFor();
    await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
    const file = path.join(ROOT, 'docs', 'admin-inbox.png');
    await page.screenshot({ path: file, animations: 'disabled' });
    assert.ok((await stat(file)).size < 150 * 1024, 'docs/admin-inbox.png stays under 150 KB');
  } finally {
    await close();
  }
}

describe('the order inbox', () => {
  test('signed out: the contract\'s headers, only the sign-in form, a refused token, BM for a Malay browser', { timeout: 60_000 }, async () => {
    const response = await fetch(adminUrl(), { signal: AbortSignal.timeout(10_000) });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-security-policy'), CSP);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    const html = await response.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'no inline script');
    assert.doesNotMatch(html, /\sstyle=/i, 'no inline style attribute');
    const api = await fetch(`${stack.worker.url}/admin/api/orders`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(api.status, 401);
    assert.equal((await api.json()).error.type, 'unauthorized');

    const { page, close } = await openBrowser({ locale: 'ms-MY' });
    try {
      const seen = watchPage(page);
      await page.goto(adminUrl());
      await page.locator('#signin:not([hidden])').waitFor();
      assert.equal(await page.getAttribute('html', 'lang'), 'ms');
      assert.equal((await page.textContent('#signin-title')).trim(), 'Log masuk ke pesanan anda');
      assert.equal(await page.locator('#inbox').isHidden(), true, 'no inbox without a credential');
      await assertNoSeriousViolations(page, 'signed out, BM');

      await page.click('[data-lang="en"]');
      assert.equal((await page.textContent('#signin-title')).trim(), 'Sign in to your orders');
      await page.fill('#token', 'not-the-token-0123456789abcdefghijkl');
      await page.click('#signin-button');
      await page.locator('#signin-error:not([hidden])').waitFor();
      assert.match(await page.textContent('#signin-error'), /not accepted/);
      assert.equal(await page.getAttribute('#token', 'aria-invalid'), 'true');
      await screenshot(page, 'admin-1-signin-refused');
      assert.deepEqual([seen.dialogs, seen.csp, seen.errors], [[], [], []]);
    } finally {
      await close();
    }
  });

  test('signed in: a paid and a failed payment appear live; search, CSV, fulfil and undo, recheck, redeliver, both languages', { timeout: 200_000 }, async () => {
    const { page, close } = await openBrowser({ acceptDownloads: true });
    try {
      const seen = watchPage(page);
      await signIn(page);
      await page.locator('#shop-name', { hasText: SHOP }).waitFor();
      await assertNoSeriousViolations(page, 'signed in');

      // made while the page is open: they must come in by its polling, not a reload
      const paid = await createPayment('Aisyah Rahman', 'aisyah@example.my', [{ sku: CATALOG[0].sku, quantity: 1 }, { sku: CATALOG[1].sku, quantity: 2 }]);
      const failed = await createPayment('Badrul Hisham', 'badrul@example.my');
      const pending = await createPayment('Chong Wei Ling', 'weiling@example.my', [{ sku: CATALOG[2].sku, quantity: 1 }]);
      await settle(paid.reference, 'paid');
      await settle(failed.reference, 'failed');
      const navigations = [];
      page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations.push(frame.url()); });

      await row(page, paid.id, 'paid').waitFor({ timeout: 60_000 });
      await row(page, failed.id).waitFor({ timeout: 30_000 });
      await row(page, pending.id).waitFor({ timeout: 30_000 });
      const paidText = await row(page, paid.id).textContent();
      assert.match(paidText, /Aisyah Rahman/);
      assert.match(paidText, /RM\s180\.00/, 'amount: 89.00 + 2 x 45.50');
      assert.match(paidText, /1 × Sarong, kawung indigo, 2 × Silk scarf, parang soga/);
      assert.match(paidText, new RegExp(paid.reference));
      // newest first, as the API orders them (created_at, then id, both descending: payments
      // made in the same second tie on the time)
      const listed = (await adminGet('/admin/api/orders')).orders;
      assert.ok(listed.every((o, i) => i === 0 || listed[i - 1].created_at >= o.created_at), 'the API lists newest first');
      const ids = await page.locator('#orders .order').evaluateAll((items) => items.map((li) => li.dataset.id));
      assert.deepEqual(ids, listed.map((o) => o.id), 'the page shows the API\'s order');
      await page.locator('#total-today', { hasText: /RM\s180\.00/ }).waitFor({ timeout: 70_000 });

      // search by name, then by reference
      await page.fill('#q', 'aisyah');
      await page.click('#filters [type="submit"]');
      await eventually(async () => (await page.locator('#orders .order').count()) === 1, 15_000, 'one search result');
      assert.equal(await page.locator('#orders .order').first().getAttribute('data-id'), paid.id);
      await page.fill('#q', failed.reference);
      await page.click('#filters [type="submit"]');
      await eventually(async () => (await page.locator('#orders .order').evaluateAll((l) => l.map((li) => li.dataset.id))).join() === failed.id, 15_000, 'the reference found');

      // CSV of what is shown: the same filter
      assert.match(await page.getAttribute('#csv', 'href'), new RegExp(`^/admin/api/orders\\.csv\\?q=${failed.reference}$`));
      await page.click('#clear-filters');
      await row(page, paid.id).waitFor();
      assert.equal(await page.getAttribute('#csv', 'href'), '/admin/api/orders.csv');
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), page.click('#csv')]);
      const csv = await readFile(await download.path(), 'utf8');
      const lines = csv.trim().split(/\r?\n/);
      assert.match(lines[0], /reference/i, 'a header row');
      const line = lines.find((l) => l.includes(paid.reference));
      assert.ok(line, 'the paid order is a row');
      assert.match(line, /180\.00/);
      assert.match(line, /Aisyah Rahman/);

      // one order: its detail, mark fulfilled with a note, undo, recheck, redeliver
      await row(page, paid.id).locator('.order__open').click();
      await page.locator(`#detail:not([hidden])[data-id="${paid.id}"]`).waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'detail', 'focus moves to the order');
      assert.match(await page.textContent('#detail-fields'), new RegExp(paid.reference));
      assert.equal(await page.locator('#detail-items li').count(), 2);
      await assertNoSeriousViolations(page, 'one order');
      await page.fill('#note', 'Pos Laju EP123456789MY');
      await page.click('#fulfil');
      await page.locator('#detail[data-fulfilled="true"]').waitFor();
      assert.equal(await page.textContent('#detail-note'), 'Pos Laju EP123456789MY');
      assert.match(await page.textContent('#detail-message'), /Marked fulfilled/);
      await page.click('#unfulfil');
      await page.locator('#detail[data-fulfilled="false"]').waitFor();
      assert.equal(await page.locator('#detail-note').isHidden(), true);
      await page.fill('#note', 'Pos Laju EP987654321MY');
      await page.click('#fulfil');
      await page.locator('#detail[data-fulfilled="true"]').waitFor();
      const stored = await adminGet(`/admin/api/orders/${encodeURIComponent(paid.id)}`);
      assert.equal(stored.note, 'Pos Laju EP987654321MY');
      assert.notEqual(stored.fulfilled_at, null);

      await page.click('#recheck');
      await page.locator('#detail-message', { hasText: 'Checked with KelantanPay: Paid' }).waitFor({ timeout: 20_000 });
      await page.click('#redeliver');
      await page.locator('#detail-message', { hasText: /sent again|no webhook/ }).waitFor({ timeout: 20_000 });

      // Bahasa Melayu and back
      await page.click('[data-lang="ms"]');
      assert.equal(await page.getAttribute('html', 'lang'), 'ms');
      assert.equal((await page.textContent('#detail-status')).trim(), 'Dibayar');
      assert.match(await page.textContent('#detail-fulfilled'), /^Dihantar pada /);
      await page.click('#detail-back');
      await page.locator('#inbox:not([hidden])').waitFor();
      assert.equal(await page.evaluate((id) => document.activeElement?.closest('.order')?.dataset.id, paid.id), paid.id, 'focus back on the order');
      assert.equal((await page.textContent('#inbox-title')).trim(), 'Pesanan');
      assert.match(await row(page, paid.id).textContent(), /Sudah dihantar/);
      await assertNoSeriousViolations(page, 'signed in, BM');
      await page.click('[data-lang="en"]');
      assert.equal((await page.textContent('#inbox-title')).trim(), 'Orders');

      // the failure: a 22 reads pending for the payment's first minute; once it is past,
      // a status poll confirms it and the row turns failed on the open page
      await eventually(async () => (await paymentStatus(failed.id)) === 'failed', 150_000, 'the payment to read failed');
      await row(page, failed.id, 'failed').waitFor({ timeout: 70_000 });
      assert.deepEqual(navigations, [], 'the page never reloaded');
      await screenshot(page, 'admin-2-inbox-desktop');
      assert.deepEqual([seen.dialogs, seen.csp, seen.errors], [[], [], []]);
    } finally {
      await close();
    }
  });

  test('on a 360 px phone: cards that fit, 44 px tap targets, no serious axe violation', { timeout: 60_000 }, async () => {
    await createPayment('Siti Aminah', 'siti@example.my'); // the list is never empty, whatever ran before
    const { page, close } = await openBrowser(PHONE);
    try {
      const seen = watchPage(page);
      await page.goto(adminUrl());
      await page.locator('#signin:not([hidden])').waitFor();
      await assertFits(page, 'phone, signed out');
      await assertNoSeriousViolations(page, 'phone, signed out');
      await page.fill('#token', TOKEN);
      await page.tap('#signin-button');
      await page.locator('#orders .order').first().waitFor();
      await page.locator('#total-month', { hasText: /RM/ }).waitFor();
      await assertFits(page, 'phone, inbox');
      await assertNoSeriousViolations(page, 'phone, inbox');
      await screenshot(page, 'admin-3-inbox-phone');
      await page.locator('#orders .order__open').first().tap();
      await page.locator('#detail:not([hidden])').waitFor();
      await assertFits(page, 'phone, one order');
      await assertNoSeriousViolations(page, 'phone, one order');

      await page.tap('#detail-back');
      await page.tap('#sign-out');
      await page.locator('#signin:not([hidden])').waitFor();
      const status = await page.evaluate(async () => (await fetch('/admin/api/orders')).status);
      assert.equal(status, 401, 'signed out: the cookie no longer opens the list');
      assert.deepEqual([seen.dialogs, seen.csp, seen.errors], [[], [], []]);
    } finally {
      await close();
    }
    if (process.env.KP_SCREENSHOT === '1') await readmePicture();
  });

  test('behind Cloudflare Access the page opens straight on the list, with no sign-in form', { timeout: 60_000 }, async () => {
    // Access's edge adds the assertion to every request of a signed-in browser
    const { page, close } = await openBrowser({ extraHTTPHeaders: { 'cf-access-jwt-assertion': access.mint() } });
    try {
      const seen = watchPage(page);
      const signInShown = [];
      await page.exposeFunction('kpSignInShown', () => signInShown.push(true));
      await page.addInitScript(() => {
        new MutationObserver(() => {
          if (document.getElementById('signin')?.hidden === false) window.kpSignInShown();
        }).observe(document, { subtree: true, attributes: true, attributeFilter: ['hidden'] });
      });
      await page.goto(adminUrl());
      await page.locator('#inbox:not([hidden])').waitFor();
      await page.locator('#shop-name', { hasText: SHOP }).waitFor();
      assert.equal(await page.locator('#signin').isHidden(), true);
      assert.deepEqual(signInShown, [], 'the sign-in form never showed');
      assert.deepEqual([seen.dialogs, seen.csp, seen.errors], [[], [], []]);
    } finally {
      await close();
    }
  });

  test('a link to one order (/admin#order=<id>) opens it, through the sign-in form too; its deliveries name each channel and result, in both languages', { timeout: 60_000 }, async () => {
    // a row as the ledger writes it once alerts exist: a webhook from before them (no channel),
    // a Telegram alert retrying, an e-mail alert that gave up; 40 days old, so no total moves
    const id = 'KP99-1.deeplink.test';
    const at = Date.now() - 40 * 86_400_000;
    const events = [
      { type: 'payment.paid', id: 'evt_KP99-1_paid', attempts: 1, result: 'delivered', last_at: new Date(at).toISOString() },
      { type: 'payment.paid', id: 'alert_KP99-1_paid_telegram', channel: 'telegram', attempts: 2, result: 'pending', last_at: new Date(at).toISOString() },
      { type: 'payment.paid', id: 'alert_KP99-1_paid_email', channel: 'email', attempts: 40, result: 'dead_letter', last_at: new Date(at).toISOString() },
    ];
    await stack.ledger(
      `INSERT INTO orders (id, reference, orderid, status, code, amount_sen, currency, created_ms, updated_ms, paid_ms, name, email,
         mobile, description, items, events, revision) VALUES (?, 'KP99-1', 'ORD-99', 'paid', '00', 4550, 'MYR', ?, ?, ?, 'Nurul Izzah',
         'nurul@example.my', NULL, 'Batik', '[]', ?, 1)`, id, at, at, at, JSON.stringify(events));
    const linked = `${adminUrl()}#order=${encodeURIComponent(id)}`;
    const lines = (page) => page.locator('#detail-events li').evaluateAll((items) => items.map((li) => [li.dataset.channel, li.dataset.result, li.textContent]));
    const { page, close } = await openBrowser();
    try {
      const seen = watchPage(page);
      // no session: the sign-in form first, then straight to the order
      await page.goto(linked);
      await page.locator('#signin:not([hidden])').waitFor();
      await page.fill('#token', TOKEN);
      await page.click('#signin-button');
      await page.locator(`#detail:not([hidden])[data-id="${id}"]`).waitFor();
      assert.equal(await page.textContent('#detail-title'), 'Nurul Izzah');
      const [webhook, telegram, email] = await lines(page);
      assert.deepEqual(webhook.slice(0, 2), ['webhook', 'delivered'], 'no channel: a webhook');
      assert.match(webhook[2], /^Webhook.*delivered/);
      assert.deepEqual(telegram.slice(0, 2), ['telegram', 'retrying']);
      assert.match(telegram[2], /^Telegram.*2 attempts.*retrying/);
      assert.deepEqual(email.slice(0, 2), ['email', 'dead_letter']);
      assert.match(email[2], /^E-mail.*gave up after 3 days/);
      await assertNoSeriousViolations(page, 'one order with alerts');
      await page.click('[data-lang="ms"]');
      assert.deepEqual((await lines(page)).map((line) => line[2].match(/^(Webhook|Telegram|E-mel).*(sudah dihantar|mencuba semula|dihentikan selepas 3 hari)/)?.slice(1)),
        [['Webhook', 'sudah dihantar'], ['Telegram', 'mencuba semula'], ['E-mel', 'dihentikan selepas 3 hari']]);
      await page.click('[data-lang="en"]');
      // back to the list: the address no longer names the order
      await page.click('#detail-back');
      await page.locator('#inbox:not([hidden])').waitFor();
      assert.equal(new URL(page.url()).hash, '');

      // signed in: a link opens the order on load, and one followed in the open tab opens it too
      await page.goto('about:blank');
      await page.goto(linked);
      await page.locator(`#detail:not([hidden])[data-id="${id}"]`).waitFor();
      await page.click('#detail-back');
      await page.locator('#inbox:not([hidden])').waitFor();
      await page.evaluate((hash) => { location.hash = hash; }, `#order=${encodeURIComponent(id)}`);
      await page.locator(`#detail:not([hidden])[data-id="${id}"]`).waitFor();
      await page.click('#detail-back');
      // a link to no order: the list, and a plain message
      await page.evaluate(() => { location.hash = '#order=KP1-1.nothing.here'; });
      await page.locator('#list-error', { hasText: 'There is no order with this id.' }).waitFor();
      assert.equal(await page.locator('#detail').isHidden(), true);
      assert.deepEqual([seen.dialogs, seen.csp, seen.errors], [[], [], []]);
    } finally {
      await close();
    }
  });

  test(`a buyer named ${XSS} is shown as text: no dialog, no img element`, { timeout: 60_000 }, async () => {
    const { page, close } = await openBrowser();
    try {
      const seen = watchPage(page);
      await signIn(page);
      const evil = await createPayment(XSS, 'evil@example.my');
      await row(page, evil.id).waitFor({ timeout: 30_000 });
      assert.equal((await row(page, evil.id).locator('.order__open').textContent()), XSS);
      await row(page, evil.id).locator('.order__open').click();
      await page.locator(`#detail:not([hidden])[data-id="${evil.id}"]`).waitFor();
      assert.equal(await page.textContent('#detail-title'), XSS);
      assert.equal(await page.locator('img').count(), 0, 'no img element anywhere');
      assert.deepEqual(seen.dialogs, [], 'no dialog');
      assert.deepEqual([seen.csp, seen.errors], [[], []]);
    } finally {
      await close();
    }
  });
});
