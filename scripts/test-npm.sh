#!/usr/bin/env bash
# The npm package: build pkg/, run the wasm-bindgen tests of the JS surface in Node against a
# sandbox, then pack the package, install the tarball into a throwaway project outside the
# repo, and run tests/npm/ against that install (Node 20.0 and 22, Bun, Deno, esbuild
# bundles, workerd, tsc, publint, arethetypeswrong).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/build-npm.sh
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$ROOT/.tools/bin/wasm-bindgen-test-runner"
export WASM_BINDGEN_TEST_TIMEOUT=60
node scripts/with-sandbox.mjs cargo test -p kelantanpay-js --target wasm32-unknown-unknown --locked
KP_NPM_PROJECT="$(node tests/npm/project.mjs)"
export KP_NPM_PROJECT
trap 'rm -rf "$KP_NPM_PROJECT"' EXIT
node --test --test-timeout=120000 tests/npm/
