/**
 * bin/tsrun as users run it: each command runs from the bundle meant for it, compiled from a
 * code cache V8 accepted (a rejected or missing cache still works, only slower, so nothing else
 * would notice), and a full container lifecycle works through the small commands' bundle.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { LAUNCHER, Sandbox, sh } from '../harness';

let box: Sandbox;
beforeAll(() => {
  box = new Sandbox('launcher');
});
afterAll(() => box.cleanup());

/** The scripts the command loaded, as "<script> <cache variant or ''> <cache use>". */
function loadedScripts(args: string[]): string[] {
  const r = box.tsrun(args, { env: { TSRUN_TRACE: '1' } });
  return [...r.stderr.matchAll(/load and run (\S+)\.js(?: \((\w+) cache\))?, code cache (\w+)/g)].map((m) => `${m[1]} ${m[2] ?? ''} ${m[3]}`);
}

test('the small commands run from tsrun-quick.js with their own caches', () => {
  const missing = box.id();
  expect(loadedScripts(['state', missing])).toEqual(['tsrun-quick state accepted']);
  expect(loadedScripts(['list'])).toEqual(['tsrun-quick state accepted']);
  for (const cmd of [['start'], ['kill'], ['delete'], ['delete', '--force']]) {
    expect(loadedScripts([...cmd, missing])).toEqual(['tsrun-quick lifecycle accepted']);
  }
});

test('create and run run from tsrun-create.js and load the validator, exec from tsrun-exec.js', () => {
  const bundle = box.bundle((s) => {
    s.process!.args = ['true'];
  });
  expect(loadedScripts(['run', '--bundle', bundle, box.id()])).toEqual(['tsrun-create  accepted', 'validate-config  accepted']);
  expect(loadedScripts(['exec', box.id(), 'true'])).toEqual(['tsrun-exec  accepted']);
});

test('the other commands run from tsrun.js', () => {
  expect(loadedScripts(['--version'])).toEqual(['tsrun  accepted']);
  expect(loadedScripts(['ps', box.id()])).toEqual(['tsrun  accepted']);
  expect(loadedScripts(['features'])).toEqual(['tsrun  accepted']);
});

test('usage errors of the small commands read as everywhere else', () => {
  const r = box.tsrun(['--log-format', 'xml', 'state', 'x']);
  expect(r.status).toBe(1);
  expect(r.stderr).toBe(`tsrun: invalid value "xml" for --log-format: choose text, json\nRun 'tsrun --help' for usage.\n`);
});

test('create, state, start, kill, delete through the launcher', () => {
  const bundle = box.bundle((s) => {
    s.process!.args = sh('trap "exit 3" TERM; echo up; sleep 30 & wait');
  });
  const c = box.create(bundle);
  expect(c.result.status).toBe(0);
  expect(box.state(c.id).status).toBe('created');
  expect(box.tsrun(['start', c.id]).status).toBe(0);
  box.waitStatus(c.id, 'running');
  expect(box.tsrun(['kill', c.id, 'TERM']).status).toBe(0);
  box.waitStatus(c.id, 'stopped');
  expect(box.tsrun(['delete', c.id]).status).toBe(0);
  expect(box.tsrun(['state', c.id]).stderr).toMatch(/does not exist/);
});

test('the launcher runs Node without NODE_OPTIONS, and finds it without a PATH (podman) and through symlinks', () => {
  const version = /^tsrun version \S+\ncommit: /;
  // a V8 flag in NODE_OPTIONS would make V8 reject every code cache; a bad one would stop Node
  const withOptions = spawnSync(LAUNCHER, ['--version'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '--no-such-node-flag' } });
  expect(withOptions.stderr).toBe('');
  expect(withOptions.stdout).toMatch(version);
  const noPath = spawnSync(LAUNCHER, ['--version'], { encoding: 'utf8', env: {} });
  expect(noPath.stdout).toMatch(version);
  const link = path.join(box.dir, 'tsrun-link');
  fs.symlinkSync(LAUNCHER, link);
  expect(spawnSync(link, ['--version'], { encoding: 'utf8' }).stdout).toMatch(version);
  const noNode = spawnSync(LAUNCHER, ['--version'], { encoding: 'utf8', env: { PATH: box.dir } });
  expect(noNode.status).toBe(127);
  expect(noNode.stderr).toBe(`tsrun: cannot run node (searched ${box.dir}): No such file or directory\n`);
});
