// `make dev`'s local secrets (scripts/dev-vars.sh, run by scripts/setup.sh; issue 28, item 4): on a
// fresh checkout it writes .dev.vars from the example with a fresh secret for every placeholder,
// the dev admin token among them, which the Worker's own settings check accepts; a re-run changes
// nothing; a hand-copied example gets fresh secrets in place; a .dev.vars from before the order
// inbox gets a token added and keeps every line it had.
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
  assert.equal(text.replace(/=[0-9a-f]{64}$/gm, '=replace-with-32-random-bytes-in-hex'), EXAMPLE, 'every other line as the example');
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
