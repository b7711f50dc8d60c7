// Loading and checking config.json. Two layers: the JSON Schema (compiled ahead of time into
// ./generated/validate-config.js, so nothing is compiled at run time) catches shapes and
// vocabularies; the semantic checks below catch rules that span fields. Every failure is one
// TsrunError naming the file, the JSON path and the rule, so users can fix configs by reading it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError } from '../errors';
import { CAPABILITIES, normalizeSysctl, RLIMITS, sysctlNamespace } from './known';
import type { Hook, Linux, LinuxIDMapping, LinuxNamespace, Mount, NamespaceType, Process, Spec } from './types';

export { parseSignal } from './signals';

type PathSegment = string | number;
type JsonPath = readonly PathSegment[];

/** A config that breaks a rule. `path` is the JSON path (e.g. `linux.namespaces[2].type`). */
export class ConfigError extends TsrunError {
  readonly file: string;
  readonly path: string;
  readonly rule: string;

  constructor(file: string, path: string, rule: string) {
    super(path === '' ? `${file}: ${rule}` : `${file}: ${path}: ${rule}`);
    this.name = 'ConfigError';
    this.file = file;
    this.path = path;
    this.rule = rule;
  }
}

// ---------------------------------------------------------------------------------------------
// Loading

/** Read and validate <bundle>/config.json. */
export function loadConfig(bundleDir: string): Spec {
  const file = join(bundleDir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw openError(file, err);
  }
  return validateConfig(parseJson(text, 'config.json'), 'config.json');
}

function openError(file: string, err: unknown): TsrunError {
  const e = err as NodeJS.ErrnoException;
  // Node's text is "ENOENT: no such file or directory, open '...'"; keep just the strerror part.
  const reason = /^[A-Z0-9]+: ([^,]+)/.exec(e?.message ?? '')?.[1] ?? String(err);
  const errno = typeof e?.errno === 'number' ? Math.abs(e.errno) : undefined;
  return new TsrunError(`open ${file}: ${reason}`, { errno, cause: err });
}

/** JSON.parse with the failure position given as line and column. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const at = /^(.*) in JSON at position (\d+)/.exec(message);
    if (at) {
      const { line, column } = lineAndColumn(text, Number(at[2]));
      throw new TsrunError(`${file}: invalid JSON at line ${line}, column ${column}: ${at[1]}`, { cause: err });
    }
    if (/end of JSON input/.test(message)) {
      const { line, column } = lineAndColumn(text, text.length);
      throw new TsrunError(`${file}: invalid JSON at line ${line}, column ${column}: unexpected end of input`, {
        cause: err,
      });
    }
    throw new TsrunError(`${file}: invalid JSON: ${message}`, { cause: err });
  }
}

function lineAndColumn(text: string, position: number): { line: number; column: number } {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

// ---------------------------------------------------------------------------------------------
// Schema layer

interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}
type SchemaValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };

let schemaValidator: SchemaValidator | undefined;

function compiledSchema(): SchemaValidator {
  // Loaded on first use so commands that never read a config don't pay for it.
  schemaValidator ??= require('./generated/validate-config.js') as SchemaValidator;
  return schemaValidator;
}

/** What to call a value from each closed vocabulary of the schema (by definition name). */
const VOCABULARY_NOUNS: Record<string, string> = {
  NamespaceType: 'namespace',
  DeviceType: 'device type',
  DeviceCgroupType: 'device cgroup type',
  RootfsPropagation: 'rootfs propagation',
  PersonalityDomain: 'personality domain',
  MemoryPolicyMode: 'memory policy mode',
  MemoryPolicyFlag: 'memory policy flag',
  SchedulerPolicy: 'scheduler policy',
  SchedulerFlag: 'scheduler flag',
  IOPriorityClass: 'I/O priority class',
  SeccompAction: 'seccomp action',
  SeccompOperator: 'seccomp operator',
  SeccompArch: 'seccomp architecture',
  SeccompFlag: 'seccomp flag',
  CapabilityName: 'capability',
  RlimitType: 'rlimit type',
};

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

function pointerToSegments(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment: PathSegment = Array.isArray(node) && /^[0-9]+$/.test(key) ? Number(key) : key;
    segments.push(segment);
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  }
  return segments;
}

