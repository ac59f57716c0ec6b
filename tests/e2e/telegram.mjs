// A fake Telegram Bot API for the alert tests, on a free 127.0.0.1 port: it records each request
// (path, JSON body, the status it answered) and answers `sendMessage` as Telegram does; told to,
// it fails the next N requests with 502.
import { createServer } from 'node:http';

export async function fakeTelegram() {
  const received = [];
  let failing = 0;
  let failMatch = () => true;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      const status = failing > 0 && failMatch(body) ? 502 : 200;
      if (status === 502) failing -= 1;
      received.push({ method: req.method, path: req.url, type: req.headers['content-type'], body, status });
      const answer = status === 200
        ? { ok: true, result: { message_id: received.length, chat: { id: body?.chat_id }, text: body?.text } }
        : { ok: false, error_code: 502, description: 'Bad Gateway' };
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    received,
    /** The next `n` requests (those whose JSON body `match` accepts) answer 502. */
    failNext: (n, match = () => true) => { failing = n; failMatch = match; },
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}
