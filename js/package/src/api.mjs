// The package's JS: the KelantanPay class over the wasm core, and the KelantanPayError class.
// Every rule is in the core (Rust); this file only guards the object's lifetime and keeps
// the event listeners. Shared by the Node and the Workers builds.
import {
  initSync,
  KelantanPayCore,
  setErrorClass,
  verifyWebhook,
  signWebhook,
  parseCallback,
} from '../glue/kelantanpay.js';

export { verifyWebhook, signWebhook, parseCallback };

const DETAILS = ['kind', 'status', 'field', 'upstreamStatus', 'code', 'call', 'raw'];

export class KelantanPayError extends Error {
  constructor(message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'KelantanPayError';
    this.kind = details.kind ?? 'invalid_request';
    this.status = details.status ?? 400;
    for (const key of DETAILS.slice(2)) this[key] = details[key];
  }

  /** Everything but the stack, `message` included (JSON.stringify skips it otherwise). */
  toJSON() {
    const out = { name: this.name, message: this.message };
    for (const key of DETAILS) if (this[key] !== undefined) out[key] = this[key];
    return out;
  }
}

/** Instantiates the wasm (bytes or a WebAssembly.Module), once. */
export function init(wasm) {
  initSync({ module: wasm });
  setErrorClass(KelantanPayError);
}

const EVENTS = ['request', 'response'];

export class KelantanPay {
  #core;
  #listeners = new Map(EVENTS.map((name) => [name, new Set()]));

  constructor(options) {
    this.#core = new KelantanPayCore(options, (name, event) => {
      for (const listener of this.#listeners.get(name) ?? []) {
        try {
          listener(event);
        } catch {
          // A failing listener must not fail the payment call it observes.
        }
      }
    });
  }

  #live() {
    if (!this.#core) {
      throw new KelantanPayError('this KelantanPay client was freed: create a new one', { kind: 'invalid_request', status: 400 });
    }
    return this.#core;
  }

  #listenersFor(name, listener) {
    const set = this.#listeners.get(name);
    if (!set) throw new KelantanPayError(`unknown event "${name}" (known: ${EVENTS.join(', ')})`, { kind: 'invalid_request', status: 400, field: 'event' });
    if (typeof listener !== 'function') throw new KelantanPayError('listener must be a function', { kind: 'invalid_request', status: 400, field: 'listener' });
    return set;
  }

  on(name, listener) {
    this.#listenersFor(name, listener).add(listener);
    return this;
  }

  off(name, listener) {
    this.#listenersFor(name, listener).delete(listener);
    return this;
  }

  async login(options) {
    return this.#live().login(options);
  }

  async createPayment(params, options) {
    return this.#live().createPayment(params, options);
  }

  async requery(reference, options) {
    return this.#live().requery(reference, options);
  }

  async checkStatus(reference, options) {
    return this.#live().checkStatus(reference, options);
  }

  async waitForFinalStatus(reference, options) {
    return this.#live().waitForFinalStatus(reference, options);
  }

  /** Releases the wasm memory now (it is also released when the object is collected). */
  free() {
    this.#core?.free();
    this.#core = undefined;
  }
}

if (typeof Symbol.dispose === 'symbol') {
  KelantanPay.prototype[Symbol.dispose] = KelantanPay.prototype.free;
}
