// A local KelantanPay: the three documented calls with their quirks (string/number drift,
// errors as HTTP 200 + status "false", the early-22 requery), a hosted checkout page with
// Pay/Fail, callbacks, and fault injection, so the SDK is developed and tested offline.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { signToken, verifyToken } from './jwt.mjs';
import { loadState, saveState } from './state.mjs';
import { FaultQueue, FAULTS, CALLS } from './faults.mjs';
import { checkoutPage, donePage, errorPage, notFoundPage } from './checkout-page.mjs';
import { TelegramStandIn, TELEGRAM_FAULTS } from './telegram.mjs';

const REQUIRED_STRINGS = ['name', 'email', 'mobile', 'description', 'country', 'account', 'provider'];
const OPTIONAL_STRINGS = ['userid', 'returnurl', 'callbackurl', 'ref_1', 'ref_2', 'ref_3'];
const CALLBACK_TIMEOUT_MS = 5000;
const MAX_BODY = 1 << 20;

export async function startSandbox({
  port = 0,
  host = '127.0.0.1',
  username = 'demo-merchant',
  password = 'demo-password',
  tokenTtlSeconds = 3600,
  early22Seconds = 3,
  dataFile,
  log = () => {},
  // Where the Bot API stand-in prints each message it receives (the console under `make dev`).
  showTelegram = () => {},
} = {}) {
  const state = loadState(dataFile);
  // callbacks: whether Pay/Fail posts the callback; createDelayMs: a slow gateway that has
  // already recorded the payment when it answers late; requeryAmount: a requery that names
  // another amount than the payment's (a tampered or partial payment).
  const settings = { tokenTtlSeconds, early22Seconds, callbacks: true, createDelayMs: 0, requeryAmount: null };
  const defaults = { ...settings };
  const faults = new FaultQueue();
  const stats = { login: 0, create: 0, requery: 0, sendMessage: 0 };
  const telegram = new TelegramStandIn(showTelegram);
  const issuedTokens = [];
  // Every userid payment-generator was sent, in order (tests check none is sent twice).
  const sentReferences = [];
  const nowSecs = () => Math.floor(Date.now() / 1000);
  const save = () => saveState(dataFile, state);
  let origin = '';

  const json = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const refuse = (res, description, code, http = 200) =>
    json(res, http, { status: 'false', description, code });

  /** A well-formed success for `call` (as sent in `body`), padded past a megabyte and streamed
   * with no Content-Length: a client must stop reading it, not buffer it. Creates nothing. */
  function oversized(call, res, body) {
    const answers = {
      login: () => ({ status: 'true', description: 'Successfully login', code: 200,
        token: signToken({ sub: username, iat: nowSecs(), exp: nowSecs() + settings.tokenTtlSeconds, jti: 'oversized' }, state.signingKey) }),
      create: () => ({ status: 'true', description: 'No Error', url: `${origin}/kelantanpay/${encodeURIComponent(body.userid ?? '')}/oversized`,
        reference: body.userid, token: 'oversized', amount: body.amount, orderid: 'KPAYOVERSIZED', code: 200 }),
      requery: () => ({ status: '11' }),
    };
    res.on('error', () => {}); // the client hangs up part way: that is the point
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`${JSON.stringify(answers[call]()).slice(0, -1)},"pad":"`);
    const chunk = ' '.repeat(64 * 1024);
    for (let i = 0; i < 16; i += 1) res.write(chunk);
    res.end('"}');
  }

  /** Answers with the injected fault, if one is queued for this call. */
  function injectFault(call, res, body = {}) {
    const fault = faults.take(call);
    if (!fault) return false;
    switch (fault) {
      case 'http500':
        json(res, 500, { status: 'false', description: 'Internal Server Error' });
        break;
      case 'html502':
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end(errorPage(502));
        break;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"true","description":"No Err');
        break;
      case 'hang':
        break; // never answered; stop() closes the socket
      case 'unauthorized':
        refuse(res, call === 'login' ? 'Invalid username or password' : 'Token expired or invalid', 401, 401);
        break;
      case 'status_false':
        refuse(res, 'Simulated gateway error', '500');
        break;
      case 'oversized':
        oversized(call, res, body);
        break;
    }
    return true;
  }

  function login(res, body) {
    stats.login += 1;
    if (injectFault('login', res)) return;
    for (const field of ['username', 'password']) {
      if (typeof body[field] !== 'string' || body[field] === '') {
        return refuse(res, `The ${field} field is required.`, 422);
      }
    }
    if (body.username !== username || body.password !== password) {
      // The code arrives as a string here, as types drift on the real gateway.
      return refuse(res, 'Invalid username or password', '401');
    }
    const iat = nowSecs();
    const token = signToken({ sub: username, iat, exp: iat + settings.tokenTtlSeconds, jti: randomBytes(6).toString('hex') }, state.signingKey);
    issuedTokens.push(token);
    json(res, 200, { status: 'true', description: 'Successfully login', token, code: 200 });
  }

  async function create(res, body) {
    stats.create += 1;
    if (typeof body.userid === 'string') sentReferences.push(body.userid);
    if (injectFault('create', res, body)) return;
    if (!verifyToken(body.token, state.signingKey, nowSecs())) {
      return refuse(res, 'Token expired or invalid', 401, 401);
    }
    if (body.via !== 'Web' && body.via !== 'App') return refuse(res, 'The via field must be Web or App.', 422);
    const amount = typeof body.amount === 'string' && body.amount.trim() !== '' ? Number(body.amount) : body.amount;
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0) {
      return refuse(res, 'The amount field must be a positive number.', 422);
    }
    for (const field of REQUIRED_STRINGS) {
      if (typeof body[field] !== 'string' || body[field].trim() === '') {
        return refuse(res, `The ${field} field is required.`, 422);
      }
    }
    for (const field of OPTIONAL_STRINGS) {
      if (body[field] !== undefined && body[field] !== null && typeof body[field] !== 'string') {
        return refuse(res, `The ${field} field must be a string.`, 422);
      }
    }
    const reference = body.userid || `SBX${Date.now()}${randomBytes(3).toString('hex')}`;
    if (state.payments[reference]) return refuse(res, 'Duplicate reference', 409);
    state.orderSeq += 1;
    const orderid = `KPAY${String(Date.now()).slice(-8)}${String(state.orderSeq % 1e6).padStart(6, '0')}`;
    const session = randomBytes(24).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '').padEnd(30, '0').slice(0, 30);
    const payment = {
      reference, orderid, session, amount: body.amount, amountText: amount.toFixed(2), via: body.via,
      ...Object.fromEntries(REQUIRED_STRINGS.map((f) => [f, body[f]])),
      ...Object.fromEntries(OPTIONAL_STRINGS.map((f) => [f, body[f] ?? ''])),
      created_at: new Date().toISOString(), createdMs: Date.now(), status: '11', paid_at: null, callback: null,
    };
    state.payments[reference] = payment;
    save();
    if (settings.createDelayMs > 0) await new Promise((r) => setTimeout(r, settings.createDelayMs));
    json(res, 200, {
      status: 'true', description: 'No Error',
      url: `${origin}/kelantanpay/${encodeURIComponent(reference)}/${session}`,
      reference, token: session, amount: body.amount, orderid, code: 200,
    });
  }

  function requery(res, user, reference) {
    stats.requery += 1;
    if (injectFault('requery', res)) return;
    const payment = user === username ? state.payments[reference] : undefined;
    if (!payment) return refuse(res, 'Record not found');
    // The documented quirk: too soon after creation the gateway has no pending record yet.
    const early = payment.status === '11' && Date.now() - payment.createdMs < settings.early22Seconds * 1000;
    json(res, 200, {
      status: early ? '22' : payment.status, ref_no: payment.reference, orderid: payment.orderid,
      amount: settings.requeryAmount ?? payment.amountText, description: payment.description,
      created_at: payment.created_at, paid_at: payment.paid_at,
    });
  }

  /** Pay or Fail, as the payer's click would: once only, then the callback. */
  async function settle(payment, outcome) {
    if (payment.status === '11') {
      payment.status = outcome === 'paid' ? '00' : '22';
      payment.paid_at = outcome === 'paid' ? new Date().toISOString() : null;
      save();
      payment.callback = await postCallback(payment);
      save();
    }
    return payment;
  }

  async function postCallback(payment) {
    if (!payment.callbackurl || !settings.callbacks) return null;
    const form = new URLSearchParams({
      status: payment.status, reference: payment.reference, ref_no: payment.reference,
      orderid: payment.orderid, amount: payment.amountText,
    });
    try {
      const answer = await fetch(payment.callbackurl, {
        method: 'POST', body: form, signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      return { delivered: answer.ok, http_status: answer.status, body: (await answer.text()).slice(0, 200) };
    } catch (error) {
      return { delivered: false, error: error.name };
    }
  }

  async function checkout(req, res, parts) {
    const [reference, session, action] = parts.map(decodeURIComponent);
    const payment = state.payments[reference];
    const html = (status, body, headers = {}) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
      res.end(body);
    };
    if (!payment || payment.session !== session) return html(404, notFoundPage());
    if (req.method === 'GET' && !action) {
      return payment.status === '11'
        ? html(200, checkoutPage(payment, `/kelantanpay/${encodeURIComponent(reference)}/${session}`))
        : html(200, donePage(payment));
    }
    if (req.method !== 'POST' || (action !== 'pay' && action !== 'fail')) return html(404, notFoundPage());
    await settle(payment, action === 'pay' ? 'paid' : 'failed');
    if (payment.returnurl) return html(303, '', { location: payment.returnurl });
    html(200, donePage(payment));
  }

  async function control(req, res, name, body) {
    if (name === 'faults' && req.method === 'POST') {
      const { call, fault, times = 1 } = body;
      if (!CALLS.includes(call) || !FAULTS.includes(fault) || !Number.isInteger(times) || times < 1) {
        return json(res, 400, { error: `call must be one of ${CALLS}, fault one of ${FAULTS}, times a positive integer` });
      }
      faults.add(call, fault, times);
      return json(res, 200, { queued: faults.pending() });
    }
    if (name === 'faults' && req.method === 'DELETE') {
      faults.clear();
      return json(res, 200, { queued: faults.pending() });
    }
    if (name === 'stats' && req.method === 'GET') return json(res, 200, { ...stats });
    if (name === 'tokens' && req.method === 'GET') return json(res, 200, issuedTokens);
    if (name === 'references' && req.method === 'GET') return json(res, 200, sentReferences);
    if (name === 'payments' && req.method === 'GET') return json(res, 200, Object.values(state.payments));
    if (name === 'reset' && req.method === 'POST') {
      state.payments = {};
      faults.clear();
      Object.keys(stats).forEach((k) => { stats[k] = 0; });
      Object.assign(settings, defaults);
      sentReferences.length = 0;
      telegram.reset();
      save();
      return json(res, 200, { reset: true });
    }
    if (name === 'config' && req.method === 'POST') {
      for (const key of ['tokenTtlSeconds', 'early22Seconds', 'createDelayMs']) {
        if (body[key] !== undefined) {
          if (typeof body[key] !== 'number' || body[key] < 0) return json(res, 400, { error: `${key} must be a number >= 0` });
          settings[key] = body[key];
        }
      }
      if (body.callbacks !== undefined) {
        if (typeof body.callbacks !== 'boolean') return json(res, 400, { error: 'callbacks must be true or false' });
        settings.callbacks = body.callbacks;
      }
      if (body.requeryAmount !== undefined) {
        if (body.requeryAmount !== null && typeof body.requeryAmount !== 'string') return json(res, 400, { error: 'requeryAmount must be a decimal string or null' });
        settings.requeryAmount = body.requeryAmount;
      }
      return json(res, 200, { ...settings });
    }
    if (name === 'settle' && req.method === 'POST') {
      const payment = state.payments[body.reference];
      if (!payment) return json(res, 404, { error: 'no such reference' });
      if (body.outcome !== 'paid' && body.outcome !== 'failed') return json(res, 400, { error: 'outcome must be paid or failed' });
      return json(res, 200, await settle(payment, body.outcome));
    }
    json(res, 404, { error: 'unknown control endpoint' });
  }

  /** The Bot API stand-in (sandbox/telegram.mjs) and its test controls. */
  function bot(req, res, parts, body) {
    if (parts[0] !== 'telegram') {
      stats.sendMessage += 1;
      let token = parts[0].slice(3);
      try { token = decodeURIComponent(token); } catch { /* kept as sent: refused as Unauthorized */ }
      const answer = telegram.sendMessage(token, body);
      return answer ? json(res, answer.status, answer.body) : undefined; // a hang: stop() closes it
    }
    if (parts[1] === 'messages' && req.method === 'GET') return json(res, 200, telegram.messages());
    if (parts[1] === 'fail' && req.method === 'POST') {
      const { count = 1, fault = 'http502' } = body;
      if (!Number.isInteger(count) || count < 1 || !TELEGRAM_FAULTS.includes(fault)) {
        return json(res, 400, { error: `count must be a positive integer, fault one of ${TELEGRAM_FAULTS}` });
      }
      telegram.fail(count, fault);
      return json(res, 200, { failing: count, fault });
    }
    json(res, 404, { error: 'unknown telegram endpoint' });
  }

  async function route(req, res) {
    const url = new URL(req.url, origin);
    const parts = url.pathname.split('/').filter(Boolean);
    const raw = await readBody(req);
    let body = {};
    if (raw.length > 0 && req.method !== 'GET') {
      // The Bot API also takes form-encoded parameters.
      const form = /^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '');
      try {
        body = form ? Object.fromEntries(new URLSearchParams(raw)) : JSON.parse(raw);
      } catch {
        if (parts[0] === 'api') return refuse(res, 'Invalid JSON body', 400, 400);
        if (parts[1] === 'sendMessage') return json(res, 400, { ok: false, error_code: 400, description: "Bad Request: can't parse JSON" });
      }
      if (body === null || typeof body !== 'object') body = {};
    }
    if (req.method === 'POST' && parts.length === 2 && /^bot[^/]*$/.test(parts[0]) && parts[1] === 'sendMessage') return bot(req, res, parts, body);
    if (parts[0] === 'telegram' && parts.length === 2) return bot(req, res, parts, body);
    if (req.method === 'POST' && url.pathname === '/api/loginApi') return login(res, body);
    if (req.method === 'POST' && url.pathname === '/api/payment-generator') return create(res, body);
    if (req.method === 'GET' && parts[0] === 'api' && parts[1] === 'kelantan-requery' && parts.length === 4) {
      return requery(res, decodeURIComponent(parts[2]), decodeURIComponent(parts[3]));
    }
    if (parts[0] === 'kelantanpay' && (parts.length === 3 || parts.length === 4)) return checkout(req, res, parts.slice(1));
    if (parts[0] === '__sandbox' && parts.length === 2) return control(req, res, parts[1], body);
    json(res, 404, { status: 'false', description: 'Not Found' });
  }

  const server = createServer((req, res) => {
    res.on('finish', () => log(`${req.method} ${redact(req.url)} ${res.statusCode}`));
    route(req, res).catch(() => {
      if (!res.headersSent) json(res, 500, { status: 'false', description: 'Sandbox error' });
    });
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, ok);
  });
  origin = `http://${host}:${server.address().port}`;

  return {
    url: origin,
    username,
    password,
    /** Every login token issued, so tests can scan for leaks. */
    tokens: () => [...issuedTokens],
    stop: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function readBody(req) {
  return new Promise((ok, fail) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

/** Checkout paths carry a session token: fine to log, but the path shape is enough. A bot's path
 * carries its token, which is a secret: never logged. */
function redact(path) {
  return path.replace(/^(\/kelantanpay\/[^/]+\/)[^/?]+/, '$1…').replace(/^\/bot[^/?]*/, '/bot…');
}

function parseArgs(argv) {
  const options = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--port') options.port = Number(value);
    else if (flag === '--host') options.host = value;
    else if (flag === '--data') options.dataFile = resolve(value);
    else throw new Error(`unknown option ${flag} (use --port N, --host H, --data FILE)`);
  }
  return options;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const sandbox = await startSandbox({
    port: 8788,
    dataFile: resolve(here, 'data/state.json'),
    username: process.env.SANDBOX_USERNAME || 'demo-merchant',
    password: process.env.SANDBOX_PASSWORD || 'demo-password',
    log: (line) => console.log(line),
    // The request log is stdout (`make dev` keeps it in .wrangler/sandbox.log); alerts go to
    // stderr, which `make dev` leaves on its terminal.
    showTelegram: (box) => process.stderr.write(box),
    ...parseArgs(process.argv.slice(2)),
  });
  console.log(`sandbox listening on ${sandbox.url}`);
  const shutdown = () => sandbox.stop().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
