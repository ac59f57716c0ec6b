#!/usr/bin/env node
// `kelantanpay-worker check [wrangler.toml]`: compares the project's [[migrations]] (top level and
// every [env.*]) with the ones this package version needs, and says exactly what to add; it also
// notes a missing status limiter binding (not a failure).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const pkg = JSON.parse(readFileSync(here('../package.json'), 'utf8'));
const wanted = JSON.parse(readFileSync(here('../migrations.json'), 'utf8'));

// The tags of `[[migrations]]` / `[[env.X.migrations]]` blocks, by environment ('' = top level).
export function migrationTags(toml) {
  const tags = new Map([['', []]]);
  let current = null;
  for (const raw of toml.split('\n')) {
    const line = raw.trim();
    const table = /^\[\[\s*(?:env\.([A-Za-z0-9_-]+)\.)?migrations\s*\]\]$/.exec(line);
    if (table) { current = table[1] ?? ''; if (!tags.has(current)) tags.set(current, []); continue; }
    if (line.startsWith('[')) { current = null; continue; }
    const tag = /^tag\s*=\s*["']([^"']+)["']/.exec(line);
    if (tag && current !== null) tags.get(current).push(tag[1]);
  }
  return tags;
}

function render(m, env) {
  const key = env ? `env.${env}.migrations` : 'migrations';
  const lines = [`[[${key}]]`, `tag = "${m.tag}"`];
  for (const k of ['new_sqlite_classes', 'deleted_classes']) {
    if (m[k]) lines.push(`${k} = [${m[k].map((c) => `"${c}"`).join(', ')}]`);
  }
  return lines.join('\n');
}

export function check(toml) {
  const problems = [];
  for (const [env, have] of migrationTags(toml)) {
    if (env !== '' && have.length === 0) continue; // an environment inherits the top level's
    const missing = wanted.filter((m) => !have.includes(m.tag));
    for (const m of missing) problems.push({ env, migration: m, text: render(m, env) });
  }
  return problems;
}

// The status limit's rate limiting bindings (wrangler.fragment.toml). A project without them
// still runs, its status limit counted per isolate only (/api/health warns), so their absence
// is a note, not a failure: by environment ('' = top level), the names that are missing.
export const LIMITERS = ['STATUS_LIMIT', 'STATUS_NETWORK_LIMIT'];
export function missingLimiters(toml) {
  const have = new Map([['', []]]);
  let current = null;
  for (const raw of toml.split('\n')) {
    const line = raw.trim();
    const env = /^\[\[?\s*env\.([A-Za-z0-9_-]+)[.\]]/.exec(line)?.[1];
    if (env !== undefined && !have.has(env)) have.set(env, []);
    const table = /^\[\[\s*(?:env\.([A-Za-z0-9_-]+)\.)?ratelimits\s*\]\]$/.exec(line);
    if (table) { current = table[1] ?? ''; continue; }
    if (line.startsWith('[')) { current = null; continue; }
    const name = /^name\s*=\s*["']([^"']+)["']/.exec(line);
    if (name && current !== null) have.get(current).push(name[1]);
  }
  return [...have].map(([env, names]) => [env, LIMITERS.filter((n) => !names.includes(n))]).filter(([, m]) => m.length > 0);
}

function noteLimiters(toml, file) {
  for (const [env, names] of missingLimiters(toml)) {
    console.error(`kelantanpay-worker: ${file}${env ? ` [env.${env}]` : ''} has no ${names.join(', ')} rate limiting binding: `
      + 'the status limit counts per isolate only. Copy the [[ratelimits]] of node_modules/kelantanpay-worker/wrangler.fragment.toml'
      + `${env ? ` as [[env.${env}.ratelimits]], with namespace_ids of its own` : ''}.`);
  }
}

const [cmd, file = 'wrangler.toml'] = process.argv.slice(2);
if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('kelantanpay-worker')) {
  if (cmd === 'check') {
    const toml = readFileSync(file, 'utf8');
    const problems = check(toml);
    noteLimiters(toml, file);
    if (problems.length === 0) {
      console.log(`kelantanpay-worker ${pkg.version}: ${file} has every migration (${wanted.map((m) => m.tag).join(', ')})`);
    } else {
      console.error(`kelantanpay-worker ${pkg.version} needs these migrations, missing from ${file}. Add, in this order:\n`);
      for (const p of problems) console.error(p.text + '\n');
      console.error('Then deploy as usual (see the package README, "Upgrading").');
      process.exit(1);
    }
  } else if (cmd === 'dev') {
    dev(process.argv.slice(3));
  } else if (cmd === '--version' || cmd === '-v') {
    console.log(pkg.version);
  } else {
    console.log('Usage:\n  kelantanpay-worker check [wrangler.toml]   compare the project\'s migrations with this version\'s\n  kelantanpay-worker dev [--port N] [--sandbox-port N] [-- wrangler dev args]\n                                             the sandbox and wrangler dev together (npm run dev)');
    process.exit(cmd === undefined || cmd === '-h' || cmd === '--help' ? 0 : 2);
  }
}

