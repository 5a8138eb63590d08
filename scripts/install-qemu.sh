#!/usr/bin/env bash
# Makes the QEMU driver runnable: QEMU (qemu-system-x86 + qemu-utils, Debian's packages, installed with apt when
# qemu-system-x86_64 is not on PATH), and the tiny guest in .tools/qemu-guest: Debian's kernel (of the
# linux-image-amd64 package, uncompressed so that QEMU boots it through PVH: 4 s instead of 10 under TCG) and a
# busybox initramfs built here, whose init powers the guest off when the ACPI power button is pressed. Idempotent; the guest is rebuilt only when this script's GUEST_LAYOUT changes.
set -euo pipefail
GUEST_LAYOUT=3
root="$(cd "$(dirname "$0")/.." && pwd)"
guest="$root/.tools/qemu-guest"

if ! command -v qemu-system-x86_64 >/dev/null || ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "QEMU is not installed and this is not root: run 'apt-get install qemu-system-x86 qemu-utils' as root" >&2
    exit 1
  fi
  echo "installing QEMU from Debian's packages (qemu-system-x86, qemu-utils)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends qemu-system-x86 qemu-utils >/dev/null \
    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends qemu-system-x86 qemu-utils >/dev/null; }
fi

if [ -f "$guest/layout" ] && [ "$(cat "$guest/layout")" = "$GUEST_LAYOUT" ] && [ -f "$guest/vmlinux" ] && [ -f "$guest/initramfs.gz" ]; then
  exit 0
fi

echo "building the tiny QEMU guest (Debian kernel + busybox initramfs) into .tools/qemu-guest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
kernel_pkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')"
[ -n "$kernel_pkg" ] || { echo "no kernel package behind linux-image-amd64 (apt-get update?)" >&2; exit 1; }
(cd "$work" && apt-get download -q "$kernel_pkg" busybox-static >/dev/null 2>&1) \
  || (apt-get update -q >/dev/null && cd "$work" && apt-get download -q "$kernel_pkg" busybox-static >/dev/null)
mkdir -p "$work/kernel" "$work/busybox" "$work/initramfs"/{bin,dev,proc,sys,lib}
dpkg-deb -x "$work"/linux-image-*.deb "$work/kernel"
dpkg-deb -x "$work"/busybox-static_*.deb "$work/busybox"

cp "$work/busybox/bin/busybox" "$work/initramfs/bin/busybox"
# The ACPI power button and its event device are modules in Debian's kernel: without them the guest never hears
# the button.
for module in button evdev; do
  find "$work/kernel/lib/modules" -name "$module.ko" -exec cp {} "$work/initramfs/lib/$module.ko" \;
  [ -f "$work/initramfs/lib/$module.ko" ] || { echo "the kernel package has no $module.ko" >&2; exit 1; }
done
cat > "$work/initramfs/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
insmod /lib/evdev.ko
insmod /lib/button.ko
# Any event of the power button's input device is a press: power off, as an ACPI-obeying guest does.
for dev in /sys/class/input/event*; do
  if grep -q "Power Button" "$dev/device/name" 2>/dev/null; then
    ( echo "vmops-guest: up"; dd if="/dev/input/${dev##*/}" of=/dev/null bs=24 count=1 2>/dev/null; echo "vmops-guest: power button"; poweroff -f ) &
  fi
done
while :; do sleep 3600; done
INIT
chmod +x "$work/initramfs/init"

mkdir -p "$guest"
# The bzImage's payload is an xz stream holding the ELF kernel, which QEMU loads directly (PVH entry point).
python3 - "$work"/kernel/boot/vmlinuz-* "$guest/vmlinux" <<'PY'
import lzma, sys
data = open(sys.argv[1], 'rb').read()
start = data.find(b'\xfd7zXZ\x00')
kernel = lzma.LZMADecompressor().decompress(data[start:])
assert start > 0 and kernel[:4] == b'\x7fELF', 'no xz-compressed ELF kernel in the bzImage'
open(sys.argv[2], 'wb').write(kernel)
PY
(cd "$work/initramfs" && find . | "$work/busybox/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -9) > "$guest/initramfs.gz"
echo "$kernel_pkg" > "$guest/kernel-package"
echo "$GUEST_LAYOUT" > "$guest/layout"
echo "tiny guest ready: $kernel_pkg, $(du -h "$guest/initramfs.gz" | cut -f1) initramfs"
