// HS256 JWTs shaped like KelantanPay's (`{"typ":"JWT","alg":"HS256"}` first, so they start
// with `eyJ0eXAiOiJKV1Qi`), so clients exercise the same expiry logic as against the real gateway.
import { createHmac, timingSafeEqual } from 'node:crypto';

const b64url = (value) => Buffer.from(value).toString('base64url');
const HEADER = b64url(JSON.stringify({ typ: 'JWT', alg: 'HS256' }));

export function signToken(claims, key) {
  const body = `${HEADER}.${b64url(JSON.stringify(claims))}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

/** The claims of a token this sandbox signed and that has not expired, else null. */
export function verifyToken(token, key, nowSecs) {
  if (typeof token !== 'string') return null;
  const [header, payload, signature, extra] = token.split('.');
  if (!header || !payload || !signature || extra !== undefined) return null;
  const expected = createHmac('sha256', key).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    return typeof claims.exp === 'number' && claims.exp > nowSecs ? claims : null;
  } catch {
    return null;
  }
}
