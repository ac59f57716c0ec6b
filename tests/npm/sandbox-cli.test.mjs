// `npx kelantanpay-sandbox` from the installed package: --help, refused options, a data
// directory that survives a restart, and the control API driving a payment to paid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { RUNTIMES, theProject } from './project.mjs';

const run = promisify(execFile);

test('npx kelantanpay-sandbox --help documents the options and the control API', async () => {
  const { stdout } = await run('npx', ['--no', '--', 'kelantanpay-sandbox', '--help'], { cwd: theProject(), timeout: 60_000 });
  for (const text of ['--port', '--data-dir', '--early-22', '/__sandbox/settle', '/__sandbox/faults', 'status_false']) assert.ok(stdout.includes(text), text);
  const bad = await run('npx', ['--no', '--', 'kelantanpay-sandbox', '--prot', '1'], { cwd: theProject(), timeout: 60_000 }).catch((e) => e);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown option --prot/);
});

/** Starts the bin on Node 20.0 on a free port; resolves with its URL and a stop(). */
function start(args) {
  const bin = join(theProject(), 'node_modules/kelantanpay/sandbox/cli.mjs');
  const child = spawn(RUNTIMES.node20, [bin, '--port', '0', '--quiet', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stopped = new Promise((ok) => child.once('exit', ok));
  const stop = () => { child.kill('SIGTERM'); return stopped; };
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); fail(new Error('the sandbox did not start within 10 s')); }, 10_000);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const url = line.match(/listening on (http:\/\/\S+)/)?.[1];
      if (url) { clearTimeout(timer); ok({ url, stop }); }
    });
    child.once('exit', (code) => { clearTimeout(timer); fail(new Error(`the sandbox exited with ${code}`)); });
  });
}

test('the bin runs a sandbox the package pays against, and --data-dir keeps payments across a restart', async () => {
  const data = mkdtempSync(join(tmpdir(), 'kp-sandbox-data-'));
  const { KelantanPay } = createRequire(join(theProject(), 'index.js'))('kelantanpay');
  let sandbox = await start(['--data-dir', data, '--username', 'cli-merchant', '--password', 'pw-Cli-1', '--early-22', '0']);
  let reference;
  try {
    const kp = new KelantanPay({ username: 'cli-merchant', password: 'pw-Cli-1', provider: 'sandbox', account: '0', baseUrl: sandbox.url });
    ({ reference } = await kp.createPayment({ amount: 3, name: 'Ali', email: 'ali@example.my', mobile: '0123456789' }));
    const settled = await fetch(`${sandbox.url}/__sandbox/settle`, { method: 'POST', body: JSON.stringify({ reference, outcome: 'paid' }) });
    assert.equal(settled.status, 200);
    assert.equal((await kp.checkStatus(reference)).status, 'paid');
  } finally {
    await sandbox.stop();
  }
  sandbox = await start(['--data-dir', data, '--username', 'cli-merchant', '--password', 'pw-Cli-1']);
  try {
    const kp = new KelantanPay({ username: 'cli-merchant', password: 'pw-Cli-1', provider: 'sandbox', account: '0', baseUrl: sandbox.url });
    assert.equal((await kp.requery(reference)).status, 'paid');
  } finally {
    await sandbox.stop();
    rmSync(data, { recursive: true, force: true });
  }
});
