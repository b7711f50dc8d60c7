#!/usr/bin/env bash
# Stops whatever an e2e test started under DIR and removes DIR:
#
#   scripts/e2e/cleanup.sh DIR [CGROUP_PARENT]
#
# podman (DIR/containers.conf), dockerd (DIR/daemon.json) and containerd (DIR/config.toml),
# each in DIR or one level below, in that order (dockerd runs on its containerd); then every
# process left in the cgroup /CGROUP_PARENT (default: the basename of DIR) is killed and the
# cgroups removed; then DIR is unmounted below and removed. Used after each test file, and for
# the directories of a test run that was killed before its own cleanup.
set -uo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=lib.sh
. "$here/lib.sh"

dir=${1:-}
[ -d "$dir" ] || exit 0
dir=$(cd "$dir" && pwd)
parent=${2:-$(basename "$dir")}

for d in "$dir" "$dir"/*/; do
  d=${d%/}
  [ -f "$d/containers.conf" ] && bash "$here/podman.sh" stop "$d"
done
for d in "$dir" "$dir"/*/; do
  d=${d%/}
  [ -f "$d/daemon.json" ] && bash "$here/dockerd.sh" stop "$d"
done
for d in "$dir" "$dir"/*/; do
  d=${d%/}
  [ -f "$d/config.toml" ] && bash "$here/containerd.sh" stop "$d"
done
e2e_kill_mentioning "$dir/"
e2e_cgroup_sweep "$parent"
if [ "${TSRUN_E2E_KEEP:-}" = 1 ]; then
  e2e_umount_under "$dir"
  echo "cleanup: kept $dir" >&2
else
  e2e_remove_dir "$dir"
fi
