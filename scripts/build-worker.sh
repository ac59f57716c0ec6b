#!/usr/bin/env bash
# Builds the Worker into worker/build/ (also wrangler.toml's [build] command). Skips the build when
# nothing it is made from changed since the last one, so a second `make dev` starts in seconds.
#   --profiling   the same optimised Worker with its function names kept, into
#                 worker/build-profiling/ (Cargo profile `profiling`; for bench/profile.mjs only)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
out=build
# wasm-opt runs here, not in worker-build (whose `-O` inlines for speed first, which a size pass
# after it cannot undo): see the size pass below.
args=(--release --no-opt)
if [ "${1:-}" = "--profiling" ]; then
  out=build-profiling
  # wasm-opt drops the names section unless told -g, so it runs here instead of in worker-build.
  args=(--profile profiling --no-opt --out-dir "$out")
fi
stamp="worker/$out/.inputs"
inputs="$(find src worker/src worker/js -type f -print0 | sort -z | xargs -0 sha256sum; sha256sum Cargo.toml Cargo.lock worker/Cargo.toml scripts/build-worker.sh; echo "$WASM_BINDGEN_VERSION $WORKER_BUILD_VERSION")"
hash="$(printf '%s' "$inputs" | sha256sum | cut -d' ' -f1)"
if [ -f "worker/$out/entry.mjs" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
  echo "worker/$out is up to date"
  exit 0
fi
(cd worker && worker-build "${args[@]}")
# One size pass over wasm-bindgen's output, repeated until nothing shrinks (worker-build leaves
# the module's code as wasm-opt wrote it; it rewrites only the JS glue). `--low-memory-unused`:
# rustc puts the 1 MiB stack first in memory, so the low 1 KiB is the bottom of the stack,
# reached only by a stack 1 MiB deep; binaryen may then fold small constant offsets into loads
# and stores (about 900 bytes gzip). `--one-caller-inline-max-function-size=20`: a function with
# one caller is inlined only when small (0.4-1 KB gzip; it gains nothing after a `-O` pass has
# inlined already, so there is none before it). The best size moves with the code by a hundred
# bytes or so (issue 29: 20 and 30 each the smaller on some builds): measure 20 and 30 again
# when the code changes much.
if [ "$out" = build ]; then
  "$WASM_OPT_BIN" -Oz --converge --low-memory-unused --one-caller-inline-max-function-size=20 \
    --enable-exception-handling --enable-reference-types \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    --enable-multivalue "worker/$out/index_bg.wasm" -o "worker/$out/index_bg.wasm"
fi
if [ "$out" = build-profiling ]; then
  "$WASM_OPT_BIN" -O -g --enable-exception-handling --enable-reference-types --enable-bulk-memory \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-multivalue \
    "worker/$out/index_bg.wasm" -o "worker/$out/index_bg.wasm"
fi
# The entry module (wrangler.toml `main`): the driver that steps each request's Rust machine, and
# each object in a JS class that extends DurableObject so the Worker calls it over RPC.
cp worker/js/entry.mjs "worker/$out/entry.mjs"
echo "$hash" > "$stamp"
