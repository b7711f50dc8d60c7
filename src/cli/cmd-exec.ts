/** exec: flags onto src/container/exec. */
import * as path from 'path';
import type { CommandContext } from './dispatch';

export function execCommand(ctx: CommandContext): Promise<number> {
  const f = ctx.flags;
  const { execInContainer } = require('../container/exec') as typeof import('../container/exec');
  const str = (name: string) => (f[name] as string | undefined) || undefined;
  const abs = (name: string) => (str(name) ? path.resolve(str(name)!) : undefined);
  return execInContainer(ctx.globals, {
    id: ctx.args[0],
    args: ctx.args.slice(1),
    processFile: str('process') === '-' ? '-' : abs('process'),
    cwd: str('cwd'),
    env: (f.env as string[] | undefined) ?? [],
    tty: f.tty as boolean,
    user: str('user'),
    additionalGids: (f['additional-gids'] as string[] | undefined) ?? [],
    caps: (f.cap as string[] | undefined) ?? [],
    noNewPrivs: f['no-new-privs'] as boolean,
    detach: f.detach as boolean,
    pidFile: abs('pid-file'),
    consoleSocket: abs('console-socket'),
    preserveFds: (f['preserve-fds'] as number | undefined) ?? 0,
    ignorePaused: f['ignore-paused'] as boolean,
    apparmor: str('apparmor'),
    processLabel: str('process-label'),
    cgroup: (f.cgroup as string[] | undefined) ?? [],
  });
}
