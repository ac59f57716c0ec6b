// KelantanPay drop-in; API: kelantanpay.d.ts

const WORKER = new URL(import.meta.url).origin;
const KEY = 'kelantanpay:';
const KEY_LIFE_MS = 23 * 3600e3;

const LABELS = {
  en: { name: 'Name', email: 'Email', mobile: 'Mobile number', amount: 'Amount', description: 'Description', ref: 'Reference', items: 'Items', via: 'Via' },
  ms: { name: 'Nama', email: 'E-mel', mobile: 'Nombor telefon bimbit', amount: 'Jumlah', description: 'Keterangan', ref: 'Rujukan', items: 'Item', via: 'Via' },
};

const TEXT = {
  en: {
    required: '{L} is required.',
    control: '{L} must not contain control characters.',
    too_long: '{L} must be at most {max} characters.',
    not_string: '{L} must be text.',
    invalid: 'Check the {L}.',
    'email.invalid': 'Enter a valid email address, such as siti@example.my.',
    'mobile.invalid': 'Enter a Malaysian mobile number, such as 012-345 6789.',
    not_a_number: 'Enter an amount such as 12 or 12.50.',
    decimals: 'The amount can have at most two decimal places.',
    not_positive: 'The amount must be more than zero.',
    too_large: 'The amount is too large.',
    bounds: 'The amount must be between {min} and {max}.',
    return_url: "This page's address is not an allowed return address.",
    rate_limited: 'Too many attempts. Please wait {s} seconds and try again.',
    upstream_timeout: 'The payment gateway took too long to answer. Please try again.',
    network_error: 'The payment service could not be reached. Check your connection and try again.',
    upstream_error: 'The payment gateway could not handle this just now. Please try again shortly.',
    not_configured: 'This store is not ready to take payments yet.',
    origin_not_allowed: 'This page may not use the store\'s payment service.',
    not_found: 'This payment could not be found.',
    idempotency_conflict: 'This payment is already being started. Please wait a moment.',
    other: 'Something went wrong. Please try again.',
    paid: 'Paid', pending: 'Pending', failed: 'Failed', unknown: 'Unknown',
  },
  ms: {
    required: '{L} diperlukan.',
    control: '{L} tidak boleh mengandungi aksara kawalan.',
    too_long: '{L} tidak boleh melebihi {max} aksara.',
    not_string: '{L} mestilah teks.',
    invalid: 'Semak {L}.',
    'email.invalid': 'Masukkan alamat e-mel yang sah, seperti siti@example.my.',
    'mobile.invalid': 'Masukkan nombor telefon bimbit Malaysia, seperti 012-345 6789.',
    not_a_number: 'Masukkan jumlah seperti 12 atau 12.50.',
    decimals: 'Jumlah tidak boleh melebihi dua tempat perpuluhan.',
    not_positive: 'Jumlah mestilah lebih daripada sifar.',
    too_large: 'Jumlah terlalu besar.',
    bounds: 'Jumlah mestilah antara {min} dan {max}.',
    return_url: 'Alamat halaman ini bukan alamat kembali yang dibenarkan.',
    rate_limited: 'Terlalu banyak percubaan. Sila tunggu {s} saat dan cuba lagi.',
    upstream_timeout: 'Gerbang pembayaran mengambil masa terlalu lama untuk menjawab. Sila cuba lagi.',
    network_error: 'Perkhidmatan pembayaran tidak dapat dihubungi. Semak sambungan anda dan cuba lagi.',
    upstream_error: 'Gerbang pembayaran tidak dapat memprosesnya sekarang. Sila cuba sebentar lagi.',
    not_configured: 'Kedai ini belum bersedia menerima pembayaran.',
    origin_not_allowed: 'Halaman ini tidak dibenarkan menggunakan perkhidmatan pembayaran kedai.',
    not_found: 'Pembayaran ini tidak dapat ditemui.',
    idempotency_conflict: 'Pembayaran ini sedang dimulakan. Sila tunggu sebentar.',
    other: 'Ada yang tidak kena. Sila cuba lagi.',
    paid: 'Dibayar', pending: 'Belum selesai', failed: 'Gagal', unknown: 'Tidak diketahui',
  },
};
const ALIAS = { network_timeout: 'upstream_timeout', upstream_auth_failed: 'not_configured' };

export const pickLanguage = (tag) => (/^ms\b/i.test(tag ?? '') ? 'ms' : 'en');
let lang = pickLanguage(globalThis.document?.documentElement.lang || globalThis.navigator?.language);
export const setLanguage = (tag) => { lang = pickLanguage(tag); };
export const getLanguage = () => lang;
export const statusLabel = (status, l = lang) => TEXT[l][status] ?? TEXT[l].unknown;

