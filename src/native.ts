/**
 * Typed access to the N-API addon (native/addon). Loaded on first use so commands that
 * never touch it (spec, features, --help) do not pay for dlopen.
 */
import * as path from 'path';

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export interface NativeBinding {
  flock(fd: number, op: number): void;
}

let binding: NativeBinding | undefined;

/** Directory holding the built native artefacts (addon and init helper). */
export function nativeBuildDir(): string {
  return process.env.TSRUN_NATIVE_DIR ?? path.join(__dirname, '..', 'build', 'Release');
}

export function native(): NativeBinding {
  if (!binding) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    binding = require(path.join(nativeBuildDir(), 'tsrun_native.node')) as NativeBinding;
  }
  return binding;
}
