#!/usr/bin/env bash
# A private dockerd for end-to-end tests, entirely under one temporary directory, on a
# containerd of the test's own (scripts/e2e/containerd.sh).
#
#   scripts/e2e/dockerd.sh start DIR CONTAINERD_SOCK [RUNTIME...]
#       RUNTIME is NAME=PATH (registered in DIR/daemon.json "runtimes", as an administrator
#       would) or --add-runtime NAME=PATH (the command-line form); --default-runtime NAME sets
#       daemon.json "default-runtime" (docker info then shows that one's --version). Socket DIR/docker.sock,
#       data DIR/data, exec root DIR/exec, pid DIR/docker.pid, log DIR/dockerd.log;
#       cgroup parent /$(basename DIR); no bridge, no iptables. Prints the socket.
#   scripts/e2e/dockerd.sh stop DIR
#       removes every container, stops dockerd and what it left running.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cmd=${1:-} dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || e2e_die "usage: dockerd.sh start DIR CONTAINERD_SOCK [RUNTIME...] | stop DIR"
shift 2
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock=$dir/docker.sock
# Debian's client, not whatever else is first on PATH: its API version matches the daemon
docker_bin=/usr/bin/docker
[ -x "$docker_bin" ] || docker_bin=docker

case $cmd in
start)
  command -v dockerd >/dev/null || e2e_die "dockerd is not installed (apt-get install docker.io)"
  containerd_sock=${1:-}
  [ -S "$containerd_sock" ] || e2e_die "no containerd socket at '$containerd_sock'"
  shift
  flags=() json='' default=''
  while [ $# -gt 0 ]; do
    case $1 in
      --add-runtime) flags+=(--add-runtime "$2"); shift 2 ;;
      --default-runtime) default="\"default-runtime\": \"$2\", "; shift 2 ;;
      *=*) json="$json${json:+, }\"${1%%=*}\": { \"path\": \"${1#*=}\" }"; shift ;;
      *) e2e_die "bad runtime '$1' (NAME=PATH or --add-runtime NAME=PATH)" ;;
    esac
  done
  echo "{ $default\"runtimes\": { $json } }" >"$dir/daemon.json"
  mkdir -p "$dir/data" "$dir/exec"
  setsid dockerd --config-file "$dir/daemon.json" --data-root "$dir/data" --exec-root "$dir/exec" \
    --pidfile "$dir/docker.pid" -H "unix://$sock" --containerd "$containerd_sock" \
    --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
    --cgroup-parent "/$(basename "$dir")" --storage-driver overlay2 \
    "${flags[@]}" >"$dir/dockerd.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/dockerd.launch.pid"
  ok=0
  if e2e_wait_socket "$sock" 60 "$pid"; then
    for _ in $(seq 100); do
      "$docker_bin" -H "unix://$sock" version >/dev/null 2>&1 && { ok=1; break; }
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
  fi
  if [ $ok = 0 ]; then
    echo "dockerd did not start; last lines of $dir/dockerd.log:" >&2
    tail -n 20 "$dir/dockerd.log" >&2 || true
    e2e_stop_pid "$pid" "$dir/daemon.json"
    exit 1
  fi
  echo "$sock"
  ;;
stop)
  if [ -S "$sock" ]; then
    ids=$(timeout 30 "$docker_bin" -H "unix://$sock" ps -aq 2>/dev/null || true)
    # shellcheck disable=SC2086
    [ -n "$ids" ] && timeout 60 "$docker_bin" -H "unix://$sock" rm -f $ids >/dev/null 2>&1 || true
  fi
  [ -f "$dir/dockerd.launch.pid" ] && e2e_stop_pid "$(cat "$dir/dockerd.launch.pid")" "$dir/daemon.json" 20
  e2e_kill_mentioning "$dir/"
  ;;
*) e2e_die "unknown command $cmd" ;;
esac
