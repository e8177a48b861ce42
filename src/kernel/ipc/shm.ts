/**
 * System V shared memory (ipc/shm.c): segments of the machine's IPC
 * namespace and shmget, shmat, shmdt, shmctl over them.
 *
 * A segment's pages are SharedPages, mapped as a shared file's pages in the
 * page cache are (mm.ts maps their buffers): every attachment, in every
 * process, is the same bytes, fork's child inherits them as it inherits any
 * MAP_SHARED mapping, and munmap, mprotect and mremap of an attached range
 * act on its VMA as on any other. A segment is destroyed (its pages freed)
 * after IPC_RMID when no mapping holds a page of it any more: the last
 * shmdt, exit or exec. shm_nattch counts the VMAs that map the segment, as
 * Linux's shm_open and shm_close count them (a VMA split in two by a
 * partial munmap or mprotect counts twice).
 *
 * Unlike Linux, which allocates a page at its first touch, a segment's pages
 * are made at its first attach and counted against the machine's memory
 * then (ENOMEM when they do not fit): mapping a page's bytes needs them.
 */
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE } from '../../cpu/memory.js';
import { capable } from '../cred.js';
import { EINVAL, ENOSPC, EPERM, SysError } from '../errno.js';
import { MAP_FIXED, MAP_SHARED, type MapSource } from '../mm.js';
import type { Process } from '../process.js';
import { Struct, readView, writeMem } from '../sys/util.js';
import { CAP_IPC_LOCK, IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, S_IRUGO, S_IWUGO, S_IXUGO, nowSec } from './ids.js';
import { type IpcAbi, permSize, readPermSet, writeLongs, writePerm } from './layout.js';
import {
  SHMALL, SHMMAX, SHMMIN, SHMMNI, SHMSEG, SHM_DEST, SHM_EXEC, SHM_INFO, SHM_LOCK, SHM_LOCKED, SHM_RDONLY, SHM_REMAP, SHM_RND, SHM_STAT, SHM_STAT_ANY,
  SHM_UNLOCK, ShmSegment,
} from './objects.js';
import { checkOwner, checkPerms, ipcGet, ipcSet, newPerm } from './perm.js';

/** SHMLBA on x86 (and COMPAT_SHMLBA): a page. */
const SHMLBA = PAGE_SIZE;
const RLIMIT_MEMLOCK = 8;


/** The VMAs mapping seg in every live address space (shm_nattch). */
function nattch(p: Process, seg: ShmSegment): number {
  const seen = new Set<object>();
  let n = 0;
  for (const q of p.kernel.procs.values()) {
    if (q.ended || seen.has(q.mm)) continue;
    seen.add(q.mm);
    for (const v of q.mm.vmas) if (v.file?.cache === seg) n++;
  }
  return n;
}

/** shmget(2). */
export function shmget(p: Process, key: number, size: number, flag: number): number {
  const home = p.kernel.ipc;
  return ipcGet(
    p,
    home.shm,
    key,
    flag,
    () => {
      // newseg
      if (size < SHMMIN || BigInt(size) > SHMMAX) throw new SysError(EINVAL);
      const n = Math.ceil(size / PAGE_SIZE);
      if (BigInt(home.shmTot + n) > SHMALL) throw new SysError(ENOSPC);
      const seg = new ShmSegment(home, newPerm(p, key, flag), size, p.pid);
      home.shmTot += n;
      return seg;
    },
    (seg) => {
      if (seg.segsz < size) throw new SysError(EINVAL);
    },
  );
}

