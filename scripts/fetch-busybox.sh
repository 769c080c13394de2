#!/usr/bin/env bash
# Print the path of a static busybox for the tests, fetched once into .cache/busybox/bin/
# from Debian's busybox-static (not installed: the host stays one without busybox, as
# most learners' are, and the host-tools base is still what the builder makes by default).
set -euo pipefail
PROJECT=$(cd "$(dirname "$0")/.." && pwd)
exec bash "$PROJECT/scripts/fetch-deb.sh" busybox-static "${CONTAINY_BUSYBOX_CACHE:-$PROJECT/.cache/busybox}/bin" bin/busybox usr/bin/busybox
