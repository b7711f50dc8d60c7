#!/usr/bin/env bash
# Installs from Debian what the end-to-end client tests need and is missing:
#
#   scripts/e2e/install-deps.sh [PACKAGE...]     (default: all of them)
#
# containerd (containerd, ctr, the runc shim), podman (with conmon), docker.io (dockerd and its
# client), runc (the reference runtime), busybox-static (the image), util-linux's `script`
# (a real pty for -t). Exits 0 at once when all are installed. Package scripts must not start
# the system daemons: when the machine has no policy-rc.d, one that denies every start is put in
# place for the install and removed afterwards.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=("$@")
[ ${#packages[@]} -gt 0 ] || packages=(containerd podman conmon docker.io runc busybox-static util-linux)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

[ "$(id -u)" -eq 0 ] || { echo "install-deps: not root; cannot install ${missing[*]}" >&2; exit 1; }
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
echo "install-deps: apt-get install ${missing[*]}" >&2
# a failed update (offline mirror) still leaves a usable package list behind
apt-get update -q >&2 || true
# the lock timeout: test files run in parallel may install at the same time
apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 "${missing[@]}" >&2
