#!/usr/bin/env bash
# `make test` after set-up: the Rust gates, then every JS suite against the built artifacts.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
section() { printf '\n\033[1m==== %s\033[0m\n' "$*"; }

section "cargo fmt --check"
cargo fmt --all --check
section "layers (scripts/check-layers.mjs: pure folders name no runtime, imports run downward, no circle, each type name once)"
node scripts/check-layers.mjs
section "clippy (native, -D warnings)"
cargo clippy --workspace --all-targets --locked -- -D warnings
section "clippy (wasm32: worker and npm crates)"
cargo clippy -p kelantanpay-worker -p kelantanpay-js --target wasm32-unknown-unknown --locked -- -D warnings
cargo clippy -p kelantanpay-worker --features settings-check --target wasm32-unknown-unknown --locked -- -D warnings
section "cargo test (core and the Worker's pure parts, native)"
# The Worker crate's unit tests (signing, error mapping, ...) touch no JS, so they run natively;
# the npm crate's tests are wasm-bindgen-test in Node (scripts/test-npm.sh).
cargo test --workspace --exclude kelantanpay-js --locked

section "build the Worker"
bash scripts/build-worker.sh
section "wrangler deploy --dry-run (bindings, rate limiters, the D1 ledger, migrations, assets; both environments)"
dry="$(mktemp -d)"
trap 'rm -rf "$dry"' EXIT
for env in "" production; do
  out="$dry/${env:-default}"
  log="$(npx wrangler deploy --dry-run --outdir "$out" ${env:+--env "$env"} 2>&1)" || { echo "$log"; exit 1; }
  for want in 'env.PAYMENTS (PaymentObject)' 'env.CLIENTS (ClientBucket)' 'env.ORDERS (OrderIndex)' 'env.ASSETS' \
    'env.STATUS_LIMIT (300 requests/60s)' 'env.STATUS_NETWORK_LIMIT (4800 requests/60s)' 'env.LEDGER (kelantanpay-ledger)' '--dry-run: exiting now.'; do
    grep -qF -- "$want" <<<"$log" || { echo "$log"; echo "wrangler deploy --dry-run ${env:+--env $env }did not report: $want" >&2; exit 1; }
  done
  compgen -G "$out/*.wasm" >/dev/null || { echo "no wasm in the dry-run bundle ($out)" >&2; exit 1; }
done
# A production deploy must never point at the sandbox (or anything local).
prod_base="$(grep -F 'env.KP_BASE_URL' <<<"$log" || true)"
if [ "$prod_base" != "${prod_base/127.0.0.1/}" ] || [ "$prod_base" != "${prod_base/localhost/}" ] || ! grep -qF '"https://payment.kelantanpay.com"' <<<"$prod_base"; then
  echo "$log"; echo "the production environment's KP_BASE_URL is not https://payment.kelantanpay.com" >&2; exit 1
fi
echo "both environments bundle; production KP_BASE_URL is https://payment.kelantanpay.com"
section "merchant packages (kelantanpay-worker, create-kelantanpay) into build/packages"
bash scripts/build-worker-package.sh
section "npm package: build, wasm-bindgen-test in Node, tests/npm"
bash scripts/test-npm.sh

suites=()
for dir in tests/sandbox tests/support tests/www tests/e2e tests/reliability tests/browser tests/merchant; do
  if compgen -G "$dir/*.test.mjs" >/dev/null; then suites+=("$dir/"); fi
done
section "node --test ${suites[*]}"
# One file at a time: each starts its own servers, and two cores are better spent on one workerd.
node --test --test-concurrency=1 --test-timeout=300000 "${suites[@]}"
