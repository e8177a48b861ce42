/**
 * System V semaphores (ipc/sem.c): semaphore arrays of the machine's IPC
 * namespace and semget, semop/semtimedop, semctl over them.
 *
 * A semop is all or nothing: its operations are tried in order on a copy
 * of the values, and applied only if none would block (a decrement below 0,
 * a wait for zero on a value that is not) or fail (ERANGE past SEMVMX, or an
 * undo value out of range); otherwise it fails with EAGAIN under
 * IPC_NOWAIT or waits (wait.ts) until another task changes the array. The
 * operation that blocked is what GETNCNT and GETZCNT count, as Linux's
 * count_semcnt looks at each waiter's blocking operation.
 *
 * SEM_UNDO adjustments are kept per process (the thread group: threads
 * created with CLONE_SYSVSEM, as pthreads are, share one list; a fork's
 * child starts with none) and applied when the process exits (exit_sem),
 * clamped to [0, SEMVMX]; SETVAL and SETALL clear them.
 */
import { E2BIG, EAGAIN, EFBIG, EINVAL, ENOMEM, ENOSPC, ERANGE, SysError } from '../errno.js';
import type { Process } from '../process.js';
import { Struct, monoNs, readMem, readView, writeMem } from '../sys/util.js';
import { IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, S_IRUGO, S_IWUGO, nowSec } from './ids.js';
import { type IpcAbi, permSize, readPermSet, writeLongs, writePerm } from './layout.js';
import {
  GETALL, GETNCNT, GETPID, GETVAL, GETZCNT, SEMAEM, SEMMAP, SEMMNI, SEMMNS, SEMMNU, SEMMSL, SEMOPM, SEMUME, SEMUSZ, SEMVMX, SEM_INFO, SEM_STAT,
  SEM_STAT_ANY, SEM_UNDO, SETALL, SETVAL, SemArray, type SemHome,
} from './objects.js';
import { checkOwner, checkPerms, ipcGet, ipcSet, newPerm } from './perm.js';
import { checkRemoved, ipcWait, removedWhileWaiting } from './wait.js';


/** One struct sembuf. */
interface SemBuf {
  num: number;
  op: number;
  flg: number;
}

/** semget(2). */
export function semget(p: Process, key: number, nsems: number, flag: number): number {
  const home = p.kernel.ipc;
  if (nsems < 0 || nsems > SEMMSL) throw new SysError(EINVAL);
  return ipcGet(
    p,
    home.sem,
    key,
    flag,
    () => {
      // newary
      if (nsems === 0) throw new SysError(EINVAL);
      if (home.usedSems + nsems > SEMMNS) throw new SysError(ENOSPC);
      const a = new SemArray(newPerm(p, key, flag), nsems);
      if (!home.physmem.reserve(a.pages)) throw new SysError(ENOMEM);
      home.usedSems += nsems;
      return a;
    },
    (a) => {
      if (nsems > a.nsems) throw new SysError(EINVAL);
    },
  );
}

function removeArray(home: SemHome, a: SemArray): void {
  home.sem.remove(a);
  home.usedSems -= a.nsems;
  home.physmem.unreserve(a.pages);
  removedWhileWaiting(home, a.waiting);
  a.waiting.length = 0;
}

/**
 * semtimedop(2) (semop: no timeout). timeoutNs: the relative timeout read
 * by the caller (its layout is the ABI's), or null.
 */
