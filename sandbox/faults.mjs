// Injected failures: a queue per upstream call, each entry consumed by one request, so a test
// can say "the next three requeries fail" and then see the fourth recover.
export const CALLS = ['login', 'create', 'requery'];
export const FAULTS = ['http500', 'html502', 'malformed', 'hang', 'unauthorized', 'status_false', 'oversized'];

export class FaultQueue {
  #queues = Object.fromEntries(CALLS.map((call) => [call, []]));

  add(call, fault, times) {
    for (let i = 0; i < times; i += 1) this.#queues[call].push(fault);
  }

  take(call) {
    return this.#queues[call].shift();
  }

  clear() {
    for (const call of CALLS) this.#queues[call] = [];
  }

  pending() {
    return Object.fromEntries(CALLS.map((call) => [call, [...this.#queues[call]]]));
  }
}
