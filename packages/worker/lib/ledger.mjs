// The order inbox's side of a project's wrangler.toml, as pure functions of its text and of the
// migrations this package ships (worker/migrations/*.sql): the LEDGER D1 binding of each
// environment and what its migrations_dir lacks. bin/kelantanpay-worker.mjs does the I/O (`check`,
// `migrate`, `dev`). Without a LEDGER binding the Worker runs as v2 (no inbox): a note, not a
// failure. With one, every shipped migration must be in its migrations_dir, unchanged: wrangler
// applies what that folder holds, and the Worker writes rows the shipped schema describes.

import { bindingBlocks } from './toml.mjs';

export const BINDING = 'LEDGER';
/** wrangler's default `migrations_dir`. */
export const DEFAULT_DIR = 'migrations';

/**
 * The LEDGER `[[d1_databases]]` block of each environment ('' = top level; every [env.X] the toml
 * names, since D1 bindings are not inherited), or null where there is none:
 * `{ binding, database_name, database_id, migrations_dir }` (strings, or undefined).
 */
export function ledgerBindings(toml) {
  return new Map([...bindingBlocks(toml, 'd1_databases', 'binding', BINDING)].map(([env, f]) => [env, f && {
    binding: f.binding, database_name: f.database_name, database_id: f.database_id, migrations_dir: f.migrations_dir,
  }]));
}

/**
 * What a migrations_dir holding `have` (file name -> text, or null when the folder is missing)
 * lacks of `shipped` ([{ name, text }]): `{ missing: [names], changed: [names], absent: bool }`.
 * Comments (`-- ...` to the end of a line) and spacing are not a change; any other text is.
 */
export function migrationGaps(shipped, have) {
  if (have === null) return { absent: true, missing: shipped.map((m) => m.name), changed: [] };
  const sql = (t) => t.replace(/--[^\n]*/g, ' ').replace(/\s+/g, ' ').trim();
  const same = (a, b) => sql(a) === sql(b);
  return {
    absent: false,
    missing: shipped.filter((m) => !have.has(m.name)).map((m) => m.name),
    changed: shipped.filter((m) => have.has(m.name) && !same(have.get(m.name), m.text)).map((m) => m.name),
  };
}

const where = (file, env) => `${file}${env ? ` [env.${env}]` : ''}`;
const block = (env) => `[[${env ? `env.${env}.` : ''}d1_databases]]`;

/** The note for an environment without LEDGER: what the inbox is and how to turn it on there. */
export function inboxOffNote(file, env, projectName = 'my-payments') {
  const database = `${projectName}-ledger`;
  const copy = `copy node_modules/kelantanpay-worker/worker/migrations/*.sql into ${DEFAULT_DIR}/`;
  const how = env
    ? `To turn it on there: npx wrangler d1 create ${database}, then add to ${file}\n`
      + `  ${block(env)}\n  binding = "${BINDING}"\n  database_name = "${database}"\n`
      + `  database_id = "<the id wrangler printed>"\n  migrations_dir = "${DEFAULT_DIR}"\n`
      + `  ${copy}, and set KP_ADMIN_TOKEN (npx wrangler secret put KP_ADMIN_TOKEN --env ${env}) or Cloudflare Access`
    : `To turn it on: add to ${file}\n`
      + `  ${block(env)}\n  binding = "${BINDING}"\n  database_name = "${database}"\n  migrations_dir = "${DEFAULT_DIR}"\n`
      + `  (locally no database_id is needed), ${copy}, add "/admin", "/admin/*" to [assets] run_worker_first, `
      + 'and KP_ADMIN_TOKEN (32+ random characters) to .dev.vars';
  return `${where(file, env)} has no ${BINDING} D1 binding: the order inbox (/admin) is off and the Worker runs as v2. `
    + `${how} (package README, "The order inbox").`;
}

/**
 * Whether `[assets] run_worker_first` sends /admin and /admin/* to the Worker (without them the
 * inbox's page is looked up among the static files: a 404). true when there is no such list
 * (no [assets], or every path already reaches the Worker).
 */
export function adminRouted(toml) {
  const list = /^\s*run_worker_first\s*=\s*(\[[^\]]*\]|true|false)/m.exec(toml)?.[1];
  if (list === undefined || list === 'true') return true;
  if (list === 'false') return false;
  const paths = [...list.matchAll(/["']([^"']*)["']/g)].map((m) => m[1]);
  return ['/admin', '/admin/*'].every((p) => paths.includes(p) || paths.includes('/*'));
}

/**
 * Whether the toml schedules the Worker at all (`[triggers] crons` with one entry or more, at the
 * top level or in an environment): the ledger's retention sweep runs from that cron, and without
 * one orders stay past KP_LEDGER_RETENTION_DAYS.
 */
export function hasCron(toml) {
  return /^\s*crons\s*=\s*\[\s*["']/m.test(toml);
}

/** The failure for a migrations_dir that lacks shipped migrations, with the command that fixes it. */
export function gapsText(file, env, dir, gaps) {
  const lines = [];
  if (gaps.absent) lines.push(`${where(file, env)}: the ${BINDING} binding's migrations_dir ${dir} does not exist`);
  else if (gaps.missing.length) lines.push(`${where(file, env)}: ${dir} lacks the ledger's migration${gaps.missing.length > 1 ? 's' : ''} ${gaps.missing.join(', ')}`);
  if (gaps.changed.length) {
    lines.push(`${where(file, env)}: ${dir}/${gaps.changed.join(', ')} differ${gaps.changed.length > 1 ? '' : 's'} from the one this version ships `
      + '(an applied migration is never applied again: restore it, and put changes of your own in a new file)');
  }
  if (gaps.absent || gaps.missing.length) {
    lines.push(`  copy them: mkdir -p ${dir} && cp -n node_modules/kelantanpay-worker/worker/migrations/*.sql ${dir}/`);
  }
  return lines.join('\n');
}
