#!/bin/bash
# PID 1 of the cgroup v2 guest once test/vm/init.sh has switch_root'ed into this
# machine's root (read-only, /tmp a tmpfs): run each part, write its output and
# exit status to the results share (/tmp/results), then stop qemu through its
# isa-debug-exit device. Its console lines ("guest: ...") go to the serial log.
#
# Usage (from init.sh): guest.sh PART...
#   vitest:FILE   the vitest file, as in the project
#   lesson:N      containy-learn check-all --lesson N (the lesson's rehearsal)
#   lessons       containy-learn check-all (every lesson)
# No part: report success at once (CONTAINY_VM_BOOT_ONLY, to time the boot).
set -u
cd "$(dirname "$0")/../.." || exit 1
results=/tmp/results

# /proc/uptime in hundredths of a second ("12.34 ..." -> 1234).
centis() { local up _; read -r up _ < /proc/uptime; echo $((10#${up/./})); }
seconds() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }

echo "guest: $(uname -r) on the host's root at $(seconds "$(centis)") s, cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
: > "$results/parts"
overall=0
# The point of the guest: a pure cgroup v2 machine. Anything else fails the run.
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
  echo "guest: /sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup), not cgroup2"
  overall=1
fi
echo "guest: base rootfs ${CONTAINY_ROOTFS:-rootfs/base, the default}"
# A user-namespace container idmaps the base rootfs (mount_setattr MOUNT_ATTR_IDMAP). Here the
# base lies on the 9p root, which the kernel cannot idmap (9p does not set FS_ALLOW_IDMAP; nor
# can tmpfs before 6.3): the mount is refused with EINVAL. So the parts that start such
# containers get a copy of the base on ext4 (idmappable since 5.12), as on a learner's disk:
# an image file on /tmp's tmpfs, on a loop device. Made once, by the first part that needs it.
# Their TMPDIR is on it too: userns.test.ts idmaps a base of its own under os.tmpdir().
needs_idmappable_base() { case $1 in lesson:7 | lessons | vitest:*userns*) return 0 ;; esac; return 1; }
ext4_base=
idmappable_base() {
  [ -z "$ext4_base" ] || return 0
  local source=${CONTAINY_ROOTFS:-$PWD/rootfs/base} image=/tmp/containy-base.ext4 dir=/tmp/containy-ext4 device mb
  # Room for the copy, ext4's metadata and journal, and the parts' temp files (the image is
  # sparse: the tmpfs holds only the blocks written).
  mb=$(($(du -sm "$source" | cut -f1) * 3 / 2 + 512))
  # /tmp (mode 1777) and the mount point (0755) stay searchable by "other": root inside a
  # user namespace is host uid 100000, and its overlay's lower dir is this copy.
  mkdir -m 0755 -p "$dir" &&
    truncate -s "${mb}M" "$image" &&
    mkfs.ext4 -q -F "$image" &&
    device=$(losetup --find --show "$image") &&
    mount -t ext4 "$device" "$dir" &&
    cp -a "$source" "$dir/base" &&
    mkdir -m 1777 "$dir/tmp" || { echo "guest: cannot put the base on ext4 (loop device $image on $dir)"; return 1; }
  ext4_base=$dir/base
  echo "guest: base copied to ext4 ($device, ${mb} MiB) at $ext4_base for the user-namespace parts, at $(seconds "$(centis)") s"
}
for part in "$@"; do
  case $part in
    vitest:*) command=(node node_modules/vitest/vitest.mjs run --configLoader runner "${part#vitest:}") ;;
    lesson:*) command=(node bin/containy-learn.js check-all --lesson "${part#lesson:}") ;;
    lessons) command=(node bin/containy-learn.js check-all) ;;
    *) command=(false) ;;
  esac
  rootfs_env=()
  if needs_idmappable_base "$part"; then
    if idmappable_base; then rootfs_env=(env CONTAINY_ROOTFS="$ext4_base" TMPDIR="${ext4_base%/base}/tmp"); else command=(false); fi
  fi
  started=$(centis)
  out="$results/${part//[^A-Za-z0-9._-]/_}.txt"
  : > "$out"
  [ ${#rootfs_env[@]} -eq 0 ] || echo "guest: base rootfs $ext4_base, TMPDIR ${ext4_base%/base}/tmp (ext4, idmappable)" > "$out"
  "${rootfs_env[@]}" "${command[@]}" < /dev/null >> "$out" 2>&1
  status=$?
  took=$(seconds $(($(centis) - started)))
  echo "$part $status $took" >> "$results/parts"
  echo "guest: $part: exit $status in $took s"
  if [ "$status" -ne 0 ] && [ "$overall" -eq 0 ]; then overall=$status; fi
done

echo "$overall" > "$results/status"
sync
echo "guest: done with status $overall at $(seconds "$(centis)") s"
# isa-debug-exit (iobase 0xf4 = 244): qemu exits with (value << 1) | 1.
printf "\\x$(printf %02x "$overall")" | dd of=/dev/port bs=1 seek=244 count=1 status=none
echo "guest: isa-debug-exit did not stop qemu; powering off"
echo o > /proc/sysrq-trigger
sleep 10
