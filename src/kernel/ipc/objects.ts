/**
 * The objects of System V IPC as the namespace holds them (struct
 * shmid_kernel, sem_array, msg_queue), with the constants of their
 * families: plain data, which the namespace (Kernel.ipc) and a snapshot of
 * the machine hold, apart from the calls over them (shm.ts, sem.ts,
 * msg.ts), which need the process.
 */
import { PAGE_SIZE } from '../../cpu/memory.js';
import { ENOMEM, SysError } from '../errno.js';
import type { SharedPages } from '../pagecache.js';
import type { PhysMem } from '../physmem.js';
import { type IpcIds, type KernIpcPerm, nowSec } from './ids.js';

/** A task waiting on an IPC object (the tid, for EIDRM and the counts GETNCNT and GETZCNT give). */
export interface IpcWaiter {
  tid: number;
}

/** What the namespace keeps of waits: the tasks whose object was removed while they waited. */
export interface WaitHome {
  idrm: number[];
}

// ---- shm ----

export const SHM_RDONLY = 0o10000, SHM_RND = 0o20000, SHM_REMAP = 0o40000, SHM_EXEC = 0o100000;
export const SHM_LOCK = 11, SHM_UNLOCK = 12, SHM_STAT = 13, SHM_INFO = 14, SHM_STAT_ANY = 15;
/** Mode bits: removed, waiting for its last detach; locked in memory. */
export const SHM_DEST = 0o1000, SHM_LOCKED = 0o2000;
/** Linux's defaults (include/uapi/linux/shm.h): SHMMAX and SHMALL are ULONG_MAX - 2^24. */
export const SHMMAX = 0xfffffffffeffffffn, SHMALL = 0xfffffffffeffffffn, SHMMIN = 1, SHMMNI = 4096, SHMSEG = SHMMNI;

/** What a segment needs of its namespace: where its pages are counted, and the ids it leaves when destroyed. */
export interface ShmHome {
  readonly shm: IpcIds<ShmSegment>;
  readonly physmem: PhysMem;
  /** Pages of every segment (ns->shm_tot). */
  shmTot: number;
}

/** struct shmid_kernel. */
export class ShmSegment implements SharedPages {
  readonly mergeable = false;
  readonly pages = new Map<number, ArrayBuffer>();
  /** Pages held by mappings, in every address space: 0 after the last detach. */
  holds = 0;
  atime = 0;
  dtime = 0;
  ctime = nowSec();
  lpid = 0;
  /** Pages counted against the machine's memory (made at the first attach). */
  private made = 0;

  constructor(
    readonly home: ShmHome,
    readonly perm: KernIpcPerm,
    readonly segsz: number,
    readonly cpid: number,
  ) {}

  get npages(): number {
    return Math.ceil(this.segsz / PAGE_SIZE);
  }

  /** Make the segment's pages (its first attach); ENOMEM when the machine's memory cannot hold them. */
  materialize(): void {
    if (this.made > 0 || this.npages === 0) return;
    if (!this.home.physmem.reserve(this.npages)) throw new SysError(ENOMEM);
    this.made = this.npages;
    for (let i = 0; i < this.npages; i++) this.pages.set(i, new ArrayBuffer(PAGE_SIZE));
  }

  hold(index: number): ArrayBuffer {
    const b = this.pages.get(index);
    // mm.ts holds only pages below the segment's size (the rest of a mapping grown by mremap is past its end)
    if (b === undefined) throw new Error(`shm segment ${this.perm.id}: no page ${index}`);
    this.holds++;
    return b;
  }

  release(): void {
    if (--this.holds === 0 && this.perm.mode & SHM_DEST) this.destroy();
  }

  writeBack(): void {}

  /** The pages go (no mapping holds them): the segment is destroyed, or its first attach failed after all. */
  dematerialize(): void {
    this.pages.clear();
    if (this.made > 0) this.home.physmem.unreserve(this.made);
    this.made = 0;
  }

  /** shm_destroy: the id goes, and the pages with it. */
  destroy(): void {
    this.home.shm.remove(this);
    this.home.shmTot -= this.npages;
    this.dematerialize();
  }
}

