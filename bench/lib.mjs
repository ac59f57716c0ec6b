// What bench/run.mjs and bench/profile.mjs share: the upstream stub in its own process, wrk,
// workerd's CPU time from /proc, and the plain-JS baseline in workerd.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Miniflare, Log, LogLevel } from 'miniflare';

const execFileAsync = promisify(execFile);
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const ORDER = { items: [{ sku: 'batik-scarf', quantity: 1 }], name: 'Bench Buyer', email: 'bench@example.my', mobile: '0123456789' };

export const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
export const median = (xs) => quantile([...xs].sort((a, b) => a - b), 0.5);

/** The canned upstream (bench/stub.mjs) in a child process; it exits when this process does. */
export async function startStub() {
  const child = spawn(process.execPath, [join(ROOT, 'bench/stub.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the stub did not start within 10 s')), 10_000);
    createInterface({ input: child.stdout }).once('line', (line) => { clearTimeout(timer); resolve(Number(line.split(' ')[1])); });
    child.once('exit', (code) => reject(new Error(`the stub exited (${code})`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    pid: child.pid,
    stats: () => fetch(`${url}/__stub/stats`).then((r) => r.json()),
    markPaid: (reference) => fetch(`${url}/__stub/paid/${encodeURIComponent(reference)}`, { method: 'POST' }).then((r) => r.text()),
    stop: () => { child.stdin.end(); child.kill(); },
  };
}

/** The workerd processes this process started (Miniflare spawns each as a direct child). */
export function workerdChildren() {
  const pids = new Set();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && comm === 'workerd') pids.add(Number(name));
    } catch { /* gone */ }
  }
  return pids;
}

/** Starts a Miniflare instance with `start` and returns it with the pid of its own workerd. */
export async function withPid(start) {
  const before = workerdChildren();
  const instance = await start();
  const fresh = [...workerdChildren()].filter((pid) => !before.has(pid));
  if (fresh.length !== 1) throw new Error(`expected one new workerd process, found ${fresh.length}`);
  return { ...instance, pid: fresh[0] };
}

/** CPU time of every thread of `pid` so far, in ms (schedstat: nanoseconds on a CPU). */
export function cpuMs(pid) {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch { /* thread ended */ }
  }
  return ns / 1e6;
}

/**
 * wrk against `base` + each of `paths` in turn (one connection's requests rotate through them),
 * with the CPU time the process `pid` spent meanwhile. Async, so this process keeps serving.
 */
export async function wrk(base, paths, { post, seconds, connections, pid }) {
  const dir = mkdtempSync(join(tmpdir(), 'kp-wrk-'));
  const script = join(dir, 'bench.lua');
  writeFileSync(script, [
    post ? `wrk.method = "POST"\nwrk.body = [[${JSON.stringify(post)}]]\nwrk.headers["Content-Type"] = "application/json"` : '',
    `local paths = { ${paths.map((p) => JSON.stringify(p)).join(', ')} }`,
    'local i = 0',
    'request = function() i = i % #paths + 1; return wrk.format(nil, paths[i]) end',
  ].join('\n'));
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '10s', '-s', script, base];
  const cpuBefore = pid ? cpuMs(pid) : 0;
  const { stdout: out } = await execFileAsync('wrk', args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const cpu = pid ? cpuMs(pid) - cpuBefore : NaN;
  const unit = (v, u) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[u]);
  const pct = (p) => { const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(out); return m ? unit(m[1], m[2]) : NaN; };
  const requests = Number(/(\d+) requests in/.exec(out)[1]);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors: (.*)/.exec(out)?.[1];
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]), p50: pct(50), p99: pct(99), requests, non2xx, errors,
    cpuPerRequest: cpu / requests,
  };
}

/** Times `n` sequential calls (after 20 to warm up), sorted, in ms. */
export async function timed(n, call) {
  for (let i = 0; i < 20; i += 1) await call();
  const times = [];
  for (let i = 0; i < n; i += 1) {
    const t = process.hrtime.bigint();
    await call();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

/** A Worker in workerd the way both benchmarked Workers run: loopback, no cf fetch, its output read and dropped. */
export async function serve(options) {
  const mf = new Miniflare({
    modules: true, compatibilityDate: '2025-09-01', host: '127.0.0.1', port: 0, cf: false, log: new Log(LogLevel.WARN),
    handleRuntimeStdio(stdout, stderr) { stdout.resume(); stderr.resume(); },
    ...options,
  });
  const url = (await mf.ready).toString().replace(/\/$/, '');
  return { url, mf, stop: () => mf.dispose() };
}

/** The runtime's own per-request cost on this machine: a Worker that only answers. */
export const helloWorker = () => serve({ script: 'export default { fetch: () => new Response("ok") };' });

/** bench/plain-worker: the same objects and upstream calls as the Rust Worker. */
export const plainWorker = (upstream, secrets, vars, options = {}) => serve({
  scriptPath: join(ROOT, 'bench/plain-worker/worker.mjs'),
  durableObjects: {
    PAYMENTS: { className: 'PlainPayment', useSQLite: true },
    CLIENTS: { className: 'PlainBucket', useSQLite: true },
    ORDERS: { className: 'PlainOrderIndex', useSQLite: true },
  },
  durableObjectsPersist: mkdtempSync(join(tmpdir(), 'kp-plain-do-')),
  bindings: { KP_BASE_URL: upstream, KP_PROVIDER: 'sandbox', KP_ACCOUNT: '000000', ...vars, ...secrets },
  ...options,
});

export const post = (url, body, headers = {}) => fetch(url, {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
}).then((r) => r.json());
