/**
 * kern_ipc_perm as the calls check it (ipc/util.c): a new object's owner,
 * ipcperms, the owner's rights IPC_SET and IPC_RMID need, and ipcget, the
 * lookup by key every *get call shares.
 */
import { capable } from '../cred.js';
import { EACCES, EEXIST, EINVAL, ENOENT, ENOSPC, EPERM, SysError } from '../errno.js';
import type { Process } from '../process.js';
import { CAP_IPC_OWNER, IPC_CREAT, IPC_EXCL, IPC_PRIVATE, type IpcIds, type KernIpcPerm, S_IRWXUGO, nowSec } from './ids.js';

/** A new kern_ipc_perm for key, owned and created by p's effective ids, with flag's permission bits. */
export function newPerm(p: Process, key: number, flag: number): KernIpcPerm {
  return { key, uid: p.euid, gid: p.egid, cuid: p.euid, cgid: p.egid, mode: flag & S_IRWXUGO, seq: 0, id: -1 };
}

/** ipcperms: whether p may access with the requested rwx bits of flag (S_IRUGO, S_IWUGO...). */
export function ipcPerms(p: Process, perm: KernIpcPerm, flag: number): boolean {
  const requested = (flag >> 6) | (flag >> 3) | flag;
  let granted = perm.mode;
  if (p.euid === perm.cuid || p.euid === perm.uid) granted >>= 6;
  else if (p.egid === perm.cgid || p.egid === perm.gid || p.groups.includes(perm.cgid) || p.groups.includes(perm.gid)) granted >>= 3;
  return !(requested & ~granted & 0o7) || capable(p, CAP_IPC_OWNER);
}

/** ipcperms or EACCES. */
export function checkPerms(p: Process, perm: KernIpcPerm, flag: number): void {
  if (!ipcPerms(p, perm, flag)) throw new SysError(EACCES);
}

/** The creator's or owner's rights IPC_SET and IPC_RMID need (ipcctl_obtain_check): else CAP_SYS_ADMIN, else EPERM. */
export function checkOwner(p: Process, perm: KernIpcPerm): void {
  if (p.euid === perm.cuid || p.euid === perm.uid || capable(p, 21 /* CAP_SYS_ADMIN */)) return;
  throw new SysError(EPERM);
}

/** IPC_SET's part common to the families (ipc_update_perm): owner and permission bits. */
export function updatePerm(perm: KernIpcPerm, uid: number, gid: number, mode: number): void {
  if (uid < 0 || uid > 0xfffffffe || gid < 0 || gid > 0xfffffffe) throw new SysError(EINVAL); // make_kuid of -1: invalid
  perm.uid = uid;
  perm.gid = gid;
  perm.mode = (perm.mode & ~S_IRWXUGO) | (mode & S_IRWXUGO);
}

/** IPC_SET of a segment or a semaphore array: the owner's check, the new owner and mode, and ctime (msgctl also sets msg_qbytes). */
export function ipcSet(p: Process, obj: { perm: KernIpcPerm; ctime: number }, set: { uid: number; gid: number; mode: number }): void {
  checkOwner(p, obj.perm);
  updatePerm(obj.perm, set.uid, set.gid, set.mode);
  obj.ctime = nowSec();
}

/**
 * ipcget: IPC_PRIVATE always makes a new object; a key makes one when none
 * has it and IPC_CREAT is given (ENOENT otherwise), else finds it: EEXIST
 * with IPC_CREAT|IPC_EXCL, the family's own check (a size or a count too
 * large: EINVAL), then the permission bits of flag (EACCES). Returns the id.
 */
export function ipcGet<T extends { perm: KernIpcPerm }>(
  p: Process,
  ids: IpcIds<T>,
  key: number,
  flag: number,
  make: () => T,
  moreChecks: (o: T) => void,
): number {
  if (key !== IPC_PRIVATE) {
    const o = ids.findKey(key);
    if (o !== undefined) {
      if (flag & IPC_CREAT && flag & IPC_EXCL) throw new SysError(EEXIST);
      moreChecks(o);
      checkPerms(p, o.perm, flag);
      return o.perm.id;
    }
    if (!(flag & IPC_CREAT)) throw new SysError(ENOENT);
  }
  if (ids.inUse >= ids.mni) throw new SysError(ENOSPC);
  const o = make();
  ids.add(o);
  return o.perm.id;
}
