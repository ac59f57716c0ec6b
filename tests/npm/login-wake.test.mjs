// One client shared by two requests in one workerd isolate: request A leads a slow login,
// request B waits for it and is woken when it lands. After the login A's create is answered at
// once and B's late, so A's request ends first. B must go on in its own request's context: a
// wake that ran B's continuation in A's (the Rust waker called from A's task) leaves B's
// create to die with A, and workerd cancels B as hung.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { startSandbox } from '../../sandbox/server.mjs';
import { ROOT, theProject } from './project.mjs';

let sandbox;
let proxy;
let dir;
// Settles when the proxy has the login in hand: request A leads it, so B may start.
let loginSeen;
const loginReached = new Promise((resolve) => { loginSeen = resolve; });

before(async () => {
  dir = theProject();
  sandbox = await startSandbox({ username: 'wake-merchant', password: 'pw-Wake-Secret-5', early22Seconds: 0 });
  // In front of the sandbox: the login answered after 300 ms, every create after the first
  // after 800 ms; the sandbox's own origin in its answers becomes the proxy's.
  let creates = 0;
  proxy = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let delay = 0;
      if (req.url.startsWith('/api/loginApi')) { delay = 300; loginSeen(); }
      if (req.url.startsWith('/api/payment-generator')) { creates += 1; delay = creates > 1 ? 800 : 0; }
      setTimeout(() => {
        const target = new URL(sandbox.url);
        const up = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
          const body = [];
          answer.on('data', (c) => body.push(c));
          answer.on('end', () => {
            const text = Buffer.concat(body).toString().split(sandbox.url).join(proxyUrl());
            res.writeHead(answer.statusCode, { 'content-type': answer.headers['content-type'] || 'application/json' });
            res.end(text);
          });
        });
        up.end(Buffer.concat(chunks));
      }, delay);
    });
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
});
after(async () => {
  proxy?.close();
  await sandbox?.stop();
});

const proxyUrl = () => `http://127.0.0.1:${proxy.address().port}`;

test('workerd: a request waiting for another request\'s login is woken in its own context', async () => {
  const esbuild = join(ROOT, 'node_modules/.bin/esbuild');
  execFileSync(esbuild, ['shared-worker.mjs', '--bundle', '--format=esm', '--platform=neutral', '--conditions=workerd,worker', '--loader:.wasm=copy', '--log-level=error', '--outdir=out-shared'],
    { cwd: dir, timeout: 60_000 });
  const outdir = join(dir, 'out-shared');
  const mf = new Miniflare({
    modules: true,
    modulesRoot: outdir,
    scriptPath: join(outdir, 'shared-worker.js'),
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2025-09-01',
    bindings: { KP_SANDBOX_URL: proxyUrl(), KP_SANDBOX_USERNAME: 'wake-merchant', KP_SANDBOX_PASSWORD: 'pw-Wake-Secret-5' },
  });
  try {
    const leader = mf.dispatchFetch('http://worker/a');
    // B starts once A's login is out (an event, not a pause), so B waits for A's login.
    let timer;
    await Promise.race([loginReached, new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('request A never sent its login')), 30_000);
    })]).finally(() => clearTimeout(timer));
    const waiter = mf.dispatchFetch('http://worker/b');
    const answers = await Promise.all([leader, waiter].map(async (pending) => {
      const res = await pending;
      const text = await res.text();
      assert.equal(res.status, 200, text);
      return JSON.parse(text);
    }));
    assert.deepEqual(answers.map((a) => a.ok), [true, true], JSON.stringify(answers));
    const stats = await (await fetch(`${sandbox.url}/__sandbox/stats`)).json();
    assert.deepEqual([stats.login, stats.create], [1, 2], 'one login, shared');
  } finally {
    await mf.dispose();
  }
});
