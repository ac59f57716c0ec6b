// A stand-in for Cloudflare Access in tests: a JWKS server on 127.0.0.1 that serves
// `/cdn-cgi/access/certs` (and counts each fetch of it), RSA keys from node:crypto, and tokens
// minted as Access mints them (RS256, `kid`, `aud`, `iss`, `exp`), or broken on purpose.
import { createServer } from 'node:http';
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Starts the team's certs server; `team` is its origin (the token's `iss`). */
export async function startAccess({ aud = 'test-aud-tag' } = {}) {
  const keys = [0, 1].map((i) => ({ kid: `test-kid-${i}`, ...generateKeyPairSync('rsa', { modulusLength: 2048 }) }));
  let fetches = 0;
  let waiters = [];
  const server = createServer((req, res) => {
    if (req.url !== '/cdn-cgi/access/certs') {
      res.writeHead(404).end();
      return;
    }
    fetches += 1;
    const jwks = { keys: keys.map(({ kid, publicKey }) => ({ kid, alg: 'RS256', use: 'sig', ...publicKey.export({ format: 'jwk' }) })) };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    for (const wake of waiters) wake();
    waiters = [];
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const team = `http://127.0.0.1:${server.address().port}`;
  const now = () => Math.floor(Date.now() / 1000);

  /** A token as Access mints it, with `claims`/`header` overriding the defaults. */
  function mint({ claims = {}, header = {}, keyIndex = 0 } = {}) {
    const key = keys[keyIndex];
    const head = { alg: 'RS256', kid: key.kid, typ: 'JWT', ...header };
    const body = { aud: [aud], iss: team, email: 'owner@shop.example', iat: now(), nbf: now(), exp: now() + 600, sub: 'u1', ...claims };
    const signed = `${b64url(head)}.${b64url(body)}`;
    return `${signed}.${sign('sha256', Buffer.from(signed), key.privateKey).toString('base64url')}`;
  }

  /** The same claims signed HS256 with the team's public key as the secret (key confusion). */
  function mintHs256() {
    const head = { alg: 'HS256', kid: keys[0].kid, typ: 'JWT' };
    const body = { aud: [aud], iss: team, exp: now() + 600 };
    const signed = `${b64url(head)}.${b64url(body)}`;
    const secret = keys[0].publicKey.export({ format: 'pem', type: 'spki' });
    return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
  }

  /** Unsigned, `alg: none`. */
  function mintNone() {
    return `${b64url({ alg: 'none', kid: keys[0].kid })}.${b64url({ aud: [aud], iss: team, exp: now() + 600 })}.`;
  }

  return {
    team,
    aud,
    mint,
    mintHs256,
    mintNone,
    fetches: () => fetches,
    /** Resolves once the certs have been fetched `n` times in all (rejects after `ms`). */
    fetched(n, ms = 5000) {
      if (fetches >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`certs fetched ${fetches} times, waited for ${n}`)), ms);
        const check = () => (fetches >= n ? (clearTimeout(timer), resolve()) : waiters.push(check));
        waiters.push(check);
      });
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
