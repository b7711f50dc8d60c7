import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SPEC_VERSION } from '../version';
import { defaultSpec } from './default-spec';
import { writeDefaultSpec } from './spec-command';
import { validateConfig } from './validate';

describe('defaultSpec', () => {
  test('root variant has runc spec shape and validates', () => {
    const spec = defaultSpec({ rootless: false, uid: 1000, gid: 1000 });
    expect(() => validateConfig(JSON.parse(JSON.stringify(spec)))).not.toThrow();
    expect(spec.ociVersion).toBe(SPEC_VERSION);
    expect(spec.hostname).toBe('tsrun');
    expect(spec.root).toEqual({ path: 'rootfs', readonly: true });
    expect(spec.process).toMatchObject({
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    });
    const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    expect(spec.process?.capabilities).toEqual({ bounding: caps, effective: caps, permitted: caps });
    expect(spec.mounts?.map((m) => m.destination)).toEqual([
      '/proc',
      '/dev',
      '/dev/pts',
      '/dev/shm',
      '/dev/mqueue',
      '/sys',
      '/sys/fs/cgroup',
    ]);
    expect(spec.mounts?.[2].options).toContain('gid=5');
    expect(spec.linux?.namespaces?.map((n) => n.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
    expect(spec.linux?.resources).toEqual({ devices: [{ allow: false, access: 'rwm' }] });
    expect(spec.linux?.uidMappings).toBeUndefined();
    expect(spec.linux?.maskedPaths).toContain('/proc/kcore');
    expect(spec.linux?.readonlyPaths).toContain('/proc/sysrq-trigger');
  });

  test('rootless variant maps the caller and drops what needs privilege', () => {
    const spec = defaultSpec({ rootless: true, uid: 1234, gid: 5678 });
    expect(() => validateConfig(JSON.parse(JSON.stringify(spec)))).not.toThrow();
    expect(spec.linux?.namespaces?.map((n) => n.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'cgroup', 'user']);
    expect(spec.linux?.uidMappings).toEqual([{ containerID: 0, hostID: 1234, size: 1 }]);
    expect(spec.linux?.gidMappings).toEqual([{ containerID: 0, hostID: 5678, size: 1 }]);
    expect(spec.linux?.resources).toBeUndefined();
    const sys = spec.mounts?.find((m) => m.destination === '/sys');
    expect(sys).toEqual({ destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
    expect(spec.mounts?.some((m) => m.type === 'cgroup')).toBe(false);
    const devpts = spec.mounts?.find((m) => m.destination === '/dev/pts');
    expect(devpts?.options).toEqual(['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620']);
  });

  test('each call returns a fresh object', () => {
    const a = defaultSpec({ rootless: false, uid: 0, gid: 0 });
    a.mounts?.[0].options?.push('x');
    a.process?.capabilities?.bounding?.push('CAP_SYS_ADMIN');
    const b = defaultSpec({ rootless: false, uid: 0, gid: 0 });
    expect(b.mounts?.[0].options).toBeUndefined();
    expect(b.process?.capabilities?.bounding).toHaveLength(3);
  });
});

describe('writeDefaultSpec', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsrun-spec-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('writes a tab-indented config.json that validates', () => {
    writeDefaultSpec(dir, false);
    const text = readFileSync(join(dir, 'config.json'), 'utf8');
    expect(text.startsWith('{\n\t"ociVersion": ')).toBe(true);
    expect(() => validateConfig(JSON.parse(text))).not.toThrow();
  });

  test('rootless flag', () => {
    writeDefaultSpec(dir, true);
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(spec.linux.uidMappings[0].hostID).toBe(process.geteuid!());
  });

  test('refuses to overwrite', () => {
    writeFileSync(join(dir, 'config.json'), 'mine');
    expect(() => writeDefaultSpec(dir, false)).toThrow('File config.json exists. Remove it first');
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe('mine');
  });

  test('missing bundle directory', () => {
    expect(() => writeDefaultSpec(join(dir, 'nope'), false)).toThrow(/^write .*nope\/config.json: /);
  });
});
