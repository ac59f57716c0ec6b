#!/usr/bin/env node
// The `kelantanpay-worker` command. It always runs: npm's and pnpm's shims, a symlink, a path with
// a space all start it as they like (the rules it applies live in ../lib/).
//   check [wrangler.toml]  the project's [[migrations]] (top level and every [env.*]) against this
//                          version's, what a missing migration deletes, the status limiters, and
//                          every environment's [vars] judged by the Worker's own rules, and the
//                          order inbox's LEDGER binding, its D1 migrations, /admin's route, the cron,
//                          and the alerts' (a bot token in the toml, e-mail without its NOTIFY_EMAIL binding)
//   migrate [--local|--remote] [--env NAME] [--config FILE] [--persist-to DIR]
//                          applies the D1 migrations to LEDGER (wrangler d1 migrations apply)
//   dev                    the local migrations, then the sandbox and `wrangler dev` together (npm run dev)
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { check, deletions, missingLimiters, unrouted, varTables } from '../lib/toml.mjs';
import { BINDING, DEFAULT_DIR, adminRouted, gapsText, hasCron, inboxOffNote, ledgerBindings, migrationGaps } from '../lib/ledger.mjs';
import { devVars, judge } from '../lib/settings.mjs';
import { alertNotes, alertTable, emailBindings } from '../lib/alerts.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const pkg = JSON.parse(readFileSync(here('../package.json'), 'utf8'));
const wanted = JSON.parse(readFileSync(here('../migrations.json'), 'utf8'));
// The ledger's D1 migrations this version ships (worker/migrations/*.sql, in the order wrangler applies them).
const sqlFiles = (dir) => readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
const shipped = sqlFiles(here('../worker/migrations')).map((name) => ({ name, text: readFileSync(here(`../worker/migrations/${name}`), 'utf8') }));
const WRANGLER_ENV = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_HIDE_BANNER: 'true' };

// The project's wrangler (npm run puts node_modules/.bin first on PATH), else one on PATH.
function wranglerCommand() {
  try { return [process.execPath, createRequire(`${process.cwd()}/package.json`).resolve('wrangler/bin/wrangler.js')]; } catch { return ['wrangler']; }
}

// The LEDGER binding of each environment: a note where there is none (the inbox is off), a
// failure where its migrations_dir lacks a shipped migration, a note where a deployed
// environment has no database_id yet. Returns whether nothing failed.
function checkLedger(toml, file) {
  const project = /^name\s*=\s*["']([^"']+)["']/m.exec(toml)?.[1];
  let ok = true;
  const judged = new Set(); // each migrations_dir once, however many environments share it
  let told = false;
  const bindings = ledgerBindings(toml);
  if ([...bindings.values()].some(Boolean) && !adminRouted(toml)) {
    console.error(`kelantanpay-worker: note: ${file} binds ${BINDING} but [assets] run_worker_first does not send "/admin" and "/admin/*" to the Worker: `
      + 'the order inbox\'s page answers 404. Add them: run_worker_first = ["/api/*", "/admin", "/admin/*"]');
  }
  if ([...bindings.values()].some(Boolean) && !hasCron(toml)) {
    console.error(`kelantanpay-worker: note: ${file} binds ${BINDING} but schedules no cron: the ledger's daily retention sweep never runs, `
      + 'so orders stay past KP_LEDGER_RETENTION_DAYS. Add\n  [triggers]\n  crons = ["17 3 * * *"]');
  }
  for (const [env, ledger] of bindings) {
    if (!ledger) {
      // The how-to once; another environment without the inbox in one line.
      console.error(`kelantanpay-worker: note: ${told ? `${file}${env ? ` [env.${env}]` : ''} has no ${BINDING} D1 binding either (no order inbox there)` : inboxOffNote(file, env, project)}`);
      told = true;
      continue;
    }
    const dir = resolve(dirname(file), ledger.migrations_dir ?? DEFAULT_DIR);
    const gaps = ledgerGaps(file, ledger);
    if ((gaps.absent || gaps.missing.length || gaps.changed.length) && !judged.has(dir)) {
      ok = false;
      console.error(`kelantanpay-worker: ${gapsText(file, env, ledger.migrations_dir ?? DEFAULT_DIR, gaps)}`);
    }
    judged.add(dir);
    if (env && !ledger.database_id) {
      console.error(`kelantanpay-worker: note: ${file} [env.${env}] ${BINDING} has no database_id yet: before deploying, `
        + `npx wrangler d1 create ${ledger.database_name ?? `${project ?? 'my-payments'}-ledger`} and paste the database_id it prints into [[env.${env}.d1_databases]].`);
    }
  }
  return ok;
}

