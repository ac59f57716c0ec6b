// The merchant's tools (issue 27, items 7 and 8), on the packages staged by
// scripts/build-worker-package.sh: `kelantanpay-worker` runs its command however it is started
// (a path with a space, a symlinked package as pnpm lays them out, a link under another name);
// `check` judges every environment's [vars] (and .dev.vars) with the Worker's own rules and warns
// when a missing migration deletes a class; the source folders refuse to be packed. The order
// inbox (issue 28, item 4): `check` notes a missing LEDGER binding, fails on a migrations_dir that
// lacks the shipped D1 migrations, judges KP_ADMIN_TOKEN and Access by the Worker's rules;
// `migrate` applies them (locally here: wrangler is the repository's, no network).
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
  // The fragment's LEDGER migrations_dir ("migrations"), as a project copies it.
  cpSync(join(spaced, 'worker/migrations'), join(tmp, 'migrations'), { recursive: true });
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
  assert.match(r.stderr, /KP_ADMIN_TOKEN is a published example value/);
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

// --- The order inbox (issue 28, item 4) ---

const bin = () => join(spaced, 'bin/kelantanpay-worker.mjs');
const SHIPPED = readdirSync(join(ROOT, 'worker/migrations')).filter((f) => f.endsWith('.sql')).sort();
/** A project folder with `toml` as wrangler.toml and, unless `migrations` is false, the shipped D1 migrations in migrations/. */
function project(name, toml, { migrations = true, devVars } = {}) {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'wrangler.toml'), toml);
  if (migrations) cpSync(join(ROOT, 'worker/migrations'), join(dir, 'migrations'), { recursive: true });
  if (devVars) writeFileSync(join(dir, '.dev.vars'), devVars);
  return dir;
}
const withoutLedger = fragment.replace(/\[\[d1_databases\]\][^[]*/, '');

test('the package ships the ledger\'s D1 migrations, and the fragment binds LEDGER to them with the sweep\'s cron', () => {
  assert.ok(SHIPPED.length >= 1 && SHIPPED.includes('0001_orders.sql'), SHIPPED.join());
  assert.deepEqual(readdirSync(join(spaced, 'worker/migrations')).sort(), SHIPPED);
  for (const f of SHIPPED) assert.equal(readFileSync(join(spaced, 'worker/migrations', f), 'utf8'), readFileSync(join(ROOT, 'worker/migrations', f), 'utf8'));
  assert.match(fragment, /\[\[d1_databases\]\]\nbinding = "LEDGER"\n[^[]*migrations_dir = "migrations"/);
  assert.match(fragment, /\[triggers\]\ncrons = \["[^"]+"\]/);
  assert.match(fragment, /run_worker_first = \["\/api\/\*", "\/admin", "\/admin\/\*", "\/receipt\/\*"\]/);
});

test('check: without LEDGER the inbox is off, a note saying how to turn it on, and the check passes', async () => {
  const dir = project('no-inbox', `name = "batik"\n${withoutLedger}\n${VARS}`, { migrations: false });
  const r = await run(process.execPath, [bin(), 'check', join(dir, 'wrangler.toml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /has no LEDGER D1 binding: the order inbox \(\/admin\) is off/);
  assert.match(r.stderr, /\[\[d1_databases\]\]\n  binding = "LEDGER"\n  database_name = "batik-ledger"\n  migrations_dir = "migrations"/);
  assert.match(r.stderr, /KP_ADMIN_TOKEN \(32\+ random characters\) to \.dev\.vars/);
  // A deployed environment gets the database_id step; the how-to is said once, the others in a line.
  const both = project('no-inbox-prod', `name = "batik"\n${withoutLedger}\n${VARS}\n[env.production]\n${PRODUCTION}\n[env.staging]\n${PRODUCTION.replace('production', 'staging')}`, { migrations: false });
  const b = await run(process.execPath, [bin(), 'check', join(both, 'wrangler.toml')]);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(b.stderr.split('To turn it on').length - 1, 1, b.stderr);
  assert.match(b.stderr, /\[env\.production\] has no LEDGER D1 binding either/);
  // LEDGER bound but /admin served as a static file: a note saying what to add.
  const unrouted = project('unrouted', fragment.replace('run_worker_first = ["/api/*", "/admin", "/admin/*", "/receipt/*"]', 'run_worker_first = ["/api/*", "/receipt/*"]'));
  const u = await run(process.execPath, [bin(), 'check', join(unrouted, 'wrangler.toml')]);
  assert.equal(u.code, 0, u.stderr);
  assert.match(u.stderr, /run_worker_first does not send "\/admin" and "\/admin\/\*" to the Worker/);
  const routed = await run(process.execPath, [bin(), 'check', join(project('routed', fragment), 'wrangler.toml')]);
  assert.doesNotMatch(routed.stderr, /run_worker_first|schedules no cron/);
  // LEDGER bound without a cron: the retention sweep never runs; a note.
  const unswept = project('unswept', fragment.replace(/\[triggers\]\ncrons = \[[^\]]*\]\n/, ''));
  const c = await run(process.execPath, [bin(), 'check', join(unswept, 'wrangler.toml')]);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stderr, /binds LEDGER but schedules no cron: the ledger's daily retention sweep never runs/);
});

test('check: a LEDGER whose migrations_dir is missing, lacks a shipped migration or changed one fails', async () => {
  const missing = project('no-dir', fragment, { migrations: false });
  let r = await run(process.execPath, [bin(), 'check', join(missing, 'wrangler.toml')]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /the LEDGER binding's migrations_dir migrations does not exist/);
  assert.match(r.stderr, /cp -n node_modules\/kelantanpay-worker\/worker\/migrations\/\*\.sql migrations\//);

  const lacking = project('lacking', fragment, { migrations: false });
  mkdirSync(join(lacking, 'migrations'));
  writeFileSync(join(lacking, 'migrations/0099_mine.sql'), 'CREATE TABLE mine (x);\n');
  r = await run(process.execPath, [bin(), 'check', join(lacking, 'wrangler.toml')]);
  assert.equal(r.code, 1, r.stdout);
  assert.ok(r.stderr.includes(`migrations lacks the ledger's migration${SHIPPED.length > 1 ? 's' : ''} ${SHIPPED.join(', ')}`), r.stderr);

  const changed = project('changed', fragment);
  const first = join(changed, 'migrations', SHIPPED[0]);
  writeFileSync(first, readFileSync(first, 'utf8').replace('status TEXT NOT NULL', 'status TEXT'));
  r = await run(process.execPath, [bin(), 'check', join(changed, 'wrangler.toml')]);
  assert.equal(r.code, 1, r.stdout);
  assert.ok(r.stderr.includes(`migrations/${SHIPPED[0]} differs from the one this version ships`), r.stderr);

  // Comments and spacing are not a change; a migration of the merchant's own is allowed.
  const own = project('own', fragment);
  writeFileSync(join(own, 'migrations', SHIPPED[0]), `-- mine\n${readFileSync(join(ROOT, 'worker/migrations', SHIPPED[0]), 'utf8').replaceAll('\n', '\r\n')}`);
  writeFileSync(join(own, 'migrations/0099_mine.sql'), 'CREATE TABLE mine (x);\n');
  r = await run(process.execPath, [bin(), 'check', join(own, 'wrangler.toml')]);
  assert.equal(r.code, 0, r.stderr);

  // A deployed environment's LEDGER without a database_id is a note (npm run deploy's migrate stops there).
  const staged = project('staged', `${fragment}\n[env.production]\n[[env.production.d1_databases]]\nbinding = "LEDGER"\ndatabase_name = "shop-ledger"\nmigrations_dir = "migrations"\n\n${PRODUCTION}`);
  r = await run(process.execPath, [bin(), 'check', join(staged, 'wrangler.toml')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[env\.production\] LEDGER has no database_id yet: before deploying, npx wrangler d1 create shop-ledger/);
});

test('check judges the admin token and Access by the Worker\'s own rules, by name, never by value', async () => {
  const token = 'short-admin-token';
  const dir = project('admin', `${fragment}\n${VARS}\n${PRODUCTION}KP_ACCESS_TEAM_DOMAIN = "http://team.example"\nKP_ACCESS_AUD = "aud-tag"\n`,
    { devVars: `KP_USERNAME=demo-merchant\nKP_PASSWORD=demo-password\nKP_SIGNING_SECRET=f3a1c9e07b5d28461e9a0c7f3b5d2e8146a9c0f7e3b1d5a2\nKP_ADMIN_TOKEN=${token}\n` });
  const r = await run(process.execPath, [bin(), 'check', join(dir, 'wrangler.toml')]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /\[vars\] with \.dev\.vars: the Worker refuses these settings[^]*  - KP_ADMIN_TOKEN must be at least 32 characters/);
  assert.match(r.stderr, /\[env\.production\.vars\]: the Worker refuses these settings[^]*  - KP_ACCESS_TEAM_DOMAIN must be an https:\/\/ origin/);
  assert.ok(!r.stderr.includes(token), 'names, never values');
});

test('migrate: nothing without LEDGER; --remote without a database_id says how to make one; --local applies once', async () => {
  const env = { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_HIDE_BANNER: 'true' };
  const off = project('migrate-off', withoutLedger, { migrations: false });
  let r = await run(process.execPath, [bin(), 'migrate', '--local'], { cwd: off, env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /no LEDGER D1 binding: no migrations to apply/);

  const dir = project('migrate', `name = "batik"\n${fragment}\n[env.production]\n[[env.production.d1_databases]]\nbinding = "LEDGER"\ndatabase_name = "batik-ledger"\nmigrations_dir = "migrations"\n`);
  r = await run(process.execPath, [bin(), 'migrate', '--remote', '--env', 'production'], { cwd: dir, env });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /\[env\.production\] LEDGER has no database_id[^]*npx wrangler d1 create batik-ledger[^]*\[\[env\.production\.d1_databases\]\]/);

  r = await run(process.execPath, [bin(), 'migrate', '--local'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  for (const f of SHIPPED) assert.match(r.stdout, new RegExp(`${f.replace('.', '\\.')}\\s*│\\s*✅`));
  r = await run(process.execPath, [bin(), 'migrate', '--local'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /No migrations to apply/);
  assert.ok(readdirSync(join(dir, '.wrangler/state/v3/d1')).length > 0, 'the local database is in .wrangler/state');
  // Where `npm run dev -- --persist-to DIR` keeps wrangler dev's state, the ledger is migrated too.
  r = await run(process.execPath, [bin(), 'migrate', '--local', '--persist-to', 'elsewhere'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(readdirSync(join(dir, 'elsewhere/v3/d1')).length > 0, 'migrated in --persist-to');

  rmSync(join(dir, 'migrations'), { recursive: true });
  r = await run(process.execPath, [bin(), 'migrate', '--local'], { cwd: dir, env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /migrations_dir migrations does not exist/);
});
