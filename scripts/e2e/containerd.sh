#!/usr/bin/env bash
# A private containerd for end-to-end tests, entirely under one temporary directory.
#
#   scripts/e2e/containerd.sh start DIR   config DIR/config.toml, socket DIR/containerd.sock,
#                                         root DIR/root, state DIR/state, log DIR/containerd.log,
#                                         pid DIR/containerd.pid; returns once the socket answers
#   scripts/e2e/containerd.sh stop DIR    kills and removes every task and container it holds (all
#                                         namespaces), stops containerd and the shims it started
#
# Never touches the system containerd (/run/containerd/containerd.sock, /var/lib/containerd).
# One exception, fixed in containerd 1.6: shims put their sockets in /run/containerd/s/<hash>,
# and remove them when they exit.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cmd=${1:-} dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || e2e_die "usage: containerd.sh start|stop DIR"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock=$dir/containerd.sock

ctr_all() { ctr --address "$sock" --timeout 20s "$@"; }

case $cmd in
start)
  command -v containerd >/dev/null || e2e_die "containerd is not installed (apt-get install containerd)"
  mkdir -p "$dir/root" "$dir/state" "$dir/opt"
  cat >"$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
# CRI would set up CNI networking and stream servers; the tests use ctr and docker only
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$sock"

[ttrpc]
  address = "$sock.ttrpc"

[debug]
  address = "$dir/debug.sock"
  level = "${CONTAINERD_LOG_LEVEL:-info}"

[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"
TOML
  # setsid: its own session, so a terminal's signals to the test never reach it
  setsid containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/containerd.pid"
  if ! e2e_wait_socket "$sock" 30 "$pid" || ! ctr_all version >/dev/null 2>&1; then
    echo "containerd did not start; last lines of $dir/containerd.log:" >&2
    tail -n 20 "$dir/containerd.log" >&2 || true
    e2e_stop_pid "$pid" "$dir/config.toml"
    exit 1
  fi
  echo "$sock"
  ;;
stop)
  if [ -S "$sock" ]; then
    for ns in $(ctr_all namespaces ls -q 2>/dev/null); do
      for t in $(ctr_all -n "$ns" tasks ls -q 2>/dev/null); do
        ctr_all -n "$ns" tasks kill -a -s SIGKILL "$t" >/dev/null 2>&1 || true
      done
      sleep 0.2
      for t in $(ctr_all -n "$ns" tasks ls -q 2>/dev/null); do
        ctr_all -n "$ns" tasks rm -f "$t" >/dev/null 2>&1 || true
      done
      for c in $(ctr_all -n "$ns" containers ls -q 2>/dev/null); do
        ctr_all -n "$ns" containers rm "$c" >/dev/null 2>&1 || true
      done
    done
  fi
  [ -f "$dir/containerd.pid" ] && e2e_stop_pid "$(cat "$dir/containerd.pid")" "$dir/config.toml"
  # shims outlive containerd by design; ours name our socket in -address
  e2e_kill_mentioning "$sock"
  ;;
*) e2e_die "unknown command $cmd" ;;
esac
