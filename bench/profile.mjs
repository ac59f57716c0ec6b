// A V8 CPU profile of a Worker under load, as a table of the top self-time functions.
//   bash scripts/build-worker.sh --profiling && node bench/profile.mjs [create|pending|final] [--js]
// Runs the profiling build (worker/build-profiling: release code, function names kept) or, with
// --js, the plain-JS baseline, in workerd with Miniflare's inspectorPort against the upstream stub,
// samples its isolate with the V8 profiler while wrk loads one scenario, and prints Markdown.
// PROFILE_SECONDS (default 6), PROFILE_TOP (default 25), PROFILE_OUT=<file.cpuprofile> to keep it,
// PROFILE_BUILD=worker/build to profile the shipped build (wasm functions then have no names).
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

if (typeof WebSocket === 'undefined') {
  // Node 20 has the WebSocket client behind a flag.
  const run = spawnSync(process.execPath, ['--experimental-websocket', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}

const { randomSecrets, startWorker } = await import('../tests/support/harness.mjs');
const { ORDER, ROOT, plainWorker, post, startStub, withPid, wrk } = await import('./lib.mjs');

const scenario = process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'pending';
const js = process.argv.includes('--js');
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 6);
const TOP = Number(process.env.PROFILE_TOP ?? 25);
const BUILD = join(ROOT, process.env.PROFILE_BUILD ?? 'worker/build-profiling');
if (!js && !existsSync(join(BUILD, 'entry.mjs'))) {
  console.error('worker/build-profiling is missing: run `bash scripts/build-worker.sh --profiling` first');
  process.exit(1);
}

const freePort = () => new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
});

/** A DevTools-protocol session over the inspector's WebSocket. */
async function session(url) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = () => reject(new Error(`inspector ${url} refused`)); });
  let id = 0;
  const waiting = new Map();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.id && waiting.has(message.id)) {
      waiting.get(message.id)(message);
      waiting.delete(message.id);
    }
  };
  return {
    send: (method, params = {}) => new Promise((resolve, reject) => {
      id += 1;
      waiting.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
      socket.send(JSON.stringify({ id, method, params }));
    }),
    close: () => socket.close(),
  };
}

/** Self time per function (name and where it lives), sorted. */
export function selfTimes(profile) {
  const byName = new Map();
  let total = 0;
  let idle = 0;
  const interval = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
  const hitsOf = new Map();
  for (const id of profile.samples) hitsOf.set(id, (hitsOf.get(id) ?? 0) + 1);
  for (const node of profile.nodes) {
    const { functionName, url } = node.callFrame;
    const hits = hitsOf.get(node.id) ?? 0;
    if (functionName === '(idle)') { idle += hits; continue; }
    total += hits;
    const where = url.startsWith('wasm://') ? 'wasm' : url ? url.split('/').pop() : 'runtime';
    const key = `${functionName || '(anonymous)'}\u0000${where}`;
    byName.set(key, (byName.get(key) ?? 0) + hits);
  }
  const rows = [...byName.entries()].map(([key, hits]) => {
    const [name, where] = key.split('\u0000');
    return { name, where, hits, ms: (hits * interval) / 1000 };
  }).sort((a, b) => b.hits - a.hits);
  return { rows, total, idle, interval };
}

const secrets = randomSecrets();
const vars = { KP_RATE_LIMIT_PER_MINUTE: '100000000', KP_STATUS_RATE_LIMIT_PER_MINUTE: '100000000', KP_RECONCILE_SCHEDULE: '86400' };
const stub = await startStub();
const inspectorPort = await freePort();
const worker = await withPid(() => (js
  ? plainWorker(stub.url, secrets, vars, { inspectorPort })
  : startWorker({ sandboxUrl: stub.url, secrets, vars, assets: false, captureLogs: !!process.env.PROFILE_LOGS, build: BUILD, miniflare: { inspectorPort } })));
try {
  const made = [];
  for (let i = 0; i < 32; i += 1) made.push(await post(`${worker.url}/api/payments`, ORDER));
  if (scenario === 'final') {
    for (const p of made) await stub.markPaid(p.reference);
    await new Promise((r) => setTimeout(r, 2100));
    for (const p of made) await fetch(`${worker.url}/api/payments/${encodeURIComponent(p.id)}`).then((r) => r.text());
  }
  const paths = scenario === 'create' ? ['/api/payments'] : made.map((p) => `/api/payments/${encodeURIComponent(p.id)}`);
  const load = (seconds) => wrk(worker.url, paths, { post: scenario === 'create' ? ORDER : undefined, seconds, connections: 8, pid: worker.pid });
  await load(1);

  const targets = await fetch(`http://127.0.0.1:${inspectorPort}/json/list`).then((r) => r.json());
  // Miniflare's own Workers (entry, cache, cf-connecting-ip) are there too; ours is `core:user:`.
  const target = targets.find((t) => t.id.startsWith('core:user:'));
  const inspector = await session(target.webSocketDebuggerUrl);
  await inspector.send('Profiler.enable');
  await inspector.send('Profiler.setSamplingInterval', { interval: 200 });
  await inspector.send('Profiler.start');
  const run = await load(SECONDS);
  const { profile } = await inspector.send('Profiler.stop');
  inspector.close();
  if (process.env.PROFILE_OUT) writeFileSync(process.env.PROFILE_OUT, JSON.stringify(profile));

  const { rows, total, idle, interval } = selfTimes(profile);
  const pct = (n) => `${((100 * n) / total).toFixed(1)}%`;
  const wasm = rows.filter((r) => r.where === 'wasm').reduce((s, r) => s + r.hits, 0);
  console.log([
    `#### Top self time: ${js ? 'plain-JS' : 'Rust'} Worker, ${scenario} (${run.requests} requests in ${SECONDS} s, ${run.cpuPerRequest.toFixed(3)} ms workerd CPU/request)`, '',
    `${total} samples of ${interval.toFixed(0)} µs in the isolate's thread while busy (${idle} idle); in wasm: ${pct(wasm)}; target \`${target.title ?? target.id}\`.`, '',
    '| self | function | where |', '|---|---|---|',
    ...rows.slice(0, TOP).map((r) => `| ${pct(r.hits)} | \`${r.name.replace(/\|/g, '\\|').slice(0, 110)}\` | ${r.where} |`),
  ].join('\n'));
} finally {
  if (process.env.PROFILE_LOGS) console.error(worker.logs?.slice(-30).join('\n'));
  await worker.stop();
  stub.stop();
}
