/**
 * The command table: every subcommand with its flags (runc's names and short aliases), argument
 * rules and help text. Data only; handlers live in their own modules and are loaded on demand.
 */

export type FlagKind = 'bool' | 'string' | 'int' | 'list' | 'duration';
export type FlagValue = boolean | string | number | string[];

export interface FlagDef {
  name: string;
  alias?: string;
  kind: FlagKind;
  help: string;
  /** Default for string/int/duration (duration in milliseconds). */
  default?: string | number;
  /** Allowed values of a string flag. */
  choices?: string[];
  /** Shown in help instead of "value". */
  valueName?: string;
}

export interface CommandDef {
  name: string;
  summary: string;
  /** Positional part of the usage line. */
  argsUsage: string;
  description?: string;
  flags: FlagDef[];
  /** The first positional is a container id. */
  takesId: boolean;
  minArgs: number;
  maxArgs: number; // Infinity when open-ended
  /** Flags end at the first positional (exec's command line, ps's options), like runc. */
  flagsEndAtPositional?: boolean;
}

export const GLOBAL_FLAGS: FlagDef[] = [
  { name: 'debug', kind: 'bool', help: 'log debug messages' },
  { name: 'log', kind: 'string', valueName: 'FILE', help: 'append log lines to FILE (default: stderr)' },
  { name: 'log-format', kind: 'string', default: 'text', choices: ['text', 'json'], help: "format of log lines: 'text' or 'json'" },
  { name: 'root', kind: 'string', valueName: 'DIR', help: 'directory holding container state; best on a tmpfs (default: /run/tsrun, or $XDG_RUNTIME_DIR/tsrun when not root)' },
  { name: 'systemd-cgroup', kind: 'bool', help: 'manage cgroups through systemd (cgroupsPath as "slice:prefix:name")' },
  { name: 'rootless', kind: 'string', default: 'auto', choices: ['true', 'false', 'auto'], help: "tolerate cgroup permission errors: 'true', 'false' or 'auto'" },
  { name: 'help', alias: 'h', kind: 'bool', help: 'show help' },
  { name: 'version', alias: 'v', kind: 'bool', help: 'print the version' },
];

const HELP_FLAG: FlagDef = { name: 'help', alias: 'h', kind: 'bool', help: 'show help for this command' };

const bundleFlag: FlagDef = { name: 'bundle', alias: 'b', kind: 'string', valueName: 'DIR', help: 'bundle directory (holding config.json); default: the current directory' };
const consoleSocketFlag: FlagDef = { name: 'console-socket', kind: 'string', valueName: 'PATH', help: "unix socket that receives the pty master of the container's terminal" };
const pidFileFlag: FlagDef = { name: 'pid-file', kind: 'string', valueName: 'FILE', help: "write the process's host pid to FILE" };
const noPivotFlag: FlagDef = { name: 'no-pivot', kind: 'bool', help: 'move the root with MS_MOVE instead of pivot_root (for a rootfs on a ramdisk)' };
const noNewKeyringFlag: FlagDef = { name: 'no-new-keyring', kind: 'bool', help: "keep the caller's session keyring instead of making a new one" };
const preserveFdsFlag: FlagDef = { name: 'preserve-fds', kind: 'int', default: 0, valueName: 'N', help: 'pass N more file descriptors (3 .. 3+N-1) to the process, besides stdio and $LISTEN_FDS' };
const detachFlag: FlagDef = { name: 'detach', alias: 'd', kind: 'bool', help: "return at once instead of waiting for the container's process" };
const noSubreaperFlag: FlagDef = { name: 'no-subreaper', kind: 'bool', help: 'do not become a subreaper for processes reparented to tsrun' };

