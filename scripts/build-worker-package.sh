#!/usr/bin/env bash
# Stages the two merchant packages in build/packages/ (git-ignored), ready for `npm pack`:
#   kelantanpay-worker   the built Worker (entry module, generated JS, wasm, the ledger's D1
#                        migrations in worker/migrations/), the storefront and
#                        drop-in script (www/), the sandbox (bin kelantanpay-sandbox), bin/, README
#   create-kelantanpay   `npm create kelantanpay` (with the same D1 migrations, which it copies
#                        into a new project's migrations/)
# Both carry the npm package's version (js/package/package.json), so a project made by create N
# pins kelantanpay-worker N. The Worker's wasm has the Worker build's budget (README, "Worker size").
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
BUDGET_BYTES=$((240 * 1024)) # round 28 (the order inbox): the lead's new Worker budget
bash scripts/build-worker.sh
# The Worker's settings check for Node (packages/worker/lib/settings.mjs asks it, for
# `kelantanpay-worker check` and create-kelantanpay): the Worker's own crate with its
# `settings-check` feature (profile `settings`, its own target directory; the deployed Worker
# leaves the export out), with wasm-bindgen's glue for Node instead of worker-build's for workerd,
# whose exception-handling opcodes Node 20 cannot compile. The rules stay in worker/src/config.
(cd worker && WASM_BINDGEN_USE_JS_SYS=1 cargo build --lib --profile settings --features settings-check --target wasm32-unknown-unknown --locked --quiet)
settings="$(mktemp -d)"
trap 'rm -rf "$settings"' EXIT
wasm-bindgen --target experimental-nodejs-module --out-name kelantanpay_settings --no-typescript \
  --out-dir "$settings" target/wasm32-unknown-unknown/settings/kelantanpay_worker.wasm
# The Worker's crate names workerd's own modules (`cloudflare:email`'s EmailMessage, for the e-mail
# alerts' send_email binding), which Node has not: the settings check never calls them, so each is
# a stub module whose classes refuse to be made.
node --input-type=module -e '
import { readFileSync, writeFileSync } from "node:fs";
const glue = `${process.argv[1]}/kelantanpay_settings.js`;
let text = readFileSync(glue, "utf8");
text = text.replace(/import \{([^}]*)\} from (["\x27])cloudflare:([a-z_-]+)\2;/g, (_, names, q, mod) => {
  const stub = `cloudflare-${mod}.stub.js`;
  writeFileSync(`${process.argv[1]}/${stub}`, names.split(",").map((n) => n.trim()).filter(Boolean)
    .map((n) => `export class ${n} { constructor() { throw new Error("cloudflare:${mod} is workerd only"); } }\n`).join(""));
  return `import {${names}} from ${q}./${stub}${q};`;
});
writeFileSync(glue, text);' "$settings"
# migrations.json is the packages' copy of wrangler.toml's [[migrations]]: they must agree.
node --input-type=module -e '
import { readFileSync } from "node:fs";
import { unstable_readConfig } from "wrangler";
const repo = unstable_readConfig({ config: "wrangler.toml" }, { hideWarnings: true }).migrations;
const shipped = JSON.parse(readFileSync("packages/worker/migrations.json", "utf8"));
if (JSON.stringify(repo) !== JSON.stringify(shipped)) {
  console.error("packages/worker/migrations.json differs from wrangler.toml [[migrations]]:\n" + JSON.stringify(repo));
  process.exit(1);
}'
version="$(node -p "require('./js/package/package.json').version")"
out=build/packages
worker="$out/kelantanpay-worker" create="$out/create-kelantanpay"
rm -rf "$worker" "$create"
mkdir -p "$worker/worker/migrations" "$worker/sandbox" "$create/migrations"
cp -r packages/worker/. "$worker/"
cp worker/build/entry.mjs worker/build/index.js worker/build/index_bg.wasm "$worker/worker/"
cp worker/migrations/*.sql "$worker/worker/migrations/"
cp worker/migrations/*.sql "$create/migrations/"
cp -r www "$worker/www"
cp sandbox/*.mjs sandbox/README.md "$worker/sandbox/"
cp -r packages/create-kelantanpay/. "$create/"
cp packages/worker/migrations.json "$create/"
mkdir -p "$create/lib"
cp packages/worker/lib/settings.mjs packages/worker/lib/toml.mjs packages/worker/lib/alerts.mjs "$create/lib/"
cp -r "$settings" "$worker/settings"
cp -r "$settings" "$create/settings"
chmod -R a+rX "$worker/settings" "$create/settings"
for p in "$worker" "$create"; do
  node -e 'const fs = require("fs"); const f = process.argv[1] + "/package.json";
    const p = JSON.parse(fs.readFileSync(f, "utf8")); p.version = process.argv[2];
    fs.writeFileSync(f, JSON.stringify(p, null, 2) + "\n");' "$p" "$version"
done
# The fragment merchants copy from must carry every migration too, and its LEDGER binding's
# migrations_dir hold the shipped D1 migrations once copied as it says (checked as a project would
# have it: the fragment as wrangler.toml, the .sql files in its migrations_dir).
fragment="$(mktemp -d)"
trap 'rm -rf "$settings" "$fragment"' EXIT
cp packages/worker/wrangler.fragment.toml "$fragment/wrangler.toml"
mkdir -p "$fragment/migrations" && cp "$worker"/worker/migrations/*.sql "$fragment/migrations/"
node "$worker/bin/kelantanpay-worker.mjs" check "$fragment/wrangler.toml" >/dev/null
gz="$(gzip -9 -c "$worker/worker/index_bg.wasm" | wc -c)"
printf 'staged %s and %s %s; Worker wasm %s bytes gzip (budget %s)\n' "$worker" "$create" "$version" "$gz" "$BUDGET_BYTES"
if [ "$gz" -gt "$BUDGET_BYTES" ]; then
  echo "kelantanpay-worker: the Worker's wasm is over its size budget" >&2
  exit 1
fi
