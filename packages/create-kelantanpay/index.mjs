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
import { alertTable } from './lib/alerts.mjs';

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
  --telegram-bot-token T, --telegram-chat-id ID
                      alerts to a Telegram chat (the token goes to .dev.vars only)
  --notify-email-from A, --notify-email-to A
                      alerts by e-mail (Cloudflare Email Routing; the to address verified there)
  --notify-on LIST    which payments alert you: a comma list of paid, failed, mismatch (default paid)
  --no-alerts         no alerts (no question about them)
  --yes, -y           never ask: a missing answer is an error (for scripts and CI)
  --worker-spec S     dependency spec for kelantanpay-worker (default ${version})
  --wrangler-spec S   dependency spec for wrangler (default ${p.WRANGLER_VERSION})

${p.ALERTS_HELP}
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
      case '--no-alerts': o.noAlerts = true; break;
      case '--telegram-bot-token': o.telegramBotToken = value(); break;
      case '--telegram-chat-id': o.telegramChatId = value(); break;
      case '--notify-email-from': o.notifyEmailFrom = value(); break;
      case '--notify-email-to': o.notifyEmailTo = value(); break;
      case '--notify-on': o.notifyOn = value(); break;
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
    const dev = devVars(out['.dev.vars']);
    const alerts = alertTable(vars, { local, dev });
    const { problems } = judge(local ? { ...vars, ...alerts, ...dev } : { ...vars, ...alerts }, { secretsElsewhere: !local });
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
  const alerts = await askAlerts(o, get, rl);
  rl?.close();

  const name = basename(target).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'kelantanpay';
  const key = () => randomBytes(32).toString('hex');
  const secrets = { signing: key(), idempotency: key(), webhook: key() };
  const out = p.files({ name, version, provider, account, origins, returnUrl, catalog, webhookUrl, devWebhookUrl, secrets, inbox, adminToken, access, alerts, workerSpec: o.workerSpec, wranglerSpec: o.wranglerSpec });
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
${alertsNext(alerts)}
For production, set the secrets once (in ${dir}):
${p.secretLines({ webhook: Boolean(webhookUrl), inbox, access: Boolean(access), telegram: Boolean(alerts?.telegram) }).map((l) => `  ${l}`).join('\n')}
then:
  npm run deploy`);
}

// Alerts: Telegram (a token and a chat, both or neither), e-mail (from and to, both or neither),
// and which changes send them. Each answer passes its own form and the Worker's rule for its var.
// `null`: no alerts. The how-to is printed before the first question (and in --help).
const ALERT_FLAGS = ['telegramBotToken', 'telegramChatId', 'notifyEmailFrom', 'notifyEmailTo', 'notifyOn'];
async function askAlerts(o, get, rl) {
  if (o.noAlerts) {
    if (ALERT_FLAGS.some((f) => o[f] !== undefined)) die('--no-alerts leaves alerts out: drop --telegram-*, --notify-*');
    return null;
  }
  if (rl && ALERT_FLAGS.some((f) => o[f] === undefined)) console.log(`\n${p.ALERTS_HELP}\n`);
  const token = await get(o.telegramBotToken, 'Telegram bot token from @BotFather (Enter for no Telegram alerts)',
    workerRule('KP_TELEGRAM_BOT_TOKEN', 'bot token', p.parseBotToken), '');
  // The chat is asked only with a token; a flag is taken as given (and refused below if alone).
  const chatId = token || o.telegramChatId !== undefined ? await get(o.telegramChatId, 'Telegram chat id (getUpdates: "chat":{"id":...})', (t) => {
    const id = workerRule('KP_TELEGRAM_CHAT_ID', 'chat id', p.parseChatId, token ? { KP_TELEGRAM_BOT_TOKEN: token } : {})(t);
    if (token && rl && !id) throw new p.AnswerError('the chat the alerts go to, needed with the token (send your bot a message, then open getUpdates)');
    return id;
  }, token && rl ? undefined : '') : '';
  if (Boolean(token) !== Boolean(chatId)) die(token ? '--telegram-bot-token needs --telegram-chat-id (the chat the alerts go to)' : '--telegram-chat-id needs --telegram-bot-token (the bot that sends them)');
  const to = await get(o.notifyEmailTo, 'Alert e-mails to (verified in Cloudflare Email Routing; Enter for no e-mail alerts)',
    workerRule('KP_NOTIFY_EMAIL_TO', 'to address', (t) => p.parseEmail(t, 'to address')), '');
  const from = to || o.notifyEmailFrom !== undefined ? await get(o.notifyEmailFrom, 'Alert e-mails from (an address on your Email Routing domain)', (t) => {
    const address = workerRule('KP_NOTIFY_EMAIL_FROM', 'from address', (x) => p.parseEmail(x, 'from address'), to ? { KP_NOTIFY_EMAIL_TO: to } : {})(t);
    if (to && rl && !address) throw new p.AnswerError('the sender, an address on the domain where Email Routing is on, needed with the to address');
    return address;
  }, to && rl ? undefined : '') : '';
  if (Boolean(to) !== Boolean(from)) die(to ? '--notify-email-to needs --notify-email-from (the sender, on your Email Routing domain)' : '--notify-email-from needs --notify-email-to (the verified address alerts go to)');
  if (!token && !to) {
    if (o.notifyOn !== undefined) die('--notify-on needs an alert channel: --telegram-bot-token and --telegram-chat-id, or --notify-email-from and --notify-email-to');
    return null;
  }
  const notifyOn = await get(o.notifyOn, `Alert on (a comma list of ${p.NOTIFY_EVENTS.join(', ')})`, workerRule('KP_NOTIFY_ON', 'alert on', p.parseNotifyOn), 'paid');
  return { notifyOn, ...(token ? { telegram: { token, chatId } } : {}), ...(to ? { email: { from, to } } : {}) };
}

function alertsNext(alerts) {
  if (!alerts) return 'Alerts are off: the README of your project says how to turn on Telegram or e-mail alerts.\n';
  const lines = [`Alerts (${alerts.notifyOn.split(',').join(', ')}):`];
  if (alerts.telegram) lines.push(`  Telegram to chat ${alerts.telegram.chatId}: npm run dev already sends them, for sandbox payments (the token is in .dev.vars).`);
  if (alerts.email) {
    lines.push(`  E-mail from ${alerts.email.from} to ${alerts.email.to}: under npm run dev wrangler writes each to a file and logs its path;`,
      `  in production ${alerts.email.to} must be a verified destination of Cloudflare Email Routing on your domain.`);
  }
  return `${lines.join('\n')}\n`;
}

function readCatalog(file) {
  let text;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new p.AnswerError(`catalog ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`); }
  return p.parseCatalog(text, basename(file));
}

main().catch((e) => die(e.stack ?? String(e)));
