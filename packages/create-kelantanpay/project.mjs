// The answers' rules and the files of a new project, as pure functions (index.mjs does the I/O).
import { existsSync, readFileSync, readdirSync } from 'node:fs';

// The Worker's migrations, staged next to this file by scripts/build-worker-package.sh (in the
// repository they are read from the worker package's copy).
const migrationsFile = [new URL('./migrations.json', import.meta.url), new URL('../worker/migrations.json', import.meta.url)].find((u) => existsSync(u));
export const MIGRATIONS = JSON.parse(readFileSync(migrationsFile, 'utf8'));
// The ledger's D1 migrations (the Worker's worker/migrations/*.sql), staged in migrations/ (in the
// repository, read from the Worker's folder): a new project gets its own copy in migrations/.
const sqlDir = [new URL('./migrations/', import.meta.url), new URL('../../worker/migrations/', import.meta.url)].find((u) => existsSync(u));
export const LEDGER_MIGRATIONS = readdirSync(sqlDir).filter((f) => f.endsWith('.sql')).sort()
  .map((name) => ({ name, text: readFileSync(new URL(name, sqlDir), 'utf8') }));
/** The ledger sweep's daily cron (UTC): any fixed minute will do; off the hour, away from everyone's. */
export const LEDGER_CRON = '17 3 * * *';
export const WRANGLER_VERSION = '4.86.0';
export const SANDBOX = { baseUrl: 'http://127.0.0.1:8788', provider: 'sandbox', account: '000000', username: 'demo-merchant', password: 'demo-password' };
const LOCAL = 'http://127.0.0.1:8787';
// The Worker's default KP_STATUS_RATE_LIMIT_PER_MINUTE. A rate limiting binding's limit is fixed in
// wrangler.toml, so the status limiters are written from it: the client's at it, the /48's at 16x.
export const STATUS_LIMIT_PER_MINUTE = 300;
const NETWORK_FACTOR = 16;

export class AnswerError extends Error {}
const fail = (m) => { throw new AnswerError(m); };
const loopback = (u) => u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';

export function parseOrigin(text) {
  let u;
  try { u = new URL(text.trim()); } catch { fail(`origin ${JSON.stringify(text)} is not a URL (write it like https://shop.example)`); }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback(u))) fail(`origin ${text} must be https:// (http:// only for 127.0.0.1 or localhost)`);
  if (u.username || u.password) fail(`origin ${text} must not carry a user name or password`);
  if (!/^[a-z]+:\/\/[^/?#]+\/?$/i.test(text.trim())) fail(`origin ${text} has a path, query or fragment; an origin is only scheme://host[:port], like ${u.origin}`);
  return u.origin;
}
export const parseOrigins = (text) => {
  const list = String(text).split(/[,\s]+/).filter(Boolean).map(parseOrigin);
  if (list.length === 0) fail('give at least one shop origin, like https://shop.example');
  return [...new Set(list)];
};

export function parseReturnUrl(text, origins) {
  let u;
  try { u = new URL(text.trim()); } catch { fail(`return URL ${JSON.stringify(text)} is not a URL`); }
  if (!origins.includes(u.origin)) fail(`return URL ${text} is outside the shop origins (${origins.join(', ')})`);
  if (u.hash) fail(`return URL ${text} must not have a fragment`);
  return u.href;
}

// Whether the Worker takes it (https, or http only to loopback; no user name or password) is the
// Worker's rule: index.mjs asks the Worker's own check (lib/settings.mjs) of everything it writes.
function parseAnyWebhookUrl(text) {
  if (!text || !text.trim()) return '';
  let u;
  try { u = new URL(text.trim()); } catch { fail(`webhook URL ${JSON.stringify(text)} is not a URL`); }
  return u.href;
}

// Production webhooks must be https; a local one is http to this machine only.
export function parseWebhookUrl(text) {
  const href = parseAnyWebhookUrl(text, 'webhook URL');
  if (href && !href.startsWith('https://')) fail(`webhook URL ${text} must be https:// (production calls it from Cloudflare); use --dev-webhook-url for a local receiver`);
  return href;
}
export function parseDevWebhookUrl(text) {
  const href = parseAnyWebhookUrl(text, 'dev webhook URL');
  if (href && !loopback(new URL(href))) fail(`dev webhook URL ${text} must be on 127.0.0.1 or localhost`);
  return href;
}

export function parseAccount(text) {
  const t = String(text ?? '').trim();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(t)) fail(`account ${JSON.stringify(text)}: letters, digits, - or _, as KelantanPay gave it to you`);
  return t;
}
export function parseProvider(text) {
  const t = String(text ?? '').trim();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(t)) fail(`provider ${JSON.stringify(text)}: letters, digits, - or _, as KelantanPay gave it to you`);
  return t;
}

