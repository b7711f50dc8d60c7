/**
 * One error type for the whole runtime (crun's model): a message chain from the outermost
 * context down to the cause, plus the errno when a system call was at fault. The CLI prints
 * `message` as the one-line error; `exitCode` is what the process exits with.
 */
export class TsrunError extends Error {
  readonly errno?: number;
  readonly exitCode: number;

  constructor(message: string, opts: { errno?: number; exitCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TsrunError';
    this.errno = opts.errno;
    this.exitCode = opts.exitCode ?? 1;
  }
}

/** A bad command line: printed with a usage hint, exit status 1 like runc's. */
export class UsageError extends TsrunError {
  constructor(message: string) {
    super(message, { exitCode: 1 });
    this.name = 'UsageError';
  }
}

/** Prefix context onto any error, keeping the errno and the original as the cause. */
export function wrapError(context: string, err: unknown): TsrunError {
  const e = err as NodeJS.ErrnoException & { errno?: number };
  const inner = err instanceof Error ? err.message : String(err);
  const errno = err instanceof TsrunError ? err.errno : typeof e?.errno === 'number' ? Math.abs(e.errno) : undefined;
  return new TsrunError(`${context}: ${inner}`, { errno, cause: err });
}

/** Run fn and add context to whatever it throws. */
export function withContext<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw wrapError(context, err);
  }
}
