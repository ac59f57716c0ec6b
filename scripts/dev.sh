#!/usr/bin/env bash
# `make dev`: the sandbox on :8788 and the Worker (serving www/) on :8787, the storefront and the
# order inbox's URLs printed (with the dev admin token from .dev.vars, which `make setup` makes),
# Ctrl-C stops both. Each server runs in its own process group so nothing outlives us. The local
# D1 ledger (LEDGER, in .wrangler/state) is created and migrated first: wrangler applies only the
# migrations it has not applied yet, so a re-run changes nothing. Alerts (README "Alerts") show on
# this terminal: the sandbox, standing in for Telegram's Bot API, prints each message in a box (on
# its stderr, left here), and wrangler's local send_email logs each e-mail's file (those lines of
# the Worker's log are shown here too).
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

# stdin from /dev/null: non-interactive, wrangler applies without asking.
echo "local D1 ledger: wrangler d1 migrations apply LEDGER --local"
if ! npx wrangler d1 migrations apply LEDGER --local </dev/null >.wrangler/migrations.log 2>&1; then
  cat .wrangler/migrations.log >&2
  echo "could not migrate the local D1 ledger (log above, also in .wrangler/migrations.log)" >&2
  exit 1
fi

setsid node sandbox/server.mjs --port 8788 >"$SANDBOX_LOG" &
pids+=($!)
: >"$WORKER_LOG"
# info: wrangler logs local send_email calls at info level.
setsid npx wrangler dev --ip 127.0.0.1 --port 8787 --log-level info >"$WORKER_LOG" 2>&1 &
pids+=($!)
setsid bash -c 'tail -n 0 -F "$1" 2>/dev/null | grep --line-buffered --no-group-separator -A1 "send_email binding called"' _ "$WORKER_LOG" &
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

admin_token="$(sed -n 's/^KP_ADMIN_TOKEN=//p' .dev.vars | tail -n 1)"
echo
echo "Storefront:  http://127.0.0.1:8787/"
echo "Order inbox: http://127.0.0.1:8787/admin   (sign in with the dev admin token below)"
echo "Admin token: ${admin_token:-none: add KP_ADMIN_TOKEN to .dev.vars (make setup does)}"
[ -z "$admin_token" ] || echo "             curl -H 'Authorization: Bearer $admin_token' http://127.0.0.1:8787/admin/api/orders"
echo "Alerts:      Telegram messages in a box below (the sandbox stands in for the Bot API; also at"
echo "             http://127.0.0.1:8788/telegram/messages); e-mails as the .eml files wrangler logs below"
echo "(sandbox gateway at http://127.0.0.1:8788, logs in .wrangler/; Ctrl-C stops everything)"
wait -n "${pids[@]}" || true
