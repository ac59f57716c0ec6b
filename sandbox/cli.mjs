#!/usr/bin/env node
// `kelantanpay-sandbox`: the local KelantanPay as a command, shipped in the npm package's bin,
// so a JS developer tests offline without this repository (like stripe-mock).
import { resolve, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { startSandbox } from './server.mjs';

const HELP = `kelantanpay-sandbox: a local KelantanPay gateway for development and tests

Usage: kelantanpay-sandbox [options]

Options:
  --port N            port to listen on (default 8788; 0 picks a free one)
  --host H            address to bind (default 127.0.0.1)
  --data-dir DIR      keep payments and the token key in DIR/state.json across restarts
                      (default: in memory only)
  --username U        merchant username (default $SANDBOX_USERNAME or demo-merchant)
  --password P        merchant password (default $SANDBOX_PASSWORD or demo-password)
  --early-22 S        a pending payment younger than S seconds requeries as 22 (default 3)
  --token-ttl S       login tokens expire after S seconds (default 3600)
  --quiet             do not log each request
  -h, --help          this text
  -v, --version       the package version

The gateway's calls (what the SDK talks to):
  POST /api/loginApi                        {"username","password"} -> {"token"}
  POST /api/payment-generator               create a payment -> {"url","orderid",...}
  GET  /api/kelantan-requery/{user}/{ref}   "00" paid, "11" pending, "22" failed
  GET  /kelantanpay/{ref}/{session}         the hosted checkout page, with Pay and Fail

The Telegram Bot API, for the Worker's alerts (KP_TELEGRAM_API_URL=http://127.0.0.1:8788):
  POST /bot{token}/sendMessage              {"chat_id","text",...} -> {"ok":true,"result":{"message_id",...}}
                                            each message is printed in a box (also with --quiet)
  GET  /telegram/messages                   every message received: [{"message_id","chat_id","text","token",...}]
  POST /telegram/fail {"count"?,"fault"?}   the next count sends fail: http502 (default) or hang

Control API (tests only):
  POST   /__sandbox/settle   {"reference","outcome":"paid"|"failed"}   what Pay/Fail does
                             (then posts the form callback to the payment's callbackurl)
  POST   /__sandbox/faults   {"call":"login"|"create"|"requery","fault","times"?}
                             faults: http500 html502 malformed hang unauthorized status_false oversized
  DELETE /__sandbox/faults   drop queued faults
  GET    /__sandbox/payments every stored payment, as the gateway received it
  GET    /__sandbox/stats    requests per call
  GET    /__sandbox/tokens   every login token issued (for leak scans)
  POST   /__sandbox/config   {"tokenTtlSeconds"?, "early22Seconds"?}
  POST   /__sandbox/reset    forget payments, faults, counters and Telegram messages

Example:
  kelantanpay-sandbox --port 8788 --data-dir .sandbox &
  new KelantanPay({ username: 'demo-merchant', password: 'demo-password',
                    provider: 'sandbox', account: '0', baseUrl: 'http://127.0.0.1:8788' })
`;

const FLAGS = {
  '--port': ['port', (v) => wholeNumber(v, 65535)],
  '--host': ['host', String],
  '--data-dir': ['dataFile', (v) => join(resolve(v), 'state.json')],
  '--username': ['username', String],
  '--password': ['password', String],
  '--early-22': ['early22Seconds', (v) => wholeNumber(v, 86400)],
  '--token-ttl': ['tokenTtlSeconds', (v) => wholeNumber(v, 31536000)],
};

function wholeNumber(value, max) {
  const n = Number(value);
  if (!/^\d+$/.test(value ?? '') || n > max) throw new Error(`expected a whole number from 0 to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

function fail(message) {
  process.stderr.write(`kelantanpay-sandbox: ${message}\n(see kelantanpay-sandbox --help)\n`);
  process.exit(2);
}

function parseCli(argv) {
  const options = {};
  let quiet = false;
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (flag === '-h' || flag === '--help') return { help: true };
    if (flag === '-v' || flag === '--version') return { version: true };
    if (flag === '--quiet') { quiet = true; continue; }
    const known = FLAGS[flag];
    if (!known) throw new Error(`unknown option ${argv[i]}`);
    const value = inline ?? argv[(i += 1)];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    try {
      options[known[0]] = known[1](value);
    } catch (error) {
      throw new Error(`${flag}: ${error.message}`);
    }
  }
  return { options, quiet };
}

async function main() {
  let parsed;
  try {
    parsed = parseCli(process.argv.slice(2));
  } catch (error) {
    return fail(error.message);
  }
  if (parsed.help) return process.stdout.write(HELP);
  if (parsed.version) {
    const manifest = new URL('../package.json', import.meta.url);
    let version = 'unknown';
    try { version = JSON.parse(readFileSync(manifest, 'utf8')).version; } catch { /* run from the repository */ }
    return process.stdout.write(`${version}\n`);
  }
  const sandbox = await startSandbox({
    port: 8788,
    username: process.env.SANDBOX_USERNAME || 'demo-merchant',
    password: process.env.SANDBOX_PASSWORD || 'demo-password',
    log: parsed.quiet ? () => {} : (line) => console.log(line),
    // Alerts show even with --quiet: that is what `npm run dev` shows them with.
    showTelegram: (box) => process.stdout.write(box),
    ...parsed.options,
  }).catch((error) => fail(error.code === 'EADDRINUSE' ? `port ${parsed.options.port ?? 8788} is in use (try --port 0)` : error.message));
  console.log(`kelantanpay sandbox listening on ${sandbox.url} (username ${sandbox.username})`);
  const shutdown = () => sandbox.stop().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

await main();
