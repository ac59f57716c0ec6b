// The merchant's tools (issue 27, items 7 and 8), on the packages staged by
// scripts/build-worker-package.sh: `kelantanpay-worker` runs its command however it is started
// (a path with a space, a symlinked package as pnpm lays them out, a link under another name);
// `check` judges every environment's [vars] (and .dev.vars) with the Worker's own rules and warns
// when a missing migration deletes a class; the source folders refuse to be packed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../support/harness.mjs';

const STAGED = join(ROOT, 'build/packages');
const tmp = mkdtempSync(join(tmpdir(), 'kp tools '));
const spaced = join(tmp, 'my shop', 'node_modules', 'kelantanpay-worker');
const run = (cmd, args, opts = {}) => promisify(execFile)(cmd, args, { timeout: 60_000, maxBuffer: 16 << 20, ...opts })
  .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (e) => ({ code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));

const fragment = readFileSync(join(ROOT, 'packages/worker/wrangler.fragment.toml'), 'utf8');
const withoutV2 = fragment.replace(/\[\[migrations\]\]\ntag = "v2"[^[]*/, '');
const VARS = '[vars]\nKP_PROVIDER = "shop123"\nKP_ACCOUNT = "4567"\nKP_BASE_URL = "http://127.0.0.1:8788"\n';
const PRODUCTION = '[env.production.vars]\nKP_PROVIDER = "shop123"\nKP_ACCOUNT = "4567"\n';
const write = (name, text) => { const f = join(tmp, name); writeFileSync(f, text); return f; };

before(() => {
  if (!existsSync(join(STAGED, 'kelantanpay-worker/settings'))) throw new Error(`${STAGED} is not staged: run \`bash scripts/build-worker-package.sh\` first`);
  cpSync(join(STAGED, 'kelantanpay-worker'), spaced, { recursive: true });
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('the bin checks from a path with a space, through a symlinked package and a link under another name', async () => {
  const old = write('old.toml', withoutV2);
  const pnpm = join(tmp, 'pnpm-project', 'node_modules');
  mkdirSync(pnpm, { recursive: true });
  symlinkSync(spaced, join(pnpm, 'kelantanpay-worker'), 'dir');
  const links = join(tmp, 'links');
  mkdirSync(links);
  symlinkSync(join(spaced, 'bin/kelantanpay-worker.mjs'), join(links, 'kpw'));
  for (const bin of [join(spaced, 'bin/kelantanpay-worker.mjs'), join(pnpm, 'kelantanpay-worker/bin/kelantanpay-worker.mjs'), join(links, 'kpw')]) {
    const r = await run(process.execPath, [bin, 'check', old]);
    assert.equal(r.code, 1, `${bin} check passed a toml without v2:\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /\[\[migrations\]\]\ntag = "v2"\nnew_sqlite_classes = \["PaymentObject", "ClientBucket", "OrderIndex"\]/, bin);
    const ok = await run(process.execPath, [bin, 'check', write('ok.toml', fragment)]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /has every migration/);
  }
});

test('check warns loudly when a migration it asks for deletes a class that may hold payments in flight', async () => {
  const r = await run(process.execPath, [join(spaced, 'bin/kelantanpay-worker.mjs'), 'check', write('old.toml', withoutV2)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /WARNING: migration v2 deletes the Durable Object class PaymentStore, and with it every record it holds/);
  assert.match(r.stderr, /no longer reconciled/);
});

test('check judges each environment\'s vars with the Worker\'s own rules', async () => {
  const bin = join(spaced, 'bin/kelantanpay-worker.mjs');
  const good = await run(process.execPath, [bin, 'check', write('good.toml', `${fragment}\n${VARS}\n${PRODUCTION}KP_WEBHOOK_URL = "https://backend.shop.example/hooks"\n`)]);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /settings the Worker accepts/);
  for (const [vars, said] of [
    ['KP_WEBHOOK_URL = "https://user:pw@backend.shop.example/hooks"', 'KP_WEBHOOK_URL must be an https:// URL (http only for loopback)'],
    ['KP_RETURN_URL = "https://user:pw@shop.example/thanks"', 'KP_RETURN_URL is not an http(s) URL'],
    ['KP_RECONCILE_SCHEDULE = "soon"', 'KP_RECONCILE_SCHEDULE'],
    ["KP_CATALOG = '''[{\"sku\": \"a\", \"name\": \"A\", \"amount\": \"1.001\"}]'''", 'KP_CATALOG item 0 needs a positive amount'],
  ]) {
    const r = await run(process.execPath, [bin, 'check', write('bad.toml', `${fragment}\n${VARS}\n${PRODUCTION}${vars}\n`)]);
    assert.equal(r.code, 1, `${vars} passed:\n${r.stdout}`);
    assert.match(r.stderr, /bad\.toml \[env\.production\.vars\]: the Worker refuses these settings/);
    assert.ok(r.stderr.includes(`  - ${said}`), r.stderr);
    assert.ok(!r.stderr.includes('user:pw'), 'names, never values');
  }
  // An environment has only its own vars: one without any cannot take payments.
  const bare = await run(process.execPath, [bin, 'check', write('bare.toml', `${fragment}\n${VARS}\n[env.staging]\n`)]);
  assert.equal(bare.code, 1);
  assert.match(bare.stderr, /\[env\.staging\.vars\]: the Worker refuses these settings[^]*KP_PROVIDER is missing/);
});

test('check refuses a .dev.vars copied from the example: its placeholder is a published key (item 8)', async () => {
  const project = join(tmp, 'copied');
  mkdirSync(project);
  writeFileSync(join(project, 'wrangler.toml'), `${fragment}\n${VARS}`);
  writeFileSync(join(project, '.dev.vars'), readFileSync(join(ROOT, '.dev.vars.example')));
  const r = await run(process.execPath, [join(spaced, 'bin/kelantanpay-worker.mjs'), 'check', join(project, 'wrangler.toml')]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /\[vars\] with \.dev\.vars: the Worker refuses these settings/);
  assert.match(r.stderr, /KP_SIGNING_SECRET is a published example value/);
  writeFileSync(join(project, '.dev.vars'), `KP_USERNAME=demo-merchant\nKP_PASSWORD=demo-password\nKP_SIGNING_SECRET=${'ab'.repeat(20)}\n`);
  const weak = await run(process.execPath, [join(spaced, 'bin/kelantanpay-worker.mjs'), 'check', join(project, 'wrangler.toml')]);
  assert.equal(weak.code, 1);
  assert.match(weak.stderr, /KP_SIGNING_SECRET is not random enough/);
});

test('npm pack in a source folder (not staged) fails loudly and writes no tarball', async () => {
  for (const dir of ['packages/create-kelantanpay', 'packages/worker']) {
    const out = mkdtempSync(join(tmp, 'pack-'));
    const r = await run('npm', ['pack', '--pack-destination', out], { cwd: join(ROOT, dir) });
    assert.notEqual(r.code, 0, `npm pack in ${dir} succeeded:\n${r.stdout}`);
    assert.match(r.stderr, /refusing to pack [a-z-]+ from .*: it is not staged/);
    assert.deepEqual(readdirSync(out), []);
  }
});
