// The Worker's entry module (wrangler.toml `main`; scripts/build-worker.sh copies it next to the
// generated index.js). No rule lives here: this file only forwards.
// - Requests go to the generated Rust fetch handler, except a status poll (GET
//   /api/payments/{id}, the most frequent request), which Rust plans and answers in
//   synchronous calls around the awaits made here (the status limit's binding calls, then the
//   one object call), so no Rust future runs for it (worker/src/status_poll.rs).
// - Each Durable Object is the Rust object inside a class that extends `DurableObject`, so the
//   Worker reaches it over JS RPC: `answer(message)` with one JSON string each way, instead of a
//   fetch that builds a Request and a Response on both sides (README, "Levers, measured").
import { DurableObject } from 'cloudflare:workers';
import RustWorker, {
  PaymentObject as RustPaymentObject,
  ClientBucket as RustClientBucket,
  OrderIndex as RustOrderIndex,
  StatusPoll,
} from './index.js';

export default class extends RustWorker {
  async fetch(request) {
    const poll = StatusPoll.begin(request, this.env);
    if (poll === undefined) return super.fetch(request);
    if (poll instanceof Response) return poll;
    // The status limit's Rate Limiting binding calls, which begin() made (worker/src/shared_limit.rs).
    const charged = poll.charged;
    if (charged !== undefined && !poll.admit(await charged)) return poll.refuse();
    let reply;
    try {
      reply = await this.env[poll.namespace].getByName(poll.object).answer(poll.message);
    } catch (error) {
      return poll.fail(error);
    }
    return poll.finish(reply);
  }
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
