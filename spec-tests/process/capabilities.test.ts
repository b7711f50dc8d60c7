/** The five capability sets in /proc/self/status against process.capabilities. */
import { Sandbox } from '../harness';
import type { LinuxCapabilities } from '../../src/spec/types';
import { CAP, capHex, parseStatus } from './observe';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('h3proc-caps');
});
afterAll(() => box.cleanup());

interface Sets {
  CapInh: string;
  CapPrm: string;
  CapEff: string;
  CapBnd: string;
  CapAmb: string;
}

function capsInside(caps: LinuxCapabilities | undefined, user = { uid: 0, gid: 0 }): Sets {
  const bundle = box.bundle((s) => {
    s.process!.user = user;
    s.process!.capabilities = caps;
    s.process!.noNewPrivileges = false;
    s.process!.args = ['cat', '/proc/self/status'];
  });
  const r = box.run(bundle);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const st = parseStatus(r.stdout);
  return { CapInh: st.CapInh, CapPrm: st.CapPrm, CapEff: st.CapEff, CapBnd: st.CapBnd, CapAmb: st.CapAmb };
}

const names = (nums: number[]) => nums.map((n) => `CAP_${Object.entries(CAP).find(([, v]) => v === n)![0]}`);

test('root with equal bounding, permitted and effective sets gets exactly them', () => {
  const set = [CAP.CHOWN, CAP.KILL, CAP.NET_BIND_SERVICE, CAP.AUDIT_WRITE];
  const got = capsInside({ bounding: names(set), permitted: names(set), effective: names(set), inheritable: [], ambient: [] });
  expect(got).toEqual({ CapInh: capHex([]), CapPrm: capHex(set), CapEff: capHex(set), CapBnd: capHex(set), CapAmb: capHex([]) });
});

test('a non-root user keeps its ambient set across exec; the others follow the exec rules', () => {
  const bounding = [CAP.CHOWN, CAP.KILL, CAP.NET_BIND_SERVICE];
  const inheritable = [CAP.KILL, CAP.NET_BIND_SERVICE];
  const ambient = [CAP.NET_BIND_SERVICE];
  const got = capsInside(
    { bounding: names(bounding), permitted: names(bounding), effective: names(bounding), inheritable: names(inheritable), ambient: names(ambient) },
    { uid: 1000, gid: 1000 },
  );
  // a non-root exec of a file without capabilities: permitted = effective = ambient
  expect(got).toEqual({ CapInh: capHex(inheritable), CapPrm: capHex(ambient), CapEff: capHex(ambient), CapBnd: capHex(bounding), CapAmb: capHex(ambient) });
});

test('an ambient capability that is not permitted and inheritable is skipped, not an error (as runc)', () => {
  const set = [CAP.KILL, CAP.NET_BIND_SERVICE];
  const got = capsInside(
    { bounding: names(set), permitted: names(set), effective: names(set), inheritable: names([CAP.KILL]), ambient: names(set) },
    { uid: 1000, gid: 1000 },
  );
  expect(got.CapAmb).toBe(capHex([CAP.KILL]));
  expect(got.CapInh).toBe(capHex([CAP.KILL]));
});

test('a non-root user without ambient capabilities has none left after exec', () => {
  const set = [CAP.KILL, CAP.SETUID];
  const got = capsInside({ bounding: names(set), permitted: names(set), effective: names(set) }, { uid: 1000, gid: 1000 });
  expect(got).toEqual({ CapInh: capHex([]), CapPrm: capHex([]), CapEff: capHex([]), CapBnd: capHex(set), CapAmb: capHex([]) });
});

test('empty capability sets drop everything, including the bounding set', () => {
  const got = capsInside({ bounding: [], permitted: [], effective: [], inheritable: [], ambient: [] });
  expect(got).toEqual({ CapInh: capHex([]), CapPrm: capHex([]), CapEff: capHex([]), CapBnd: capHex([]), CapAmb: capHex([]) });
});

test('the default config (runc spec) gives AUDIT_WRITE, KILL and NET_BIND_SERVICE', () => {
  const bundle = box.bundle((s) => {
    s.process!.args = ['cat', '/proc/self/status'];
  });
  const st = parseStatus(box.run(bundle).stdout);
  const set = capHex([CAP.AUDIT_WRITE, CAP.KILL, CAP.NET_BIND_SERVICE]);
  expect([st.CapPrm, st.CapEff, st.CapBnd]).toEqual([set, set, set]);
  expect([st.CapInh, st.CapAmb]).toEqual([capHex([]), capHex([])]);
});

test('an unknown capability fails create and leaves no state', () => {
  const bundle = box.bundle((s) => {
    s.process!.capabilities = { bounding: ['CAP_TEST'] };
  });
  const id = box.id();
  const r = box.run(bundle, id);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain('CAP_TEST');
  expect(box.tsrun(['state', id]).status).not.toBe(0);
});

test('capabilities really act: without CAP_CHOWN root cannot chown, with it it can', () => {
  const run = (caps: string[]) =>
    box.run(
      box.bundle((s) => {
        s.process!.capabilities = { bounding: caps, permitted: caps, effective: caps };
        s.process!.args = ['sh', '-c', 'touch /tmp/f && chown 1234 /tmp/f && echo chowned'];
      }),
    );
  expect(run(['CAP_CHOWN']).stdout).toBe('chowned\n');
  const denied = run(['CAP_KILL']);
  expect(denied.stdout).toBe('');
  expect(denied.stderr).toMatch(/Operation not permitted/);
});
