/**
 * What the three System V IPC families share (ipc/util.c): the id tables
 * of one IPC namespace, kern_ipc_perm with its permission check, and the
 * constants of <linux/ipc.h>. The namespace is the emulated machine's own
 * (Kernel.ipc), never the host's: a program sees only the objects the
 * machine's programs made.
 *
 * Ids are built as Linux builds them: idx + seq * SEQ_MULTIPLIER, the idx
 * allocated cyclically (idr_alloc_cyclic from after the last one given) and
 * seq moving on each time the idx wraps back to or below the last one, so
 * that a removed object's id is not handed out again at once.
 *
 * Objects are plain data (no closures): a snapshot of the machine clones
 * them structurally.
 */
import { EINVAL, ENOSPC, SysError } from '../errno.js';
import { hrtimeNs, REALTIME_BASE_NS } from '../hostlog.js';

export const IPC_PRIVATE = 0;
export const IPC_CREAT = 0o1000, IPC_EXCL = 0o2000, IPC_NOWAIT = 0o4000;
export const IPC_RMID = 0, IPC_SET = 1, IPC_STAT = 2, IPC_INFO = 3;
/** The cmd bit of the new (64-bit field) structure layouts, for the ABIs that parse a version. */
export const IPC_64 = 0x100;
export const S_IRUGO = 0o444, S_IWUGO = 0o222, S_IXUGO = 0o111, S_IRWXUGO = 0o777;
/** IPCMNI_SHIFT without ipcmni_extend: ids are idx + seq * 32768. */
export const SEQ_MULTIPLIER = 32768;
/** ipcid_seq_max(): INT_MAX >> IPCMNI_SHIFT. */
const SEQ_MAX = 0x7fffffff >> 15;
/** IPCMNI: the most objects of a kind (and the idx bound). */
export const IPCMNI = 32768;
export const CAP_IPC_OWNER = 15, CAP_IPC_LOCK = 14;

/** struct kern_ipc_perm. */
export interface KernIpcPerm {
  key: number;
  uid: number;
  gid: number;
  cuid: number;
  cgid: number;
  /** The permission bits and the family's flags (SHM_DEST, SHM_LOCKED). */
  mode: number;
  seq: number;
  /** idx + seq * SEQ_MULTIPLIER. */
  id: number;
}

/** Seconds since the epoch, as the *_time fields hold them. */
export function nowSec(): number {
  return Number((REALTIME_BASE_NS + hrtimeNs()) / 1000000000n);
}

/** One family's ids (struct ipc_ids): objects by idx. */
export class IpcIds<T extends { perm: KernIpcPerm }> {
  /** Objects by idx (undefined: free). */
  readonly byIdx: (T | undefined)[] = [];
  inUse = 0;
  private seq = 0;
  private lastIdx = -1;
  /** idr_next: where the cyclic search for a free idx starts. */
  private next = 0;

  constructor(
    /** The most objects at once (ipc_mni, or the family's *MNI sysctl). */
    readonly mni: number,
  ) {}

  /** The object with this id (its seq must match: a stale id is EINVAL). */
  find(id: number): T {
    if (id < 0) throw new SysError(EINVAL);
    const o = this.byIdx[id % SEQ_MULTIPLIER];
    if (o === undefined || o.perm.id !== id) throw new SysError(EINVAL);
    return o;
  }

  /** The object at index idx (the *_STAT commands take an index). */
  findIdx(idx: number): T {
    const o = idx >= 0 && idx < this.byIdx.length ? this.byIdx[idx] : undefined;
    if (o === undefined) throw new SysError(EINVAL);
    return o;
  }

  /** The object with a public key, if any (a removed one's key is IPC_PRIVATE: not found). */
  findKey(key: number): T | undefined {
    if (key === IPC_PRIVATE) return undefined;
    for (const o of this.byIdx) if (o !== undefined && o.perm.key === key) return o;
    return undefined;
  }

  /** ipc_addid: give o an idx and an id. ENOSPC when the family is full. */
  add(o: T): void {
    if (this.inUse >= this.mni) throw new SysError(ENOSPC);
    let idx = -1;
    for (let k = 0; k < this.mni; k++) {
      const i = (this.next + k) % this.mni;
      if (this.byIdx[i] === undefined) {
        idx = i;
        break;
      }
    }
    if (idx < 0) throw new SysError(ENOSPC);
    if (idx <= this.lastIdx) {
      this.seq++;
      if (this.seq >= SEQ_MAX) this.seq = 0;
    }
    this.lastIdx = idx;
    this.next = idx + 1;
    o.perm.seq = this.seq;
    o.perm.id = idx + this.seq * SEQ_MULTIPLIER;
    this.byIdx[idx] = o;
    this.inUse++;
  }

  /** ipc_rmid. */
  remove(o: T): void {
    const idx = o.perm.id % SEQ_MULTIPLIER;
    if (this.byIdx[idx] !== o) return;
    this.byIdx[idx] = undefined;
    this.inUse--;
  }

  /** ipc_get_maxidx: the highest idx in use, -1 with none. */
  maxIdx(): number {
    if (this.inUse === 0) return -1;
    for (let i = this.byIdx.length - 1; i >= 0; i--) if (this.byIdx[i] !== undefined) return i;
    return -1;
  }

  /** Every object, in idx order. */
  *all(): IterableIterator<T> {
    for (const o of this.byIdx) if (o !== undefined) yield o;
  }
}

