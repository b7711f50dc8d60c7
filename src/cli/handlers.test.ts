/** How parsed command lines reach src/container/{run,lifecycle} (mocked here), from both entries. */
import * as path from 'path';

jest.mock('../container/run', () => ({
  create: jest.fn(),
  run: jest.fn(() => 7),
}));
jest.mock('../container/lifecycle', () => ({
  start: jest.fn(),
  kill: jest.fn(),
  deleteContainer: jest.fn(),
}));
// The full bundle as the smaller entries reach it (boot.ts resolves the request).
jest.mock('./tsrun.js', () => ({ main: jest.fn(async () => 5) }), { virtual: true });

jest.mock('../log', () => ({ ...jest.requireActual('../log'), reportFatal: jest.fn() }));

// eslint-disable-next-line @typescript-eslint/no-var-requires
const lifecycle = {
  ...(require('../container/lifecycle') as Record<string, jest.Mock>),
  ...(require('../container/run') as Record<string, jest.Mock>),
};
// eslint-disable-next-line @typescript-eslint/no-var-requires
const fullEntry = require('./tsrun.js') as { main: jest.Mock };
import { TsrunError } from '../errors';
// Required after the mocks: the esbuild transform does not hoist jest.mock above imports.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { reportFatal } = require('../log') as { reportFatal: jest.Mock };
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { main } = require('./main') as typeof import('./main');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const quick = require('./entry-quick') as typeof import('./entry-quick');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const createEntry = require('./entry-create') as typeof import('./entry-create');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const execEntry = require('./entry-exec') as typeof import('./entry-exec');

const globals = { root: '/r', log: undefined, logFormat: 'text', debug: false, systemdCgroup: false, rootless: 'auto' };

beforeEach(() => jest.clearAllMocks());

test('create: bundle defaults to cwd; relative paths made absolute', async () => {
  expect(await main(['--root', '/r', 'create', 'c1'])).toBe(0);
  expect(lifecycle.create).toHaveBeenCalledWith(globals, {
    id: 'c1',
    bundle: process.cwd(),
    pidFile: undefined,
    consoleSocket: undefined,
    noPivot: false,
    noNewKeyring: false,
    preserveFds: 0,
  });
  await main(['--root=/r', 'create', '-b', 'bun', '--pid-file', 'p.pid', '--console-socket', '/s', '--no-pivot', '--no-new-keyring', '--preserve-fds', '1', 'c2']);
  expect(lifecycle.create).toHaveBeenLastCalledWith(globals, {
    id: 'c2',
    bundle: path.resolve('bun'),
    pidFile: path.resolve('p.pid'),
    consoleSocket: '/s',
    noPivot: true,
    noNewKeyring: true,
    preserveFds: 1,
  });
});

test("run returns the container's status", async () => {
  expect(await main(['--root', '/r', 'run', '-d', '--keep', '-no-subreaper', '-b', '/b', 'c1'])).toBe(7);
  expect(lifecycle.run).toHaveBeenCalledWith(globals, expect.objectContaining({ id: 'c1', bundle: '/b', detach: true, keep: true, noSubreaper: true }));
});

test('start, kill (default SIGTERM), delete', async () => {
  await main(['--root', '/r', 'start', 'c1']);
  expect(lifecycle.start).toHaveBeenCalledWith(globals, 'c1');
  await main(['--root', '/r', 'kill', 'c1']);
  expect(lifecycle.kill).toHaveBeenLastCalledWith(globals, 'c1', 'SIGTERM', false);
  await main(['--root', '/r', 'kill', '--all', 'c1', '9']);
  expect(lifecycle.kill).toHaveBeenLastCalledWith(globals, 'c1', '9', true);
  await main(['--root', '/r', 'delete', '-f', 'c1']);
  expect(lifecycle.deleteContainer).toHaveBeenCalledWith(globals, 'c1', true);
});

test('a lifecycle error becomes exit status err.exitCode and one reported line', async () => {
  lifecycle.start.mockImplementationOnce(() => {
    throw new TsrunError('container not running\nmore detail', { exitCode: 3 });
  });
  expect(await main(['--root', '/r', 'start', 'c1'])).toBe(3);
  expect(reportFatal).toHaveBeenCalledWith('container not running more detail');
  lifecycle.kill.mockImplementationOnce(() => {
    throw new Error('plain failure\n    at somewhere');
  });
  expect(await main(['--root', '/r', 'kill', 'c1', 'KILL'])).toBe(1);
  expect(reportFatal).toHaveBeenLastCalledWith('plain failure');
});

test('the quick entry runs start, kill, delete itself', async () => {
  await quick.main(['--root', '/r', 'start', 'c1']);
  expect(lifecycle.start).toHaveBeenCalledWith(globals, 'c1');
  await quick.main(['--root', '/r', 'kill', '--all', 'c1', '9']);
  expect(lifecycle.kill).toHaveBeenLastCalledWith(globals, 'c1', '9', true);
  await quick.main(['--root', '/r', 'delete', '-f', 'c1']);
  expect(lifecycle.deleteContainer).toHaveBeenCalledWith(globals, 'c1', true);
  expect(fullEntry.main).not.toHaveBeenCalled();
});

test('the quick entry hands any other command line whole to the full entry', async () => {
  const argv = ['--root', '/r', 'run', '-d', 'c1'];
  expect(await quick.main(argv)).toBe(5);
  expect(fullEntry.main).toHaveBeenCalledWith(argv);
  expect(lifecycle.run).not.toHaveBeenCalled();
});

test('the quick entry reports usage errors itself', async () => {
  expect(await quick.main(['--root', '/r', 'start'])).toBe(1);
  expect(reportFatal).toHaveBeenCalled();
  expect(fullEntry.main).not.toHaveBeenCalled();
});

test('the create entry runs create and run itself, and hands the rest to the full entry', async () => {
  expect(await createEntry.main(['--root', '/r', 'run', '-d', '-b', '/b', 'c1'])).toBe(7);
  expect(lifecycle.run).toHaveBeenCalledWith(globals, expect.objectContaining({ id: 'c1', bundle: '/b', detach: true }));
  await createEntry.main(['--root', '/r', 'create', '-b', '/b', 'c2']);
  expect(lifecycle.create).toHaveBeenCalledWith(globals, expect.objectContaining({ id: 'c2', bundle: '/b' }));
  expect(fullEntry.main).not.toHaveBeenCalled();
  const argv = ['--root', '/r', 'ps', 'c1'];
  expect(await createEntry.main(argv)).toBe(5);
  expect(fullEntry.main).toHaveBeenCalledWith(argv);
});

test('the exec entry hands anything but exec to the full entry', async () => {
  const argv = ['--root', '/r', 'create', 'c1'];
  expect(await execEntry.main(argv)).toBe(5);
  expect(fullEntry.main).toHaveBeenCalledWith(argv);
  expect(lifecycle.create).not.toHaveBeenCalled();
});
