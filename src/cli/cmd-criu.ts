/** checkpoint and restore: tsrun has no CRIU integration; say why clearly (clients probe these). */
import * as fs from 'fs';
import { TsrunError } from '../errors';
import type { CommandContext } from './dispatch';

function findCriu(): string | undefined {
  return ['/usr/sbin/criu', '/usr/bin/criu', '/sbin/criu', '/usr/local/sbin/criu'].find((p) => fs.existsSync(p));
}

export function criuCommand(ctx: CommandContext, command: 'checkpoint' | 'restore'): never {
  const criu = findCriu();
  if (!criu) throw new TsrunError(`${command} is not supported on this host: criu is not installed`);
  throw new TsrunError(`${command} is not supported by tsrun yet (criu is at ${criu}, but tsrun does not drive it)`);
}
