#!/usr/bin/env bash
# `.dev.vars`, the local secrets that `make dev` needs (called by scripts/setup.sh; idempotent):
#   - none yet: a copy of .dev.vars.example (mode 600) with a fresh secret for every placeholder;
#   - one copied by hand from the example: the placeholders replaced in place, every other line kept;
#   - one from before the order inbox: a dev admin token (KP_ADMIN_TOKEN) added at its end;
#   - otherwise untouched.
# Every secret the example carries (KP_SIGNING_SECRET, KP_IDEMPOTENCY_SECRET, KP_ADMIN_TOKEN) holds
# the placeholder below, which the Worker refuses (a published key: worker/src/config/secrets.rs);
# each gets 32 random bytes in hex. Usage: dev-vars.sh [FILE] (default: .dev.vars in the checkout).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
file="${1:-$ROOT/.dev.vars}"
example="$ROOT/.dev.vars.example"
PLACEHOLDER=replace-with-32-random-bytes-in-hex

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
skip() { printf '    %s (already there)\n' "$*"; }
random_hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
fresh_secrets() { # file: each placeholder secret replaced by a fresh one, in place
  local name
  for name in KP_SIGNING_SECRET KP_IDEMPOTENCY_SECRET KP_ADMIN_TOKEN; do
    sed -i "s/^$name=$PLACEHOLDER\$/$name=$(random_hex)/" "$1"
  done
}

if [ ! -f "$file" ]; then
  step "create .dev.vars from .dev.vars.example with fresh secrets and a dev admin token"
  (umask 077 && cp "$example" "$file.partial") && fresh_secrets "$file.partial" && mv "$file.partial" "$file"
elif grep -q "=$PLACEHOLDER\$" "$file"; then
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
