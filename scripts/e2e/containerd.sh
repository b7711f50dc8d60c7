#!/usr/bin/env bash
# A private containerd for end-to-end tests, entirely under one temporary directory.
#
#   scripts/e2e/containerd.sh start DIR   config DIR/config.toml, socket DIR/containerd.sock,
#                                         root DIR/root, state DIR/state, log DIR/containerd.log,
#                                         pid DIR/containerd.pid; returns once the socket answers
#   scripts/e2e/containerd.sh start DIR --cri SANDBOX_IMAGE HANDLER=PATH...
#                                         the same with the CRI plugin on that socket: one runtime
#                                         handler per HANDLER=PATH (the runc shim with BinaryName
#                                         PATH and Root DIR/runc-root/HANDLER; the first is the
#                                         default), pods' sandbox image SANDBOX_IMAGE (import it
#                                         into namespace k8s.io), no CNI (host network pods only)
#   scripts/e2e/containerd.sh stop DIR    kills and removes every task and container it holds (all
#                                         namespaces), stops containerd and the shims it started
#
# Never touches the system containerd (/run/containerd/containerd.sock, /var/lib/containerd).
# One exception, fixed in containerd 1.6: shims put their sockets in /run/containerd/s/<hash>,
# and remove them when they exit. With --cri: network namespaces, CNI configuration and shim
# roots are under DIR too, and no AppArmor profile is loaded into the kernel.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cmd=${1:-} dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || e2e_die "usage: containerd.sh start DIR [--cri SANDBOX_IMAGE HANDLER=PATH...] | stop DIR"
cri_image='' cri_handlers=()
if [ "${3:-}" = --cri ]; then
  cri_image=${4:-}
  cri_handlers=("${@:5}")
  [ -n "$cri_image" ] && [ ${#cri_handlers[@]} -gt 0 ] || e2e_die "--cri needs SANDBOX_IMAGE and at least one HANDLER=PATH"
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock=$dir/containerd.sock

ctr_all() { ctr --address "$sock" --timeout 20s "$@"; }

case $cmd in
start)
  command -v containerd >/dev/null || e2e_die "containerd is not installed (apt-get install containerd)"
  mkdir -p "$dir/root" "$dir/state" "$dir/opt"
  # CRI (unless asked for) would set up CNI networking and stream servers; ctr and docker need neither
  disabled='"io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"'
  [ -n "$cri_image" ] || disabled="\"io.containerd.grpc.v1.cri\", $disabled"
  cat >"$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = [$disabled]

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
  if [ -n "$cri_image" ]; then
    # empty CNI directories of our own: the host's /etc/cni must not matter; pods use host network
    mkdir -p "$dir/cni/bin" "$dir/cni/net.d" "$dir/runc-root"
    # a pod sandbox asks for oom_score_adj -998, which needs CAP_SYS_RESOURCE; a machine that is
    # itself a container may lack it, and then containerd must keep scores at or above its own
    restrict_oom=false
    (( 0x$(awk '/^CapEff:/ { print $2 }' /proc/self/status) >> 24 & 1 )) || restrict_oom=true
    cat >>"$dir/config.toml" <<TOML

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$cri_image"
  # the default profile would be loaded into the kernel, for every process on the host to see
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = $restrict_oom
  # exec/attach streaming (unused by ExecSync): loopback, any free port
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$dir/cni/bin"
    conf_dir = "$dir/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "${cri_handlers[0]%%=*}"
TOML
    for h in "${cri_handlers[@]}"; do
      name=${h%%=*} path=${h#*=}
      [ -n "$name" ] && [ "$name" != "$h" ] && [ -x "$path" ] || e2e_die "bad handler $h (want NAME=PATH to an executable)"
      # Root: the shim's default, /run/containerd/runc, is the system's
      cat >>"$dir/config.toml" <<TOML
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$name]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$name.options]
        BinaryName = "$path"
        Root = "$dir/runc-root/$name"
TOML
    done
  fi
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
