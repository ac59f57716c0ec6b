// The harness itself: a stack starts, the Worker is configured against the sandbox, serves the
// storefront, and its log lines are captured.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';

test('startStack runs the built Worker against the sandbox and serves www/', async () => {
  const stack = await startStack();
  try {
    const health = await fetch(`${stack.worker.url}/api/health`).then((r) => r.json());
    assert.equal(health.configured, true);
    const config = await fetch(`${stack.worker.url}/api/config`).then((r) => r.json());
    assert.equal(config.mode, 'catalog');
    assert.equal(config.catalog.length, 3);
    const page = await fetch(`${stack.worker.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(stack.worker.logs.some((line) => line.includes('"route":"/api/health"')), stack.worker.logs.join('\n'));
  } finally {
    await stack.stop();
  }
});
