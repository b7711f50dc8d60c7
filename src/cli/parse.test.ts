import { COMMANDS } from './commands';
import { CliUsageError, parseArgs, parseDuration } from './parse';

function usageError(argv: string[]): CliUsageError {
  try {
    parseArgs(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(CliUsageError);
    return err as CliUsageError;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
}

describe('global flags', () => {
  test('defaults', () => {
    const p = parseArgs(['state', 'x']);
    expect(p.globals).toEqual({
      root: expect.stringMatching(/tsrun$/),
      log: undefined,
      logFormat: 'text',
      debug: false,
      systemdCgroup: false,
      rootless: 'auto',
    });
    expect(p.command).toBe('state');
    expect(p.args).toEqual(['x']);
  });

  test('root is /run/tsrun for root, $XDG_RUNTIME_DIR/tsrun otherwise', () => {
    const saved = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = '/run/user/1000';
    try {
      const expected = process.geteuid!() === 0 ? '/run/tsrun' : '/run/user/1000/tsrun';
      expect(parseArgs(['list']).globals.root).toBe(expected);
    } finally {
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved;
    }
  });

  test.each([
    [['--root', '/r', 'list']],
    [['--root=/r', 'list']],
    [['-root', '/r', 'list']],
    [['-root=/r', 'list']],
  ])('value forms %j', (argv) => {
    const p = parseArgs(argv);
    expect(p.globals.root).toBe('/r');
    expect(p.given.has('root')).toBe(true);
  });

  test('all globals, the way containerd passes them', () => {
    const p = parseArgs(['--root', '/run/containerd/runc/k8s.io', '--log', '/b/log.json', '--log-format', 'json', '--systemd-cgroup', 'delete', 'c1']);
    expect(p.globals).toEqual({
      root: '/run/containerd/runc/k8s.io',
      log: '/b/log.json',
      logFormat: 'json',
      debug: false,
      systemdCgroup: true,
      rootless: 'auto',
    });
  });

  test.each([
    [['--debug'], true],
    [['-debug'], true],
    [['--debug=true'], true],
    [['--debug=1'], true],
    [['--debug=false'], false],
    [['--debug=0'], false],
    [['-debug=F'], false],
  ])('boolean form %j -> %s', (flag, expected) => {
    expect(parseArgs([...flag, 'list']).globals.debug).toBe(expected);
  });

  test('a boolean flag does not take the next word as its value', () => {
    const p = parseArgs(['--debug', 'state', 'x']);
    expect(p.globals.debug).toBe(true);
    expect(p.command).toBe('state');
  });

  test('--rootless takes true, false or auto', () => {
    expect(parseArgs(['--rootless', 'true', 'list']).globals.rootless).toBe('true');
    expect(parseArgs(['--rootless=false', 'list']).globals.rootless).toBe('false');
    expect(usageError(['--rootless', 'maybe', 'list']).message).toMatch(/invalid value "maybe" for --rootless/);
  });

  test('--log-format takes text or json', () => {
    expect(usageError(['--log-format', 'xml', 'list']).message).toMatch(/--log-format/);
  });

  test('globals after the subcommand are accepted when the command has no such flag', () => {
    const p = parseArgs(['state', '--root', '/r', 'x', '--debug']);
    expect(p.globals.root).toBe('/r');
    expect(p.globals.debug).toBe(true);
    expect(p.args).toEqual(['x']);
  });

  test("a command's own flag wins over a global of the same name (spec --rootless)", () => {
    const p = parseArgs(['spec', '--rootless']);
    expect(p.flags.rootless).toBe(true);
    expect(p.globals.rootless).toBe('auto');
  });

  test('-v / --version and -h / --help', () => {
    expect(parseArgs(['-v']).version).toBe(true);
    expect(parseArgs(['--version']).version).toBe(true);
    expect(parseArgs(['-h']).help).toBe(true);
    expect(parseArgs(['--help']).help).toBe(true);
    expect(parseArgs([]).command).toBeUndefined();
  });

  test('unknown global flag', () => {
    const e = usageError(['--bogus', 'list']);
    expect(e.message).toBe('unknown flag: --bogus');
    expect(e.exitCode).toBe(1);
    expect(e.command).toBeUndefined();
  });

  test('missing value of a global flag', () => {
    expect(usageError(['--root']).message).toBe('flag needs an argument: --root');
  });

  test('-- ends the global flags', () => {
    const p = parseArgs(['--debug', '--', 'state', 'x']);
    expect(p.command).toBe('state');
  });
});

describe('command flags', () => {
  test.each([
    [['create', '--bundle', '/b', 'c1']],
    [['create', '--bundle=/b', 'c1']],
    [['create', '-bundle', '/b', 'c1']],
    [['create', '-bundle=/b', 'c1']],
    [['create', '-b', '/b', 'c1']],
    [['create', '-b=/b', 'c1']],
    [['create', '--b', '/b', 'c1']],
    [['create', 'c1', '--bundle', '/b']],
  ])('string forms %j', (argv) => {
    const p = parseArgs(argv);
    expect(p.flags.bundle).toBe('/b');
    expect(p.args).toEqual(['c1']);
  });

  test('create with everything podman passes', () => {
    const p = parseArgs(['create', '--bundle', '/b', '--pid-file', '/p', '--console-socket', '/s', '--no-pivot', '--no-new-keyring', '--preserve-fds', '2', 'c1']);
    expect(p.flags).toMatchObject({ bundle: '/b', 'pid-file': '/p', 'console-socket': '/s', 'no-pivot': true, 'no-new-keyring': true, 'preserve-fds': 2 });
  });

  test('defaults are filled in', () => {
    const p = parseArgs(['create', 'c1']);
    expect(p.flags).toMatchObject({ bundle: '', 'pid-file': '', 'no-pivot': false, 'preserve-fds': 0 });
    expect(parseArgs(['list']).flags).toMatchObject({ format: 'table', quiet: false });
    expect(parseArgs(['events', 'x']).flags).toMatchObject({ interval: 5000, stats: false });
  });

  test("go-runc's single-dash booleans", () => {
    const p = parseArgs(['run', '-no-subreaper', '-d', '-keep', 'c1']);
    expect(p.flags).toMatchObject({ 'no-subreaper': true, detach: true, keep: true });
  });

  test.each([
    ['--force', true],
    ['-f', true],
    ['-force', true],
    ['--force=true', true],
    ['--force=false', false],
    ['-f=false', false],
  ])('delete %s', (flag, expected) => {
    expect(parseArgs(['delete', flag, 'c1']).flags.force).toBe(expected);
  });

  test('bad boolean value', () => {
    expect(usageError(['delete', '--force=yes', 'c1']).message).toMatch(/invalid boolean value "yes" for --force/);
  });

  test('int flags check their value', () => {
    expect(parseArgs(['create', '--preserve-fds=3', 'c']).flags['preserve-fds']).toBe(3);
    const e = usageError(['create', '--preserve-fds', 'many', 'c']);
    expect(e.message).toMatch(/invalid value "many" for --preserve-fds/);
    expect(e.command).toBe('create');
  });

  test('repeatable flags collect', () => {
    const p = parseArgs(['exec', '-e', 'A=1', '--env', 'B=2', '--env=C=3', '-c', 'CAP_KILL', '--cap', 'CAP_CHOWN', '-g', '10', '--additional-gids=20', '--cgroup', 'pids:x', 'c1', 'ls']);
    expect(p.flags.env).toEqual(['A=1', 'B=2', 'C=3']);
    expect(p.flags.cap).toEqual(['CAP_KILL', 'CAP_CHOWN']);
    expect(p.flags['additional-gids']).toEqual(['10', '20']);
    expect(p.flags.cgroup).toEqual(['pids:x']);
  });

  test("exec: flags end at the container id; the command keeps its own flags", () => {
    const p = parseArgs(['exec', '-t', '--user', '1000:1000', '--cwd', '/tmp', 'c1', 'ls', '-l', '--color', '--', 'x']);
    expect(p.flags).toMatchObject({ tty: true, user: '1000:1000', cwd: '/tmp' });
    expect(p.args).toEqual(['c1', 'ls', '-l', '--color', '--', 'x']);
  });

  test('exec the way containerd calls it', () => {
    const p = parseArgs(['exec', '--process', '/b/p.json', '--console-socket', '/s', '--detach', '--pid-file', '/b/e.pid', 'c1']);
    expect(p.flags).toMatchObject({ process: '/b/p.json', 'console-socket': '/s', detach: true, 'pid-file': '/b/e.pid' });
    expect(p.args).toEqual(['c1']);
  });

  test('ps ID then ps options', () => {
    const p = parseArgs(['ps', '--format', 'json', 'c1', '-ef']);
    expect(p.flags.format).toBe('json');
    expect(p.args).toEqual(['c1', '-ef']);
  });

  test('-- ends command flags', () => {
    const p = parseArgs(['kill', '--', 'c1', 'KILL']);
    expect(p.args).toEqual(['c1', 'KILL']);
    expect(parseArgs(['delete', '--', '-f']).args).toEqual(['-f']);
    expect(usageError(['delete', '--', 'a', 'b']).message).toMatch(/takes exactly 1 argument/);
  });

  test('kill ID [SIGNAL] with --all/-a', () => {
    expect(parseArgs(['kill', 'c1']).args).toEqual(['c1']);
    const p = parseArgs(['kill', '--all', 'c1', '9']);
    expect(p.flags.all).toBe(true);
    expect(p.args).toEqual(['c1', '9']);
    expect(parseArgs(['kill', '-a', 'c1', 'KILL']).flags.all).toBe(true);
    expect(usageError(['kill', 'c1', 'KILL', 'extra']).message).toMatch(/at most 2/);
  });

  test('list formats', () => {
    expect(parseArgs(['list', '-f', 'json']).flags.format).toBe('json');
    expect(parseArgs(['list', '--format=table', '-q']).flags).toMatchObject({ format: 'table', quiet: true });
    expect(usageError(['list', '--format', 'yaml']).message).toMatch(/invalid value "yaml" for --format/);
    expect(usageError(['list', 'extra']).message).toMatch(/takes no arguments/);
  });

  test('update takes a resources file or -', () => {
    expect(parseArgs(['update', '--resources', '-', 'c1']).flags.resources).toBe('-');
    expect(parseArgs(['update', '-r', '/f', 'c1']).flags.resources).toBe('/f');
    const p = parseArgs(['update', '--memory', '1000', '--memory-swap', '-1', '--cpu-shares', '512', '--pids-limit', '10', 'c1']);
    expect(p.flags).toMatchObject({ memory: '1000', 'memory-swap': '-1', 'cpu-share': '512', 'pids-limit': 10 });
  });

  test('events --interval takes a Go duration', () => {
    expect(parseArgs(['events', '--interval', '1m30s', 'c1']).flags.interval).toBe(90_000);
    expect(parseArgs(['events', '--interval=250ms', '--stats', 'c1']).flags).toMatchObject({ interval: 250, stats: true });
    expect(usageError(['events', '--interval', '5', 'c1']).message).toMatch(/not a duration/);
  });

  test('checkpoint and restore flags', () => {
    const c = parseArgs(['checkpoint', '--image-path', '/i', '--work-path', '/w', '--leave-running', '--tcp-established', '--ext-unix-sk', '--shell-job', '--file-locks', '--empty-ns', 'network', 'c1']);
    expect(c.flags).toMatchObject({ 'image-path': '/i', 'work-path': '/w', 'leave-running': true, 'empty-ns': ['network'] });
    const r = parseArgs(['restore', '-b', '/b', '-d', '--pid-file', '/p', '--console-socket', '/s', '--image-path', '/i', 'c1']);
    expect(r.flags).toMatchObject({ bundle: '/b', detach: true, 'pid-file': '/p', 'console-socket': '/s' });
  });

  test('unknown flag names the command for the hint', () => {
    const e = usageError(['create', '--frobnicate', 'c1']);
    expect(e.message).toBe('unknown flag: --frobnicate');
    expect(e.command).toBe('create');
    expect(e.exitCode).toBe(1);
    expect(usageError(['create', '--frob=1', 'c1']).message).toBe('unknown flag: --frob');
  });

  test('missing flag value', () => {
    const e = usageError(['create', 'c1', '--bundle']);
    expect(e.message).toBe('flag needs an argument: --bundle');
  });

  test('missing container id', () => {
    for (const cmd of COMMANDS.filter((c) => c.takesId)) {
      const e = usageError([cmd.name]);
      expect(e.message).toBe('missing container id');
      expect(e.command).toBe(cmd.name);
    }
  });

  test('unknown command', () => {
    expect(usageError(['frob']).message).toBe('unknown command "frob"');
  });

  test('--help anywhere in a command wins over missing arguments', () => {
    for (const cmd of COMMANDS) {
      const p = parseArgs([cmd.name, '--help']);
      expect(p.help).toBe(true);
      expect(p.command).toBe(cmd.name);
      expect(parseArgs([cmd.name, '-h']).help).toBe(true);
    }
  });

  test('tsrun help <command>', () => {
    expect(parseArgs(['help', 'create'])).toMatchObject({ help: true, command: 'create' });
    const p = parseArgs(['help']);
    expect(p.help).toBe(true);
    expect(p.command).toBeUndefined();
  });

  test('a lone - is a positional (stdin)', () => {
    expect(parseArgs(['update', '-r', '-', 'c1']).args).toEqual(['c1']);
  });
});

test('parseDuration', () => {
  expect(parseDuration('5s')).toBe(5000);
  expect(parseDuration('1h2m3s')).toBe(3_723_000);
  expect(parseDuration('1.5s')).toBe(1500);
  expect(parseDuration('0')).toBe(0);
  expect(parseDuration('')).toBeUndefined();
  expect(parseDuration('5')).toBeUndefined();
  expect(parseDuration('5x')).toBeUndefined();
});
