// Steps the storefront tests share: one real stack (sandbox + Worker) per test file, configured
// with a demo catalog, and filling the cart and checkout form the way a payer would.
import { after, before } from 'node:test';
import { freePort, startStack } from '../support/harness.mjs';

export const CATALOG = [
  { sku: 'sarong-kawung', name: 'Sarong, kawung indigo', amount: '89.00' },
  { sku: 'scarf-parang', name: 'Silk scarf, parang soga', amount: '45.50' },
  { sku: 'shirt-ceplok', name: 'Batik shirt, ceplok teal', amount: '120.00' },
];

export const PAYER = { name: 'Siti Aminah', email: 'siti@example.com', mobile: '012-345 6789' };

/** Worker vars: catalog mode; the Worker's own origin (a free port, chosen first) as the return URL. */
export async function stackOptions() {
  const port = await freePort();
  return { port, vars: { KP_CATALOG: JSON.stringify(CATALOG), KP_RETURN_URLS: `http://127.0.0.1:${port}/` } };
}

/** Starts the stack before the file's tests and always stops it after; call the result to get it. */
export function sharedStack() {
  let stack;
  before(async () => {
    stack = await startStack(await stackOptions());
  }, { timeout: 120_000 });
  after(async () => {
    await stack?.stop();
  }, { timeout: 30_000 });
  return () => stack;
}

export async function openStore(page, workerUrl) {
  await page.goto(workerUrl);
  await page.locator('.product').first().waitFor();
}

export async function addToCart(page, sku, times = 1) {
  for (let i = 0; i < times; i += 1) await page.click(`[data-add="${sku}"]`);
}

export async function fillCheckout(page, payer = PAYER) {
  await page.fill('#name', payer.name);
  await page.fill('#email', payer.email);
  await page.fill('#mobile', payer.mobile);
}

export async function sandboxStats(sandboxUrl) {
  const response = await fetch(`${sandboxUrl}/__sandbox/stats`, { signal: AbortSignal.timeout(5000) });
  return response.json();
}

/** Waits until the status pill shows `status` (the poller may take a while: early 22s read as pending). */
export async function waitForStatus(page, status, timeout) {
  await page.locator(`#payment-status[data-status="${status}"]`).waitFor({ timeout });
}
