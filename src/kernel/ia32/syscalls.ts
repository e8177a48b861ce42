/**
 * The ia32 system calls of a 32-bit program: `syscall32(p, nr, regs)` takes
 * the i386 number and the six argument registers (ebx, ecx, edx, esi, edi,
 * ebp) and runs the x86-64 implementation of the same call, as Linux's
 * ia32_sys_call_table does: with the arguments widened by their C types
 * (ia32/table.ts), or through a conversion here where a structure's layout
 * differs for 32-bit programs (struct stat64, compat_iovec, the old mmap's
 * argument block, 32-bit rlimits, user_desc for the TLS descriptors, 64-bit
 * offsets split across two registers).
 */
import { GDT_ENTRY_TLS_ENTRIES, GDT_ENTRY_TLS_MIN, LIMIT_IN_PAGES, READ_EXEC_ONLY, SEG_32BIT, SEG_NOT_PRESENT, USEABLE, type TlsDesc } from '../../cpu/segment.js';
import type { CPU } from '../../cpu/cpu.js';
import { CLONE, cloneArgsOf } from '../fork.js';
import { clone, doClone3, doWaitid } from '../sys/tasks.js';
import { doFutex } from '../sys/futex.js';
import { recordLock } from '../sys/fcntl.js';
import { compatMsg } from '../sys/net.js';
import { doExecve } from '../sys/exec.js';
import { CLOCK_MONOTONIC, doClockNanosleep, sleepNs } from '../sys/time.js';
import { loadUserSeg } from './signal.js';
import { EINVAL, ENOSYS, ESRCH, SysError } from '../errno.js';
import { O_LARGEFILE } from '../fdtable.js';
import type { Process } from '../process.js';
import { SYSCALL_TABLE, syscallVia } from '../syscalls.js';
import { AT_FDCWD, AT_EMPTY_PATH, AT_NO_AUTOMOUNT, AT_SYMLINK_NOFOLLOW, fileStat, pathStat, type KStat } from '../sys/files.js';
import { doReadv, doWritev, statAt } from '../sys/fs.js';
import { sysinfoValues } from '../sys/proc.js';
import type { Handler } from '../sys/table.js';
import { SyscallArgs, readPath, readView, realNs, splitNs, write32, writeMem } from '../sys/util.js';
import { clockNs, clockResNs } from '../sys/time.js';
import { syscallNumber } from '../sysnames.js';
import { IA32_CALLS, NR32_IPC, NR32_SOCKETCALL, ia32Name } from './table.js';
import { IPC_COMPAT, ipc32 } from './ipc.js';
import { SIGNAL_COMPAT } from './signal.js';
import { NR_SYSCALLS } from '../../guest/generated/abi.js';

const TWO32 = 4294967296;
/** RLIM_INFINITY as a 32-bit program sees it (compat_ulong_t all ones). */
const COMPAT_RLIM_INFINITY = 0xffffffff;

function nr64(name: string): number {
  const n = syscallNumber(name);
  if (n === undefined) throw new Error(`ia32 table: no x86-64 syscall ${name}`);
  return n;
}

/** The x86-64 handler of a call, by name. */
function h64(name: string): Handler | undefined {
  return SYSCALL_TABLE[nr64(name)];
}

/** Arguments for an x86-64 handler from numbers (each in [-2^63, 2^64)). */
function args(...v: number[]): SyscallArgs {
  const a = new SyscallArgs();
  v.forEach((x, k) => {
    a.lo[k] = x % TWO32 | 0;
    a.hi[k] = Math.floor(x / TWO32) | 0;
  });
  return a;
}