/** do_shmat: the address the segment is attached at. */
export function shmat(p: Process, shmid: number, addr: number, flg: number): number {
  if (shmid < 0) throw new SysError(EINVAL);
  let fixed = false;
  if (addr !== 0) {
    if (addr % SHMLBA !== 0) {
      if (!(flg & SHM_RND)) throw new SysError(EINVAL);
      addr -= addr % SHMLBA;
      if (addr === 0 && flg & SHM_REMAP) throw new SysError(EINVAL);
    }
    fixed = true;
  } else if (flg & SHM_REMAP) throw new SysError(EINVAL);
  let prot = PROT_READ, acc = S_IRUGO;
  if (!(flg & SHM_RDONLY)) {
    prot |= PROT_WRITE;
    acc |= S_IWUGO;
  }
  if (flg & SHM_EXEC) {
    prot |= PROT_EXEC;
    acc |= S_IXUGO;
  }
  const seg = p.kernel.ipc.shm.find(shmid);
  checkPerms(p, seg.perm, acc);
  const len = seg.npages * PAGE_SIZE;
  // without SHM_REMAP, an attach at a given address must not replace a mapping
  if (fixed && !(flg & SHM_REMAP) && !p.mm.isFree(addr, addr + len)) throw new SysError(EINVAL);
  seg.materialize();
  const source: MapSource = {
    // /proc/pid/maps names the segment by its key, on the shm mount's device (00:01), with the id as its inode
    name: `/SYSV${(seg.perm.key >>> 0).toString(16).padStart(8, '0')} (deleted)`,
    file: { hostPath: '', offset: 0, dev: 1, ino: seg.perm.id, writeBack: false, mayWrite: !(flg & SHM_RDONLY), cache: seg, size: seg.segsz },
    read: () => 0,
  };
  let at: number;
  try {
    at = p.mm.mmap(addr, seg.segsz, prot, MAP_SHARED | (fixed ? MAP_FIXED : 0), 0, source);
  } catch (e) {
    // (no room for it, or past RLIMIT_AS): pages nobody maps are not kept
    if (seg.holds === 0) seg.dematerialize();
    throw e;
  }
  seg.atime = nowSec();
  seg.lpid = p.pid;
  return at;
}

/**
 * shmdt(2): the first shm VMA at or after addr whose offset in its segment
 * equals its distance from addr is unmapped, then the VMAs of the same
 * segment after it that lie within its size from addr, as ksys_shmdt does.
 */
export function shmdt(p: Process, addr: number): number {
  if (addr % PAGE_SIZE !== 0 || addr < 0) throw new SysError(EINVAL);
  const isShm = (c: unknown): c is ShmSegment => c instanceof ShmSegment;
  const ranges: [number, number][] = [];
  let seg: ShmSegment | null = null;
  for (const v of p.mm.vmas) {
    if (v.end <= addr) continue;
    const c = v.file?.cache;
    if (seg === null) {
      if (isShm(c) && v.start - addr === v.file!.offset) {
        seg = c;
        ranges.push([v.start, v.end]);
      }
      continue;
    }
    if (v.end - addr > seg.npages * PAGE_SIZE) break;
    if (c === seg && v.start - addr === v.file!.offset) ranges.push([v.start, v.end]);
  }
  if (seg === null) throw new SysError(EINVAL);
  seg.dtime = nowSec();
  seg.lpid = p.pid;
  for (const [s, e] of ranges) p.mm.munmap(s, e - s);
  return 0;
}

/** struct shmid64_ds / compat_shmid64_ds / compat_shmid_ds of seg. */
function shmidDs(p: Process, seg: ShmSegment, abi: IpcAbi): Uint8Array {
  const n = nattch(p, seg);
  if (abi === '64') {
    const s = new Struct(112);
    writePerm(s, 0, seg.perm, abi);
    writeLongs(s, 48, abi, [seg.segsz, seg.atime, seg.dtime, seg.ctime]);
    s.u32(80, seg.cpid).u32(84, seg.lpid);
    s.u64(88, n);
    return s.bytes;
  }
  if (abi === 'compat64') {
    const s = new Struct(84);
    writePerm(s, 0, seg.perm, abi);
    s.u32(36, seg.segsz).u32(40, seg.atime).u32(48, seg.dtime).u32(56, seg.ctime);
    s.u32(64, seg.cpid).u32(68, seg.lpid).u32(72, n);
    return s.bytes;
  }
  const s = new Struct(48);
  writePerm(s, 0, seg.perm, abi);
  s.u32(16, seg.segsz).u32(20, seg.atime).u32(24, seg.dtime).u32(28, seg.ctime);
  s.u16(32, seg.cpid).u16(34, seg.lpid).u16(36, n);
  return s.bytes;
}

