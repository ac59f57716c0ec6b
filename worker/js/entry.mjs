// The Worker's entry module (wrangler.toml `main`; scripts/build-worker.sh copies it next to the
// generated index.js). No route and no rule lives here.
// - A request is a Rust machine (`Exchange`, worker/src/runtime/exchange.rs, around
//   worker/src/http/machine.rs) that says what to do next, one string each way: read the body,
//   call Rate Limiting bindings, call objects, run SQL on the LEDGER database, serve a static
//   asset, answer (JSON, with the request's log line), or stream an answer (its start, chunks,
//   end). This loop does it and hands back what came of it (one call's string or error as is,
//   else JSON), so the awaits are here and no Rust future runs for a request.
// - Each Durable Object is the Rust object inside a class that extends `DurableObject`, so the
//   Worker reaches it over JS RPC: `answer(message)` with one JSON string each way, instead of a
//   fetch that builds a Request and a Response on both sides (bench/RESULTS.md, "Levers, measured").
import { DurableObject } from 'cloudflare:workers';
import RustWorker, {
  PaymentObject as RustPaymentObject,
  ClientBucket as RustClientBucket,
  OrderIndex as RustOrderIndex,
  Exchange,
} from './index.js';

export default class extends RustWorker {
  async fetch(request) {
    const exchange = Exchange.begin(request, this.env);
    // A streamed answer hands the exchange to `stream`, which frees it when the body is over.
    let handedOff = false;
    try {
      let input = '';
      for (;;) {
        const next = JSON.parse(exchange.step(input));
        if (next.do === 'answer') {
          if (next.log) console.log(next.log);
          return new Response(next.body, { status: next.status, headers: next.headers });
        }
        if (next.do === 'asset') return this.env.ASSETS.fetch(request);
        if (next.do === 'asset_at') return assetAt(this.env.ASSETS, request, next);
        if (next.do === 'stream') {
          const { readable, writable } = new TransformStream();
          handedOff = true;
          const streamed = this.stream(exchange, writable.getWriter(), request).finally(() => exchange.free());
          this.ctx.waitUntil(streamed);
          return new Response(readable, { status: next.status, headers: next.headers });
        }
        input = await this.perform(next, request);
      }
    } finally {
      if (!handedOff) exchange.free();
    }
  }

  // (orders helper, round 28) The rest of a streamed answer: `write` (hand back '' once the
  // client took the chunk, or `!` and what writing threw), any other effect as in `fetch`, and
  // `end`: close the body, or abort it when the machine says the answer failed.
  async stream(exchange, writer, request) {
    const encoder = new TextEncoder();
    let input = '';
    try {
      for (;;) {
        const next = JSON.parse(exchange.step(input));
        if (next.do === 'end') {
          if (next.log) console.log(next.log);
          if (next.failed) await writer.abort(new Error('the answer failed while streaming')).catch(() => {});
          else await writer.close().catch(() => {});
          return;
        }
        if (next.do === 'write') {
          try {
            await writer.write(encoder.encode(next.chunk));
            input = '';
          } catch (error) {
            input = '!' + String(error);
          }
          continue;
        }
        input = await this.perform(next, request);
      }
    } catch (error) {
      await writer.abort(error).catch(() => {});
    }
  }

  // One effect that hands something back (read, limit, call, sql), performed; what it came to.
  async perform(next, request) {
    const calls = next.do === 'read' ? [() => readBody(request, next)]
      : next.do === 'fetch' ? [() => fetchText(next)]
      : next.do === 'verify' ? [() => verifyRs256(next)]
      : next.do === 'limit' ? next.calls.map(({ binding, key }) => () => this.env[binding].limit({ key }))
      : next.do === 'sql' ? [() => runSql(this.env.LEDGER, next.statements)]
      : next.calls.map(({ binding, name, message }) => () => this.env[binding].getByName(name).answer(message));
    // What they came to (see `outcomes` in worker/src/runtime/exchange.rs): one call (the usual case) as `+`
    // and the string it fulfilled with (an object's reply, the body's text), or `!` and what it
    // threw (at once or later), neither wrapped in JSON nor parsed twice; anything else (several
    // calls, or a value that is no string: a limiter's `{ success }`, a body past its limit) as
    // the JSON array of one outcome per call in order, `{ ok: value }` or `{ error: "..." }`.
    if (calls.length === 1) {
      let value;
      try {
        value = await calls[0]();
      } catch (error) {
        return '!' + String(error);
      }
      return typeof value === 'string' ? '+' + value : JSON.stringify([fulfilled(value)]);
    }
    return JSON.stringify(await Promise.all(calls.map(attempt)));
  }
}

