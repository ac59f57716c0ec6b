// The Worker's public API, nothing more: the storefront holds no secret and only ever
// talks to these three endpoints (same origin by default, so relative URLs).

/** Any failure the storefront can show: a Worker error body, a network failure or an unreadable answer. */
export class ApiError extends Error {
  constructor({ status = 0, type, message, field, requestId, retryAfter }) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // 0 when no HTTP answer arrived
    this.type = type; // the Worker's error.type, or network_error / network_timeout / bad_response
    this.field = field; // set on 400 invalid_request
    this.requestId = requestId;
    this.retryAfter = retryAfter; // seconds, from Retry-After on 429
  }
}

const TIMEOUT_MS = 25_000; // above the Worker's own 10 s per upstream call plus its early-22 retries

export function createApi(baseUrl = '') {
  async function request(path, { method = 'GET', body, headers = {} } = {}) {
    let response;
    try {
      response = await fetch(baseUrl + path, {
        method,
        headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (cause) {
      const timedOut = cause?.name === 'TimeoutError';
      throw new ApiError({
        type: timedOut ? 'network_timeout' : 'network_error',
        message: timedOut ? 'The store did not answer in time.' : 'The store could not be reached. Check your connection.',
      });
    }
    const data = await response.json().catch(() => null);
    const requestId = response.headers.get('X-Request-Id') ?? undefined;
    if (!response.ok) {
      const error = data?.error ?? {};
      throw new ApiError({
        status: response.status,
        type: error.type ?? 'http_error',
        message: error.message ?? `The store answered HTTP ${response.status}.`,
        field: error.field,
        requestId: error.request_id ?? requestId,
        retryAfter: Number(response.headers.get('Retry-After')) || undefined,
      });
    }
    if (data === null || typeof data !== 'object') {
      throw new ApiError({ status: response.status, type: 'bad_response', message: 'The store sent an unreadable answer.', requestId });
    }
    return data;
  }

  return {
    /** `{ currency, mode: "catalog" | "open", catalog: [{ sku, name, amount }], min_amount, max_amount }` */
    config: () => request('/api/config'),
    /** The 201 body: `{ id, reference, orderid, checkout_url, amount, status, ... }`. */
    createPayment: (order, idempotencyKey) =>
      request('/api/payments', { method: 'POST', body: order, headers: { 'Idempotency-Key': idempotencyKey } }),
    /** `{ id, reference, status: "paid" | "pending" | "failed" | "unknown", code, checked_at }` */
    getPayment: (id) => request(`/api/payments/${encodeURIComponent(id)}`),
  };
}
