//! The TypeScript declarations, written by hand so they name the real shapes (the
//! generated ones would say `any` for every object crossing the boundary).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** Settings for one merchant account. Keep the password on the server. */
export interface KelantanPayOptions {
  username: string;
  password: string;
  /** Sent with every payment, as KelantanPay requires. */
  provider: string;
  account: string;
  /** Default "MY". */
  country?: string;
  /** Default "https://payment.kelantanpay.com". */
  baseUrl?: string;
  /** Per upstream call, body included. Default 10000. */
  timeoutMs?: number;
  /** Extra attempts for login and requery on 429, 5xx and connection errors. Default 2. */
  retries?: number;
}

/** A payment to create. Amounts in ringgit: a number or a string with at most two decimals. */
export interface CreatePaymentParams {
  amount: number | string;
  /** 1 to 100 characters. */
  name: string;
  email: string;
  /** A Malaysian mobile number in any common form ("+60 12-345 6789" is sent as "0123456789"). */
  mobile: string;
  /** 1 to 255 characters. Default "Payment". */
  description?: string;
  /** "Web" or "App", any case. Default "Web". */
  via?: string;
  /** Your reference (sent as `userid`, at most 30 URL-safe characters). Generated when absent. */
  reference?: string;
  return_url?: string;
  callback_url?: string;
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
  /** Every field of the gateway's answer, as sent. */
  raw: Record<string, unknown>;
}

export interface StatusOptions {
  /** When the payment was created (for the early-22 window); known for payments this client created. */
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
  | "upstream_timeout";

export class KelantanPayError extends Error {
  readonly name: "KelantanPayError";
  readonly kind: KelantanPayErrorKind;
  /** The input field at fault, for invalid_request. */
  readonly field: string | undefined;
  /** The HTTP status a server would answer with: 400, 502, 503 or 504. */
  readonly status: number;
  /** The HTTP status KelantanPay answered with, when it answered. */
  readonly upstreamStatus: number | undefined;
}

export class KelantanPay {
  /** @throws {KelantanPayError} when an option is missing or invalid. */
  constructor(options: KelantanPayOptions);
  free(): void;
  login(): Promise<void>;
  createPayment(params: CreatePaymentParams): Promise<CreatedPayment>;
  requery(reference: string): Promise<PaymentStatusResult>;
  checkStatus(reference: string, options?: StatusOptions): Promise<PaymentStatusResult>;
  waitForFinalStatus(reference: string, options?: WaitOptions): Promise<PaymentStatusResult>;
}
"#;
