// Starts what a test needs: the sandbox gateway and the BUILT Worker in workerd (Miniflare),
// with the Durable Object and the storefront assets, on free 127.0.0.1 ports. Every start has
// a timeout; stop() stops everything that was started.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
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
 */
export async function startWorker({ sandboxUrl, vars = {}, secrets = {}, captureLogs = true, assets = true, build = BUILD, miniflare = {} } = {}) {
  if (!existsSync(join(build, 'index.js'))) {
    throw new Error('worker/build/index.js is missing: run `bash scripts/build-worker.sh` first');
  }
  const bindings = { ...wranglerVars(), ...(sandboxUrl ? { KP_BASE_URL: sandboxUrl } : {}), ...vars, ...secrets };
  for (const [key, value] of Object.entries(bindings)) if (value === undefined) delete bindings[key];
  const logs = [];
  const collect = (stream) => (captureLogs ? createInterface({ input: stream }).on('line', (line) => logs.push(line)) : stream.resume());
  const mf = new Miniflare({
    modules: true,
    modulesRoot: build,
    scriptPath: join(build, 'index.js'),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-09-01',
    durableObjects: {
      PAYMENTS: { className: 'PaymentObject', useSQLite: true },
      CLIENTS: { className: 'ClientBucket', useSQLite: true },
      ORDERS: { className: 'OrderIndex', useSQLite: true },
    },
    durableObjectsPersist: mkdtempSync(join(tmpdir(), 'kp-do-')),
    assets: assets ? {
      directory: join(ROOT, 'www'),
      binding: 'ASSETS',
      routerConfig: { has_user_worker: true, static_routing: { user_worker: ['/api/*'] } },
    } : undefined,
    bindings,
    host: '127.0.0.1',
    port: 0,
    cf: false,
    log: new Log(LogLevel.WARN),
    handleRuntimeStdio(stdout, stderr) {
      collect(stdout);
      collect(stderr);
    },
    ...miniflare,
  });
  const url = (await withTimeout(mf.ready, 'the Worker')).toString().replace(/\/$/, '');
  return { url, logs, stop: () => mf.dispose() };
}

/** Random credentials per run, so a leak scan knows exactly what must never appear. */
export function randomSecrets() {
  return {
    KP_USERNAME: `merchant-${randomBytes(4).toString('hex')}`,
    KP_PASSWORD: `pw-${randomBytes(12).toString('base64url')}`,
    KP_SIGNING_SECRET: randomBytes(32).toString('hex'),
  };
}

/** Sandbox + Worker wired together. `sandbox` options go to startSandbox, `vars` to the Worker. */
export async function startStack({ vars = {}, sandbox: sandboxOptions = {} } = {}) {
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
    worker = await startWorker({ sandboxUrl: sandbox.url, vars, secrets });
  } catch (error) {
    await sandbox.stop();
    throw error;
  }
  return {
    sandbox,
    worker,
    secrets,
    stop: async () => {
      await worker.stop();
      await sandbox.stop();
    },
  };
}
