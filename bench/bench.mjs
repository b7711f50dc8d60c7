#!/usr/bin/env node
// tsrun's benchmark: tsrun side by side with runc, crun (when installed) and a bare `node -e 0`,
// in interleaved rounds (each round runs every variant once, in a rotated order), so load from
// other jobs hits all variants alike; per-round ratios stay meaningful when absolute times drift.
//
//   npm run bench [-- --rounds N] [--quick] [--seq-rounds N] [--seq-runs N] [--runtimes tsrun,runc,crun]
//
// Needs root and a C compiler (the timer, bench/timer.c, is compiled on each run). Prints Markdown
// tables of medians and ratios; writes every sample to bench/results/<timestamp>.json.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repo = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

function parseOptions(argv) {
  const o = { rounds: 20, seqRounds: 5, seqRuns: 100, runtimes: ['tsrun', 'runc', 'crun'], tsrun: path.join(repo, 'bin/tsrun') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--rounds') o.rounds = Number(value());
    else if (a === '--quick') Object.assign(o, { rounds: 5, seqRounds: 2, seqRuns: 20 });
    else if (a === '--seq-rounds') o.seqRounds = Number(value());
    else if (a === '--seq-runs') o.seqRuns = Number(value());
    else if (a === '--runtimes') o.runtimes = value().split(',');
    else if (a === '--tsrun') o.tsrun = path.resolve(value());
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench [-- --rounds N] [--quick] [--seq-rounds N] [--seq-runs N] [--runtimes tsrun,runc,crun] [--tsrun PATH]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!(o.rounds >= 1 && o.seqRounds >= 0 && o.seqRuns >= 1)) throw new Error('rounds and runs must be positive numbers');
  return o;
}

// Every command runs with the environment tsrun's launcher gives Node (it clears these two), so
// the `node -e 0` floor is the one tsrun actually stands on.
function benchEnv() {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  return env;
}

/** One timer process (bench/timer.c); requests are answered in order. */
class Timer {
  constructor(binary, args, work, name) {
    this.out = path.join(work, `${name}.out`);
    this.err = path.join(work, `${name}.err`);
    this.proc = spawn(binary, args, { env: benchEnv(), stdio: ['pipe', 'pipe', 'inherit'] });
    this.waiting = [];
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
    const lines = createInterface({ input: this.proc.stdout });
    this.ready = new Promise((resolve, reject) => {
      this.waiting.push((line) => (line === 'ready' ? resolve() : reject(new Error(`timer: ${line}`))));
      this.proc.on('exit', (code) => {
        for (const w of this.waiting.splice(0)) w(`error timer exited (${code})`);
      });
    });
    lines.on('line', (line) => this.waiting.shift()?.(line));
  }

  /** Run argv `count` times; {i} in an argument is the iteration. */
  run(argv, count = 1) {
    if (argv.some((a) => a.includes('\t') || a.includes('\n'))) throw new Error(`argument with a tab or newline: ${argv}`);
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const f = line.split(' ');
        if (f.length !== 5 || f[0] === 'error') return reject(new Error(`timer: ${line}`));
        const read = (file) => {
          try {
            return fs.readFileSync(file, 'utf8');
          } catch {
            return '';
          }
        };
        resolve({ ms: Number(f[0]) / 1e6, rssKiB: Number(f[1]), status: Number(f[2]), failures: Number(f[3]), cpuMs: Number(f[4]) / 1e6, stdout: read(this.out), stderr: read(this.err) });
      });
      this.proc.stdin.write([count, this.out, this.err, ...argv].join('\t') + '\n');
    });
  }

  async close() {
    this.proc.stdin.end();
    await this.exited;
  }
}

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function commandOutput(cmd, args) {
  try {
    return execFileSync(cmd, args, { env: benchEnv(), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return undefined;
  }
}

function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown CPU';
  const statfsType = (p) => {
    try {
      return fs.statfsSync(p).type === 0x01021994 ? 'tmpfs' : 'not tmpfs';
    } catch {
      return 'unknown';
    }
  };
  const cgroup2 = (p) => {
    try {
      return fs.statfsSync(p).type === 0x63677270;
    } catch {
      return false;
    }
  };
  const cgroupMode = cgroup2('/sys/fs/cgroup') ? 'unified (v2)' : cgroup2('/sys/fs/cgroup/unified') ? 'hybrid (v1 + v2)' : 'legacy (v1)';
  const dirty = commandOutput('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=no']);
  return {
    cpu: model,
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    cgroupMode,
    stateRootFs: statfsType('/run'),
    node: process.version,
    runc: commandOutput('runc', ['--version'])?.split('\n')[0],
    crun: commandOutput('crun', ['--version'])?.split('\n')[0],
    tsrunCommit: (commandOutput('git', ['-C', repo, 'rev-parse', '--short', 'HEAD']) ?? 'unknown') + (dirty ? ' (modified)' : ''),
    loadAverageAtStart: os.loadavg().map((x) => x.toFixed(2)),
  };
}

