// The Worker's own judgement of a table of settings: its Rust `Config::from_env` (every rule in
// worker/src/config), exported as `SettingsCheck.run` (worker/src/runtime/settings_check.rs) and
// loaded here from the Worker's crate compiled once, with JS glue made for Node (the deployed
// Worker's glue needs workerd): scripts/build-worker-package.sh stages it in settings/. Both the
// scaffolder and `kelantanpay-worker check` ask it, so each rule stays in one place.
let rules;
try {
  rules = await import(new URL('../settings/kelantanpay_settings.js', import.meta.url));
} catch (error) {
  throw new Error(`the Worker's settings check is not staged next to ${new URL('.', import.meta.url).pathname} (${error.code ?? error.message}): `
    + 'this package is built by scripts/build-worker-package.sh; install it from npm or from build/packages/, never from packages/');
}

/**
 * `{ problems, warnings }` as the Worker's /api/health would list them for these settings (names
 * to text; anything else reads as absent). `secretsElsewhere`: a secret the table lacks is taken as
 * set with `wrangler secret put` (a toml holds no secrets), so only the vars are judged.
 */
export function judge(vars, { secretsElsewhere = false } = {}) {
  // name NUL value NUL ... (a NUL inside a value, which no setting may hold, becomes another control character)
  const table = Object.entries(vars).filter(([, v]) => typeof v === 'string').flat().map((t) => t.replaceAll('\0', '\x01')).join('\0');
  const [problems, warnings] = rules.SettingsCheck.run(table, secretsElsewhere).split('\0').map((t) => (t ? t.split('\n') : []));
  return { problems, warnings };
}

/** `.dev.vars` (KEY=value lines, as wrangler reads them) as a table. */
export function devVars(text) {
  const out = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m && !line.trim().startsWith('#')) out[m[1]] = m[2].replace(/^(["'])(.*)\1$/, '$2');
  }
  return out;
}
