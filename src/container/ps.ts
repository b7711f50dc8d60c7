/** `ps`: the processes of a container, as host pids (json) or as the host's ps prints them (table). */
import { spawnSync } from 'child_process';
import { TsrunError } from '../errors';
import { writeAll } from '../log';
import { containerCgroup } from './pause';
import { StateStore } from './state';
import type { GlobalOptions } from './options';

export function containerPids(g: GlobalOptions, id: string): number[] {
  const state = new StateStore(g.root).read(id);
  return containerCgroup(state).pids();
}

/** Column of the PID header in ps output. */
export function pidColumn(header: string): number {
  const i = header.trim().split(/\s+/).indexOf('PID');
  if (i < 0) throw new TsrunError("couldn't find PID field in ps output");
  return i;
}

/** ps's header and the lines whose PID column is one of pids. */
export function filterPsOutput(output: string, pids: number[]): string {
  const lines = output.split('\n');
  const column = pidColumn(lines[0]);
  const wanted = new Set(pids);
  const kept = [lines[0]];
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const field = line.trim().split(/\s+/)[column];
    const pid = Number(field);
    if (!/^\d+$/.test(field ?? '')) throw new TsrunError(`unable to parse pid: ${JSON.stringify(field ?? '')}`);
    if (wanted.has(pid)) kept.push(line);
  }
  return kept.join('\n') + '\n';
}

export function ps(g: GlobalOptions, id: string, format: string, psArgs: string[]): void {
  const pids = containerPids(g, id);
  if (format === 'json') {
    writeAll(1, JSON.stringify(pids) + '\n');
    return;
  }
  // "tsrun ps ID -- -o pid" separates ps's options the usual way; ps itself would reject "--".
  const args = psArgs[0] === '--' ? psArgs.slice(1) : psArgs;
  const r = spawnSync('ps', args.length ? args : ['-ef'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new TsrunError(`run ps: ${r.error.message}`, { cause: r.error });
  if (r.status !== 0) throw new TsrunError(`ps exited with status ${r.status ?? r.signal}: ${(r.stdout + r.stderr).trim()}`);
  writeAll(1, filterPsOutput(r.stdout, pids));
}
