/** Container id rules. The id names a directory under --root, so it must never be a path. */
import { TsrunError } from '../errors';

export const MAX_ID_LENGTH = 1024;

// Letters, digits and `_ . + -`: what runc accepts (minus the comma its character range lets in).
const ID_CHARS = /^[A-Za-z0-9_.+-]+$/;

export function isValidId(id: string): boolean {
  return id.length <= MAX_ID_LENGTH && ID_CHARS.test(id) && id !== '.' && id !== '..';
}

/** Throws `invalid container id format: <id>` unless id is a safe container id. */
export function validateId(id: string): void {
  if (!isValidId(id)) {
    const shown = id.length > 80 ? `${id.slice(0, 80)}... (${id.length} characters)` : JSON.stringify(id);
    throw new TsrunError(`invalid container id format: ${shown}`);
  }
}
