// `make dev`'s local secrets (scripts/dev-vars.sh, run by scripts/setup.sh; issue 28, item 4): on a
// fresh checkout it writes .dev.vars from the example with a fresh secret for every placeholder,
// the dev admin token among them, which the Worker's own settings check accepts; a re-run changes
// nothing; a hand-copied example gets fresh secrets in place; a .dev.vars from before the order
// inbox gets a token added and keeps every line it had. Alerts (issue 29, item 3): a dev bot token
// in Telegram's shape, the sandbox as the Bot API, dev chat and e-mail addresses (the latter the
// NOTIFY_EMAIL binding's destination in wrangler.toml); a .dev.vars from before alerts gets the
// lines it lacks and keeps a developer's own token and chat.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../support/harness.mjs';

const SCRIPT = join(ROOT, 'scripts/dev-vars.sh');
const EXAMPLE = readFileSync(join(ROOT, '.dev.vars.example'), 'utf8');
const SECRETS = ['KP_SIGNING_SECRET', 'KP_IDEMPOTENCY_SECRET', 'KP_ADMIN_TOKEN'];
const tmp = mkdtempSync(join(tmpdir(), 'kp-dev-vars-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const run = (file) => promisify(execFile)('bash', [SCRIPT, file], { timeout: 30_000 });
const value = (text, name) => new RegExp(`^${name}=(.*)$`, 'm').exec(text)?.[1];
const BOT_TOKEN = /^7[0-9]{9}:AA[0-9a-f]{33}$/;

test('the example names every secret with the placeholder the Worker refuses', () => {
  for (const name of SECRETS) assert.equal(value(EXAMPLE, name), 'replace-with-32-random-bytes-in-hex', name);
});

test('a fresh checkout: every placeholder a fresh 64-hex secret, the rest as the example, mode 600; a re-run changes nothing', async () => {
  const file = join(tmp, 'fresh.dev.vars');
  await run(file);
  const text = readFileSync(file, 'utf8');
  const made = SECRETS.map((name) => value(text, name));
  for (const [i, v] of made.entries()) assert.match(v, /^[0-9a-f]{64}$/, SECRETS[i]);
  assert.equal(new Set(made).size, SECRETS.length, 'each secret its own');
  assert.match(value(text, 'KP_TELEGRAM_BOT_TOKEN'), BOT_TOKEN);
  assert.equal(text.replace(/=[0-9a-f]{64}$/gm, '=replace-with-32-random-bytes-in-hex').replace(/^KP_TELEGRAM_BOT_TOKEN=.*$/m, 'KP_TELEGRAM_BOT_TOKEN=replace-with-a-dev-bot-token'),
    EXAMPLE, 'every other line as the example');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.ok(!existsSync(`${file}.partial`));
  const { stdout } = await run(file);
  assert.equal(readFileSync(file, 'utf8'), text, 'a re-run changes nothing');
  assert.match(stdout, /\.dev\.vars \(already there\)[^]*KP_ADMIN_TOKEN \(already there\)/);
  // The Worker's own settings check (as the merchant tools load it) takes the generated file.
  const staged = join(ROOT, 'build/packages/kelantanpay-worker/lib/settings.mjs');
  if (existsSync(staged)) {
    const { judge, devVars } = await import(staged);
    const { problems } = judge({ KP_PROVIDER: 'sandbox', KP_ACCOUNT: '000000', KP_BASE_URL: 'http://127.0.0.1:8788', ...devVars(text) });
    assert.deepEqual(problems, []);
  }
});

test('a hand-copied example gets fresh secrets in place; a .dev.vars from before the inbox gets a token, nothing else changes', async () => {
  const copied = join(tmp, 'copied.dev.vars');
  writeFileSync(copied, `${EXAMPLE}MY_OWN=kept\n`);
  await run(copied);
  const text = readFileSync(copied, 'utf8');
  for (const name of SECRETS) assert.match(value(text, name), /^[0-9a-f]{64}$/, name);
  assert.match(text, /^MY_OWN=kept$/m);
  assert.doesNotMatch(text, /replace-with/);

  const old = join(tmp, 'old.dev.vars');
  const before = 'KP_USERNAME=demo-merchant\nKP_SIGNING_SECRET=8f0c2d61b7a94e35c1d8f0b27a6e49c3\nKP_PASSWORD=demo-password'; // no final newline
  writeFileSync(old, before);
  await run(old);
  const after = readFileSync(old, 'utf8');
  assert.ok(after.startsWith(`${before}\n`), after);
  assert.match(value(after, 'KP_ADMIN_TOKEN'), /^[0-9a-f]{64}$/);
  assert.equal(value(after, 'KP_PASSWORD'), 'demo-password');
});

test('alerts: the dev settings point Telegram at the sandbox and e-mail at the binding\'s destination', async () => {
  const file = join(tmp, 'alerts.dev.vars');
  await run(file);
  const text = readFileSync(file, 'utf8');
  assert.equal(value(text, 'KP_TELEGRAM_API_URL'), 'http://127.0.0.1:8788', 'the sandbox of make dev');
  assert.match(value(text, 'KP_TELEGRAM_CHAT_ID'), /^-100[0-9]+$/);
  assert.equal(value(text, 'KP_NOTIFY_ON'), 'paid,failed,mismatch');
  // wrangler's local send_email sends only to the binding's destination_address.
  const { unstable_readConfig } = await import('wrangler');
  const config = unstable_readConfig({ config: join(ROOT, 'wrangler.toml') }, { hideWarnings: true });
  assert.deepEqual(config.send_email, [{ name: 'NOTIFY_EMAIL', destination_address: value(text, 'KP_NOTIFY_EMAIL_TO') }]);
  assert.equal(config.vars.KP_TELEGRAM_CHAT_ID, undefined, 'not in [vars], which every e2e Worker runs with');
  const production = unstable_readConfig({ config: join(ROOT, 'wrangler.toml'), env: 'production' }, { hideWarnings: true });
  assert.deepEqual([production.send_email, production.vars.KP_TELEGRAM_API_URL], [[], undefined], 'production never the dev binding or the sandbox');
  // Two machines get two dev tokens.
  const other = join(tmp, 'other.dev.vars');
  await run(other);
  assert.notEqual(value(readFileSync(other, 'utf8'), 'KP_TELEGRAM_BOT_TOKEN'), value(text, 'KP_TELEGRAM_BOT_TOKEN'));
});

test('a .dev.vars from before alerts gets the lines it lacks; a developer\'s own token and chat stay; a re-run changes nothing', async () => {
  const file = join(tmp, 'pre-alerts.dev.vars');
  const own = '123456789:AAE-my-own-real-bot-token-0123456789';
  const before = `KP_USERNAME=demo-merchant\nKP_ADMIN_TOKEN=${'a1'.repeat(32)}\nKP_TELEGRAM_BOT_TOKEN=${own}\nKP_TELEGRAM_CHAT_ID=555\n`;
  writeFileSync(file, before);
  const { stdout } = await run(file);
  assert.match(stdout, /add the dev alert settings \(KP_TELEGRAM_API_URL KP_NOTIFY_EMAIL_FROM KP_NOTIFY_EMAIL_TO KP_NOTIFY_ON\)/);
  const text = readFileSync(file, 'utf8');
  assert.ok(text.startsWith(before), text);
  assert.equal(value(text, 'KP_TELEGRAM_BOT_TOKEN'), own);
  assert.equal(value(text, 'KP_TELEGRAM_CHAT_ID'), '555');
  assert.equal(text.match(/^KP_TELEGRAM_BOT_TOKEN=/gm).length, 1);
  assert.equal(value(text, 'KP_NOTIFY_EMAIL_TO'), 'seller@shop.example');
  const again = await run(file);
  assert.equal(readFileSync(file, 'utf8'), text);
  assert.match(again.stdout, /\.dev\.vars alerts \(already there\)/);
  // Without any: every line, the token made fresh.
  const bare = join(tmp, 'bare.dev.vars');
  writeFileSync(bare, `KP_ADMIN_TOKEN=${'b2'.repeat(32)}`);
  await run(bare);
  const added = readFileSync(bare, 'utf8');
  assert.match(value(added, 'KP_TELEGRAM_BOT_TOKEN'), BOT_TOKEN);
  assert.match(added, /^KP_ADMIN_TOKEN=(b2){32}\n# Alerts under make dev/m);
  // A hand-copied example: the bot token's placeholder replaced in place.
  const copied = join(tmp, 'copied-alerts.dev.vars');
  writeFileSync(copied, EXAMPLE.replace(/replace-with-32-random-bytes-in-hex/g, 'c3'.repeat(32)));
  await run(copied);
  assert.match(value(readFileSync(copied, 'utf8'), 'KP_TELEGRAM_BOT_TOKEN'), BOT_TOKEN);
});
