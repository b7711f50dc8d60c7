// `tsrun spec`: write a starting config.json into a bundle, as `runc spec` does.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsrunError, wrapError } from '../errors';
import { defaultSpec } from './default-spec';

/**
 * Write <bundle>/config.json (tab-indented like runc's). Never overwrites: the file is created
 * exclusively, so an existing config, even one appearing concurrently, is left alone.
 */
export function writeDefaultSpec(bundle: string, rootless: boolean): void {
  const spec = defaultSpec({ rootless, uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 });
  const file = join(bundle, 'config.json');
  try {
    writeFileSync(file, JSON.stringify(spec, null, '\t'), { flag: 'wx', mode: 0o666 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new TsrunError('File config.json exists. Remove it first', { errno: 17, cause: err });
    }
    throw wrapError(`write ${file}`, err);
  }
}
