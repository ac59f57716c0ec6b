// create-kelantanpay's questions on a terminal (issue 28, item 4): the order inbox's admin token
// (Enter makes one, printed once; a token the Worker refuses is asked again, in the Worker's
// words, and never echoed back in the complaint) and Cloudflare Access (its AUD asked only once a
// team domain is given). Alerts (issue 29, item 3): the how-to for a bot token and a chat id
// printed before the first alert question, the chat asked only with a token, the e-mail sender
// only with a recipient, KP_NOTIFY_ON only with a channel, and a word it does not know asked
// again. The staged package runs under `script`, which gives it a pseudo-terminal;
// each answer is typed when its question shows, and every wait has a deadline.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/harness.mjs';

const CREATE = join(ROOT, 'build/packages/create-kelantanpay/index.mjs');
const QUESTION_MS = 20_000;
const tmp = mkdtempSync(join(tmpdir(), 'kp-questions-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * Runs create-kelantanpay on a terminal and answers `script`: a list of [question pattern, answer],
 * in order. Resolves { code, output } once it exits.
 */
function converse(args, script) {
  if (!existsSync(CREATE)) throw new Error('build/packages is not staged: run `bash scripts/build-worker-package.sh` first');
  const quoted = [process.execPath, CREATE, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qec', quoted, '/dev/null'], { cwd: tmp, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'dumb' } });
  let output = '';
  let seen = 0; // how much of the output the last answered question used
  const steps = [...script];
  return new Promise((resolve, reject) => {
    let timer;
    const arm = () => { clearTimeout(timer); timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`no question matching ${steps[0]?.[0]} within ${QUESTION_MS} ms:\n${output}`)); }, QUESTION_MS); };
    arm();
    const onData = (d) => {
      output += d;
      while (steps.length) {
        const m = steps[0][0].exec(output.slice(seen));
        if (!m) break;
        seen += m.index + m[0].length;
        child.stdin.write(`${steps.shift()[1]}\r`);
        arm();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, output, unanswered: steps.length }); });
  });
}

const BASE = ['--provider', 'shop123', '--account', '4567', '--origin', 'https://shop.example', '--open', '--webhook-url', '', '--dev-webhook-url', ''];
const FLAGS = [...BASE, '--no-alerts'];

test('Enter makes the admin token, printed once and kept in .dev.vars only; no Access, no AUD question', async () => {
  const r = await converse(['enter', ...FLAGS], [
    [/Return URL \(.*?\): /, ''],
    [/Admin token for the order inbox.*?\(none\): /, ''],
    [/Cloudflare Access team domain.*?\(none\): /, ''],
  ]);
  assert.equal(r.code, 0, r.output);
  assert.doesNotMatch(r.output, /audience \(AUD\)/);
  const token = /^KP_ADMIN_TOKEN=([0-9a-f]{64})$/m.exec(readFileSync(join(tmp, 'enter/.dev.vars'), 'utf8'))?.[1];
  assert.ok(token, 'a 64-hex-digit token in .dev.vars');
  assert.equal(r.output.split(token).length - 1, 1, 'printed exactly once');
  assert.ok(!readFileSync(join(tmp, 'enter/wrangler.toml'), 'utf8').includes(token));
});

test('a token the Worker refuses is asked again in its words; a team domain brings the AUD question', async () => {
  const bad = 'short-admin-token';
  const good = 'f3a1c9e07b5d28461e9a0c7f3b5d2e8146a9c0f7e3b1d5a2';
  const r = await converse(['again', ...FLAGS], [
    [/Return URL \(.*?\): /, ''],
    [/Admin token for the order inbox.*?\(none\): /, bad],
    [/KP_ADMIN_TOKEN must be at least 32 characters[^]*?Admin token for the order inbox.*?\(none\): /, good],
    [/Cloudflare Access team domain.*?\(none\): /, 'https://batik.cloudflareaccess.com'],
    [/audience \(AUD\) tag: /, ''],
    [/needed with the team domain[^]*?audience \(AUD\) tag: /, 'aud-0123'],
  ]);
  assert.equal(r.code, 0, r.output);
  assert.equal(r.unanswered, 0);
  // The refusal names the setting; the terminal echoes what was typed, never the complaint.
  assert.ok(!/refuses it[^\n]*short-admin-token/.test(r.output), r.output);
  assert.match(readFileSync(join(tmp, 'again/.dev.vars'), 'utf8'), new RegExp(`^KP_ADMIN_TOKEN=${good}$`, 'm'));
  assert.ok(!r.output.includes(`token (shown once; it is in .dev.vars): ${good}`), 'a chosen token is not printed back');
  assert.match(readFileSync(join(tmp, 'again/wrangler.toml'), 'utf8'), /KP_ACCESS_TEAM_DOMAIN = "https:\/\/batik\.cloudflareaccess\.com"\nKP_ACCESS_AUD = "aud-0123"/);
});

