// Types of the KelantanPay drop-in client that your Worker serves at /kelantanpay.js.
//   import { createPayment, redirectToCheckout, watchStatus } from 'https://pay.shop.example/kelantanpay.js';
// It talks only to the Worker it was loaded from (its own origin) and holds no secret.

export type Language = 'ms' | 'en';
export type PaymentStatus = 'paid' | 'pending' | 'failed' | 'unknown';

/** The POST /api/payments body (see the Worker's openapi.yaml). */
export interface Order {
  /** Open-amount mode: a decimal string or number with at most two places, e.g. "12.50". */
  amount?: string | number;
  /** Catalog mode: the Worker prices these from its own catalog. */
  items?: { sku: string; quantity: number }[];
  name: string;
  email: string;
  /** A Malaysian mobile number; the Worker normalises it ("+60 12-345 6789" -> "0123456789"). */
  mobile: string;
  description?: string;
  via?: 'Web' | 'App';
  ref_1?: string;
  ref_2?: string;
  ref_3?: string;
  /** Where the payer comes back to, with `kp_payment=<id>` added. Default: this page (origin + path). */
  return_url?: string;
}

/** GET /api/config. */
export interface Config {
  currency: 'MYR';
  mode: 'catalog' | 'open';
  catalog: { sku: string; name: string; amount: string }[];
  min_amount: string;
  max_amount: string;
}

/** The 201 answer of POST /api/payments. */
export interface Payment {
  id: string;
  reference: string;
  orderid: string;
  checkout_url: string;
  amount: string;
  currency: 'MYR';
  status: PaymentStatus;
  created_at: string;
}

/** GET /api/payments/{id}, with `amount` and `orderid` added when this tab created the payment. */
export interface PaymentState {
  id: string;
  reference: string;
  status: PaymentStatus;
  code: string;
  checked_at: string;
  amount?: string;
  orderid?: string;
}

/** A field rule that failed, locally or in the Worker (which names the same fields). */
export type FieldCode =
  | 'required' | 'control' | 'too_long' | 'not_string' | 'invalid'
  | 'not_a_number' | 'decimals' | 'not_positive' | 'too_large' | 'bounds';

export class KelantanPayError extends Error {
  name: 'KelantanPayError';
  /**
   * The Worker's error `type` (`invalid_request`, `rate_limited`, `upstream_timeout`, ...), or
   * `network_error` / `network_timeout` when no answer came, `other` for an unreadable one or a
   * checkout URL refused by redirectToCheckout. The npm package's errors call it `kind` too.
   */
  kind: string;
  /** @deprecated The same value as `kind`; read `kind`. */
  type: string;
  /** The field at fault (`email`, `amount`, `items[0].sku`, `return_url`, ...). */
  field?: string;
  /** Set when the drop-in's own check refused the field (no request was sent). */
  code?: FieldCode;
  /** HTTP status; 0 when no HTTP answer came (local check, network). */
  status: number;
  /** The Worker's own (English) message, when it answered one. */
  detail?: string;
  requestId?: string;
  /** Seconds, from Retry-After on a 429. */
  retryAfter?: number;
  /** The payer-facing message in the current language (see setLanguage). */
  readonly message: string;
  /** The payer-facing message in `language`. */
  messageIn(language?: Language): string;
}

/**
 * Creates the payment. The same order gets the same Idempotency-Key until the payment is final
 * (for up to 23 hours: the Worker keeps a key 24), so a double click, a reload or
 * Back-and-Pay-again make one payment. Waits up to 35 s for the Worker. Rejects with a
 * KelantanPayError (with `field`) before any request when a field fails the Worker's rules;
 * pass `config` (from getConfig) to check open-mode bounds too.
 */
export function createPayment(order: Order, options?: { config?: Config }): Promise<Payment>;

/**
 * Sends the browser to the payment's checkout page, only on the gateway's origin: `checkoutOrigin`
 * when given (`scheme://host[:port]`, e.g. "https://payment.kelantanpay.com", for a payment your
 * backend created), else the origin of the Worker's last `checkout_url` in this page (the Worker
 * refuses a gateway answer on another origin). Only `https:`, or plain `http:` to localhost,
 * 127.x.x.x or [::1] (the local sandbox). Throws a KelantanPayError (kind `other`) otherwise.
 * Called again with the same payment object (a double click awaiting one createPayment), it
 * does nothing: a second navigation would abort the first.
 */
export function redirectToCheckout(payment: Pick<Payment, 'checkout_url'>, options?: { checkoutOrigin?: string }): void;

/**
 * Follows a payment until it is final: polls the Worker 1 s, 1.5 s, 2.25 s ... apart (at most
 * 8 s, longer when the Worker asks with Retry-After), calls `onChange` when the status or code
 * changes and `onError` when a check failed but a later one may work. Resolves with the final
 * state, or the last one seen after `timeoutMs` (default 5 minutes); rejects when the id can
 * never be found (404), on an unconfigured Worker, and with `signal.reason` when aborted.
 * `id` defaults to the `kp_payment` parameter of this page's URL, so a reload picks it up again.
 */
export function watchStatus(
  id?: string | null,
  options?: {
    onChange?: (payment: PaymentState) => void;
    onError?: (error: KelantanPayError) => void;
    signal?: AbortSignal;
    timeoutMs?: number;
  },
): Promise<PaymentState | null>;

/**
 * The payer's printable receipt of a paid payment on the Worker (`GET /receipt/{id}`, Bahasa
 * Melayu and English): link to it once `watchStatus` says `paid`; it answers 404 before.
 */
export function receiptUrl(id: string): string;

/** The `kp_payment` parameter the Worker added to the return URL, or null. */
export function paymentIdFromUrl(url?: string): string | null;

export function getConfig(): Promise<Config>;

/** Every field of `order` the Worker would refuse, in its order (amount, name, email, mobile, ...). */
export function validateOrder(order: Partial<Order> & Record<string, unknown>, config?: Partial<Config>): KelantanPayError[];

/** "+60 12-345 6789" -> "0123456789"; null when it is not a Malaysian mobile number. */
export function normaliseMobile(value: string): string | null;

/** "12.5" -> 1250 (sen); null for anything that needs a guess. */
export function toSen(value: string | number): number | null;

/** 123450 (sen) or "1234.50" -> "RM 1,234.50", in every language. */
export function formatRinggit(value: number | string): string;

/** Messages in Bahasa Melayu ("ms", "ms-MY", ...) or English (anything else). Default: the page's `lang`, else the browser's language. */
export function setLanguage(language: string): void;
export function getLanguage(): Language;
export function pickLanguage(tag: string | undefined): Language;

/** "paid" -> "Paid" / "Dibayar". */
export function statusLabel(status: string, language?: Language): string;
