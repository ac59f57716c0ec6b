// Contract v3, alerts (../shared/spec/orders-api.md "Alerts", issue 29 item 1): a confirmed
// change named in KP_NOTIFY_ON sends one short message to each configured channel, from the
// payment's own object through its outbox: to a Telegram chat (here a fake Bot API on
// 127.0.0.1) and by e-mail through the NOTIFY_EMAIL send_email binding (Miniflare's local one,
// which keeps each message as a .eml file). Retried like webhooks; never twice after a send
// seen to succeed; none for a payment that is still pending; the bot token never in a log.
//
// One stack for the file, and no sandbox reset between tests: the failed payment is created
// first (a `22` is final only a minute after the create) and checked last.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { startStack } from '../support/harness.mjs';
import { LeakScan } from '../support/leakscan.mjs';
import { api, eventually, sandboxConfig, settle, ORDER, PAYER } from './support.mjs';
import { fakeTelegram } from './telegram.mjs';

const telegram = await fakeTelegram();
const TOKEN = `${randomInt(100_000_000, 999_999_999)}:AA${randomBytes(26).toString('base64url')}`;
const CHAT = '-1001234567890';
const FROM = 'alerts@kedai.example';
const TO = 'mak.siti@example.my';
const SHOP = 'Kedai Mak Siti';
const ctx = {};
const early = {};

before(async () => {
  ctx.stack = await startStack({
    email: true,
    vars: {
      KP_RECONCILE_SCHEDULE: '60',
      KP_NOTIFY_ON: 'paid, failed',
      KP_TELEGRAM_BOT_TOKEN: TOKEN,
      KP_TELEGRAM_CHAT_ID: CHAT,
      KP_TELEGRAM_API_URL: telegram.url,
      KP_NOTIFY_EMAIL_FROM: FROM,
      KP_NOTIFY_EMAIL_TO: TO,
      KP_SHOP_NAME: SHOP,
    },
  });
  ctx.scan = new LeakScan(ctx.stack);
  await sandboxConfig(ctx.stack, { callbacks: false, early22Seconds: 0 });
  // Made now, checked at the end: the failed one needs its minute, the pending one stays so.
  early.failed = (await api(ctx).create(ORDER)).json;
  await settle(ctx.stack, early.failed.reference, 'failed');
  early.pending = (await api(ctx).create(ORDER)).json;
}, { timeout: 60_000 });

after(async () => {
  try {
    if (ctx.scan) await ctx.scan.assertClean();
  } finally {
    await ctx.stack?.stop();
    await telegram.close();
  }
});

const about = (reference) => telegram.received.filter((r) => typeof r.body?.text === 'string' && r.body.text.includes(reference));
const delivered = (reference) => about(reference).filter((r) => r.status === 200);
const mailsAbout = (reference) => ctx.stack.worker.emails().filter((raw) => decodeBody(raw).includes(reference));

/** The raw message's headers (continuation lines joined, encoded words decoded) and body. */
function parseMail(raw) {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const headers = {};
  for (const line of head.replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const at = line.indexOf(':');
    headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim()
      .replace(/=\?UTF-8\?B\?([^?]*)\?=\s*/gi, (_, b64) => Buffer.from(b64, 'base64').toString('utf8'));
  }
  return { headers, body: Buffer.from(rest.join('\r\n\r\n').replace(/\s/g, ''), 'base64').toString('utf8') };
}
const decodeBody = (raw) => parseMail(raw).body;

async function paidPayment(beforePay = () => {}) {
  const client = api(ctx);
  const made = (await client.create(ORDER)).json;
  assert.ok(made?.reference, JSON.stringify(made));
  beforePay(made);
  await settle(ctx.stack, made.reference, 'paid');
  const status = await client.get(`/api/payments/${encodeURIComponent(made.id)}`);
  assert.equal(status.json.status, 'paid');
  return made;
}

test('health names no alert setting when both channels are whole', async () => {
  const health = (await api(ctx).get('/api/health')).json;
  const alerts = (health.warnings ?? []).filter((w) => /TELEGRAM|NOTIFY/.test(w));
  assert.deepEqual(alerts, []);
});