/** struct stat64 of i386 (96 bytes; the inode twice, truncated then whole). */
export function packStat64(st: KStat): Uint8Array {
  const b = new Uint8Array(96);
  const dv = new DataView(b.buffer);
  const u64 = (o: number, v: bigint) => dv.setBigUint64(o, BigInt.asUintN(64, v), true);
  const u32 = (o: number, v: bigint) => dv.setUint32(o, Number(BigInt.asUintN(32, v)), true);
  u64(0, st.dev);
  u32(12, st.ino);
  u32(16, st.mode);
  u32(20, st.nlink);
  u32(24, st.uid);
  u32(28, st.gid);
  u64(32, st.rdev);
  u64(44, st.size);
  u32(52, st.blksize);
  u64(56, st.blocks);
  [st.atimeNs, st.mtimeNs, st.ctimeNs].forEach((t, k) => {
    let s = t / 1000000000n, n = t % 1000000000n;
    if (n < 0n) {
      n += 1000000000n;
      s -= 1n;
    }
    u32(64 + k * 8, s);
    u32(68 + k * 8, n);
  });
  u64(88, st.ino);
  return b;
}

/** The conversions, by i386 name: each reads the 32-bit arguments itself (a.u32/a.int) and returns the result. */
const COMPAT: Record<string, Handler> = {
  ...SIGNAL_COMPAT,
  ...IPC_COMPAT,
  /** old_mmap: one pointer to six u32 (addr, len, prot, flags, fd, offset in bytes). */
  mmap: (p, a) => {
    const v = readView(p.mem, a.u32(0), 24);
    const w = (k: number) => v.getUint32(k * 4, true);
    if (w(5) % 4096 !== 0) throw new SysError(EINVAL);
    return callAs(p, 'mmap', w(0), w(1), w(2), w(3), v.getInt32(16, true), w(5));
  },
  /** mmap2: the offset in 4096-byte units. */
  mmap2: (p, a) => callAs(p, 'mmap', a.u32(0), a.u32(1), a.u32(2), a.u32(3), a.int(4), a.u32(5) * 4096),
  _llseek: (p, a) => {
    const r = callAs(p, 'lseek', a.int(0), i64(a.u32(2), a.u32(1)), a.u32(4)); // offset_high, offset_low: a loff_t
    if (r < 0) return r;
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(r), true);
    writeMem(p.mem, a.u32(3), b);
    return 0;
  },
  readv: (p, a) => doReadv(p, a.int(0), a.u32(1), a.int(2), null, true),
  writev: (p, a) => doWritev(p, a.int(0), a.u32(1), a.int(2), null, true),
  /** pread64/pwrite64: the 64-bit offset in two registers, low first. */
  pread64: (p, a) => callAs(p, 'pread64', a.int(0), a.u32(1), a.u32(2), i64(a.u32(3), a.u32(4))),
  pwrite64: (p, a) => callAs(p, 'pwrite64', a.int(0), a.u32(1), a.u32(2), i64(a.u32(3), a.u32(4))),
  /**
   * open, openat: compat_sys_open(at) take the flags as given, where the
   * x86-64 calls force O_LARGEFILE: a 32-bit program's file is large only if
   * it asked (glibc's open64 does, open does not), which ftruncate then checks.
   */
  open: (p, a) => flagsAsGiven(p, a.int(1), callAs(p, 'open', a.u32(0), a.int(1), a.u32(2))),
  openat: (p, a) => flagsAsGiven(p, a.int(2), callAs(p, 'openat', a.int(0), a.u32(1), a.int(2), a.u32(3))),
  truncate64: (p, a) => callAs(p, 'truncate', a.u32(0), i64(a.u32(1), a.u32(2))),
  ftruncate64: (p, a) => callAs(p, 'ftruncate', a.int(0), i64(a.u32(1), a.u32(2))),
  /** ugetrlimit: struct rlimit of two compat_ulong_t, RLIM_INFINITY and anything above clamped to ~0. */
  ugetrlimit: (p, a) => {
    const res = a.u32(0);
    if (res >= 16) throw new SysError(EINVAL);
    const b = new Uint8Array(8);
    const dv = new DataView(b.buffer);
    p.rlimits[res].forEach((v, k) => dv.setUint32(k * 4, v >= BigInt(COMPAT_RLIM_INFINITY) ? COMPAT_RLIM_INFINITY : Number(v), true));
    writeMem(p.mem, a.u32(1), b);
    return 0;
  },
  stat64: (p, a) => {
    writeMem(p.mem, a.u32(1), packStat64(pathStat(p, AT_FDCWD, readPath(p.mem, a.u32(0)), true)));
    return 0;
  },
  lstat64: (p, a) => {
    writeMem(p.mem, a.u32(1), packStat64(pathStat(p, AT_FDCWD, readPath(p.mem, a.u32(0)), false)));
    return 0;
  },
  fstat64: (p, a) => {
    writeMem(p.mem, a.u32(1), packStat64(fileStat(p, p.fds.file(a.int(0)))));
    return 0;
  },
  fstatat64: (p, a) => {
    const flags = a.int(3);
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) throw new SysError(EINVAL);
    writeMem(p.mem, a.u32(2), packStat64(statAt(p, a.int(0), a.u32(1), flags)));
    return 0;
  },
  /**
   * fcntl64: the commands whose argument is an int or a pointer of the same
   * layout run as fcntl; the record-lock ones take i386's struct flock (16
   * bytes: F_GETLK, F_SETLK, F_SETLKW) or struct flock64 (24 bytes,
   * packed: F_GETLK64 12, F_SETLK64 13, F_SETLKW64 14, and the OFD ones).
   */
  fcntl64: (p, a) => {
    const cmd = a.int(1);
    const lock = cmd >= 5 && cmd <= 7 ? cmd : cmd >= 12 && cmd <= 14 ? cmd - 7 : cmd >= 36 && cmd <= 38 ? cmd : -1;
    if (lock >= 0) return recordLock(p, p.fds.file(a.int(0)), lock, a.u32(2), cmd >= 5 && cmd <= 7 ? 16 : 24);
    return callAs(p, 'fcntl', a.int(0), cmd, a.u32(2));
  },
  /** set_robust_list: the 32-bit robust_list_head is 12 bytes. */
  set_robust_list: (p, a) => {
    if (a.u32(1) !== 12) throw new SysError(EINVAL);
    p.task.robustList = a.u32(0);
    p.task.robustListLen = 12;
    return 0;
  },
  /**
   * sysinfo: struct compat_sysinfo (64 bytes, 32-bit fields); figures that do
   * not fit in 32 bits are scaled by a larger mem_unit, as compat_sys_sysinfo does.
   */
  sysinfo: (p, a) => {
    const v = sysinfoValues();
    const fields = [...v.ram, v.totalhigh, v.freehigh];
    let shift = 0, unit = v.memUnit;
    if (fields.some((x) => x >= TWO32)) while (unit < 4096) {
      unit *= 2;
      shift++;
    }
    const sc = (x: number) => Math.floor(x / 2 ** shift) >>> 0;
    const b = new Uint8Array(64);
    const dv = new DataView(b.buffer);
    dv.setInt32(0, v.uptime, true);
    v.loads.forEach((l, k) => dv.setUint32(4 + k * 4, l >>> 0, true));
    v.ram.forEach((x, k) => dv.setUint32(16 + k * 4, sc(x), true));
    dv.setUint16(40, v.procs, true);
    dv.setUint32(44, sc(v.totalhigh), true);
    dv.setUint32(48, sc(v.freehigh), true);
    dv.setUint32(52, unit, true);
    writeMem(p.mem, a.u32(0), b);
    return 0;
  },
  /** time: old_time_t, 32 bits (compat_sys_time): the seconds, stored where asked and returned. */
  time: (p, a) => {
    const s = Number(realNs() / 1000000000n) | 0;
    if (a.u32(0) !== 0) write32(p.mem, a.u32(0), s);
    return s;
  },
  /** gettimeofday: struct old_timeval32 (two 32-bit fields); the timezone is zeros, as on x86-64. */
  gettimeofday: (p, a) => {
    if (a.u32(0) !== 0) {
      const [s, ns] = splitNs(realNs());
      writeMem(p.mem, a.u32(0), pair32(Number(s), Number(ns / 1000n)));
    }
    if (a.u32(1) !== 0) writeMem(p.mem, a.u32(1), new Uint8Array(8));
    return 0;
  },
  /** clock_gettime and clock_getres with struct old_timespec32 (the 64-bit ones are clock_gettime64, clock_getres_time64). */
  clock_gettime: (p, a) => {
    writeMem(p.mem, a.u32(1), oldTimespec32(clockNs(p, a.int(0))));
    return 0;
  },
  clock_getres: (p, a) => {
    const res = clockResNs(p, a.int(0));
    if (a.u32(1) !== 0) writeMem(p.mem, a.u32(1), oldTimespec32(res));
    return 0;
  },
  /** nanosleep and clock_nanosleep with struct old_timespec32 (32-bit seconds and nanoseconds). */
  nanosleep: (p, a) => doClockNanosleep(p, CLOCK_MONOTONIC, 0, () => readTimespec32(p, a.u32(0)), remTimespec32(p, a.u32(1))),
  clock_nanosleep: (p, a) => doClockNanosleep(p, a.int(0), a.int(1), () => readTimespec32(p, a.u32(2)), remTimespec32(p, a.u32(3))),
  set_thread_area: (p, a) => setThreadArea(p, a.u32(0)),
  ...compatMsg,
  clone: clone32,
  clone3: (p, a) => doClone3(p, a, (tls) => childTls(p, tls)),
  futex: (p, a) => doFutex(p, a, true),
  waitid: (p, a) => doWaitid(p, a, true),
  execve: (p, a) => doExecve(p, AT_FDCWD, a.u32(0), a.u32(1), a.u32(2), 0, true),
  execveat: (p, a) => doExecve(p, a.int(0), a.u32(1), a.u32(2), a.u32(3), a.int(4), true),
  /** wait4 and waitpid: struct compat_rusage is 72 bytes (what wait4 reports of it is zero), written only for a child reaped. */
  wait4: (p, a) => {
    const r = callAs(p, 'wait4', a.int(0), a.u32(1), a.int(2), 0);
    if (r > 0 && a.u32(3) !== 0) writeMem(p.mem, a.u32(3), new Uint8Array(72));
    return r;
  },
  waitpid: (p, a) => callAs(p, 'wait4', a.int(0), a.u32(1), a.int(2), 0),
  get_thread_area: (p, a) => getThreadArea(p, a.u32(0)),
};

