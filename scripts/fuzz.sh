#!/usr/bin/env bash
# schemathesis (PyPI) in .tools/venv, pinned with every dependency, for the HTTP fuzz run
# (tests/reliability/fuzz.test.mjs). `--install` only installs; otherwise runs `st` with the args.
set -euo pipefail
source "$(dirname "$0")/env.sh"
venv="$ROOT/.tools/venv"
requirements="$ROOT/tests/reliability/fuzz-requirements.txt"
stamp="$venv/.requirements-hash"
hash="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ -x "$venv/bin/st" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
  [ "${1:-}" = --install ] && echo "    schemathesis venv (already there)"
else
  echo "==> schemathesis into .tools/venv"
  # The real interpreter, not pyenv's shim, so the venv does not depend on the shim's state.
  python="$(python3 -c 'import sys; print(sys.executable)')"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  echo "$hash" > "$stamp"
fi
if [ "${1:-}" != --install ]; then exec "$venv/bin/st" "$@"; fi
