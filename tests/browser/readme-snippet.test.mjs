// The README's "own static site" snippet, exactly as printed there, on a separate origin with the
// settings the README tells merchants to make: pay on the sandbox and see "paid" back on the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startStack } from '../support/harness.mjs';
import { openBrowser, screenshot } from './browser.mjs';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

function snippet() {
  const section = README.slice(README.indexOf('## Take payments from your own static site'));
  const match = /```html\n([\s\S]*?)```/.exec(section);
  assert.ok(match, 'the README has no html snippet in its static-site section');
  return match[1];
}

test('the README snippet takes a payment from another origin', { timeout: 120_000 }, async () => {
  let page = '';
  const site = createServer((req, res) => {
    res.writeHead(req.url.startsWith('/pay') ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(req.url.startsWith('/pay') ? page : 'not found');
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${site.address().port}`;
  // The settings the README's step 1 asks for, in open-amount mode (no catalog).
  const stack = await startStack({
    vars: { KP_CATALOG: undefined, KP_ALLOWED_ORIGINS: origin, KP_RETURN_URLS: `${origin}/pay`, KP_RETURN_URL: `${origin}/pay` },
    sandbox: { early22Seconds: 0 },
  });
  const code = snippet();
  assert.match(code, /const WORKER = '[^']+';/);
  page = `<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body>${code.replace(/const WORKER = '[^']+';/, `const WORKER = '${stack.worker.url}';`)}</body></html>`;
  const browser = await openBrowser();
  try {
    const tab = browser.page;
    await tab.goto(`${origin}/pay`);
    await tab.fill('input[name=amount]', '12.50');
    await tab.fill('input[name=name]', 'Siti Aminah');
    await tab.fill('input[name=email]', 'siti@example.my');
    await tab.fill('input[name=mobile]', '012-345 6789');
    await Promise.all([tab.waitForURL((u) => u.href.startsWith(stack.sandbox.url)), tab.click('#kp-form button')]);
    await screenshot(tab, 'snippet-1-sandbox-checkout');
    await Promise.all([tab.waitForURL((u) => u.href.startsWith(`${origin}/pay?kp_payment=`)), tab.click('#pay')]);
    await tab.waitForFunction(() => /Payment paid/.test(document.getElementById('kp-status').textContent), null, { timeout: 30_000 });
    await screenshot(tab, 'snippet-2-paid');
    const [stored] = await fetch(`${stack.sandbox.url}/__sandbox/payments`).then((r) => r.json());
    assert.deepEqual([stored.amountText, stored.mobile], ['12.50', '0123456789']);
  } finally {
    await browser.close();
    await stack.stop();
    site.close();
  }
});