/** Two 32-bit fields (old_timeval32, old_timespec32): the seconds wrap in 2038, as a 32-bit kernel's do. */
function pair32(a: number, b: number): Uint8Array {
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setInt32(0, a | 0, true);
  v.setInt32(4, b | 0, true);
  return out;
}

/** struct old_timespec32 of ns. */
function oldTimespec32(ns: bigint): Uint8Array {
  const [s, n] = splitNs(ns);
  return pair32(Number(s), Number(n));
}

/** A sleep's struct old_timespec32, in ns. */
function readTimespec32(p: Process, addr: number): bigint {
  const v = readView(p.mem, addr, 8);
  return sleepNs(BigInt(v.getInt32(0, true)), BigInt(v.getInt32(4, true)));
}

/** Where an interrupted sleep's time left goes, as an old_timespec32 (null: nowhere). */
function remTimespec32(p: Process, addr: number): ((left: bigint) => void) | null {
  if (addr === 0) return null;
  return (left) => writeMem(p.mem, addr, oldTimespec32(left));
}

/** A 64-bit value from its two 32-bit halves, signed (loff_t). */
function i64(lo: number, hi: number): number {
  return (hi | 0) * TWO32 + lo;
}

/** Run the x86-64 call `name`'s handler with these arguments (its errors thrown: the caller's dispatch maps them). */
function callAs(p: Process, name: string, ...v: number[]): number {
  const h = h64(name);
  if (h === undefined) throw new SysError(ENOSYS);
  return h(p, args(...v));
}

