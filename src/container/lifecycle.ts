/** Container lifecycle operations (create, start, run, kill, delete). */
import { TsrunError } from '../errors';
import type { CreateOptions, GlobalOptions, RunOptions } from './options';

function notYet(what: string): never {
  throw new TsrunError(`${what}: not implemented yet`);
}

export function create(_g: GlobalOptions, _o: CreateOptions): void {
  notYet('create');
}
export function start(_g: GlobalOptions, _id: string): void {
  notYet('start');
}
/** Returns the exit status tsrun should exit with (the container's, 128+n for signal n). */
export function run(_g: GlobalOptions, _o: RunOptions): number {
  notYet('run');
}
export function kill(_g: GlobalOptions, _id: string, _signal: string, _all: boolean): void {
  notYet('kill');
}
export function deleteContainer(_g: GlobalOptions, _id: string, _force: boolean): void {
  notYet('delete');
}