/** INT_MAX, the compat IPC_INFO's shmmax at most (SHMMAX is far above it). */
const INT_MAX = 0x7fffffffn;

/** shmctl(2) in the given layout (cmd without IPC_64). */
export function shmctl(p: Process, shmid: number, cmd: number, buf: number, abi: IpcAbi): number {
  const home = p.kernel.ipc;
  if (cmd < 0 || shmid < 0) throw new SysError(EINVAL);
  switch (cmd) {
    case IPC_INFO: {
      // struct shminfo64; a 32-bit program's (compat_shminfo64, or the old struct shminfo of ints) has shmmax
      // capped at INT_MAX and the rest cut to 32 bits (copy_compat_shminfo_to_user)
      const vals = [abi === '64' ? SHMMAX : INT_MAX, BigInt(SHMMIN), BigInt(SHMMNI), BigInt(SHMSEG), SHMALL];
      const s = new Struct(abi === '64' ? 72 : abi === 'compat64' ? 36 : 20);
      writeLongs(s, 0, abi, vals);
      writeMem(p.mem, buf, s.bytes);
      return Math.max(home.shm.maxIdx(), 0);
    }
    case SHM_INFO: {
      let rss = 0;
      for (const seg of home.shm.all()) rss += seg.pages.size;
      const s = new Struct(abi === '64' ? 48 : 24);
      s.u32(0, home.shm.inUse);
      writeLongs(s, abi === '64' ? 8 : 4, abi, [home.shmTot, rss, 0, 0, 0]);
      writeMem(p.mem, buf, s.bytes);
      return Math.max(home.shm.maxIdx(), 0);
    }
    case SHM_STAT:
    case SHM_STAT_ANY:
    case IPC_STAT: {
      const seg = cmd === IPC_STAT ? home.shm.find(shmid) : home.shm.findIdx(shmid);
      if (cmd !== SHM_STAT_ANY) checkPerms(p, seg.perm, S_IRUGO);
      writeMem(p.mem, buf, shmidDs(p, seg, abi));
      return cmd === IPC_STAT ? 0 : seg.perm.id;
    }
    case IPC_SET: {
      const set = readPermSet(readView(p.mem, buf, permSize(abi)), abi);
      ipcSet(p, home.shm.find(shmid), set);
      return 0;
    }
    case IPC_RMID: {
      const seg = home.shm.find(shmid);
      checkOwner(p, seg.perm);
      if (seg.holds > 0) {
        // do_shm_rmid: destroyed at the last detach; meanwhile no key finds it
        seg.perm.mode |= SHM_DEST;
        seg.perm.key = 0;
      } else seg.destroy();
      return 0;
    }
    case SHM_LOCK:
    case SHM_UNLOCK: {
      const seg = home.shm.find(shmid);
      if (!capable(p, CAP_IPC_LOCK)) {
        if (p.euid !== seg.perm.uid && p.euid !== seg.perm.cuid) throw new SysError(EPERM);
        if (cmd === SHM_LOCK && p.rlimits[RLIMIT_MEMLOCK][0] === 0n) throw new SysError(EPERM);
      }
      // guest memory is never paged out: locking is the mode bit ipcs shows
      if (cmd === SHM_LOCK) seg.perm.mode |= SHM_LOCKED;
      else seg.perm.mode &= ~SHM_LOCKED;
      return 0;
    }
    default:
      throw new SysError(EINVAL);
  }
}
