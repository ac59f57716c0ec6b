#!/usr/bin/env bash
# `.dev.vars`, the local secrets that `make dev` needs (called by scripts/setup.sh; idempotent):
#   - none yet: a copy of .dev.vars.example (mode 600) with a fresh secret for every placeholder;
#   - one copied by hand from the example: the placeholders replaced in place, every other line kept;
#   - one from before the order inbox: a dev admin token (KP_ADMIN_TOKEN) added at its end;
#   - one from before alerts: the example's alert lines (a fresh dev bot token, the sandbox's Bot
#     API, the dev chat and e-mail addresses) added at its end, each only if its name is missing;
#   - otherwise untouched.
# Every secret the example carries (KP_SIGNING_SECRET, KP_IDEMPOTENCY_SECRET, KP_ADMIN_TOKEN) holds
# the placeholder below, which the Worker refuses (a published key: worker/src/config/secrets.rs);
# each gets 32 random bytes in hex. Usage: dev-vars.sh [FILE] (default: .dev.vars in the checkout).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
file="${1:-$ROOT/.dev.vars}"
example="$ROOT/.dev.vars.example"
PLACEHOLDER=replace-with-32-random-bytes-in-hex
BOT_PLACEHOLDER=replace-with-a-dev-bot-token
ALERTS=(KP_TELEGRAM_BOT_TOKEN KP_TELEGRAM_CHAT_ID KP_TELEGRAM_API_URL KP_NOTIFY_EMAIL_FROM KP_NOTIFY_EMAIL_TO KP_NOTIFY_ON)

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
skip() { printf '    %s (already there)\n' "$*"; }
random_hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
# A dev bot token shaped as Telegram's (<bot id>:<35 characters>); only the sandbox ever sees it.
dev_bot_token() { printf '7%09d:AA%s' "$(od -An -N4 -tu4 /dev/urandom | tr -d ' \n' | cut -c1-9)" "$(random_hex | cut -c1-33)"; }
fresh_secrets() { # file: each placeholder secret replaced by a fresh one, in place
  local name
  for name in KP_SIGNING_SECRET KP_IDEMPOTENCY_SECRET KP_ADMIN_TOKEN; do
    sed -i "s/^$name=$PLACEHOLDER\$/$name=$(random_hex)/" "$1"
  done
  sed -i "s/^KP_TELEGRAM_BOT_TOKEN=$BOT_PLACEHOLDER\$/KP_TELEGRAM_BOT_TOKEN=$(dev_bot_token)/" "$1"
}

if [ ! -f "$file" ]; then
  step "create .dev.vars from .dev.vars.example with fresh secrets and a dev admin token"
  (umask 077 && cp "$example" "$file.partial") && fresh_secrets "$file.partial" && mv "$file.partial" "$file"
elif grep -q -e "=$PLACEHOLDER\$" -e "^KP_TELEGRAM_BOT_TOKEN=$BOT_PLACEHOLDER\$" "$file"; then
  step ".dev.vars: replace the example's placeholder secrets with fresh ones"
  fresh_secrets "$file"
else
  skip ".dev.vars"
fi
# A .dev.vars from before the order inbox has no admin token: `make dev` prints the one added here.
if ! grep -q '^KP_ADMIN_TOKEN=' "$file"; then
  step ".dev.vars: add a dev admin token (KP_ADMIN_TOKEN) for the order inbox"
  if [ -n "$(tail -c1 "$file")" ]; then echo >> "$file"; fi
  printf '# The order inbox (/admin): the dev admin token, made by scripts/dev-vars.sh.\nKP_ADMIN_TOKEN=%s\n' "$(random_hex)" >> "$file"
else
  skip ".dev.vars KP_ADMIN_TOKEN"
fi
# A .dev.vars from before alerts: the example's alert lines whose names it lacks (a developer's own
# token or chat stays as it is), with a fresh dev bot token.
missing=()
for name in "${ALERTS[@]}"; do grep -q "^$name=" "$file" || missing+=("$name"); done
if [ "${#missing[@]}" -gt 0 ]; then
  step ".dev.vars: add the dev alert settings (${missing[*]}): Telegram to the sandbox, e-mail through wrangler"
  if [ -n "$(tail -c1 "$file")" ]; then echo >> "$file"; fi
  echo "# Alerts under make dev (README \"Alerts\"), added by scripts/dev-vars.sh." >> "$file"
  for name in "${missing[@]}"; do
    line="$(grep "^$name=" "$example")"
    [ "$name" = KP_TELEGRAM_BOT_TOKEN ] && line="KP_TELEGRAM_BOT_TOKEN=$(dev_bot_token)"
    echo "$line" >> "$file"
  done
else
  skip ".dev.vars alerts"
fi
