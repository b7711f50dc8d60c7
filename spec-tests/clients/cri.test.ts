/**
 * Kubernetes' path: containerd's CRI plugin with a runtime handler per runtime (the runc shim v2
 * with BinaryName, as README's RuntimeClass setup), driven as kubelet drives it, through
 * cri/client.ts, on a containerd of this test's own (scripts/e2e/containerd.sh --cri). One pod
 * per handler, in order: RunPodSandbox, CreateContainer, StartContainer, ExecSync, StopContainer,
 * RemoveContainer, StopPodSandbox, RemovePodSandbox. Pods use the host network: no CNI here.
 */
import * as fs from 'fs';
import * as path from 'path';
import { walkTree } from '../harness';
import { connect, type CriClient } from './cri/client';
import {
  alive,
  cgroupsOf,
  cleanup,
  ensurePackages,
  hostProcess,
  leftovers,
  namespacesOf,
  run,
  runtimes,
  script,
  SCRIPTS,
  tail,
  tempDir,
  TEST_TIMEOUT_MS,
  type HostProcess,
  type Runtime,
} from './e2e';

const dir = tempDir('cri');
const sock = path.join(dir, 'containerd.sock');
const cgroupParent = path.basename(dir);
/** Sandbox and container image: busybox whose default command keeps running, as a pause image. */
const IMAGE = 'localhost/tsrun-e2e/pause:latest';
/** Where CRI's containers live in containerd (the shim adds it to the runtime's --root). */
const K8S_NAMESPACE = 'k8s.io';
const rts = runtimes();

/** The runtime's --root for a handler's pods, as containerd.sh configures the shim. */
const runtimeRoot = (rt: Runtime): string => path.join(dir, 'runc-root', rt.name, K8S_NAMESPACE);

let skipReason = ensurePackages(['containerd'], ['containerd', 'ctr', 'containerd-shim-runc-v2']);
if (!skipReason && rts.length === 0) skipReason = 'no runtime to test (TSRUN_E2E_RUNTIMES)';
if (!skipReason) {
  const out = path.join(dir, 'image');
  const r = run(process.execPath, [path.join(SCRIPTS, 'build-busybox-image.mjs'), out, IMAGE, 'sleep', 'inf']);
  if (r.status !== 0) skipReason = `building the image failed: ${r.stderr.trim()}`;
}
if (!skipReason) {
  const r = script('containerd.sh', ['start', dir, '--cri', IMAGE, ...rts.map((rt) => `${rt.name}=${rt.path}`)]);
  if (r.status !== 0) skipReason = `containerd (with CRI) did not start: ${r.stderr.trim()}`;
}
if (!skipReason) {
  // CRI only sees images of its own containerd namespace
  const r = run('ctr', ['--address', sock, '-n', K8S_NAMESPACE, 'images', 'import', path.join(dir, 'image', 'busybox-image.tar')], { timeout: 120_000 });
  if (r.status !== 0) skipReason = `ctr images import failed: ${r.stderr.trim()}`;
}

const cri: CriClient | undefined = skipReason ? undefined : connect(sock);

afterAll(() => {
  cri?.close();
  cleanup(dir);
});

const diagnostics = (): string => `containerd.log:\n${tail(path.join(dir, 'containerd.log'))}`;

