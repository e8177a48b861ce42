/**
 * Credentials as Linux checks them (kernel/cred.c, kernel/capability.c,
 * security/commoncap.c): capable() looks at the effective capability set, not
 * at uid 0, and the set*uid calls move the capability sets the way
 * cap_task_fix_setuid does, so a process that drops root loses its
 * privileges and one that regains euid 0 from a saved uid gets them back.
 */
import type { Process } from './process.js';

export const CAP_CHOWN = 0;
export const CAP_FOWNER = 3;
export const CAP_KILL = 5;
export const CAP_SETGID = 6;
export const CAP_SETUID = 7;
export const CAP_SETPCAP = 8;
export const CAP_SYS_RAWIO = 17;
export const CAP_SYS_ADMIN = 21;
export const CAP_SYS_NICE = 23;
export const CAP_SYS_RESOURCE = 24;

/** capable(cap): the capability is in the effective set. */
export function capable(p: Process, cap: number): boolean {
  return ((p.caps.eff >> BigInt(cap)) & 1n) === 1n;
}

/** in_group_p: gid is the fs gid (the effective gid here) or a supplementary group. */
export function inGroup(p: Process, gid: number): boolean {
  return gid === p.egid || p.groups.includes(gid);
}

/**
 * cap_task_fix_setuid for the set*uid calls, given the uids before the call:
 * losing uid 0 from all of real, effective and saved clears the permitted
 * and effective sets (permitted is kept with PR_SET_KEEPCAPS); an effective
 * uid leaving 0 clears the effective set, one becoming 0 raises it to the
 * permitted set.
 */
export function fixCapsAfterSetuid(p: Process, old: { uid: number; euid: number; suid: number }, keepcaps: boolean): void {
  const hadRoot = old.uid === 0 || old.euid === 0 || old.suid === 0;
  if (hadRoot && p.uid !== 0 && p.euid !== 0 && p.suid !== 0) {
    if (!keepcaps) p.caps.prm = 0n;
    p.caps.eff = 0n;
  }
  if (old.euid === 0 && p.euid !== 0) p.caps.eff = 0n;
  if (old.euid !== 0 && p.euid === 0) p.caps.eff = p.caps.prm;
}
