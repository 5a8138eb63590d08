#!/usr/bin/env bash
# Installs what is missing, then runs the whole test suite (unit + integration against a real Temporal dev
# server and a real PostgreSQL: TEST_DATABASE_URL's server if set, else an embedded one started for the run,
# so no PostgreSQL needs to be installed), and the QEMU driver's suites against real QEMU processes (installed from
# Debian's packages with the tiny guest by scripts/install-qemu.sh); tmux for vmctl's terminal test
# (scripts/install-test-tools.sh). Extra arguments go to jest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/install.sh
bash scripts/install-fuzzer.sh
bash scripts/install-qemu.sh
bash scripts/install-test-tools.sh

echo "type-checking"
npm run --silent typecheck
echo "linting (ESLint, Prettier)"
npm run --silent lint

exec npx jest --ci "$@"
