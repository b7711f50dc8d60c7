/**
 * The same bundle under runc and tsrun: what the container sees must match. Skipped when runc is
 * not installed. Output that legitimately differs (times, inode numbers, pipe names) is
 * normalised away before comparing.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Sandbox, sh } from '../harness';
import type { Spec } from '../../src/spec/types';

const RUNC = spawnSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).stdout.trim();
const withRunc = RUNC ? test : test.skip;
if (!RUNC) test.skip('runc is not installed: differential tests skipped', () => {});

let box: Sandbox;
let runcRoot: string;
const runcIds: string[] = [];
beforeAll(() => {
  box = new Sandbox('h3diff');
  // a user namespace's mapped root must be able to reach the bundles
  fs.chmodSync(box.dir, 0o711);
  runcRoot = path.join(box.dir, 'runc-state');
});
afterAll(() => {
  for (const id of runcIds) spawnSync(RUNC, ['--root', runcRoot, 'delete', '--force', id]);
  box.cleanup();
});

interface Pair {
  runc: string;
  tsrun: string;
}

/** Runs the script in two fresh, identical bundles, one per runtime. */
function both(edit: (s: Spec) => void, script: string, prepare: (bundle: string) => void = () => {}): Pair {
  const make = () => {
    const b = box.bundle((s) => {
      edit(s);
      s.process!.args = sh(script);
    });
    prepare(b);
    return b;
  };
  const runcBundle = make();
  const tsrunBundle = make();
  const id = box.id('h3diff-runc');
  runcIds.push(id);
  const r = spawnSync(RUNC, ['--root', runcRoot, 'run', '--bundle', runcBundle, id], { encoding: 'utf8', timeout: 30000, stdio: ['ignore', 'pipe', 'pipe'] });
  const t = box.run(tsrunBundle);
  expect({ runtime: 'runc', stderr: r.stderr, status: r.status }).toEqual({ runtime: 'runc', stderr: '', status: 0 });
  expect({ runtime: 'tsrun', stderr: t.stderr, status: t.status }).toEqual({ runtime: 'tsrun', stderr: '', status: 0 });
  return { runc: r.stdout, tsrun: t.stdout };
}

function expectSame(p: Pair, normalise: (s: string) => string = (s) => s): void {
  expect(normalise(p.tsrun)).toEqual(normalise(p.runc));
}

const STATUS = 'grep -E "^(Cap|NoNewPrivs|Seccomp:|Uid|Gid|Groups|Umask)" /proc/self/status';
/** `ls -la` without dates and without directory sizes (tmpfs sizes follow the entry count). */
const LS = (dirs: string) => `ls -la ${dirs} | sed -E 's/ +[A-Z][a-z]{2} +[0-9]+ +[0-9:]+ / /'`;
const noDirSizes = (s: string) => s.replace(/^(d\S+\s+\d+\s+\S+\s+\S+\s+)\d+/gm, '$1N').replace(/ +/g, ' ');
/** mountinfo from the mount point on, without peer group tags (they are per-host counters). */
const MOUNTS = `cut -d" " -f5- /proc/self/mountinfo | sed -E 's/ (shared|master|propagate_from):[0-9]+//g' | sort`;

withRunc('default config: capabilities, NoNewPrivs, ids, umask, limits, env, cwd', () => {
  expectSame(both(() => {}, `${STATUS}; id; cat /proc/self/limits; umask; env | sort; pwd; cat /proc/self/oom_score_adj`));
});

withRunc('non-root user with ambient caps, rlimits, oomScoreAdj and a missing cwd', () => {
  expectSame(
    both(
      (s) => {
        s.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 6] };
        s.process!.cwd = '/work/here';
        s.process!.capabilities = {
          bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
          permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
          effective: ['CAP_KILL'],
          inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
          ambient: ['CAP_NET_BIND_SERVICE'],
        };
        s.process!.rlimits = [
          { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 },
          { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
        ];
        s.process!.noNewPrivileges = false;
        s.process!.oomScoreAdj = 100;
      },
      `${STATUS}; id; cat /proc/self/limits; umask; pwd; ls -ld /work/here /work | cut -d" " -f1-12; env | sort; cat /proc/self/oom_score_adj`,
    ),
  );
});

