/**
 * Descriptors: pipe and pipe2, dup, dup2 and dup3, fcntl, and flock (the
 * kernel-wide lock table of locks.ts).
 */
import { EBADF, EDEADLK, EFAULT, EINTR, EINVAL, EPERM, EWOULDBLOCK, SysError } from '../errno.js';
import { CAP_SYS_RESOURCE, capable } from '../cred.js';
import { inodeKey } from '../locks.js';
import { O_APPEND, O_ASYNC, O_CLOEXEC, O_DIRECT, O_NOATIME, O_NONBLOCK, O_PATH, type OpenFile } from '../fdtable.js';
import type { Process } from '../process.js';
import type { HandlerTable } from './table.js';
import { fileStat, makePipe } from './files.js';
import { Struct, type SyscallArgs, accessOk, readMem, readView, writeMem } from './util.js';

function doPipe2(p: Process, addr: number, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT | 0x80 /* O_NOTIFICATION_PIPE */)) throw new SysError(EINVAL);
  if (!accessOk(addr, 8)) throw new SysError(EFAULT);
  const [r, w] = makePipe(p, flags);
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const rfd = p.fds.alloc(r, cloexec);
  let wfd: number;
  try {
    wfd = p.fds.alloc(w, cloexec);
  } catch (e) {
    p.fds.close(rfd);
    w.release();
    throw e;
  }
  try {
    writeMem(p.mem, addr, new Struct(8).u32(0, rfd).u32(4, wfd).bytes);
  } catch (e) {
    p.fds.close(rfd);
    p.fds.close(wfd);
    throw e;
  }
  return 0;
}

function sysDup(p: Process, a: SyscallArgs): number {
  const f = p.fds.file(a.int(0));
  return p.fds.alloc(f, false);
}

function doDup3(p: Process, oldfd: number, newfd: number, flags: number, isDup2: boolean): number {
  const f = p.fds.file(oldfd);
  if (oldfd === newfd) {
    if (isDup2) return newfd;
    throw new SysError(EINVAL);
  }
  if (flags & ~O_CLOEXEC) throw new SysError(EINVAL);
  if (newfd < 0 || newfd >= p.fds.limit) throw new SysError(EBADF);
  p.fds.install(newfd, f, (flags & O_CLOEXEC) !== 0);
  return newfd;
}

const F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_GETLK = 5, F_SETLK = 6, F_SETLKW = 7;
const F_SETOWN = 8, F_GETOWN = 9, F_SETSIG = 10, F_GETSIG = 11, F_SETOWN_EX = 15, F_GETOWN_EX = 16;
const F_OFD_GETLK = 36, F_OFD_SETLK = 37, F_OFD_SETLKW = 38;
const F_SETLEASE = 1024, F_GETLEASE = 1025, F_NOTIFY = 1026, F_DUPFD_CLOEXEC = 1030, F_SETPIPE_SZ = 1031, F_GETPIPE_SZ = 1032;
const F_ADD_SEALS = 1033, F_GET_SEALS = 1034;

/** sizeof(struct flock) of x86-64; an i386 program's is 16 bytes (flock64: 24). l_type is the first field in each. */
const FLOCK_SIZE = 32;

/**
 * The record-lock commands (no record locks are kept: F_SETLK and its kin
 * succeed on a descriptor open for the lock's kind, F_GETLK says
 * unlocked), on the struct flock at addr, of `size` bytes in the caller's
 * ABI.
 */
export function recordLock(p: Process, f: OpenFile, cmd: number, addr: number, size: number): number {
  if ((f.flags & O_PATH) !== 0) throw new SysError(EBADF);
  const v = readView(p.mem, addr, size);
  const type = v.getInt16(0, true);
  if (type !== 0 && type !== 1 && type !== 2) throw new SysError(EINVAL);
  if (cmd === F_GETLK || cmd === F_OFD_GETLK) {
    writeMem(p.mem, addr, new Struct(2).u16(0, 2 /* F_UNLCK */).bytes);
    return 0;
  }
  if (type === 0 && !f.readable) throw new SysError(EBADF);
  if (type === 1 && !f.writable) throw new SysError(EBADF);
  return 0;
}