/** The file a compat open made keeps the O_LARGEFILE its flags had. */
function flagsAsGiven(p: Process, flags: number, fd: number): number {
  if (!(flags & O_LARGEFILE)) p.fds.file(fd).flags &= ~O_LARGEFILE;
  return fd;
}

const USER_DESC_SIZE = 16;

/**
 * A struct user_desc as do_set_thread_area reads it: the entry number and
 * the descriptor it asks for (null: "empty" or all zero, which clears the
 * entry); EINVAL for what tls_desc_okay refuses.
 */
function readUserDesc(p: Process, addr: number): { entry: number; desc: TlsDesc | null } {
  const v = readView(p.mem, addr, USER_DESC_SIZE);
  const entry = v.getInt32(0, true);
  const base = v.getUint32(4, true), limit = v.getUint32(8, true), flags = v.getUint32(12, true);
  // LDT_empty / LDT_zero: a descriptor with nothing in it clears the entry
  const contents = (flags >> 1) & 3;
  const empty = base === 0 && limit === 0 && contents === 0 && (flags & READ_EXEC_ONLY) !== 0 && (flags & SEG_32BIT) === 0 && (flags & LIMIT_IN_PAGES) === 0 && (flags & SEG_NOT_PRESENT) !== 0 && (flags & USEABLE) === 0;
  const zero = base === 0 && limit === 0 && flags === 0;
  // contents 3 (a conforming code segment) is refused, as tls_desc_okay does
  if (!empty && !zero && contents === 3) throw new SysError(EINVAL);
  return { entry, desc: empty || zero ? null : { base, limit: flags & LIMIT_IN_PAGES ? limit * 4096 + 4095 : limit, flags } };
}

