/** Global flags, as parsed by src/cli and handed to every command. */
export interface GlobalOptions {
  root: string; // state root, default /run/tsrun
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
  rootless: string; // "true" | "false" | "auto"
}

export interface CreateOptions {
  id: string;
  bundle: string; // absolute
  pidFile?: string;
  consoleSocket?: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
}

export interface RunOptions extends CreateOptions {
  detach: boolean;
  keep: boolean;
  noSubreaper: boolean;
}