function valueAt(data: unknown, segments: JsonPath): unknown {
  let node = data;
  for (const segment of segments) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/** `["linux","namespaces",2,"type"]` -> `linux.namespaces[2].type`; odd keys get `["..."]`. */
export function formatPath(segments: JsonPath): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function schemaRule(error: SchemaError, value: unknown): string {
  const definition = /^#\/definitions\/([^/]+)\//.exec(error.schemaPath)?.[1] ?? '';
  const noun = VOCABULARY_NOUNS[definition];
  const params = error.params;
  switch (error.keyword) {
    case 'required':
      return 'must be present';
    case 'type': {
      const types = Array.isArray(params.type) ? params.type : String(params.type).split(',');
      return `must be ${types.map((t: string) => TYPE_NAMES[t] ?? t).join(' or ')}, got ${describe(value)}`;
    }
    case 'minimum':
    case 'maximum':
      return `must be ${params.comparison} ${params.limit}, got ${describe(value)}`;
    case 'minItems':
      return `must have at least ${params.limit} item${params.limit === 1 ? '' : 's'}`;
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).filter((v) => v !== '');
      // Long vocabularies (seccomp architectures) would drown the message; name the noun only.
      if (noun && allowed.length > 10) return `unknown ${noun} ${describe(value)}`;
      return noun
        ? `unknown ${noun} ${describe(value)} (expected one of: ${allowed.join(', ')})`
        : `must be one of: ${allowed.join(', ')}, got ${describe(value)}`;
    }
    case 'pattern':
      if (definition === 'DeviceAccess') return `invalid device access ${describe(value)} (use the letters r, w and m)`;
      return noun ? `unknown ${noun} ${describe(value)}` : `must match ${params.pattern}, got ${describe(value)}`;
    default:
      return error.message ?? `fails schema rule ${error.keyword}`;
  }
}

function schemaCheck(data: unknown, file: string, dropLeading = 0): void {
  const validate = compiledSchema();
  if (validate(data)) return;
  const error = validate.errors?.[0];
  if (!error) throw new ConfigError(file, '', 'invalid configuration');
  const segments = pointerToSegments(error.instancePath, data);
  if (error.keyword === 'required') segments.push(String(error.params.missingProperty));
  const rule = schemaRule(error, valueAt(data, segments));
  throw new ConfigError(file, formatPath(segments.slice(dropLeading)), rule);
}

// ---------------------------------------------------------------------------------------------
// Semantic layer

/** Throws ConfigError at `path`. */
type Fail = (path: JsonPath, rule: string) => never;

function failIn(file: string, base: JsonPath = []): Fail {
  return (path, rule) => {
    throw new ConfigError(file, formatPath([...base, ...path]), rule);
  };
}

const isAbsolute = (p: string): boolean => p.startsWith('/');

function requireAbsolute(fail: Fail, path: JsonPath, value: string): void {
  if (!isAbsolute(value)) fail(path, `must be an absolute path, got ${describe(value)}`);
}

const SUPPORTED_VERSION = /^1\.[0-3]\.[0-9]+(?:[-+][0-9A-Za-z.+-]*)?$/;

function checkVersion(spec: Spec, fail: Fail): void {
  if (!SUPPORTED_VERSION.test(spec.ociVersion)) {
    fail(['ociVersion'], `unsupported version ${describe(spec.ociVersion)} (tsrun supports 1.0.x to 1.3.x)`);
  }
}

// A CPU list as the kernel's cpuset files take it: "0-3,7".
const CPU_LIST = /^[0-9]+(?:-[0-9]+)?(?:,[0-9]+(?:-[0-9]+)?)*$/;