const say = (key, params, l) => (TEXT[l][key] ?? TEXT[l].other).replace(/\{(\w+)\}/g, (_, k) => params[k] ?? '');
const sentence = (t) => t[0].toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.');

export class KelantanPayError extends Error {
  constructor(init) {
    super();
    this.name = 'KelantanPayError';
    this.status = 0;
    Object.assign(this, init);
  }

  messageIn(l = lang) {
    const { kind, field = '', code, detail } = this;
    const L = LABELS[l][/^(ref|items)/.exec(field)?.[0] ?? field];
    const params = { ...this.params, L, s: this.retryAfter ?? 60 };
    if (code) return say(`${field}.${code}` in TEXT.en ? `${field}.${code}` : code, params, l);
    if (field === 'return_url') return say(field, params, l);
    if (detail && kind === 'invalid_request') return l === 'en' || !L ? sentence(detail) : say('invalid', params, l);
    return say(ALIAS[kind] ?? kind, params, l);
  }

  get type() {
    return this.kind;
  }

  set type(kind) {
    this.kind = kind;
  }

  get message() {
    return this.messageIn();
  }
}

export function toSen(value) {
  const m = /^0*(\d+?)(?:\.(\d{1,2}))?$/.exec(value);
  return m && m[1].length <= 12 ? m[1] * 100 + +(m[2] ?? '').padEnd(2, '0') : null;
}

export function formatRinggit(value) {
  const sen = typeof value === 'number' ? value : toSen(value);
  if (!(sen >= 0 && Number.isSafeInteger(sen))) return String(value);
  return `RM ${String(Math.trunc(sen / 100)).replace(/\B(?=(\d{3})+$)/g, ',')}.${String(sen % 100).padStart(2, '0')}`;
}

// the core's rules (tests/rules/fields.json)

