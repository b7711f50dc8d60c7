import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { configureLogger, formatLine, logger, reportFatal, rfc3339 } from './log';

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/;
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-cli-test-log-'));
});
afterEach(() => {
  configureLogger({});
  fs.rmSync(dir, { recursive: true, force: true });
});

test('rfc3339 is seconds precision with a zone', () => {
  expect(rfc3339(new Date())).toMatch(RFC3339);
});

test('json lines have logrus key order level, msg, time', () => {
  const line = formatLine('error', 'container "x" does not exist', 'json', new Date(0));
  expect(Object.keys(JSON.parse(line))).toEqual(['level', 'msg', 'time']);
  expect(JSON.parse(line)).toMatchObject({ level: 'error', msg: 'container "x" does not exist' });
  expect(JSON.parse(line).time).toMatch(RFC3339);
  expect(JSON.parse(formatLine('warn', 'w', 'json')).level).toBe('warning');
});

test('text lines quote like logrus', () => {
  expect(formatLine('info', 'plain', 'text')).toMatch(/^time="[^"]+" level=info msg=plain$/);
  expect(formatLine('error', 'has "quotes" and spaces', 'text')).toMatch(/ level=error msg="has \\"quotes\\" and spaces"$/);
});

test('lines are appended to the --log file in the chosen format', () => {
  const file = path.join(dir, 'log.json');
  fs.writeFileSync(file, '{"level":"info","msg":"earlier","time":"2020-01-01T00:00:00Z"}\n');
  configureLogger({ file, format: 'json' });
  logger.info('one');
  logger.warn('two');
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.map((l) => [l.level, l.msg])).toEqual([
    ['info', 'earlier'],
    ['info', 'one'],
    ['warning', 'two'],
  ]);
});

test('debug lines only with debug on, and lazy messages are not built otherwise', () => {
  const file = path.join(dir, 'log.txt');
  configureLogger({ file, format: 'text' });
  const build = jest.fn(() => 'expensive');
  logger.debug(build);
  expect(build).not.toHaveBeenCalled();
  expect(logger.debugEnabled).toBe(false);
  configureLogger({ file, format: 'text', debug: true });
  logger.debug(build);
  expect(build).toHaveBeenCalledTimes(1);
  expect(fs.readFileSync(file, 'utf8')).toMatch(/level=debug msg=expensive\n$/);
});

test('reportFatal writes the error line to the log file', () => {
  const file = path.join(dir, 'log.json');
  configureLogger({ file, format: 'json' });
  reportFatal('boom', ''); // nothing on stderr
  const last = JSON.parse(fs.readFileSync(file, 'utf8').trim().split('\n').pop()!);
  expect(last).toMatchObject({ level: 'error', msg: 'boom' });
});

test('an unwritable log file does not throw', () => {
  configureLogger({ file: path.join(dir, 'no', 'such', 'dir', 'log') });
  expect(() => logger.error('x')).not.toThrow();
});
