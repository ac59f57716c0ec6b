// Declarations of the kelantanpay package, written by hand so they name the real shapes.
// The build copies this file to index.d.mts (import) and index.d.cts (require).

declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

/** Settings for one merchant account. Keep the password on the server. Unknown keys are refused. */
export interface KelantanPayOptions {
  username: string;
  password: string;
  /** Sent with every payment, as KelantanPay requires. */
  provider: string;
  account: string;
  /** Default "MY". */
  country?: string;
  /** Default "https://payment.kelantanpay.com". Must be https://; plain http:// only to localhost, 127.0.0.1 or [::1] (the sandbox). */
  baseUrl?: string;
  /** Per upstream call, body included. Default 10000. */
  timeoutMs?: number;
  /** Extra attempts for login and requery on 429, 5xx and connection errors. Default 2. */
  retries?: number;
  /** Used instead of the global fetch (tests, proxies, instrumentation). Called as fetch(request, { signal }). */
  fetch?: (input: Request, init: { signal: AbortSignal }) => Promise<Response>;
  /** Appended to the User-Agent: "kelantanpay-js/<version> name/version (url)". */
  appInfo?: { name: string; version?: string; url?: string };
}

/** "Web" or "App" (any case is accepted at run time). */
export type Via = "Web" | "App";

/** A payment to create. Amounts in ringgit: a number or a string with at most two decimals. Unknown keys are refused. */
export interface CreatePaymentParams {
  amount: number | string;
  /** 1 to 100 characters. */
  name: string;
  email: string;
  /** A Malaysian mobile number in any common form ("+60 12-345 6789" is sent as "0123456789"). */
  mobile: string;
  /** 1 to 255 characters. Default "Payment". */
  description?: string;
  /** Default "Web". */
  via?: Via;
  /** Your reference (sent as `userid`, at most 30 URL-safe characters). Generated when absent. */
  reference?: string;
  /** Where the payer returns (also accepted as `returnUrl`). */
  return_url?: string;
  returnUrl?: string;
  /** Where KelantanPay posts its callback (also accepted as `callbackUrl`). */
  callback_url?: string;
  callbackUrl?: string;
  ref_1?: string;
  ref_2?: string;
  ref_3?: string;
}

export interface CreatedPayment {
  reference: string;
  orderid: string;
  /** Send the payer here. */
  checkoutUrl: string;
  /** Two decimals, e.g. "12.50". */
  amount: string;
  /** ISO 8601. */
  createdAt: string;
}

export type PaymentStatus = "paid" | "pending" | "failed" | "unknown";

export interface PaymentStatusResult {
  reference: string;
  status: PaymentStatus;
  /** KelantanPay's code: "00" paid, "11" pending, "22" failed, or what it sent. */
  code: string;
  amount?: string;
  orderid?: string;
  /**
   * When the payment was created (ISO 8601): from `createdAt`, this client's own record, or
   * the gateway's answer. Absent when none of them says.
   */
  createdAt?: string;
  /**
   * False when the payment's age could not be known: a `22` was then treated as possibly
   * early (counted from this call), never as final too soon. Pass `createdAt` to be exact.
   */
  ageKnown: boolean;
  /** Every field of the gateway's answer, as sent. */
  raw: Record<string, unknown>;
}

export interface CallOptions {
  /** Aborts the call (also while waiting between requeries); it then rejects with `signal.reason`. */
  signal?: AbortSignal;
}

export interface StatusOptions extends CallOptions {
  /** When the payment was created; known for payments this client created. */
  createdAt?: Date | number | string;
}

export interface WaitOptions extends StatusOptions {
  /** Give up and answer "pending" after this long. Default 60000. */
  timeoutMs?: number;
}

export type KelantanPayErrorKind =
  | "invalid_request"
  | "upstream_error"
  | "upstream_auth_failed"
  | "upstream_timeout"
  | "duplicate_reference"
  | "invalid_signature";

/** The upstream call an error came from. */
export type KelantanPayCall = "login" | "createPayment" | "requery";

export interface KelantanPayErrorDetails {
  kind?: KelantanPayErrorKind;
  status?: number;
  field?: string;
  upstreamStatus?: number;
  code?: string;
  call?: KelantanPayCall;
  raw?: unknown;
  cause?: unknown;
}

