/**
 * The user structures of System V IPC in the three layouts a program may
 * use: x86-64's ('64': ipc64_perm, shmid64_ds... with long fields), an i386
 * program's with IPC_64 ('compat64': compat_ipc64_perm, compat_shmid64_ds...,
 * 32-bit fields and the times' high halves) and an i386 program's old ones
 * without it ('old': compat_ipc_perm with 16-bit ids, compat_shmid_ds...),
 * as ipc/compat.c and the copy_*_to_user functions of ipc/{shm,sem,msg}.c
 * write and read them.
 */
import type { KernIpcPerm } from './ids.js';
import { Struct } from '../sys/util.js';

export type IpcAbi = '64' | 'compat64' | 'old';

/** Size of the perm structure that starts each *_ds. */
export function permSize(abi: IpcAbi): number {
  return abi === '64' ? 48 : abi === 'compat64' ? 36 : 16;
}

/** Write a kern_ipc_perm at o (the compat/old layouts truncate ids and mode as Linux's assignments do). */
export function writePerm(s: Struct, o: number, perm: KernIpcPerm, abi: IpcAbi): void {
  s.u32(o, perm.key);
  if (abi === 'old') {
    // SET_UID/SET_GID into __compat_uid_t: ids past 16 bits become the overflow id
    const ov = (id: number): number => (id > 0xffff ? 65534 : id);
    s.u16(o + 4, ov(perm.uid)).u16(o + 6, ov(perm.gid)).u16(o + 8, ov(perm.cuid)).u16(o + 10, ov(perm.cgid));
    s.u16(o + 12, perm.mode).u16(o + 14, perm.seq);
    return;
  }
  s.u32(o + 4, perm.uid).u32(o + 8, perm.gid).u32(o + 12, perm.cuid).u32(o + 16, perm.cgid);
  if (abi === '64') s.u32(o + 20, perm.mode & 0xffff).u16(o + 24, perm.seq);
  else s.u16(o + 20, perm.mode).u16(o + 24, perm.seq);
}

/** IPC_SET's fields of the perm structure at the start of buf: uid, gid, mode. */
export function readPermSet(dv: DataView, abi: IpcAbi): { uid: number; gid: number; mode: number } {
  if (abi === 'old') {
    const id16 = (v: number): number => (v === 0xffff ? 0xffffffff : v); // low2highuid: (u16)-1 stays -1
    return { uid: id16(dv.getUint16(4, true)), gid: id16(dv.getUint16(6, true)), mode: dv.getUint16(12, true) };
  }
  return { uid: dv.getUint32(4, true), gid: dv.getUint32(8, true), mode: abi === '64' ? dv.getUint32(20, true) & 0xffff : dv.getUint16(20, true) };
}

/** Bytes of a long (x86-64) or a compat long (i386). */
export function longSize(abi: IpcAbi): number {
  return abi === '64' ? 8 : 4;
}

/** Write n unsigned longs (ulong for '64', u32 otherwise) from offset o on. */
export function writeLongs(s: Struct, o: number, abi: IpcAbi, vals: (number | bigint)[]): void {
  const w = longSize(abi);
  vals.forEach((v, k) => (w === 8 ? s.u64(o + k * 8, v) : s.u32(o + k * 4, typeof v === 'bigint' ? Number(BigInt.asUintN(32, v)) : v)));
}