withRunc('a non-root user in a cwd only root can search', () => {
  expectSame(
    both((s) => {
      s.process!.user = { uid: 1000, gid: 1000 };
      s.process!.cwd = '/root';
    }, 'pwd; ls 2>&1; true'),
  );
});

withRunc('env with a repeated name and an empty HOME; ambient capabilities the kernel would refuse', () => {
  expectSame(both((s) => (s.process!.env = ['HOME=', 'A=1', 'PATH=/bin', 'AB=2', 'A=3']), 'env'));
  expectSame(
    both((s) => {
      s.process!.user = { uid: 1000, gid: 1000 };
      s.process!.capabilities = { bounding: ['CAP_KILL'], permitted: ['CAP_KILL'], effective: ['CAP_KILL'], inheritable: [], ambient: ['CAP_KILL'] };
    }, STATUS),
  );
});

withRunc('hostname, and the host name when none is set', () => {
  // (runc 1.1 ignores "domainname", which came with runtime-spec 1.2: not compared)
  const script = 'hostname; cat /proc/sys/kernel/domainname';
  expectSame(both((s) => (s.hostname = 'h3-diff'), script));
  expectSame(both((s) => delete s.hostname, script));
});

withRunc('/dev: names, modes, owners and device numbers, with extra linux.devices', () => {
  expectSame(
    both((s) => {
      s.linux!.devices = [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0 },
        { path: '/dev/sub/loopx', type: 'b', major: 7, minor: 200, fileMode: 0o640, uid: 5, gid: 6 },
      ];
    }, LS('/dev /dev/pts /dev/shm /dev/mqueue /dev/sub')),
    noDirSizes,
  );
});

withRunc('mount points, their options and file systems (outside /sys/fs/cgroup)', () => {
  const outsideCgroup = (s: string) => s.split('\n').filter((l) => !l.startsWith('/sys/fs/cgroup')).join('\n');
  expectSame(both(() => {}, MOUNTS), outsideCgroup);
  expectSame(both((s) => (s.root!.readonly = true), MOUNTS), outsideCgroup);
});

withRunc('the cgroup hierarchies mounted under /sys/fs/cgroup', () => {
  // runc (1.1) leaves the tmpfs holding the v1 hierarchies writable and names the systemd
  // hierarchy's source "systemd"; tsrun keeps the tmpfs read-only as the mount asks (see the report)
  const cgroupMounts = (s: string) =>
    s
      .split('\n')
      .filter((l) => l.startsWith('/sys/fs/cgroup/'))
      .map((l) => l.replace(/ - cgroup \S+ /, ' - cgroup SOURCE '))
      .join('\n');
  expectSame(both(() => {}, MOUNTS), cgroupMounts);
});

withRunc('sysctl, masked and read-only paths', () => {
  expectSame(
    both(
      (s) => (s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '9000' }),
      'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax; cat /proc/keys /proc/timer_list | wc -c; ls -A /sys/firmware /proc/acpi 2>&1; echo 1 2>&1 >/proc/sys/kernel/msgmax; touch /sys/x 2>&1; true',
    ),
  );
});

withRunc('user namespace with two ranges: maps, ids, capabilities, /dev and mounts', () => {
  const chownRootfs = (b: string) => {
    const r = spawnSync('chown', ['-R', '100000:100000', path.join(b, 'rootfs')]);
    if (r.status !== 0) throw new Error(String(r.stderr));
  };
  const maps = [
    { containerID: 0, hostID: 100000, size: 1000 },
    { containerID: 1000, hostID: 200000, size: 10 },
  ];
  const userns = (s: Spec) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = maps;
    s.linux!.gidMappings = maps;
  };
  expectSame(both(userns, `cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; ${STATUS}; id`, chownRootfs));
  // runc mounts /dev/mqueue before it switches to the namespace's root group: its group shows
  // as the overflow gid there, which is of no consequence (see the report)
  const mqueueGroup = (s: string) => noDirSizes(s).replace(/^(d\S+ \d+ root )(nogroup|root)( N mqueue)$/m, '$1GROUP$3');
  expectSame(both(userns, LS('/dev'), chownRootfs), mqueueGroup);
  const outsideCgroup = (s: string) => s.split('\n').filter((l) => !l.startsWith('/sys/fs/cgroup')).join('\n');
  expectSame(both(userns, MOUNTS, chownRootfs), outsideCgroup);
});
