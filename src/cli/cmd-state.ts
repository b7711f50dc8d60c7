/** `state` and `list`: read-only views of the state store; no lock, no native addon. */
import * as fs from 'fs';
import { TsrunError } from '../errors';
import { StateStore, StateOutput, deriveStatus, stateJson } from '../container/state';
import { validateId } from '../container/id';
import { writeAll } from '../log';
import type { CommandContext } from './dispatch';

export function stateCommand(ctx: CommandContext): void {
  const id = ctx.args[0];
  validateId(id);
  const store = new StateStore(ctx.globals.root);
  const out = stateJson(store, store.read(id));
  writeAll(1, JSON.stringify(out, null, '  ') + '\n');
}

/** Go text/tabwriter with minwidth 12, padding 3, spaces: what runc's list uses. */
export function tabulate(rows: string[][], minWidth = 12, padding = 3): string {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const widths: number[] = [];
  // The last cell of a row is not a column cell and is never padded.
  for (let c = 0; c < columns - 1; c++) {
    let w = minWidth;
    for (const r of rows) if (c < r.length - 1) w = Math.max(w, [...r[c]].length + padding);
    widths.push(w);
  }
  return rows
    .map((r) => r.map((cell, c) => (c < r.length - 1 ? cell + ' '.repeat(widths[c] - [...cell].length) : cell)).join('') + '\n')
    .join('');
}

let passwd: Map<number, string> | undefined;

function userName(uid: number): string {
  if (!passwd) {
    passwd = new Map();
    try {
      for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length > 2 && !passwd.has(Number(f[2]))) passwd.set(Number(f[2]), f[0]);
      }
    } catch {
      // No passwd file: fall back to #uid below.
    }
  }
  return passwd.get(uid) ?? `#${uid}`;
}

export function listCommand(ctx: CommandContext): void {
  // A missing root lists nothing, as with runc (which also creates it; a listing should not).
  const store = new StateStore(ctx.globals.root);
  const states: StateOutput[] = [];
  for (const id of store.list()) {
    try {
      const persisted = store.read(id);
      const out = stateJson(store, persisted, deriveStatus(store, persisted));
      if (!out.owner) out.owner = userName(fs.statSync(store.containerDir(id)).uid);
      states.push(out);
    } catch (err) {
      // Deleted meanwhile, or broken: report and go on, like runc.
      if (!fs.existsSync(store.containerDir(id))) continue;
      writeAll(2, `load container ${id}: ${(err as Error).message}\n`);
    }
  }
  if (ctx.flags.quiet) {
    writeAll(1, states.map((s) => s.id + '\n').join(''));
    return;
  }
  if (ctx.flags.format === 'json') {
    writeAll(1, JSON.stringify(states) + '\n');
    return;
  }
  const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']];
  for (const s of states) rows.push([s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]);
  writeAll(1, tabulate(rows));
}
