// Issue 19 item 5: the status limit counts in Cloudflare's Rate Limiting bindings
// (wrangler.toml [[ratelimits]], emulated by Miniflare), which every isolate of a location
// shares, after the isolate's own count. Here the isolate's own count is set out of reach
// (KP_STATUS_RATE_LIMIT_PER_MINUTE=100000), so every 429 below comes from a binding: what a
// client spread over many isolates meets. Without the bindings (an older wrangler.toml) the
// isolate's count still limits, and /api/health says the limit is per isolate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unstable_readConfig } from 'wrangler';
import { ROOT, startWorker } from '../support/harness.mjs';
import { files } from '../../packages/create-kelantanpay/project.mjs';
import { fileStack, sleep, ORDER } from './support.mjs';

const ctx = fileStack();
const CLIENT = 3;
const NETWORK = 5;

async function withWorker(options, run) {
  const { stack } = ctx();
  const worker = await startWorker({ sandboxUrl: stack.sandbox.url, secrets: stack.secrets, ...options });
  try {
    return await run(worker);
  } finally {
    await worker.stop();
  }
}

// Miniflare's limiter counts in fixed windows of the period (60 s) from the epoch: a test that
// straddles a window's end would see its count reset, so it starts well inside one.
async function freshWindow() {
  const into = Date.now() % 60_000;
  if (into > 45_000) await sleep(60_500 - into);
}

const made = (worker) => fetch(`${worker.url}/api/payments`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ORDER),
}).then((r) => r.json());
const poll = (worker, id, ip) => fetch(`${worker.url}/api/payments/${encodeURIComponent(id)}`, { headers: { 'cf-connecting-ip': ip } });
const statuses = async (n, request) => {
  const out = [];
  for (let i = 0; i < n; i += 1) out.push((await request(i)).status);
  return out;
};

test('status polls count in the shared binding: a client past its limit gets 429, another client does not', async () => {
  await withWorker({ vars: { KP_STATUS_RATE_LIMIT_PER_MINUTE: '100000' }, ratelimits: { STATUS_LIMIT: CLIENT, STATUS_NETWORK_LIMIT: NETWORK } }, async (worker) => {
    const { id } = await made(worker);
    await freshWindow();
    assert.deepEqual(await statuses(CLIENT + 2, () => poll(worker, id, '203.0.113.50')), [200, 200, 200, 429, 429]);
    const refused = await poll(worker, id, '203.0.113.50');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '60', 'one period: the binding does not say when its window ends');
    assert.equal((await refused.json()).error.type, 'rate_limited');
    assert.equal((await poll(worker, id, '203.0.113.51')).status, 200, 'another address is not limited');
    // A forged id counts too (guessing ids costs the guesser everywhere), and is refused
    // before it is looked at once the limit is reached.
    assert.deepEqual(await statuses(CLIENT + 1, () => poll(worker, 'kp_forged', '203.0.113.52')), [404, 404, 404, 429]);
    // Unverified callbacks share the limit (the async path).
    const callback = () => fetch(`${worker.url}/api/callback`, {
      method: 'POST', headers: { 'cf-connecting-ip': '203.0.113.53', 'content-type': 'application/x-www-form-urlencoded' }, body: 'reference=nobody',
    });
    const callbacks = await statuses(CLIENT + 1, callback);
    assert.ok(callbacks.slice(0, CLIENT).every((s) => s !== 429), callbacks.join(','));
    assert.equal(callbacks[CLIENT], 429, callbacks.join(','));
  });
});

test('an IPv6 /48 is limited as a whole in the shared binding; another /48 is not', async () => {
  await withWorker({ vars: { KP_STATUS_RATE_LIMIT_PER_MINUTE: '100000' }, ratelimits: { STATUS_LIMIT: CLIENT, STATUS_NETWORK_LIMIT: NETWORK } }, async (worker) => {
    const { id } = await made(worker);
    await freshWindow();
    // A new /64 each time: no /64 reaches its own limit, the /48 does.
    const walk = await statuses(NETWORK + 3, (i) => poll(worker, id, `2001:db8:77:${i.toString(16)}::1`));
    assert.deepEqual(walk, [...Array(NETWORK).fill(200), 429, 429, 429]);
    assert.equal((await poll(worker, id, '2001:db8:78:1::1')).status, 200, 'another /48 is not affected');
    // One /64 of a fresh /48 meets its own limit first.
    assert.deepEqual(await statuses(CLIENT + 1, () => poll(worker, id, '2001:db8:79:1::1')), [200, 200, 200, 429]);
    assert.equal((await poll(worker, id, '2001:db8:79:2::1')).status, 200, 'another /64 of that /48 is not');
  });
});

test('without the bindings the isolate still limits, and /api/health warns that the limit is per isolate', async () => {
  await withWorker({ vars: { KP_STATUS_RATE_LIMIT_PER_MINUTE: '2' }, ratelimits: false }, async (worker) => {
    const health = await fetch(`${worker.url}/api/health`).then((r) => r.json());
    assert.equal(health.configured, true);
    for (const name of ['STATUS_LIMIT', 'STATUS_NETWORK_LIMIT']) {
      assert.ok((health.warnings ?? []).some((w) => w.includes(`the ${name} rate limiting binding is missing`)), JSON.stringify(health));
    }
    const { id } = await made(worker);
    assert.deepEqual(await statuses(3, () => poll(worker, id, '203.0.113.60')), [200, 200, 429]);
  });
  await withWorker({}, async (worker) => {
    const health = await fetch(`${worker.url}/api/health`).then((r) => r.json());
    assert.ok(!(health.warnings ?? []).some((w) => w.includes('rate limiting binding')), JSON.stringify(health));
  });
});

// A binding's limit cannot follow the var at run time, so every wrangler.toml we ship or write
// must say the same number twice: STATUS_LIMIT at KP_STATUS_RATE_LIMIT_PER_MINUTE (300 when
// unset), STATUS_NETWORK_LIMIT at 16 times it, per minute, in namespaces of each environment's own.
test('every shipped and written wrangler.toml has both limiters at the status limit and 16 times it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kp-limiters-'));
  const written = join(dir, 'wrangler.toml');
  writeFileSync(written, files({ name: 'shop', version: '0.0.0', provider: 'p', account: '1', origins: ['https://shop.example'], returnUrl: 'https://shop.example/', secrets: { signing: 'a', idempotency: 'b', webhook: 'c' } })['wrangler.toml']);
  const configs = [
    [join(ROOT, 'wrangler.toml'), [undefined, 'production']],
    [join(ROOT, 'packages/worker/wrangler.fragment.toml'), [undefined]],
    [written, [undefined, 'production']],
  ];
  for (const [file, envs] of configs) {
    const namespaces = [];
    for (const env of envs) {
      const config = unstable_readConfig({ config: file, env }, { hideWarnings: true });
      const status = Number(config.vars?.KP_STATUS_RATE_LIMIT_PER_MINUTE ?? 300);
      const by = Object.fromEntries((config.ratelimits ?? []).map((r) => [r.name, r]));
      const where = `${file}${env ? ` [env.${env}]` : ''}`;
      assert.deepEqual(by.STATUS_LIMIT?.simple, { limit: status, period: 60 }, where);
      assert.deepEqual(by.STATUS_NETWORK_LIMIT?.simple, { limit: status * 16, period: 60 }, where);
      namespaces.push(by.STATUS_LIMIT.namespace_id, by.STATUS_NETWORK_LIMIT.namespace_id);
    }
    assert.equal(new Set(namespaces).size, namespaces.length, `${file}: each environment's limiters count apart`);
  }
});
