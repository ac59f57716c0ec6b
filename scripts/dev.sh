#!/usr/bin/env bash
# `make dev`: the sandbox on :8788 and the Worker (serving www/) on :8787, one URL printed,
# Ctrl-C stops both. Each server runs in its own process group so nothing outlives us.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
mkdir -p .wrangler
SANDBOX_LOG=.wrangler/sandbox.log WORKER_LOG=.wrangler/worker.log
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped sandbox and Worker"
}
trap cleanup INT TERM EXIT

for port in 8787 8788; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use: stop what runs there (an earlier make dev?)" >&2
    exit 1
  fi
done

setsid node sandbox/server.mjs --port 8788 >"$SANDBOX_LOG" 2>&1 &
pids+=($!)
setsid npx wrangler dev --ip 127.0.0.1 --port 8787 --log-level warn >"$WORKER_LOG" 2>&1 &
pids+=($!)

wait_for() { # url, what, seconds
  for _ in $(seq 1 "$3"); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "$2 exited; its log:" >&2; tail -n 40 "$SANDBOX_LOG" "$WORKER_LOG" >&2; exit 1; }
    done
    sleep 1
  done
  echo "$2 did not start within $3 s; logs in $SANDBOX_LOG and $WORKER_LOG" >&2
  exit 1
}
wait_for http://127.0.0.1:8788/__sandbox/stats "the sandbox" 30
# The first run compiles the Worker (a few minutes); later runs take seconds.
wait_for http://127.0.0.1:8787/api/health "the Worker" 900

echo
echo "Storefront: http://127.0.0.1:8787/"
echo "(sandbox gateway at http://127.0.0.1:8788, logs in .wrangler/; Ctrl-C stops everything)"
wait -n "${pids[@]}" || true
