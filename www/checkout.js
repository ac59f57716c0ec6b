// Turning the cart and the form into one payment: the request body, and an Idempotency-Key that
// stays the same for as long as the body does, so that a double click, a resubmit or a retry
// after a network error can never create a second payment.
import { load, save, forget } from './session.js';

/** The POST /api/payments body. Only fields the Worker knows; it normalises the mobile itself. */
export function buildOrder({ config, lines, amount, contact, returnUrl }) {
  const order = config.mode === 'open'
    ? { amount: String(amount).trim() }
    : { items: lines.map((line) => ({ sku: line.product.sku, quantity: line.quantity })) };
  return {
    ...order,
    name: contact.name.trim(),
    email: contact.email.trim(),
    mobile: contact.mobile.trim(),
    return_url: returnUrl,
  };
}

function newKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // randomUUID needs a secure context; a store opened over plain http on a LAN IP still gets a v4 UUID
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The key for this exact body: the stored one when the body is unchanged, a fresh one otherwise. */
export function idempotencyKeyFor(order) {
  const fingerprint = JSON.stringify(order);
  const attempt = load('attempt', null);
  if (attempt?.fingerprint === fingerprint && typeof attempt.key === 'string') return attempt.key;
  const key = newKey();
  save('attempt', { fingerprint, key });
  return key;
}

/** Once a payment reached a final state, the next checkout is a new payment and needs a new key. */
export function endAttempt() {
  forget('attempt');
}

/** What the status page shows that GET /api/payments/{id} does not return (the amount). */
export function rememberPayment(payment) {
  const receipts = load('payments', {});
  const { id, reference, orderid, amount } = payment;
  const kept = Object.entries(receipts).slice(-4); // a handful is plenty for one tab
  save('payments', Object.fromEntries([...kept, [id, { reference, orderid, amount }]]));
}

export function rememberedPayment(id) {
  return load('payments', {})[id] ?? null;
}
