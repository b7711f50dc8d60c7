/**
 * The runtime's logger. Lines go to the --log file when one is given (containerd's shim reads
 * the last `error` line from it), otherwise to stderr. Formats follow logrus as runc uses it, so
 * tools that parse runc's logs parse ours: JSON `{"level","msg","time"}` (keys in that order) or
 * text `time="..." level=... msg=...`.
 *
 * Disabled levels cost one comparison; pass a function to defer building an expensive message.
 */
import * as fs from 'fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
// logrus spells warn as "warning".
const LEVEL_NAME: Record<LogLevel, string> = { debug: 'debug', info: 'info', warn: 'warning', error: 'error' };

export interface LogConfig {
  file?: string;
  format?: LogFormat;
  debug?: boolean;
}

type Message = string | (() => string);

let minRank = RANK.info;
let format: LogFormat = 'text';
let logFile: string | undefined;
let logFd: number | undefined;

export function configureLogger(cfg: LogConfig): void {
  if (logFd !== undefined && cfg.file !== logFile) {
    fs.closeSync(logFd);
    logFd = undefined;
  }
  logFile = cfg.file || undefined;
  format = cfg.format ?? 'text';
  minRank = cfg.debug ? RANK.debug : RANK.info;
}

export function logFilePath(): string | undefined {
  return logFile;
}

/** RFC 3339 in local time with the zone offset (`Z` for UTC), seconds precision, as logrus writes it. */
export function rfc3339(d: Date = new Date()): string {
  const pad = (n: number) => (n < 10 ? '0' : '') + n;
  const offsetMin = -d.getTimezoneOffset();
  let zone = 'Z';
  if (offsetMin !== 0) {
    const abs = Math.abs(offsetMin);
    zone = (offsetMin > 0 ? '+' : '-') + pad(Math.floor(abs / 60)) + ':' + pad(abs % 60);
  }
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone}`
  );
}

// logrus leaves a text value bare only when it is made of these characters.
const BARE_TEXT = /^[A-Za-z0-9\-._/@^+]+$/;

function textValue(v: string): string {
  return BARE_TEXT.test(v) ? v : JSON.stringify(v);
}

/** One formatted log line, without the newline. */
export function formatLine(level: LogLevel, msg: string, fmt: LogFormat = format, time: Date = new Date()): string {
  const name = LEVEL_NAME[level];
  const ts = rfc3339(time);
  if (fmt === 'json') return JSON.stringify({ level: name, msg, time: ts });
  return `time=${JSON.stringify(ts)} level=${name} msg=${textValue(msg)}`;
}

/** Write all of text to fd synchronously (stdout/stderr may be non-blocking pipes). */
export function writeAll(fd: number, text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off);
    } catch (err) {
      // A non-blocking pipe shared with the caller: wait for room.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

/** Append a line to the --log file if one is configured; returns false when there is none. */
export function writeToLogFile(level: LogLevel, msg: string): boolean {
  if (!logFile) return false;
  try {
    if (logFd === undefined) logFd = fs.openSync(logFile, 'a', 0o644);
    writeAll(logFd, formatLine(level, msg) + '\n');
  } catch {
    // A log file we cannot write must not turn into a second failure; stderr still has the error.
  }
  return true;
}

function emit(level: LogLevel, message: Message): void {
  if (RANK[level] < minRank) return;
  const msg = typeof message === 'function' ? message() : message;
  if (!writeToLogFile(level, msg)) {
    try {
      writeAll(2, formatLine(level, msg) + '\n');
    } catch {
      // stderr closed: nothing left to tell.
    }
  }
}

export const logger = {
  debug(message: Message): void {
    emit('debug', message);
  },
  info(message: Message): void {
    emit('info', message);
  },
  warn(message: Message): void {
    emit('warn', message);
  },
  error(message: Message): void {
    emit('error', message);
  },
  get debugEnabled(): boolean {
    return minRank <= RANK.debug;
  },
};

/**
 * Report the error that ends a command: the bare message as one line on stderr (what people and
 * podman read) and a logrus-shaped `error` line in the --log file (what containerd reads).
 */
export function reportFatal(message: string, stderrText: string = message + '\n'): void {
  writeToLogFile('error', message);
  try {
    writeAll(2, stderrText);
  } catch {
    // stderr closed.
  }
}