// ---- sem ----

export const GETPID = 11, GETVAL = 12, GETALL = 13, GETNCNT = 14, GETZCNT = 15, SETVAL = 16, SETALL = 17;
export const SEM_STAT = 18, SEM_INFO = 19, SEM_STAT_ANY = 20;
export const SEM_UNDO = 0x1000;
/** Linux's defaults (include/uapi/linux/sem.h). */
export const SEMMNI = 32000, SEMMSL = 32000, SEMMNS = SEMMNI * SEMMSL, SEMOPM = 500, SEMVMX = 32767, SEMAEM = SEMVMX;
export const SEMMAP = SEMMNS, SEMMNU = SEMMNS, SEMUME = SEMOPM, SEMUSZ = 20;
/** Bytes of kernel memory a semaphore and an array's header take (struct sem, struct sem_array), counted against the machine's memory. */
const SEM_BYTES = 64, ARRAY_BYTES = 256;


/** A task waiting in semop, with the operation it blocked on. */
interface SemWaiter extends IpcWaiter {
  num: number;
  op: number;
}

export interface SemHome extends WaitHome {
  readonly sem: IpcIds<SemArray>;
  readonly physmem: PhysMem;
  /** Semaphores in every array (ns->used_sems). */
  usedSems: number;
}

/** struct sem_array. */
export class SemArray {
  readonly vals: number[];
  /** The pid of the last process to change each semaphore. */
  readonly pids: number[];
  otime = 0;
  ctime = nowSec();
  /** SEM_UNDO adjustments by thread group id. */
  readonly undo = new Map<number, number[]>();
  readonly waiting: SemWaiter[] = [];

  constructor(
    readonly perm: KernIpcPerm,
    readonly nsems: number,
  ) {
    this.vals = new Array<number>(nsems).fill(0);
    this.pids = new Array<number>(nsems).fill(0);
  }

  get pages(): number {
    return Math.ceil((ARRAY_BYTES + this.nsems * SEM_BYTES) / PAGE_SIZE);
  }

  /** Tasks waiting for semaphore num to grow (GETNCNT) or to be zero (GETZCNT). */
  count(num: number, zero: boolean): number {
    return this.waiting.filter((w) => w.num === num && (zero ? w.op === 0 : w.op < 0)).length;
  }

  /** Forget tid's wait (it ended). */
  unwait(tid: number): void {
    const k = this.waiting.findIndex((w) => w.tid === tid);
    if (k >= 0) this.waiting.splice(k, 1);
  }
}

// ---- msg ----

export const MSG_STAT = 11, MSG_INFO = 12, MSG_STAT_ANY = 13;
export const MSG_NOERROR = 0o10000, MSG_EXCEPT = 0o20000, MSG_COPY = 0o40000;
/** Linux's defaults (include/uapi/linux/msg.h). */
export const MSGMNI = 32000, MSGMAX = 8192, MSGMNB = 16384;
/** Bytes of kernel memory a message's header and a queue take (struct msg_msg, struct msg_queue). */
export const MSG_HDR = 48, QUEUE_BYTES = 256;

export interface Message {
  type: number;
  text: Uint8Array;
}

export interface MsgHome extends WaitHome {
  readonly msg: IpcIds<MsgQueue>;
  readonly physmem: PhysMem;
  /** Messages and their bytes in every queue (MSG_INFO's msgmap and msgtql). */
  msgHdrs: number;
  msgBytes: number;
  /** Pages the queues' memory is counted as. */
  msgPages: number;
}

/** struct msg_queue. */
export class MsgQueue {
  readonly messages: Message[] = [];
  cbytes = 0;
  qbytes = MSGMNB;
  lspid = 0;
  lrpid = 0;
  stime = 0;
  rtime = 0;
  ctime = nowSec();
  readonly waiting: IpcWaiter[] = [];

  constructor(readonly perm: KernIpcPerm) {}

  unwait(tid: number): void {
    const k = this.waiting.findIndex((w) => w.tid === tid);
    if (k >= 0) this.waiting.splice(k, 1);
  }
}
