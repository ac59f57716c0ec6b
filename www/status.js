// Watching a payment after the payer returns from the checkout page: poll the Worker with a
// growing delay, stop at a final state, give up politely after a while. No DOM here, and the
// clock and sleep are arguments, so the schedule is testable without waiting.

export const FINAL_STATUSES = new Set(['paid', 'failed']);

/** Errors after which polling again cannot help: a handle that does not verify, a Worker without secrets. */
function isHopeless(error) {
  return error.status === 404 || error.status === 400 || error.type === 'not_configured';
}

/**
 * Calls `onUpdate` with `{ kind: "status", payment }`, `{ kind: "error", error, final }` or
 * `{ kind: "timeout" }`, and resolves when watching is over. Delays grow from `firstDelayMs`
 * by half each time up to `maxDelayMs`; after `giveUpAfterMs` it reports a timeout.
 */
export async function watchPayment(id, {
  getPayment,
  onUpdate,
  signal,
  sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now = () => Date.now(),
  firstDelayMs = 1000,
  maxDelayMs = 5000,
  giveUpAfterMs = 120_000,
} = {}) {
  const started = now();
  let delay = firstDelayMs;
  for (;;) {
    if (signal?.aborted) return;
    try {
      const payment = await getPayment(id);
      if (signal?.aborted) return;
      onUpdate({ kind: 'status', payment });
      if (FINAL_STATUSES.has(payment.status)) return;
    } catch (error) {
      if (signal?.aborted) return;
      const final = isHopeless(error);
      onUpdate({ kind: 'error', error, final });
      if (final) return;
    }
    if (now() - started + delay > giveUpAfterMs) {
      onUpdate({ kind: 'timeout' });
      return;
    }
    await sleep(delay);
    delay = Math.min(maxDelayMs, Math.round(delay * 1.5));
  }
}
