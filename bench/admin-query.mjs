// The admin API's queries over 100,000 ledger rows in a local D1 (Miniflare's, SQLite): D1's own
// `meta.duration` per page (median of 7 runs, after one warm-up) and the index SQLite picks
// (EXPLAIN QUERY PLAN). The statements are exactly the ones the Worker builds: the native test
// `the_benchmarks_queries_are_the_ones_the_api_builds` (worker/src/http/admin/tests.rs) keeps
// bench/admin-queries.json equal to them.
//   node bench/admin-query.mjs [--rows 100000] [--without 0002_order_indexes.sql]
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Miniflare, Log, LogLevel } from 'miniflare';
import { ROOT, migrationFiles, migrationStatements } from '../tests/support/harness.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const ROWS = Number(arg('--rows', '100000'));
const WITHOUT = arg('--without', null);
const RUNS = 7;
const { base_ms: BASE, step_ms: STEP, queries } = JSON.parse(readFileSync(join(ROOT, 'bench/admin-queries.json'), 'utf8'));

const NAMES = ['Siti Aminah', 'Ahmad bin Ali', 'Nur Ain', 'Tan Mei Ling', 'Rajesh Kumar', 'Farah Hanim', 'Lim Wei Jie', 'Aisyah Zulkifli'];
const STATUSES = [...Array(70).fill('paid'), ...Array(20).fill('pending'), ...Array(8).fill('failed'), 'unknown', 'unknown'];

/** Row `i`: created `BASE - i * STEP`; a deterministic mix of statuses, buyers and fulfilment. */
function row(i) {
  const status = STATUSES[(i * 37) % STATUSES.length];
  const name = NAMES[(i * 13) % NAMES.length];
  const created = BASE - i * STEP;
  return [
    `bench-${String(i).padStart(6, '0')}`, `KP${i}-1`, `ORD-${i}`, status, status === 'paid' ? '00' : '11',
    1000 + (i % 50) * 250, created, created + 60_000, status === 'paid' ? created + 60_000 : null,
    i % 9 === 0 ? null : name, i % 9 === 0 ? null : `${name.split(' ')[0].toLowerCase()}${i}@example.my`, '+60123456789',
    'Kelantan batik', '[{"sku":"batik-scarf","name":"Kelantan batik scarf","quantity":1,"amount":"45.00"}]',
    status === 'paid' && i % 2 === 0 ? created + 86_400_000 : null,
  ];
}
const COLUMNS = 'id, reference, orderid, status, code, amount_sen, created_ms, updated_ms, paid_ms, name, email, mobile, description, items, fulfilled_ms';
const PER_STATEMENT = 6; // 15 columns: D1 binds at most 100 parameters per statement

const mf = new Miniflare({
  modules: true,
  script: 'export default { fetch() { return new Response(null, { status: 204 }); } }',
  compatibilityDate: '2025-09-01',
  d1Databases: { LEDGER: 'kp-ledger-bench' },
  d1Persist: mkdtempSync(join(tmpdir(), 'kp-d1-bench-')),
  log: new Log(LogLevel.WARN),
});
try {
  const db = await mf.getD1Database('LEDGER');
  const applied = [];
  for (const file of migrationFiles()) {
    if (WITHOUT && basename(file) === WITHOUT) continue;
    applied.push(basename(file));
    for (const statement of migrationStatements(readFileSync(file, 'utf8'))) await db.prepare(statement).run();
  }
  const started = Date.now();
  const placeholders = `(${COLUMNS.split(', ').map(() => '?').join(', ')})`;
  for (let i = 0; i < ROWS;) {
    const batch = [];
    for (let s = 0; s < 100 && i < ROWS; s++) {
      const n = Math.min(PER_STATEMENT, ROWS - i);
      const values = Array.from({ length: n }, (_, k) => row(i + k)).flat();
      batch.push(db.prepare(`INSERT INTO orders (${COLUMNS}, revision) VALUES ${Array(n).fill(placeholders.replace(/\)$/, ', 1)')).join(', ')}`).bind(...values));
      i += n;
    }
    await db.batch(batch);
  }
  await db.prepare('ANALYZE').run();
  console.log(`${ROWS} rows in ${((Date.now() - started) / 1000).toFixed(1)} s; migrations: ${applied.join(', ')}\n`);
  console.log('| query | rows | D1 ms per page (median of 7) | index (EXPLAIN QUERY PLAN) |');
  console.log('|---|---|---|---|');
  for (const { name, sql, params } of queries) {
    const durations = [];
    let rows = 0;
    await db.prepare(sql).bind(...params).all();
    for (let r = 0; r < RUNS; r++) {
      const result = await db.prepare(sql).bind(...params).all();
      durations.push(result.meta.duration);
      rows = result.results.length;
    }
    durations.sort((a, b) => a - b);
    const plan = (await db.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...params).all()).results.map((p) => p.detail).join('; ');
    console.log(`| ${name} | ${rows} | ${durations[RUNS >> 1].toFixed(2)} | ${plan} |`);
  }
} finally {
  await mf.dispose();
}
