// The package's ES module build in a plain JavaScript Worker: bundled by wrangler the way a
// merchant deploys it, then run in workerd against the sandbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { startSandbox } from '../../sandbox/server.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const WORKER = `
import { KelantanPay, KelantanPayError } from ${JSON.stringify(join(ROOT, 'pkg/esm/index.mjs'))};
export default {
  async fetch(request, env) {
    const kp = new KelantanPay({ username: env.U, password: env.P, provider: 'sandbox', account: '0', baseUrl: env.BASE });
    try {
      const body = await request.json();
      const made = await kp.createPayment(body);
      return Response.json({ made, status: await kp.requery(made.reference) });
    } catch (e) {
      return Response.json({ isKelantanPayError: e instanceof KelantanPayError, kind: e.kind, field: e.field }, { status: e.status ?? 500 });
    }
  },
};`;

test('a JS Worker bundled by wrangler creates and requeries a payment', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kp-jsworker-'));
  writeFileSync(join(dir, 'worker.mjs'), WORKER);
  execFileSync(join(ROOT, 'node_modules/.bin/wrangler'),
    ['deploy', '--dry-run', '--outdir', join(dir, 'out'), '--name', 'kp-npm-check', '--compatibility-date', '2025-09-01', 'worker.mjs'],
    { cwd: dir, stdio: 'pipe', timeout: 60_000, env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' } });
  const sandbox = await startSandbox({ username: 'js-worker', password: 'pw-Js-Worker-1' });
  const mf = new Miniflare({
    modules: true,
    modulesRoot: join(dir, 'out'),
    scriptPath: join(dir, 'out/worker.js'),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-09-01',
    bindings: { U: 'js-worker', P: 'pw-Js-Worker-1', BASE: sandbox.url },
  });
  try {
    const payer = { amount: '9.90', name: 'Wan', email: 'wan@example.my', mobile: '0123456789' };
    const ok = await mf.dispatchFetch('http://worker/', { method: 'POST', body: JSON.stringify(payer) });
    const body = await ok.json();
    assert.equal(ok.status, 200, JSON.stringify(body));
    assert.equal(body.made.amount, '9.90');
    assert.equal(body.status.reference, body.made.reference);
    assert.equal(body.status.status, 'pending');

    const bad = await mf.dispatchFetch('http://worker/', { method: 'POST', body: JSON.stringify({ ...payer, email: 'nope' }) });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { isKelantanPayError: true, kind: 'invalid_request', field: 'email' });
  } finally {
    await mf.dispose();
    await sandbox.stop();
  }
});
