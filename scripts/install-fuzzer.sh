#!/usr/bin/env bash
# Makes the API fuzzer available for test/fuzz.test.ts: Schemathesis, pinned, from PyPI, in a project-local venv
# (.tools/fuzz-venv). Idempotent.
set -euo pipefail
SCHEMATHESIS_VERSION="4.32.5"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.tools/fuzz-venv"

if [ -x "$venv/bin/schemathesis" ] && "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then exit 0; fi
echo "installing the API fuzzer (PyPI schemathesis==$SCHEMATHESIS_VERSION) into .tools/fuzz-venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
"$venv/bin/schemathesis" --version
