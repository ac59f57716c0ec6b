// What `kelantanpay-worker check` reads in a project's wrangler.toml, as pure functions of its text:
// the [[migrations]] it has against the ones this version needs, the migrations among those that
// delete a class, the status limit's rate limiting bindings, and the [vars] of each environment.
// bin/kelantanpay-worker.mjs is the CLI; lib/settings.mjs judges the vars with the Worker's rules.

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

export function render(m, env) {
  const key = env ? `env.${env}.migrations` : 'migrations';
  const lines = [`[[${key}]]`, `tag = "${m.tag}"`];
  for (const k of ['new_sqlite_classes', 'deleted_classes']) {
    if (m[k]) lines.push(`${k} = [${m[k].map((c) => `"${c}"`).join(', ')}]`);
  }
  return lines.join('\n');
}

/** The migrations of `wanted` (this version's migrations.json) that `toml` lacks: `{ env, migration, text }`. */
export function check(toml, wanted) {
  const problems = [];
  for (const [env, have] of migrationTags(toml)) {
    if (env !== '' && have.length === 0) continue; // an environment inherits the top level's
    const missing = wanted.filter((m) => !have.includes(m.tag));
    for (const m of missing) problems.push({ env, migration: m, text: render(m, env) });
  }
  return problems;
}

/**
 * What deploying the missing migrations deletes, once per class: a deleted class's objects go with
 * every record they hold, so a payment still in flight there is no longer reconciled and its
 * webhook no longer retried. The text says so, naming the class and the migration.
 */
export function deletions(problems) {
  const seen = new Map();
  for (const { migration } of problems) {
    for (const cls of migration.deleted_classes ?? []) if (!seen.has(cls)) seen.set(cls, migration.tag);
  }
  return [...seen].map(([cls, tag]) => ({
    cls, tag,
    text: `WARNING: migration ${tag} deletes the Durable Object class ${cls}, and with it every record it holds. `
      + `Payments still in flight in ${cls} are then no longer reconciled, and their webhooks (payment.paid) are no longer sent or retried; `
      + 'their handles still verify and their status is still answered from a live requery. '
      + `Let pending payments settle (or record them elsewhere) before you deploy ${tag}.`,
  }));
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

// The [vars] of each environment ('' = top level, when it has a [vars] table; every [env.X], whose
// vars are its own [env.X.vars]: vars are not inherited). Strings as TOML reads them (basic, literal and multi-line); any other value
// is kept as `{ toml: text }`, which the Worker, like Env, reads as absent.
export function varTables(toml) {
  const tables = new Map();
  let current = null;
  let i = 0;
  while (i < toml.length) {
    const end = toml.indexOf('\n', i) < 0 ? toml.length : toml.indexOf('\n', i);
    const line = toml.slice(i, end).trim();
    if (line.startsWith('[')) {
      const env = /^\[\[?\s*env\.([A-Za-z0-9_-]+)[.\]]/.exec(line)?.[1];
      if (env !== undefined && !tables.has(env)) tables.set(env, {});
      const vars = /^\[\s*(?:env\.([A-Za-z0-9_-]+)\.)?vars\s*\](?:\s*#.*)?$/.exec(line);
      current = vars ? vars[1] ?? '' : null;
      if (current !== null && !tables.has(current)) tables.set(current, {});
      i = end + 1;
      continue;
    }
    const kv = current === null ? null : /^\s*([A-Za-z0-9_-]+|"[^"\\]*")\s*=\s*/.exec(toml.slice(i, end));
    if (!kv) { i = end + 1; continue; }
    const [value, next] = tomlValue(toml, i + kv[0].length);
    tables.get(current)[kv[1].replace(/^"|"$/g, '')] = value;
    const after = toml.indexOf('\n', next);
    i = after < 0 ? toml.length : after + 1;
  }
  return tables;
}

const ESCAPES = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\x1b', '"': '"', '\\': '\\' };
const unescape = (t) => t.replace(/\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))/g,
  (_, u, U, c) => (u || U ? String.fromCodePoint(parseInt(u ?? U, 16)) : ESCAPES[c] ?? c));
const escaped = (s, j) => { let n = 0; while (s[j - 1 - n] === '\\') n += 1; return n % 2 === 1; };

function tomlValue(s, i) {
  for (const [quote, literal] of [['"""', false], ["'''", true]]) {
    if (!s.startsWith(quote, i)) continue;
    let end = s.indexOf(quote, i + 3);
    while (!literal && end >= 0 && escaped(s, end)) end = s.indexOf(quote, end + 1);
    if (end < 0) return [undefined, s.length];
    while (s[end + 3] === quote[0]) end += 1; // up to two quotes just before the closing ones
    const body = s.slice(i + 3, end).replace(/^\r?\n/, '');
    return [literal ? body : unescape(body.replace(/\\[ \t]*\r?\n\s*/g, '')), end + 3];
  }
  if (s[i] === "'") {
    const end = s.indexOf("'", i + 1);
    return [s.slice(i + 1, end), end + 1];
  }
  if (s[i] === '"') {
    let end = i + 1;
    while (end < s.length && s[end] !== '"' && s[end] !== '\n') end += s[end] === '\\' ? 2 : 1;
    return [unescape(s.slice(i + 1, end)), end + 1];
  }
  const raw = /^[^\s#]*/.exec(s.slice(i))[0];
  return [{ toml: raw }, i + raw.length];
}

/**
 * The paths of `paths` that `[assets] run_worker_first` does not send to the Worker (they are then
 * looked up among the static files: a 404). None when there is no such list (no [assets], or
 * `true`: every path reaches the Worker); all of them for `false`.
 */
export function unrouted(toml, paths) {
  const list = /^\s*run_worker_first\s*=\s*(\[[^\]]*\]|true|false)/m.exec(toml)?.[1];
  if (list === undefined || list === 'true') return [];
  if (list === 'false') return [...paths];
  const have = [...list.matchAll(/["']([^"']*)["']/g)].map((m) => m[1]);
  return paths.filter((p) => !have.includes(p) && !have.includes('/*'));
}

/**
 * The `[[table]]` / `[[env.X.table]]` block whose `key` is `value` (a binding: a D1 database's
 * `binding`, a send_email's `name`), by environment ('' = top level; every [env.X] the toml names,
 * since bindings are not inherited): its string fields, or null where there is none.
 */
export function bindingBlocks(toml, table, key, value) {
  const found = new Map([['', null]]);
  const header = new RegExp(`^\\[\\[\\s*(?:env\\.([A-Za-z0-9_-]+)\\.)?${table}\\s*\\]\\](?:\\s*#.*)?$`);
  let current = null; // the block being read
  for (const raw of toml.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      const env = /^\[\[?\s*env\.([A-Za-z0-9_-]+)[.\]]/.exec(line)?.[1];
      if (env !== undefined && !found.has(env)) found.set(env, null);
      const block = header.exec(line);
      current = block ? { env: block[1] ?? '', fields: {} } : null;
      continue;
    }
    const kv = current && /^([a-z_]+)\s*=\s*(?:"([^"\\]*)"|'([^']*)')/.exec(line);
    if (!kv) continue;
    current.fields[kv[1]] = kv[2] ?? kv[3];
    if (kv[1] === key && current.fields[key] === value) found.set(current.env, current.fields);
  }
  return found;
}
