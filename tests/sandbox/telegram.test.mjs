// The sandbox's stand-in for the Telegram Bot API (issue 29, item 3): what the Worker's alerts
// meet in `make dev` and the e2e tests. It must answer as Telegram does (the Worker reads 2xx as
// delivered and anything else as a failed send), keep what it got, fail on request, print each
// message for a human, and never log the bot's token.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startSandbox } from '../../sandbox/server.mjs';
import { messageBox } from '../../sandbox/telegram.mjs';
import { ROOT } from '../support/harness.mjs';

const TOKEN = '7000000001:AAF-sandbox_token_for_the_tests_0001';
const logLines = [];
const shown = [];
let sandbox;
const send = (body, token = TOKEN, headers = { 'content-type': 'application/json' }) =>
  fetch(`${sandbox.url}/bot${token}/sendMessage`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) })
    .then(async (r) => ({ status: r.status, body: await r.json() }));
const post = (path, body) => fetch(sandbox.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  .then(async (r) => ({ status: r.status, body: await r.json() }));
const messages = () => fetch(`${sandbox.url}/telegram/messages`).then((r) => r.json());
const ALERT = 'Dibayar / Paid RM 45.00\nAisyah binti Ali\n2 × Kuih lapis\nKP-REF-1 · order KPAY0001';

before(async () => {
  sandbox = await startSandbox({ log: (l) => logLines.push(l), showTelegram: (box) => shown.push(box) });
});
after(() => sandbox.stop());
beforeEach(async () => { await post('/__sandbox/reset', {}); shown.length = 0; });

test('sendMessage answers Telegram\'s shape and keeps the message for tests', async () => {
  const r = await send({ chat_id: '-1001234567890', text: ALERT, link_preview_options: { is_disabled: true } });
  assert.equal(r.status, 200);
  assert.equal(r.body.ok, true);
  assert.equal(r.body.result.message_id, 1);
  assert.deepEqual(r.body.result.chat, { id: -1001234567890, title: 'Sandbox group', type: 'group' });
  assert.deepEqual(r.body.result.from.is_bot, true);
  assert.equal(r.body.result.from.id, 7000000001);
  assert.equal(r.body.result.text, ALERT);
  const second = await send({ chat_id: 42, text: 'second' });
  assert.deepEqual([second.body.result.message_id, second.body.result.chat.type], [2, 'private']);
  const got = await messages();
  assert.deepEqual(got.map((m) => [m.message_id, m.chat_id, m.text, m.token]), [[1, '-1001234567890', ALERT, TOKEN], [2, '42', 'second', TOKEN]]);
  assert.deepEqual(got[0].link_preview_options, { is_disabled: true });
  // Form-encoded parameters, as the Bot API also takes them.
  const form = await send(new URLSearchParams({ chat_id: '@kuih_shop', text: 'form' }).toString(), TOKEN, { 'content-type': 'application/x-www-form-urlencoded' });
  assert.deepEqual([form.status, form.body.result.chat.type], [200, 'channel']);
});

test('refusals in Telegram\'s words: bad token, no chat, no text, too long, not JSON', async () => {
  for (const [body, token, status, description] of [
    [{ chat_id: '1', text: 'x' }, 'not-a-token', 401, 'Unauthorized'],
    [{ chat_id: '1', text: 'x' }, '', 401, 'Unauthorized'],
    [{ text: 'x' }, TOKEN, 400, 'Bad Request: chat_id is empty'],
    [{ chat_id: 'someone', text: 'x' }, TOKEN, 400, 'Bad Request: chat not found'],
    [{ chat_id: '1', text: '  ' }, TOKEN, 400, 'Bad Request: message text is empty'],
    [{ chat_id: '1', text: 'x'.repeat(4097) }, TOKEN, 400, 'Bad Request: message is too long'],
    ['{"chat_id":', TOKEN, 400, "Bad Request: can't parse JSON"],
  ]) {
    const r = await send(body, token);
    assert.deepEqual([r.status, r.body], [status, { ok: false, error_code: status, description }], JSON.stringify(body));
  }
  assert.equal((await send({ chat_id: '1', text: 'x'.repeat(4096) })).status, 200, '4096 characters is the limit, not past it');
  assert.equal((await messages()).length, 1, 'a refused message is not kept');
});

test('fail: the next N sends answer 502 and keep nothing; then sends go through; a hang is never answered', async () => {
  const armed = await post('/telegram/fail', { count: 2 });
  assert.deepEqual(armed, { status: 200, body: { failing: 2, fault: 'http502' } });
  for (let i = 0; i < 2; i += 1) {
    const r = await send({ chat_id: '1', text: `try ${i}` });
    assert.deepEqual([r.status, r.body.ok, r.body.error_code], [502, false, 502]);
  }
  assert.equal((await send({ chat_id: '1', text: 'third' })).status, 200);
  assert.deepEqual((await messages()).map((m) => m.text), ['third']);
  const stats = await fetch(`${sandbox.url}/__sandbox/stats`).then((r) => r.json());
  assert.equal(stats.sendMessage, 3, 'failed sends are counted too');
  for (const bad of [{ count: 0 }, { count: 1.5 }, { count: 1, fault: 'explode' }]) {
    assert.equal((await post('/telegram/fail', bad)).status, 400, JSON.stringify(bad));
  }
  await post('/telegram/fail', { count: 1, fault: 'hang' });
  const attempt = () => fetch(`${sandbox.url}/bot${TOKEN}/sendMessage`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"chat_id":"1","text":"x"}', signal: AbortSignal.timeout(2_000),
  }).then((r) => r.status, (e) => e.name);
  assert.equal(await attempt(), 'TimeoutError', 'the hung send is never answered');
  assert.equal(await attempt(), 200, 'only one send hangs');
  assert.equal((await messages()).length, 2);
});

