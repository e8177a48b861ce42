/**
 * The machine's IPC namespace (struct ipc_namespace): the shm, sem and msg
 * ids with what each family counts. One per Kernel; plain data, so a
 * snapshot clones it with the machine.
 */
import type { PhysMem } from '../physmem.js';
import { IpcIds } from './ids.js';
import { MSGMNI, type MsgHome, type MsgQueue, SEMMNI, type SemArray, type SemHome, SHMMNI, type ShmHome, type ShmSegment } from './objects.js';

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
}
