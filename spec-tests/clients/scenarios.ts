/**
 * The scenarios every client runs, once per runtime: the client is a Driver, the runtime a path.
 * One detached container (`base`) is shared by the tests that only look at or act on a running
 * container, in order: run detached, exec, exec with a tty, ps, stats, pause/resume, update,
 * stop, rm. Others make their own: run with a tty, foreground exit status, kill, rm --force.
 */
import * as fs from 'fs';
import {
  alive,
  cgroupsOf,
  describeResult,
  freezerState,
  hostProcess,
  leftovers,
  memoryLimit,
  namespacesOf,
  NAMESPACES,
  TEST_TIMEOUT_MS,
  waitFor,
  type HostProcess,
  type Result,
  type Runtime,
} from './e2e';

export type Status = 'created' | 'running' | 'paused' | 'stopped' | 'unknown';

/** A container as the client names it and as the runtime and the host see it. */
export interface Container {
  /** The name given to the client. */
  name: string;
  /** The runtime's container id (docker's and podman's long hex id, ctr's name). */
  id: string;
  init: HostProcess;
  rt: Runtime;
}

export interface Inspect {
  status: Status;
  pid: number;
  exitCode?: number;
}

export interface Driver {
  client: string;
  /** The cgroup (under each hierarchy's root) that holds this client's containers. */
  cgroupParent: string;
  /** Where `rt` keeps the state of container `id` (must be gone after rm). */
  stateDir(rt: Runtime, id: string): string;
  /** Starts `argv` detached in a new container; resolves to the runtime's id. */
  runDetached(rt: Runtime, name: string, argv: string[]): { result: Result; id?: string };
  /** Runs `argv` in the foreground and removes the container afterwards; `tty` on a real pty. */
  runForeground(rt: Runtime, name: string, argv: string[], opts: { tty?: boolean; input?: string }): { result: Result; id?: string };
  inspect(c: Container): Inspect;
  exec(c: Container, argv: string[], opts?: { tty?: boolean; input?: string }): Result;
  /** Host pids of the container's processes as the client lists them, and the raw listing. */
  ps(c: Container): { result: Result; hostPids: number[] };
  /** Memory in use (bytes) and process count, as the client reports them. */
  stats(c: Container): { result: Result; memoryBytes: number; pids?: number };
  pause(c: Container): Result;
  resume(c: Container): Result;
  /** Sets the memory limit; undefined when the client has no update command. */
  updateMemory?(c: Container, bytes: number): Result;
  /** The client's stop: SIGTERM, and SIGKILL after `graceSeconds`. */
  stop(c: Container, graceSeconds: number): Result;
  kill(c: Container, signal: string): Result;
  rm(c: Container, force: boolean): Result;
  /** The last lines of the daemons' logs, added to a failing scenario's message. */
  diagnostics?(): string;
}

/** SIGTERM ends it at once with status 0 (a shell as pid 1 has no default TERM action). */
const GRACEFUL = ['sh', '-c', 'trap "exit 0" TERM; sleep 1000 & wait'];

function expectOk(r: Result): void {
  if (r.status !== 0) throw new Error(`client command failed\n${describeResult(r)}`);
}

function expectNoLeftovers(d: Driver, c: { id: string; rt: Runtime; init?: HostProcess }): void {
  const left = leftovers({ id: c.id, stateDir: d.stateDir(c.rt, c.id), cgroupParent: d.cgroupParent, init: c.init });
  expect(left).toEqual([]);
}

