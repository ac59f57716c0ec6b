// Chromium for the storefront tests: Debian's /usr/bin/chromium driven by playwright-core, a fresh
// profile per launch, and screenshots kept in artifacts/screenshots/ (git-ignored) for a human to look at.
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SCREENSHOTS = path.join(ROOT, 'artifacts', 'screenshots');

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

/** `{ page, close() }`: one browser with its own throwaway profile; close() always removes it. Other options go to Playwright (isMobile, hasTouch, ...). */
export async function openBrowser({ viewport = { width: 1280, height: 900 }, locale = 'en-US', ...options } = {}) {
  const profile = await mkdtemp(path.join(tmpdir(), 'kp-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: FLAGS,
      viewport,
      locale,
      ...options,
      timeout: 30_000,
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  page.setDefaultNavigationTimeout(20_000);
  return {
    page,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Runs `steps(page)` in a fresh browser (options as for `openBrowser`) that always closes. */
export async function withPage(steps, options = {}) {
  const { page, close } = await openBrowser(options);
  try {
    await steps(page);
  } finally {
    await close();
  }
}

/** Saves `artifacts/screenshots/<name>.png` (full page). */
export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });
}

/** Every request the page makes to `POST /api/payments`, as it happens. */
export function recordPaymentPosts(page) {
  const posts = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/payments') posts.push(request);
  });
  return posts;
}
