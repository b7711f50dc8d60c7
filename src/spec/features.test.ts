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
    expect(doc.linux?.seccomp).toEqual({ enabled: false });
    expect(doc.linux?.apparmor).toEqual({ enabled: false });
    expect(doc.linux?.selinux).toEqual({ enabled: false });
    expect(doc.linux?.intelRdt).toEqual({ enabled: false });
    expect(doc.linux?.mountExtensions).toEqual({ idmap: { enabled: false } });
    expect(doc.mountOptions).not.toContain('idmap');
    expect(doc.mountOptions).not.toContain('ridmap');
    expect(doc.mountOptions).not.toContain('tmpcopyup');
    expect(doc.mountOptions).toEqual(expect.arrayContaining(['bind', 'rbind', 'ro', 'nosuid', 'rprivate']));
    expect(new Set(SUPPORTED_MOUNT_OPTIONS).size).toBe(SUPPORTED_MOUNT_OPTIONS.length);
  });

  test('annotations carry the version', () => {
    expect(doc.annotations).toEqual({ 'io.github.tsrun.version': VERSION });
  });

  test('serialises to the documented field names', () => {
    const json = JSON.parse(JSON.stringify(doc));
    expect(Object.keys(json)).toEqual(['ociVersionMin', 'ociVersionMax', 'hooks', 'mountOptions', 'linux', 'annotations']);
  });
});
