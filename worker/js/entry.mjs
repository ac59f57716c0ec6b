// The Worker's entry module (wrangler.toml `main`; scripts/build-worker.sh copies it next to the
// generated index.js). No route and no rule lives here.
// - A request is a Rust machine (`Exchange`, worker/src/runtime/exchange.rs, around
//   worker/src/http/machine.rs) that says what to do next, one string each way: read the body,
//   call Rate Limiting bindings, call objects, serve a static asset, or answer (JSON, with the
//   request's log line). This loop does it and hands back what came of it (one call's string or
//   error as is, else JSON), so the awaits are here and no Rust future runs for a request.
// - Each Durable Object is the Rust object inside a class that extends `DurableObject`, so the
//   Worker reaches it over JS RPC: `answer(message)` with one JSON string each way, instead of a
//   fetch that builds a Request and a Response on both sides (bench/RESULTS.md, "Levers, measured").
import { DurableObject } from 'cloudflare:workers';
import RustWorker, {
  PaymentObject as RustPaymentObject,
  ClientBucket as RustClientBucket,
  OrderIndex as RustOrderIndex,
  Exchange,
  LedgerSweep,
} from './index.js';

export default class extends RustWorker {
  async fetch(request) {
    const exchange = Exchange.begin(request, this.env);
    try {
      let input = '';
      for (;;) {
        const next = JSON.parse(exchange.step(input));
        if (next.do === 'answer') {
          if (next.log) console.log(next.log);
          return new Response(next.body, { status: next.status, headers: next.headers });
        }
        if (next.do === 'asset') return this.env.ASSETS.fetch(request);
        const calls = next.do === 'read' ? [() => readBody(request, next)]
          : next.do === 'limit' ? next.calls.map(({ binding, key }) => () => this.env[binding].limit({ key }))
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
            input = '!' + String(error);
            continue;
          }
          input = typeof value === 'string' ? '+' + value : JSON.stringify([fulfilled(value)]);
        } else {
          input = JSON.stringify(await Promise.all(calls.map(attempt)));
        }
      }
    } finally {
      exchange.free();
    }
  }

  // ---- the ledger's daily sweep (ledger helper) ----
  // The cron (wrangler.toml `[triggers] crons`): the statements are decided in Rust
  // (`payment::ledger::sweep`: money facts past KP_LEDGER_RETENTION_DAYS deleted, contact past
  // KP_RETENTION_DAYS erased); `[]` without the LEDGER binding. Run as one batch.
  async scheduled() {
    const statements = JSON.parse(LedgerSweep.statements(this.env));
    if (statements.length === 0) return;
    const db = this.env.LEDGER;
    await db.batch(statements.map(({ sql, params }) => db.prepare(sql).bind(...params)));
  }
  // ---- end of the ledger's sweep ----
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