test('reset forgets the messages and the armed failures', async () => {
  await send({ chat_id: '1', text: 'before' });
  await post('/telegram/fail', { count: 3 });
  await post('/__sandbox/reset', {});
  assert.deepEqual(await messages(), []);
  assert.equal((await send({ chat_id: '1', text: 'after' })).status, 200);
});

test('each message is shown in a box naming the chat; the request log never holds the token', async () => {
  await send({ chat_id: '-100987', text: ALERT });
  assert.equal(shown.length, 1);
  assert.equal(shown[0], messageBox('-100987', ALERT));
  const lines = shown[0].trimEnd().split('\n');
  assert.match(lines[0], /^┌─ Telegram to chat -100987 \(sandbox Bot API\) ─+┐$/);
  assert.equal(lines[1], `│ Dibayar / Paid RM 45.00${' '.repeat(64 - 4 - 23)} │`);
  assert.match(lines.at(-1), /^└─+┘$/);
  assert.ok(lines.every((l) => [...l].length === 64), 'every line as wide as the box');
  assert.ok(!shown[0].includes(TOKEN.split(':')[1]));
  const long = messageBox('1', 'y'.repeat(130)).trimEnd().split('\n');
  assert.equal(long.length, 5, 'a long line wraps inside the box');
  assert.ok(logLines.some((l) => l.startsWith('POST /bot…/sendMessage 200')), logLines.join('\n'));
  for (const line of logLines) assert.ok(!line.includes(TOKEN.split(':')[1]), line);
});

test('node sandbox/server.mjs prints each message on stderr, its request log on stdout', async () => {
  const child = spawn(process.execPath, [join(ROOT, 'sandbox/server.mjs'), '--port', '0', '--data', join(ROOT, 'target/kp-telegram-test-state.json')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const deadline = (what) => new Promise((_, fail) => setTimeout(() => fail(new Error(`${what} within 10 s`)), 10_000).unref());
  try {
    const url = await Promise.race([deadline('listening'), new Promise((ok) => {
      createInterface({ input: child.stdout }).on('line', (l) => { const m = /listening on (http:\S+)/.exec(l); if (m) ok(m[1]); });
    })]);
    let err = '';
    const boxed = new Promise((ok) => child.stderr.on('data', (d) => { err += d; if (err.includes('└')) ok(); }));
    await fetch(`${url}/bot${TOKEN}/sendMessage`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ chat_id: '5', text: 'Paid RM 1.00' }) });
    await Promise.race([deadline('a box on stderr'), boxed]);
    assert.match(err, /Telegram to chat 5[^]*│ Paid RM 1\.00/);
  } finally {
    child.kill('SIGTERM');
  }
});
