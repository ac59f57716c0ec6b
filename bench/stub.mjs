// The benchmark's upstream: a canned KelantanPay in its own process, so neither Worker waits on
// a stateful sandbox sharing the benchmark's event loop. Login answers one long-lived JWT,
// payment-generator a fresh order id (so every payment has its own OrderIndex object, as with the
// real gateway), requery `11` (pending) or `00` for references marked paid. Counts every call.
//
//   node bench/stub.mjs            prints `listening <port>` on stdout, exits when stdin closes
//   GET  /__stub/stats             {"login":n,"create":n,"requery":n}
//   POST /__stub/paid/<reference>  later requeries of it answer 00
import { createServer } from 'node:http';

const b64url = (value) => Buffer.from(value).toString('base64url');
// exp in 2100: the Workers' token caches never renew during a run.
const TOKEN = `${b64url('{"typ":"JWT","alg":"HS256"}')}.${b64url('{"sub":"bench","exp":4102444800}')}.c2lnbmF0dXJl`;
const LOGIN = JSON.stringify({ status: 'true', description: 'Successfully login', token: TOKEN, code: 200 });
const PENDING = JSON.stringify({ status: '11' });
const PAID = JSON.stringify({ status: '00' });
const stats = { login: 0, create: 0, requery: 0 };
const paid = new Set();
let orders = 0;

function answer(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = req.url;
    if (req.method === 'GET' && url.startsWith('/api/kelantan-requery/')) {
      stats.requery += 1;
      const reference = decodeURIComponent(url.slice(url.lastIndexOf('/') + 1));
      return answer(res, 200, paid.has(reference) ? PAID : PENDING);
    }
    if (req.method === 'POST' && url === '/api/payment-generator') {
      stats.create += 1;
      orders += 1;
      // The userid is echoed as the gateway does; nothing else of the body is looked at.
      const userid = /"userid":"([^"]*)"/.exec(Buffer.concat(chunks).toString())?.[1] ?? '';
      // The checkout URL is on the gateway's own origin: the Worker refuses any other (502).
      const checkout = `http://${req.headers.host}/pay/${orders}`;
      return answer(res, 200, `{"status":"true","description":"No Error","url":"${checkout}","reference":"${userid}","token":"t${orders}","amount":45,"orderid":"KPAYSTUB${orders}","code":200}`);
    }
    if (req.method === 'POST' && url === '/api/loginApi') {
      stats.login += 1;
      return answer(res, 200, LOGIN);
    }
    if (req.method === 'GET' && url === '/__stub/stats') return answer(res, 200, JSON.stringify(stats));
    if (req.method === 'POST' && url.startsWith('/__stub/paid/')) {
      paid.add(decodeURIComponent(url.slice('/__stub/paid/'.length)));
      return answer(res, 200, '{}');
    }
    return answer(res, 404, '{"status":"false","description":"not found"}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
// Stops with its parent: stdin is the parent's pipe.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
