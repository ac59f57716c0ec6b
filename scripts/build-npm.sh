#!/usr/bin/env bash
# Builds the npm package into pkg/: one wasm (shrunk with wasm-opt), the wasm-bindgen glue
# bundled with the package's JS by esbuild into dist/node.cjs (wasm inlined: loads on Node
# 20.0+, Bun, Deno, and bundles for Node without a loader), dist/node.mjs (the same instance
# for `import`) and dist/workerd.mjs (imports kelantanpay_bg.wasm as a module, for Workers),
# the sandbox (bin kelantanpay-sandbox), plus the declarations, README, CHANGELOG, licences and package.json.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
cargo build -p kelantanpay-js --release --target wasm32-unknown-unknown --locked
wasm=target/wasm32-unknown-unknown/release/kelantanpay_js.wasm
work=target/npm-build
rm -rf pkg "$work"
mkdir -p "$work" pkg/dist
wasm-bindgen --target web --no-typescript --out-dir "$work/glue" --out-name kelantanpay "$wasm"
# The flags, and why each: scripts/npm-wasm-opt.flags (bench/wasm-top.mjs reads the same file).
mapfile -t opt_flags < <(grep -v -e '^#' -e '^$' scripts/npm-wasm-opt.flags)
"$WASM_OPT_BIN" "${opt_flags[@]}" \
  "$work/glue/kelantanpay_bg.wasm" -o pkg/kelantanpay_bg.wasm
cp pkg/kelantanpay_bg.wasm "$work/kelantanpay_bg.wasm"
cp -r js/package/src "$work/src"
esbuild=(node_modules/.bin/esbuild --bundle --log-level=warning --legal-comments=none --log-override:empty-import-meta=silent)
"${esbuild[@]}" "$work/src/node.mjs" --platform=node --format=cjs --target=node20 \
  --loader:.wasm=binary --outfile=pkg/dist/node.cjs
"${esbuild[@]}" "$work/src/workerd.mjs" --platform=neutral --format=esm --target=es2022 \
  '--external:*.wasm' --outfile=pkg/dist/workerd.mjs
cp js/package/src/node-esm.mjs pkg/dist/node.mjs
cp js/package/index.d.ts pkg/index.d.mts
cp js/package/index.d.ts pkg/index.d.cts
# The sandbox as the package's `kelantanpay-sandbox` bin (plain Node, no dependencies).
mkdir -p pkg/sandbox
cp sandbox/*.mjs sandbox/README.md pkg/sandbox/   # every module the bin imports (the sandbox has no test-only modules)
cp js/package/README.md js/package/CHANGELOG.md js/package/LICENSE-MIT js/package/LICENSE-APACHE js/package/package.json pkg/
version="$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)"
sed -i "s/\"version\": \"0.0.0\"/\"version\": \"$version\"/" pkg/package.json
echo "built pkg/ (kelantanpay $version)"