// Alerts (orders-api.md, "Alerts"). The answers' own forms; what the Worker takes (KP_NOTIFY_ON's
// words, a chat without a token, ...) is its rule, asked by index.mjs like every other setting.
export const NOTIFY_EVENTS = ['paid', 'failed', 'mismatch'];
export const ALERTS_HELP = `Alerts: a short message to your phone for each paid order (and, if you like, failed ones and
amount mismatches), by Telegram, by e-mail, or both.
  Telegram: in Telegram, message @BotFather, send /newbot and follow it: it gives you the bot's
    token (like 123456789:AAE...). The chat id: send your bot a message (for a group, add the bot to
    the group and write there), then open https://api.telegram.org/bot<token>/getUpdates and take
    "chat":{"id": ...} (a group's starts with -100). The token is a secret: it goes to .dev.vars and,
    for production, npx wrangler secret put KP_TELEGRAM_BOT_TOKEN; never into wrangler.toml.
  E-mail: Cloudflare Email Routing on your domain (dashboard > your domain > Email > Email Routing),
    with the address alerts go to added and verified as a destination; the sender is an address on
    that domain. Cloudflare sends only to verified destinations.`;

export function parseBotToken(text) {
  const t = String(text ?? '').trim();
  if (t && !/^[0-9]{5,20}:[A-Za-z0-9_-]{20,100}$/.test(t)) fail('a bot token looks like 123456789:AAE... (digits, a colon, then letters): the one @BotFather gave you after /newbot');
  return t;
}
export function parseChatId(text) {
  const t = String(text ?? '').trim();
  if (t && !/^-?[0-9]{1,20}$|^@[A-Za-z0-9_]{5,32}$/.test(t)) fail(`chat id ${JSON.stringify(t)}: a number (a group's starts with -100; getUpdates shows it as "chat":{"id":...}) or a public channel's @name`);
  return t;
}
export function parseEmail(text, what = 'e-mail address') {
  const t = String(text ?? '').trim();
  if (t && !/^[^\s@<>",;]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(t)) fail(`${what} ${JSON.stringify(t)} is not an address like orders@shop.example`);
  return t;
}
/** `KP_NOTIFY_ON`: a comma list of paid, failed, mismatch (each once, in this order). */
export function parseNotifyOn(text) {
  const words = String(text ?? '').split(/[,\s]+/).map((w) => w.trim().toLowerCase()).filter(Boolean);
  if (words.length === 0) fail(`which changes alert you: a comma list of ${NOTIFY_EVENTS.join(', ')}`);
  const unknown = words.filter((w) => !NOTIFY_EVENTS.includes(w));
  if (unknown.length) fail(`alert on ${unknown.map((w) => JSON.stringify(w)).join(', ')}: only ${NOTIFY_EVENTS.join(', ')} (a comma list)`);
  return NOTIFY_EVENTS.filter((w) => words.includes(w)).join(',');
}

// A catalog file as the list KP_CATALOG holds: JSON ([{sku,name,amount}]) or CSV (header
// sku,name,amount). Only the file formats are read here: what an item must be (a sku, a name, an
// amount that is money) is the Worker's KP_CATALOG rule, which index.mjs asks (lib/settings.mjs).
export function parseCatalog(text, fileName = 'catalog') {
  if (/^\s*\[/.test(text)) {
    try { return JSON.parse(text); } catch (e) { fail(`${fileName}: not valid JSON (${e.message})`); }
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  const head = (lines.shift() ?? '').split(',').map((s) => s.trim().toLowerCase());
  if (head.join(',') !== 'sku,name,amount') fail(`${fileName}: a CSV catalog starts with the header line sku,name,amount (or is a JSON list)`);
  return lines.map((line, i) => {
    const cells = csvCells(line);
    if (cells.length !== 3) fail(`${fileName} line ${i + 2}: three cells (sku,name,amount), found ${cells.length}`);
    return { sku: cells[0], name: cells[1], amount: cells[2] };
  });
}
function csvCells(line) {
  const cells = []; let cur = ''; let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) { if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') q = false; else cur += c; }
    else if (c === '"') q = true; else if (c === ',') { cells.push(cur); cur = ''; } else cur += c;
  }
  cells.push(cur);
  return cells.map((s) => s.trim());
}

const tomlString = (s) => JSON.stringify(s);
export function migrationToml(m, prefix = '') {
  const lines = [`[[${prefix}migrations]]`, `tag = ${tomlString(m.tag)}`];
  for (const k of ['new_sqlite_classes', 'new_classes', 'deleted_classes']) if (m[k]) lines.push(`${k} = [${m[k].map(tomlString).join(', ')}]`);
  for (const r of m.renamed_classes ?? []) lines.push(`renamed_classes = [{ from = ${tomlString(r.from)}, to = ${tomlString(r.to)} }]`);
  return lines.join('\n') + '\n';
}
// A literal multi-line string keeps the catalog readable; it cannot hold ''' itself.
const tomlMulti = (s) => (s.includes("'''") ? tomlString(s) : `'''${s}'''`);

export function files(a) {
  const local = { origins: [LOCAL, 'http://localhost:8787'], returnUrl: `${LOCAL}/` };
  const catalog = a.catalog ? JSON.stringify(a.catalog, null, 2) : null;
  const prodVars = [
    `KP_BASE_URL = "https://payment.kelantanpay.com"`,
    `KP_PROVIDER = ${tomlString(a.provider)}`,
    `KP_ACCOUNT = ${tomlString(a.account)}`,
    `KP_COUNTRY = "MY"`,
    `KP_ALLOWED_ORIGINS = ${tomlString(a.origins.join(','))}`,
    // Prefixes: the drop-in asks to come back to the page it is on, anywhere on the shop's origins.
    `KP_RETURN_URLS = ${tomlString(a.origins.map((o) => `${o}/`).join(','))}`,
    `KP_RETURN_URL = ${tomlString(a.returnUrl)}`,
    ...(a.webhookUrl ? [`KP_WEBHOOK_URL = ${tomlString(a.webhookUrl)}`] : []),
    ...(catalog ? [`KP_CATALOG = ${tomlMulti(catalog)}`] : []),
    ...(a.inbox && a.access ? [`KP_ACCESS_TEAM_DOMAIN = ${tomlString(a.access.teamDomain)}`, `KP_ACCESS_AUD = ${tomlString(a.access.aud)}`] : []),
    ...alertVars(a.alerts),
  ];
  // The order inbox's ledger: the same database name in both environments (a local one lives in
  // .wrangler/state and needs no id; production's id comes from \`npx wrangler d1 create\`).
  const database = `${a.name}-ledger`;
  const ledger = (prefix) => (a.inbox ? `[[${prefix}d1_databases]]
binding = "LEDGER"
database_name = ${tomlString(database)}
migrations_dir = "migrations"
${prefix ? `# database_id = "paste the id that \`npx wrangler d1 create ${database}\` prints"
` : ''}
[${prefix}triggers]
crons = [${tomlString(LEDGER_CRON)}]
` : '');
  // E-mail alerts: Cloudflare's send_email binding, to the one verified address (bindings are not
  // inherited by an environment: one block each).
  const mail = (prefix) => (a.alerts?.email ? `# E-mail alerts (KP_NOTIFY_EMAIL_FROM, KP_NOTIFY_EMAIL_TO): Cloudflare Email Routing sends to
# the verified destination below only. Locally wrangler writes each e-mail to a file and logs its path.
[[${prefix}send_email]]
name = "NOTIFY_EMAIL"
destination_address = ${tomlString(a.alerts.email.to)}
` : '');
  const bindings = (prefix) => ['PAYMENTS:PaymentObject', 'CLIENTS:ClientBucket', 'ORDERS:OrderIndex'].map((b) => {
    const [n, c] = b.split(':');
    return `[[${prefix}durable_objects.bindings]]\nname = "${n}"\nclass_name = "${c}"\n`;
  }).join('\n');
  // Namespaces per environment: local clients must not count against production's.
  const limiters = (prefix, [client, network]) => [
    ['STATUS_LIMIT', client, STATUS_LIMIT_PER_MINUTE],
    ['STATUS_NETWORK_LIMIT', network, STATUS_LIMIT_PER_MINUTE * NETWORK_FACTOR],
  ].map(([n, id, limit]) => `[[${prefix}ratelimits]]\nname = "${n}"\nnamespace_id = "${id}"\nsimple = { limit = ${limit}, period = 60 }\n`).join('\n');
  const wrangler = `# Written by create-kelantanpay ${a.version}. \`npm run dev\`: the local sandbox ([vars]);
# \`npm run deploy\`: the real gateway ([env.production]). Secrets are never here: .dev.vars locally,
# \`npx wrangler secret put NAME --env production\` for production.
name = ${tomlString(a.name)}
main = "node_modules/kelantanpay-worker/worker/entry.mjs"
compatibility_date = "2025-09-01"

# The demo storefront and /kelantanpay.js; only ${a.inbox ? '/api/*, the order inbox (/admin) and receipts (/receipt/*) reach' : '/api/* and receipts (/receipt/*) reach'} the Worker.
# Point directory at your own folder to serve your shop (keep kelantanpay.js in it, or load it
# from the Worker).
[assets]
directory = "node_modules/kelantanpay-worker/www"
binding = "ASSETS"
run_worker_first = [${['/api/*', ...(a.inbox ? ['/admin', '/admin/*'] : []), '/receipt/*'].map(tomlString).join(', ')}]

${bindings('')}
${a.inbox ? `# The order inbox (/admin): every order in Cloudflare D1. \`npm run dev\` and \`npm run deploy\` apply
# migrations/ (kelantanpay-worker migrate); the daily cron deletes orders older than
# KP_LEDGER_RETENTION_DAYS (default 2557, seven years). Remove these blocks (in both environments)
# and the Worker runs without the inbox.
${ledger('')}` : `# No order inbox (made with --no-inbox): \`npx kelantanpay-worker check\` says how to add it.
`}
# The status limit, shared by the isolates of a Cloudflare location: keep the limits at
# KP_STATUS_RATE_LIMIT_PER_MINUTE (default ${STATUS_LIMIT_PER_MINUTE}) and 16 times it (one IPv6 /48), period 60.
# namespace_id is unique in your Cloudflare account: pick others if another Worker uses these.
${limiters('', ['1001', '1002'])}
${mail('') ? `${mail('')}
` : ''}# This project's Durable Object migrations. A newer kelantanpay-worker that needs another one says
# so: \`npx kelantanpay-worker check\` (run by \`npm run dev\` and \`npm run deploy\`).
${MIGRATIONS.map((m) => migrationToml(m)).join('\n')}
[vars]
# The local sandbox that \`npm run dev\` starts (kelantanpay-sandbox).
KP_BASE_URL = "${SANDBOX.baseUrl}"
KP_PROVIDER = "${SANDBOX.provider}"
KP_ACCOUNT = "${SANDBOX.account}"
KP_COUNTRY = "MY"
KP_ALLOWED_ORIGINS = ${tomlString(local.origins.join(','))}
KP_RETURN_URLS = ${tomlString(`${LOCAL}/,http://localhost:8787/`)}
KP_RETURN_URL = ${tomlString(local.returnUrl)}
${a.devWebhookUrl ? `KP_WEBHOOK_URL = ${tomlString(a.devWebhookUrl)}` : '# KP_WEBHOOK_URL = "http://127.0.0.1:3000/hooks"   # a local receiver for signed events'}
${catalog ? `KP_CATALOG = ${tomlMulti(catalog)}\n` : ''}${a.alerts ? `# Alerts (KP_TELEGRAM_BOT_TOKEN is in .dev.vars): npm run dev sends them for sandbox payments.
${alertVars(a.alerts).join('\n')}
` : ''}
[env.production]

${a.inbox ? `# Before the first deploy: \`npx wrangler d1 create ${database}\` and paste its database_id below.
${ledger('env.production.')}
` : ''}${bindings('env.production.')}
${limiters('env.production.', ['1003', '1004'])}
${mail('env.production.') ? `${mail('env.production.')}
` : ''}[env.production.vars]
${prodVars.join('\n')}
`;
  const devVars = `# Local only (git-ignored): the sandbox's credentials and this project's own signing secret.
KP_USERNAME=${SANDBOX.username}
KP_PASSWORD=${SANDBOX.password}
KP_SIGNING_SECRET=${a.secrets.signing}
KP_IDEMPOTENCY_SECRET=${a.secrets.idempotency}
KP_WEBHOOK_SECRET=${a.secrets.webhook}
${a.inbox ? `# The order inbox (http://127.0.0.1:8787/admin): sign in with this token, locally only.
KP_ADMIN_TOKEN=${a.adminToken}
` : ''}${a.alerts?.telegram ? `# Telegram alerts: your bot's token (a secret; production's is put with wrangler secret put).
KP_TELEGRAM_BOT_TOKEN=${a.alerts.telegram.token}
` : ''}`;
  const pkg = {
    name: a.name, private: true, type: 'module',
    scripts: {
      dev: 'kelantanpay-worker dev',
      // check, then the ledger's D1 migrations (nothing without LEDGER), then the Worker.
      deploy: 'kelantanpay-worker check && kelantanpay-worker migrate --remote --env production && wrangler deploy --env production',
      check: 'kelantanpay-worker check',
    },
    // Exact: a new version may need a migration added first (`npm run check`).
    dependencies: { 'kelantanpay-worker': a.workerSpec ?? a.version },
    devDependencies: { wrangler: a.wranglerSpec ?? WRANGLER_VERSION },
  };
  const secrets = secretLines({ webhook: Boolean(a.webhookUrl), inbox: a.inbox, access: Boolean(a.access), telegram: Boolean(a.alerts?.telegram) });
  const readme = `# ${a.name}

A KelantanPay payment Worker (kelantanpay-worker ${a.version}), made by \`npm create kelantanpay\`.
The next three commands:

\`\`\`sh
npm install
npm run dev        # the local sandbox and the Worker together; prints the storefront URL
npm run deploy     # checks the migrations and the settings, then wrangler deploy --env production
\`\`\`

Before the first deploy, the production secrets (once):

\`\`\`sh
${secrets.join('\n')}
\`\`\`

Local settings are \`[vars]\` in \`wrangler.toml\` and \`.dev.vars\` (git-ignored; sandbox
credentials and keys made for this project); production is \`[env.production.vars]\`.
\`npm run check\` judges both with the Worker's own rules and names what it would refuse.

${a.inbox ? `## The order inbox

Every order, its items and its fate, at \`/admin\` (\`http://127.0.0.1:8787/admin\` under \`npm run
dev\`: sign in with \`KP_ADMIN_TOKEN\` from \`.dev.vars\`; scripts send \`Authorization: Bearer
<token>\` to \`/admin/api/orders\`). The orders live in Cloudflare D1 (the \`LEDGER\` binding), whose
schema is \`migrations/\`: \`npm run dev\` applies it to a local database, \`npm run deploy\` to
production's (\`kelantanpay-worker migrate --remote --env production\`) before deploying. For
production, once:

1. \`npx wrangler d1 create ${database}\` and paste the \`database_id\` it prints into
   \`[[env.production.d1_databases]]\` in \`wrangler.toml\` (the commented line);
2. ${a.access ? 'Cloudflare Access is set up (KP_ACCESS_TEAM_DOMAIN, KP_ACCESS_AUD in [env.production.vars]); an admin token for scripts is optional:' : 'the admin token you will sign in with (32+ random characters, not the local one; or Cloudflare Access: KP_ACCESS_TEAM_DOMAIN and KP_ACCESS_AUD in [env.production.vars]):'}
   \`npx wrangler secret put KP_ADMIN_TOKEN --env production\`;
3. \`npm run deploy\`.

Without the \`LEDGER\` blocks the Worker runs without the inbox (\`/admin\` answers 503).

` : ''}${alertsReadme(a.alerts)}Upgrading: \`npm install kelantanpay-worker@<version> --save-exact\`, then \`npm run check\`: it
names any Durable Object migration the new version needs, to add to \`wrangler.toml\` before
\`npm run deploy\` (and warns when one deletes a class that may still hold payments in flight),
and any new D1 migration to copy from \`node_modules/kelantanpay-worker/worker/migrations/\` into
\`migrations/\`.
`;
  return {
    'wrangler.toml': wrangler,
    '.dev.vars': devVars,
    '.gitignore': 'node_modules/\n.dev.vars\n.wrangler/\n',
    'package.json': JSON.stringify(pkg, null, 2) + '\n',
    'README.md': readme,
    ...(a.inbox ? Object.fromEntries(LEDGER_MIGRATIONS.map((m) => [`migrations/${m.name}`, m.text])) : {}),
  };
}

// Generated production keys go straight from Node into wrangler, never onto the screen or into
// shell history; the webhook key is typed in, since the merchant's receiver needs it too.
const RANDOM = `node -e "process.stdout.write(require('crypto').randomBytes(32).toString('hex'))"`;
// The admin token is typed in too: the merchant signs in to /admin with it.
export const secretLines = ({ webhook = false, inbox = false, access = false, telegram = false } = {}) => [
  'npx wrangler secret put KP_USERNAME --env production        # your KelantanPay merchant username',
  'npx wrangler secret put KP_PASSWORD --env production        # your KelantanPay merchant password',
  `${RANDOM} | npx wrangler secret put KP_SIGNING_SECRET --env production`,
  `${RANDOM} | npx wrangler secret put KP_IDEMPOTENCY_SECRET --env production`,
  ...(webhook ? ['npx wrangler secret put KP_WEBHOOK_SECRET --env production   # 32+ characters; your webhook receiver verifies with it'] : []),
  ...(inbox ? [`npx wrangler secret put KP_ADMIN_TOKEN --env production    # ${access ? 'optional with Cloudflare Access: ' : ''}32+ random characters (not the local one); you sign in to /admin with it`] : []),
  ...(telegram ? ['npx wrangler secret put KP_TELEGRAM_BOT_TOKEN --env production   # the token @BotFather gave you (as in .dev.vars)'] : []),
];

/** The alerts' vars, the same locally and in production: `alerts` is `{ notifyOn, telegram?: { token, chatId }, email?: { from, to } }`. */
export function alertVars(alerts) {
  if (!alerts) return [];
  return [
    `KP_NOTIFY_ON = ${tomlString(alerts.notifyOn)}`,
    ...(alerts.telegram ? [`KP_TELEGRAM_CHAT_ID = ${tomlString(alerts.telegram.chatId)}`] : []),
    ...(alerts.email ? [`KP_NOTIFY_EMAIL_FROM = ${tomlString(alerts.email.from)}`, `KP_NOTIFY_EMAIL_TO = ${tomlString(alerts.email.to)}`] : []),
  ];
}

/** The alerts' part of a new project's README. */
function alertsReadme(alerts) {
  const on = alerts ? [alerts.telegram && `Telegram (chat \`${alerts.telegram.chatId}\`)`, alerts.email && `e-mail to \`${alerts.email.to}\``].filter(Boolean).join(' and ') : '';
  return `## Alerts

${alerts ? `On: ${on}, for ${alerts.notifyOn.split(',').join(', ')} payments (\`KP_NOTIFY_ON\`).` : 'Off (no alert channel was given).'} A confirmed change sends one
short message per channel: status and amount first, then the buyer's name, the items, the
reference and order id, and a link to the order in \`/admin\`. A send that fails is retried like a
webhook, for three days; then it is a dead letter, shown in the order's events in \`/admin\`.

\`\`\`text
${ALERTS_HELP}
\`\`\`

To change them: \`KP_NOTIFY_ON\` (\`paid\`, \`failed\`, \`mismatch\`), \`KP_TELEGRAM_CHAT_ID\`,
\`KP_NOTIFY_EMAIL_FROM\`, \`KP_NOTIFY_EMAIL_TO\` in \`[vars]\` and \`[env.production.vars]\`; the
\`[[send_email]]\` binding \`NOTIFY_EMAIL\` (its \`destination_address\` the to address) in both
environments; the token in \`.dev.vars\` and \`npx wrangler secret put KP_TELEGRAM_BOT_TOKEN --env
production\`. \`npm run check\` says what is missing.

`;
}
