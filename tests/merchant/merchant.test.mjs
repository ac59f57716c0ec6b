// The merchant's path, with no Rust on PATH: `npm pack` the two packages staged by
// scripts/build-worker-package.sh, `npm create kelantanpay` (non-interactive) into a temp dir,
// install the tarball offline, `wrangler deploy --dry-run --env production`, then `npm run dev`
// and one purchase against its sandbox: create, pay on the checkout page, status paid, signed
// webhook, and the order paid in the project's order inbox (GET /admin/api/orders with the admin
// token create-kelantanpay generated into .dev.vars; npm run dev migrated the local D1 first). wrangler is this repository's pinned one on PATH (a merchant's `npm install` fetches
// the same version), so nothing here needs the network.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, ROOT } from '../support/harness.mjs';

const STAGED = join(ROOT, 'build/packages');
const DEV_START_MS = 180_000;
const STOP_MS = 10_000;
const tmp = mkdtempSync(join(tmpdir(), 'kp-merchant-'));
const project = join(tmp, 'my-payments');
const tarballs = {};

// PATH as on a machine without Rust: every entry holding cargo or rustc dropped, plus a
// directory with only `wrangler` in it.
const bin = join(tmp, 'bin');
const PATH = [bin, ...(process.env.PATH ?? '').split(delimiter).filter((d) => d && !['cargo', 'rustc'].some((t) => existsSync(join(d, t))))].join(delimiter);
const ENV = { ...process.env, PATH, CI: 'true', WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_HIDE_BANNER: 'true', npm_config_update_notifier: 'false' };
const run = (cmd, args, opts = {}) => promisify(execFile)(cmd, args, { env: ENV, timeout: 120_000, maxBuffer: 16 << 20, ...opts });

let receiver;
const events = [];
after(async () => {
  await new Promise((r) => (receiver ? receiver.close(r) : r()));
  rmSync(tmp, { recursive: true, force: true });
});

before(async () => {
  for (const name of ['kelantanpay-worker', 'create-kelantanpay']) {
    if (!existsSync(join(STAGED, name, 'package.json'))) throw new Error(`${STAGED}/${name} is missing: run \`bash scripts/build-worker-package.sh\` first`);
  }
  mkdirSync(bin);
  symlinkSync(join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), join(bin, 'wrangler'));
  const packs = join(tmp, 'tarballs');
  mkdirSync(packs);
  for (const name of ['kelantanpay-worker', 'create-kelantanpay']) {
    const { stdout } = await run('npm', ['pack', join(STAGED, name), '--pack-destination', packs, '--json']);
    const [info] = JSON.parse(stdout);
    tarballs[name] = join(packs, info.filename);
    console.log(`# ${info.filename}: ${(statSync(tarballs[name]).size / 1024).toFixed(1)} KB packed, ${(info.unpackedSize / 1024).toFixed(1)} KB unpacked, ${info.entryCount} files`);
  }
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { events.push({ body, signature: req.headers['kelantanpay-signature'] }); res.writeHead(200).end(); });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
}, { timeout: 180_000 });

/** `npm create kelantanpay` as `npm exec` runs it, from the packed tarball, offline. */
const create = (args) => run('npm', ['exec', '--offline', '--yes', `--package=${tarballs['create-kelantanpay']}`, '--', 'create-kelantanpay', ...args], { cwd: tmp });
const FLAGS = ['--provider', 'shop123', '--account', '4567', '--origin', 'https://shop.example', '--return-url', 'https://shop.example/thanks'];

test('there is no cargo or rustc on the PATH the merchant uses', async () => {
  for (const tool of ['cargo', 'rustc']) await assert.rejects(run('sh', ['-c', `command -v ${tool}`]));
});

