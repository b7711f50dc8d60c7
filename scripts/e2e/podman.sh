#!/usr/bin/env bash
# podman for end-to-end tests, entirely under one temporary directory (podman has no daemon).
#
#   scripts/e2e/podman.sh setup DIR NAME=PATH...  write DIR/containers.conf (runtimes NAME=PATH,
#                                                 all in runtime_supports_json), storage.conf,
#   scripts/e2e/podman.sh run DIR ARGS...         podman ARGS with that configuration
#   scripts/e2e/podman.sh stop DIR                remove every container, stop conmons left behind
#
# `run` is plain podman with: CONTAINERS_CONF, CONTAINERS_STORAGE_CONF and
# CONTAINERS_REGISTRIES_CONF pointing at DIR; --root/--runroot/--tmpdir/--volumepath under DIR;
# --cgroup-manager cgroupfs (no systemd here); --events-backend file. The runtime keeps its state
# in its default root (/run/tsrun, /run/runc): podman 4.3 leaves --runtime-flag out of some calls
# (delete), so a root given that way would leave every container's state behind.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cmd=${1:-} dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || e2e_die "usage: podman.sh setup|run|stop DIR ..."
shift 2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

podman_here() {
  CONTAINERS_CONF=$dir/containers.conf \
  CONTAINERS_STORAGE_CONF=$dir/storage.conf \
  CONTAINERS_REGISTRIES_CONF=$dir/registries.conf \
    podman --root "$dir/storage" --runroot "$dir/run" --tmpdir "$dir/tmp" --volumepath "$dir/volumes" \
      --network-config-dir "$dir/networks" --cgroup-manager cgroupfs --events-backend file "$@"
}

case $cmd in
setup)
  command -v podman >/dev/null || e2e_die "podman is not installed (apt-get install podman)"
  command -v conmon >/dev/null || e2e_die "conmon is not installed (apt-get install conmon)"
  [ $# -gt 0 ] || e2e_die "setup needs at least one runtime NAME=PATH"
  mkdir -p "$dir/storage" "$dir/run" "$dir/tmp" "$dir/volumes" "$dir/networks"
  names='"crun", "runc"' table=''
  for rt in "$@"; do
    names="$names, \"${rt%%=*}\""
    table="$table${rt%%=*} = [\"${rt#*=}\"]"$'\n'
  done
  cat >"$dir/containers.conf" <<TOML
[containers]
# podman's default nofile and nproc (1048576) are above this host's hard limits, and raising them needs
# CAP_SYS_RESOURCE in the initial user namespace
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$dir/events.log"
tmp_dir = "$dir/tmp"
volume_path = "$dir/volumes"
# file locks under tmp_dir instead of the host-wide /dev/shm/libpod_lock segment
lock_type = "file"
# runtimes listed here get --log-format=json --log FILE, and podman reads errors from FILE
runtime_supports_json = [$names]

[engine.runtimes]
$table
[network]
network_config_dir = "$dir/networks"
TOML
  cat >"$dir/storage.conf" <<TOML
[storage]
driver = "overlay"
graphroot = "$dir/storage"
runroot = "$dir/run"
TOML
  echo 'unqualified-search-registries = []' >"$dir/registries.conf"
  ;;
run)
  podman_here "$@"
  ;;
stop)
  if [ -f "$dir/containers.conf" ]; then
    timeout 60 bash -c "$(declare -f podman_here); dir='$dir'; podman_here rm -af -t 0" >/dev/null 2>&1 || true
  fi
  # conmon and anything else still naming our directory
  e2e_kill_mentioning "$dir/"
  ;;
*) e2e_die "unknown command $cmd" ;;
esac
