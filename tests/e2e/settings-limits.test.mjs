// Contract v2 settings and limits: status requests and callbacks count toward
// KP_STATUS_RATE_LIMIT_PER_MINUTE (IPv6 per /64); a verified KelantanPay callback does not;
// unsafe settings are reported by name; a signing-key rotation keeps old handles working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startWorker } from '../support/harness.mjs';
import { fileStack, stats, ORDER } from './support.mjs';

const ctx = fileStack();

async function withWorker(vars, run, secrets = {}) {
  const { stack } = ctx();
  const worker = await startWorker({ sandboxUrl: stack.sandbox.url, secrets: { ...stack.secrets, ...secrets }, vars });
  try {
    return await run(worker, stack);
  } finally {
    await worker.stop();
  }
}

const create = (worker, headers = {}) => fetch(`${worker.url}/api/payments`, {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(ORDER),
}).then(async (r) => ({ status: r.status, json: await r.json() }));

test('status requests and unverified callbacks share a per-client limit; 429 with Retry-After', async () => {
  await withWorker({ KP_STATUS_RATE_LIMIT_PER_MINUTE: '4' }, async (worker) => {
    const made = (await create(worker)).json;
    const get = (ip, id = made.id) => fetch(`${worker.url}/api/payments/${encodeURIComponent(id)}`, { headers: { 'cf-connecting-ip': ip } });
    const ip = '203.0.113.50';
    assert.equal((await get(ip)).status, 200);
    assert.equal((await get(ip, 'forged.id.value')).status, 404, 'a forged id counts too');
    const cb = await fetch(`${worker.url}/api/callback`, {
      method: 'POST', headers: { 'cf-connecting-ip': ip, 'content-type': 'application/x-www-form-urlencoded' }, body: `reference=${made.reference}`,
    });
    assert.equal(cb.status, 200);
    assert.equal((await get(ip)).status, 200);
    const over = await get(ip);
    assert.equal(over.status, 429);
    assert.equal((await over.json()).error.type, 'rate_limited');
    const wait = Number(over.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
    // KelantanPay's own callback carries our handle: never limited.
    const own = await fetch(`${worker.url}/api/callback?kp_payment=${encodeURIComponent(made.id)}`, { method: 'POST', headers: { 'cf-connecting-ip': ip } });
    assert.equal(own.status, 200, await own.text());
    assert.equal((await get('198.51.100.1')).status, 200, 'another client has its own budget');
  });
});

test('IPv6 clients in one /64 share a bucket; another /64 does not', async () => {
  await withWorker({ KP_STATUS_RATE_LIMIT_PER_MINUTE: '2', KP_RATE_LIMIT_PER_MINUTE: '2' }, async (worker) => {
    const made = (await create(worker)).json;
    const get = (ip) => fetch(`${worker.url}/api/payments/${encodeURIComponent(made.id)}`, { headers: { 'cf-connecting-ip': ip } }).then((r) => r.status);
    assert.equal(await get('2001:db8:1:2::1'), 200);
    assert.equal(await get('2001:db8:1:2:ffff::9'), 200);
    assert.equal(await get('2001:db8:1:2:abcd::1'), 429);
    assert.equal(await get('2001:db8:1:3::1'), 200);
    // Creations are counted per /64 as well, in the bucket's own object.
    assert.equal((await create(worker, { 'cf-connecting-ip': '2001:db8:9:9::1' })).status, 201);
    assert.equal((await create(worker, { 'cf-connecting-ip': '2001:db8:9:9::2' })).status, 201);
    assert.equal((await create(worker, { 'cf-connecting-ip': '2001:db8:9:9:1::3' })).status, 429);
  });
});

test('issue 19: one IPv6 /48 cannot walk through the limits by changing its /64', async () => {
  // The /48 may make 16 times a client's limit (NETWORK_FACTOR), status and creations alike.
  await withWorker({ KP_STATUS_RATE_LIMIT_PER_MINUTE: '1', KP_RATE_LIMIT_PER_MINUTE: '1' }, async (worker) => {
    const made = (await create(worker)).json;
    const get = (ip) => fetch(`${worker.url}/api/payments/${encodeURIComponent(made.id)}`, { headers: { 'cf-connecting-ip': ip } }).then((r) => r.status);
    const polls = [];
    for (let i = 0; i < 40; i += 1) polls.push(await get(`2001:db8:5:${i.toString(16)}::1`));
    assert.equal(polls.filter((s) => s === 200).length, 16, polls.join(','));
    assert.equal(await get('2001:db8:6::1'), 200, 'another /48 is not affected');
    const creates = [];
    for (let i = 0; i < 20; i += 1) creates.push((await create(worker, { 'cf-connecting-ip': `2001:db8:7:${i.toString(16)}::1` })).status);
    assert.equal(creates.filter((s) => s === 201).length, 16, creates.join(','));
    assert.ok(creates.slice(16).every((s) => s === 429), creates.join(','));
    assert.equal((await create(worker, { 'cf-connecting-ip': '2001:db8:8::1' })).status, 201, 'another /48 is not affected');
  });
});

test('unsafe settings are reported by name and keep the payment endpoints closed', async () => {
  const weak = 'short-secret';
  await withWorker({ KP_BASE_URL: 'http://payment.kelantanpay.com', KP_WEBHOOK_URL: 'http://merchant.example/hooks', KP_RECONCILE_SCHEDULE: 'soon', KP_RETENTION_DAYS: '-1', KP_STATUS_RATE_LIMIT_PER_MINUTE: '0' }, async (worker, stack) => {
    const health = await fetch(`${worker.url}/api/health`).then((r) => r.json());
    assert.equal(health.configured, false);
    for (const name of ['KP_BASE_URL', 'KP_SIGNING_SECRET', 'KP_WEBHOOK_URL', 'KP_RECONCILE_SCHEDULE', 'KP_RETENTION_DAYS', 'KP_STATUS_RATE_LIMIT_PER_MINUTE']) {
      assert.ok(health.problems.some((p) => p.startsWith(name)), `${name} in ${health.problems}`);
    }
    assert.ok(!JSON.stringify(health).includes(weak), 'names, never values');
    assert.equal((await create(worker)).status, 503);
    assert.equal((await stats(stack)).login, 0);
  }, { KP_SIGNING_SECRET: weak });
});

test('signing-key rotation: handles signed with KP_SIGNING_SECRET_PREVIOUS still verify', async () => {
  const { stack } = ctx();
  const old = await startWorker({ sandboxUrl: stack.sandbox.url, secrets: stack.secrets });
  let made;
  try {
    made = (await create(old)).json;
  } finally {
    await old.stop();
  }
  const rotated = { KP_SIGNING_SECRET: randomBytes(32).toString('hex'), KP_SIGNING_SECRET_PREVIOUS: stack.secrets.KP_SIGNING_SECRET };
  await withWorker({}, async (worker) => {
    const r = await fetch(`${worker.url}/api/payments/${encodeURIComponent(made.id)}`);
    assert.equal(r.status, 200);
    assert.equal((await r.json()).reference, made.reference);
    const fresh = (await create(worker)).json;
    assert.equal((await fetch(`${worker.url}/api/payments/${encodeURIComponent(fresh.id)}`)).status, 200);
  }, rotated);
  await withWorker({}, async (worker) => {
    const r = await fetch(`${worker.url}/api/payments/${encodeURIComponent(made.id)}`);
    assert.equal(r.status, 404, 'without the previous key the old handle is unknown');
    await r.text();
  }, { KP_SIGNING_SECRET: rotated.KP_SIGNING_SECRET });
});

test('KP_WEBHOOK_SECRET signs webhooks instead of the handle key', async () => {
  const { createHmac } = await import('node:crypto');
  const { webhookReceiver, settle, eventually } = await import('./support.mjs');
  const receiver = await webhookReceiver();
  const webhookSecret = randomBytes(32).toString('hex');
  try {
    await withWorker({ KP_WEBHOOK_URL: receiver.url }, async (worker, stack) => {
      const made = (await create(worker)).json;
      await settle(stack, made.reference, 'paid');
      await fetch(`${worker.url}/api/payments/${encodeURIComponent(made.id)}`).then((r) => r.text());
      const event = await eventually(() => receiver.events[0], 10_000, 'the webhook');
      const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(event.signature);
      assert.equal(createHmac('sha256', webhookSecret).update(`${t}.${event.body}`).digest('hex'), v1);
      assert.notEqual(createHmac('sha256', stack.secrets.KP_SIGNING_SECRET).update(`${t}.${event.body}`).digest('hex'), v1);
    }, { KP_WEBHOOK_SECRET: webhookSecret });
  } finally {
    await receiver.close();
  }
});