test('create refuses bad answers with a clear message', async () => {
  writeFileSync(join(tmp, 'bad.csv'), 'sku,name,amount\nscarf,Batik scarf,45.001\n');
  for (const [args, message] of [
    [['--origin', 'https://shop.example/shop'], /has a path/],
    [['--return-url', 'https://elsewhere.example/thanks'], /outside the shop origins/],
    // The Worker's own rules (its settings check, in the package): what it would refuse is never written.
    [['--catalog', 'bad.csv'], /catalog: the Worker refuses it: KP_CATALOG item 0 needs a positive amount with at most 2 decimals/],
    [['--return-url', 'https://user:pw@shop.example/thanks'], /return URL: the Worker refuses it: KP_RETURN_URL is not an http\(s\) URL/],
    [['--webhook-url', 'https://user:pw@backend.shop.example/hooks'], /webhook URL: the Worker refuses it: KP_WEBHOOK_URL must be an https:\/\/ URL/],
    // The order inbox: the admin token and Access by the Worker's rules (config/admin.rs).
    [['--admin-token', 'short-admin-token'], /admin token: the Worker refuses it: KP_ADMIN_TOKEN must be at least 32 characters/],
    [['--admin-token', 'replace-with-32-random-bytes-in-hex'], /admin token: the Worker refuses it: KP_ADMIN_TOKEN is a published example value/],
    [['--access-team-domain', 'http://team.example', '--access-aud', 'aud-tag'], /Access team domain: the Worker refuses it: KP_ACCESS_TEAM_DOMAIN must be an https:\/\/ origin/],
    [['--access-team-domain', 'https://team.cloudflareaccess.com'], /KP_ACCESS_AUD is missing/],
    [['--no-inbox', '--admin-token', 'f3a1c9e07b5d28461e9a0c7f3b5d2e8146a9c0f7'], /--no-inbox leaves out the order inbox/],
  ]) {
    const flags = FLAGS.includes(args[0]) ? FLAGS.map((f, i) => (FLAGS[i - 1] === args[0] ? args[1] : f)) : [...FLAGS, ...args];
    const failed = await create(['refused', '--yes', ...flags]).then(() => null, (e) => e);
    assert.ok(failed, `${args.join(' ')} was accepted`);
    assert.match(failed.stderr, message);
    assert.ok(!existsSync(join(tmp, 'refused')), 'nothing written for a refused answer');
    assert.ok(!failed.stderr.includes('short-admin-token'), 'a refused token is named, never shown');
  }
});

