#!/bin/busybox sh
# /init of the cgroup v2 guest. test/vm/run-v2.sh puts it in an initramfs with a
# static busybox, the modules from scripts/vm-prepare.sh (modules/order) and
# /vm.env (PROJECT, GUEST_PATH, PARTS, CONTAINY_ROOTFS). It loads the modules, mounts this
# machine's root read-only over virtio-9p with what a booted Linux has on top
# (proc, sys, cgroup2, dev, tmpfs /tmp), and switch_roots into it.
#
# switch_root, not chroot: setns() into a mount namespace sets the caller's root
# to the namespace's first mount (the initramfs) or what is mounted over its "/".
# switch_root mounts the host's root over "/", so a container's pivot_root puts
# the container's root there too and `containy-learn exec` lands in it. Under a
# chroot to /host, the container's root sat on /host of the initramfs, and exec
# landed in the initramfs ("python3: command not found").
/bin/busybox --install -s /bin
. /vm.env
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
uptime_s() { cut -d' ' -f1 /proc/uptime; }
fail() { echo "guest: init: $*"; poweroff -f; }
echo "guest: init at $(uptime_s) s of uptime"

for m in $(cat /modules/order); do insmod "/modules/$m.ko" || echo "guest: insmod $m failed"; done
echo "guest: modules loaded at $(uptime_s) s"
hostname containy-v2-guest
ip link set lo up

# The host's root, read-only. A big msize and cache=loose: node reads thousands of files from it.
opts=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "ro,cache=loose,$opts" hostroot /host || fail "cannot mount the host's root over 9p"
mount --move /proc /host/proc
mount --move /sys /host/sys
mount --move /dev /host/dev
mount -t cgroup2 cgroup2 /host/sys/fs/cgroup || fail "cannot mount cgroup2"
mkdir -p /host/dev/shm /host/dev/pts
mount -t tmpfs shm /host/dev/shm
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmp /host/tmp
# The project may live under /tmp (a CI clone), now hidden by the tmpfs: share it on its own.
mkdir -p "/host$PROJECT" 2>/dev/null || true
mount -t 9p -o "ro,cache=loose,$opts" project "/host$PROJECT" || fail "cannot mount the project over 9p"
# The one writable share: each part's output and status, read by run-v2.sh after qemu exits.
mkdir -p /host/tmp/results && mount -t 9p -o "$opts" results /host/tmp/results || fail "cannot mount the results share"
# The runtime's state (overlay upper/work dirs, run records) must be writable: a tmpfs where
# learners have it, or one under /tmp when this host has no such directory to mount over.
state_env=
if [ -d /host/var/lib/containy-learn ]; then
  mount -t tmpfs state /host/var/lib/containy-learn
else
  state_env=CONTAINY_STATE_DIR=/tmp/containy-learn
fi

rootfs_env=
[ -z "$CONTAINY_ROOTFS" ] || rootfs_env="CONTAINY_ROOTFS=$CONTAINY_ROOTFS"

# shellcheck disable=SC2086 # PARTS is a list of words
exec switch_root /host /usr/bin/env -i PATH="$GUEST_PATH" HOME=/tmp TMPDIR=/tmp CI=1 NO_COLOR=1 $state_env $rootfs_env \
  /bin/bash "$PROJECT/test/vm/guest.sh" $PARTS
