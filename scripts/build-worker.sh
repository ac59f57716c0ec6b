#!/usr/bin/env bash
# Builds the Worker into worker/build/ (also wrangler.toml's [build] command).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT/worker"
worker-build --release
