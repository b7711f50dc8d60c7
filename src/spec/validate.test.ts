import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsrunError } from '../errors';
import type { Spec } from './types';
import { ConfigError, formatPath, loadConfig, validateConfig, validateProcess } from './validate';

/** A config touching every section, valid under all rules. */
function fullConfig(): Spec {
  return {
    ociVersion: '1.2.0',
    process: {
      terminal: false,
      consoleSize: { height: 24, width: 80 },
      user: { uid: 1000, gid: 1000, umask: 0o22, additionalGids: [5, 10] },
      args: ['/bin/sh', '-c', 'true'],
      env: ['PATH=/usr/bin:/bin', 'EMPTY='],
      cwd: '/work',
      capabilities: {
        bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_CHECKPOINT_RESTORE'],
        effective: ['CAP_KILL'],
        inheritable: [],
        permitted: ['CAP_KILL'],
        ambient: [],
      },
      rlimits: [
        { type: 'RLIMIT_NOFILE', hard: 1024, soft: 512 },
        // RLIM_INFINITY as Go writes it; JSON.parse rounds it but it stays an integer.
        { type: 'RLIMIT_CORE', hard: 18446744073709551615, soft: 0 },
      ],
      noNewPrivileges: true,
      apparmorProfile: 'unconfined',
      oomScoreAdj: -500,
      scheduler: { policy: 'SCHED_FIFO', priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK'] },
      selinuxLabel: 'system_u:system_r:container_t:s0',
      ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 4 },
      execCPUAffinity: { initial: '0', final: '0-3,7' },
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'box',
    domainname: 'example.org',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro'] },
      {
        destination: '/mapped',
        source: '/srv/mapped',
        options: ['bind', 'idmap'],
        uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
        gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      },
      { destination: '/usermapped', source: '/srv/x', options: ['rbind', 'ridmap'] },
    ],
    hooks: {
      prestart: [{ path: '/usr/bin/netns-setup', args: ['netns-setup', 'x'], env: ['A=1'], timeout: 5 }],
      createRuntime: [{ path: '/bin/true' }],
      createContainer: [{ path: '/bin/true' }],
      startContainer: [{ path: '/bin/true' }],
      poststart: [{ path: '/bin/true' }],
      poststop: [{ path: '/bin/true' }],
    },
    annotations: { 'org.example.key': 'value' },
    linux: {
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      timeOffsets: { monotonic: { secs: 3600, nanosecs: 0 }, boottime: { secs: -10 } },
      sysctl: {
        'net.ipv4.ip_forward': '1',
        'net/ipv4/ip_unprivileged_port_start': '0',
        'kernel.shmmax': '1000000',
        'kernel.msgmax': '8192',
        'fs.mqueue.msg_max': '10',
        'kernel.domainname': 'example.org',
        'user.max_user_namespaces': '10',
      },
      resources: {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
          { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' },
        ],
        memory: { limit: 536870912, reservation: 268435456, swap: -1, swappiness: 60, disableOOMKiller: false },
        cpu: { shares: 1024, quota: 100000, period: 100000, burst: 1000, cpus: '0-1', mems: '0', idle: 0 },
        pids: { limit: 100 },
        blockIO: {
          weight: 500,
          weightDevice: [{ major: 8, minor: 0, weight: 600 }],
          throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        },
        hugepageLimits: [{ pageSize: '2MB', limit: 209715200 }],
        network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }] },
        rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
        unified: { 'memory.high': '400000000' },
      },
      cgroupsPath: '/tsrun/test',
      namespaces: [
        { type: 'pid' },
        { type: 'network' },
        { type: 'mount' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'user' },
        { type: 'cgroup' },
        { type: 'time' },
      ],
      devices: [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
        { path: '/dev/fifo', type: 'p' },
      ],
      netDevices: { eth1: { name: 'ctr1' }, dummy0: {} },
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 1,
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
        flags: ['SECCOMP_FILTER_FLAG_LOG'],
        listenerPath: '/run/seccomp-agent.sock',
        syscalls: [
          { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
          { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
          { names: ['mount'], action: 'SCMP_ACT_NOTIFY' },
          { names: ['ptrace'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
        ],
      },
      rootfsPropagation: 'rprivate',
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
      mountLabel: 'system_u:object_r:container_file_t:s0',
      intelRdt: { closID: 'guaranteed', l3CacheSchema: 'L3:0=ff', enableMonitoring: true },
      personality: { domain: 'LINUX32' },
      memoryPolicy: { mode: 'MPOL_BIND', nodes: '0-1', flags: ['MPOL_F_STATIC_NODES'] },
    },
  };
}

