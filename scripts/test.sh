#!/usr/bin/env bash
# `make test` after set-up: the Rust gates, then every JS suite against the built artifacts.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
section() { printf '\n\033[1m==== %s\033[0m\n' "$*"; }

section "cargo fmt --check"
cargo fmt --all --check
section "clippy (native, -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings
section "clippy (wasm32: worker and npm crates)"
cargo clippy -p kelantanpay-worker -p kelantanpay-js --target wasm32-unknown-unknown --locked -- -D warnings
section "cargo test (core, native)"
cargo test --workspace --exclude kelantanpay-worker --exclude kelantanpay-js --locked

section "build the Worker"
bash scripts/build-worker.sh
section "npm package: build, wasm-bindgen-test in Node, tests/npm"
bash scripts/test-npm.sh

suites=()
for dir in tests/sandbox tests/support tests/www tests/e2e tests/reliability tests/browser; do
  if compgen -G "$dir/*.test.mjs" >/dev/null; then suites+=("$dir/"); fi
done
section "node --test ${suites[*]}"
# One file at a time: each starts its own servers, and two cores are better spent on one workerd.
node --test --test-concurrency=1 --test-timeout=300000 "${suites[@]}"