export function semtimedop(p: Process, semid: number, sopsAddr: number, nsops: number, timeoutNs: bigint | null): number {
  const home = p.kernel.ipc;
  checkRemoved(p, home);
  if (nsops < 1 || semid < 0) throw new SysError(EINVAL);
  if (nsops > SEMOPM) throw new SysError(E2BIG);
  const raw = readMem(p.mem, sopsAddr, nsops * 6);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const sops: SemBuf[] = [];
  let max = 0, undos = false, alter = false;
  for (let k = 0; k < nsops; k++) {
    const s = { num: dv.getUint16(k * 6, true), op: dv.getInt16(k * 6 + 2, true), flg: dv.getInt16(k * 6 + 4, true) };
    sops.push(s);
    max = Math.max(max, s.num);
    if (s.flg & SEM_UNDO) undos = true;
    if (s.op !== 0) alter = true;
  }
  // (a retried call keeps its first deadline: waitEvent takes the one it parked with)
  const deadline = timeoutNs === null ? null : monoNs() + timeoutNs;
  const a = home.sem.find(semid);
  if (max >= a.nsems) throw new SysError(EFBIG);
  checkPerms(p, a.perm, alter ? S_IWUGO : S_IRUGO);
  const tgid = p.pid;
  a.unwait(p.tid);
  for (;;) {
    const adj = undos ? a.undo.get(tgid) ?? new Array<number>(a.nsems).fill(0) : null;
    const r = tryOps(a, sops, adj);
    if (r === null) {
      // applied
      for (const s of sops) a.pids[s.num] = tgid;
      if (adj !== null) a.undo.set(tgid, adj);
      a.otime = nowSec();
      return 0;
    }
    if (r.flg & IPC_NOWAIT) throw new SysError(EAGAIN);
    a.waiting.push({ tid: p.tid, num: r.num, op: r.op });
    ipcWait(p, deadline, null, 'semop', () => a.unwait(p.tid));
    a.unwait(p.tid);
    checkRemoved(p, home);
  }
}

/**
 * perform_atomic_semop: apply sops to a (and their undo to adj) if none
 * blocks: null; the operation that blocks otherwise; throws ERANGE.
 */
function tryOps(a: SemArray, sops: SemBuf[], adj: number[] | null): SemBuf | null {
  const vals = a.vals.slice();
  const undo = adj?.slice() ?? null;
  for (const s of sops) {
    const v = vals[s.num];
    if (s.op === 0 && v !== 0) return s;
    const r = v + s.op;
    if (r < 0) return s;
    if (r > SEMVMX) throw new SysError(ERANGE);
    if (s.flg & SEM_UNDO) {
      const u = undo![s.num] - s.op;
      if (u < -SEMAEM - 1 || u > SEMAEM) throw new SysError(ERANGE);
      undo![s.num] = u;
    }
    vals[s.num] = r;
  }
  for (let k = 0; k < vals.length; k++) a.vals[k] = vals[k];
  if (adj !== null && undo !== null) for (let k = 0; k < undo.length; k++) adj[k] = undo[k];
  return null;
}

/**
 * The process ends (every thread of it): exit_sem applies its SEM_UNDO
 * adjustments, and its waits on semaphores and queues are forgotten (its
 * shm attachments go with its address space).
 */
export function exitIpc(p: Process): void {
  const home = p.kernel.ipc;
  for (const t of p.threads) {
    for (const q of home.msg.all()) q.unwait(t.tid);
    home.idrm = home.idrm.filter((tid) => tid !== t.tid);
  }
  exitSem(p, home);
}

function exitSem(p: Process, home: SemHome): void {
  for (const a of home.sem.all()) {
    for (const t of p.threads) a.unwait(t.tid);
    const adj = a.undo.get(p.pid);
    if (adj === undefined) continue;
    a.undo.delete(p.pid);
    for (let k = 0; k < a.nsems; k++) {
      if (adj[k] === 0) continue;
      a.vals[k] = Math.min(Math.max(a.vals[k] + adj[k], 0), SEMVMX);
      a.pids[k] = p.pid;
    }
  }
}

/** struct semid64_ds / compat_semid64_ds / compat_semid_ds of a. */
function semidDs(a: SemArray, abi: IpcAbi): Uint8Array {
  if (abi === '64') {
    const s = new Struct(104);
    writePerm(s, 0, a.perm, abi);
    writeLongs(s, 48, abi, [a.otime, 0, a.ctime, 0, a.nsems]);
    return s.bytes;
  }
  if (abi === 'compat64') {
    const s = new Struct(64);
    writePerm(s, 0, a.perm, abi);
    s.u32(36, a.otime).u32(44, a.ctime).u32(52, a.nsems);
    return s.bytes;
  }
  const s = new Struct(44);
  writePerm(s, 0, a.perm, abi);
  s.u32(16, a.otime).u32(20, a.ctime).u16(40, a.nsems);
  return s.bytes;
}

