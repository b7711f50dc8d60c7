// The device controller against the real kernel (root needed): on cgroup v2 the eBPF program
// tsrun generates and attaches, on v1 devices.allow/deny. The same expectations hold on both:
// run here on the v1 hybrid host and, through `npm run test:cgroup2`, on pure cgroup v2.
import { spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CgroupManager, cgroupManager } from '../../src/cgroups/manager';
import { detectCgroupMode } from '../../src/cgroups/mode';
import { native } from '../../src/native';
import type { LinuxDeviceCgroup, Spec } from '../../src/spec/types';
import { Sandbox, sh } from '../harness';

const mode = detectCgroupMode();
const isV2 = mode === 'unified';
const EPERM_TEXT = 'Operation not permitted';

const allow = (type: string, major: number | undefined, minor: number | undefined, access = 'rwm'): LinuxDeviceCgroup => ({ allow: true, type, major, minor, access });
const deny = (type: string, major: number | undefined, minor: number | undefined, access = 'rwm'): LinuxDeviceCgroup => ({ allow: false, type, major, minor, access });

/** Runs script in sh inside the cgroup: the shell waits on stdin until it has been moved in. */
function runIn(mgr: CgroupManager, script: string): Promise<{ code: number | null; out: string }> {
  const child = spawn('sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    try {
      mgr.addProcess(child.pid!);
      child.stdin.end('go\n');
    } catch (err) {
      child.kill('SIGKILL');
      reject(err);
    }
  });
}

