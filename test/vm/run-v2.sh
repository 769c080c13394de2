#!/usr/bin/env bash
# Run tests on a real cgroup v2 kernel: boot Debian's kernel under qemu (software
# emulation: /dev/kvm here is PVM and runs no stock kernel) with cgroup v1
# disabled, share this machine's / read-only over virtio-9p, switch_root into it
# (test/vm/init.sh) and run each part there (test/vm/guest.sh). The guest's
# status comes back through qemu's isa-debug-exit device and a results share.
#
# Usage: test/vm/run-v2.sh [PART...]
#   vitest:FILE (or just FILE, a test file), lesson:N (check-all --lesson N), lessons (check-all)
#   default: vitest:test/integration/cgroups.test.ts lesson:0 lesson:5
# CONTAINY_ROOTFS=DIR (inside the project) is the base the guest's containers use.
# Prints the guest's console, then each part's output, then a line per part:
#   host: part PART exit STATUS in SECONDS s
# Exits 0 when every part did; else the first failing part's status.
set -euo pipefail

PROJECT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${CONTAINY_VM_CACHE:-$PROJECT/.cache/vm}
TIMEOUT_S=${CONTAINY_VM_TIMEOUT:-300}
# CONTAINY_VM_BOOT_ONLY=1: boot, mount everything, switch_root, exit without parts (to time the boot).
BOOT_ONLY=${CONTAINY_VM_BOOT_ONLY:-0}

[ $# -gt 0 ] || set -- vitest:test/integration/cgroups.test.ts lesson:0 lesson:5
parts=()
for arg in "$@"; do
  if [[ $arg =~ ^(vitest:[^[:space:]]+|lesson:[0-9]+|lessons)$ ]]; then parts+=("$arg")
  elif [[ $arg =~ ^[^[:space:]]+\.tsx?$ ]]; then parts+=("vitest:$arg")
  else echo "run-v2.sh: '$arg' is not a part: use a test file without spaces (vitest:FILE), lesson:N or lessons" >&2; exit 2
  fi
done
if [ "$BOOT_ONLY" = 1 ]; then parts=(); fi

# Installs qemu, unpacks a static busybox into .cache/ and fetches the kernel if missing; a few ms when all is there.
bash "$PROJECT/scripts/vm-prepare.sh"
KERNEL_DIR="$CACHE/$(cat "$CACHE/current")"
KERNEL=${CONTAINY_VM_KERNEL_IMAGE:-$KERNEL_DIR/vmlinux}

work=$(mktemp -d "${TMPDIR:-/tmp}/containy-vm.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/results" "$work/initramfs"/{bin,dev,proc,sys,host,modules}

# The initramfs: a static busybox, the modules, /init and what it needs to know.
BUSYBOX=$(bash "$PROJECT/scripts/fetch-busybox.sh")
cp "$BUSYBOX" "$work/initramfs/bin/busybox"
cp "$KERNEL_DIR"/modules/*.ko "$KERNEL_DIR/modules/order" "$work/initramfs/modules/"
cp "$PROJECT/test/vm/init.sh" "$work/initramfs/init"
chmod +x "$work/initramfs/init"
{
  printf 'PROJECT=%q\n' "$PROJECT"
  printf 'GUEST_PATH=%q\n' "$PATH"
  printf 'PARTS=%q\n' "${parts[*]}"
  # The base the containers start from (a directory under the project, which the guest shares).
  printf 'CONTAINY_ROOTFS=%q\n' "${CONTAINY_ROOTFS:-}"
} > "$work/initramfs/vm.env"
(cd "$work/initramfs" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null) > "$work/initramfs.cpio"

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
for part in "${parts[@]}"; do
  echo "----- guest: $part -----"
  cat "$work/results/${part//[^A-Za-z0-9._-]/_}.txt" 2>/dev/null || echo "(no output)"
done
echo "-----------------------------"
echo "host: qemu ran $((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000))) s (exit $qemu_status)"
if [ -f "$work/results/parts" ]; then
  while read -r part status took; do echo "host: part $part exit $status in $took s"; done < "$work/results/parts"
fi
if [ "$qemu_status" -eq 124 ]; then echo "host: the guest ran over ${TIMEOUT_S} s"; exit 124; fi
if [ ! -f "$work/results/status" ]; then echo "host: the guest did not finish its parts (kernel panic or init failure above)"; exit 1; fi
exit "$(cat "$work/results/status")"
