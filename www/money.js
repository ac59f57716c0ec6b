// Money is handled in sen (integers) so that totals never suffer float rounding.

/** "12", "12.5", "12.50" -> 1250; anything else (sign, exponent, spaces) -> null. */
export function toSen(text) {
  const match = /^(\d{1,12})(?:\.(\d{1,2}))?$/.exec(String(text));
  if (!match) return null;
  const [, whole, frac = ''] = match;
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

const ringgit = new Intl.NumberFormat('en-MY', { style: 'currency', currency: 'MYR' });

/** 123450 -> "RM 1,234.50" */
export function formatSen(sen) {
  return ringgit.format(sen / 100).replace(/^RM\s?/, 'RM\u00a0');
}

/** A decimal amount string as the Worker sends it ("25.00") -> "RM 25.00"; unparseable text is shown as is. */
export function formatAmount(text) {
  const sen = toSen(text);
  return sen === null ? String(text) : formatSen(sen);
}
