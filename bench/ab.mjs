// A/B of two builds of the Rust Worker, for the levers in the README: both in workerd against the
// stub, the same scenarios as bench/run.mjs, alternating runs; prints workerd CPU per request.
//   node bench/ab.mjs worker/build worker/build-nopanic     (BENCH_SECONDS, BENCH_ROUNDS,
//   BENCH_SCENARIOS=final,pending to run only those; BENCH_LEDGER=0 starts both without the
//   LEDGER D1 binding: the CPU of workerd's local D1, which runs in the same process, then does
//   not count against the build that writes the ledger)
import { join } from 'node:path';
import { randomSecrets, startWorker } from '../tests/support/harness.mjs';
import { ORDER, ROOT, median, post, startStub, withPid, wrk } from './lib.mjs';

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node bench/ab.mjs <build dir A> <build dir B>');
  process.exit(2);
}
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const secrets = randomSecrets();
const vars = { KP_RATE_LIMIT_PER_MINUTE: '100000000', KP_STATUS_RATE_LIMIT_PER_MINUTE: '100000000', KP_RECONCILE_SCHEDULE: '86400' };
const stub = await startStub();
const builds = {};
try {
  for (const dir of [a, b]) {
    builds[dir] = await withPid(() => startWorker({ sandboxUrl: stub.url, secrets, vars, assets: false, captureLogs: false, build: join(ROOT, dir), ledger: process.env.BENCH_LEDGER !== '0' }));
  }
  const paths = {};
  for (const [dir, w] of Object.entries(builds)) {
    const made = [];
    for (let i = 0; i < 64; i += 1) made.push(await post(`${w.url}/api/payments`, ORDER));
    const path = (p) => `/api/payments/${encodeURIComponent(p.id)}`;
    paths[dir] = { create: ['/api/payments'], pending: made.slice(0, 32).map(path), final: made.slice(32).map(path) };
    for (const p of made.slice(32)) await stub.markPaid(p.reference);
  }
  await new Promise((r) => setTimeout(r, 2100));
  for (const [dir, w] of Object.entries(builds)) for (const p of paths[dir].final) await fetch(w.url + p).then((r) => r.text());
  const lines = [`| scenario | ${a} CPU/req | ${b} CPU/req | B/A | req/s A, B (median) |`, '|---|---|---|---|---|'];
  for (const key of (process.env.BENCH_SCENARIOS ?? 'final,pending,create').split(',')) {
    const runs = { [a]: [], [b]: [] };
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const dir of round % 2 ? [b, a] : [a, b]) {
        runs[dir].push(await wrk(builds[dir].url, paths[dir][key], { post: key === 'create' ? ORDER : undefined, seconds: SECONDS, connections: 8, pid: builds[dir].pid }));
      }
    }
    const cpu = (dir) => median(runs[dir].map((r) => r.cpuPerRequest));
    const rps = (dir) => median(runs[dir].map((r) => r.rps)).toFixed(0);
    lines.push(`| ${key} | ${cpu(a).toFixed(3)} ms | ${cpu(b).toFixed(3)} ms | ${(cpu(b) / cpu(a)).toFixed(2)} | ${rps(a)}, ${rps(b)} |`);
  }
  console.log(lines.join('\n'));
} finally {
  for (const w of Object.values(builds)) await w.stop();
  stub.stop();
}
