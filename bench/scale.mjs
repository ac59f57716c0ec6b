// `make bench`, part two: the payment lifecycle at scale (issue 9). Many concurrent creates and
// status polls spread over many payments against the built Worker in workerd and the sandbox.
// Prints req/s, p50/p99, object calls per create / pending status / final status (from the
// Worker's log lines), and upstream requeries per 100 polls of one pending payment.
import { randomUUID } from 'node:crypto';
import { startSandbox, startWorker, randomSecrets } from '../tests/support/harness.mjs';

const PAYMENTS = Number(process.env.SCALE_PAYMENTS ?? 200);
const POLLS = Number(process.env.SCALE_POLLS ?? 1000);
const CONCURRENCY = Number(process.env.SCALE_CONCURRENCY ?? 16);
const ORDER = { items: [{ sku: 'batik-scarf', quantity: 1 }], name: 'Scale Buyer', email: 'scale@example.my', mobile: '0123456789' };

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const ms = (n) => `${n.toFixed(1)} ms`;

/** Runs `count` calls of `call(i)` with `CONCURRENCY` in flight; times each. */
async function load(count, call) {
  const times = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const i = next++;
      const t = performance.now();
      await call(i);
      times.push(performance.now() - t);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return { rps: count / seconds, p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
}

/** Mean of a log field over the request lines of `route` logged since `from`. */
function perRequest(logs, from, route, field) {
  const lines = logs.slice(from).map((l) => { try { return JSON.parse(l); } catch { return null; } })
    .filter((l) => l?.msg === 'request' && l.route === route);
  return lines.reduce((sum, l) => sum + (l[field] ?? 0), 0) / Math.max(1, lines.length);
}

const secrets = randomSecrets();
const sandbox = await startSandbox({ username: secrets.KP_USERNAME, password: secrets.KP_PASSWORD, early22Seconds: 0 });
const worker = await startWorker({
  sandboxUrl: sandbox.url, secrets, assets: false,
  vars: { KP_RATE_LIMIT_PER_MINUTE: '100000000', KP_STATUS_RATE_LIMIT_PER_MINUTE: '100000000' },
});
const control = (name, body) => fetch(`${sandbox.url}/__sandbox/${name}`, { method: body ? 'POST' : 'GET', body: body && JSON.stringify(body) }).then((r) => r.json());
const status = (p) => fetch(`${worker.url}/api/payments/${encodeURIComponent(p.id)}`).then((r) => r.json());
const rows = [];
try {
  await fetch(`${worker.url}/api/payments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ORDER) }).then((r) => r.text());

  let mark = worker.logs.length;
  const payments = [];
  const created = await load(PAYMENTS, async () => {
    const r = await fetch(`${worker.url}/api/payments`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() }, body: JSON.stringify(ORDER),
    });
    payments.push(await r.json());
  });
  const createCalls = perRequest(worker.logs, mark, '/api/payments', 'object_calls');
  rows.push(['create, each with its own key', created, createCalls.toFixed(2), '2', perRequest(worker.logs, mark, '/api/payments', 'upstream_calls').toFixed(2)]);

  // Half the payments are paid and confirmed once; the other half stay pending.
  const paid = payments.slice(0, payments.length / 2);
  const pending = payments.slice(payments.length / 2);
  for (const p of paid) await control('settle', { reference: p.reference, outcome: 'paid' });
  for (const p of paid) await status(p);
  await new Promise((r) => setTimeout(r, 2100));

  mark = worker.logs.length;
  const pendingPolls = await load(POLLS, (i) => status(pending[i % pending.length]));
  rows.push([`status of ${pending.length} pending payments`, pendingPolls,
    perRequest(worker.logs, mark, '/api/payments/:id', 'object_calls').toFixed(2), '≤ 1',
    perRequest(worker.logs, mark, '/api/payments/:id', 'upstream_calls').toFixed(2)]);

  mark = worker.logs.length;
  const finalPolls = await load(POLLS, (i) => status(paid[i % paid.length]));
  rows.push([`status of ${paid.length} paid payments`, finalPolls,
    perRequest(worker.logs, mark, '/api/payments/:id', 'object_calls').toFixed(2), '≤ 1 (0 upstream)',
    perRequest(worker.logs, mark, '/api/payments/:id', 'upstream_calls').toFixed(2)]);

  // 100 polls of one pending payment, 20 at a time.
  await new Promise((r) => setTimeout(r, 2100));
  const one = pending[0];
  const before = (await control('stats')).requery;
  for (let wave = 0; wave < 5; wave += 1) await Promise.all(Array.from({ length: 20 }, () => status(one)));
  const requeries = (await control('stats')).requery - before;

  console.log([
    `### Scale model: ${PAYMENTS} payments, ${POLLS} polls per scenario, ${CONCURRENCY} in flight (one Worker in workerd, sandbox in-process)`, '',
    '| scenario | req/s | p50 | p99 | object calls per request | goal | upstream calls per request |', '|---|---|---|---|---|---|---|',
    ...rows.map(([name, r, calls, goal, upstream]) => `| ${name} | ${r.rps.toFixed(0)} | ${ms(r.p50)} | ${ms(r.p99)} | ${calls} | ${goal} | ${upstream} |`),
    '', `Upstream requeries for 100 status polls of one pending payment (5 waves of 20 concurrent): ${requeries}.`,
  ].join('\n'));
} finally {
  await worker.stop();
  await sandbox.stop();
}