const criuCommonFlags: FlagDef[] = [
  { name: 'image-path', kind: 'string', valueName: 'DIR', help: 'directory of the criu image files' },
  { name: 'work-path', kind: 'string', valueName: 'DIR', help: "directory for criu's work files and logs" },
  { name: 'tcp-established', kind: 'bool', help: 'allow established TCP connections' },
  { name: 'ext-unix-sk', kind: 'bool', help: 'allow external unix sockets' },
  { name: 'shell-job', kind: 'bool', help: 'allow a shell job (a process attached to a terminal)' },
  { name: 'file-locks', kind: 'bool', help: 'handle file locks' },
  { name: 'manage-cgroups-mode', kind: 'string', valueName: 'MODE', help: 'cgroup handling by criu: soft, full, strict or ignore (default: soft)' },
  { name: 'empty-ns', kind: 'list', valueName: 'NS', help: 'create this namespace but do not restore its properties (repeatable)' },
  { name: 'auto-dedup', kind: 'bool', help: 'deduplicate memory images automatically' },
  { name: 'lazy-pages', kind: 'bool', help: 'restore memory pages lazily through userfaultfd' },
];

const ID_ARG = '<container-id>';

export const COMMANDS: CommandDef[] = [
  {
    name: 'create',
    summary: 'create a container',
    argsUsage: ID_ARG,
    description:
      'Sets up the container described by the bundle\'s config.json and leaves its process waiting\n' +
      "before the user program; 'tsrun start' releases it. The id must be unique under --root.",
    flags: [bundleFlag, consoleSocketFlag, pidFileFlag, noPivotFlag, noNewKeyringFlag, preserveFdsFlag],
    takesId: true,
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'start',
    summary: 'run the user program of a created container',
    argsUsage: ID_ARG,
    flags: [],
    takesId: true,
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'run',
    summary: 'create and start a container',
    argsUsage: ID_ARG,
    description:
      'Creates the container from the bundle, starts it and, unless --detach is given, waits for it\n' +
      "and exits with its status. The container is deleted afterwards unless --keep is given.",
    flags: [
      bundleFlag,
      consoleSocketFlag,
      detachFlag,
      { name: 'keep', kind: 'bool', help: 'keep the container (state stopped) after its process exits' },
      pidFileFlag,
      noSubreaperFlag,
      noPivotFlag,
      noNewKeyringFlag,
      preserveFdsFlag,
    ],
    takesId: true,
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'exec',
    summary: 'run another process in a running container',
    argsUsage: `${ID_ARG} <command> [args...]  |  --process process.json ${ID_ARG}`,
    flags: [
      consoleSocketFlag,
      { name: 'cwd', kind: 'string', valueName: 'DIR', help: 'working directory inside the container' },
      { name: 'env', alias: 'e', kind: 'list', valueName: 'NAME=VALUE', help: 'set an environment variable (repeatable)' },
      { name: 'tty', alias: 't', kind: 'bool', help: 'give the process a pseudo-terminal' },
      { name: 'user', alias: 'u', kind: 'string', valueName: 'UID[:GID]', help: 'user (and group) ids to run as' },
      { name: 'additional-gids', alias: 'g', kind: 'list', valueName: 'GID', help: 'an additional group id (repeatable)' },
      { name: 'process', alias: 'p', kind: 'string', valueName: 'FILE', help: 'read the whole process (OCI Process JSON) from FILE' },
      detachFlag,
      pidFileFlag,
      { name: 'process-label', kind: 'string', valueName: 'LABEL', help: 'SELinux label of the process' },
      { name: 'apparmor', kind: 'string', valueName: 'PROFILE', help: 'AppArmor profile of the process' },
      { name: 'no-new-privs', kind: 'bool', help: 'set no_new_privs for the process' },
      { name: 'cap', alias: 'c', kind: 'list', valueName: 'CAP', help: 'add a capability to the process (repeatable)' },
      preserveFdsFlag,
      { name: 'cgroup', kind: 'list', valueName: '[CONTROLLER:]PATH', help: 'run in an existing sub-cgroup of the container (repeatable)' },
      { name: 'ignore-paused', kind: 'bool', help: 'allow exec into a paused container' },
    ],
    takesId: true,
    minArgs: 1,
    maxArgs: Infinity,
    flagsEndAtPositional: true,
  },
  {
    name: 'kill',
    summary: "send a signal to the container's init process (default SIGTERM)",
    argsUsage: `${ID_ARG} [SIGNAL]`,
    description: 'SIGNAL is a number or a name, with or without the SIG prefix (15, TERM, SIGTERM).',
    flags: [{ name: 'all', alias: 'a', kind: 'bool', help: "signal every process in the container's cgroup" }],
    takesId: true,
    minArgs: 1,
    maxArgs: 2,
  },
  {
    name: 'delete',
    summary: 'delete a container and release its resources',
    argsUsage: ID_ARG,
    flags: [{ name: 'force', alias: 'f', kind: 'bool', help: 'kill the container (SIGKILL) first if it is still running' }],
    takesId: true,
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'state',
    summary: 'print the state of a container as JSON',
    argsUsage: ID_ARG,
    flags: [],
    takesId: true,
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'list',
    summary: 'list the containers under --root',
    argsUsage: '',
    flags: [
      { name: 'format', alias: 'f', kind: 'string', default: 'table', choices: ['table', 'json'], help: "output format: 'table' or 'json'" },
      { name: 'quiet', alias: 'q', kind: 'bool', help: 'print only the container ids' },
    ],
    takesId: false,
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'ps',
    summary: 'list the processes of a container',
    argsUsage: `${ID_ARG} [ps options]`,
    flags: [{ name: 'format', alias: 'f', kind: 'string', default: 'table', choices: ['table', 'json'], help: "output format: 'table' or 'json' (host pids)" }],
    takesId: true,
    minArgs: 1,
    maxArgs: Infinity,
    flagsEndAtPositional: true,
  },
  {
    name: 'pause',
    summary: 'freeze every process of a container',
    argsUsage: ID_ARG,
    flags: [],
    takesId: true,
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'resume',
    summary: 'thaw a paused container',
    argsUsage: ID_ARG,
    flags: [],
    takesId: true,
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'events',
    summary: 'stream container events (OOM, resource statistics)',
    argsUsage: ID_ARG,
    flags: [
      { name: 'interval', kind: 'duration', default: 5000, valueName: 'DURATION', help: 'time between statistics, e.g. 5s, 500ms (default: 5s)' },
      { name: 'stats', kind: 'bool', help: 'print statistics once and exit' },
    ],
    takesId: true,
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'update',
    summary: 'change the resource limits of a container',
    argsUsage: ID_ARG,
    description: "--resources takes a LinuxResources JSON document from FILE, or from stdin with '-'.",
    flags: [
      { name: 'resources', alias: 'r', kind: 'string', valueName: 'FILE', help: "LinuxResources JSON to apply ('-' for stdin)" },
      { name: 'blkio-weight', kind: 'int', valueName: 'N', help: 'block I/O weight, 10 to 1000' },
      { name: 'cpu-period', kind: 'string', valueName: 'USEC', help: 'CFS period in microseconds (0: system default)' },
      { name: 'cpu-quota', kind: 'string', valueName: 'USEC', help: 'CFS quota in microseconds per period' },
      { name: 'cpu-burst', kind: 'string', valueName: 'USEC', help: 'CFS burst in microseconds' },
      { name: 'cpu-share', alias: 'cpu-shares', kind: 'string', valueName: 'N', help: 'relative CPU weight' },
      { name: 'cpu-rt-period', kind: 'string', valueName: 'USEC', help: 'realtime period in microseconds (0: system default)' },
      { name: 'cpu-rt-runtime', kind: 'string', valueName: 'USEC', help: 'realtime runtime in microseconds per period' },
      { name: 'cpu-idle', kind: 'string', valueName: '0|1', help: 'SCHED_IDLE for the cgroup (1) or not (0)' },
      { name: 'cpuset-cpus', kind: 'string', valueName: 'LIST', help: 'CPUs the container may use' },
      { name: 'cpuset-mems', kind: 'string', valueName: 'LIST', help: 'memory nodes the container may use' },
      { name: 'memory', kind: 'string', valueName: 'BYTES', help: 'memory limit' },
      { name: 'memory-reservation', kind: 'string', valueName: 'BYTES', help: 'memory soft limit' },
      { name: 'memory-swap', kind: 'string', valueName: 'BYTES', help: "memory plus swap limit ('-1': unlimited swap)" },
      { name: 'kernel-memory', kind: 'string', valueName: 'BYTES', help: 'obsolete; accepted and ignored by recent kernels' },
      { name: 'kernel-memory-tcp', kind: 'string', valueName: 'BYTES', help: 'obsolete; accepted and ignored by recent kernels' },
      { name: 'pids-limit', kind: 'int', valueName: 'N', help: 'maximum number of processes' },
      { name: 'l3-cache-schema', kind: 'string', valueName: 'SCHEMA', help: 'Intel RDT L3 cache schema' },
      { name: 'mem-bw-schema', kind: 'string', valueName: 'SCHEMA', help: 'Intel RDT memory bandwidth schema' },
    ],
    takesId: true,
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'spec',
    summary: 'write a default config.json',
    argsUsage: '',
    description: 'Writes a starting config.json into the bundle directory; edit it to suit.',
    flags: [
      { name: 'bundle', alias: 'b', kind: 'string', valueName: 'DIR', help: 'bundle directory to write config.json into (default: the current directory)' },
      { name: 'rootless', kind: 'bool', help: 'write a config for a container run by an unprivileged user' },
    ],
    takesId: false,
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'features',
    summary: 'print the features this runtime supports, as JSON',
    argsUsage: '',
    flags: [],
    takesId: false,
    minArgs: 0,
    maxArgs: 0,
  },
  {
    name: 'checkpoint',
    summary: 'checkpoint a running container (not supported: tsrun does not drive CRIU)',
    argsUsage: ID_ARG,
    flags: [
      ...criuCommonFlags,
      { name: 'parent-path', kind: 'string', valueName: 'DIR', help: 'criu images of a previous pre-dump' },
      { name: 'leave-running', kind: 'bool', help: 'keep the container running after the checkpoint' },
      { name: 'tcp-skip-in-flight', kind: 'bool', help: 'skip in-flight TCP connections' },
      { name: 'link-remap', kind: 'bool', help: 'link unlinked files back when possible' },
      { name: 'status-fd', kind: 'int', default: -1, valueName: 'FD', help: 'fd criu writes \\0 to once lazy pages are ready' },
      { name: 'page-server', kind: 'string', valueName: 'ADDRESS:PORT', help: 'page server to send memory pages to' },
      { name: 'pre-dump', kind: 'bool', help: 'dump memory only and leave the container running' },
    ],
    takesId: true,
    minArgs: 1,
    maxArgs: 1,
  },
  {
    name: 'restore',
    summary: 'restore a container from a checkpoint (not supported: tsrun does not drive CRIU)',
    argsUsage: ID_ARG,
    flags: [
      ...criuCommonFlags,
      consoleSocketFlag,
      bundleFlag,
      detachFlag,
      pidFileFlag,
      noSubreaperFlag,
      noPivotFlag,
      { name: 'lsm-profile', kind: 'string', valueName: 'TYPE:NAME', help: 'LSM profile to restore with' },
      { name: 'lsm-mount-context', kind: 'string', valueName: 'CONTEXT', help: 'LSM mount context to restore with' },
    ],
    takesId: true,
    minArgs: 1,
    maxArgs: 1,
  },
];

for (const cmd of COMMANDS) cmd.flags.push(HELP_FLAG);

export function findCommand(name: string): CommandDef | undefined {
  return COMMANDS.find((c) => c.name === name);
}
