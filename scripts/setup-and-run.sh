#!/usr/bin/env bash
# One command from a fresh Debian machine to a running container, as root:
#
#   sudo bash scripts/setup-and-run.sh
#
# Installs the Debian packages tsrun needs (busybox-static for the demo rootfs, a C/C++ tool chain
# and libseccomp-dev for node-gyp, and Node.js from Debian when there is no `node` and Debian's is new enough),
# installs the npm dependencies (which builds the native parts and dist/tsrun.js), builds a
# busybox bundle in ./bundle and runs it with bin/tsrun. Safe to run again: it installs and
# rebuilds only what is missing or out of date.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'setup-and-run: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (containers need it): sudo bash $0"
[ "$(uname -s)" = Linux ] || die "tsrun runs on Linux only"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
need_node20() {
  die "tsrun needs Node.js 20 or newer; $1.
Debian 12 ships Node.js 18: install Node.js 20 (for example from https://nodejs.org or the
NodeSource packages), then run this script again."
}

packages=(busybox-static make g++ python3 ca-certificates libseccomp-dev)
updated=0
if ! command -v node >/dev/null; then
  # Debian's nodejs only helps where it is new enough (Debian 13 has 20): check before installing.
  apt-get update -q && updated=1
  candidate=$(apt-cache policy nodejs | sed -n 's/^ *Candidate: *//p')
  candidate_major=${candidate%%.*}
  case $candidate_major in '' | *[!0-9]*) candidate_major=0 ;; esac
  [ "$candidate_major" -ge 20 ] || need_node20 "there is no node, and this Debian's nodejs is ${candidate:-missing}"
  packages+=(nodejs npm)
fi
missing=()
for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get install ${missing[*]}"
  [ $updated -eq 1 ] || apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || need_node20 "this machine has $(node --version 2>/dev/null || echo none)"
command -v npm >/dev/null || die "npm is missing (it comes with Node.js 20; on Debian: apt-get install npm)"
step "node $(node --version), npm $(npm --version)"

artifacts=(build/Release/tsrun_native.node build/Release/tsrun_seccomp.node build/Release/tsrun-init dist/tsrun.js)
need_ci=0
[ -f node_modules/.package-lock.json ] || need_ci=1
[ package-lock.json -nt node_modules/.package-lock.json ] && need_ci=1
for f in "${artifacts[@]}"; do [ -e "$f" ] || need_ci=1; done
if [ $need_ci -eq 1 ]; then
  step "npm ci (builds the native addon, the init helper and dist/tsrun.js)"
  npm ci --no-audit --no-fund
else
  step "dependencies present; rebuilding what changed"
  npm run --silent build
  npm run --silent build:native
fi

step "building the busybox bundle in ./bundle"
npm run --silent bundle -- ./bundle sh -c \
  'echo "hello from tsrun"; echo "hostname: $(hostname)"; id; echo "processes:"; ps -o pid,user,comm; echo "uname: $(uname -a)"'

id="demo-$(date +%s)-$$"
step "bin/tsrun run --bundle ./bundle $id"
bin/tsrun run --bundle ./bundle "$id"
step "done: the container ran and was deleted. Try: bin/tsrun --help"