function checkProcess(process: Process, fail: Fail): void {
  requireAbsolute(fail, ['cwd'], process.cwd);

  process.env?.forEach((entry, i) => {
    const eq = entry.indexOf('=');
    if (eq < 0) fail(['env', i], `must have the form NAME=VALUE, got ${describe(entry)}`);
    if (eq === 0) fail(['env', i], `variable name must not be empty, got ${describe(entry)}`);
  });

  const caps = process.capabilities ?? {};
  for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) {
    caps[set]?.forEach((name, i) => {
      if (!(name in CAPABILITIES)) fail(['capabilities', set, i], `unknown capability ${describe(name)}`);
    });
  }

  const seenRlimits = new Set<string>();
  process.rlimits?.forEach((rlimit, i) => {
    if (!(rlimit.type in RLIMITS)) fail(['rlimits', i, 'type'], `unknown rlimit type ${describe(rlimit.type)}`);
    if (seenRlimits.has(rlimit.type)) fail(['rlimits', i, 'type'], `duplicate rlimit type ${describe(rlimit.type)}`);
    seenRlimits.add(rlimit.type);
    if (rlimit.soft > rlimit.hard) fail(['rlimits', i, 'soft'], `soft limit ${rlimit.soft} exceeds hard limit ${rlimit.hard}`);
  });

  const scheduler = process.scheduler;
  if (scheduler) {
    if (scheduler.nice !== undefined && (scheduler.nice < -20 || scheduler.nice > 19)) {
      fail(['scheduler', 'nice'], `must be between -20 and 19, got ${scheduler.nice}`);
    }
    const realtime = scheduler.policy === 'SCHED_FIFO' || scheduler.policy === 'SCHED_RR';
    if (scheduler.priority && !realtime) {
      fail(['scheduler', 'priority'], `only valid with SCHED_FIFO or SCHED_RR, not ${scheduler.policy}`);
    }
    if (scheduler.policy !== 'SCHED_DEADLINE') {
      for (const field of ['runtime', 'deadline', 'period'] as const) {
        if (scheduler[field]) fail(['scheduler', field], `only valid with SCHED_DEADLINE, not ${scheduler.policy}`);
      }
    }
  }

  for (const field of ['initial', 'final'] as const) {
    const cpus = process.execCPUAffinity?.[field];
    if (cpus !== undefined && cpus !== '' && !CPU_LIST.test(cpus)) {
      fail(['execCPUAffinity', field], `invalid CPU list ${describe(cpus)} (expected a form like "0-3,7")`);
    }
  }
}

function namespaceOf(linux: Linux | undefined, type: NamespaceType): LinuxNamespace | undefined {
  return linux?.namespaces?.find((ns) => ns.type === type);
}

function hasOption(mount: Mount, ...names: string[]): boolean {
  return (mount.options ?? []).some((o) => names.includes(o));
}

function checkMounts(spec: Spec, fail: Fail): void {
  const hasUserNamespace = namespaceOf(spec.linux, 'user') !== undefined;
  spec.mounts?.forEach((mount, i) => {
    requireAbsolute(fail, ['mounts', i, 'destination'], mount.destination);
    const hasUid = (mount.uidMappings?.length ?? 0) > 0;
    const hasGid = (mount.gidMappings?.length ?? 0) > 0;
    if (hasUid !== hasGid) {
      fail(['mounts', i, hasUid ? 'gidMappings' : 'uidMappings'], 'uidMappings and gidMappings must be given together');
    }
    const idmapOption = (mount.options ?? []).find((o) => o === 'idmap' || o === 'ridmap');
    if (hasUid || idmapOption) {
      if (mount.type !== 'bind' && !hasOption(mount, 'bind', 'rbind')) {
        fail(['mounts', i], 'id-mapped mounts are only supported for bind mounts');
      }
    }
    if (idmapOption && !hasUid && !hasUserNamespace) {
      fail(
        ['mounts', i, 'options'],
        `"${idmapOption}" needs uidMappings/gidMappings on the mount or a user namespace in linux.namespaces`,
      );
    }
  });
}

function checkHooks(spec: Spec, fail: Fail): void {
  const hooks = spec.hooks ?? {};
  for (const [stage, list] of Object.entries(hooks) as [string, Hook[] | undefined][]) {
    if (!Array.isArray(list)) continue;
    list.forEach((hook, i) => requireAbsolute(fail, ['hooks', stage, i, 'path'], hook.path));
  }
}

