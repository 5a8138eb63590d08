#!/usr/bin/env bash
# What the test suite needs beyond npm and QEMU: tmux, in which vmctl's progress bar is tested in a real terminal
# (Debian's package, installed with apt when it is not on PATH). Idempotent.
set -euo pipefail
if command -v tmux >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "tmux is not installed and this is not root: run 'apt-get install tmux' as root" >&2
  exit 1
fi
echo "installing tmux from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends tmux >/dev/null \
  || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends tmux >/dev/null; }
