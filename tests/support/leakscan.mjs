// Collects everything the Worker said (response bodies and headers, log lines) and asserts that
// none of it contains a secret: the merchant password, the signing secret, or any login token
// the sandbox issued during the run (whole, or its signature part).
import assert from 'node:assert/strict';

export class LeakScan {
  #stack;
  #seen = [];

  constructor(stack) {
    this.#stack = stack;
  }

  /** fetch() against the Worker that remembers the answer; returns { status, headers, text, json }. */
  async fetch(path, init = {}) {
    const response = await fetch(this.#stack.worker.url + path, init);
    const text = await response.text();
    this.record(response.headers, text);
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  }

  record(headers, text) {
    this.#seen.push(`${[...headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${text}`);
  }

  secrets() {
    const { KP_PASSWORD, KP_SIGNING_SECRET, KP_IDEMPOTENCY_SECRET } = this.#stack.secrets;
    const tokens = this.#stack.sandbox.tokens();
    return [KP_PASSWORD, KP_SIGNING_SECRET, KP_IDEMPOTENCY_SECRET, ...tokens, ...tokens.map((t) => t.split('.')[2])].filter(Boolean);
  }

  /** Fails naming the kind of secret and where, never printing the secret itself. */
  async assertClean({ logs = this.#stack.worker.logs, extra = [] } = {}) {
    const secrets = this.secrets();
    assert.ok(secrets.length >= 2);
    const places = [
      ...this.#seen.map((text, i) => [`response #${i}`, text]),
      ...logs.map((line, i) => [`log line #${i}`, line]),
      ...extra.map((text, i) => [`extra #${i}`, text]),
    ];
    for (const [where, text] of places) {
      for (const [i, secret] of secrets.entries()) {
        if (text.includes(secret)) assert.fail(`secret #${i} (${i === 0 ? 'password' : i === 1 ? 'signing secret' : 'login token'}) found in ${where}`);
      }
    }
    return places.length;
  }
}