function ledgerGaps(file, ledger) {
  const dir = resolve(dirname(file), ledger.migrations_dir ?? DEFAULT_DIR);
  const have = existsSync(dir) ? new Map(sqlFiles(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')])) : null;
  return migrationGaps(shipped, have);
}

// `migrate`: `wrangler d1 migrations apply LEDGER` for one environment, after checking that its
// migrations_dir holds every shipped migration. No LEDGER binding: nothing to do (the inbox is
// off). --remote without a database_id: says how to create the database. Returns an exit code.
function migrate(args) {
  let mode = '--local'; let env = ''; let file = 'wrangler.toml'; const persist = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--local' || args[i] === '--remote') mode = args[i];
    else if (args[i] === '--env') env = args[++i] ?? '';
    else if (args[i] === '--config') file = args[++i] ?? file;
    else if (args[i] === '--persist-to') persist.push('--persist-to', args[++i] ?? '.wrangler/state');
    else { console.error(`kelantanpay-worker migrate: unknown option ${args[i]} (--local | --remote, --env NAME, --config FILE, --persist-to DIR)`); return 2; }
  }
  const toml = readFileSync(file, 'utf8');
  const ledger = ledgerBindings(toml).get(env) ?? null;
  if (!ledger) {
    console.log(`kelantanpay-worker: ${file}${env ? ` [env.${env}]` : ''} has no ${BINDING} D1 binding: no migrations to apply (the order inbox is off).`);
    return 0;
  }
  const gaps = ledgerGaps(file, ledger);
  if (gaps.absent || gaps.missing.length || gaps.changed.length) {
    console.error(`kelantanpay-worker: ${gapsText(file, env, ledger.migrations_dir ?? DEFAULT_DIR, gaps)}`);
    return 1;
  }
  if (mode === '--remote' && !ledger.database_id) {
    const name = ledger.database_name ?? 'my-payments-ledger';
    console.error(`kelantanpay-worker: ${file}${env ? ` [env.${env}]` : ''} ${BINDING} has no database_id, so its D1 database cannot be migrated. Create it once:\n`
      + `  npx wrangler d1 create ${name}\n`
      + `and paste the database_id it prints into ${file}, in [[${env ? `env.${env}.` : ''}d1_databases]] (the line "database_id = ..."); then run this again.`);
    return 1;
  }
  const wrangler = wranglerCommand();
  // Locally nothing to confirm: stdin closed, wrangler applies without asking. Remotely the
  // merchant confirms (CI answers yes).
  const r = spawnSync(wrangler[0], [...wrangler.slice(1), 'd1', 'migrations', 'apply', BINDING, mode, ...(env ? ['--env', env] : []), '--config', file, ...(mode === '--local' ? persist : [])], {
    stdio: [mode === '--local' ? 'ignore' : 'inherit', 'inherit', 'inherit'], env: { ...WRANGLER_ENV, ...process.env },
  });
  if (r.error) { console.error(`kelantanpay-worker: cannot start wrangler (${r.error.message}); run npm install`); return 1; }
  return r.status ?? 1;
}

function noteLimiters(toml, file) {
  for (const [env, names] of missingLimiters(toml)) {
    console.error(`kelantanpay-worker: ${file}${env ? ` [env.${env}]` : ''} has no ${names.join(', ')} rate limiting binding: `
      + 'the status limit counts per isolate only. Copy the [[ratelimits]] of node_modules/kelantanpay-worker/wrangler.fragment.toml'
      + `${env ? ` as [[env.${env}.ratelimits]], with namespace_ids of its own` : ''}.`);
  }
}

// Each environment's vars as the Worker would judge them (the top level with .dev.vars beside the
// file, its local secrets; production secrets are `wrangler secret put`s, taken as set). Prints
// what it refuses; returns whether everything passed.
function judgeVars(toml, file) {
  const local = join(dirname(file), '.dev.vars');
  const dev = existsSync(local) ? devVars(readFileSync(local, 'utf8')) : {};
  let ok = true;
  const mail = emailBindings(toml);
  for (const [env, vars] of varTables(toml)) {
    const where = `${file} ${env ? `[env.${env}.vars]` : '[vars]'}`;
    for (const [name, value] of Object.entries(vars)) {
      if (typeof value !== 'string') console.error(`kelantanpay-worker: ${where}: ${name} is not a string, so the Worker reads it as unset (write it in quotes)`);
    }
    // Alerts: what the toml alone shows (a bot token in it fails), then the Worker's rules below.
    const binding = mail.get(env) ?? null;
    const { failures, notes } = alertNotes(file, env, vars, binding);
    for (const f of failures) { ok = false; console.error(`kelantanpay-worker: ${f}`); }
    for (const n of notes) console.error(`kelantanpay-worker: note: ${n}`);
    const alerts = alertTable(vars, { local: !env, dev });
    const { problems, warnings } = judge({ ...vars, ...alerts, ...(env ? {} : dev) }, { secretsElsewhere: true });
    if (problems.length) {
      ok = false;
      console.error(`kelantanpay-worker: ${where}${env || !existsSync(local) ? '' : ' with .dev.vars'}: the Worker refuses these settings `
        + '(/api/health lists them; a refused payment setting makes every payment endpoint answer 503 not_configured, a refused admin setting closes /admin):\n'
        + problems.map((p) => `  - ${p}`).join('\n'));
    }
    for (const w of warnings) console.error(`kelantanpay-worker: ${where}: note: ${w}`);
  }
  return ok;
}

// Receipts (v3): /receipt/{id} is the Worker's page; a project from before v3 lists only /api/* (and /admin).
function noteReceipts(toml, file) {
  if (unrouted(toml, ['/receipt/*']).length) {
    console.error(`kelantanpay-worker: note: ${file} [assets] run_worker_first does not send "/receipt/*" to the Worker: buyers' receipt links answer 404. `
      + 'Add "/receipt/*" to it (package README, "Receipts").');
  }
}

function runCheck(file) {
  const toml = readFileSync(file, 'utf8');
  const problems = check(toml, wanted);
  noteLimiters(toml, file);
  noteReceipts(toml, file);
  const settled = [judgeVars(toml, file), checkLedger(toml, file)].every(Boolean);
  if (problems.length === 0) {
    if (settled) console.log(`kelantanpay-worker ${pkg.version}: ${file} has every migration (${wanted.map((m) => m.tag).join(', ')}) and settings the Worker accepts`);
    else console.log(`kelantanpay-worker ${pkg.version}: ${file} has every migration (${wanted.map((m) => m.tag).join(', ')})`);
    return settled ? 0 : 1;
  }
  console.error(`kelantanpay-worker ${pkg.version} needs these migrations, missing from ${file}. Add, in this order:\n`);
  for (const p of problems) console.error(p.text + '\n');
  for (const d of deletions(problems)) console.error(`${d.text}\n`);
  console.error('Then deploy as usual (see the package README, "Upgrading").');
  return 1;
}

const [cmd, file = 'wrangler.toml'] = process.argv.slice(2);
if (cmd === 'check') {
  process.exitCode = runCheck(file);
} else if (cmd === 'migrate') {
  process.exitCode = migrate(process.argv.slice(3));
} else if (cmd === 'dev') {
  dev(process.argv.slice(3));
} else if (cmd === '--version' || cmd === '-v') {
  console.log(pkg.version);
} else {
  console.log('Usage:\n  kelantanpay-worker check [wrangler.toml]   compare the project\'s migrations with this version\'s and judge its [vars] as the Worker does\n'
    + '  kelantanpay-worker migrate [--local | --remote] [--env NAME] [--config wrangler.toml]\n'
    + '                                             apply the order inbox\'s D1 migrations to LEDGER\n  kelantanpay-worker dev [--port N] [--sandbox-port N] [-- wrangler dev args]\n                                             the sandbox and wrangler dev together (npm run dev)');
  process.exitCode = cmd === undefined || cmd === '-h' || cmd === '--help' ? 0 : 2;
}
// `npm run dev`: check the migrations, apply the ledger's D1 migrations locally (when the project
// has LEDGER; wrangler applies only new ones), start kelantanpay-sandbox and `wrangler dev` (both on
// 127.0.0.1), print the storefront URL, stop both on Ctrl-C or when either ends.
function dev(args) {
  let port = 8787; let sandboxPort = 8788; const extra = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') port = Number(args[++i]);
    else if (args[i] === '--sandbox-port') sandboxPort = Number(args[++i]);
    else if (args[i] === '--') { extra.push(...args.slice(i + 1)); break; } else extra.push(args[i]);
  }
  const toml = readFileSync('wrangler.toml', 'utf8');
  const problems = check(toml, wanted);
  noteLimiters(toml, 'wrangler.toml');
  noteReceipts(toml, 'wrangler.toml');
  if (problems.length) {
    console.error('kelantanpay-worker: wrangler.toml lacks migrations this version needs; add:\n');
    for (const p of problems) console.error(p.text + '\n');
    for (const d of deletions(problems)) console.error(`${d.text}\n`);
    process.exit(1);
  }
  // What the Worker refuses shows on /api/health and stops payments; say it now, and start anyway.
  judgeVars(toml, 'wrangler.toml');
  const ledgerOk = checkLedger(toml, 'wrangler.toml');
  const inbox = Boolean(ledgerBindings(toml).get(''));
  if (inbox) {
    // Where `wrangler dev` keeps its local state (a --persist-to among its options) is where the ledger is migrated.
    const persistTo = extra.indexOf('--persist-to');
    if (!ledgerOk || migrate(['--local', ...(persistTo >= 0 ? extra.slice(persistTo, persistTo + 2) : [])]) !== 0) {
      console.error('kelantanpay-worker: the local D1 ledger could not be migrated (above)');
      process.exit(1);
    }
  }
  const origin = `http://127.0.0.1:${port}`;
  let stopping = false;
  const sandbox = spawn(process.execPath, [here('../sandbox/cli.mjs'), '--port', String(sandboxPort), '--quiet'], { stdio: 'inherit', detached: true });
  const wrangler = wranglerCommand();
  const vars = [`KP_BASE_URL:http://127.0.0.1:${sandboxPort}`];
  const local = varTables(toml).get('') ?? {};
  // Telegram alerts to the sandbox's Bot API stand-in follow it to its port.
  if (local.KP_TELEGRAM_API_URL === 'http://127.0.0.1:8788') vars.push(`KP_TELEGRAM_API_URL:http://127.0.0.1:${sandboxPort}`);
  const alertLines = [
    ...(typeof local.KP_TELEGRAM_CHAT_ID === 'string' ? [`Telegram alerts: to chat ${local.KP_TELEGRAM_CHAT_ID}${String(local.KP_TELEGRAM_API_URL ?? '').startsWith('http://127.0.0.1') ? ' (the sandbox prints each one here)' : ' (your bot sends them: your phone buzzes for sandbox payments)'}`] : []),
    ...(emailBindings(toml).get('') ? ['E-mail alerts: wrangler writes each to a .eml file and logs its path here ("send_email binding called")'] : []),
  ];
  if (port !== 8787) vars.push(`KP_RETURN_URLS:${origin}/,http://localhost:${port}/`, `KP_RETURN_URL:${origin}/`, `KP_ALLOWED_ORIGINS:http://localhost:${port},${origin}`);
  const interactive = process.stdin.isTTY ? [] : ['--show-interactive-dev-session=false'];
  const worker = spawn(wrangler[0], [...wrangler.slice(1), 'dev', '--ip', '127.0.0.1', '--port', String(port), ...interactive, ...vars.flatMap((v) => ['--var', v]), ...extra], {
    stdio: ['inherit', 'inherit', 'inherit'], detached: true,
    env: { ...WRANGLER_ENV, ...process.env },
  });
  worker.on('error', (e) => { console.error(`kelantanpay-worker: cannot start wrangler (${e.message}); run npm install`); stop(1); });
  // The URL is printed once the Worker answers, not when wrangler says it listens.
  const deadline = Date.now() + 300_000;
  const poll = async () => {
    if (stopping) return;
    try {
      const r = await fetch(`${origin}/api/health`, { signal: AbortSignal.timeout(2_000) });
      await r.arrayBuffer();
      if (r.ok) {
        // One write, so a reader never sees the storefront's line without the inbox's.
        console.log([`\nStorefront: ${origin}/   (sandbox gateway on http://127.0.0.1:${sandboxPort}; Ctrl-C stops both)`,
          ...(inbox ? [`Order inbox: ${origin}/admin   (sign in with KP_ADMIN_TOKEN from .dev.vars)`] : []), ...alertLines].join('\n'));
        return;
      }
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
