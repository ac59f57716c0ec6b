#!/usr/bin/env bash
# Builds the Worker into worker/build/ (also wrangler.toml's [build] command). Skips the build when
# nothing it is made from changed since the last one, so a second `make dev` starts in seconds.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
stamp=worker/build/.inputs
inputs="$(find src worker/src -type f -print0 | sort -z | xargs -0 sha256sum; sha256sum Cargo.toml Cargo.lock worker/Cargo.toml; echo "$WASM_BINDGEN_VERSION $WORKER_BUILD_VERSION")"
hash="$(printf '%s' "$inputs" | sha256sum | cut -d' ' -f1)"
if [ -f worker/build/index.js ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
  echo "worker/build is up to date"
  exit 0
fi
(cd worker && worker-build --release)
echo "$hash" > "$stamp"
