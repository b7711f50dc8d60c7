/**
 * AppArmor profiles and SELinux labels: applied by the init right before execve where the host
 * has the security module, and a clear error where it has not (never silently ignored).
 */
import * as fs from 'fs';
import { TsrunError } from '../errors';
import type { Process } from '../spec/types';

function apparmorEnabled(): boolean {
  try {
    return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}

export function checkLsm(proc: Process, where = 'process'): void {
  if (proc.apparmorProfile && !apparmorEnabled())
    throw new TsrunError(`${where}.apparmorProfile: profile "${proc.apparmorProfile}" requested, but AppArmor is not enabled on this host`);
  if (proc.selinuxLabel && !fs.existsSync('/sys/fs/selinux/enforce'))
    throw new TsrunError(`${where}.selinuxLabel: label "${proc.selinuxLabel}" requested, but SELinux is not enabled on this host`);
}
