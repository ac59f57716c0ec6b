// The merchant's path to alerts (issue 29, item 3), on the packages staged by
// scripts/build-worker-package.sh: create-kelantanpay takes the channels as flags (the bot token to
// .dev.vars only and `wrangler secret put` for production; the chat and the addresses as vars in both
// environments; the NOTIFY_EMAIL send_email binding to the to address, in both), refuses half a
// channel and words KP_NOTIFY_ON does not know, and says how to get a token and a chat id;
// `kelantanpay-worker check` fails a bot token written into wrangler.toml, notes e-mail without its
// binding or a binding to another address, and hands the Worker's own check the rest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { unstable_readConfig } from 'wrangler';
import { ROOT } from '../support/harness.mjs';

const STAGED = join(ROOT, 'build/packages');
const CREATE = join(STAGED, 'create-kelantanpay/index.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'kp-alerts-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const run = (args, cwd = tmp) => promisify(execFile)(process.execPath, args, { cwd, timeout: 60_000, maxBuffer: 16 << 20 })
  .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (e) => ({ code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
const create = (dir, args) => run([CREATE, dir, '--yes', ...BASE, ...args]);
const BASE = ['--provider', 'shop123', '--account', '4567', '--origin', 'https://shop.example', '--open'];
const TOKEN = '123456789:AAE-kuih-shop-bot-token-0123456789ab';
const TELEGRAM = ['--telegram-bot-token', TOKEN, '--telegram-chat-id', '-1001234567890'];
const EMAIL = ['--notify-email-from', 'alerts@kuih.example', '--notify-email-to', 'aisyah@mail.example'];
const read = (dir, file) => readFileSync(join(tmp, dir, file), 'utf8');
const config = (dir, env) => unstable_readConfig({ config: join(tmp, dir, 'wrangler.toml'), ...(env ? { env } : {}) }, { hideWarnings: true });

before(() => {
  if (!existsSync(join(STAGED, 'create-kelantanpay/lib/alerts.mjs'))) throw new Error(`${STAGED} is not staged: run \`bash scripts/build-worker-package.sh\` first`);
});

test('both channels: the token in .dev.vars only (mode 600), the chat and addresses as vars and the binding in both environments', async () => {
  const r = await create('both', [...TELEGRAM, ...EMAIL, '--notify-on', 'mismatch, paid']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(join(tmp, 'both/.dev.vars')).mode & 0o777, 0o600);
  assert.match(read('both', '.dev.vars'), new RegExp(`^KP_TELEGRAM_BOT_TOKEN=${TOKEN}$`, 'm'));
  for (const file of ['wrangler.toml', 'README.md', 'package.json']) assert.ok(!read('both', file).includes(TOKEN), `${file} holds no token`);
  assert.equal(r.stdout.split(TOKEN).length, 1, 'the token is never printed');
  for (const env of ['', 'production']) {
    // As wrangler itself reads the file.
    const c = config('both', env);
    assert.deepEqual(c.send_email, [{ name: 'NOTIFY_EMAIL', destination_address: 'aisyah@mail.example' }], env);
    assert.deepEqual([c.vars.KP_NOTIFY_ON, c.vars.KP_TELEGRAM_CHAT_ID, c.vars.KP_NOTIFY_EMAIL_FROM, c.vars.KP_NOTIFY_EMAIL_TO, c.vars.KP_TELEGRAM_BOT_TOKEN],
      ['paid,mismatch', '-1001234567890', 'alerts@kuih.example', 'aisyah@mail.example', undefined], env);
    assert.equal(c.vars.KP_TELEGRAM_API_URL, undefined, 'the real Bot API');
  }
  assert.match(r.stdout, /npx wrangler secret put KP_TELEGRAM_BOT_TOKEN --env production/);
  assert.match(r.stdout, /Alerts \(paid, mismatch\):\n {2}Telegram to chat -1001234567890[^\n]*\n {2}E-mail from alerts@kuih\.example to aisyah@mail\.example/);
  assert.match(r.stdout, /verified destination of Cloudflare Email Routing/);
  const readme = read('both', 'README.md');
  assert.match(readme, /## Alerts\n\nOn: Telegram \(chat `-1001234567890`\) and e-mail to `aisyah@mail\.example`, for paid, mismatch payments/);
  assert.match(readme, /npx wrangler secret put KP_TELEGRAM_BOT_TOKEN --env production/);
  assert.match(readme, /@BotFather, send \/newbot[^]*getUpdates/);
  // The project as made passes its own check (its [vars] with .dev.vars, and production's).
  const project = join(tmp, 'both');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  cpSync(join(STAGED, 'kelantanpay-worker'), join(project, 'node_modules/kelantanpay-worker'), { recursive: true });
  const checked = await run([join(project, 'node_modules/kelantanpay-worker/bin/kelantanpay-worker.mjs'), 'check'], project);
  assert.equal(checked.code, 0, checked.stderr);
  assert.doesNotMatch(checked.stderr, /NOTIFY|TELEGRAM/, checked.stderr);
});

test('one channel, the default KP_NOTIFY_ON; --no-alerts and no channel at all leave every alert setting out', async () => {
  const telegram = await create('telegram', TELEGRAM);
  assert.equal(telegram.code, 0, telegram.stderr);
  assert.deepEqual([config('telegram').vars.KP_NOTIFY_ON, config('telegram').send_email], ['paid', []]);
  assert.doesNotMatch(read('telegram', 'wrangler.toml'), /send_email|NOTIFY_EMAIL/);
  const email = await create('email', EMAIL);
  assert.equal(email.code, 0, email.stderr);
  assert.doesNotMatch(read('email', '.dev.vars'), /TELEGRAM/);
  assert.doesNotMatch(email.stdout, /KP_TELEGRAM_BOT_TOKEN/);
  for (const [dir, args] of [['none', []], ['off', ['--no-alerts']]]) {
    const r = await create(dir, args);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(read(dir, 'wrangler.toml'), /KP_NOTIFY|KP_TELEGRAM|send_email/);
    assert.doesNotMatch(read(dir, '.dev.vars'), /TELEGRAM/);
    assert.match(r.stdout, /Alerts are off/);
    assert.match(read(dir, 'README.md'), /## Alerts\n\nOff \(no alert channel was given\)/);
  }
});

test('half a channel, an unknown KP_NOTIFY_ON word, a malformed token, chat or address: refused, nothing written', async () => {
  for (const [args, message] of [
    [['--telegram-bot-token', TOKEN], /--telegram-bot-token needs --telegram-chat-id/],
    [['--telegram-chat-id', '-100123'], /--telegram-chat-id needs --telegram-bot-token/],
    [['--notify-email-to', 'aisyah@mail.example'], /--notify-email-to needs --notify-email-from/],
    [['--notify-email-from', 'alerts@kuih.example'], /--notify-email-from needs --notify-email-to/],
    [[...TELEGRAM, '--notify-on', 'paid,refunded'], /alert on "refunded": only paid, failed, mismatch/],
    [[...TELEGRAM, '--notify-on', ' , '], /a comma list of paid, failed, mismatch/],
    [['--notify-on', 'paid'], /--notify-on needs an alert channel/],
    [['--telegram-bot-token', 'my-bot', '--telegram-chat-id', '1'], /a bot token looks like 123456789:AAE/],
    [['--telegram-bot-token', TOKEN, '--telegram-chat-id', 'kuih shop'], /chat id "kuih shop": a number/],
    [[...EMAIL.slice(0, 2), '--notify-email-to', 'aisyah'], /to address "aisyah" is not an address/],
    [['--no-alerts', ...TELEGRAM], /--no-alerts leaves alerts out/],
  ]) {
    const r = await create('refused', args);
    assert.equal(r.code, 1, `${args.join(' ')} was accepted`);
    assert.match(r.stderr, message, args.join(' '));
    assert.ok(!existsSync(join(tmp, 'refused')), 'nothing written');
    assert.ok(!r.stderr.includes('AAE-kuih'), 'the token is never shown');
  }
});

test('--help says how to get a bot token and a chat id, and what e-mail needs', async () => {
  const r = await run([CREATE, '--help']);
  assert.equal(r.code, 0);
  for (const said of [/--telegram-bot-token T, --telegram-chat-id ID/, /--notify-on LIST/, /--no-alerts/, /@BotFather, send \/newbot/,
    /https:\/\/api\.telegram\.org\/bot<token>\/getUpdates/, /"chat":\{"id": \.\.\.\}/, /add the bot to\s+the group/, /Email Routing/, /verified/]) {
    assert.match(r.stdout, said);
  }
});

// ---- kelantanpay-worker check ------------------------------------------------------------------
const fragment = readFileSync(join(ROOT, 'packages/worker/wrangler.fragment.toml'), 'utf8');
const VARS = '[vars]\nKP_PROVIDER = "shop123"\nKP_ACCOUNT = "4567"\nKP_BASE_URL = "http://127.0.0.1:8788"\n';
const PRODUCTION = '[env.production.vars]\nKP_PROVIDER = "shop123"\nKP_ACCOUNT = "4567"\n';
const BINDING = (prefix, to = 'aisyah@mail.example') => `[[${prefix}send_email]]\nname = "NOTIFY_EMAIL"\ndestination_address = "${to}"\n`;
const ADDRESSES = 'KP_NOTIFY_EMAIL_FROM = "alerts@kuih.example"\nKP_NOTIFY_EMAIL_TO = "aisyah@mail.example"\n';
async function check(name, toml, devVars) {
  const dir = join(tmp, 'check', name);
  mkdirSync(join(dir, 'migrations'), { recursive: true });
  cpSync(join(STAGED, 'kelantanpay-worker/worker/migrations'), join(dir, 'migrations'), { recursive: true });
  writeFileSync(join(dir, 'wrangler.toml'), toml);
  if (devVars !== undefined) writeFileSync(join(dir, '.dev.vars'), devVars);
  return run([join(STAGED, 'kelantanpay-worker/bin/kelantanpay-worker.mjs'), 'check', join(dir, 'wrangler.toml')]);
}

test('check: a bot token written into wrangler.toml fails, named and never shown', async () => {
  for (const [where, toml, how] of [
    ['[vars]', `${fragment}\n${VARS}KP_TELEGRAM_BOT_TOKEN = "${TOKEN}"\nKP_TELEGRAM_CHAT_ID = "1"\n\n${PRODUCTION}`, /put the new one in \.dev\.vars/],
    ['[env.production.vars]', `${fragment}\n${VARS}\n${PRODUCTION}KP_TELEGRAM_BOT_TOKEN = "${TOKEN}"\n`, /npx wrangler secret put KP_TELEGRAM_BOT_TOKEN --env production/],
  ]) {
    const r = await check('token', toml);
    assert.equal(r.code, 1, where);
    assert.match(r.stderr, new RegExp(`KP_TELEGRAM_BOT_TOKEN is a secret and is written in ${where.replace(/[[\].]/g, '\\$&')}: anyone who reads the file can post as your bot`));
    assert.match(r.stderr, /revoke it with @BotFather/);
    assert.match(r.stderr, how);
    assert.ok(!`${r.stdout}${r.stderr}`.includes('AAE-kuih'), 'the token is never shown');
  }
});

test('check: e-mail addresses without the NOTIFY_EMAIL binding, or a binding to another address, are noted per environment', async () => {
  const without = await check('no-binding', `${fragment}\n${VARS}${ADDRESSES}\n${PRODUCTION}${ADDRESSES}`);
  assert.equal(without.code, 0, 'a note, not a failure: payments do not depend on alerts');
  for (const where of ['toml sets', 'toml \\[env\\.production\\] sets']) {
    assert.match(without.stderr, new RegExp(`note: \\S+wrangler\\.${where} KP_NOTIFY_EMAIL_FROM and KP_NOTIFY_EMAIL_TO but has no NOTIFY_EMAIL send_email binding: no e-mail alerts`));
  }
  assert.match(without.stderr, /\[\[env\.production\.send_email\]\]\n {2}name = "NOTIFY_EMAIL"\n {2}destination_address = "aisyah@mail\.example"/);
  const bound = await check('bound', `${fragment}\n${BINDING('')}\n${BINDING('env.production.')}\n${VARS}${ADDRESSES}\n${PRODUCTION}${ADDRESSES}`);
  assert.equal(bound.code, 0, bound.stderr);
  assert.doesNotMatch(bound.stderr, /NOTIFY_EMAIL/);
  const bare = await check('bare-binding', `${fragment}\n${BINDING('')}\n${VARS}\n${PRODUCTION}`);
  assert.match(bare.stderr, /note: \S+wrangler\.toml binds NOTIFY_EMAIL but sets neither KP_NOTIFY_EMAIL_FROM nor KP_NOTIFY_EMAIL_TO: no e-mail alerts[^\n]*\(aisyah@mail\.example\)/);
  const elsewhere = await check('elsewhere', `${fragment}\n${BINDING('env.production.', 'old@mail.example')}\n${VARS}\n${PRODUCTION}${ADDRESSES}`);
  assert.match(elsewhere.stderr, /\[env\.production\]: the NOTIFY_EMAIL binding sends only to old@mail\.example, but KP_NOTIFY_EMAIL_TO is aisyah@mail\.example: Cloudflare refuses every alert e-mail/);
});

test('check: a project whose run_worker_first leaves out /receipt/* (made before v3) is noted; the fragment and a new project route it', async () => {
  const old = await check('receipts-old', `${fragment.replace('"/admin/*", "/receipt/*"]', '"/admin/*"]')}\n${VARS}\n${PRODUCTION}`);
  assert.equal(old.code, 0, 'a note: payments work without receipts');
  assert.match(old.stderr, /run_worker_first does not send "\/receipt\/\*" to the Worker: buyers' receipt links answer 404/);
  const now = await check('receipts-new', `${fragment}\n${VARS}\n${PRODUCTION}`);
  assert.doesNotMatch(now.stderr, /"\/receipt\/\*"/);
  const made = await create('receipts', ['--no-inbox']);
  assert.equal(made.code, 0, made.stderr);
  assert.deepEqual(config('receipts').assets.run_worker_first, ['/api/*', '/receipt/*']);
});

// The Worker's own rules for the alert settings (worker/src/config/alerts.rs), through its settings check.
test('check: the Worker\'s rules for the alert settings, as notes, per environment', async () => {
  const said = async (name, toml, devVars) => { const r = await check(name, toml, devVars); return r.stderr; };
  // Named under its environment, as a note on the same line or a refusal listed below it.
  const under = (env, name) => new RegExp(`${env.replace(/[[\].]/g, '\\$&')}(?:[^\n]*|[^]*?\n {2}- [^\n]*)${name}`);
  // A bad KP_NOTIFY_ON word; KP_TELEGRAM_API_URL not https (http only to loopback).
  assert.match(await said('notify-on', `${fragment}\n${VARS}\n${PRODUCTION}KP_NOTIFY_ON = "paid,refunded"\n`), under('[env.production.vars]', 'KP_NOTIFY_ON has an unknown change "refunded"'));
  assert.match(await said('api-url', `${fragment}\n${VARS}KP_TELEGRAM_API_URL = "http://telegram.example"\nKP_TELEGRAM_CHAT_ID = "1"\n\n${PRODUCTION}`, `KP_TELEGRAM_BOT_TOKEN=${TOKEN}\n`), under('[vars]', 'KP_TELEGRAM_API_URL must be an https:// origin'));
  assert.doesNotMatch(await said('api-loopback', `${fragment}\n${VARS}KP_TELEGRAM_API_URL = "http://127.0.0.1:8788"\nKP_TELEGRAM_CHAT_ID = "1"\n\n${PRODUCTION}`, `KP_TELEGRAM_BOT_TOKEN=${TOKEN}\n`), /KP_TELEGRAM_API_URL/);
  // Half a channel locally: a chat in [vars] without a token in .dev.vars; a token without a chat.
  assert.match(await said('chat-only', `${fragment}\n${VARS}KP_TELEGRAM_CHAT_ID = "1"\n\n${PRODUCTION}`, ''), under('[vars]', 'KP_TELEGRAM_BOT_TOKEN is missing \\(KP_TELEGRAM_CHAT_ID is set\\)'));
  assert.match(await said('token-only', `${fragment}\n${VARS}\n${PRODUCTION}`, `KP_TELEGRAM_BOT_TOKEN=${TOKEN}\n`), under('[vars]', 'KP_TELEGRAM_CHAT_ID is missing \\(KP_TELEGRAM_BOT_TOKEN is set\\)'));
  // The binding with one address of two (the toml alone notes neither).
  assert.match(await said('one-address', `${fragment}\n${BINDING('')}\n${VARS}KP_NOTIFY_EMAIL_TO = "aisyah@mail.example"\n\n${PRODUCTION}`), under('[vars]', 'KP_NOTIFY_EMAIL_FROM is missing'));
  // Production without Telegram (no chat) says nothing about a token it cannot see; with a chat the token is taken as put.
  for (const toml of [`${fragment}\n${VARS}\n${PRODUCTION}`, `${fragment}\n${VARS}\n${PRODUCTION}KP_TELEGRAM_CHAT_ID = "-100123"\n`]) {
    assert.doesNotMatch(await said('production', toml, ''), /TELEGRAM/);
  }
});
