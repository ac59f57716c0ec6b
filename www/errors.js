// What to tell the payer for each kind of failure. The Worker's own message is kept where it helps
// (it names the rule that failed); the request id lets the merchant find the matching log line.
import { sentence } from './validate.js';

/** Where a Worker `field` is shown on the page, or null for the banner. */
export function fieldSlot(field, mode) {
  if (!field) return null;
  if (field === 'items' || field.startsWith('items[') || field.startsWith('items.')) return 'items';
  if (field === 'amount') return mode === 'open' ? 'amount' : 'items';
  return ['name', 'email', 'mobile'].includes(field) ? field : null;
}

export function describeError(error) {
  const detail = error.message ? sentence(error.message) : '';
  switch (error.type) {
    case 'rate_limited':
      return `Too many payment attempts in a short time. Please wait ${error.retryAfter ?? 60} seconds and try again.`;
    case 'upstream_timeout':
    case 'network_timeout':
      return 'The payment gateway took too long to answer. Your cart is safe: please try again.';
    case 'network_error':
      return detail;
    case 'upstream_error':
      return `The payment gateway could not handle this just now. Please try again in a moment. (${detail})`;
    case 'not_configured':
    case 'upstream_auth_failed':
      return `This store is not ready to take payments yet. (${detail})`;
    case 'origin_not_allowed':
      return 'This page is not allowed to use the store\'s payment API (see KP_ALLOWED_ORIGINS).';
    case 'invalid_request':
      if (error.field === 'return_url') {
        return `This page's address is not an allowed return URL (see KP_RETURN_URLS). (${detail})`;
      }
      return detail;
    default:
      return detail || 'Something went wrong. Please try again.';
  }
}

export function requestIdNote(error) {
  return error.requestId ? `Request id for support: ${error.requestId}` : '';
}