// (orders helper, round 28) SQL the machine decided, on the LEDGER D1 database: one statement as
// `all()`, several as one `batch` (one transaction); the JSON text of their results in order
// (rows, and the `meta` the machine reads).
async function runSql(db, statements) {
  const prepared = statements.map(({ sql, params }) => db.prepare(sql).bind(...params));
  const results = prepared.length === 1 ? [await prepared[0].all()] : await db.batch(prepared);
  return JSON.stringify(results.map(({ results: rows, meta }) => ({
    results: rows ?? [],
    meta: { changes: meta?.changes ?? 0, duration: meta?.duration ?? 0 },
  })));
}

// One outcome of several: `{ ok: value }`, or `{ error: what it threw }` (thrown at once or later).
const fulfilled = (value) => ({ ok: value ?? null });
const rejected = (reason) => ({ error: String(reason) });
function attempt(call) {
  try {
    return Promise.resolve(call()).then(fulfilled, rejected);
  } catch (error) {
    return rejected(error);
  }
}

// The body as the machine asks for it: at most `keep` bytes, as text of one char per byte. Past
// `keep`, null, once at most `drain` more bytes were read and dropped within `ms` (the body is
// cancelled beyond either, and at once when `drain` is 0).
async function readBody(request, { keep, drain, ms }) {
  const reader = request.body.getReader();
  if (keep === 0 && drain === 0) return reader.cancel().then(() => null, () => null);
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text;
    if (text.length + value.length > keep) break;
    for (let i = 0; i < value.length; i += 8192) text += String.fromCharCode(...value.subarray(i, i + 8192));
  }
  let timer;
  const drained = (async () => {
    try {
      for (let total = 0; total <= drain;) {
        const { done, value } = await reader.read();
        if (done) return true;
        total += value.length;
      }
      return false;
    } catch {
      return true;
    }
  })();
  const late = new Promise((resolve) => { timer = setTimeout(resolve, ms, false); });
  if (!(await Promise.race([drained, late]))) await reader.cancel().catch(() => {});
  clearTimeout(timer);
  return null;
}

// --- admin side (auth helper) ---
// `asset_at`: the asset the assets binding serves at `path`, with the machine's headers set on it
// (the admin page's CSP, no-store, ...).
async function assetAt(assets, request, { path, headers }) {
  const method = request.method === 'HEAD' ? 'HEAD' : 'GET';
  const response = await assets.fetch(new Request(new URL(path, request.url), { method }));
  const out = new Headers(response.headers);
  for (const [name, value] of headers) out.set(name, value);
  return new Response(response.body, { status: response.status, headers: out });
}

// `fetch`: GET `url` within `timeout_ms`; the body of a 2xx answer as text, else it throws.
async function fetchText({ url, timeout_ms }) {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeout_ms), redirect: 'manual' });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  return response.text();
}

// `verify`: an RS256 signature (base64url) over `data` with the public key `jwk`, by WebCrypto.
async function verifyRs256({ jwk, data, signature }) {
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const key = await crypto.subtle.importKey('jwk', jwk, algorithm, false, ['verify']);
  const bytes = Uint8Array.from(atob(signature.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  return { success: await crypto.subtle.verify(algorithm, key, bytes, new TextEncoder().encode(data)) };
}
// --- end admin side ---

// Symbol-keyed, so the Rust object is no RPC-visible property of the class.
const RUST = Symbol('rust');

const aroundRust = (Rust) => class extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this[RUST] = new Rust(ctx, env);
  }

  answer(message) {
    return this[RUST].answer(message);
  }

  alarm() {
    return this[RUST].alarm();
  }
};

export class ClientBucket extends aroundRust(RustClientBucket) {}
export class OrderIndex extends aroundRust(RustOrderIndex) {}

export class PaymentObject extends aroundRust(RustPaymentObject) {
  // `answerNow` answers what needs no await (a final status from the cached record) without
  // a Rust future; it returns undefined for everything else.
  answer(message) {
    return this[RUST].answerNow(message) ?? this[RUST].answer(message);
  }
}
