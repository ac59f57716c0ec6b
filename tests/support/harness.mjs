// Starts what a test needs: the sandbox gateway and the BUILT Worker in workerd (Miniflare),
// with the Durable Object and the storefront assets, on free 127.0.0.1 ports. Every start has
// a timeout; stop() stops everything that was started.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { stripVTControlCharacters } from 'node:util';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare, Log, LogLevel } from 'miniflare';
import { unstable_readConfig } from 'wrangler';
import { startSandbox } from '../../sandbox/server.mjs';

export { startSandbox };

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BUILD = join(ROOT, 'worker/build');
const START_TIMEOUT_MS = 30_000;

/** The [vars] of wrangler.toml, read by wrangler itself so tests run the shipped defaults. */
function wranglerVars() {
  const config = unstable_readConfig({ config: join(ROOT, 'wrangler.toml') }, { hideWarnings: true });
  return Object.fromEntries(Object.entries(config.vars ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** wrangler.toml's `[assets] run_worker_first`. */
function workerFirst() {
  return unstable_readConfig({ config: join(ROOT, 'wrangler.toml') }, { hideWarnings: true }).assets.run_worker_first;
}

/**
 * wrangler.toml's [[ratelimits]] as Miniflare options. Their limits follow the status limit the
 * test runs with, as a merchant who changes KP_STATUS_RATE_LIMIT_PER_MINUTE must change them
 * (a binding's limit is fixed in wrangler.toml): the same factor for each. `limits` (binding name
 * -> limit) sets them outright, to test the binding apart from the isolate's own count.
 */
function wranglerRatelimits(statusLimit, limits = {}) {
  const config = unstable_readConfig({ config: join(ROOT, 'wrangler.toml') }, { hideWarnings: true });
  const shipped = Number(config.vars?.KP_STATUS_RATE_LIMIT_PER_MINUTE);
  const scale = Number(statusLimit) > 0 && shipped > 0 ? Number(statusLimit) / shipped : 1;
  return Object.fromEntries((config.ratelimits ?? []).map(({ name, simple }) => [
    name,
    { simple: { limit: limits[name] ?? Math.max(1, Math.round(simple.limit * scale)), period: simple.period } },
  ]));
}

function withTimeout(promise, what, ms = START_TIMEOUT_MS) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`${what} did not start within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The built Worker (worker/build, from scripts/build-worker.sh) in workerd. `vars` override
 * wrangler.toml's; a var set to `undefined` is removed. `logs` collects every line it prints
 * (unless `captureLogs` is false, for benchmarks: the lines are then read and dropped). `build`
 * and `miniflare` (extra Miniflare options) are for the benchmarks' profiling build.
 * `ratelimits`: false for a Worker without the Rate Limiting bindings (an older wrangler.toml),
 * or limits by binding name (wranglerRatelimits). `email`: bind the `NOTIFY_EMAIL` send_email
 * binding (alerts, round 29); `emails()` then reads every message it was given (raw MIME).
 */
export async function startWorker({ sandboxUrl, vars = {}, secrets = {}, captureLogs = true, assets = true, port = 0, build = BUILD, ratelimits = {}, ledger = true, email = false, miniflare = {} } = {}) {
  if (!existsSync(join(build, 'entry.mjs'))) {
    throw new Error('worker/build/entry.mjs is missing: run `bash scripts/build-worker.sh` first');
  }
  const bindings = { ...wranglerVars(), ...(sandboxUrl ? { KP_BASE_URL: sandboxUrl } : {}), ...vars, ...secrets };
  for (const [key, value] of Object.entries(bindings)) if (value === undefined) delete bindings[key];
  const logs = [];
  const emailFiles = [];
  const collect = (stream) => (captureLogs ? createInterface({ input: stream }).on('line', (line) => logs.push(line)) : stream.resume());
  const mf = new Miniflare({
    modules: true,
    modulesRoot: build,
    scriptPath: join(build, 'entry.mjs'),
    // entry.mjs imports the generated index.js, an ES module too.
    modulesRules: [{ type: 'ESModule', include: ['**/*.js', '**/*.mjs'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-09-01',
    durableObjects: {
      PAYMENTS: { className: 'PaymentObject', useSQLite: true },
      CLIENTS: { className: 'ClientBucket', useSQLite: true },
      ORDERS: { className: 'OrderIndex', useSQLite: true },
    },
    durableObjectsPersist: mkdtempSync(join(tmpdir(), 'kp-do-')),
    ratelimits: ratelimits === false ? undefined : wranglerRatelimits(bindings.KP_STATUS_RATE_LIMIT_PER_MINUTE, ratelimits),
    ...ledgerOptions(ledger),
    ...(email ? { email: { send_email: [{ name: 'NOTIFY_EMAIL' }] } } : {}),
    assets: assets ? {
      directory: join(ROOT, 'www'),
      binding: 'ASSETS',
      // The paths wrangler.toml's run_worker_first sends to the Worker before the assets.
      routerConfig: { has_user_worker: true, static_routing: { user_worker: workerFirst() } },
    } : undefined,
    bindings,
    host: '127.0.0.1',
    port,
    cf: false,
    log: email ? new EmailLog(emailFiles) : new Log(LogLevel.WARN),
    handleRuntimeStdio(stdout, stderr) {
      collect(stdout);
      collect(stderr);
    },
    ...miniflare,
  });
  const url = (await withTimeout(mf.ready, 'the Worker')).toString().replace(/\/$/, '');
  if (ledger) await applyMigrations(mf);
  // `scheduled()`: the Worker's cron handler, as the daily trigger runs it.
  const scheduled = async () => (await mf.getWorker()).scheduled({ cron: '17 3 * * *' });
  const emails = () => emailFiles.map((file) => readFileSync(file, 'utf8'));
  return { url, logs, mf, ledger: ledger ? ledgerQuery(mf) : noLedger, scheduled, emails, stop: () => mf.dispose() };
}

/**
 * Miniflare's log (warnings and errors, as `Log(WARN)`) that also keeps where the local
 * send_email binding stored each message it took: it writes the raw message to a temporary
 * `.eml` file and logs its path at INFO (miniflare's workers/email/send_email.worker.ts).
 */
class EmailLog extends Log {
  constructor(files) {
    super(LogLevel.INFO);
    this.files = files;
  }

  logWithLevel(level, message) {
    const file = /send_email binding called with the following message:\s*(\S+\.eml)/.exec(stripVTControlCharacters(String(message)));
    if (file) this.files.push(file[1]);
    else if (level <= LogLevel.WARN) super.logWithLevel(level, message);
  }
}

// ---- The ledger (orders helper, round 28) ------------------------------------------------------
// The LEDGER D1 binding (Miniflare's local D1, SQLite in a temporary directory) with every
// worker/migrations/*.sql applied in name order, as `wrangler d1 migrations apply` does; on by
// default, `ledger: false` for a Worker without it (v2). `ledger(sql, ...params)` runs one
// statement from a test and gives D1's result (`results`, `meta`).
const MIGRATIONS = join(ROOT, 'worker/migrations');

function ledgerOptions(ledger) {
  if (!ledger) return {};
  return { d1Databases: { LEDGER: 'kp-ledger' }, d1Persist: mkdtempSync(join(tmpdir(), 'kp-d1-')) };
}

/** The statements of a migration file: comments dropped, split at each `;` that ends a line. */
export function migrationStatements(text) {
  return text
    .replace(/--[^\n]*/g, '')
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter(Boolean);
}

/** The migration files, in the order wrangler applies them. */
export function migrationFiles() {
  return readdirSync(MIGRATIONS).filter((name) => name.endsWith('.sql')).sort().map((name) => join(MIGRATIONS, name));
}

async function applyMigrations(mf) {
  const db = await mf.getD1Database('LEDGER');
  for (const file of migrationFiles()) {
    for (const statement of migrationStatements(readFileSync(file, 'utf8'))) await db.prepare(statement).run();
  }
}

function ledgerQuery(mf) {
  return async (sql, ...params) => (await mf.getD1Database('LEDGER')).prepare(sql).bind(...params).all();
}

async function noLedger() {
  throw new Error('this Worker was started with `ledger: false`');
}
// ---- end of the ledger block --------------------------------------------------------------------

/** Random credentials per run, so a leak scan knows exactly what must never appear. */
export function randomSecrets() {
  return {
    KP_USERNAME: `merchant-${randomBytes(4).toString('hex')}`,
    KP_PASSWORD: `pw-${randomBytes(12).toString('base64url')}`,
    KP_SIGNING_SECRET: randomBytes(32).toString('hex'),
    KP_IDEMPOTENCY_SECRET: randomBytes(32).toString('hex'),
  };
}

/**
 * Sandbox + Worker wired together. `sandbox` options go to startSandbox, `vars` to the Worker;
 * `port` fixes the Worker's (e.g. from freePort(), when a var must name the Worker's own origin).
 */
export async function startStack({ vars = {}, sandbox: sandboxOptions = {}, port = 0, ratelimits, ledger = true, email = false } = {}) {
  const secrets = randomSecrets();
  const sandbox = await withTimeout(
    startSandbox({
      username: secrets.KP_USERNAME,
      password: secrets.KP_PASSWORD,
      dataFile: join(mkdtempSync(join(tmpdir(), 'kp-sandbox-')), 'state.json'),
      ...sandboxOptions,
    }),
    'the sandbox',
  );
  let worker;
  try {
    worker = await startWorker({ sandboxUrl: sandbox.url, vars, secrets, port, ratelimits, ledger, email });
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
  return {
    sandbox,
    worker,
    secrets,
    /** One SQL statement on the Worker's LEDGER database (orders helper, round 28). */
    ledger: worker.ledger,
    stop: async () => {
      await worker.stop();
      await sandbox.stop();
    },
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolvePort, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

const WRANGLER_START_TIMEOUT_MS = 90_000;
const WRANGLER_STOP_TIMEOUT_MS = 5_000;

/**
 * The Worker as merchants run it, `npx wrangler dev` (its proxy in front, the assets router,
 * wrangler.toml's bindings), on a free 127.0.0.1 port against `sandboxUrl`. Vars and secrets
 * go in as `--var` (they override wrangler.toml and .dev.vars). wrangler runs in its own
 * process group, so stop() ends it and every workerd it started; a start that does not answer
 * `/api/health` within the timeout, or a wrangler that exits, fails with its output.
 */
export async function startWranglerDev({ sandboxUrl, vars = {}, secrets = {}, timeoutMs = WRANGLER_START_TIMEOUT_MS } = {}) {
  if (!existsSync(join(BUILD, 'entry.mjs'))) {
    throw new Error('worker/build/entry.mjs is missing: run `bash scripts/build-worker.sh` first');
  }
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const bindings = { ...(sandboxUrl ? { KP_BASE_URL: sandboxUrl } : {}), ...vars, ...secrets };
  const args = [
    'wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort),
    '--persist-to', mkdtempSync(join(tmpdir(), 'kp-wrangler-')), '--show-interactive-dev-session=false',
    '--log-level', 'log', ...Object.entries(bindings).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
  ];
  const child = spawn('npx', args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_HIDE_BANNER: 'true', CI: 'true' },
  });
  const logs = [];
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => logs.push(line));
  let exited = false;
  const exit = new Promise((done) => child.on('exit', (code, signal) => { exited = true; done({ code, signal }); }));
  const killGroup = (signal) => { try { process.kill(-child.pid, signal); } catch { /* already gone */ } };
  // A test process that dies must not leave wrangler and workerd behind.
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);
  const stop = async () => {
    process.removeListener('exit', onExit);
    killGroup('SIGTERM');
    let timer;
    const forced = new Promise((done) => { timer = setTimeout(() => { killGroup('SIGKILL'); done(); }, WRANGLER_STOP_TIMEOUT_MS); });
    await Promise.race([exit, forced]);
    clearTimeout(timer);
    killGroup('SIGKILL'); // workerd children that outlived their parent
    // Returns once the group is gone, so the next start finds its ports and CPU free.
    const gone = Date.now() + WRANGLER_STOP_TIMEOUT_MS;
    for (;;) {
      try { process.kill(-child.pid, 0); } catch { return; }
      if (Date.now() > gone) throw new Error(`wrangler dev's process group ${child.pid} outlived SIGKILL`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`wrangler dev exited before answering:\n${logs.slice(-40).join('\n')}`);
    }
    try {
      const response = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not answer within ${timeoutMs} ms:\n${logs.slice(-40).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  // wrangler prints its bindings, `--var` values included, while it starts: what the Worker
  // itself says (and what a leak scan may judge) is what comes after.
  const startup = logs.length;
  return { url, logs, workerLogs: () => logs.slice(startup), pid: child.pid, stop };
}
