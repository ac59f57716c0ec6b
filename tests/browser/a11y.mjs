// Page checks the accessibility and mobile tests share: axe-core's rules, horizontal scrolling
// and tap-target sizes, and keyboard navigation.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core's violations of impact serious or critical on the page as it is now, as "rule: target" lines. */
export async function seriousViolations(page) {
  // no colour caught mid-transition (a hovered button fading in); the CSS honours this setting
  await page.emulateMedia({ reducedMotion: 'reduce' });
  // evaluated through DevTools, not as a <script> tag: pages whose CSP allows no inline script (/admin) take it too
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(readFileSync(AXE, 'utf8'));
  const violations = await page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ['violations'] });
    return results.violations.map(({ id, impact, nodes }) => ({ id, impact, targets: nodes.map((n) => n.target.join(' ')) }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`);
}

/** How far the page scrolls sideways (0 when it fits), what sticks out of the screen, and every visible control smaller than 44 x 44 px. */
export async function layoutProblems(page) {
  return page.evaluate(() => {
    const root = document.documentElement;
    const controls = document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])');
    const small = [];
    for (const element of controls) {
      const box = element.getBoundingClientRect();
      const shown = box.width > 0 && box.height > 0 && box.bottom + window.scrollY > 0 && getComputedStyle(element).visibility !== 'hidden';
      if (shown && (box.width < 44 || box.height < 44)) {
        small.push(`${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''} "${(element.textContent || element.getAttribute('aria-label') || '').trim().slice(0, 30)}" ${Math.round(box.width)}x${Math.round(box.height)}`);
      }
    }
    // content cut off at the screen's edge, which an `overflow: hidden` box would hide from scrollWidth
    const cut = [...document.body.querySelectorAll('*')].filter((element) => {
      const box = element.getBoundingClientRect();
      return box.width > 1 && box.height > 1 && (box.right > root.clientWidth + 0.5 || box.left < -0.5);
    }).map((element) => `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}.${element.className}`);
    return { overflow: root.scrollWidth - root.clientWidth, small, cut };
  });
}

/** Presses Tab until the focused element matches `selector` (at most `limit` times); returns the presses. */
export async function tabTo(page, selector, limit = 60) {
  for (let presses = 1; presses <= limit; presses += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return presses;
  }
  throw new Error(`${limit} presses of Tab never reached ${selector}`);
}