test('alerts on a terminal: the how-to first, the chat after the token, a bad KP_NOTIFY_ON word asked again; Enter skips e-mail', async () => {
  const token = '123456789:AAE-kuih-shop-bot-token-0123456789ab';
  const r = await converse(['alerts', ...BASE, '--no-inbox'], [
    [/Return URL \(.*?\): /, ''],
    [/@BotFather, send \/newbot[^]*getUpdates[^]*Email Routing[^]*Telegram bot token from @BotFather.*?\(none\): /, 'my-bot'],
    [/a bot token looks like 123456789:AAE[^]*?Telegram bot token from @BotFather.*?\(none\): /, token],
    [/Telegram chat id .*?: /, ''],
    [/needed with the token[^]*?Telegram chat id .*?: /, '-1001234567890'],
    [/Alert e-mails to .*?\(none\): /, ''],
    [/Alert on \(a comma list of paid, failed, mismatch\) \(paid\): /, 'paid,refund'],
    [/alert on "refund": only paid, failed, mismatch[^]*?Alert on .*?\(paid\): /, 'failed paid'],
  ]);
  assert.equal(r.code, 0, r.output);
  assert.equal(r.unanswered, 0);
  assert.doesNotMatch(r.output, /Alert e-mails from/, 'no sender asked without a recipient');
  const toml = readFileSync(join(tmp, 'alerts/wrangler.toml'), 'utf8');
  assert.match(toml, /\[vars\][^]*KP_NOTIFY_ON = "paid,failed"\nKP_TELEGRAM_CHAT_ID = "-1001234567890"/);
  assert.ok(!toml.includes(token));
  assert.match(readFileSync(join(tmp, 'alerts/.dev.vars'), 'utf8'), new RegExp(`^KP_TELEGRAM_BOT_TOKEN=${token}$`, 'm'));
});

test('alerts on a terminal: Enter at the token and the recipient means no alerts and no KP_NOTIFY_ON question; e-mail asks for its sender', async () => {
  const none = await converse(['no-alerts', ...BASE, '--no-inbox'], [
    [/Return URL \(.*?\): /, ''],
    [/Telegram bot token.*?\(none\): /, ''],
    [/Alert e-mails to .*?\(none\): /, ''],
  ]);
  assert.equal(none.code, 0, none.output);
  assert.doesNotMatch(none.output, /Telegram chat id|Alert on/);
  assert.doesNotMatch(readFileSync(join(tmp, 'no-alerts/wrangler.toml'), 'utf8'), /KP_NOTIFY|send_email/);
  const mail = await converse(['mail', ...BASE, '--no-inbox'], [
    [/Return URL \(.*?\): /, ''],
    [/Telegram bot token.*?\(none\): /, ''],
    [/Alert e-mails to .*?\(none\): /, 'aisyah@mail.example'],
    [/Alert e-mails from .*?: /, ''],
    [/needed with the to address[^]*?Alert e-mails from .*?: /, 'alerts@kuih.example'],
    [/Alert on .*?\(paid\): /, ''],
  ]);
  assert.equal(mail.code, 0, mail.output);
  assert.equal(mail.unanswered, 0);
  assert.match(readFileSync(join(tmp, 'mail/wrangler.toml'), 'utf8'), /\[\[send_email\]\]\nname = "NOTIFY_EMAIL"\ndestination_address = "aisyah@mail\.example"/);
});
