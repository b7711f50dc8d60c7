import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { bundleScript, repoPath } from '../cli/test-bundle';
import { ContainerNotExistError, StateStore } from './state';

// Each child takes the lock (or creates the container locked), reports when it got it, holds it
// for a while and reports when it let go. Times are Date.now() in milliseconds.
const CHILD = `
import { createLocked, lockContainer } from ${JSON.stringify(repoPath('src/container/lock'))};
import { StateStore } from ${JSON.stringify(repoPath('src/container/state'))};
const [mode, root, id, holdMs, removeBeforeRelease] = process.argv.slice(2);
const say = (what: string) => process.stdout.write(JSON.stringify({ what, t: Date.now() }) + '\\n');
try {
  say('waiting');
  const release = mode === 'create' ? createLocked(new StateStore(root), id).release : lockContainer(root, id);
  say('locked');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(holdMs));
  if (removeBeforeRelease === 'remove') new StateStore(root).remove(id);
  say('releasing');
  release();
} catch (err) {
  say('error: ' + (err as Error).message);
}
`;

let tmp: string;
let script: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  tmp = fs.mkdtempSync('/tmp/tsrun-cli-test-lock-');
  script = await bundleScript(CHILD, tmp, 'locker');
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Event {
  what: string;
  t: number;
}

/** Start a child; resolves its events once it exits, and calls onEvent as they come. */
function locker(args: string[], onEvent?: (e: Event) => void): Promise<Event[]> {
  const env = { ...process.env, TSRUN_NATIVE_DIR: repoPath('build/Release') };
  const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const events: Event[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const e = JSON.parse(buf.slice(0, nl)) as Event;
      buf = buf.slice(nl + 1);
      events.push(e);
      onEvent?.(e);
    }
  });
  return new Promise((resolve) => child.on('close', () => resolve(events)));
}

function at(events: Event[], what: string): number {
  const e = events.find((x) => x.what === what);
  if (!e) throw new Error(`no "${what}" in ${JSON.stringify(events)}`);
  return e.t;
}

function firstLocked(): { promise: Promise<void>; onEvent: (e: Event) => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, onEvent: (e) => e.what === 'locked' && resolve() };
}

test('a second command on the same container waits for the first', async () => {
  const root = path.join(tmp, 'serial');
  new StateStore(root).create('tsrun-helper-l');
  const gate = firstLocked();
  const first = locker(['lock', root, 'tsrun-helper-l', '600'], gate.onEvent);
  await gate.promise;
  const second = locker(['lock', root, 'tsrun-helper-l', '0']);
  const [a, b] = await Promise.all([first, second]);
  // The second was already waiting while the first held the lock, and got it only after.
  expect(at(b, 'waiting')).toBeLessThan(at(a, 'releasing'));
  expect(at(b, 'locked')).toBeGreaterThanOrEqual(at(a, 'releasing'));
}, 20_000);

test('different containers do not wait for each other', async () => {
  const root = path.join(tmp, 'parallel');
  const store = new StateStore(root);
  store.create('tsrun-helper-x');
  store.create('tsrun-helper-y');
  const gate = firstLocked();
  const first = locker(['lock', root, 'tsrun-helper-x', '1500'], gate.onEvent);
  await gate.promise;
  const b = await locker(['lock', root, 'tsrun-helper-y', '0']);
  const a = await first;
  expect(at(b, 'locked')).toBeLessThan(at(a, 'releasing'));
}, 20_000);

test('a waiter whose container was deleted meanwhile is told it does not exist', async () => {
  const root = path.join(tmp, 'deleted');
  new StateStore(root).create('tsrun-helper-d');
  const gate = firstLocked();
  const first = locker(['lock', root, 'tsrun-helper-d', '400', 'remove'], gate.onEvent);
  await gate.promise;
  const b = await locker(['lock', root, 'tsrun-helper-d', '0']);
  await first;
  expect(b.map((e) => e.what)).toContain('error: container "tsrun-helper-d" does not exist');
}, 20_000);

test('a container created locked is not lockable by others until its creator lets go', async () => {
  const root = path.join(tmp, 'create');
  const gate = firstLocked();
  const creator = locker(['create', root, 'tsrun-helper-c', '600'], gate.onEvent);
  await gate.promise;
  const [a, b] = await Promise.all([creator, locker(['lock', root, 'tsrun-helper-c', '0'])]);
  expect(at(b, 'locked')).toBeGreaterThanOrEqual(at(a, 'releasing'));
}, 20_000);

test('two concurrent creates of one id: exactly one wins', async () => {
  const root = path.join(tmp, 'race');
  const runs = await Promise.all([1, 2, 3, 4].map(() => locker(['create', root, 'tsrun-helper-r', '50'])));
  const outcomes = runs.map((ev) => (ev.some((e) => e.what === 'locked') ? 'won' : ev.find((e) => e.what.startsWith('error'))!.what));
  expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
  expect(outcomes.filter((o) => o !== 'won')).toEqual(Array(3).fill('error: container with id exists: tsrun-helper-r'));
  expect(new StateStore(root).list()).toEqual(['tsrun-helper-r']);
  expect(fs.readdirSync(root)).toEqual(['tsrun-helper-r']);
}, 20_000);

test('locking a missing container fails at once', () => {
  // In-process: lockContainer checks existence before loading the addon.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { lockContainer } = require('./lock') as typeof import('./lock');
  expect(() => lockContainer(path.join(tmp, 'none'), 'nosuch')).toThrow(ContainerNotExistError);
});
