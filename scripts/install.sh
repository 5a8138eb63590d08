#!/usr/bin/env bash
# Installs everything the project needs, only what is missing: npm packages (npm ci, re-run when
# package-lock.json changes), the Temporal CLI, and the compiled build. Idempotent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export DO_NOT_TRACK=1

lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp="node_modules/.vmops-lock-sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  echo "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

bash scripts/install-temporal-cli.sh

echo "building"
npm run --silent build
