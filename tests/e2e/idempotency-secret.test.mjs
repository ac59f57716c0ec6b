// Issue 19, item 4: an Idempotency-Key's slot is keyed by the deployment's KP_IDEMPOTENCY_SECRET,
// so two Workers on one merchant account never send the same reference, and a rotation of
// KP_SIGNING_SECRET moves no key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startWorker } from '../support/harness.mjs';
import { fileStack, sentReferences, ORDER } from './support.mjs';

const ctx = fileStack();
const secret = () => randomBytes(32).toString('hex');

async function create(url, key, body = ORDER) {
  const r = await fetch(`${url}/api/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

test('two deployments on one merchant account given the same key send different references', async () => {
  const { stack } = ctx();
  const staging = await startWorker({ sandboxUrl: stack.sandbox.url, secrets: { ...stack.secrets, KP_IDEMPOTENCY_SECRET: secret() } });
  try {
    const production = await create(stack.worker.url, 'order-1001');
    const other = await create(staging.url, 'order-1001');
    assert.equal(production.status, 201, JSON.stringify(production.json));
    assert.equal(other.status, 201, JSON.stringify(other.json));
    assert.notEqual(production.json.reference, other.json.reference);
    assert.equal(new Set(await sentReferences(stack)).size, 2, 'two references upstream, each once');
  } finally {
    await staging.stop();
  }
});

test('a rotation of KP_SIGNING_SECRET moves no key: the repeat replays the same 201', async () => {
  const { stack } = ctx();
  const persist = mkdtempSync(join(tmpdir(), 'kp-do-'));
  const idempotency = secret();
  const before = await startWorker({
    sandboxUrl: stack.sandbox.url,
    secrets: { ...stack.secrets, KP_IDEMPOTENCY_SECRET: idempotency },
    miniflare: { durableObjectsPersist: persist },
  });
  let first;
  try {
    first = await create(before.url, 'order-2002');
    assert.equal(first.status, 201, JSON.stringify(first.json));
  } finally {
    await before.stop();
  }
  const rotated = await startWorker({
    sandboxUrl: stack.sandbox.url,
    secrets: { ...stack.secrets, KP_SIGNING_SECRET: secret(), KP_SIGNING_SECRET_PREVIOUS: stack.secrets.KP_SIGNING_SECRET, KP_IDEMPOTENCY_SECRET: idempotency },
    miniflare: { durableObjectsPersist: persist },
  });
  try {
    const again = await create(rotated.url, 'order-2002');
    assert.equal(again.status, 201, JSON.stringify(again.json));
    assert.deepEqual(again.json, first.json, 'the same 201 body');
    assert.equal((await sentReferences(stack)).length, 1, 'nothing created upstream again');
  } finally {
    await rotated.stop();
  }
});

test('without KP_IDEMPOTENCY_SECRET the Worker still takes payments and /api/health warns', async () => {
  const { stack } = ctx();
  const { KP_IDEMPOTENCY_SECRET: _, ...rest } = stack.secrets;
  const unsalted = await startWorker({ sandboxUrl: stack.sandbox.url, secrets: rest });
  try {
    const health = await fetch(`${unsalted.url}/api/health`).then((r) => r.json());
    assert.equal(health.configured, true);
    assert.equal(health.problems, undefined);
    assert.ok(health.warnings.some((w) => w.startsWith('KP_IDEMPOTENCY_SECRET is missing')), JSON.stringify(health));
    assert.equal((await create(unsalted.url, 'order-3003')).status, 201);
    const salted = await fetch(`${stack.worker.url}/api/health`).then((r) => r.json());
    assert.equal(salted.warnings, undefined, 'no warning once the secret is set');
    const short = await startWorker({ sandboxUrl: stack.sandbox.url, secrets: { ...rest, KP_IDEMPOTENCY_SECRET: 'short' } });
    try {
      const h = await fetch(`${short.url}/api/health`).then((r) => r.json());
      assert.equal(h.configured, false);
      assert.ok(h.problems.includes('KP_IDEMPOTENCY_SECRET must be at least 32 characters'), JSON.stringify(h));
      assert.ok(!JSON.stringify(h).includes('short'), 'never the value');
    } finally {
      await short.stop();
    }
  } finally {
    await unsalted.stop();
  }
});
