// A merchant's page on another origin: the README's static-site page, exactly as printed there,
// importing /kelantanpay.js from the Worker, with the Worker set up as the README's step 1 says
// (open-amount mode). One per test file, started before its tests and stopped after.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startStack } from '../support/harness.mjs';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const WORKER_URL = /'https:\/\/pay\.shop\.example\/kelantanpay\.js'/;

function snippet() {
  const section = README.slice(README.indexOf('## Take payments from your own static site'));
  const match = /```html\n([\s\S]*?)```/.exec(section);
  assert.ok(match, 'the README has no html snippet in its static-site section');
  assert.match(match[1], WORKER_URL);
  return match[1];
}

/** Call the result for `{ stack, origin }`; `/pay?lang=ms` serves the page as `<html lang="ms">`. */
export function otherOriginShop() {
  const shop = {};
  let site;
  before(async () => {
    const code = snippet();
    site = createServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      const ok = url.pathname === '/pay';
      const lang = url.searchParams.get('lang') === 'ms' ? 'ms' : 'en';
      res.writeHead(ok ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
      res.end(ok
        ? `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>Shop</title></head><body>${code.replace(WORKER_URL, `'${shop.stack.worker.url}/kelantanpay.js'`)}</body></html>`
        : 'not found');
    });
    await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
    shop.origin = `http://127.0.0.1:${site.address().port}`;
    shop.stack = await startStack({
      vars: { KP_CATALOG: undefined, KP_ALLOWED_ORIGINS: shop.origin, KP_RETURN_URLS: `${shop.origin}/pay`, KP_RETURN_URL: `${shop.origin}/pay` },
      sandbox: { early22Seconds: 0 },
    });
  }, { timeout: 120_000 });
  after(async () => {
    await shop.stack?.stop();
    site?.close();
  }, { timeout: 30_000 });
  return () => shop;
}

/** Opens the page and fills the README's form. */
export async function fillShopForm(page, origin, { email, amount = '12.50', lang }) {
  await page.goto(`${origin}/pay${lang ? `?lang=${lang}` : ''}`);
  await page.fill('input[name=amount]', amount);
  await page.fill('input[name=name]', 'Siti Aminah');
  await page.fill('input[name=email]', email);
  await page.fill('input[name=mobile]', '012-345 6789');
}
