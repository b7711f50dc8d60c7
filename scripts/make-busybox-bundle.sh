#!/usr/bin/env bash
# Build a small OCI bundle around Debian's static busybox, for manual runs and spec tests.
#
#   scripts/make-busybox-bundle.sh [DIR] [ARG...]
#
# DIR defaults to ./bundle. The rootfs is rebuilt from scratch every time; config.json comes
# from `tsrun spec` (so the bundle always matches what tsrun itself generates) and is then
# patched: no terminal (scripts and tests have no tty), args from ARG... (default: sh).
# Environment: BUNDLE_RW=1 makes root writable; TSRUN overrides the command used for `spec`
# (default: node <repo>/dist/tsrun.js).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-./bundle}
[ $# -gt 0 ] && shift
busybox=/bin/busybox

if [ ! -x "$busybox" ] || ! "$busybox" --list >/dev/null 2>&1; then
  echo "make-busybox-bundle: $busybox missing; installing busybox-static" >&2
  apt-get install -y busybox-static >&2
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rootfs=$dir/rootfs

rm -rf "$rootfs"
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,root,home,tmp,var,run}
chmod 1777 "$rootfs/tmp"
chmod 0700 "$rootfs/root"

cp "$busybox" "$rootfs/bin/busybox"
# Hard links (one inode) keep the rootfs small and need no absolute symlink targets.
"$rootfs/bin/busybox" --install "$rootfs/bin"

cat >"$rootfs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$rootfs/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo tsrun >"$rootfs/etc/hostname"

tsrun_cmd=${TSRUN:-node $repo/dist/tsrun.js}
rm -f "$dir/config.json"
# shellcheck disable=SC2086 # TSRUN may be a command with arguments
if ! $tsrun_cmd spec --bundle "$dir" >/dev/null || [ ! -s "$dir/config.json" ]; then
  echo "make-busybox-bundle: '$tsrun_cmd spec' failed (run 'npm run build' first, or set TSRUN)" >&2
  exit 1
fi

BUNDLE_CONFIG=$dir/config.json node -e '
  const fs = require("fs");
  const file = process.env.BUNDLE_CONFIG;
  const config = JSON.parse(fs.readFileSync(file, "utf8"));
  const args = process.argv.slice(1);
  config.process.terminal = false;
  config.process.args = args.length ? args : ["sh"];
  if (process.env.BUNDLE_RW === "1") config.root.readonly = false;
  fs.writeFileSync(file, JSON.stringify(config, null, "\t") + "\n");
' -- "$@"