type Mutation = (spec: any) => void;

/** [mutation, expected full message]: each breaks exactly one rule of a valid config. */
const INVALID: [string, Mutation, string][] = [
  // schema: presence and types
  ['not an object', (s) => Object.assign(s, { __replace: 42 }), 'config.json: must be an object, got 42'],
  ['missing ociVersion', (s) => delete s.ociVersion, 'config.json: ociVersion: must be present'],
  ['missing process', (s) => delete s.process, 'config.json: process: must be present'],
  ['missing root', (s) => delete s.root, 'config.json: root: must be present'],
  ['ociVersion not a string', (s) => (s.ociVersion = 1), 'config.json: ociVersion: must be a string, got 1'],
  ['empty args', (s) => (s.process.args = []), 'config.json: process.args: must have at least 1 item'],
  ['missing args', (s) => delete s.process.args, 'config.json: process.args: must be present'],
  ['arg not a string', (s) => (s.process.args = ['sh', 3]), 'config.json: process.args[1]: must be a string, got 3'],
  ['missing cwd', (s) => delete s.process.cwd, 'config.json: process.cwd: must be present'],
  ['missing user.uid', (s) => delete s.process.user.uid, 'config.json: process.user.uid: must be present'],
  ['negative uid', (s) => (s.process.user.uid = -1), 'config.json: process.user.uid: must be >= 0, got -1'],
  ['uid too large', (s) => (s.process.user.gid = 4294967296), 'config.json: process.user.gid: must be <= 4294967295, got 4294967296'],
  ['fractional gid', (s) => (s.process.user.additionalGids = [1.5]), 'config.json: process.user.additionalGids[0]: must be an integer, got 1.5'],
  ['terminal not boolean', (s) => (s.process.terminal = 'yes'), 'config.json: process.terminal: must be a boolean, got "yes"'],
  ['consoleSize without width', (s) => (s.process.consoleSize = { height: 1 }), 'config.json: process.consoleSize.width: must be present'],
  ['oomScoreAdj out of range', (s) => (s.process.oomScoreAdj = 1001), 'config.json: process.oomScoreAdj: must be <= 1000, got 1001'],
  ['capability pattern', (s) => (s.process.capabilities.bounding = ['CHOWN']), 'config.json: process.capabilities.bounding[0]: unknown capability "CHOWN"'],
  ['rlimit pattern', (s) => (s.process.rlimits[0].type = 'NOFILE'), 'config.json: process.rlimits[0].type: unknown rlimit type "NOFILE"'],
  ['rlimit without hard', (s) => delete s.process.rlimits[1].hard, 'config.json: process.rlimits[1].hard: must be present'],
  ['unknown scheduler policy', (s) => (s.process.scheduler.policy = 'SCHED_FAST'), 'config.json: process.scheduler.policy: unknown scheduler policy "SCHED_FAST" (expected one of: SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE)'],
  ['ioPriority out of range', (s) => (s.process.ioPriority.priority = 8), 'config.json: process.ioPriority.priority: must be <= 7, got 8'],
  ['unknown ioPriority class', (s) => (s.process.ioPriority.class = 'RT'), 'config.json: process.ioPriority.class: unknown I/O priority class "RT" (expected one of: IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE)'],
  ['root.path missing', (s) => (s.root = {}), 'config.json: root.path: must be present'],
  ['mount without destination', (s) => delete s.mounts[1].destination, 'config.json: mounts[1].destination: must be present'],
  ['mount options not array', (s) => (s.mounts[0].options = 'ro'), 'config.json: mounts[0].options: must be an array, got "ro"'],
  ['hook without path', (s) => (s.hooks.poststop = [{ args: [] }]), 'config.json: hooks.poststop[0].path: must be present'],
  ['hook timeout zero', (s) => (s.hooks.prestart[0].timeout = 0), 'config.json: hooks.prestart[0].timeout: must be >= 1, got 0'],
  ['unknown namespace', (s) => (s.linux.namespaces[2].type = 'pidd'), 'config.json: linux.namespaces[2].type: unknown namespace "pidd" (expected one of: pid, network, mount, ipc, uts, user, cgroup, time)'],
  ['namespace without type', (s) => (s.linux.namespaces[0] = { path: '/proc/1/ns/pid' }), 'config.json: linux.namespaces[0].type: must be present'],
  ['mapping size zero', (s) => (s.linux.uidMappings[0].size = 0), 'config.json: linux.uidMappings[0].size: must be >= 1, got 0'],
  ['nanosecs too large', (s) => (s.linux.timeOffsets.monotonic.nanosecs = 1e9), 'config.json: linux.timeOffsets.monotonic.nanosecs: must be <= 999999999, got 1000000000'],
  ['sysctl value not string', (s) => (s.linux.sysctl['net.ipv4.ip_forward'] = 1), 'config.json: linux.sysctl["net.ipv4.ip_forward"]: must be a string, got 1'],
  ['unknown device type', (s) => (s.linux.devices[0].type = 'x'), 'config.json: linux.devices[0].type: unknown device type "x" (expected one of: c, b, u, p)'],
  ['device cgroup access', (s) => (s.linux.resources.devices[1].access = 'rwx'), 'config.json: linux.resources.devices[1].access: invalid device access "rwx" (use the letters r, w and m)'],
  ['device cgroup type', (s) => (s.linux.resources.devices[1].type = 'p'), 'config.json: linux.resources.devices[1].type: unknown device cgroup type "p" (expected one of: a, b, c)'],
  ['device cgroup major string', (s) => (s.linux.resources.devices[2].major = '136'), 'config.json: linux.resources.devices[2].major: must be an integer or null, got "136"'],
  ['swappiness over 100', (s) => (s.linux.resources.memory.swappiness = 101), 'config.json: linux.resources.memory.swappiness: must be <= 100, got 101'],
  ['memory limit not integer', (s) => (s.linux.resources.memory.limit = '1G'), 'config.json: linux.resources.memory.limit: must be an integer, got "1G"'],
  ['throttle without rate', (s) => delete s.linux.resources.blockIO.throttleReadBpsDevice[0].rate, 'config.json: linux.resources.blockIO.throttleReadBpsDevice[0].rate: must be present'],
  ['hugepage without pageSize', (s) => delete s.linux.resources.hugepageLimits[0].pageSize, 'config.json: linux.resources.hugepageLimits[0].pageSize: must be present'],
  ['rdma not object', (s) => (s.linux.resources.rdma.mlx5_1 = 3), 'config.json: linux.resources.rdma.mlx5_1: must be an object, got 3'],
  ['unified value number', (s) => (s.linux.resources.unified['memory.high'] = 4), 'config.json: linux.resources.unified["memory.high"]: must be a string, got 4'],
  ['seccomp default action', (s) => (s.linux.seccomp.defaultAction = 'SCMP_ACT_DENY'), 'config.json: linux.seccomp.defaultAction: unknown seccomp action "SCMP_ACT_DENY" (expected one of: SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY)'],
  ['seccomp arch', (s) => (s.linux.seccomp.architectures = ['x86_64']), 'config.json: linux.seccomp.architectures[0]: unknown seccomp architecture "x86_64"'],
  ['seccomp op', (s) => (s.linux.seccomp.syscalls[1].args[0].op = 'EQ'), 'config.json: linux.seccomp.syscalls[1].args[0].op: unknown seccomp operator "EQ" (expected one of: SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)'],
  ['seccomp arg index', (s) => (s.linux.seccomp.syscalls[1].args[0].index = 6), 'config.json: linux.seccomp.syscalls[1].args[0].index: must be <= 5, got 6'],
  ['seccomp names empty', (s) => (s.linux.seccomp.syscalls[0].names = []), 'config.json: linux.seccomp.syscalls[0].names: must have at least 1 item'],
  ['seccomp flag', (s) => (s.linux.seccomp.flags = ['TSYNC']), 'config.json: linux.seccomp.flags[0]: unknown seccomp flag "TSYNC" (expected one of: SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)'],
  ['rootfsPropagation', (s) => (s.linux.rootfsPropagation = 'rec_private'), 'config.json: linux.rootfsPropagation: unknown rootfs propagation "rec_private" (expected one of: shared, slave, private, unbindable, rshared, rslave, rprivate, runbindable)'],
  ['personality domain', (s) => (s.linux.personality.domain = 'LINUX64'), 'config.json: linux.personality.domain: unknown personality domain "LINUX64" (expected one of: LINUX, LINUX32)'],
  ['memory policy mode', (s) => (s.linux.memoryPolicy.mode = 'BIND'), 'config.json: linux.memoryPolicy.mode: unknown memory policy mode "BIND" (expected one of: MPOL_DEFAULT, MPOL_BIND, MPOL_INTERLEAVE, MPOL_WEIGHTED_INTERLEAVE, MPOL_PREFERRED, MPOL_PREFERRED_MANY, MPOL_LOCAL)'],
  ['netDevice name type', (s) => (s.linux.netDevices.eth1.name = 5), 'config.json: linux.netDevices.eth1.name: must be a string, got 5'],

  // semantic rules
  ['ociVersion 2.0.0', (s) => (s.ociVersion = '2.0.0'), 'config.json: ociVersion: unsupported version "2.0.0" (tsrun supports 1.0.x to 1.3.x)'],
  ['ociVersion 1.4.0', (s) => (s.ociVersion = '1.4.0'), 'config.json: ociVersion: unsupported version "1.4.0" (tsrun supports 1.0.x to 1.3.x)'],
  ['ociVersion garbage', (s) => (s.ociVersion = 'invalid'), 'config.json: ociVersion: unsupported version "invalid" (tsrun supports 1.0.x to 1.3.x)'],
  ['relative cwd', (s) => (s.process.cwd = 'work'), 'config.json: process.cwd: must be an absolute path, got "work"'],
  ['env without =', (s) => (s.process.env[1] = 'NOVALUE'), 'config.json: process.env[1]: must have the form NAME=VALUE, got "NOVALUE"'],
  ['env empty name', (s) => (s.process.env[0] = '=x'), 'config.json: process.env[0]: variable name must not be empty, got "=x"'],
  ['unknown capability', (s) => (s.process.capabilities.effective = ['CAP_KILL', 'CAP_TEST']), 'config.json: process.capabilities.effective[1]: unknown capability "CAP_TEST"'],
  ['unknown rlimit', (s) => (s.process.rlimits[0].type = 'RLIMIT_TEST'), 'config.json: process.rlimits[0].type: unknown rlimit type "RLIMIT_TEST"'],
  ['duplicate rlimit', (s) => (s.process.rlimits[1].type = 'RLIMIT_NOFILE'), 'config.json: process.rlimits[1].type: duplicate rlimit type "RLIMIT_NOFILE"'],
  ['soft above hard', (s) => (s.process.rlimits[0].soft = 2048), 'config.json: process.rlimits[0].soft: soft limit 2048 exceeds hard limit 1024'],
  ['nice out of range', (s) => (s.process.scheduler.nice = 20), 'config.json: process.scheduler.nice: must be between -20 and 19, got 20'],
  ['priority with SCHED_OTHER', (s) => (s.process.scheduler.policy = 'SCHED_OTHER'), 'config.json: process.scheduler.priority: only valid with SCHED_FIFO or SCHED_RR, not SCHED_OTHER'],
  ['runtime without deadline policy', (s) => (s.process.scheduler.runtime = 10), 'config.json: process.scheduler.runtime: only valid with SCHED_DEADLINE, not SCHED_FIFO'],
  ['bad cpu list', (s) => (s.process.execCPUAffinity.final = '0-a'), 'config.json: process.execCPUAffinity.final: invalid CPU list "0-a" (expected a form like "0-3,7")'],
  ['empty root path', (s) => (s.root.path = ''), 'config.json: root.path: must not be empty'],
  ['relative mount destination', (s) => (s.mounts[1].destination = 'data'), 'config.json: mounts[1].destination: must be an absolute path, got "data"'],
  ['mount uid without gid mappings', (s) => delete s.mounts[2].gidMappings, 'config.json: mounts[2].gidMappings: uidMappings and gidMappings must be given together'],
  ['idmap on non-bind mount', (s) => (s.mounts[0].options = ['idmap']), 'config.json: mounts[0]: id-mapped mounts are only supported for bind mounts'],
  [
    'idmap without any user namespace',
    (s) => {
      s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'user');
      delete s.linux.uidMappings;
      delete s.linux.gidMappings;
    },
    'config.json: mounts[3].options: "ridmap" needs uidMappings/gidMappings on the mount or a user namespace in linux.namespaces',
  ],
  ['relative hook path', (s) => (s.hooks.createRuntime[0].path = 'true'), 'config.json: hooks.createRuntime[0].path: must be an absolute path, got "true"'],
  ['duplicate namespace', (s) => s.linux.namespaces.push({ type: 'pid' }), 'config.json: linux.namespaces[8].type: duplicate namespace "pid"'],
  ['relative namespace path', (s) => (s.linux.namespaces[1].path = 'proc/1/ns/net'), 'config.json: linux.namespaces[1].path: must be an absolute path, got "proc/1/ns/net"'],
  [
    'uidMappings without user namespace',
    (s) => {
      s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'user');
      s.mounts.pop();
    },
    'config.json: linux.uidMappings: requires a user namespace ("user" in linux.namespaces)',
  ],
  [
    'new user namespace without mappings',
    (s) => {
      delete s.linux.uidMappings;
      delete s.linux.gidMappings;
    },
    'config.json: linux.uidMappings: must be present when a new user namespace is created (or give the namespace a path to join)',
  ],
  ['kernel.hostname sysctl', (s) => (s.linux.sysctl['kernel.hostname'] = 'x'), 'config.json: linux.sysctl["kernel.hostname"]: conflicts with the "hostname" field; set the hostname there'],
  [
    'user sysctl without user namespace',
    (s) => {
      s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'user');
      delete s.linux.uidMappings;
      delete s.linux.gidMappings;
      s.mounts.pop();
      s.linux.sysctl['user.max_user_namespaces'] = '0';
    },
    'config.json: linux.sysctl["user.max_user_namespaces"]: sysctl "user.max_user_namespaces" requires a new user namespace ("user" in linux.namespaces)',
  ],
  [
    'timeOffsets without time namespace',
    (s) => (s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'time')),
    'config.json: linux.timeOffsets: requires a time namespace ("time" in linux.namespaces)',
  ],
  ['timeOffsets when joining', (s) => (s.linux.namespaces[7].path = '/proc/1/ns/time'), 'config.json: linux.timeOffsets: cannot be set when joining an existing time namespace'],
  ['unknown clock', (s) => (s.linux.timeOffsets.realtime = { secs: 1 }), 'config.json: linux.timeOffsets.realtime: unknown clock "realtime" (expected monotonic or boottime)'],
  [
    'hostname without uts namespace',
    (s) => {
      s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'uts');
      delete s.domainname;
    },
    'config.json: hostname: requires a new uts namespace ("uts" in linux.namespaces)',
  ],
  ['host-wide sysctl', (s) => (s.linux.sysctl['vm.swappiness'] = '10'), 'config.json: linux.sysctl["vm.swappiness"]: sysctl "vm.swappiness" is not in a separate kernel namespace'],
  ['kernel.pid_max sysctl', (s) => (s.linux.sysctl['kernel.pid_max'] = '10'), 'config.json: linux.sysctl["kernel.pid_max"]: sysctl "kernel.pid_max" is not in a separate kernel namespace'],
  [
    'net sysctl without network namespace',
    (s) => {
      s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'network');
      delete s.linux.netDevices;
    },
    'config.json: linux.sysctl["net.ipv4.ip_forward"]: sysctl "net.ipv4.ip_forward" requires a new network namespace ("network" in linux.namespaces)',
  ],
  [
    'ipc sysctl without ipc namespace',
    (s) => (s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'ipc')),
    'config.json: linux.sysctl["kernel.shmmax"]: sysctl "kernel.shmmax" requires a new ipc namespace ("ipc" in linux.namespaces)',
  ],
  [
    'uts sysctl without uts namespace',
    (s) => {
      s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'uts');
      delete s.hostname;
      delete s.domainname;
    },
    'config.json: linux.sysctl["kernel.domainname"]: sysctl "kernel.domainname" requires a new uts namespace ("uts" in linux.namespaces)',
  ],
  ['char device without major', (s) => delete s.linux.devices[0].major, 'config.json: linux.devices[0].major: required for device type "c"'],
  ['relative device path', (s) => (s.linux.devices[1].path = 'dev/fifo'), 'config.json: linux.devices[1].path: must be an absolute path, got "dev/fifo"'],
  ['relative masked path', (s) => s.linux.maskedPaths.push('masked-relpath'), 'config.json: linux.maskedPaths[1]: must be an absolute path, got "masked-relpath"'],
  ['relative readonly path', (s) => (s.linux.readonlyPaths = ['proc/sys']), 'config.json: linux.readonlyPaths[0]: must be an absolute path, got "proc/sys"'],
  [
    'masked paths without mount namespace',
    (s) => (s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'mount')),
    'config.json: linux.maskedPaths: requires a new mount namespace ("mount" in linux.namespaces)',
  ],
  ['errnoRet with ALLOW', (s) => (s.linux.seccomp.syscalls[0].errnoRet = 1), 'config.json: linux.seccomp.syscalls[0].errnoRet: only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE'],
  ['defaultErrnoRet with KILL', (s) => (s.linux.seccomp.defaultAction = 'SCMP_ACT_KILL'), 'config.json: linux.seccomp.defaultErrnoRet: only valid with a SCMP_ACT_ERRNO or SCMP_ACT_TRACE defaultAction'],
  ['notify without listener', (s) => delete s.linux.seccomp.listenerPath, 'config.json: linux.seccomp.listenerPath: must be present when a rule uses SCMP_ACT_NOTIFY'],
  ['notify on write', (s) => s.linux.seccomp.syscalls[2].names.push('write'), 'config.json: linux.seccomp.syscalls[2].names: SCMP_ACT_NOTIFY cannot be used for the write syscall'],
  ['empty syscall name', (s) => (s.linux.seccomp.syscalls[0].names[1] = ''), 'config.json: linux.seccomp.syscalls[0].names[1]: must not be empty'],
  ['memory policy bind without nodes', (s) => delete s.linux.memoryPolicy.nodes, 'config.json: linux.memoryPolicy.nodes: must list at least one NUMA node for MPOL_BIND'],
  ['memory policy default with nodes', (s) => (s.linux.memoryPolicy.mode = 'MPOL_DEFAULT'), 'config.json: linux.memoryPolicy.nodes: must be empty for MPOL_DEFAULT'],
  [
    'netDevices without network namespace',
    (s) => {
      s.linux.namespaces = s.linux.namespaces.filter((n: any) => n.type !== 'network');
      delete s.linux.sysctl;
    },
    'config.json: linux.netDevices: requires a new network namespace ("network" in linux.namespaces)',
  ],
  ['bad net device name', (s) => (s.linux.netDevices.eth1.name = 'a/b'), 'config.json: linux.netDevices.eth1.name: invalid interface name "a/b"'],
  ['closID with slash', (s) => (s.linux.intelRdt.closID = '../x'), 'config.json: linux.intelRdt.closID: must not contain "/", got "../x"'],
];

