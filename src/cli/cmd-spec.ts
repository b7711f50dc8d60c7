/** spec and features: documents about configs, no container involved. */
import * as path from 'path';
import { writeAll } from '../log';
import type { CommandContext } from './dispatch';

export function specCommand(ctx: CommandContext): void {
  const { writeDefaultSpec } = require('../spec/spec-command') as {
    writeDefaultSpec(bundle: string, rootless: boolean): void;
  };
  writeDefaultSpec(path.resolve((ctx.flags.bundle as string) || '.'), ctx.flags.rootless as boolean);
}

export function featuresCommand(_ctx: CommandContext): void {
  const { featuresDocument } = require('../spec/features') as { featuresDocument(): object };
  writeAll(1, JSON.stringify(featuresDocument(), null, '    ') + '\n');
}