function sysFcntl(p: Process, a: SyscallArgs): number {
  const fd = a.int(0), cmd = a.int(1);
  const e = p.fds.get(fd);
  if (!e) throw new SysError(EBADF);
  const f = e.file;
  const isPath = (f.flags & O_PATH) !== 0;
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const min = a.num(2);
      if (min < 0 || min >= p.fds.limit) throw new SysError(EINVAL);
      return p.fds.alloc(f, cmd === F_DUPFD_CLOEXEC, min);
    }
    case F_GETFD:
      return e.cloexec ? 1 : 0;
    case F_SETFD:
      e.cloexec = (a.int(2) & 1) !== 0;
      return 0;
    case F_GETFL:
      return f.flags;
    case F_SETFL: {
      if (isPath) throw new SysError(EBADF);
      const CHANGEABLE = O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK;
      f.flags = (f.flags & ~CHANGEABLE) | (a.int(2) & CHANGEABLE);
      return 0;
    }
    case F_GETLK:
    case F_OFD_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return recordLock(p, f, cmd, a.num(2), FLOCK_SIZE);
    case F_SETOWN:
    case F_SETSIG:
    case F_NOTIFY:
      return 0;
    case F_GETOWN:
    case F_GETSIG:
      return 0;
    case F_SETOWN_EX:
      readMem(p.mem, a.num(2), 8);
      return 0;
    case F_GETOWN_EX:
      writeMem(p.mem, a.num(2), new Uint8Array(8));
      return 0;
    case F_SETLEASE:
      if (f.kind !== 'reg') throw new SysError(EINVAL);
      return 0;
    case F_GETLEASE:
      return 2; // F_UNLCK
    case F_GETPIPE_SZ:
      if (f.kind !== 'pipe') throw new SysError(EBADF);
      return f.pipe!.capacity;
    case F_SETPIPE_SZ: {
      // pipe_set_size: at least a page, rounded up to a power of two of pages; beyond
      // pipe-max-size (1 MiB) only with CAP_SYS_RESOURCE; never below what is buffered
      if (f.kind !== 'pipe') throw new SysError(EBADF);
      const want = a.u32(2);
      if (want === 0 || want > 0x80000000) throw new SysError(EINVAL);
      let slots = 1;
      while (slots * 4096 < want) slots *= 2;
      const pp = f.pipe!;
      if (slots > pp.slots && slots * 4096 > 1048576 && !capable(p, CAP_SYS_RESOURCE)) throw new SysError(EPERM);
      if (slots < pp.occupancy) throw new SysError(16 /* EBUSY */);
      pp.slots = slots;
      return slots * 4096;
    }
    case F_ADD_SEALS:
    case F_GET_SEALS:
      throw new SysError(EINVAL);
  }
  throw new SysError(EINVAL);
}

const LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8, LOCK_MAND = 32;

/**
 * flock(2) in the kernel-wide table (locks.ts), in Linux's order of checks:
 * LOCK_MAND is ignored (Linux >= 5.15), an unknown operation is EINVAL, then
 * the descriptor (O_PATH ones included) is looked up. A conflicting lock
 * makes LOCK_NB fail with EWOULDBLOCK and otherwise waits, until a signal
 * interrupts the wait (EINTR).
 */
function sysFlock(p: Process, a: SyscallArgs): number {
  const cmd = a.u32(1);
  if (cmd & LOCK_MAND) return 0;
  const op = cmd & ~LOCK_NB;
  if (op !== LOCK_SH && op !== LOCK_EX && op !== LOCK_UN) throw new SysError(EINVAL);
  const f = p.fds.file(a.int(0));
  if (f.flags & O_PATH) throw new SysError(EBADF);
  const table = p.kernel.flocks;
  if (op === LOCK_UN) {
    table.unlock(f);
    return 0;
  }
  const st = fileStat(p, f);
  const inode = inodeKey(st.dev, st.ino);
  for (;;) {
    if (table.tryLock(inode, f, op === LOCK_EX ? 'exclusive' : 'shared')) {
      f.flocks = table;
      return 0;
    }
    if (cmd & LOCK_NB) throw new SysError(EWOULDBLOCK);
    // the holder is another open file of this process, or of another emulated process later: only a signal ends the wait
    const w = p.waitForSignal(null);
    if (w === 'signal') {
      p.interrupted = 'sys';
      throw new SysError(EINTR);
    }
    p.warnOnce(`entrystub: flock on fd ${a.int(0)} waits for a lock this process holds through another descriptor, and nothing can release it; returning EDEADLK`);
    throw new SysError(EDEADLK);
  }
}

export function registerFcntl(t: HandlerTable): void {
  t.on(22, (p, a) => doPipe2(p, a.num(0), 0));
  t.on(32, sysDup);
  t.on(33, (p, a) => doDup3(p, a.int(0), a.int(1), 0, true));
  t.on(72, sysFcntl, 'no record locks (F_SETLK, F_OFD_SETLK succeed, F_GETLK says unlocked), no SIGIO owner, leases, dnotify or seals');
  t.on(73, sysFlock, "kernel-wide among emulated processes; the host's lock is not taken (Node has no flock), so host processes do not see it");
  t.on(292, (p, a) => doDup3(p, a.int(0), a.int(1), a.int(2), false));
  t.on(293, (p, a) => doPipe2(p, a.num(0), a.int(1)), 'O_DIRECT (packet mode) is ignored');
}
