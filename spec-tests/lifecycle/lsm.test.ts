/** AppArmor and SELinux: this host has neither, so asking for them must fail clearly. */
import * as fs from 'fs';
import * as path from 'path';
import { Sandbox } from '../harness';

const hasAppArmor = (() => {
  try {
    return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
})();
const hasSelinux = fs.existsSync('/sys/fs/selinux/enforce');

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('lsm');
});
afterAll(() => box.cleanup());

(hasAppArmor ? test.skip : test)('process.apparmorProfile without AppArmor fails create and leaves nothing', () => {
  const bundle = box.bundle((s) => {
    s.process!.apparmorProfile = 'tsrun-test';
  });
  const c = box.create(bundle);
  expect(c.result.status).toBe(1);
  expect(c.result.stderr).toBe('process.apparmorProfile: profile "tsrun-test" requested, but AppArmor is not enabled on this host\n');
  expect(fs.existsSync(path.join(box.root, c.id))).toBe(false);
});

(hasSelinux ? test.skip : test)('process.selinuxLabel without SELinux fails create; exec --process-label fails exec', () => {
  const bundle = box.bundle((s) => {
    s.process!.selinuxLabel = 'system_u:system_r:container_t:s0';
  });
  const c = box.create(bundle);
  expect(c.result.status).toBe(1);
  expect(c.result.stderr).toContain('process.selinuxLabel: label "system_u:system_r:container_t:s0" requested, but SELinux is not enabled');

  const running = box.bundle((s) => {
    s.process!.args = ['sleep', '30'];
  });
  const id = box.id();
  expect(box.tsrun(['run', '-d', '--bundle', running, id], { stdio: 'ignore' }).status).toBe(0);
  const r = box.tsrun(['exec', '--process-label', 'x_t', id, 'true']);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('SELinux is not enabled');
  if (!hasAppArmor) expect(box.tsrun(['exec', '--apparmor', 'p', id, 'true']).stderr).toContain('AppArmor is not enabled');
});
