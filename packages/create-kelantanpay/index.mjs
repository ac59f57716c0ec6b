#!/usr/bin/env node
// npm create kelantanpay@latest my-payments [-- --provider P --account A --origin URL ...]
// Asks for what the flags do not give (or refuses, with --yes or without a terminal).
import { createInterface } from 'node:readline/promises';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as p from './project.mjs';
// The Worker's own settings check and wrangler.toml reader, staged from kelantanpay-worker's lib/
// by scripts/build-worker-package.sh (with the check's wasm in settings/): one place for each rule.
import { devVars, judge } from './lib/settings.mjs';
import { varTables } from './lib/toml.mjs';

const version = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')).version;
const HELP = `npm create kelantanpay@latest <dir> [-- options]

  --provider P        your KelantanPay provider code
  --account A         your KelantanPay account
  --origin URL        a shop origin (repeat, or comma-separate), like https://shop.example
  --return-url URL    where payers come back to (inside an origin)
  --catalog FILE      catalog mode, prices from a JSON ([{"sku","name","amount"}]) or CSV
                      (sku,name,amount) file; without it, open-amount mode
  --open              open-amount mode (no question about a catalog)
  --webhook-url URL   production: where signed payment events go (https://, optional)
  --dev-webhook-url URL
                      npm run dev: a local receiver for them (http://127.0.0.1:..., optional)
  --admin-token T     the order inbox's local admin token (32+ random characters, written to
                      .dev.vars only; default: a generated one, printed once)
  --access-team-domain URL, --access-aud TAG
                      production: Cloudflare Access in front of /admin (optional)
  --no-inbox          no order inbox (no D1 ledger, no /admin): the Worker as before v3
  --yes, -y           never ask: a missing answer is an error (for scripts and CI)
  --worker-spec S     dependency spec for kelantanpay-worker (default ${version})
  --wrangler-spec S   dependency spec for wrangler (default ${p.WRANGLER_VERSION})
`;

function parseArgs(argv) {
  const o = { origins: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? (i + 1 < argv.length ? argv[++i] : die(`${flag} needs a value`));
    switch (flag) {
      case '-h': case '--help': console.log(HELP); process.exit(0);
      case '-y': case '--yes': o.yes = true; break;
      case '--open': o.open = true; break;
      case '--no-inbox': o.noInbox = true; break;
      case '--admin-token': o.adminToken = value(); break;
      case '--access-team-domain': o.accessTeamDomain = value(); break;
      case '--access-aud': o.accessAud = value(); break;
      case '--provider': o.provider = value(); break;
      case '--account': o.account = value(); break;
      case '--origin': o.origins.push(value()); break;
      case '--return-url': o.returnUrl = value(); break;
      case '--catalog': o.catalog = value(); break;
      case '--webhook-url': o.webhookUrl = value(); break;
      case '--dev-webhook-url': o.devWebhookUrl = value(); break;
      case '--worker-spec': o.workerSpec = value(); break;
      case '--wrangler-spec': o.wranglerSpec = value(); break;
      default:
        if (flag.startsWith('-')) die(`unknown option ${flag} (see --help)`);
        if (o.dir) die(`one directory only (got ${o.dir} and ${flag})`);
        o.dir = flag;
    }
  }
  return o;
}

function die(message) { console.error(`create-kelantanpay: ${message}`); process.exit(1); }

// An answer that becomes the var `name` passes `parse` (the question's own form) and then the
// Worker's rule for that var, in the Worker's words (`with`: the other settings it is judged with).
const PROBE = { KP_PROVIDER: 'probe', KP_ACCOUNT: 'probe' };
const workerRule = (name, question, parse, extra = {}) => (text) => {
  const value = parse(text);
  if (value === '' || value === null) return value;
  const said = judge({ ...PROBE, ...extra, [name]: typeof value === 'string' ? value : JSON.stringify(value) }, { secretsElsewhere: true })
    .problems.filter((problem) => problem.startsWith(name));
  if (said.length) throw new p.AnswerError(`${question}: the Worker refuses it: ${said.join('; ')}`);
  return value;
};

