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

// orders helper (round 28): the LEDGER D1 database.
test('the Worker gets a LEDGER D1 database with every migration applied, queried with stack.ledger; ledger: false has none', async () => {
  const { migrationFiles, migrationStatements } = await import('./harness.mjs');
  const stack = await startStack();
  try {
    const tables = await stack.ledger("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", 'orders');
    assert.deepEqual(tables.results.map((t) => t.name), ['orders']);
    const indexes = (await stack.ledger("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders'")).results.map((i) => i.name);
    // Every CREATE INDEX of every migration is there.
    const { readFileSync } = await import('node:fs');
    const declared = migrationFiles().flatMap((file) => migrationStatements(readFileSync(file, 'utf8')))
      .map((statement) => /CREATE INDEX IF NOT EXISTS (\w+)/.exec(statement)?.[1]).filter(Boolean);
    assert.ok(declared.length >= 2);
    for (const name of declared) assert.ok(indexes.includes(name), `${name} missing from ${indexes}`);
    const inserted = await stack.ledger(
      "INSERT INTO orders (id, reference, orderid, status, amount_sen, created_ms, updated_ms, description, revision) VALUES (?, 'KP1-1', 'O1', 'paid', 100, 1, 1, 'd', 1)", 'x');
    assert.equal(inserted.meta.changes, 1);
  } finally {
    await stack.stop();
  }
  const plain = await startStack({ ledger: false });
  try {
    await assert.rejects(plain.ledger('SELECT 1'), /ledger: false/);
  } finally {
    await plain.stop();
  }
});
