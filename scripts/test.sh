#!/usr/bin/env bash
# Installs what is missing, then runs the whole test suite (unit + integration against a real Temporal dev
# server and a real PostgreSQL: TEST_DATABASE_URL's server if set, else an embedded one started for the run,
# so no PostgreSQL needs to be installed). Extra arguments go to jest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/install.sh
bash scripts/install-fuzzer.sh

echo "type-checking"
npm run --silent typecheck

exec npx jest --ci "$@"