/** set_tls_desc: TLS entry `entry` of cpu's GDT becomes desc, and a data segment register holding its selector is loaded again. */
function installTls(cpu: CPU, entry: number, desc: TlsDesc | null): void {
  const k = entry - GDT_ENTRY_TLS_MIN;
  if (k < 0 || k >= GDT_ENTRY_TLS_ENTRIES) throw new SysError(EINVAL);
  cpu.gdt.tls[k] = desc;
  const sel = (entry << 3) | 3;
  // in the guest kernel (CPL 0, after SWAPGS) the user's GS base is the one in MSR_KERNEL_GS_BASE
  for (const sreg of [0, 3, 4, 5]) if (cpu.seg[sreg] === sel) loadUserSeg(cpu, sreg, sel, cpu.cpl === 0);
}

/**
 * set_thread_area(struct user_desc *): fill one of the thread's three TLS
 * descriptors (entry_number -1: the first empty one, written back), and
 * reload any data segment register that holds its selector, as Linux's
 * do_set_thread_area does.
 */
function setThreadArea(p: Process, addr: number): number {
  let { entry, desc } = readUserDesc(p, addr);
  if (entry === -1) {
    const free = p.cpu.gdt.tls.findIndex((d) => d === null);
    if (free < 0) throw new SysError(ESRCH);
    entry = GDT_ENTRY_TLS_MIN + free;
    write32(p.mem, addr, entry);
  }
  installTls(p.cpu, entry, desc);
  return 0;
}

/**
 * clone of an i386 program: its argument order (CONFIG_CLONE_BACKWARDS:
 * flags, stack, parent_tid, tls, child_tid), and CLONE_SETTLS's tls a
 * struct user_desc for the child's GDT (do_set_thread_area with no
 * allocation: the entry must be named).
 */
function clone32(p: Process, a: SyscallArgs): number {
  const flags = a.u32(0), tls = a.u32(3);
  const args = cloneArgsOf(flags, a.u32(1), a.u32(2), a.u32(4), tls);
  if (flags & CLONE.SETTLS) args.setTls = childTls(p, tls);
  return clone(p, args);
}

/** How the child of an i386 clone or clone3 gets its TLS: the user_desc at tls, read now, into its GDT when it is made. */
function childTls(p: Process, tls: number): (cpu: CPU) => void {
  const { entry, desc } = readUserDesc(p, tls);
  if (entry - GDT_ENTRY_TLS_MIN < 0 || entry - GDT_ENTRY_TLS_MIN >= GDT_ENTRY_TLS_ENTRIES) throw new SysError(EINVAL);
  return (cpu) => installTls(cpu, entry, desc);
}

function getThreadArea(p: Process, addr: number): number {
  const entry = readView(p.mem, addr, 4).getInt32(0, true);
  const k = entry - GDT_ENTRY_TLS_MIN;
  if (k < 0 || k >= GDT_ENTRY_TLS_ENTRIES) throw new SysError(EINVAL);
  const d = p.cpu.gdt.tls[k];
  const b = new Uint8Array(USER_DESC_SIZE);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, entry, true);
  if (d === null) dv.setUint32(12, READ_EXEC_ONLY | SEG_NOT_PRESENT, true);
  else {
    dv.setUint32(4, d.base, true);
    dv.setUint32(8, d.flags & LIMIT_IN_PAGES ? (d.limit - 4095) / 4096 : d.limit, true);
    dv.setUint32(12, d.flags, true);
  }
  writeMem(p.mem, addr, b);
  return 0;
}