function buildBundles(work) {
  const bundles = {};
  for (const [name, args] of [['true', ['true']], ['sleep', ['sleep', '3600']]]) {
    const dir = path.join(work, `bundle-${name}`);
    execFileSync('bash', [path.join(repo, 'scripts/make-busybox-bundle.sh'), dir, ...args], { env: benchEnv(), stdio: ['ignore', 'ignore', 'inherit'] });
    // crun 1.8 refuses any ociVersion but 1.0.x; every runtime gets the same config.
    const file = path.join(dir, 'config.json');
    const config = JSON.parse(fs.readFileSync(file, 'utf8'));
    config.ociVersion = '1.0.2-dev';
    fs.writeFileSync(file, JSON.stringify(config, null, '\t') + '\n');
    bundles[name] = dir;
  }
  return bundles;
}

/** VmRSS and Pss of a process, KiB. */
function processMemory(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { rssKiB: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]), pssKiB: Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1]) };
}

/** Gone or a zombie: what every runtime calls stopped. */
async function waitStopped(pid, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    } catch {
      return true;
    }
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return true;
    await new Promise((r) => setTimeout(r, 1));
  }
  return false;
}

function rotate(list, r) {
  const k = r % list.length;
  return list.slice(k).concat(list.slice(0, k));
}

