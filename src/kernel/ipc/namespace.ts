/**
 * The machine's IPC namespace (struct ipc_namespace): the shm, sem and msg
 * ids with what each family counts, and what a process's end does to them.
 * One per Kernel; plain data, so a snapshot clones it with the machine.
 */
import type { PhysMem } from '../physmem.js';
import type { Process } from '../process.js';
import { IpcIds } from './ids.js';
import { type MsgHome, MsgQueue, MSGMNI } from './msg.js';
import { type SemHome, SemArray, SEMMNI, exitSem } from './sem.js';
import { type ShmHome, ShmSegment, SHMMNI } from './shm.js';

export class IpcNamespace implements ShmHome, SemHome, MsgHome {
  readonly shm = new IpcIds<ShmSegment>(SHMMNI);
  readonly sem = new IpcIds<SemArray>(SEMMNI);
  readonly msg = new IpcIds<MsgQueue>(MSGMNI);
  shmTot = 0;
  usedSems = 0;
  msgHdrs = 0;
  msgBytes = 0;
  msgPages = 0;
  idrm: number[] = [];

  constructor(readonly physmem: PhysMem) {}

  /** The process ends: its SEM_UNDO adjustments apply and its waits are forgotten (its shm attachments go with its address space). */
  exit(p: Process): void {
    exitSem(p, this);
    for (const t of p.threads) {
      for (const q of this.msg.all()) q.unwait(t.tid);
      this.idrm = this.idrm.filter((tid) => tid !== t.tid);
    }
  }
}
