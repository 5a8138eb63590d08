#!/usr/bin/env bash
# Installs what is missing, then runs the whole stack in the foreground (Ctrl-C stops it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/install.sh
# Nodes on real QEMU (VMOPS_QEMU_NODES=node-2): QEMU from Debian's packages and the tiny guest.
if [ -n "${VMOPS_QEMU_NODES:-}" ]; then bash scripts/install-qemu.sh; fi
exec node -r ./scripts/register-paths.js dist/scripts/stack.js