test('a paid payment: exactly one Telegram message to the chat, with what the seller packs', { timeout: 60_000 }, async () => {
  const made = await paidPayment();
  const [message] = await eventually(() => delivered(made.reference).length && delivered(made.reference), 20_000, 'the Telegram alert');
  assert.equal(message.method, 'POST');
  assert.equal(message.path, `/bot${TOKEN}/sendMessage`);
  assert.match(message.type, /^application\/json/);
  assert.equal(String(message.body.chat_id), CHAT);
  assert.deepEqual(message.body.link_preview_options, { is_disabled: true });
  const { text } = message.body;
  const catalog = (await api(ctx).get('/api/config')).json.catalog;
  const scarf = catalog.find((i) => i.sku === 'batik-scarf').name;
  for (const part of [made.amount, made.reference, made.orderid, PAYER.name, `2 × ${scarf}`, SHOP]) {
    assert.ok(text.includes(part), `${JSON.stringify(part)} in ${JSON.stringify(text)}`);
  }
  assert.match(text.split('\n')[0], /paid|dibayar/i, 'the first line says paid');
  assert.ok(text.includes(`${ctx.stack.worker.url}/admin#order=`), `the /admin link (LEDGER is on): ${text}`);
  for (const contact of [PAYER.email, PAYER.mobile, '0123456789', '12-345 6789']) {
    assert.ok(!text.includes(contact), `no contact detail in the alert: ${contact}`);
  }

  // The e-mail: one, from and to the configured addresses, its subject the alert's.
  const [raw] = await eventually(() => mailsAbout(made.reference).length && mailsAbout(made.reference), 20_000, 'the e-mail alert');
  const { headers, body } = parseMail(raw);
  assert.equal(headers.from, FROM);
  assert.equal(headers.to, TO);
  assert.match(headers.subject, /paid|dibayar/i);
  assert.ok(headers.subject.includes(made.amount), headers.subject);
  assert.equal(headers['message-id'], `<alert_${made.reference}_paid_email@kedai.example>`);
  assert.match(headers['content-type'], /text\/plain; charset=utf-8/i);
  assert.ok(body.includes(made.reference) && body.includes(PAYER.name), body);

  // The ledger's events list each alert with its channel, delivered.
  const events = await eventually(async () => {
    const row = (await ctx.stack.ledger('SELECT events FROM orders WHERE id = ?', made.id)).results[0];
    const list = JSON.parse(row?.events ?? '[]');
    const done = (channel) => list.some((e) => e.channel === channel && e.result === 'delivered');
    return done('telegram') && done('email') && list;
  }, 20_000, 'the alerts in the ledger row\'s events');
  for (const channel of ['telegram', 'email']) {
    const event = events.find((e) => e.channel === channel);
    assert.equal(event.type, 'payment.paid');
    assert.equal(event.id, `alert_${made.reference}_paid_${channel}`);
    assert.equal(event.attempts, 1);
  }
  // Still one of each once everything is settled.
  assert.equal(about(made.reference).length, 1);
  assert.equal(mailsAbout(made.reference).length, 1);
});

test('Telegram fails twice: retried, and delivered once; e-mail is not held up', { timeout: 90_000 }, async () => {
  const made = await paidPayment(({ reference }) => telegram.failNext(2, (body) => body?.text?.includes(reference)));
  await eventually(() => mailsAbout(made.reference).length === 1, 20_000, 'the e-mail, while Telegram fails');
  // Retried 5 s, then 10 s after the first failure.
  await eventually(() => delivered(made.reference).length === 1, 45_000, 'the third Telegram attempt');
  assert.deepEqual(about(made.reference).map((r) => r.status), [502, 502, 200]);
  const event = await eventually(async () => {
    const row = (await ctx.stack.ledger('SELECT events FROM orders WHERE id = ?', made.id)).results[0];
    return JSON.parse(row?.events ?? '[]').find((e) => e.channel === 'telegram' && e.result === 'delivered');
  }, 20_000, 'the Telegram alert delivered in the ledger');
  assert.equal(event.attempts, 3);
  assert.deepEqual(about(made.reference).map((r) => r.status), [502, 502, 200], 'never sent again');
  assert.equal(mailsAbout(made.reference).length, 1);
});

test('with KP_NOTIFY_ON=paid,failed a failed payment alerts too; a pending one never does', { timeout: 150_000 }, async () => {
  const { failed, pending } = early;
  const [message] = await eventually(() => delivered(failed.reference).length && delivered(failed.reference), 120_000, 'the failed payment\'s alert');
  assert.match(message.body.text.split('\n')[0], /fail|gagal/i, message.body.text);
  await eventually(() => mailsAbout(failed.reference).length === 1, 20_000, 'the failed payment\'s e-mail');
  assert.match(parseMail(mailsAbout(failed.reference)[0]).headers['message-id'], new RegExp(`^<alert_${failed.reference}_failed_email@`));
  const status = await api(ctx).get(`/api/payments/${encodeURIComponent(pending.id)}`);
  assert.equal(status.json.status, 'pending');
  assert.deepEqual(about(pending.reference), [], 'no Telegram message for a pending payment');
  assert.deepEqual(mailsAbout(pending.reference), [], 'no e-mail for a pending payment');
  assert.equal(about(failed.reference).length, 1);
});

test('the bot token never appears in anything the Worker printed', () => {
  const { logs } = ctx.stack.worker;
  assert.ok(logs.length > 0, 'the Worker printed something');
  const secretPart = TOKEN.split(':')[1];
  for (const [i, line] of logs.entries()) {
    assert.ok(!line.includes(secretPart), `the bot token in log line #${i}`);
    assert.ok(!line.includes(TO) && !line.includes(FROM), `an address in log line #${i}`);
  }
});