const CONTROL = /[\0-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const LOCAL = /^(?!\.)(?!.*\.\.)[\w!#$%&'*+/=?^`{|}~.-]{1,64}(?<!\.)$/;
const LABEL = /^[a-z\d]([a-z\d-]{0,61}[a-z\d])?$/i;
const LENGTHS = { name: [1, 100], description: [1, 255], ref_1: [0, 100], ref_2: [0, 100], ref_3: [0, 100] };

export function normaliseMobile(value) {
  const digits = String(value).replace(/[ \-().]/g, '').replace(/^\+60|^60(?=1)/, '0');
  return /^01\d{8,9}$/.test(digits) ? digits : null;
}

function amountCode(value, { min_amount: min, max_amount: max }) {
  if (value == null) return ['required'];
  if (value < 0 && typeof value === 'number') return ['not_positive'];
  const text = typeof value === 'number' || typeof value === 'string' ? String(value) : '';
  if (/^\d+\.\d{3,}$/.test(text)) return ['decimals'];
  if (!/^\d+(\.\d\d?)?$/.test(text)) return ['not_a_number'];
  const sen = toSen(text);
  if (sen === 0) return ['not_positive'];
  if (sen === null || sen > 1e11) return ['too_large'];
  const [low, high] = [toSen(min), toSen(max)];
  return low !== null && high !== null && (sen < low || sen > high)
    ? ['bounds', { min: formatRinggit(low), max: formatRinggit(high) }] : [];
}

function fieldCode(field, value) {
  if (value == null) return ['name', 'email', 'mobile'].includes(field) ? 'required' : null;
  if (typeof value !== 'string') return 'not_string';
  if (CONTROL.test(value)) return 'control';
  const text = value.trim();
  const at = text.lastIndexOf('@');
  const labels = text.slice(at + 1).split('.');
  switch (field) {
    case 'email':
      return !text ? 'required'
        : at > 0 && text.length <= 254 && LOCAL.test(text.slice(0, at)) && labels.length > 1
          && labels.every((l) => LABEL.test(l)) && /^[a-z]{2,}$/i.test(labels.at(-1)) ? null : 'invalid';
    case 'mobile':
      return !value.replace(/[ \-().]/g, '') ? 'required' : normaliseMobile(value) ? null : 'invalid';
    case 'via':
      return /^(web|app)$/i.test(value) ? null : 'invalid';
  }
  const length = [...text].length;
  return length < LENGTHS[field][0] ? 'required' : length > LENGTHS[field][1] ? 'too_long' : null;
}

export function validateOrder(order, config = {}) {
  const errors = [];
  const add = (field, code, params) => code && errors.push(new KelantanPayError({ kind: 'invalid_request', field, code, params }));
  if (config.mode === 'open' || (!config.mode && 'amount' in order)) add('amount', ...amountCode(order.amount, config));
  for (const field of ['name', 'email', 'mobile', 'description', 'via', 'ref_1', 'ref_2', 'ref_3']) {
    add(field, fieldCode(field, order[field]), { max: LENGTHS[field]?.[1] });
  }
  return errors;
}

async function call(path, init = {}) {
  let response;
  try {
    // over the Worker's 30 s wait; Safari < 17.4 lacks AbortSignal.any
    const c = new AbortController();
    for (const s of [AbortSignal.timeout(35_000), init.signal]) s?.addEventListener('abort', () => c.abort(s.reason));
    response = await fetch(WORKER + path, { ...init, signal: c.signal });
  } catch (cause) {
    if (init.signal?.aborted) throw cause;
    throw new KelantanPayError({ kind: cause?.name === 'TimeoutError' ? 'network_timeout' : 'network_error' });
  }
  const body = await response.json().catch(() => null);
  if (response.ok && body) return body;
  const error = body?.error ?? {};
  throw new KelantanPayError({
    status: response.status,
    kind: error.type ?? 'other',
    field: error.field,
    detail: error.message,
    requestId: error.request_id ?? response.headers.get('X-Request-Id') ?? undefined,
    retryAfter: +response.headers.get('Retry-After') || undefined,
  });
}

// per tab, across the trip to checkout
function load(name) {
  try {
    return JSON.parse(sessionStorage.getItem(KEY + name));
  } catch {
    // undefined
  }
}
function save(name, value) {
  try {
    sessionStorage[value ? 'setItem' : 'removeItem'](KEY + name, JSON.stringify(value));
  } catch {
    // disabled: `pending` stops a double click
  }
}

export const getConfig = () => call('/api/config');

const pending = new Map();
let checkout, left; // the gateway's origin, from the Worker; the payment we left for
function parse(href) {
  try {
    return new URL(href);
  } catch {
    // undefined
  }
}

export function createPayment(order, { config } = {}) {
  const body = { return_url: globalThis.location && location.origin + location.pathname, ...order };
  const [invalid] = validateOrder(body, config);
  if (invalid) return Promise.reject(invalid);
  const text = JSON.stringify(body);
  if (!pending.has(text)) {
    const attempt = load('attempt');
    const fresh = attempt?.body === text && Date.now() - attempt.at < KEY_LIFE_MS;
    // no randomUUID outside a secure context
    const key = fresh ? attempt.key
      : crypto.randomUUID?.() ?? [...crypto.getRandomValues(new Uint8Array(16))].map((b) => (b + 256).toString(16).slice(1)).join('');
    save('attempt', { body: text, key, at: fresh ? attempt.at : Date.now() });
    pending.set(text, call('/api/payments', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
      body: text,
    }).then((payment) => {
      const { id, reference, orderid, amount } = payment;
      checkout = parse(payment.checkout_url)?.origin;
      save('payments', Object.fromEntries([...Object.entries(load('payments') ?? {}).slice(-4), [id, { reference, orderid, amount }]]));
      return payment;
    }).finally(() => pending.delete(text)));
  }
  return pending.get(text);
}

export function redirectToCheckout(payment, { checkoutOrigin = checkout } = {}) {
  const url = parse(payment.checkout_url);
  if (url?.origin !== checkoutOrigin || !/^(https:|http:\/\/(localhost|127\.[\d.]+|\[::1\])(:|$))/.test(checkoutOrigin)) throw new KelantanPayError({ kind: 'other' });
  if (left !== (left = payment)) location.assign(url.href);
}

export const receiptUrl = (id) => WORKER + `/receipt/${encodeURIComponent(id)}`;
export const paymentIdFromUrl = (url = globalThis.location?.href) => (url ? new URL(url).searchParams.get('kp_payment') : null);

const wait = (ms, signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => reject(signal.reason, clearTimeout(timer)), { once: true });
});

export async function watchStatus(id = paymentIdFromUrl(), { onChange, onError, signal, timeoutMs = 300_000 } = {}) {
  if (!id) throw new KelantanPayError({ kind: 'not_found', status: 404 });
  const started = Date.now();
  let last = null;
  // the status is rate limited
  for (let delay = 1000; ; delay = Math.min(8000, delay * 1.5)) {
    try {
      const payment = { ...load('payments')?.[id], ...(await call(`/api/payments/${encodeURIComponent(id)}`, { signal })) };
      signal?.throwIfAborted();
      if (payment.status !== last?.status || payment.code !== last?.code) onChange?.(payment);
      last = payment;
      if (payment.status === 'paid' || payment.status === 'failed') {
        save('attempt'); // the next order is a new payment
        return payment;
      }
    } catch (error) {
      if (signal?.aborted || error.status === 404 || error.status === 400 || error.kind === 'not_configured') throw error;
      onError?.(error);
      delay = Math.max(delay, Math.min(60, error.retryAfter ?? 0) * 1000);
    }
    if (Date.now() - started + delay > timeoutMs) return last;
    await wait(delay, signal);
  }
}
