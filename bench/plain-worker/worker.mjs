// The baseline for the benchmark: a minimal plain-JavaScript Worker making the same upstream calls
// as the Rust Worker (one cached login, payment-generator with the token in the body, requery) and
// the same Durable Object round trips (claim + record on create, record on status), with none of
// its validation, signing or error mapping. Not for production.
const CATALOG = { 'batik-scarf': 4500, 'songket-pouch': 2850, 'keropok-lekor': 1200 };
let token = null;
let login = null;

async function getToken(env) {
  if (token) return token;
  login ??= fetch(`${env.KP_BASE_URL}/api/loginApi`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: env.KP_USERNAME, password: env.KP_PASSWORD }),
  }).then((r) => r.json()).then((answer) => { token = answer.token; login = null; return token; });
  return login;
}

const store = (env, op) => env.STORE.get(env.STORE.idFromName('payments'))
  .fetch('https://store/', { method: 'POST', body: JSON.stringify(op) }).then((r) => r.json());

export class PlainStore {
  constructor(state) {
    this.storage = state.storage;
  }

  async fetch(request) {
    const op = await request.json();
    if (op.op === 'begin') await this.storage.put(`claim:${op.reference}`, { at: Date.now() });
    else await this.storage.put(`pay:${op.reference}`, op.record);
    return Response.json({ ok: true });
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === 'POST' && url.pathname === '/api/payments') {
      const order = await request.json();
      const sen = order.items.reduce((sum, line) => sum + CATALOG[line.sku] * line.quantity, 0);
      const reference = `KP${Date.now().toString(36)}${crypto.randomUUID().slice(0, 8)}`.toUpperCase();
      await store(env, { op: 'begin', reference });
      const answer = await fetch(`${env.KP_BASE_URL}/api/payment-generator`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          token: await getToken(env), via: 'Web', amount: sen / 100, userid: reference, name: order.name, email: order.email,
          mobile: order.mobile, description: 'Order', country: 'MY', account: env.KP_ACCOUNT, provider: env.KP_PROVIDER,
        }),
      }).then((r) => r.json());
      const record = { reference, orderid: answer.orderid, amount: (sen / 100).toFixed(2), status: 'pending' };
      await store(env, { op: 'record', reference, record });
      return Response.json({ id: reference, checkout_url: answer.url, ...record }, { status: 201 });
    }
    if (request.method === 'GET' && url.pathname.startsWith('/api/payments/')) {
      const reference = decodeURIComponent(url.pathname.slice('/api/payments/'.length));
      const answer = await fetch(`${env.KP_BASE_URL}/api/kelantan-requery/${encodeURIComponent(env.KP_USERNAME)}/${encodeURIComponent(reference)}`).then((r) => r.json());
      const status = { '00': 'paid', '11': 'pending', '22': 'failed' }[answer.status] ?? 'unknown';
      await store(env, { op: 'record', reference, record: { status, code: answer.status } });
      return Response.json({ id: reference, reference, status, code: answer.status });
    }
    return new Response('not found', { status: 404 });
  },
};
