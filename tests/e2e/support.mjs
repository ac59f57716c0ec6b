// What every e2e file needs: one stack per file, requests through the leak scanner, the
// sandbox's control API, and a local webhook receiver.
import { after, before, beforeEach } from 'node:test';
import { createServer } from 'node:http';
import { startStack } from '../support/harness.mjs';
import { LeakScan } from '../support/leakscan.mjs';

export const PAYER = { name: 'Siti Aminah', email: 'siti@example.my', mobile: '+60 12-345 6789' };
export const ORDER = { items: [{ sku: 'batik-scarf', quantity: 2 }], ...PAYER };
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts a stack for the file (and a leak scan asserted at its end); returns a getter. */
export function fileStack(options = {}) {
  const ctx = {};
  before(async () => {
    ctx.stack = await startStack(options);
    ctx.scan = new LeakScan(ctx.stack);
  }, { timeout: 60_000 });
  beforeEach(() => control(ctx.stack, 'POST', 'reset', {}));
  after(async () => {
    if (!ctx.stack) return;
    try {
      await sleep(100);
      await ctx.scan.assertClean();
    } finally {
      await ctx.stack.stop();
    }
  });
  return () => ctx;
}

export function api(ctx) {
  const json = (method, path, body, headers = {}, signal = undefined) =>
    ctx.scan.fetch(path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal,
    });
  return {
    get: (path, headers = {}) => ctx.scan.fetch(path, { headers }),
    post: (path, body, headers) => json('POST', path, body, headers),
    raw: (path, init) => ctx.scan.fetch(path, init),
    create: (body = ORDER, headers, signal) => json('POST', '/api/payments', body, headers, signal),
  };
}

export async function control(stack, method, name, body) {
  const response = await fetch(`${stack.sandbox.url}/__sandbox/${name}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return response.json();
}

export const stats = (stack) => control(stack, 'GET', 'stats');
export const upstreamPayments = (stack) => control(stack, 'GET', 'payments');
/** Every reference payment-generator was sent, in order, refused ones included. */
export const sentReferences = (stack) => control(stack, 'GET', 'references');
export const sandboxConfig = (stack, settings) => control(stack, 'POST', 'config', settings);
export const fault = (stack, call, kind, times = 1) => control(stack, 'POST', 'faults', { call, fault: kind, times });
export const settle = (stack, reference, outcome) => control(stack, 'POST', 'settle', { reference, outcome });

/** A local webhook receiver: `answers` is a queue of HTTP statuses to reply with (then 200). */
export async function webhookReceiver(answers = []) {
  // `answers` stays live: push statuses onto it to make the next deliveries fail.
  const events = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const status = answers.shift() ?? 200;
      events.push({ status, body, signature: req.headers['kelantanpay-signature'], type: req.headers['content-type'] });
      res.writeHead(status).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/hooks`, events, answers, close: () => new Promise((r) => server.close(r)) };
}

/** Polls `check` until it returns a truthy value, or fails after `ms`. */
export async function eventually(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}
