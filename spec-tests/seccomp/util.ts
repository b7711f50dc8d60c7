/** Shared pieces of the seccomp spec tests: a static syscall probe and a docker-shaped profile. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO } from '../harness';
import type { LinuxSeccomp, LinuxSyscall, Spec } from '../../src/spec/types';

/** The tests name x86_64 syscall numbers for the probe. */
export const onX86_64 = process.arch === 'x64';

/** x86_64 numbers used by the probe tests. */
export const NR = {
  clone: 56,
  personality: 135,
  sched_get_priority_max: 146,
  unshare: 272,
  landlock_create_ruleset: 444, // newer than the test profile: the kernel has it, the profile does not know it
} as const;

let probe: string | undefined;

/** Build fixtures/syscall-probe.c statically once per test process. */
export function probeBinary(): string {
  if (probe) return probe;
  const out = path.join(os.tmpdir(), `tsrun-syscall-probe-${process.pid}`);
  const r = spawnSync('cc', ['-static', '-O1', '-o', out, path.join(REPO, 'spec-tests/fixtures/syscall-probe.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc syscall-probe: ${r.stderr}`);
  probe = out;
  return out;
}

/** Copy the probe into the bundle as /bin/syscall-probe. */
export function addProbe(bundle: string): string {
  fs.copyFileSync(probeBinary(), path.join(bundle, 'rootfs/bin/syscall-probe'));
  fs.chmodSync(path.join(bundle, 'rootfs/bin/syscall-probe'), 0o755);
  return bundle;
}

export function removeProbe(): void {
  if (probe) fs.rmSync(probe, { force: true });
}

/** A bundle edit that sets linux.seccomp. */
export function withProfile(profile: LinuxSeccomp): (s: Spec) => void {
  return (s) => {
    s.linux = { ...s.linux, seccomp: profile };
  };
}

/**
 * An allow-list in the shape of the profiles docker and podman send: default ERRNO (EPERM), the
 * syscalls a busybox shell and its applets need, personality only for the usual domains, clone
 * only without namespace flags. Written for these tests; nothing lets a process unshare, mount,
 * pivot_root, setns, ptrace or load modules. Its highest x86_64 syscall is rseq (334), so newer
 * ones take the ENOSYS path.
 */
export function shellProfile(): LinuxSeccomp {
  const allowed = [
    // files and directories
    'read', 'write', 'readv', 'writev', 'pread64', 'pwrite64', 'open', 'openat', 'close', 'creat',
    'lseek', 'stat', 'fstat', 'lstat', 'newfstatat', 'statfs', 'fstatfs', 'access', 'faccessat',
    'getdents', 'getdents64', 'getcwd', 'chdir', 'fchdir', 'mkdir', 'mkdirat', 'rmdir', 'rename',
    'renameat', 'renameat2', 'unlink', 'unlinkat', 'link', 'linkat', 'symlink', 'symlinkat',
    'readlink', 'readlinkat', 'chmod', 'fchmod', 'fchmodat', 'chown', 'fchown', 'lchown', 'fchownat',
    'umask', 'utimensat', 'truncate', 'ftruncate', 'fsync', 'fdatasync', 'flock', 'fcntl', 'ioctl',
    'dup', 'dup2', 'dup3', 'pipe', 'pipe2', 'sendfile', 'poll', 'ppoll', 'select', 'pselect6',
    // memory, signals, time
    'brk', 'mmap', 'munmap', 'mprotect', 'mremap', 'madvise', 'rt_sigaction', 'rt_sigprocmask',
    'rt_sigreturn', 'rt_sigsuspend', 'sigaltstack', 'kill', 'tgkill', 'tkill', 'pause', 'nanosleep',
    'clock_nanosleep', 'clock_gettime', 'clock_getres', 'gettimeofday', 'time', 'times', 'alarm',
    // processes and identity
    'fork', 'vfork', 'execve', 'wait4', 'waitid', 'exit', 'exit_group', 'getpid', 'getppid',
    'gettid', 'getuid', 'geteuid', 'getgid', 'getegid', 'getgroups', 'getresuid', 'getresgid',
    'getpgrp', 'getpgid', 'setpgid', 'getsid', 'setsid', 'uname', 'sysinfo', 'getrlimit',
    'prlimit64', 'getrusage', 'getpriority', 'sched_yield', 'sched_getaffinity', 'prctl',
    'arch_prctl', 'set_tid_address', 'set_robust_list', 'get_robust_list', 'futex', 'getrandom',
    'rseq', 'getcpu',
    // sockets a shell may touch
    'socket', 'connect', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg', 'getsockname', 'getpeername',
    'socketpair', 'setsockopt', 'getsockopt', 'shutdown',
  ];
  const rule = (names: string[], extra: Partial<LinuxSyscall> = {}): LinuxSyscall => ({ names, action: 'SCMP_ACT_ALLOW', ...extra });
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      rule(allowed),
      // the probe's own query: nothing else of the scheduler
      rule(['sched_get_priority_max']),
      ...[0x0, 0x8, 0x20000, 0x20008, 0xffffffff].map((domain) =>
        rule(['personality'], { args: [{ index: 0, value: domain, op: 'SCMP_CMP_EQ' }] }),
      ),
      // clone without any CLONE_NEW* flag (0x7e020000: NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET)
      rule(['clone'], { args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] }),
    ],
  };
}
