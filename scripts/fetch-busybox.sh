#!/usr/bin/env bash
# Print the path of a static busybox for the tests, fetched once into .cache/busybox/
# from Debian's busybox-static package with `apt-get download` and `dpkg-deb -x`:
# nothing is installed on the machine, so the host stays one without busybox (as most
# learners' are) and the host-tools base is still what the builder makes by default.
set -euo pipefail

PROJECT=$(cd "$(dirname "$0")/.." && pwd)
DEST=${CONTAINY_BUSYBOX_CACHE:-$PROJECT/.cache/busybox}
log() { echo "fetch-busybox: $*" >&2; }

if [ -x "$DEST/bin/busybox" ] && "$DEST/bin/busybox" true 2>/dev/null; then echo "$DEST/bin/busybox"; exit 0; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/containy-busybox.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get download busybox-static >/dev/null 2>&1); then
  log "apt-get update"
  apt-get update -qq
  (cd "$work" && apt-get download busybox-static >/dev/null) || { log "cannot download Debian's busybox-static"; exit 1; }
fi
dpkg-deb -x "$work"/busybox-static_*.deb "$work/root"
found=
for candidate in "$work/root/bin/busybox" "$work/root/usr/bin/busybox"; do
  [ -x "$candidate" ] && "$candidate" true && found=$candidate && break
done
[ -n "$found" ] || { log "no runnable bin/busybox in $(basename "$work"/busybox-static_*.deb)"; exit 1; }
mkdir -p "$DEST/bin"
cp "$found" "$DEST/bin/busybox.partial"
chmod 755 "$DEST/bin/busybox.partial"
mv "$DEST/bin/busybox.partial" "$DEST/bin/busybox"
log "$(basename "$work"/busybox-static_*.deb) unpacked to $DEST/bin/busybox"
echo "$DEST/bin/busybox"