function checkIdMappings(linux: Linux, fail: Fail): void {
  const user = namespaceOf(linux, 'user');
  for (const field of ['uidMappings', 'gidMappings'] as const) {
    const mappings: LinuxIDMapping[] = linux[field] ?? [];
    if (mappings.length > 0 && !user) {
      fail(['linux', field], 'requires a user namespace ("user" in linux.namespaces)');
    }
  }
  // Like runc, either map alone is enough to create the namespace; with neither, ids inside
  // would all be the overflow id.
  const hasMappings = (linux.uidMappings?.length ?? 0) + (linux.gidMappings?.length ?? 0) > 0;
  if (user && !user.path && !hasMappings) {
    fail(['linux', 'uidMappings'], 'must be present when a new user namespace is created (or give the namespace a path to join)');
  }
}

// Interface names as the kernel accepts them (dev_valid_name).
function validInterfaceName(name: string): boolean {
  return name.length > 0 && name.length < 16 && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}

function checkLinux(spec: Spec, fail: Fail): void {
  const linux = spec.linux ?? {};

  const seen = new Set<string>();
  linux.namespaces?.forEach((ns, i) => {
    if (seen.has(ns.type)) fail(['linux', 'namespaces', i, 'type'], `duplicate namespace "${ns.type}"`);
    seen.add(ns.type);
    if (ns.path) requireAbsolute(fail, ['linux', 'namespaces', i, 'path'], ns.path);
  });

  for (const field of ['hostname', 'domainname'] as const) {
    if (spec[field] && !seen.has('uts')) fail([field], 'requires a new uts namespace ("uts" in linux.namespaces)');
  }

  checkIdMappings(linux, fail);

  if (linux.timeOffsets && Object.keys(linux.timeOffsets).length > 0) {
    const time = namespaceOf(linux, 'time');
    if (!time) fail(['linux', 'timeOffsets'], 'requires a time namespace ("time" in linux.namespaces)');
    if (time.path) fail(['linux', 'timeOffsets'], 'cannot be set when joining an existing time namespace');
    for (const clock of Object.keys(linux.timeOffsets)) {
      if (clock !== 'monotonic' && clock !== 'boottime') {
        fail(['linux', 'timeOffsets', clock], `unknown clock ${describe(clock)} (expected monotonic or boottime)`);
      }
    }
  }

  for (const key of Object.keys(linux.sysctl ?? {})) {
    const needed = sysctlNamespace(key);
    if (!needed) fail(['linux', 'sysctl', key], `sysctl ${describe(key)} is not in a separate kernel namespace`);
    if (!seen.has(needed)) {
      fail(['linux', 'sysctl', key], `sysctl ${describe(key)} requires a new ${needed} namespace ("${needed}" in linux.namespaces)`);
    }
    if (normalizeSysctl(key) === 'kernel.hostname') {
      fail(['linux', 'sysctl', key], 'conflicts with the "hostname" field; set the hostname there');
    }
  }

  linux.devices?.forEach((device, i) => {
    requireAbsolute(fail, ['linux', 'devices', i, 'path'], device.path);
    if (device.type !== 'p') {
      for (const field of ['major', 'minor'] as const) {
        if (device[field] === undefined) fail(['linux', 'devices', i, field], `required for device type "${device.type}"`);
      }
    }
  });

  for (const field of ['maskedPaths', 'readonlyPaths'] as const) {
    const paths = linux[field] ?? [];
    paths.forEach((p, i) => requireAbsolute(fail, ['linux', field, i], p));
    if (paths.length > 0 && !seen.has('mount')) {
      fail(['linux', field], 'requires a new mount namespace ("mount" in linux.namespaces)');
    }
  }

  checkSeccomp(linux, fail);

  const policy = linux.memoryPolicy;
  if (policy) {
    const nodes = policy.nodes ?? '';
    if (policy.mode === 'MPOL_DEFAULT' || policy.mode === 'MPOL_LOCAL') {
      if (nodes !== '') fail(['linux', 'memoryPolicy', 'nodes'], `must be empty for ${policy.mode}`);
    } else if (nodes === '' && policy.mode !== 'MPOL_PREFERRED') {
      fail(['linux', 'memoryPolicy', 'nodes'], `must list at least one NUMA node for ${policy.mode}`);
    }
    if (nodes !== '' && !CPU_LIST.test(nodes)) {
      fail(['linux', 'memoryPolicy', 'nodes'], `invalid node list ${describe(nodes)} (expected a form like "0-3,7")`);
    }
  }

  const netDevices = Object.entries(linux.netDevices ?? {});
  if (netDevices.length > 0 && !seen.has('network')) {
    fail(['linux', 'netDevices'], 'requires a new network namespace ("network" in linux.namespaces)');
  }
  for (const [hostName, device] of netDevices) {
    if (!validInterfaceName(hostName)) fail(['linux', 'netDevices', hostName], `invalid interface name ${describe(hostName)}`);
    if (device.name !== undefined && device.name !== '' && !validInterfaceName(device.name)) {
      fail(['linux', 'netDevices', hostName, 'name'], `invalid interface name ${describe(device.name)}`);
    }
  }

  if (linux.intelRdt?.closID?.includes('/')) {
    fail(['linux', 'intelRdt', 'closID'], `must not contain "/", got ${describe(linux.intelRdt.closID)}`);
  }
}

