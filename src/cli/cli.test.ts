/**
 * The bundled CLI as a process: exit statuses, stdout/stderr text, the --log file. The bundle is
 * built here (like scripts/build.mjs) into a private temporary directory.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { COMMANDS } from './commands';
import { bundleCli } from './test-bundle';
import { PersistedState, StateStore, procStartTime } from '../container/state';
import { SPEC_VERSION } from '../version';

let tmp: string;
let cli: string;
let root: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync('/tmp/tsrun-cli-test-');
  cli = await bundleCli(tmp, 'cafe1234');
  root = path.join(tmp, 'root');
}, 30_000);
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function tsrun(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) {
  const env = { ...process.env, ...opts.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const r = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8', cwd: tmp });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fakeContainer(id: string, over: Partial<PersistedState> = {}): PersistedState {
  const store = new StateStore(root);
  if (!store.exists(id)) store.create(id);
  const state: PersistedState = {
    ociVersion: '1.2.1',
    id,
    pid: process.pid,
    pidStartTime: procStartTime(process.pid)!,
    bundle: '/bundles/' + id,
    rootfs: '/bundles/' + id + '/rootfs',
    created: '2026-12-07T21:50:51.123456789Z',
    owner: 'root',
    annotations: {},
    ...over,
  };
  store.write(id, state);
  return state;
}

test('--version', () => {
  for (const flag of ['--version', '-v', '-version']) {
    const r = tsrun([flag]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`tsrun version 0.1.0\ncommit: cafe1234\nspec: ${SPEC_VERSION}\nnode: ${process.version}\n`);
    expect(r.stderr).toBe('');
  }
});

test('no arguments prints the global help', () => {
  const r = tsrun([]);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/^tsrun: an Open Container Initiative runtime/);
  for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^   ${c.name} `, 'm'));
  expect(tsrun(['--help']).stdout).toBe(r.stdout);
  expect(tsrun(['help']).stdout).toBe(r.stdout);
});

test.each(COMMANDS.map((c) => c.name))('%s --help exits 0 with usage and every flag', (name) => {
  const cmd = COMMANDS.find((c) => c.name === name)!;
  const r = tsrun([name, '--help']);
  expect(r.status).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(new RegExp(`^Usage: tsrun ${name}`));
  for (const f of cmd.flags) expect(r.stdout).toContain(`--${f.name}`);
  expect(tsrun(['help', name]).stdout).toBe(r.stdout);
  expect(tsrun([name, '-h']).stdout).toBe(r.stdout);
});

test('unknown flag: message, hint, exit 1', () => {
  const r = tsrun(['create', '--frobnicate', 'x']);
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe("tsrun: unknown flag: --frobnicate\nRun 'tsrun create --help' for usage.\n");
  expect(tsrun(['--frob', 'list']).stderr).toBe("tsrun: unknown flag: --frob\nRun 'tsrun --help' for usage.\n");
});

test('missing flag value and missing container id', () => {
  let r = tsrun(['create', 'x', '--bundle']);
  expect(r.status).toBe(1);
  expect(r.stderr).toBe("tsrun: flag needs an argument: --bundle\nRun 'tsrun create --help' for usage.\n");
  r = tsrun(['state']);
  expect(r.status).toBe(1);
  expect(r.stderr).toBe("tsrun: missing container id\nRun 'tsrun state --help' for usage.\n");
  r = tsrun(['bogus']);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/^tsrun: unknown command "bogus"\n/);
});

test('checkpoint and restore parse their flags, then say they are not supported', () => {
  const cases: string[][] = [
    ['checkpoint', '--image-path', '/i', '--work-path', '/w', '--leave-running', 'c1'],
    ['restore', '--image-path', '/i', '-b', '/b', '-d', 'c1'],
  ];
  for (const argv of cases) {
    const r = tsrun(argv);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${argv[0]} is not supported (on this host: criu is not installed|by tsrun yet)`));
  }
  // A bad flag is still a usage error.
  expect(tsrun(['checkpoint', '--bogus', 'c1']).stderr).toMatch(/^tsrun: unknown flag: --bogus/);
});

test('the cgroup commands parse their flags and reach the container lookup', () => {
  for (const argv of [
    ['ps', '--format', 'json', 'c1'],
    ['ps', 'c1', '-o', 'pid,comm'],
    ['pause', 'c1'],
    ['resume', 'c1'],
    ['events', '--stats', 'c1'],
    ['events', '--interval', '1s', 'c1'],
    ['update', '--memory', '512m', '--cpu-shares', '512', '--pids-limit', '10', 'c1'],
  ]) {
    const r = tsrun(['--root', root, ...argv]);
    expect(r.stderr).toBe('container "c1" does not exist\n');
    expect(r.status).toBe(1);
  }
  expect(tsrun(['pause', '--bogus', 'c1']).stderr).toMatch(/^tsrun: unknown flag: --bogus/);
  expect(tsrun(['--root', root, 'update', '--memory', '12x', 'c1']).stderr).toBe("invalid value for memory: invalid size: '12x'\n");
  expect(tsrun(['--root', root, 'events', '--interval', '0s', 'c1']).stderr).toBe('duration interval must be greater than 0\n');
});

test('exec parses its flags and reaches the container lookup', () => {
  for (const argv of [
    ['exec', '--process', '/p.json', '--detach', '--pid-file', '/x.pid', 'c1'],
    ['exec', '-t', 'c1', 'sh', '-c', 'true'],
  ]) {
    const r = tsrun(['--root', root, ...argv]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('container "c1" does not exist\n');
  }
  expect(tsrun(['exec', '--bogus', 'c1', 'ls']).stderr).toMatch(/^tsrun: unknown flag: --bogus/);
});

test('state of a missing container: one line on stderr, exit 1, JSON error line in --log', () => {
  const log = path.join(tmp, 'log.json');
  fs.writeFileSync(log, '{"level":"info","msg":"before","time":"2026-01-01T00:00:00Z"}\n');
  const r = tsrun(['--root', root, '--log', log, '--log-format', 'json', 'state', 'nosuch']);
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe('container "nosuch" does not exist\n');
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(2);
  const last = JSON.parse(lines[1]);
  expect(Object.keys(last)).toEqual(['level', 'msg', 'time']);
  expect(last.level).toBe('error');
  expect(last.msg).toContain('does not exist');
  expect(last.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
});

test('text log format, and usage errors reach the log too', () => {
  const log = path.join(tmp, 'log.txt');
  let r = tsrun(['--root', root, '--log', log, 'state', 'nosuch']);
  expect(r.status).toBe(1);
  expect(fs.readFileSync(log, 'utf8')).toMatch(/^time="[^"]+" level=error msg="container \\"nosuch\\" does not exist"\n$/);
  const jlog = path.join(tmp, 'usage.json');
  r = tsrun(['--log', jlog, '--log-format=json', 'create', '--frob', 'x']);
  expect(r.status).toBe(1);
  expect(JSON.parse(fs.readFileSync(jlog, 'utf8'))).toMatchObject({ level: 'error', msg: 'unknown flag: --frob' });
});

test('--debug writes debug lines to the log', () => {
  const log = path.join(tmp, 'debug.json');
  tsrun(['--debug', '--log', log, '--log-format', 'json', '--root', root, 'list']);
  const first = JSON.parse(fs.readFileSync(log, 'utf8').split('\n')[0]);
  expect(first.level).toBe('debug');
  expect(first.msg).toContain('list');
});

test('an invalid id is refused before touching the filesystem', () => {
  const r = tsrun(['--root', root, 'state', '../../etc']);
  expect(r.status).toBe(1);
  expect(r.stderr).toBe('invalid container id format: "../../etc"\n');
});

test('state of a running container', () => {
  const s = fakeContainer('tsrun-helper-run');
  const r = tsrun(['--root', root, 'state', 'tsrun-helper-run']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toBe(
    JSON.stringify(
      { ociVersion: '1.2.1', id: s.id, pid: process.pid, status: 'running', bundle: s.bundle, rootfs: s.rootfs, created: s.created, owner: 'root' },
      null,
      '  ',
    ) + '\n',
  );
});

test('state of a stopped container shows pid 0; created, paused and annotations', () => {
  fakeContainer('tsrun-helper-stopped', { pidStartTime: 1 });
  expect(JSON.parse(tsrun(['--root', root, 'state', 'tsrun-helper-stopped']).stdout)).toMatchObject({ pid: 0, status: 'stopped' });
  fakeContainer('tsrun-helper-created', { annotations: { 'org.example': 'yes' } });
  fs.writeFileSync(path.join(root, 'tsrun-helper-created', 'exec.fifo'), '');
  const created = JSON.parse(tsrun(['--root', root, 'state', 'tsrun-helper-created']).stdout);
  expect(created).toMatchObject({ pid: process.pid, status: 'created', annotations: { 'org.example': 'yes' } });
  fakeContainer('tsrun-helper-paused', { paused: true });
  expect(JSON.parse(tsrun(['--root', root, 'state', 'tsrun-helper-paused']).stdout).status).toBe('paused');
});

test('list: table, json, quiet', () => {
  const listRoot = path.join(tmp, 'listroot');
  const saved = root;
  root = listRoot;
  try {
    fakeContainer('a-long-container-name');
    fakeContainer('b', { pidStartTime: 1, owner: '' });
  } finally {
    root = saved;
  }
  let r = tsrun(['--root', listRoot, 'list']);
  expect(r.status).toBe(0);
  const rows = r.stdout.split('\n');
  // Go tabwriter: each column is its widest cell plus 3, at least 12; the last is not padded.
  const row = (cells: string[]) => cells.map((c, i) => (i < 5 ? c.padEnd([24, 12, 12, 33, 33][i]) : c)).join('');
  expect(rows[0]).toBe(row(['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']));
  expect(rows[1]).toBe(row(['a-long-container-name', String(process.pid), 'running', '/bundles/a-long-container-name', '2026-12-07T21:50:51.123456789Z', 'root']));
  // No owner stored: the owner of the state directory.
  expect(rows[2]).toBe(row(['b', '0', 'stopped', '/bundles/b', '2026-12-07T21:50:51.123456789Z', process.geteuid!() === 0 ? 'root' : rows[2].split(/\s+/).pop()!]));
  expect(rows[3]).toBe('');

  r = tsrun(['--root', listRoot, 'list', '--format', 'json']);
  const arr = JSON.parse(r.stdout);
  expect(arr.map((x: { id: string; status: string }) => [x.id, x.status])).toEqual([
    ['a-long-container-name', 'running'],
    ['b', 'stopped'],
  ]);

  r = tsrun(['--root', listRoot, 'list', '-q']);
  expect(r.stdout).toBe('a-long-container-name\nb\n');

  // A missing root, default or given, is an empty list (runc's too), and stays missing.
  expect(tsrun(['list', '-q'], { env: { XDG_RUNTIME_DIR: path.join(tmp, 'xdg') } }).status).toBe(0);
  r = tsrun(['--root', path.join(tmp, 'nonexistent'), 'list']);
  expect(r.status).toBe(0);
  expect(r.stdout).toBe('ID          PID         STATUS      BUNDLE      CREATED     OWNER\n');
  expect(tsrun(['--root', path.join(tmp, 'nonexistent'), 'list', '--format', 'json']).stdout).toBe('[]\n');
  expect(fs.existsSync(path.join(tmp, 'nonexistent'))).toBe(false);
});