export function defineScenarios(d: Driver, runtimes: Runtime[], unique: () => string): void {
  describe.each(runtimes.map((rt) => [rt.name, rt] as const))(`${d.client} with %s`, (_name, rt) => {
    let base: Container | undefined;
    const made = new Set<Container>();

    const start = (name: string, argv: string[]): Container => {
      const { result, id } = d.runDetached(rt, name, argv);
      expectOk(result);
      if (!id) throw new Error(`no container id for ${name}\n${describeResult(result)}`);
      const info = waitFor(`${name} running`, () => {
        const i = d.inspect({ name, id, rt, init: { pid: 0, start: '' } });
        return i.status === 'running' && i.pid > 0 ? i : undefined;
      });
      const c = { name, id, rt, init: hostProcess(info.pid) };
      made.add(c);
      return c;
    };
    const needBase = (): Container => {
      if (!base) throw new Error('needs the container of "run detached", which failed or did not run');
      return base;
    };

    afterAll(() => {
      for (const c of made) d.rm(c, true);
    });

    const scenario = (title: string, body: () => void): void => {
      test(
        title,
        () => {
          try {
            body();
          } catch (err) {
            const logs = d.diagnostics?.();
            if (logs && err instanceof Error) err.message += `\n\n${logs}`;
            throw err;
          }
        },
        TEST_TIMEOUT_MS,
      );
    };
    const skipped = (title: string, _body: () => void): void => test.skip(`${title} (${d.client} has no such command)`, () => {});

    scenario(
      'run detached: the container runs in its own namespaces and cgroup',
      () => {
        base = start(`${unique()}-base`, GRACEFUL);
        const host = namespacesOf(process.pid);
        const ns = namespacesOf(base.init.pid);
        // no cgroup here: clients give a container its own cgroup namespace only on cgroup v2
        for (const n of NAMESPACES.filter((n) => n !== 'cgroup')) {
          expect(`${n} ${ns[n] === host[n] ? 'shared with the host' : 'own'}`).toBe(`${n} own`);
        }
        const cgroups = [...cgroupsOf(base.init.pid).values()];
        expect(cgroups.every((p) => p.includes(base!.id))).toBe(true);
        expect(cgroups.every((p) => p.startsWith(`/${d.cgroupParent}/`))).toBe(true);
        expect(fs.existsSync(d.stateDir(rt, base.id))).toBe(true);
      },
    );

    scenario(
      'exec: the process joins the container namespaces and cgroup, output and status come back',
      () => {
        const c = needBase();
        const r = d.exec(c, ['sh', '-c', `for n in ${NAMESPACES.join(' ')}; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup; echo to-stderr >&2; exit 7`]);
        expect(r.status).toBe(7);
        expect(r.stderr).toContain('to-stderr');
        const lines = r.stdout.trim().split('\n');
        const ns = namespacesOf(c.init.pid);
        expect(lines.slice(0, NAMESPACES.length)).toEqual(NAMESPACES.map((n) => ns[n]));
        const initCgroup = fs.readFileSync(`/proc/${c.init.pid}/cgroup`, 'utf8').trim().split('\n');
        const inside = lines.slice(NAMESPACES.length);
        if (ns.cgroup === namespacesOf(process.pid).cgroup) {
          expect(inside).toEqual(initCgroup);
        } else {
          // in a cgroup namespace paths are relative to its root: the controllers must match
          const controllers = (l: string): string => l.split(':').slice(0, 2).join(':');
          expect(inside.map(controllers)).toEqual(initCgroup.map(controllers));
        }
        expect(alive(c.init)).toBe(true);
      },
    );

    scenario(
      'exec with a tty: a terminal, and an interactive shell answers typed commands',
      () => {
        const c = needBase();
        // the pause before exiting: ctr can lose the output of a tty process that is gone before
        // its post-start resize (seen with runc, the faster one)
        const t = d.exec(c, ['sh', '-c', 'tty; sleep 0.5'], { tty: true });
        expectOk(t);
        expect(t.stdout).toMatch(/^\/dev\/pts\/\d+$/m);
        const s = d.exec(c, ['sh'], { tty: true, input: 'echo $((6*7))-answer\nsleep 0.5\nexit 4\n' });
        expect(s.stdout).toContain('42-answer');
        expect(s.status).toBe(4);
      },
    );

    scenario(
      'top/ps: the client lists the container processes',
      () => {
        const c = needBase();
        const { result, hostPids } = d.ps(c);
        expectOk(result);
        expect(hostPids).toContain(c.init.pid);
        expect(hostPids.length).toBeGreaterThanOrEqual(2); // sh and its sleep
      },
    );

    scenario(
      'stats/metrics: memory in use and process count',
      () => {
        const c = needBase();
        const s = d.stats(c);
        expectOk(s.result);
        expect(s.memoryBytes).toBeGreaterThan(0);
        if (s.pids !== undefined) expect(s.pids).toBeGreaterThanOrEqual(2);
      },
    );

    scenario(
      'pause and resume: the cgroup freezes and thaws, the client shows paused then running',
      () => {
        const c = needBase();
        const p = d.pause(c);
        expectOk(p);
        expect(d.inspect(c).status).toBe('paused');
        expect(freezerState(c.init.pid)).toBe('frozen');
        const r = d.resume(c);
        expectOk(r);
        expect(d.inspect(c).status).toBe('running');
        expect(freezerState(c.init.pid)).toBe('thawed');
        expectOk(d.exec(c, ['true']));
      },
    );

    (d.updateMemory ? scenario : skipped)(
      'update: a new memory limit reaches the cgroup',
      () => {
        const c = needBase();
        const bytes = 96 * 1024 * 1024;
        const r = d.updateMemory!(c, bytes);
        expectOk(r);
        expect(memoryLimit(c.init.pid)).toBe(String(bytes));
      },
    );

    scenario(
      'stop: SIGTERM ends the container, which then shows stopped with status 0',
      () => {
        const c = needBase();
        expectOk(d.stop(c, 10));
        const info = waitFor('stopped', () => {
          const i = d.inspect(c);
          return i.status === 'stopped' ? i : undefined;
        });
        if (info.exitCode !== undefined) expect(info.exitCode).toBe(0);
        expect(alive(c.init)).toBe(false);
      },
    );

    scenario(
      'rm: nothing of the container is left (state directory, cgroups, processes, mounts)',
      () => {
        const c = needBase();
        expectOk(d.rm(c, false));
        made.delete(c);
        expectNoLeftovers(d, c);
      },
    );

    scenario(
      'run with a tty: an interactive shell on a terminal; its exit status comes back',
      () => {
        const name = `${unique()}-tty`;
        const { result, id } = d.runForeground(rt, name, ['sh'], { tty: true, input: 'tty\necho $((6*7))-answer\nsleep 0.5\nexit 3\n' });
        expect(result.stdout).toMatch(/^\/dev\/pts\/\d+$/m);
        expect(result.stdout).toContain('42-answer');
        expect(result.status).toBe(3);
        if (id) expectNoLeftovers(d, { id, rt });
      },
    );

    scenario(
      'run in the foreground: output, error output and exit status',
      () => {
        const name = `${unique()}-fg`;
        const { result, id } = d.runForeground(rt, name, ['sh', '-c', 'echo out; echo err >&2; exit 5'], {});
        expect(result.stdout).toContain('out');
        expect(result.status).toBe(5);
        if (id) expectNoLeftovers(d, { id, rt });
      },
    );

    scenario(
      "a process that cannot start: the client reports the runtime's error, nothing is left",
      () => {
        const name = `${unique()}-fail`;
        const { result, id } = d.runForeground(rt, name, ['/no-such-binary'], {});
        expect(result.status).not.toBe(0);
        // runc's and tsrun's wording, read back by the shim / conmon from the --log JSON lines
        expect(`${result.stdout}${result.stderr}`).toMatch(/no-such-binary.*no such file or directory/);
        if (id) {
          // docker and ctr keep the container record of a failed start; removing it must clean up
          d.rm({ name, id, rt, init: { pid: 0, start: '' } }, true);
          expectNoLeftovers(d, { id, rt });
        }
      },
    );

    scenario(
      'kill: SIGKILL ends the container (status 137), rm leaves nothing',
      () => {
        const c = start(`${unique()}-kill`, ['sleep', '1000']);
        expectOk(d.kill(c, 'KILL'));
        const info = waitFor('stopped after kill', () => {
          const i = d.inspect(c);
          return i.status === 'stopped' ? i : undefined;
        });
        if (info.exitCode !== undefined) expect(info.exitCode).toBe(137);
        expect(alive(c.init)).toBe(false);
        expectOk(d.rm(c, false));
        made.delete(c);
        expectNoLeftovers(d, c);
      },
    );

    scenario(
      'rm --force of a running container leaves nothing',
      () => {
        const c = start(`${unique()}-force`, ['sleep', '1000']);
        // a second process, so removal has more than the init to kill
        expectOk(d.exec(c, ['sh', '-c', 'sleep 1000 >/dev/null 2>&1 </dev/null &']));
        expectOk(d.rm(c, true));
        made.delete(c);
        expectNoLeftovers(d, c);
      },
    );
  });
}
