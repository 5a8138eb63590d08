#!/usr/bin/env bash
# Installs what is missing, then runs the whole stack in the foreground (Ctrl-C stops it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/install.sh
exec node -r ./scripts/register-paths.js dist/scripts/stack.js