async function main() {
  const o = parseOptions(process.argv.slice(2));
  if (process.getuid() !== 0) throw new Error('the bench starts containers: run it as root');
  if (!fs.existsSync(path.join(repo, 'dist/tsrun.js'))) {
    console.error('bench: dist/tsrun.js is missing; building it');
    execFileSync('npm', ['run', 'build'], { cwd: repo, stdio: 'inherit' });
  }
  const runtimes = o.runtimes.filter((r) => {
    const ok = r === 'tsrun' || hasCommand(r);
    if (!ok) console.error(`bench: ${r} is not installed; leaving it out${r === 'crun' ? ' (apt-get install -y crun)' : ''}`);
    return ok;
  });

  const tag = `bench-${process.pid}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrun-bench-'));
  // The runtimes' default state roots live under /run; each gets its own here.
  const stateBase = `/run/tsrun-${tag}`;
  const roots = Object.fromEntries(runtimes.map((r) => [r, path.join(stateBase, r)]));
  const timerBinary = path.join(work, 'timer');
  execFileSync('cc', ['-O2', '-Wall', '-o', timerBinary, path.join(repo, 'bench/timer.c')], { stdio: 'inherit' });
  const hostTimer = new Timer(timerBinary, [], work, 'host');
  // crun refuses cgroup-hybrid hosts: its own timer runs in a private mount namespace without the
  // cgroup2 mount, set up once before timing, so crun's numbers include no wrapper.
  const hybrid = fs.existsSync('/sys/fs/cgroup/unified') && fs.statfsSync('/sys/fs/cgroup/unified').type === 0x63677270;
  const crunTimer = runtimes.includes('crun') ? new Timer(timerBinary, hybrid ? ['--detach-mount', '/sys/fs/cgroup/unified'] : [], work, 'crun') : undefined;

  const cleanup = async () => {
    for (const r of runtimes) {
      const timer = r === 'crun' ? crunTimer : hostTimer;
      let ids = [];
      try {
        ids = fs.readdirSync(roots[r]).filter((e) => !e.startsWith('.'));
      } catch {
        /* never created */
      }
      for (const id of ids) await timer.run([r === 'tsrun' ? o.tsrun : r, '--root', roots[r], 'delete', '--force', id]).catch(() => {});
    }
    await hostTimer.close();
    await crunTimer?.close();
    fs.rmSync(stateBase, { recursive: true, force: true });
    fs.rmSync(work, { recursive: true, force: true });
  };
  process.on('SIGINT', () => {
    console.error('bench: interrupted; cleaning up');
    cleanup().finally(() => process.exit(130));
  });

  try {
    await hostTimer.ready;
    await crunTimer?.ready;
    const info = machine();
    console.error(`bench: building the busybox bundles in ${work}`);
    const bundles = buildBundles(work);

    const variants = runtimes.map((r) => ({
      name: r,
      timer: r === 'crun' ? crunTimer : hostTimer,
      cli: [r === 'tsrun' ? o.tsrun : r, '--root', roots[r]],
    }));
    const floor = { name: 'node -e 0', timer: hostTimer, cli: undefined };
    const names = [...variants.map((v) => v.name), floor.name];
    const samples = {}; // op -> variant -> [{round, ms, rssKiB, status}]
    const initMemory = Object.fromEntries(runtimes.map((r) => [r, []]));
    const failures = {}; // "op variant" -> first stderr
    const record = (op, v, round, res, perRun = 1) => {
      ((samples[op] ??= {})[v.name] ??= []).push({ round, ms: res.ms / perRun, cpuMs: res.cpuMs / perRun, rssKiB: res.rssKiB, status: res.status, failures: res.failures });
      if (res.failures && !failures[`${op} ${v.name}`]) failures[`${op} ${v.name}`] = (res.stderr || res.stdout).trim().split('\n')[0];
      return res;
    };
    const time = (op, v, round, args) => (v.cli ? v.timer.run([...v.cli, ...args]) : v.timer.run(['node', '-e', '0'])).then((res) => record(op, v, round, res));
    const ops = ['run', 'create', 'state', 'start', 'kill', 'delete'];

    for (let round = 0; round < o.rounds; round++) {
      process.stderr.write(`\rbench: round ${round + 1}/${o.rounds}   `);
      const order = rotate([...variants, floor], round);
      const id = (v, op) => `${tag}-${op}-${round}-${v.name}`;
      for (const v of order) await time('run', v, round, ['run', '-b', bundles.true, id(v, 'run')]);
      for (const v of order) await time('create', v, round, ['create', '-b', bundles.sleep, id(v, 'c')]);
      const pids = {};
      for (const v of order) {
        const res = await time('state', v, round, ['state', id(v, 'c')]);
        if (v.cli && res.status === 0) pids[v.name] = JSON.parse(res.stdout).pid;
      }
      for (const v of variants) {
        if (!pids[v.name]) continue;
        try {
          initMemory[v.name].push({ round, ...processMemory(pids[v.name]) });
        } catch {
          /* exited: the create failed in a way state did not show */
        }
      }
      for (const v of order) await time('start', v, round, ['start', id(v, 'c')]);
      for (const v of order) await time('kill', v, round, ['kill', id(v, 'c'), 'KILL']);
      for (const v of variants) if (pids[v.name]) await waitStopped(pids[v.name]);
      for (const v of order) await time('delete', v, round, ['delete', id(v, 'c')]);
    }
    process.stderr.write('\n');

    // exec into one running container per runtime
    const execIds = {};
    for (const v of variants) {
      const id = `${tag}-exec-${v.name}`;
      const created = await v.timer.run([...v.cli, 'create', '-b', bundles.sleep, id]);
      const started = created.status === 0 && (await v.timer.run([...v.cli, 'start', id]));
      if (started && started.status === 0) execIds[v.name] = id;
      else failures[`exec ${v.name}`] = `setup failed: ${(created.stderr || started?.stderr || '').trim()}`;
    }
    const execUnavailable = new Set();
    for (let round = 0; round < o.rounds; round++) {
      process.stderr.write(`\rbench: exec round ${round + 1}/${o.rounds}   `);
      for (const v of rotate(variants, round)) {
        if (!execIds[v.name] || execUnavailable.has(v.name)) continue;
        const res = await time('exec', v, round, ['exec', execIds[v.name], '/bin/true']);
        if (/not implemented/.test(res.stderr)) execUnavailable.add(v.name);
      }
    }
    process.stderr.write('\n');
    for (const v of variants) if (execIds[v.name]) await v.timer.run([...v.cli, 'delete', '--force', execIds[v.name]]);

    const seqOp = `${o.seqRuns} sequential runs, per container`;
    for (let round = 0; round < o.seqRounds; round++) {
      process.stderr.write(`\rbench: sequential round ${round + 1}/${o.seqRounds}   `);
      for (const v of rotate(variants, round)) {
        const res = await v.timer.run([...v.cli, 'run', '-b', bundles.true, `${tag}-seq-${round}-${v.name}-{i}`], o.seqRuns);
        record(seqOp, v, round, res, o.seqRuns);
      }
    }
    process.stderr.write('\n');
    info.loadAverageAtEnd = os.loadavg().map((x) => x.toFixed(2));

    const report = summarize({ ops: [...ops, 'exec', ...(o.seqRounds ? [seqOp] : [])], names, samples, initMemory, execUnavailable });
    const text = renderMarkdown(report, info, o, runtimes, failures);
    process.stdout.write(text);
    const results = path.join(repo, 'bench/results');
    fs.mkdirSync(results, { recursive: true });
    const file = path.join(results, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify({ options: o, machine: info, summary: report, failures, samples, initMemory }, null, 1) + '\n');
    console.error(`bench: raw samples in ${path.relative(process.cwd(), file)}`);
  } finally {
    await cleanup();
  }
}

/** Medians, and medians of per-round ratios (rounds where both sides succeeded). */
function summarize({ ops, names, samples, initMemory, execUnavailable }) {
  const ok = (op, name) => (samples[op]?.[name] ?? []).filter((s) => s.status === 0 && !s.failures);
  const byRound = (op, name) => new Map(ok(op, name).map((s) => [s.round, s]));
  const ratio = (op, a, b, field = 'ms') => {
    const ra = byRound(op, a);
    const rb = byRound(op, b);
    return median([...ra].filter(([r]) => rb.has(r)).map(([r, s]) => s[field] / rb.get(r)[field]));
  };
  const rows = ops.map((op) => ({
    op,
    medianMs: Object.fromEntries(names.map((n) => [n, n === 'tsrun' && op === 'exec' && execUnavailable.has(n) ? 'n/a' : median(ok(op, n).map((s) => s.ms))])),
    peakRssKiB: Object.fromEntries(names.map((n) => [n, median(ok(op, n).map((s) => s.rssKiB))])),
    ratios: {
      'tsrun/runc': ratio(op, 'tsrun', 'runc'),
      'crun/runc': ratio(op, 'crun', 'runc'),
      'tsrun/node': ratio(op, 'tsrun', 'node -e 0'),
    },
    medianCpuMs: Object.fromEntries(names.map((n) => [n, median(ok(op, n).map((s) => s.cpuMs))])),
    cpuRatios: {
      'tsrun/runc': ratio(op, 'tsrun', 'runc', 'cpuMs'),
      'crun/runc': ratio(op, 'crun', 'runc', 'cpuMs'),
      'tsrun/node': ratio(op, 'tsrun', 'node -e 0', 'cpuMs'),
    },
  }));
  const init = Object.fromEntries(
    Object.entries(initMemory).map(([n, xs]) => [n, { rssKiB: median(xs.map((x) => x.rssKiB)), pssKiB: median(xs.map((x) => x.pssKiB)) }]),
  );
  return { rows, initMemory: init };
}

function renderMarkdown(report, info, o, runtimes, failures) {
  const cols = [...runtimes, 'node -e 0'];
  const fmt = (x, digits = 1) => (typeof x === 'string' ? x : Number.isFinite(x) ? x.toFixed(digits) : '–');
  const ratioCols = ['tsrun/runc', ...(runtimes.includes('crun') ? ['crun/runc'] : []), 'tsrun/node'];
  const lines = [];
  lines.push(
    `Machine: ${info.cpu}, ${info.cores} cores, ${info.memoryGiB} GiB, Linux ${info.kernel}, cgroup ${info.cgroupMode}, /run ${info.stateRootFs}; ` +
      `Node ${info.node}; ${info.runc ?? 'no runc'}; ${info.crun ?? 'no crun'}; tsrun ${info.tsrunCommit}. ` +
      `Load average ${info.loadAverageAtStart.join(' ')} at start, ${info.loadAverageAtEnd.join(' ')} at end.`,
    '',
    `${o.rounds} interleaved rounds (sequential runs: ${o.seqRounds} rounds of ${o.seqRuns}); medians in ms; ratios are medians of per-round ratios.`,
    '',
    `| operation | ${cols.join(' | ')} | ${ratioCols.join(' | ')} |`,
    `|---|${cols.map(() => '---:').join('|')}|${ratioCols.map(() => '---:').join('|')}|`,
  );
  const opLabel = { run: '`run` of /bin/true', create: '`create`', state: '`state`', start: '`start`', kill: '`kill KILL`', delete: '`delete`', exec: '`exec` of /bin/true' };
  for (const row of report.rows) {
    const ms = cols.map((c) => (row.op === 'exec' || row.op.includes('sequential')) && c === 'node -e 0' ? '' : fmt(row.medianMs[c], 1));
    const ratios = ratioCols.map((r) => {
      if (r === 'tsrun/node' && (row.op === 'exec' || row.op.includes('sequential'))) return '';
      return row.medianMs.tsrun === 'n/a' && r.startsWith('tsrun') ? 'n/a' : fmt(row.ratios[r], 2);
    });
    lines.push(`| ${opLabel[row.op] ?? row.op} | ${ms.join(' | ')} | ${ratios.join(' | ')} |`);
  }
  lines.push(
    '',
    'CPU time (user + system of the command and the children it waited for; steadier than wall time on a loaded machine):',
    '',
    `| operation, CPU ms | ${cols.join(' | ')} | ${ratioCols.join(' | ')} |`,
    `|---|${cols.map(() => '---:').join('|')}|${ratioCols.map(() => '---:').join('|')}|`,
  );
  for (const row of report.rows) {
    const noFloor = row.op === 'exec' || row.op.includes('sequential');
    const ms = cols.map((c) => (noFloor && c === 'node -e 0' ? '' : fmt(row.medianCpuMs[c], 1)));
    const ratios = ratioCols.map((r) => {
      if (r === 'tsrun/node' && noFloor) return '';
      return row.medianMs.tsrun === 'n/a' && r.startsWith('tsrun') ? 'n/a' : fmt(row.cpuRatios[r], 2);
    });
    lines.push(`| ${opLabel[row.op] ?? row.op} | ${ms.join(' | ')} | ${ratios.join(' | ')} |`);
  }
  const mib = (kib) => (Number.isFinite(kib) ? (kib / 1024).toFixed(1) : '–');
  const rssRow = (op) => report.rows.find((r) => r.op === op)?.peakRssKiB ?? {};
  lines.push('', `| memory (MiB, medians) | ${cols.join(' | ')} |`, `|---|${cols.map(() => '---:').join('|')}|`);
  for (const op of ['run', 'create', 'state']) lines.push(`| CLI peak RSS, \`${op}\` | ${cols.map((c) => mib(rssRow(op)[c])).join(' | ')} |`);
  lines.push(`| init waiting for start, RSS | ${cols.map((c) => mib(report.initMemory[c]?.rssKiB)).join(' | ')} |`);
  lines.push(`| init waiting for start, PSS | ${cols.map((c) => mib(report.initMemory[c]?.pssKiB)).join(' | ')} |`);
  const failed = Object.entries(failures);
  if (failed.length) {
    lines.push('', 'Failures (left out of the medians):');
    for (const [k, v] of failed) lines.push(`- ${k}: ${v}`);
  }
  return lines.join('\n') + '\n';
}

main().catch((err) => {
  console.error(`bench: ${err.stack ?? err}`);
  process.exit(1);
});