/** A test whose failure message ends with containerd's last log lines. */
function scenario(title: string, body: () => Promise<void>): void {
  test(
    title,
    async () => {
      try {
        await body();
      } catch (err) {
        if (err instanceof Error) err.message += `\n\n${diagnostics()}`;
        throw err;
      }
    },
    TEST_TIMEOUT_MS,
  );
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Listed {
  id: string;
  pid: number;
  status: string;
}

/** `<runtime> --root <root> list`: the containers that runtime itself knows of. */
function listedBy(rt: Runtime, root = runtimeRoot(rt)): Listed[] {
  // the shim makes the root with its first container; runc's list would create a missing one
  if (!fs.existsSync(root)) return [];
  const r = run(rt.path, ['--root', root, 'list', '--format', 'json']);
  if (r.status !== 0) throw new Error(`${rt.name} list failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as Listed[] | null) ?? []; // runc prints null for none
}

/** Files and directories under containerd's root and state whose name is `id` (bundles, CRI's records). */
function containerdPathsNaming(id: string): string[] {
  return ['root', 'state'].flatMap((d) => [...walkTree(path.join(dir, d), 5)].filter((e) => e.dirent.name === id).map((e) => e.path));
}

/** Everything of a removed sandbox or container still on the host, from the runtime to containerd. */
function criLeftovers(rt: Runtime, id: string, init?: HostProcess): string[] {
  const left = leftovers({ id, stateDir: path.join(runtimeRoot(rt), id), cgroupParent, init });
  for (const p of containerdPathsNaming(id)) left.push(`containerd path ${p}`);
  for (const other of rts) {
    if (listedBy(other).some((c) => c.id === id)) left.push(`listed by ${other.name}`);
  }
  return left;
}

function podConfig(rt: Runtime): Record<string, unknown> {
  const logDirectory = path.join(dir, 'pods', rt.name);
  fs.mkdirSync(logDirectory, { recursive: true }); // kubelet makes it, not containerd
  return {
    metadata: { name: `cri-${rt.name}-pod`, uid: `cri-${rt.name}-${process.pid}`, namespace: 'cri-e2e', attempt: 0 },
    // no hostname: with the host's network a pod has the host's UTS namespace, which runtimes
    // refuse to rename (kubelet leaves it empty for such pods too)
    log_directory: logDirectory,
    linux: {
      // below the cgroup the cleanup sweeps
      cgroup_parent: `/${cgroupParent}`,
      security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } },
    },
  };
}

if (skipReason) {
  // jest runs no afterAll in a file whose tests are all skipped
  cleanup(dir);
  console.warn(`e2e: CRI scenarios skipped: ${skipReason}`);
  test.skip(`CRI: ${skipReason}`, () => {});
} else {
  const client = cri!;

  scenario('containerd serves CRI runtime.v1 and lists the imported sandbox image', async () => {
    const v = await client.runtime('Version', { version: 'v1' });
    expect(v.runtime_api_version).toBe('v1');
    expect(v.runtime_name).toBe('containerd');
    // containerd learns of the import from an event, so it may lag the import a little
    await eventually('the image in ListImages', async () => {
      const { images } = await client.image('ListImages', {});
      return images.some((i: { repo_tags: string[] }) => i.repo_tags.includes(IMAGE));
    });
  });

  describe.each(rts.map((rt) => [rt.name, rt] as const))('CRI runtime handler %s', (_name, rt) => {
    const pod = podConfig(rt);
    let sandboxId: string | undefined;
    let sandboxInit: HostProcess | undefined;
    let containerId: string | undefined;
    let containerInit: HostProcess | undefined;

    const needSandbox = (): string => {
      if (!sandboxId) throw new Error('needs the pod of "RunPodSandbox", which failed or did not run');
      return sandboxId;
    };
    const needContainer = (): string => {
      if (!containerId) throw new Error('needs the container of "CreateContainer", which failed or did not run');
      return containerId;
    };
    const verboseInfo = (response: Record<string, any>): Record<string, any> => JSON.parse(response.info?.info ?? '{}');

    afterAll(async () => {
      // what a failed step left; errors here only mean it is gone already
      if (containerId) await client.runtime('RemoveContainer', { container_id: containerId }).catch(() => undefined);
      if (sandboxId) {
        await client.runtime('StopPodSandbox', { pod_sandbox_id: sandboxId }).catch(() => undefined);
        await client.runtime('RemovePodSandbox', { pod_sandbox_id: sandboxId }).catch(() => undefined);
      }
    });

    scenario(`RunPodSandbox: the sandbox runs on ${rt.name} (its root lists it), on the host network, in its own cgroup`, async () => {
      const { pod_sandbox_id: id } = await client.runtime('RunPodSandbox', { config: pod, runtime_handler: rt.name });
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      sandboxId = id;
      const status = await client.runtime('PodSandboxStatus', { pod_sandbox_id: id, verbose: true });
      expect(status.status.state).toBe('SANDBOX_READY');
      expect(status.status.runtime_handler).toBe(rt.name);
      const info = verboseInfo(status);
      expect(info.runtimeOptions?.binary_name).toBe(rt.path);

      const listed = listedBy(rt).find((c) => c.id === id);
      expect(listed).toMatchObject({ status: 'running', pid: info.pid });
      for (const other of rts.filter((o) => o !== rt)) expect(listedBy(other).map((c) => c.id)).not.toContain(id);
      sandboxInit = hostProcess(listed!.pid);

      expect(namespacesOf(sandboxInit.pid).net).toBe(namespacesOf(process.pid).net);
      const cgroups = [...cgroupsOf(sandboxInit.pid).values()];
      expect(cgroups.every((p) => p === `/${cgroupParent}/${id}`)).toBe(true);
    });

    scenario(`CreateContainer, StartContainer: the container runs on ${rt.name} in the pod's IPC namespace, RUNNING, its output in the log`, async () => {
      const sandbox = needSandbox();
      const { container_id: id } = await client.runtime('CreateContainer', {
        pod_sandbox_id: sandbox,
        sandbox_config: pod,
        config: {
          metadata: { name: `cri-${rt.name}-sleeper`, attempt: 0 },
          image: { image: IMAGE },
          // SIGTERM (StopContainer) ends it at once with status 0: a shell as pid 1 has no default TERM action
          command: ['sh', '-c', 'trap "exit 0" TERM; echo started-on-cri; sleep 1000 & wait'],
          log_path: 'sleeper.log',
          linux: {
            security_context: {
              namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' },
              // kubelet's default since Kubernetes 1.27: containerd's seccomp profile
              seccomp: { profile_type: 'RuntimeDefault' },
            },
          },
        },
      });
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      containerId = id;
      const created = await client.runtime('ContainerStatus', { container_id: id });
      expect(created.status.state).toBe('CONTAINER_CREATED');

      await client.runtime('StartContainer', { container_id: id });
      const status = await client.runtime('ContainerStatus', { container_id: id, verbose: true });
      expect(status.status.state).toBe('CONTAINER_RUNNING');
      const info = verboseInfo(status);
      expect(info.sandboxID).toBe(sandbox);
      expect(info.runtimeOptions?.binary_name).toBe(rt.path);

      const listed = listedBy(rt).find((c) => c.id === id);
      expect(listed).toMatchObject({ status: 'running', pid: info.pid });
      containerInit = hostProcess(listed!.pid);

      const ns = namespacesOf(containerInit.pid);
      const sandboxNs = namespacesOf(sandboxInit!.pid);
      const host = namespacesOf(process.pid);
      expect(ns.ipc).toBe(sandboxNs.ipc);
      expect(ns.ipc).not.toBe(host.ipc);
      expect(ns.net).toBe(host.net);
      expect(ns.pid).not.toBe(sandboxNs.pid); // pid: CONTAINER
      expect(fs.readFileSync(`/proc/${containerInit.pid}/status`, 'utf8')).toMatch(/^Seccomp:\s+2$/m);
      expect([...cgroupsOf(containerInit.pid).values()].every((p) => p === `/${cgroupParent}/${id}`)).toBe(true);

      // CRI's log format: time, stream, F (full line), text
      const log = path.join(pod.log_directory as string, 'sleeper.log');
      await eventually('the container output in its log', async () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes(' stdout F started-on-cri'));
    });

    scenario('ExecSync: output, error output and exit status; the process is in the container cgroup', async () => {
      const id = needContainer();
      const echo = await client.runtime('ExecSync', { container_id: id, cmd: ['echo', 'hello', 'from', 'exec'], timeout: 30 });
      expect(echo.exit_code).toBe(0);
      expect(echo.stdout.toString()).toBe('hello from exec\n');
      expect(echo.stderr.toString()).toBe('');

      const r = await client.runtime('ExecSync', { container_id: id, cmd: ['sh', '-c', 'cat /proc/self/cgroup; echo to-stderr >&2; exit 7'], timeout: 30 });
      expect(r.exit_code).toBe(7);
      expect(r.stderr.toString()).toBe('to-stderr\n');
      const inside = r.stdout.toString().trim().split('\n');
      const initCgroup = fs.readFileSync(`/proc/${containerInit!.pid}/cgroup`, 'utf8').trim().split('\n');
      if (namespacesOf(containerInit!.pid).cgroup === namespacesOf(process.pid).cgroup) {
        expect(inside).toEqual(initCgroup);
      } else {
        // in a cgroup namespace the paths are relative to its root: the controllers must match
        const controllers = (l: string): string => l.split(':').slice(0, 2).join(':');
        expect(inside.map(controllers)).toEqual(initCgroup.map(controllers));
      }
      expect(alive(containerInit!)).toBe(true);
    });

    scenario('StopContainer, RemoveContainer: it exits with status 0, then nothing of it is left', async () => {
      const id = needContainer();
      await client.runtime('StopContainer', { container_id: id, timeout: 10 });
      const status = await client.runtime('ContainerStatus', { container_id: id });
      expect(status.status.state).toBe('CONTAINER_EXITED');
      expect(status.status.exit_code).toBe(0);
      expect(alive(containerInit!)).toBe(false);

      await client.runtime('RemoveContainer', { container_id: id });
      containerId = undefined;
      await expect(client.runtime('ContainerStatus', { container_id: id })).rejects.toThrow(/NotFound|not found/i);
      expect(criLeftovers(rt, id, containerInit)).toEqual([]);
    });

    scenario('StopPodSandbox, RemovePodSandbox: the sandbox stops, then nothing of the pod is left', async () => {
      const id = needSandbox();
      await client.runtime('StopPodSandbox', { pod_sandbox_id: id });
      const status = await client.runtime('PodSandboxStatus', { pod_sandbox_id: id });
      expect(status.status.state).toBe('SANDBOX_NOTREADY');
      expect(alive(sandboxInit!)).toBe(false);

      await client.runtime('RemovePodSandbox', { pod_sandbox_id: id });
      sandboxId = undefined;
      await expect(client.runtime('PodSandboxStatus', { pod_sandbox_id: id })).rejects.toThrow(/NotFound|not found/i);
      // the shim names the sandbox id on its command line: it must be gone too
      expect(criLeftovers(rt, id, sandboxInit)).toEqual([]);
      expect(listedBy(rt)).toEqual([]);
    });
  });
}
