#!/usr/bin/env bash
# Run cgroup tests on a real cgroup v2 kernel: boot Debian's kernel under qemu
# (software emulation: /dev/kvm here is PVM and runs no stock kernel) with cgroup
# v1 disabled, share this machine's / read-only over virtio-9p, chroot into it and
# run the same vitest files there. The guest's exit code comes back through
# qemu's isa-debug-exit device.
#
# Usage: test/vm/run-v2.sh [vitest file...]   (default: test/integration/cgroups.test.ts)
# Prints the guest's console; exits with the guest's test status.
set -euo pipefail

PROJECT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${CONTAINY_VM_CACHE:-$PROJECT/.cache/vm}
TESTS=${*:-test/integration/cgroups.test.ts}
TIMEOUT_S=${CONTAINY_VM_TIMEOUT:-300}
# CONTAINY_VM_BOOT_ONLY=1: boot, mount everything, exit without tests (to measure the boot).
BOOT_ONLY=${CONTAINY_VM_BOOT_ONLY:-0}

# Installs qemu/busybox and fetches the kernel if missing; a few ms when all is there.
bash "$PROJECT/scripts/vm-prepare.sh"
KERNEL_DIR="$CACHE/$(cat "$CACHE/current")"
KERNEL=${CONTAINY_VM_KERNEL_IMAGE:-$KERNEL_DIR/vmlinux}

work=$(mktemp -d "${TMPDIR:-/tmp}/containy-vm.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/results" "$work/initramfs"/{bin,dev,proc,sys,host,modules}

# The initramfs: a static busybox, the 9p modules, and /init.
cp /bin/busybox "$work/initramfs/bin/busybox"
cp "$KERNEL_DIR"/modules/*.ko "$work/initramfs/modules/"
cat > "$work/initramfs/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "guest: init at \$(cut -d' ' -f1 /proc/uptime) s of uptime"
for m in $(cat "$KERNEL_DIR/modules/order"); do insmod /modules/\$m.ko || echo "guest: insmod \$m failed"; done

# Host root, read-only; big msize and cache=loose: node reads thousands of files from it.
opts=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o ro,cache=loose,\$opts hostroot /host
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t cgroup2 cgroup2 /host/sys/fs/cgroup
mount -t devtmpfs dev /host/dev
mkdir -p /host/dev/shm && mount -t tmpfs shm /host/dev/shm
mount -t tmpfs tmp /host/tmp
# The project may live under /tmp (a CI clone), now hidden by the tmpfs: share it on its own.
mkdir -p "/host$PROJECT" 2>/dev/null || true
mount -t 9p -o ro,cache=loose,\$opts project "/host$PROJECT"
mkdir -p /host/tmp/results && mount -t 9p -o \$opts results /host/tmp/results

echo "guest: \$(uname -r), cgroup2 controllers: \$(cat /host/sys/fs/cgroup/cgroup.controllers)"
echo "guest: running tests at \$(cut -d' ' -f1 /proc/uptime) s"
if [ "$BOOT_ONLY" = 1 ]; then echo 0 > /host/tmp/results/status; echo boot only > /host/tmp/results/output.txt; else
chroot /host /usr/bin/env -i PATH="$PATH" HOME=/tmp TMPDIR=/tmp CI=1 NO_COLOR=1 \
  /bin/sh -c 'cd "$PROJECT" && exec node node_modules/vitest/vitest.mjs run --configLoader runner $TESTS' \
  > /host/tmp/results/output.txt 2>&1
echo \$? > /host/tmp/results/status
fi
status=\$(cat /host/tmp/results/status)
echo "guest: tests done with status \$status at \$(cut -d' ' -f1 /proc/uptime) s"
sync
# isa-debug-exit: qemu exits with (value << 1) | 1.
printf "\\\\\$(printf %o \$status)" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
echo "guest: isa-debug-exit did not stop qemu"
poweroff -f
EOF
chmod +x "$work/initramfs/init"
(cd "$work/initramfs" && find . | busybox cpio -o -H newc 2>/dev/null) > "$work/initramfs.cpio"

share() { echo "-fsdev local,id=$1,path=$2,security_model=none,multidevs=remap$3 -device virtio-9p-pci,fsdev=$1,mount_tag=$1"; }

started_ms=$(( $(date +%s%N) / 1000000 ))
set +e
# shellcheck disable=SC2046
timeout "$TIMEOUT_S" qemu-system-x86_64 \
  -accel tcg -M pc -cpu max -smp 2 -m 2048 \
  -nodefaults -no-user-config -display none -no-reboot \
  -serial "file:$work/console.log" \
  -kernel "$KERNEL" -initrd "$work/initramfs.cpio" \
  -append "console=ttyS0 cgroup_no_v1=all panic=-1 loglevel=4" \
  $(share hostroot / ,readonly=on) $(share project "$PROJECT" ,readonly=on) $(share results "$work/results" "") \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04
qemu_status=$?
set -e
elapsed_ms=$(( $(date +%s%N) / 1000000 - started_ms ))

cat "$work/console.log"
echo "----- guest test output -----"
cat "$work/results/output.txt" 2>/dev/null || echo "(none)"
echo "-----------------------------"
echo "host: qemu ran $((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000))) s (exit $qemu_status)"
if [ "$qemu_status" -eq 124 ]; then echo "host: the guest ran over ${TIMEOUT_S} s"; exit 124; fi
if [ ! -f "$work/results/status" ]; then echo "host: the guest did not finish its tests (kernel panic or init failure above)"; exit 1; fi
exit "$(cat "$work/results/status")"
