# Shared helpers for the e2e daemon scripts (sourced). Everything here acts only on what a test
# started: processes are found by a pid file or by naming the test's own temporary directory,
# cgroups by the test's own parent cgroup name, mounts by lying under the temporary directory.

e2e_die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# e2e_wait_socket PATH SECONDS PID: wait until a unix socket exists (and PID still lives).
e2e_wait_socket() {
  local sock=$1 secs=$2 pid=$3 i
  for ((i = 0; i < secs * 10; i++)); do
    [ -S "$sock" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# e2e_pid_mentions PID TEXT: the process's command line contains TEXT (guards against pid reuse).
e2e_pid_mentions() {
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$2"
}

# e2e_stop_pid PID TEXT [SECONDS]: SIGTERM, wait, then SIGKILL; only if the command line names TEXT.
e2e_stop_pid() {
  local pid=$1 text=$2 secs=${3:-15} i
  [ -n "$pid" ] && e2e_pid_mentions "$pid" "$text" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
}

# e2e_kill_mentioning TEXT: SIGKILL every process whose command line names TEXT (the test's
# temporary directory): containerd shims (-address DIR/...), conmon (its paths), leftover helpers.
e2e_kill_mentioning() {
  local text=$1 p pid
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [ "$pid" = $$ ] && continue
    [ "$pid" = "$BASHPID" ] && continue
    e2e_pid_mentions "$pid" "$text" || continue
    # not the scripts of this very cleanup (they name the directory too)
    grep -qE '(^|/)(bash|dash|sh)$' <<<"$(readlink "$p/exe" 2>/dev/null)" && continue
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# e2e_cgroup_sweep NAME: for the cgroup directories called NAME directly under each hierarchy's
# root (the parent cgroup a test gave its containers), kill every process in them and remove
# the whole subtree, deepest first. Thaws frozen ones first so SIGKILL is delivered.
e2e_cgroup_sweep() {
  local name=$1 top d
  [ -n "$name" ] || return 0
  for top in /sys/fs/cgroup/*/"$name" /sys/fs/cgroup/"$name"; do
    [ -d "$top" ] || continue
    while read -r d; do
      [ -f "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
      [ -f "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
    done < <(find "$top" -type d)
    local round
    for round in 1 2 3 4 5 6 7 8 9 10; do
      local left=0
      while read -r d; do
        while read -r pid; do
          [ -n "$pid" ] && { kill -KILL "$pid" 2>/dev/null; left=1; }
        done <"$d/cgroup.procs"
      done < <(find "$top" -type d)
      [ $left = 0 ] && break
      sleep 0.2
    done
    find "$top" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

# e2e_umount_under DIR: unmount everything mounted at or below DIR, deepest first.
e2e_umount_under() {
  local dir=$1 m
  # field 5 of mountinfo is the mount point (octal escapes for spaces; our paths have none)
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}

# e2e_remove_dir DIR: unmount what is below DIR and remove it (only paths under /tmp-like roots
# made by mktemp: refuses anything not named tsrun-e2e-*).
e2e_remove_dir() {
  local dir=$1
  case $(basename "$dir") in tsrun-e2e-*) ;; *) e2e_die "refusing to remove $dir" ;; esac
  e2e_umount_under "$dir"
  rm -rf --one-file-system "$dir" 2>/dev/null || { sleep 0.5; e2e_umount_under "$dir"; rm -rf "$dir"; }
}