export class KelantanPayError extends Error {
  constructor(message: string, details?: KelantanPayErrorDetails);
  readonly name: "KelantanPayError";
  readonly kind: KelantanPayErrorKind;
  /** The HTTP status a server would answer with: 400, 409, 502, 503 or 504. */
  readonly status: number;
  /** The input field at fault, for invalid_request. */
  readonly field: string | undefined;
  /** The HTTP status KelantanPay answered with, whenever it answered. */
  readonly upstreamStatus: number | undefined;
  /** KelantanPay's own `code`, as text. */
  readonly code: string | undefined;
  readonly call: KelantanPayCall | undefined;
  /** KelantanPay's answer (parsed JSON, or text), never of a login, with secrets removed. */
  readonly raw: unknown;
  /** For network failures: the runtime's own error (ECONNREFUSED, ENOTFOUND, ...). */
  readonly cause?: unknown;
  toJSON(): KelantanPayErrorDetails & { name: "KelantanPayError"; message: string };
}

export interface RequestEvent {
  call: KelantanPayCall;
  method: string;
  url: string;
}

export interface ResponseEvent extends RequestEvent {
  durationMs: number;
  /** The HTTP status, when an answer came. */
  status?: number;
  /** When no answer came. */
  error?: "timeout" | "network" | "aborted";
}

export class KelantanPay {
  /** @throws {KelantanPayError} when an option is missing, invalid or unknown. */
  constructor(options: KelantanPayOptions);
  login(options?: CallOptions): Promise<void>;
  createPayment(params: CreatePaymentParams, options?: CallOptions): Promise<CreatedPayment>;
  requery(reference: string, options?: StatusOptions): Promise<PaymentStatusResult>;
  checkStatus(reference: string, options?: StatusOptions): Promise<PaymentStatusResult>;
  waitForFinalStatus(reference: string, options?: WaitOptions): Promise<PaymentStatusResult>;
  /** Events never carry a header or a body (they hold the password and the token). */
  on(event: "request", listener: (event: RequestEvent) => void): this;
  on(event: "response", listener: (event: ResponseEvent) => void): this;
  off(event: "request" | "response", listener: (event: never) => void): this;
  /** Releases the wasm memory; the client cannot be used afterwards. */
  free(): void;
  [Symbol.dispose](): void;
}

interface WebhookEventBase<T extends string, S extends PaymentStatus> {
  /** Stable per payment and event type: your de-duplication key. */
  id: string;
  type: T;
  /** Unix seconds. */
  created: number;
  data: {
    id: string;
    reference: string;
    orderid?: string | null;
    amount: string;
    status: S;
    [key: string]: unknown;
  };
}

export type PaymentPaidEvent = WebhookEventBase<"payment.paid", "paid">;
export type PaymentFailedEvent = WebhookEventBase<"payment.failed", "failed">;
/** The events the Worker sends (a union on `type`). */
export type KelantanPayEvent = PaymentPaidEvent | PaymentFailedEvent;

export interface VerifyWebhookOptions {
  /** How far the signed time may be from now, in seconds: 0 to 3600. Default 300. */
  toleranceSec?: number;
  /** Default: the current time. */
  now?: Date | number;
}

/**
 * Checks `KelantanPay-Signature` over the raw body (as received, before JSON parsing) and
 * answers the event. Several secrets may be given during a key rotation.
 * @throws {KelantanPayError} kind "invalid_signature" (missing or malformed header, no matching
 * v1, timestamp outside the tolerance), or "invalid_request" for a bad argument.
 */
export function verifyWebhook(
  rawBody: string | Uint8Array | ArrayBuffer,
  signatureHeader: string | string[] | null | undefined,
  secret: string | readonly string[],
  options?: VerifyWebhookOptions,
): KelantanPayEvent;

/** The `KelantanPay-Signature` value the Worker would send for `body` (for your tests). */
export function signWebhook(body: string, secret: string, options?: { timestamp?: number | Date }): string;

export interface ParsedCallback {
  /** The first valid reference among `reference`, `ref_no`, `RefNo`, `userid`; null when none. */
  reference: string | null;
  references: string[];
  orderid: string | null;
  /** The Worker's payment handle, when the callback URL carried `kp_payment`. */
  kpPayment: string | null;
  /** Every field as text (query first). Its `status` is NOT evidence: requery. */
  fields: Record<string, string>;
}

/**
 * Reads a KelantanPay callback (JSON, form or query). It never says whether the payment is paid:
 * requery with `checkStatus(reference)`, then answer `RECEIVEOK`.
 */
export function parseCallback(
  body: string | Uint8Array | ArrayBuffer | URLSearchParams | Record<string, unknown> | null | undefined,
  contentType?: string | null,
  query?: string | URLSearchParams | Record<string, string> | null,
): ParsedCallback;
