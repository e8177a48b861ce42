/**
 * Memory syscalls: brk, mmap, munmap, mprotect, mremap, madvise, msync,
 * mincore, mlock family. The VMA bookkeeping is in ../mm.ts.
 */
import { EACCES, EBADF, EINVAL, ENODEV, ENOMEM, SysError } from '../errno.js';
import { O_APPEND, O_PATH } from '../fdtable.js';
import { hostFileSource, mappedName, MAP_ANONYMOUS, MAP_PRIVATE, MAP_TYPE, TASK_SIZE, type MapSource } from '../mm.js';
import type { Process } from '../process.js';
import type { HandlerTable } from './table.js';
import { PAGE_SIZE, PROT_WRITE } from '../../cpu/memory.js';
import { type SyscallArgs, writeMem } from './util.js';

function sysMmap(p: Process, a: SyscallArgs): number {
  const addr = a.num(0), len = a.unum(1), prot = a.int(2);
  let flags = a.int(3);
  const fd = a.int(4), off = a.num(5);
  let source: MapSource | null = null;
  if (off % PAGE_SIZE !== 0 || off < 0) throw new SysError(EINVAL);
  if (!(flags & MAP_ANONYMOUS)) {
    const f = p.fds.file(fd);
    if (f.flags & O_PATH) throw new SysError(EBADF);
    if (f.kind === 'chr' && f.guestPath.endsWith('/zero')) {
      flags |= MAP_ANONYMOUS; // mmap of /dev/zero is anonymous memory
    } else {
      if (f.kind !== 'reg' && f.kind !== 'blk') throw new SysError(ENODEV);
      if (!f.readable) throw new SysError(EACCES);
      const type = flags & MAP_TYPE;
      const shared = type !== MAP_PRIVATE;
      if (shared && prot & PROT_WRITE && (!f.writable || f.flags & O_APPEND)) throw new SysError(EACCES);
      source = hostFileSource(f.hostFd, f.hostPath, mappedName(p.vfs, f.hostFd, f.guestPath), off, { writeBack: shared && f.writable, mayWrite: f.writable && !(f.flags & O_APPEND) });
      // a shared mapping is the file's pages themselves: those of the page cache
      if (shared) source.file.cache = p.kernel.pageCache.file(source.file.dev, source.file.ino, f.hostPath);
    }
  }
  return p.mm.mmap(addr, len, prot, flags, off, source);
}

function checkMapped(p: Process, addr: number, len: number): void {
  if (addr % PAGE_SIZE !== 0 || addr < 0) throw new SysError(EINVAL);
  const end = Math.ceil((addr + len) / PAGE_SIZE) * PAGE_SIZE;
  if (len > 0 && (end > TASK_SIZE || !p.mm.isCovered(addr, end))) throw new SysError(ENOMEM);
}

function sysMincore(p: Process, a: SyscallArgs): number {
  const addr = a.num(0), len = a.unum(1), vec = a.num(2);
  if (addr % PAGE_SIZE !== 0 || addr < 0) throw new SysError(EINVAL);
  if (len === 0) return 0;
  const end = Math.ceil((addr + len) / PAGE_SIZE) * PAGE_SIZE;
  if (end > TASK_SIZE) throw new SysError(ENOMEM);
  if (!p.mm.isCovered(addr, end)) throw new SysError(ENOMEM);
  const n = (end - addr) / PAGE_SIZE;
  const out = new Uint8Array(n);
  // a file page not yet touched is in the page cache as far as the guest can tell (Linux's mincore reports the cache)
  for (let k = 0; k < n; k++) out[k] = p.mem.hasPage(Math.floor(addr / PAGE_SIZE) + k) || p.mm.vmaAt(addr + k * PAGE_SIZE)?.file ? 1 : 0;
  writeMem(p.mem, vec, out);
  return 0;
}

export function registerMm(t: HandlerTable): void {
  t.on(9, sysMmap, 'a private file mapping reads each page at its first touch (at mmap when history is recorded; a MAP_SHARED one is the page cache\'s pages, made at mmap); a file grown since the mmap is not seen (SIGBUS past its size then)');
  t.on(10, (p, a) => {
    p.mm.mprotect(a.num(0), a.unum(1), a.int(2));
    return 0;
  });
  t.on(11, (p, a) => {
    p.mm.munmap(a.num(0), a.unum(1));
    return 0;
  });
  t.on(12, (p, a) => p.mm.doBrk(a.num(0)));
  t.on(25, (p, a) => p.mm.mremap(a.num(0), a.unum(1), a.unum(2), a.int(3), a.num(4)));
  t.on(26, (p, a) => {
    p.mm.msync(a.num(0), a.unum(1), a.int(2));
    return 0;
  });
  t.on(27, sysMincore);
  t.on(28, (p, a) => {
    p.mm.madvise(a.num(0), a.unum(1), a.int(2));
    return 0;
  });
  // mlock, munlock, mlock2: the range must be mapped; guest memory is never paged out, so it is locked already
  const memlock = 'RLIMIT_MEMLOCK is not applied; /proc/self/status shows no VmLck';
  t.on(149, (p, a) => {
    checkMapped(p, Math.floor(a.num(0) / PAGE_SIZE) * PAGE_SIZE, a.unum(1) + (a.num(0) % PAGE_SIZE));
    return 0;
  }, memlock);
  t.on(150, (p, a) => {
    checkMapped(p, Math.floor(a.num(0) / PAGE_SIZE) * PAGE_SIZE, a.unum(1) + (a.num(0) % PAGE_SIZE));
    return 0;
  }, memlock);
  t.on(325, (p, a) => {
    if (a.int(2) & ~1) throw new SysError(EINVAL);
    checkMapped(p, Math.floor(a.num(0) / PAGE_SIZE) * PAGE_SIZE, a.unum(1) + (a.num(0) % PAGE_SIZE));
    return 0;
  }, memlock);
  t.on(151, (_p, a) => {
    const f = a.int(0);
    if (f === 0 || f & ~7) throw new SysError(EINVAL);
    return 0;
  }, memlock); // mlockall
  t.on(152, () => 0); // munlockall
}