function checkSeccomp(linux: Linux, fail: Fail): void {
  const seccomp = linux.seccomp;
  if (!seccomp) return;
  const returnsErrno = (action: string) => action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE';
  if (seccomp.defaultErrnoRet !== undefined && !returnsErrno(seccomp.defaultAction)) {
    fail(['linux', 'seccomp', 'defaultErrnoRet'], 'only valid with a SCMP_ACT_ERRNO or SCMP_ACT_TRACE defaultAction');
  }
  if (seccomp.defaultAction === 'SCMP_ACT_NOTIFY') {
    fail(['linux', 'seccomp', 'defaultAction'], 'SCMP_ACT_NOTIFY cannot be the default action');
  }
  let notifies = false;
  seccomp.syscalls?.forEach((rule, i) => {
    rule.names.forEach((name, j) => {
      if (name === '') fail(['linux', 'seccomp', 'syscalls', i, 'names', j], 'must not be empty');
    });
    if (rule.errnoRet !== undefined && !returnsErrno(rule.action)) {
      fail(['linux', 'seccomp', 'syscalls', i, 'errnoRet'], 'only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE');
    }
    if (rule.action === 'SCMP_ACT_NOTIFY') {
      notifies = true;
      // The runtime itself writes to the container's stdio; notifying on write would deadlock.
      if (rule.names.includes('write')) {
        fail(['linux', 'seccomp', 'syscalls', i, 'names'], 'SCMP_ACT_NOTIFY cannot be used for the write syscall');
      }
    }
  });
  if (notifies && !seccomp.listenerPath) {
    fail(['linux', 'seccomp', 'listenerPath'], 'must be present when a rule uses SCMP_ACT_NOTIFY');
  }
  if (seccomp.listenerPath) requireAbsolute(fail, ['linux', 'seccomp', 'listenerPath'], seccomp.listenerPath);
}

/**
 * Check a parsed config.json and return it typed. `file` only names the source in messages.
 * Throws a ConfigError (a TsrunError) for the first rule broken.
 */
export function validateConfig(obj: unknown, file = 'config.json'): Spec {
  schemaCheck(obj, file);
  const spec = obj as Spec;
  const fail = failIn(file);
  checkVersion(spec, fail);
  checkProcess(spec.process as Process, failIn(file, ['process']));
  if (spec.root?.path === '') fail(['root', 'path'], 'must not be empty');
  checkMounts(spec, fail);
  checkHooks(spec, fail);
  checkLinux(spec, fail);
  return spec;
}

/**
 * Check a standalone Process document (exec --process). Paths in messages are relative to the
 * document, e.g. `process.json: cwd: must be an absolute path`.
 */
export function validateProcess(obj: unknown, file = 'process.json'): Process {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new ConfigError(file, '', `must be an object, got ${describe(obj)}`);
  }
  // The compiled schema has one entry point, config.json; a minimal config around the process
  // reuses it, and dropping the leading "process" segment gives document-relative paths.
  schemaCheck({ ociVersion: '1.0.0', root: { path: '.' }, process: obj }, file, 1);
  checkProcess(obj as Process, failIn(file));
  return obj as Process;
}