function attempt(config: unknown, file?: string): unknown {
  try {
    validateConfig(config, file);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('validateConfig', () => {
  test('accepts a config using every section', () => {
    const config = fullConfig();
    expect(validateConfig(config)).toBe(config);
  });

  test('accepts a minimal config', () => {
    expect(() =>
      validateConfig({ ociVersion: '1.0.0', root: { path: '.' }, process: { user: { uid: 0, gid: 0 }, cwd: '/', args: ['true'] } }),
    ).not.toThrow();
  });

  test.each(['1.0.0', '1.0.1', '1.0.2', '1.0.2-dev', '1.1.0', '1.1.0-rc.1', '1.2.0', '1.2.1', '1.3.0', '1.3.0+dev'])(
    'accepts ociVersion %s',
    (version) => {
      const config = fullConfig();
      config.ociVersion = version;
      expect(() => validateConfig(config)).not.toThrow();
    },
  );

  test('has at least 40 distinct invalid cases', () => {
    expect(new Set(INVALID.map(([, , message]) => message)).size).toBe(INVALID.length);
    expect(INVALID.length).toBeGreaterThanOrEqual(40);
  });

  test.each(INVALID)('rejects: %s', (_name, mutate, message) => {
    let config: any = fullConfig();
    mutate(config);
    if (config.__replace !== undefined) config = config.__replace;
    const err = attempt(config);
    expect(err).toBeInstanceOf(TsrunError);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(message);
  });

  test('names the file given', () => {
    const err = attempt({ ociVersion: '1.0.0' }, 'bundle/config.json');
    expect((err as Error).message).toBe('bundle/config.json: process: must be present');
  });

  test('exposes path and rule separately', () => {
    const config: any = fullConfig();
    config.linux.namespaces[2].type = 'pidd';
    const err = attempt(config) as ConfigError;
    expect(err.path).toBe('linux.namespaces[2].type');
    expect(err.rule).toMatch(/^unknown namespace "pidd"/);
    expect(err.file).toBe('config.json');
  });

  test('ignores unknown properties, as runc does', () => {
    const config: any = fullConfig();
    config.somethingNew = { a: 1 };
    config.process.futureField = true;
    config.linux.resources.memory.futureKnob = 'x';
    config.windows = { layerFolders: [] };
    expect(() => validateConfig(config)).not.toThrow();
  });

  test('allows joining namespaces by path and a user namespace joined without mappings', () => {
    const config: any = fullConfig();
    delete config.linux.uidMappings;
    delete config.linux.gidMappings;
    config.linux.namespaces = config.linux.namespaces.map((ns: any) =>
      ns.type === 'user' || ns.type === 'network' ? { ...ns, path: `/proc/1/ns/${ns.type === 'network' ? 'net' : 'user'}` } : ns,
    );
    expect(() => validateConfig(config)).not.toThrow();
  });
});

describe('formatPath', () => {
  test.each<[(string | number)[], string]>([
    [[], ''],
    [['process', 'args', 0], 'process.args[0]'],
    [['linux', 'sysctl', 'net.ipv4.ip_forward'], 'linux.sysctl["net.ipv4.ip_forward"]'],
    [['annotations', 'a b'], 'annotations["a b"]'],
    [['linux', 'namespaces', 2, 'type'], 'linux.namespaces[2].type'],
  ])('%j -> %s', (segments, expected) => {
    expect(formatPath(segments)).toBe(expected);
  });

  test('keys that look like numbers inside objects stay keys', () => {
    const config: any = fullConfig();
    config.annotations = { '0': 5 };
    expect((attempt(config) as Error).message).toBe('config.json: annotations["0"]: must be a string, got 5');
  });

  test('JSON pointer escapes in keys are decoded', () => {
    const config: any = fullConfig();
    config.linux.resources.unified = { 'a/b~c': 1 };
    expect((attempt(config) as Error).message).toBe('config.json: linux.resources.unified["a/b~c"]: must be a string, got 1');
  });
});

describe('validateProcess', () => {
  const process = () => ({ user: { uid: 0, gid: 0 }, cwd: '/', args: ['sh'], env: ['A=1'] });

  test('accepts an exec process', () => {
    expect(validateProcess(process())).toEqual(process());
  });

  test.each<[string, Mutation, string]>([
    ['missing args', (p) => delete p.args, 'process.json: args: must be present'],
    ['relative cwd', (p) => (p.cwd = 'x'), 'process.json: cwd: must be an absolute path, got "x"'],
    ['unknown capability', (p) => (p.capabilities = { bounding: ['CAP_TEST'] }), 'process.json: capabilities.bounding[0]: unknown capability "CAP_TEST"'],
    ['uid type', (p) => (p.user.uid = 'root'), 'process.json: user.uid: must be an integer, got "root"'],
  ])('rejects: %s', (_name, mutate, message) => {
    const p: any = process();
    mutate(p);
    expect(() => validateProcess(p)).toThrow(message);
  });

  test('rejects a non-object', () => {
    expect(() => validateProcess([])).toThrow('process.json: must be an object, got []');
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsrun-spec-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('reads and validates <bundle>/config.json', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(fullConfig()));
    expect(loadConfig(dir).hostname).toBe('box');
  });

  test('missing file', () => {
    let err: any;
    try {
      loadConfig(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TsrunError);
    expect(err.message).toBe(`open ${dir}/config.json: no such file or directory`);
    expect(err.errno).toBe(2);
  });

  test('syntax error gives line and column', () => {
    writeFileSync(join(dir, 'config.json'), '{\n  "ociVersion": "1.0.0",\n}\n');
    expect(() => loadConfig(dir)).toThrow('config.json: invalid JSON at line 3, column 1: Expected double-quoted property name');
  });

  test('truncated file', () => {
    writeFileSync(join(dir, 'config.json'), '{\n  "ociVersion": ');
    expect(() => loadConfig(dir)).toThrow('config.json: invalid JSON at line 2, column 17: unexpected end of input');
  });

  test('empty file', () => {
    writeFileSync(join(dir, 'config.json'), '');
    expect(() => loadConfig(dir)).toThrow('config.json: invalid JSON at line 1, column 1: unexpected end of input');
  });

  test('validation errors name config.json', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...fullConfig(), ociVersion: '2.0.0' }));
    expect(() => loadConfig(dir)).toThrow('config.json: ociVersion: unsupported version "2.0.0"');
  });
});

describe('runc compatibility', () => {
  test('a new user namespace with only uidMappings is accepted, as runc does', () => {
    const config: any = fullConfig();
    delete config.linux.gidMappings;
    expect(() => validateConfig(config)).not.toThrow();
  });

  test('sysctl keys may use "/" separators', () => {
    const config: any = fullConfig();
    config.linux.sysctl = { 'net/ipv4/ip_forward': '1', 'kernel/shmmni': '10' };
    expect(() => validateConfig(config)).not.toThrow();
  });
});
