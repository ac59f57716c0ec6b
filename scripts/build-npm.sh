#!/usr/bin/env bash
# Builds the npm package into pkg/: pkg/node (CommonJS, Node) and pkg/esm (ES module for
# Workers and bundlers that import .wasm as a module), each wasm shrunk with wasm-opt, plus entry points and package.json.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
cargo build -p kelantanpay-js --release --target wasm32-unknown-unknown --locked
wasm=target/wasm32-unknown-unknown/release/kelantanpay_js.wasm
rm -rf pkg
wasm-bindgen --target nodejs --out-dir pkg/node --out-name kelantanpay "$wasm"
wasm-bindgen --target web --out-dir pkg/esm --out-name kelantanpay "$wasm"
for file in pkg/node/kelantanpay_bg.wasm pkg/esm/kelantanpay_bg.wasm; do
  # MVP features plus the two every supported runtime has; no GC types, which Node 20 rejects.
  "$WASM_OPT_BIN" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals "$file" -o "$file"
done
cp -r js/package/. pkg/
version="$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)"
sed -i "s/\"version\": \"0.0.0\"/\"version\": \"$version\"/" pkg/package.json
echo "built pkg/ (kelantanpay $version)"