/**
 * semctl(2) in the given layout (cmd without IPC_64). arg: the union semun
 * as the call passed it (a value for SETVAL, else a user pointer).
 */
export function semctl(p: Process, semid: number, semnum: number, cmd: number, arg: number, abi: IpcAbi): number {
  const home = p.kernel.ipc;
  if (semid < 0) throw new SysError(EINVAL);
  switch (cmd) {
    case IPC_INFO:
    case SEM_INFO: {
      const s = new Struct(40);
      const info = cmd === SEM_INFO;
      [SEMMAP, SEMMNI, SEMMNS, SEMMNU, SEMMSL, SEMOPM, SEMUME, info ? home.sem.inUse : SEMUSZ, SEMVMX, info ? home.usedSems : SEMAEM].forEach((v, k) =>
        s.u32(k * 4, v),
      );
      writeMem(p.mem, arg, s.bytes);
      return Math.max(home.sem.maxIdx(), 0);
    }
    case IPC_STAT:
    case SEM_STAT:
    case SEM_STAT_ANY: {
      const a = cmd === IPC_STAT ? home.sem.find(semid) : home.sem.findIdx(semid);
      if (cmd !== SEM_STAT_ANY) checkPerms(p, a.perm, S_IRUGO);
      writeMem(p.mem, arg, semidDs(a, abi));
      return cmd === IPC_STAT ? 0 : a.perm.id;
    }
    case GETALL: {
      const a = home.sem.find(semid);
      checkPerms(p, a.perm, S_IRUGO);
      const s = new Struct(a.nsems * 2);
      a.vals.forEach((v, k) => s.u16(k * 2, v));
      writeMem(p.mem, arg, s.bytes);
      return 0;
    }
    case GETVAL:
    case GETPID:
    case GETNCNT:
    case GETZCNT: {
      const a = home.sem.find(semid);
      checkPerms(p, a.perm, S_IRUGO);
      if (semnum < 0 || semnum >= a.nsems) throw new SysError(EINVAL);
      if (cmd === GETVAL) return a.vals[semnum];
      if (cmd === GETPID) return a.pids[semnum];
      return a.count(semnum, cmd === GETZCNT);
    }
    case SETVAL: {
      const val = arg | 0;
      if (val > SEMVMX || val < 0) throw new SysError(ERANGE);
      const a = home.sem.find(semid);
      if (semnum < 0 || semnum >= a.nsems) throw new SysError(EINVAL);
      checkPerms(p, a.perm, S_IWUGO);
      for (const adj of a.undo.values()) adj[semnum] = 0;
      a.vals[semnum] = val;
      a.pids[semnum] = p.pid;
      a.ctime = nowSec();
      return 0;
    }
    case SETALL: {
      const a = home.sem.find(semid);
      checkPerms(p, a.perm, S_IWUGO);
      const dv = readView(p.mem, arg, a.nsems * 2);
      const vals: number[] = [];
      for (let k = 0; k < a.nsems; k++) {
        const v = dv.getUint16(k * 2, true);
        if (v > SEMVMX) throw new SysError(ERANGE);
        vals.push(v);
      }
      for (const adj of a.undo.values()) adj.fill(0);
      vals.forEach((v, k) => {
        a.vals[k] = v;
        a.pids[k] = p.pid;
      });
      a.ctime = nowSec();
      return 0;
    }
    case IPC_SET: {
      const set = readPermSet(readView(p.mem, arg, permSize(abi)), abi);
      ipcSet(p, home.sem.find(semid), set);
      return 0;
    }
    case IPC_RMID: {
      const a = home.sem.find(semid);
      checkOwner(p, a.perm);
      removeArray(home, a);
      return 0;
    }
    default:
      throw new SysError(EINVAL);
  }
}