test('create: the inbox\'s admin token as given goes to .dev.vars only; Access to production\'s vars; --no-inbox leaves the ledger out', async () => {
  const token = 'f3a1c9e07b5d28461e9a0c7f3b5d2e8146a9c0f7e3b1d5a2';
  const { stdout } = await create(['given', '--yes', ...FLAGS, '--admin-token', token,
    '--access-team-domain', 'https://batik.cloudflareaccess.com', '--access-aud', 'aud-0123']);
  const given = join(tmp, 'given');
  assert.match(readFileSync(join(given, '.dev.vars'), 'utf8'), new RegExp(`^KP_ADMIN_TOKEN=${token}$`, 'm'));
  assert.ok(!stdout.includes(token), 'a token the merchant chose is not printed back');
  const toml = readFileSync(join(given, 'wrangler.toml'), 'utf8');
  assert.ok(!toml.includes(token) && !/KP_ADMIN_TOKEN\s*=/.test(toml), 'never in wrangler.toml');
  assert.match(toml, /\[env\.production\.vars\][^]*KP_ACCESS_TEAM_DOMAIN = "https:\/\/batik\.cloudflareaccess\.com"\nKP_ACCESS_AUD = "aud-0123"/);
  assert.match(stdout, /npx wrangler secret put KP_ADMIN_TOKEN --env production +# optional with Cloudflare Access/);

  const { stdout: plain } = await create(['plain', '--yes', ...FLAGS, '--no-inbox']);
  const off = join(tmp, 'plain');
  assert.deepEqual(readdirSync(off).sort(), ['.dev.vars', '.gitignore', 'README.md', 'package.json', 'wrangler.toml']);
  const offToml = readFileSync(join(off, 'wrangler.toml'), 'utf8');
  assert.doesNotMatch(offToml, /d1_databases|LEDGER|\/admin|crons/);
  assert.doesNotMatch(readFileSync(join(off, '.dev.vars'), 'utf8'), /KP_ADMIN_TOKEN/);
  assert.doesNotMatch(plain, /KP_ADMIN_TOKEN|d1 create/);
});

test('create writes the project and prints the secret commands; it installs offline', async () => {
  writeFileSync(join(tmp, 'catalog.csv'), 'sku,name,amount\nbatik-scarf,Kelantan batik scarf,45.00\n"songket-pouch","Songket pouch, small",28.50\n');
  const { stdout } = await create(['my-payments', '--yes', ...FLAGS, '--catalog', 'catalog.csv',
    '--webhook-url', 'https://backend.shop.example/kelantanpay', '--dev-webhook-url', `http://127.0.0.1:${receiver.address().port}/hooks`,
    '--worker-spec', `file:${tarballs['kelantanpay-worker']}`]);
  for (const name of ['KP_USERNAME', 'KP_PASSWORD', 'KP_SIGNING_SECRET', 'KP_IDEMPOTENCY_SECRET', 'KP_WEBHOOK_SECRET']) {
    assert.match(stdout, new RegExp(`npx wrangler secret put ${name} --env production`), name);
  }
  assert.deepEqual(readdirSync(project).sort(), ['.dev.vars', '.gitignore', 'README.md', 'migrations', 'package.json', 'wrangler.toml']);
  assert.match(readFileSync(join(project, '.gitignore'), 'utf8'), /^\.dev\.vars$/m);
  const devVars = readFileSync(join(project, '.dev.vars'), 'utf8');
  for (const name of ['KP_SIGNING_SECRET', 'KP_IDEMPOTENCY_SECRET', 'KP_WEBHOOK_SECRET', 'KP_ADMIN_TOKEN']) assert.match(devVars, new RegExp(`^${name}=[0-9a-f]{64}$`, 'm'));
  // The order inbox: a generated admin token, printed once, in .dev.vars and nowhere else; the D1
  // binding in both environments with the ledger's migrations copied; deploy migrates first.
  const token = /^KP_ADMIN_TOKEN=(.+)$/m.exec(devVars)[1];
  assert.equal(stdout.split(token).length - 1, 1, 'the generated admin token is printed exactly once');
  assert.match(stdout, /npx wrangler secret put KP_ADMIN_TOKEN --env production/);
  assert.match(stdout, /npx wrangler d1 create my-payments-ledger/);
  const toml = readFileSync(join(project, 'wrangler.toml'), 'utf8');
  assert.ok(!toml.includes(token) && !/KP_ADMIN_TOKEN\s*=/.test(toml), 'the admin token is never in wrangler.toml');
  for (const prefix of ['', 'env.production.']) {
    assert.ok(toml.includes(`[[${prefix}d1_databases]]\nbinding = "LEDGER"\ndatabase_name = "my-payments-ledger"\nmigrations_dir = "migrations"\n`), prefix);
    assert.match(toml, new RegExp(`\\[${prefix.replace('.', '\\.')}triggers\\]\\ncrons = \\["[^"]+"\\]`), prefix);
  }
  assert.match(toml, /run_worker_first = \["\/api\/\*", "\/admin", "\/admin\/\*", "\/receipt\/\*"\]/);
  for (const f of readdirSync(join(ROOT, 'worker/migrations'))) {
    assert.equal(readFileSync(join(project, 'migrations', f), 'utf8'), readFileSync(join(ROOT, 'worker/migrations', f), 'utf8'), f);
  }
  // The worker tarball has no dependencies. wrangler, the one devDependency, is left out of this
  // install (offline, npm cannot resolve it without the registry) and comes from PATH instead.
  const written = readFileSync(join(project, 'package.json'), 'utf8');
  const pkg = JSON.parse(written);
  assert.equal(pkg.devDependencies.wrangler, '4.86.0');
  assert.match(pkg.scripts.deploy, /kelantanpay-worker check && kelantanpay-worker migrate --remote --env production && wrangler deploy --env production/);
  delete pkg.devDependencies;
  writeFileSync(join(project, 'package.json'), JSON.stringify(pkg));
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund'], { cwd: project });
  writeFileSync(join(project, 'package.json'), written);
  const { stdout: checked } = await run('npm', ['run', '--silent', 'check'], { cwd: project });
  assert.match(checked, /has every migration/);
}, { timeout: 180_000 });

test('kelantanpay-worker check names a migration the project lacks', async () => {
  const toml = readFileSync(join(project, 'wrangler.toml'), 'utf8');
  const old = join(tmp, 'old.toml');
  writeFileSync(old, toml.replace(/\[\[migrations\]\]\ntag = "v2"[^[]*/, ''));
  const failed = await run('npx', ['--no', 'kelantanpay-worker', 'check', old], { cwd: project }).then(() => null, (e) => e);
  assert.ok(failed, 'check passed without v2');
  assert.match(failed.stderr, /\[\[migrations\]\]\ntag = "v2"\nnew_sqlite_classes = \["PaymentObject", "ClientBucket", "OrderIndex"\]/);
});

test('wrangler deploy --dry-run --env production: bindings, assets, the real gateway', async () => {
  const out = join(tmp, 'dry-run');
  const { stdout, stderr } = await run('wrangler', ['deploy', '--dry-run', '--env', 'production', '--outdir', out], { cwd: project });
  const log = stdout + stderr;
  for (const want of ['env.PAYMENTS (PaymentObject)', 'env.CLIENTS (ClientBucket)', 'env.ORDERS (OrderIndex)', 'env.ASSETS', 'env.LEDGER (my-payments-ledger)',
    'env.STATUS_LIMIT (300 requests/60s)', 'env.STATUS_NETWORK_LIMIT (4800 requests/60s)',
    'env.KP_BASE_URL ("https://payment.kelantanpay.com")', 'env.KP_ALLOWED_ORIGINS ("https://shop.example")', 'env.KP_RETURN_URLS ("https://shop.example/")',
    'env.KP_WEBHOOK_URL ("https://backend.shop.example/kelantan', '--dry-run: exiting now.']) {
    assert.ok(log.includes(want), `dry run did not report ${want}:\n${log}`);
  }
  assert.doesNotMatch(log, /127\.0\.0\.1|localhost/, 'production names nothing local');
  assert.ok(readdirSync(out).some((f) => f.endsWith('.wasm')), 'the wasm is in the bundle');
}, { timeout: 180_000 });

test('npm run dev: the storefront URL, then one purchase paid, a signed webhook and the order paid in the inbox', async () => {
  const [port, sandboxPort, inspector] = [await freePort(), await freePort(), await freePort()];
  const dev = spawn('npm', ['run', 'dev', '--', '--port', String(port), '--sandbox-port', String(sandboxPort), '--inspector-port', String(inspector)], {
    cwd: project, env: ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const s of [dev.stdout, dev.stderr]) s.on('data', (d) => { output += d; });
  const exited = new Promise((r) => dev.once('exit', r));
  const url = `http://127.0.0.1:${port}`;
  try {
    // Both lines, not the first alone: they may reach this pipe in two reads.
    await within(DEV_START_MS, 'the storefront and inbox URLs', async () => (output.includes(`Storefront: ${url}/`) && output.includes(`Order inbox: ${url}/admin`))
      || (dev.exitCode !== null && fail(`npm run dev exited:\n${output}`)));
    assert.ok(existsSync(join(project, '.wrangler/state/v3/d1')), 'npm run dev made the local D1 ledger');
    const page = await fetch(`${url}/`);
    assert.match(await page.text(), /<html/i);
    const config = await (await fetch(`${url}/api/config`)).json();
    assert.equal(config.mode, 'catalog');
    const made = await fetch(`${url}/api/payments`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ sku: 'songket-pouch', quantity: 2 }], name: 'Siti Aminah', email: 'siti@example.my', mobile: '+60 12-345 6789' }),
    });
    const payment = await made.json();
    assert.equal(made.status, 201, JSON.stringify(payment));
    // The payer on the sandbox's checkout page presses Pay.
    const checkout = await (await fetch(payment.checkout_url)).text();
    const action = /<form method="post" action="([^"]+\/pay)"/.exec(checkout)?.[1];
    assert.ok(action, `no Pay form on the checkout page:\n${checkout}`);
    const paid = await fetch(new URL(action.replaceAll('&amp;', '&'), payment.checkout_url), { method: 'POST', redirect: 'manual' });
    assert.equal(paid.status, 303);
    assert.ok(paid.headers.get('location').startsWith(`${url}/?kp_payment=`), 'back to the local storefront');
    const status = await within(30_000, 'status paid', async () => {
      const s = await (await fetch(`${url}/api/payments/${encodeURIComponent(payment.id)}`)).json();
      return s.status === 'paid' && s;
    });
    assert.equal(status.reference, payment.reference);
    const event = await within(40_000, 'the payment.paid webhook', async () => events.find((e) => JSON.parse(e.body).type === 'payment.paid'));
    const secret = /^KP_WEBHOOK_SECRET=(.+)$/m.exec(readFileSync(join(project, '.dev.vars'), 'utf8'))[1];
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(event.signature ?? '') ?? [];
    assert.ok(t, `malformed signature ${event.signature}`);
    assert.ok(timingSafeEqual(createHmac('sha256', secret).update(`${t}.${event.body}`).digest(), Buffer.from(v1, 'hex')), 'the webhook signature verifies');
    assert.equal(JSON.parse(event.body).data.reference, payment.reference);
    // The order inbox: nothing without the token; with it, the order paid (the ledger is written
    // off the request path, so it is polled for), with its items and buyer.
    const token = /^KP_ADMIN_TOKEN=(.+)$/m.exec(readFileSync(join(project, '.dev.vars'), 'utf8'))[1];
    const anonymous = await fetch(`${url}/admin/api/orders`);
    assert.equal(anonymous.status, 401);
    assert.equal((await anonymous.json()).error.type, 'unauthorized');
    const paidAt = Date.now();
    const order = await within(60_000, 'the order paid in the inbox', async () => {
      const r = await fetch(`${url}/admin/api/orders`, { headers: { authorization: `Bearer ${token}` } });
      if (r.status !== 200) return false;
      return (await r.json()).orders.find((o) => o.id === payment.id && o.status === 'paid');
    });
    console.log(`# the order read paid in the inbox ${Date.now() - paidAt} ms after the webhook arrived`);
    assert.equal(order.reference, payment.reference);
    assert.equal(order.amount, '57.00');
    assert.equal(order.name, 'Siti Aminah');
    assert.deepEqual(order.items.map((i) => [i.sku, i.quantity]), [['songket-pouch', 2]]);
    assert.ok(!output.includes(token), 'npm run dev never prints the admin token');
  } finally {
    try { process.kill(-dev.pid, 'SIGTERM'); } catch { /* gone */ }
    const stopped = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(r, STOP_MS, false))]);
    // npm may exit before the bin has stopped its sandbox and wrangler (their own process
    // groups): wait for their ports to close before the group is killed, or they outlive it
    // and hold this test's pipes open.
    await within(STOP_MS, 'the sandbox and the Worker to stop', async () => (await Promise.all([port, sandboxPort].map((p) =>
      fetch(`http://127.0.0.1:${p}/`, { signal: AbortSignal.timeout(1_000) }).then(() => false, () => true)))).every(Boolean)).catch(() => {});
    try { process.kill(-dev.pid, 'SIGKILL'); } catch { /* gone */ }
    assert.ok(stopped, `npm run dev did not stop within ${STOP_MS} ms`);
  }
  for (const p of [port, sandboxPort]) {
    await within(STOP_MS, `port ${p} closed`, async () => fetch(`http://127.0.0.1:${p}/`, { signal: AbortSignal.timeout(1_000) }).then(() => false, () => true));
  }
}, { timeout: 300_000 });

const fail = (message) => { throw new Error(message); };
async function within(ms, what, check) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check().catch((e) => (e.message.startsWith('npm run dev exited') ? fail(e.message) : false));
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
