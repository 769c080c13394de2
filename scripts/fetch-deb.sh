#!/usr/bin/env bash
# Print the path of one program from a Debian package, fetched once into DEST with
# `apt-get download` and `dpkg-deb -x`: nothing is installed on the machine, so it stays
# one without that package, as most learners' machines are.
#
#   scripts/fetch-deb.sh PACKAGE DEST PATH-IN-PACKAGE...   (the first PATH that runs wins)
# e.g. scripts/fetch-deb.sh runc .cache/runc usr/sbin/runc  ->  .cache/runc/runc
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: fetch-deb.sh PACKAGE DEST PATH-IN-PACKAGE..." >&2; exit 2; }
package=$1 dest=$2
shift 2
name=$(basename "$1")
log() { echo "fetch-deb: $*" >&2; }
# `true` is not a flag every program takes; --version, --help or plain running is enough to say it runs.
runs() { "$1" --version >/dev/null 2>&1 || "$1" --help >/dev/null 2>&1 || "$1" true >/dev/null 2>&1; }

if [ -x "$dest/$name" ] && runs "$dest/$name"; then echo "$dest/$name"; exit 0; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/containy-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get download "$package" >/dev/null 2>&1); then
  log "apt-get update"
  apt-get update -qq
  (cd "$work" && apt-get download "$package" >/dev/null) || { log "cannot download Debian's $package"; exit 1; }
fi
dpkg-deb -x "$work/${package}"_*.deb "$work/root"
found=
for candidate in "$@"; do
  [ -x "$work/root/$candidate" ] && runs "$work/root/$candidate" && found=$work/root/$candidate && break
done
[ -n "$found" ] || { log "no runnable $* in $(basename "$work/${package}"_*.deb)"; exit 1; }
mkdir -p "$dest"
cp "$found" "$dest/$name.partial"
chmod 755 "$dest/$name.partial"
mv "$dest/$name.partial" "$dest/$name"
log "$(basename "$work/${package}"_*.deb) unpacked to $dest/$name"
echo "$dest/$name"