describe(`device controller on a plain process (${mode} host)`, () => {
  const made: CgroupManager[] = [];
  let tmp: string;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-devices-'));
  });

  afterAll(() => {
    for (const m of made) {
      try {
        m.destroy();
      } catch {
        // reported by the test that made it
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function cgroupWith(rules: LinuxDeviceCgroup[]): CgroupManager {
    const id = `tsrun-test-dev-${randomBytes(4).toString('hex')}`;
    const mgr = cgroupManager(`/${id}`, id, { systemd: false });
    made.push(mgr);
    mgr.create();
    mgr.apply({ devices: rules });
    return mgr;
  }

  test('deny-all with exceptions: /dev/zero read, /dev/null read only, mknod refused', async () => {
    const mgr = cgroupWith([deny('a', undefined, undefined), allow('c', 1, 5), allow('c', 1, 3, 'r')]);
    const node = path.join(tmp, 'full');
    const r = await runIn(
      mgr,
      `head -c 4 /dev/zero | wc -c; cat /dev/null && echo null-read-ok; (echo x > /dev/null) 2>&1; echo null-write=$?; mknod ${node} c 1 7 2>&1; echo mknod=$?`,
    );
    expect(r.out).toMatch(/^\s*4\n/);
    expect(r.out).toContain('null-read-ok');
    expect(r.out).toMatch(new RegExp(`/dev/null: ${EPERM_TEXT}\\nnull-write=[1-9]`));
    expect(r.out).toMatch(new RegExp(`${EPERM_TEXT}\\nmknod=1`));
    expect(fs.existsSync(node)).toBe(false);
  });

  test('allow-all with "c 1:3 w" denied: writes and read-write opens refused, reads allowed', async () => {
    const mgr = cgroupWith([allow('a', undefined, undefined), deny('c', 1, 3, 'w')]);
    const r = await runIn(mgr, `cat /dev/null && echo read-ok; (exec 3<>/dev/null) 2>&1; echo rdwr=$?; (echo > /dev/null) 2>&1; echo write=$?; head -c 1 /dev/zero | wc -c`);
    expect(r.out).toContain('read-ok');
    expect(r.out).toMatch(new RegExp(`${EPERM_TEXT}\\nrdwr=[1-9]`));
    expect(r.out).toMatch(new RegExp(`${EPERM_TEXT}\\nwrite=[1-9]`));
    expect(r.out).toMatch(/\n\s*1\n?$/);
  });

  test('mknod of an allowed node works; the node can then be opened', async () => {
    const mgr = cgroupWith([deny('a', undefined, undefined), allow('c', 1, 7, 'rwm')]);
    const node = path.join(tmp, 'full-ok');
    const r = await runIn(mgr, `mknod ${node} c 1 7 && head -c 2 ${node} | wc -c`);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe('2');
  });

  (isV2 ? test : test.skip)('applying again replaces the program instead of adding one', async () => {
    const mgr = cgroupWith([deny('a', undefined, undefined), allow('c', 1, 3)]);
    const dir = mgr.paths()[''];
    const [first] = native().deviceFilterIds(dir);
    expect(native().deviceFilterIds(dir)).toHaveLength(1);
    mgr.apply({ devices: [deny('a', undefined, undefined), allow('c', 1, 5)] });
    const ids = native().deviceFilterIds(dir);
    expect(ids).toHaveLength(1);
    expect(ids[0]).not.toBe(first);
    const r = await runIn(mgr, `head -c 1 /dev/zero | wc -c; (cat /dev/null) 2>&1; echo null=$?`);
    expect(r.out).toMatch(new RegExp(`^\\s*1\\n.*${EPERM_TEXT}\\nnull=1`, 's'));
  });

  test('rules without an "a" rule start from deny-all, as runc has it', async () => {
    const mgr = cgroupWith([allow('c', 1, 5), allow('c', 1, 3, 'r')]);
    if (!isV2) expect(fs.readFileSync(path.join(mgr.paths().devices, 'devices.list'), 'utf8').trim().split('\n')).toEqual(['c 1:5 rwm', 'c 1:3 r']); // in the rules' order
    const r = await runIn(mgr, `head -c 1 /dev/zero | wc -c; (echo > /dev/null) 2>&1; echo null=$?; (head -c 1 /dev/urandom) 2>&1; echo urandom=$?`);
    expect(r.out).toMatch(new RegExp(`^\\s*1\\n.*${EPERM_TEXT}\\nnull=[1-9]\\n.*${EPERM_TEXT}\\nurandom=1`, 's'));
  });

  test('a rule punching a hole in a wildcard is refused before anything is written', () => {
    const id = `tsrun-test-dev-${randomBytes(4).toString('hex')}`;
    const mgr = cgroupManager(`/${id}`, id, { systemd: false });
    made.push(mgr);
    mgr.create();
    expect(() => mgr.apply({ devices: [allow('c', undefined, undefined, 'm'), deny('c', 1, 3, 'm')], pids: { limit: 7 } })).toThrow(
      'cannot take access away from part of the wildcard rule "c *:* m"',
    );
    if (isV2) expect(native().deviceFilterIds(mgr.paths()[''])).toEqual([]);
    else expect(fs.readFileSync(path.join(mgr.paths().devices, 'devices.list'), 'utf8').trim()).toBe('a *:* rwm');
    expect(fs.readFileSync(path.join(mgr.paths()[isV2 ? '' : 'pids'], 'pids.max'), 'utf8').trim()).toBe('max');
  });
});

describe(`device controller in containers (${mode} host)`, () => {
  const box = new Sandbox('devices');
  afterAll(() => box.cleanup());

  const withMknod = (s: Spec) => {
    const caps = s.process!.capabilities!;
    for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_MKNOD'];
  };

  test('the default config runs: its own nodes work, nothing else opens', () => {
    const script = [
      'echo hi > /dev/null && echo null-ok',
      'head -c 3 /dev/zero | wc -c',
      'head -c 3 /dev/urandom | wc -c',
      'echo x > /dev/full 2>/dev/null; echo full=$?',
      // mknod of any node is allowed (runc's default list), opening one not listed is not
      'mknod /dev/lc c 10 237 && echo mknod-ok',
      '(: < /dev/lc) 2>&1',
      'mknod /dev/blk b 7 0 && (head -c 1 /dev/blk) 2>&1',
      'true',
    ].join('; ');
    const r = box.run(box.bundle((s) => {
      s.process!.args = sh(script);
      withMknod(s);
    }));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n').map((l) => l.trim());
    expect(lines.slice(0, 6)).toEqual(['null-ok', '3', '3', 'full=1', 'mknod-ok', expect.stringContaining(`/dev/lc: ${EPERM_TEXT}`)]);
    expect(lines[6]).toContain(`/dev/blk: ${EPERM_TEXT}`);
  });

  test('a linux.resources.devices rule allows what the default list does not', () => {
    const r = box.run(box.bundle((s) => {
      s.process!.args = sh('mknod /dev/lc c 10 237 && (: < /dev/lc) 2>&1; echo lc=$?; (echo > /dev/null) 2>&1; echo null=$?');
      withMknod(s);
      s.linux!.resources!.devices = [...(s.linux!.resources!.devices ?? []), allow('c', 10, 237, 'r')];
    }));
    expect(r.status).toBe(0);
    // Opened (or refused by the driver where it is missing), never by the device controller.
    expect(r.stdout).not.toContain(`/dev/lc: ${EPERM_TEXT}`);
    expect(r.stdout).toContain('null=0');
  });

  test('no linux.resources at all: runs with the default list, and other devices stay closed', () => {
    const r = box.run(box.bundle((s) => {
      s.process!.args = sh('echo hi > /dev/null && head -c 1 /dev/zero | wc -c; mknod /dev/lc c 10 237 && (: < /dev/lc) 2>&1; true');
      withMknod(s);
      delete s.linux!.resources;
    }));
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n').map((l) => l.trim());
    expect(lines[0]).toBe('1');
    expect(lines[1]).toContain(`/dev/lc: ${EPERM_TEXT}`);
    expect(r.status).toBe(0);
  });
});