// Every environment of the files about to be written, as the Worker would judge it: [vars] with
// .dev.vars (its freshly generated keys too), production with its secrets still to be put.
function refusals(out) {
  const said = new Map();
  for (const [env, vars] of varTables(out['wrangler.toml'])) {
    const local = env === '';
    const { problems } = judge(local ? { ...vars, ...devVars(out['.dev.vars']) } : vars, { secretsElsewhere: !local });
    for (const problem of problems) said.set(problem, [...(said.get(problem) ?? []), local ? '[vars] + .dev.vars' : `[env.${env}.vars]`]);
  }
  return [...said].map(([problem, where]) => `${problem} (${where.join(', ')})`);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const interactive = !o.yes && process.stdin.isTTY;
  const rl = interactive ? createInterface({ input: process.stdin, output: process.stdout }) : null;
  // Ask until the answer passes its rule; without a terminal a missing or bad answer is fatal.
  const get = async (given, question, parse, fallback) => {
    if (given !== undefined) {
      try { return parse(given); } catch (e) { if (e instanceof p.AnswerError) die(e.message); throw e; }
    }
    if (!rl) {
      if (fallback !== undefined) return parse(fallback);
      die(`${question} is missing (give it as a flag, see --help)`);
    }
    for (;;) {
      const answer = (await rl.question(`${question}${fallback !== undefined ? ` (${fallback || 'none'})` : ''}: `)).trim();
      try { return parse(answer || fallback || ''); } catch (e) { if (!(e instanceof p.AnswerError)) throw e; console.error(`  ${e.message}`); }
    }
  };
  const dir = await get(o.dir, 'Project directory', (d) => { if (!d) throw new p.AnswerError('a directory name'); return d; }, interactive ? 'my-payments' : undefined);
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0) die(`${target} exists and is not empty`);
  const provider = await get(o.provider, 'KelantanPay provider', p.parseProvider);
  const account = await get(o.account, 'KelantanPay account', p.parseAccount);
  const origins = await get(o.origins.length ? o.origins.join(',') : undefined, 'Shop origin(s), comma-separated', p.parseOrigins);
  const returnUrl = await get(o.returnUrl, 'Return URL', workerRule('KP_RETURN_URL', 'return URL', (u) => p.parseReturnUrl(u, origins)), `${origins[0]}/`);
  let catalog = null;
  if (o.catalog !== undefined) {
    catalog = await get(o.catalog, 'Catalog file', workerRule('KP_CATALOG', 'catalog', readCatalog));
  } else if (!o.open && rl) {
    catalog = await get(undefined, 'Catalog file (JSON or CSV; empty for open-amount mode)', workerRule('KP_CATALOG', 'catalog', (f) => (f ? readCatalog(f) : null)), '');
  }
  const webhookUrl = await get(o.webhookUrl, 'Webhook URL for production, https://', workerRule('KP_WEBHOOK_URL', 'webhook URL', p.parseWebhookUrl), '');
  const devWebhookUrl = await get(o.devWebhookUrl, 'Webhook URL for npm run dev, on 127.0.0.1', workerRule('KP_WEBHOOK_URL', 'dev webhook URL', p.parseDevWebhookUrl), '');
  // The order inbox: its local admin token (the Worker's KP_ADMIN_TOKEN rule; Enter makes one)
  // and, optionally, Cloudflare Access for production (both or neither: the Worker's rule, asked
  // of the whole file below).
  const inbox = !o.noInbox;
  if (!inbox && [o.adminToken, o.accessTeamDomain, o.accessAud].some((v) => v !== undefined)) die('--no-inbox leaves out the order inbox: drop --admin-token and --access-*');
  let adminToken = null; let generatedToken = false; let access = null;
  if (inbox) {
    adminToken = await get(o.adminToken, 'Admin token for the order inbox, local (32+ random characters; Enter makes one)', workerRule('KP_ADMIN_TOKEN', 'admin token', (t) => t.trim()), '');
    if (!adminToken) { adminToken = randomBytes(32).toString('hex'); generatedToken = true; }
    const teamDomain = await get(o.accessTeamDomain, 'Cloudflare Access team domain for /admin in production, https://<team>.cloudflareaccess.com (optional)',
      workerRule('KP_ACCESS_TEAM_DOMAIN', 'Access team domain', (t) => t.trim(), { KP_ACCESS_AUD: 'probe' }), '');
    // Asked only with a team domain; a flag is taken as given (the Worker's rule wants both).
    const aud = teamDomain || o.accessAud !== undefined ? await get(o.accessAud, 'Cloudflare Access application audience (AUD) tag', (t) => {
      if (teamDomain && rl && !t.trim()) throw new p.AnswerError('the application\'s AUD tag (Zero Trust > Access > Applications), needed with the team domain');
      return t.trim();
    }, teamDomain && rl ? undefined : '') : '';
    if (teamDomain || aud) access = { teamDomain, aud };
  }
  rl?.close();

  const name = basename(target).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'kelantanpay';
  const key = () => randomBytes(32).toString('hex');
  const secrets = { signing: key(), idempotency: key(), webhook: key() };
  const out = p.files({ name, version, provider, account, origins, returnUrl, catalog, webhookUrl, devWebhookUrl, secrets, inbox, adminToken, access, workerSpec: o.workerSpec, wranglerSpec: o.wranglerSpec });
  const refused = refusals(out);
  if (refused.length) die(`the Worker would refuse these settings (every payment endpoint would answer 503 not_configured), so nothing was written:\n${refused.map((r) => `  - ${r}`).join('\n')}`);
  mkdirSync(target, { recursive: true });
  for (const [file, text] of Object.entries(out)) {
    mkdirSync(dirname(resolve(target, file)), { recursive: true });
    writeFileSync(resolve(target, file), text, file === '.dev.vars' ? { mode: 0o600 } : undefined);
  }
  console.log(`Wrote ${target} (${catalog ? `catalog mode, ${catalog.length} item${catalog.length === 1 ? '' : 's'}` : 'open-amount mode'}).

Next:
  cd ${dir}
  npm install
  npm run dev        # the local sandbox and the Worker; prints the storefront URL
${inbox ? `
The order inbox: http://127.0.0.1:8787/admin under npm run dev, signed in with KP_ADMIN_TOKEN (.dev.vars).
${generatedToken ? `Your local admin token (shown once; it is in .dev.vars): ${adminToken}
` : ''}For production, create its database once and paste the database_id it prints into wrangler.toml
([[env.production.d1_databases]]); npm run deploy applies the migrations:
  npx wrangler d1 create ${name}-ledger
` : ''}
For production, set the secrets once (in ${dir}):
${p.secretLines({ webhook: Boolean(webhookUrl), inbox, access: Boolean(access) }).map((l) => `  ${l}`).join('\n')}
then:
  npm run deploy`);
}

function readCatalog(file) {
  let text;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new p.AnswerError(`catalog ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`); }
  return p.parseCatalog(text, basename(file));
}

main().catch((e) => die(e.stack ?? String(e)));
