// Client-side mirror of the Worker's field rules (src/customer.rs, src/text.rs, src/amount.rs),
// with the same messages, so that the payer sees the same text whichever side caught the mistake.
import { toSen, formatSen } from './money.js';

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$/;
const DOMAIN_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Returns an error message, or null when the value is acceptable. */
export function checkName(value) {
  const text = String(value).trim();
  if (CONTROL.test(text)) return 'name must not contain control characters';
  const length = [...text].length;
  if (length < 1) return 'name is required';
  if (length > 100) return 'name must be at most 100 characters';
  return null;
}

export function checkEmail(value) {
  const text = String(value).trim();
  if (text === '') return 'email is required';
  if (text.length > 254 || !isEmail(text)) return 'email is not a valid address';
  return null;
}

function isEmail(text) {
  const at = text.lastIndexOf('@');
  if (at < 0) return false;
  const local = text.slice(0, at);
  const labels = text.slice(at + 1).split('.');
  const localOk = EMAIL_LOCAL.test(local) && !local.startsWith('.') && !local.endsWith('.') && !local.includes('..');
  const tld = labels[labels.length - 1];
  return localOk && labels.length >= 2 && labels.every((l) => DOMAIN_LABEL.test(l)) && /^[A-Za-z]{2,}$/.test(tld);
}

/** `+60 12-345 6789` -> `0123456789`, or null when it is not a Malaysian mobile number. */
export function normaliseMobile(value) {
  const compact = String(value).replace(/[ \-().]/g, '');
  let local = compact;
  if (compact.startsWith('+60')) local = `0${compact.slice(3)}`;
  else if (compact.startsWith('601')) local = `0${compact.slice(2)}`;
  return /^01\d{8,9}$/.test(local) ? local : null;
}

export function checkMobile(value) {
  if (String(value).replace(/[ \-().]/g, '') === '') return 'mobile is required';
  if (normaliseMobile(value) === null) return 'mobile must be a Malaysian mobile number such as 012-345 6789';
  return null;
}

/** Open-amount mode: the bounds come from GET /api/config. */
export function checkAmount(value, { min_amount: min, max_amount: max }) {
  const text = String(value).trim();
  if (text === '') return 'amount is required';
  if (/^\d+\.\d{3,}$/.test(text)) return 'amount must have at most two decimal places';
  const low = toSen(min ?? '1.00') ?? 100;
  const high = toSen(max ?? '30000.00') ?? 3_000_000;
  const outOfBounds = `amount must be between ${formatSen(low)} and ${formatSen(high)}`;
  if (/^\d{13,}(\.\d{1,2})?$/.test(text)) return outOfBounds;
  const sen = toSen(text);
  if (sen === null) return 'amount must be a number such as 12 or 12.50';
  if (sen === 0) return 'amount must be greater than zero';
  return sen < low || sen > high ? outOfBounds : null;
}

/**
 * All the checkout fields at once: `{ field: message }` for each one that fails, in form order.
 * `mode` and bounds come from the config; `amount` is only checked in open mode.
 */
export function checkCheckout({ name, email, mobile, amount }, config) {
  const errors = {};
  if (config.mode === 'open') {
    const amountError = checkAmount(amount ?? '', config);
    if (amountError) errors.amount = amountError;
  }
  for (const [field, check, value] of [
    ['name', checkName, name],
    ['email', checkEmail, email],
    ['mobile', checkMobile, mobile],
  ]) {
    const message = check(value ?? '');
    if (message) errors[field] = message;
  }
  return errors;
}

/** "email is not a valid address" -> "Email is not a valid address." for display. */
export function sentence(message) {
  const text = String(message).trim();
  if (!text) return text;
  const capital = text[0].toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
