import { defaultSpec } from '../spec/default-spec';
import type { Spec } from '../spec/types';
import { buildExecPlan, buildPlan } from './build';
import { deviceCgroupRules, deviceNodes } from './devices';
import { CLONE, MS, S_IFCHR } from './linux';
import { namespacePlan } from './namespaces';
import { capabilityMasks, cpuMask, ioPriority, rlimits, schedAttr } from './process';
import { encodePlan, T } from './wire';

const input = {
  bundle: '/bundle',
  id: 'c1',
  execFifo: '/run/tsrun/c1/exec.fifo',
  cgroups: { v2: false, hierarchies: [{ name: 'memory', options: 'memory', hostPath: '/sys/fs/cgroup/memory/c1' }] },
};

function spec(edit: (s: Spec) => void = () => {}): Spec {
  const s = defaultSpec({ rootless: false, uid: 0, gid: 0 });
  edit(s);
  return s;
}

describe('buildPlan', () => {
  test('the default spec: namespaces, rootfs, devices, process', () => {
    const p = buildPlan(spec(), input);
    expect(p.cloneFlags).toBe(CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS | CLONE.NEWCGROUP);
    expect(p.rootfs).toBe('/bundle/rootfs');
    expect(p.readonlyRoot).toBe(true);
    expect(p.rootfsPropagation).toBe(MS.SLAVE | MS.REC);
    expect(p.hostname).toBe('tsrun');
    expect(p.devices.map((d) => d.path)).toEqual(['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);
    expect(p.args).toEqual(['sh']);
    expect(p.umask).toBe(0o022);
    expect(p.sessionKeyring).toBe('_ses.c1');
    expect(p.capabilities?.bounding).toBe((1n << 29n) | (1n << 5n) | (1n << 10n));
  });

  test('a new user namespace makes device nodes bind mounts', () => {
    const p = buildPlan(spec((s) => s.linux!.namespaces!.push({ type: 'user' })), input);
    expect(p.devices.every((d) => d.bind)).toBe(true);
  });

  test('a joined user namespace binds device nodes too, and supplies idmap mounts their mapping', () => {
    const p = buildPlan(spec((s) => {
      s.linux!.namespaces!.push({ type: 'user', path: '/proc/9/ns/user' });
      s.mounts!.push({ destination: '/m', type: 'bind', source: '/h', options: ['bind', 'idmap'] });
    }), input);
    expect(p.devices.every((d) => d.bind)).toBe(true);
    expect(p.mounts[p.mounts.length - 1].idmap).toMatchObject({ usernsPath: '/proc/9/ns/user', recursive: false });
    // the init learns which mounts wait for a tree from the parent
    const records = (buf: Buffer) => {
      const out: [number, Buffer][] = [];
      for (let off = 0; off < buf.length; off += 8 + buf.readUInt32LE(off + 4)) out.push([buf.readUInt16LE(off), buf.subarray(off + 8, off + 8 + buf.readUInt32LE(off + 4))]);
      return out;
    };
    const mounts = records(encodePlan(p)).filter(([tag]) => tag === T.MOUNT);
    expect(mounts.map(([, v]) => records(v).some(([tag]) => tag === T.M_IDMAP))).toEqual(p.mounts.map((m) => m.idmap !== undefined));
  });

  test('hostname only with a new uts namespace; rootfsPropagation and --no-pivot', () => {
    const p = buildPlan(spec((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts');
      s.linux!.rootfsPropagation = 'shared';
    }), { ...input, noPivot: true });
    expect(p.hostname).toBeUndefined();
    expect(p.rootfsPropagation).toBe(MS.SHARED | MS.REC);
    expect(p.noPivot).toBe(true);
  });

  test('--no-pivot without a mount namespace is refused', () => {
    const s = spec((x) => (x.linux!.namespaces = x.linux!.namespaces!.filter((n) => n.type !== 'mount')));
    expect(() => buildPlan(s, { ...input, noPivot: true })).toThrow('--no-pivot needs a new mount namespace');
  });

  test('an exec plan joins, creates nothing and skips the rootfs', () => {
    const p = buildExecPlan(spec().process!, { joins: [{ flag: CLONE.NEWPID, path: '/proc/1/ns/pid' }], preserveFds: 2 });
    expect(p).toMatchObject({ cloneFlags: 0, execMode: true, mounts: [], devices: [], preserveFds: 2 });
    expect(p.rootfs).toBeUndefined();
  });
});

describe('process values', () => {
  test('capability names become masks; unknown names are errors with their path', () => {
    expect(capabilityMasks({ effective: ['CAP_CHOWN', 'CAP_SYS_ADMIN'] }).effective).toBe(1n | (1n << 21n));
    expect(() => capabilityMasks({ ambient: ['CAP_NOPE'] })).toThrow('process.capabilities.ambient[0]: unknown capability "CAP_NOPE"');
  });

  test('rlimits: names to numbers, huge values to RLIM_INFINITY', () => {
    expect(rlimits([{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2 ** 64 }])).toEqual([{ type: 7, soft: 1024n, hard: 0xffffffffffffffffn }]);
  });

  test('sched_attr layout, ioprio value, cpu masks', () => {
    const b = schedAttr({ policy: 'SCHED_BATCH', nice: -5, flags: ['SCHED_FLAG_RESET_ON_FORK'] });
    expect([b.readUInt32LE(0), b.readUInt32LE(4), Number(b.readBigUInt64LE(8)), b.readInt32LE(16)]).toEqual([48, 3, 1, -5]);
    expect(ioPriority({ class: 'IOPRIO_CLASS_BE', priority: 4 })).toBe((2 << 13) | 4);
    const m = cpuMask('0-2,9', 'x');
    expect([m[0], m[1]]).toEqual([0b111, 0b10]);
    expect(() => cpuMask('3-1', 'process.execCPUAffinity.final')).toThrow('process.execCPUAffinity.final: invalid CPU range "3-1"');
  });
});

test('namespaces: new ones as clone flags, paths as joins, time offsets text', () => {
  const p = namespacePlan({
    namespaces: [{ type: 'pid' }, { type: 'network', path: '/run/netns/x' }, { type: 'time' }],
    timeOffsets: { monotonic: { secs: 7, nanosecs: 1 }, boottime: { secs: -3 } },
  });
  expect(p.cloneFlags).toBe(CLONE.NEWPID | CLONE.NEWTIME);
  expect(p.joins).toEqual([{ flag: CLONE.NEWNET, path: '/run/netns/x' }]);
  expect(p.timeOffsets).toBe('monotonic 7 1\nboottime -3 0\n');
});

test('devices: config entries override defaults; cgroup rules follow runc', () => {
  const nodes = deviceNodes([{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600 }], { defaults: true, inUserNamespace: false });
  expect(nodes.find((n) => n.path === '/dev/null')).toMatchObject({ type: S_IFCHR, mode: 0o600 });
  const rules = deviceCgroupRules([{ allow: false, access: 'rwm' }], [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }]);
  expect(rules[0]).toEqual({ allow: false, access: 'rwm' });
  expect(rules).toContainEqual({ allow: true, type: 'c', major: 136, minor: undefined, access: 'rwm' });
  expect(rules[rules.length - 1]).toEqual({ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' });
});

test('the wire encoding is TLV records the init can walk', () => {
  const buf = encodePlan(buildPlan(spec(), input));
  const tags: number[] = [];
  for (let off = 0; off < buf.length; ) {
    const tag = buf.readUInt16LE(off);
    const len = buf.readUInt32LE(off + 4);
    tags.push(tag);
    if (tag === T.ROOTFS) expect(buf.subarray(off + 8, off + 8 + len).toString()).toBe('/bundle/rootfs');
    off += 8 + len;
    expect(off).toBeLessThanOrEqual(buf.length);
  }
  expect(tags).toEqual(expect.arrayContaining([T.CLONE_FLAGS, T.ROOTFS, T.MOUNT, T.DEVICE, T.ARG, T.ENV, T.CWD, T.UID, T.GID, T.CAPS, T.EXEC_FIFO]));
  expect(tags.filter((t) => t === T.MOUNT).length).toBeGreaterThan(5);
});

test('a plan larger than the encoder starts with reads back intact (records past every growth)', () => {
  const plan = buildPlan(spec((s) => {
    s.process!.env = Array.from({ length: 400 }, (_, i) => `VAR_${i}=${'v'.repeat(i % 50)}`);
    for (let i = 0; i < 60; i++) s.mounts!.push({ destination: `/mnt/m${i}`, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', `size=${i}k`] });
  }), input);
  const seccomp = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
  plan.seccomp = seccomp;
  const buf = encodePlan(plan);
  const top: [number, Buffer][] = [];
  for (let off = 0; off < buf.length; ) {
    const len = buf.readUInt32LE(off + 4);
    top.push([buf.readUInt16LE(off), buf.subarray(off + 8, off + 8 + len)]);
    off += 8 + len;
    expect(off).toBeLessThanOrEqual(buf.length);
  }
  expect(top.filter(([t]) => t === T.ENV).map(([, v]) => v.toString())).toEqual(plan.env);
  expect(top.find(([t]) => t === T.SECCOMP)?.[1].equals(seccomp)).toBe(true);
  const mountDests = top.filter(([t]) => t === T.MOUNT).map(([, v]) => {
    expect(v.readUInt16LE(0)).toBe(T.M_DEST);
    return v.subarray(8, 8 + v.readUInt32LE(4)).toString();
  });
  expect(mountDests).toEqual(plan.mounts.map((m) => m.destination));
  expect(top.find(([t]) => t === T.EXEC_FIFO)?.[1].toString()).toBe(input.execFifo);
});
