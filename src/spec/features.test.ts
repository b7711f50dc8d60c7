import { VERSION } from '../version';
import { featuresDocument, SUPPORTED_MOUNT_OPTIONS } from './features';
import { CAPABILITIES } from './known';

describe('featuresDocument', () => {
  const doc = featuresDocument();

  test('version range', () => {
    expect(doc.ociVersionMin).toBe('1.0.0');
    expect(doc.ociVersionMax).toBe('1.3.0');
  });

  test('hooks', () => {
    expect(doc.hooks).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  });

  test('namespaces', () => {
    expect(doc.linux?.namespaces).toEqual(['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time']);
  });

  test('all 41 capabilities, in kernel order', () => {
    expect(doc.linux?.capabilities).toHaveLength(41);
    expect(doc.linux?.capabilities?.[0]).toBe('CAP_CHOWN');
    expect(doc.linux?.capabilities?.[40]).toBe('CAP_CHECKPOINT_RESTORE');
    doc.linux?.capabilities?.forEach((name, i) => expect(CAPABILITIES[name]).toBe(i));
  });

  test('only implemented features are claimed', () => {
    expect(doc.linux?.cgroup).toEqual({ v1: true, v2: true, systemd: false, systemdUser: false, rdma: false });
    expect(doc.linux?.apparmor).toEqual({ enabled: false });
    expect(doc.linux?.selinux).toEqual({ enabled: false });
    expect(doc.linux?.intelRdt).toEqual({ enabled: false });
    expect(doc.linux?.mountExtensions).toEqual({ idmap: { enabled: true } });
    expect(doc.mountOptions).toEqual(expect.arrayContaining(['idmap', 'ridmap']));
    expect(doc.mountOptions).not.toContain('tmpcopyup');
    expect(doc.mountOptions).toEqual(expect.arrayContaining(['bind', 'rbind', 'ro', 'nosuid', 'rprivate']));
    expect(new Set(SUPPORTED_MOUNT_OPTIONS).size).toBe(SUPPORTED_MOUNT_OPTIONS.length);
  });

  test('seccomp: every action, operator and known flag; archs and flags as libseccomp and the kernel have them', () => {
    const seccomp = doc.linux?.seccomp;
    expect(seccomp?.enabled).toBe(true);
    expect(seccomp?.actions).toHaveLength(9);
    expect(seccomp?.actions).toEqual(expect.arrayContaining(['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_NOTIFY', 'SCMP_ACT_KILL_PROCESS']));
    expect(seccomp?.operators).toHaveLength(7);
    expect(seccomp?.archs).toEqual(expect.arrayContaining(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64']));
    expect(seccomp?.archs).not.toContain('SCMP_ARCH_NATIVE');
    expect(seccomp?.knownFlags).toEqual(['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']);
    for (const flag of seccomp?.supportedFlags ?? []) expect(seccomp?.knownFlags).toContain(flag);
  });

  test('annotations carry the version and libseccomp\'s', () => {
    expect(doc.annotations?.['io.github.tsrun.version']).toBe(VERSION);
    expect(doc.annotations?.['io.github.seccomp.libseccomp.version']).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test('serialises to the documented field names', () => {
    const json = JSON.parse(JSON.stringify(doc));
    expect(Object.keys(json)).toEqual(['ociVersionMin', 'ociVersionMax', 'hooks', 'mountOptions', 'linux', 'annotations']);
  });
});
