#!/usr/bin/env bash
# Prepare what test/vm/run-v2.sh needs to boot a cgroup v2 guest: qemu, a static
# busybox (scripts/fetch-busybox.sh, into .cache/busybox/, not installed), and a
# Debian kernel with the modules the guest loads (MODULES), cached in .cache/vm/.
#
# The kernel package is pinned: its ABI name (6.1.0-50) is in the package name and
# in the modules' path, and it changes with every Debian kernel update. If the
# pinned package has left the archive, the newest linux-image-6.1.0-*-amd64 is
# used instead, and said so. Idempotent: a second run with the cache in place
# only checks the tools.
set -euo pipefail

PROJECT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${CONTAINY_VM_CACHE:-$PROJECT/.cache/vm}
PINNED_ABI=${CONTAINY_VM_KERNEL_ABI:-6.1.0-50}
PINNED_VERSION=${CONTAINY_VM_KERNEL_VERSION:-6.1.176-1}
# Loaded by the guest's /init, in this order (each needs the ones before it): the
# virtio-9p stack to mount the host's root, then overlay for the containers' layers,
# then lesson 8's --network bridge: llc, stp, bridge (depends=llc,stp), veth (Debian builds them as modules),
# then ext4 on a loop device for the user-namespace parts' base (test/vm/guest.sh: 9p and, before 6.3, tmpfs
# cannot be idmapped): crc32c_generic (ext4's and jbd2's softdep crypto-crc32c, for metadata_csum; the guest
# has no modprobe to load it on demand), mbcache, jbd2, crc16 (ext4's depends), ext4, loop.
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci 9pnet 9pnet_virtio netfs fscache 9p overlay llc stp bridge veth crc32c_generic mbcache jbd2 crc16 ext4 loop"

log() { echo "vm-prepare: $*" >&2; }

apt_updated=
apt_update_once() {
  if [ -z "$apt_updated" ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
}

# qemu from Debian's package; the initramfs's busybox unpacked into the cache.
if ! command -v qemu-system-x86_64 >/dev/null; then
  apt_update_once
  log "installing qemu-system-x86"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null
fi
bash "$PROJECT/scripts/fetch-busybox.sh" >/dev/null

# Cached when the kernel is there with this list of modules (a cache from before a
# module was added is made again).
if [ -f "$CACHE/current" ] && [ -f "$CACHE/$(cat "$CACHE/current")/vmlinux" ] \
  && [ "$(cat "$CACHE/$(cat "$CACHE/current")/modules/order" 2>/dev/null)" = "$MODULES" ]; then
  log "kernel cached: $CACHE/$(cat "$CACHE/current")"
  exit 0
fi

mkdir -p "$CACHE"
work=$(mktemp -d "${TMPDIR:-/tmp}/containy-vm-prepare.XXXXXX")
trap 'rm -rf "$work"' EXIT

download() { (cd "$work" && apt-get download "$1" >/dev/null 2>&1); }

pkg="linux-image-$PINNED_ABI-amd64"
if ! download "$pkg=$PINNED_VERSION"; then
  apt_update_once
  if ! download "$pkg=$PINNED_VERSION"; then
    newest=$(apt-cache pkgnames linux-image-6.1.0- | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64$' | sort -V | tail -1)
    [ -n "$newest" ] || { log "no linux-image-6.1.0-*-amd64 package in the apt sources"; exit 1; }
    log "WARNING: pinned $pkg=$PINNED_VERSION is not in the archive any more; using $newest (update PINNED_ABI/PINNED_VERSION in $0)"
    pkg=$newest
    download "$pkg"
  fi
fi
deb=$(ls "$work"/linux-image-*.deb)
log "unpacking $(basename "$deb")"
dpkg-deb -x "$deb" "$work/root"

abi=$(ls "$work/root/lib/modules")
dest="$CACHE/linux-$abi"
rm -rf "$dest"
mkdir -p "$dest/modules"
cp "$work/root/boot/vmlinuz-$abi" "$dest/vmlinuz"
for m in $MODULES; do
  ko=$(find "$work/root/lib/modules/$abi/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -1)
  [ -n "$ko" ] || { log "module $m not in $pkg"; exit 1; }
  case "$ko" in
    *.xz) xz -dc "$ko" > "$dest/modules/$m.ko" ;;
    *.zst) zstd -qdc "$ko" > "$dest/modules/$m.ko" ;;
    *) cp "$ko" "$dest/modules/$m.ko" ;;
  esac
done
echo "$MODULES" > "$dest/modules/order"

# The uncompressed kernel boots faster under emulation (no decompression in TCG).
# As the kernel's scripts/extract-vmlinux: find the compressed payload inside the bzImage and unpack it.
python3 - "$dest/vmlinuz" "$dest/vmlinux" <<'PY'
import lzma, gzip, sys, zlib
src, dst = sys.argv[1], sys.argv[2]
data = open(src, 'rb').read()
def xz(off):
    return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[off:])
def gz(off):
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[off:])
for magic, unpack in ((b'\xfd7zXZ\x00', xz), (b'\x1f\x8b\x08', gz)):
    off = data.find(magic)
    while off != -1:
        try:
            out = unpack(off)
        except Exception:
            out = b''
        if out[:4] == b'\x7fELF':
            open(dst, 'wb').write(out)
            sys.exit(0)
        off = data.find(magic, off + 1)
sys.exit('no xz or gzip payload found in ' + src)
PY

echo "linux-$abi" > "$CACHE/current"
log "kernel $abi ready in $dest ($(du -sh "$dest" | cut -f1))"
