// The packed package, installed into a throwaway project, runs the same scenario (create ->
// paid, a bad input, a webhook verified and one refused) on Node 20.0 (the oldest `engines`
// allows) and 22 in both module systems, Bun, Deno, bundled by esbuild for Node, and in
// workerd bundled by wrangler and by esbuild. Runtimes come from .tools/ (scripts/setup.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Miniflare } from 'miniflare';
import { startSandbox } from '../../sandbox/server.mjs';
import { ROOT, RUNTIMES, theProject } from './project.mjs';
import { EXPECTED } from './fixture/scenario.mjs';

const run = promisify(execFile);
let sandbox;
let dir;
let env;

before(async () => {
  dir = theProject();
  sandbox = await startSandbox({ username: 'rt-merchant', password: 'pw-Runtime-Secret-3', early22Seconds: 0 });
  env = { ...process.env, KP_SANDBOX_URL: sandbox.url, KP_SANDBOX_USERNAME: 'rt-merchant', KP_SANDBOX_PASSWORD: 'pw-Runtime-Secret-3', NO_COLOR: '1' };
});
after(() => sandbox?.stop());

async function scenarioWith(command, args, extraEnv = {}) {
  const { stdout } = await run(command, args, { cwd: dir, env: { ...env, ...extraEnv }, timeout: 60_000 });
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

const cases = [
  ['Node 20.0.0, import', RUNTIMES.node20, ['run.mjs']],
  ['Node 20.0.0, require', RUNTIMES.node20, ['run.cjs']],
  ['Node 22, import', RUNTIMES.node22, ['run.mjs']],
  ['Node 22, require', RUNTIMES.node22, ['run.cjs']],
  ['Bun, import', RUNTIMES.bun, ['run.mjs']],
  ['Bun, require', RUNTIMES.bun, ['run.cjs']],
  ['Deno', RUNTIMES.deno, ['run', '--quiet', '--no-prompt', '--allow-env', '--allow-net=127.0.0.1', '--allow-read', 'run.mjs']],
];

for (const [name, command, args] of cases) {
  test(`${name}: the scenario passes`, async () => {
    const extra = name === 'Deno' ? { DENO_DIR: join(dir, '.deno'), DENO_NO_UPDATE_CHECK: '1' } : {};
    assert.deepEqual(await scenarioWith(command, args, extra), EXPECTED);
  });
}

const esbuild = join(ROOT, 'node_modules/.bin/esbuild');

test('esbuild --bundle --platform=node (no flags, no file to copy) runs on Node 20.0, CJS and ESM output', async () => {
  execFileSync(esbuild, ['run.cjs', '--bundle', '--platform=node', '--log-level=error', '--outfile=out-node/bundle.cjs'], { cwd: dir, timeout: 60_000 });
  execFileSync(esbuild, ['run.mjs', '--bundle', '--platform=node', '--format=esm', '--log-level=error', '--outfile=out-node/bundle.mjs'], { cwd: dir, timeout: 60_000 });
  assert.deepEqual(readdirSync(join(dir, 'out-node')).sort(), ['bundle.cjs', 'bundle.mjs']);
  for (const file of ['out-node/bundle.cjs', 'out-node/bundle.mjs']) {
    assert.deepEqual(await scenarioWith(RUNTIMES.node20, [file]), EXPECTED, file);
  }
});

async function inWorkerd(outdir, script) {
  const mf = new Miniflare({
    modules: true,
    modulesRoot: outdir,
    scriptPath: join(outdir, script),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-09-01',
    bindings: { KP_SANDBOX_URL: sandbox.url, KP_SANDBOX_USERNAME: 'rt-merchant', KP_SANDBOX_PASSWORD: 'pw-Runtime-Secret-3' },
  });
  try {
    const res = await mf.dispatchFetch('http://worker/');
    const text = await res.text();
    assert.equal(res.status, 200, text);
    return JSON.parse(text);
  } finally {
    await mf.dispose();
  }
}

test('workerd: a JS Worker bundled by wrangler', async () => {
  execFileSync(join(ROOT, 'node_modules/.bin/wrangler'),
    ['deploy', '--dry-run', '--outdir', 'out-wrangler', '--name', 'kp-npm-check', '--compatibility-date', '2025-09-01', 'worker.mjs'],
    { cwd: dir, stdio: 'pipe', timeout: 120_000, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_LOG_PATH: join(dir, '.wrangler-logs') } });
  assert.deepEqual(await inWorkerd(join(dir, 'out-wrangler'), 'worker.js'), EXPECTED);
});

test('workerd: a JS Worker bundled by esbuild --loader:.wasm=copy --conditions=workerd', async () => {
  execFileSync(esbuild, ['worker.mjs', '--bundle', '--format=esm', '--platform=neutral', '--conditions=workerd,worker', '--loader:.wasm=copy', '--log-level=error', '--outdir=out-esbuild'],
    { cwd: dir, timeout: 60_000 });
  assert.ok(readdirSync(join(dir, 'out-esbuild')).some((f) => f.endsWith('.wasm')), 'the wasm is copied next to the bundle');
  assert.deepEqual(await inWorkerd(join(dir, 'out-esbuild'), 'worker.js'), EXPECTED);
});