/**
 * socketcall(call, args): the one entry of the socket calls before i386 had
 * direct ones (still what glibc and busybox use there): the call's
 * arguments, 32-bit words read from args, run as the direct call (SYS_SEND
 * and SYS_RECV as sendto and recvfrom without an address, SYS_ACCEPT as
 * accept4 without flags). [i386 number, argument count] by call number.
 */
const SOCKETCALLS: [number, number][] = [
  [0, 0], [359, 3], [361, 3], [362, 3], [363, 2], [364, 3], [367, 3], [368, 3], [360, 4], [369, 4], [370, 4],
  [369, 6], [370, 6], [373, 2], [366, 5], [365, 5], [371, 3], [372, 3], [364, 4], [337, 5], [345, 4],
];

function socketcall(p: Process, call: number, args: number): number {
  if (call < 1 || call >= SOCKETCALLS.length) return -EINVAL;
  const [nr, n] = SOCKETCALLS[call];
  let v: DataView;
  try {
    v = readView(p.mem, args, n * 4);
  } catch (e) {
    if (e instanceof SysError) return -e.errno;
    throw e;
  }
  // the words not given are zero: accept's flags, send's and recv's address and its length
  const regs = [0, 0, 0, 0, 0, 0];
  for (let k = 0; k < n; k++) regs[k] = v.getInt32(k * 4, true);
  return syscall32(p, nr, regs);
}

/** Handlers by i386 number, built once from the table. */
const HANDLERS = new Map<number, { nr: number; h: Handler | undefined; widen: string | null }>();
for (const [nr, c] of IA32_CALLS) {
  if (c.to === 'dispatch') continue;
  if (c.to.startsWith('compat:')) {
    const h = COMPAT[c.name];
    if (h === undefined) throw new Error(`ia32 table: ${c.name} has no conversion`);
    HANDLERS.set(nr, { nr: nr64(c.to.slice(7)), h, widen: null });
  } else {
    const n = nr64(c.to);
    HANDLERS.set(nr, { nr: n, h: SYSCALL_TABLE[n], widen: c.args });
  }
}

/** True if i386 syscall nr has an implementation. */
export function isImplemented32(nr: number): boolean {
  if (nr === NR32_SOCKETCALL || nr === NR32_IPC) return true;
  const e = HANDLERS.get(nr);
  return e !== undefined && e.h !== undefined;
}

/**
 * Perform i386 syscall nr for p with the six 32-bit argument registers
 * (ebx, ecx, edx, esi, edi, ebp). Returns the result as Linux's ia32 entry
 * leaves it in EAX (negative = -errno).
 */
export function syscall32(p: Process, nr: number, regs: ArrayLike<number>): number {
  if (nr === NR32_SOCKETCALL) return socketcall(p, regs[0] >>> 0, regs[1] >>> 0);
  if (nr === NR32_IPC) return ipc32(p, regs, (name, h, raw) => syscallVia(p, nr64(name), h, raw));
  const e = HANDLERS.get(nr);
  const raw = new SyscallArgs();
  for (let k = 0; k < 6; k++) raw.lo[k] = regs[k] | 0;
  if (e === undefined) {
    // numbers past the last syscall (the same in both tables since the unified numbering at 424) are ENOSYS in Linux too
    if (nr < NR_SYSCALLS) p.warnOnce(`entrystub: i386 syscall ${nr} (${ia32Name(nr)}) is not implemented: ENOSYS`);
    return -ENOSYS;
  }
  if (e.widen === null) return syscallVia(p, e.nr, e.h, raw); // the conversion reads the 32-bit values
  const a = new SyscallArgs();
  for (let k = 0; k < 6; k++) {
    a.lo[k] = raw.lo[k];
    a.hi[k] = e.widen[k] === 'i' ? raw.lo[k] >> 31 : 0;
  }
  return syscallVia(p, e.nr, e.h, a);
}