// `npm run dev`: check the migrations, start kelantanpay-sandbox and `wrangler dev` (both on
// 127.0.0.1), print the storefront URL, stop both on Ctrl-C or when either ends.
function dev(args) {
  let port = 8787; let sandboxPort = 8788; const extra = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') port = Number(args[++i]);
    else if (args[i] === '--sandbox-port') sandboxPort = Number(args[++i]);
    else if (args[i] === '--') { extra.push(...args.slice(i + 1)); break; } else extra.push(args[i]);
  }
  const toml = readFileSync('wrangler.toml', 'utf8');
  const problems = check(toml);
  noteLimiters(toml, 'wrangler.toml');
  if (problems.length) {
    console.error('kelantanpay-worker: wrangler.toml lacks migrations this version needs; add:\n');
    for (const p of problems) console.error(p.text + '\n');
    process.exit(1);
  }
  const local = `http://127.0.0.1:${port}`;
  let stopping = false;
  const sandbox = spawn(process.execPath, [here('../sandbox/cli.mjs'), '--port', String(sandboxPort), '--quiet'], { stdio: 'inherit', detached: true });
  // The project's wrangler (npm run puts node_modules/.bin first on PATH), else one on PATH.
  let wrangler = ['wrangler'];
  try { wrangler = [process.execPath, createRequire(`${process.cwd()}/package.json`).resolve('wrangler/bin/wrangler.js')]; } catch { /* PATH */ }
  const vars = [`KP_BASE_URL:http://127.0.0.1:${sandboxPort}`];
  if (port !== 8787) vars.push(`KP_RETURN_URLS:${local}/,http://localhost:${port}/`, `KP_RETURN_URL:${local}/`, `KP_ALLOWED_ORIGINS:http://localhost:${port},${local}`);
  const interactive = process.stdin.isTTY ? [] : ['--show-interactive-dev-session=false'];
  const worker = spawn(wrangler[0], [...wrangler.slice(1), 'dev', '--ip', '127.0.0.1', '--port', String(port), ...interactive, ...vars.flatMap((v) => ['--var', v]), ...extra], {
    stdio: ['inherit', 'inherit', 'inherit'], detached: true,
    env: { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_HIDE_BANNER: 'true', ...process.env },
  });
  worker.on('error', (e) => { console.error(`kelantanpay-worker: cannot start wrangler (${e.message}); run npm install`); stop(1); });
  // The URL is printed once the Worker answers, not when wrangler says it listens.
  const deadline = Date.now() + 300_000;
  const poll = async () => {
    if (stopping) return;
    try {
      const r = await fetch(`${local}/api/health`, { signal: AbortSignal.timeout(2_000) });
      await r.arrayBuffer();
      if (r.ok) { console.log(`\nStorefront: ${local}/   (sandbox gateway on http://127.0.0.1:${sandboxPort}; Ctrl-C stops both)`); return; }
    } catch { /* not yet */ }
    if (Date.now() > deadline) { console.error('kelantanpay-worker: the Worker did not answer /api/health within 300 s'); stop(1); return; }
    setTimeout(poll, 500);
  };
  poll();
  const signal = (name) => { for (const child of [worker, sandbox]) { try { process.kill(-child.pid, name); } catch { /* gone */ } } };
  // workerd can outlive a SIGTERMed wrangler: its whole group is killed before we exit.
  function stop(code) {
    if (stopping) return; stopping = true;
    signal('SIGTERM');
    setTimeout(() => { signal('SIGKILL'); process.exit(code); }, 3_000);
  }
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => stop(0));
  worker.on('exit', (c) => stop(c ?? 1));
  sandbox.on('exit', (c) => stop(c ?? 1));
}
