/**
 * Process syscalls: ids and capabilities, uname, limits, arch_prctl, prctl,
 * futex, getrandom, resource usage. Making, ending and waiting for
 * processes is in tasks.ts, execve in exec.ts, scheduling in sched.ts.
 */
import { hostOs as os, randomFillSync } from '../hostlog.js';
import {
  ECHILD, EINVAL, EPERM, ESRCH, SysError,
} from '../errno.js';
import { hostCurrentCpu, hostMeminfo, hostThreadCount } from '../host.js';
import { TASK_SIZE } from '../mm.js';
import { CAP_SETGID, CAP_SETPCAP, CAP_SETUID, CAP_SYS_RESOURCE, capable, fixCapsAfterSetuid } from '../cred.js';
import type { Process } from '../process.js';
import type { HandlerTable } from './table.js';
import {
  Struct, type SyscallArgs, monoNs, read32, readCStr, readMem, readView, write32, write64, writeMem,
} from './util.js';

const RLIMIT_STACK = 3, RLIMIT_NOFILE = 7;
const NR_OPEN = 1048576n;

// ---------------------------------------------------------------- ids

/** CAP_SETUID, CAP_SETGID ... in the effective set (see cred.ts: not simply uid 0). */
const canSetuid = (p: Process) => capable(p, CAP_SETUID);
const canSetgid = (p: Process) => capable(p, CAP_SETGID);

function sysSetresuid(p: Process, r: number, e: number, s: number): number {
  const ids = [p.uid, p.euid, p.suid];
  if (!canSetuid(p)) for (const x of [r, e, s]) if (x !== -1 && !ids.includes(x >>> 0)) throw new SysError(EPERM);
  if (r !== -1) p.uid = r >>> 0;
  if (e !== -1) p.euid = e >>> 0;
  if (s !== -1) p.suid = s >>> 0;
  return 0;
}

function sysSetresgid(p: Process, r: number, e: number, s: number): number {
  const ids = [p.gid, p.egid, p.sgid];
  if (!canSetgid(p)) for (const x of [r, e, s]) if (x !== -1 && !ids.includes(x >>> 0)) throw new SysError(EPERM);
  if (r !== -1) p.gid = r >>> 0;
  if (e !== -1) p.egid = e >>> 0;
  if (s !== -1) p.sgid = s >>> 0;
  return 0;
}

function sysSetuid(p: Process, a: SyscallArgs): number {
  const u = a.u32(0);
  if (a.int(0) === -1) throw new SysError(EINVAL);
  if (canSetuid(p)) p.uid = p.euid = p.suid = u;
  else if (u === p.uid || u === p.suid) p.euid = u;
  else throw new SysError(EPERM);
  return 0;
}

function sysSetgid(p: Process, a: SyscallArgs): number {
  const g = a.u32(0);
  if (a.int(0) === -1) throw new SysError(EINVAL);
  if (canSetgid(p)) p.gid = p.egid = p.sgid = g;
  else if (g === p.gid || g === p.sgid) p.egid = g;
  else throw new SysError(EPERM);
  return 0;
}

function sysSetreuid(p: Process, a: SyscallArgs): number {
  const r = a.int(0), e = a.int(1);
  if (!canSetuid(p)) {
    if (r !== -1 && r >>> 0 !== p.uid && r >>> 0 !== p.euid) throw new SysError(EPERM);
    if (e !== -1 && ![p.uid, p.euid, p.suid].includes(e >>> 0)) throw new SysError(EPERM);
  }
  const oldRuid = p.uid;
  if (r !== -1) p.uid = r >>> 0;
  if (e !== -1) p.euid = e >>> 0;
  if (r !== -1 || (e !== -1 && e >>> 0 !== oldRuid)) p.suid = p.euid;
  return 0;
}

function sysSetregid(p: Process, a: SyscallArgs): number {
  const r = a.int(0), e = a.int(1);
  if (!canSetgid(p)) {
    if (r !== -1 && r >>> 0 !== p.gid && r >>> 0 !== p.egid) throw new SysError(EPERM);
    if (e !== -1 && ![p.gid, p.egid, p.sgid].includes(e >>> 0)) throw new SysError(EPERM);
  }
  const oldRgid = p.gid;
  if (r !== -1) p.gid = r >>> 0;
  if (e !== -1) p.egid = e >>> 0;
  if (r !== -1 || (e !== -1 && e >>> 0 !== oldRgid)) p.sgid = p.egid;
  return 0;
}

/** A set*uid handler, with the capability sets moved as Linux moves them when the uids change. */
function uidChange(h: (p: Process, a: SyscallArgs) => number): (p: Process, a: SyscallArgs) => number {
  return (p, a) => {
    const old = { uid: p.uid, euid: p.euid, suid: p.suid };
    const r = h(p, a);
    fixCapsAfterSetuid(p, old, (p as Process & { keepcaps?: number }).keepcaps === 1);
    return r;
  };
}

function writeIds(p: Process, addrs: number[], vals: number[]): number {
  addrs.forEach((ad, k) => write32(p.mem, ad, vals[k]));
  return 0;
}

function sysGetgroups(p: Process, a: SyscallArgs): number {
  const size = a.int(0);
  if (size < 0) throw new SysError(EINVAL);
  const n = p.groups.length;
  if (size === 0) return n;
  if (size < n) throw new SysError(EINVAL);
  const s = new Struct(n * 4);
  p.groups.forEach((g, k) => s.u32(k * 4, g));
  writeMem(p.mem, a.num(1), s.bytes);
  return n;
}

function sysSetgroups(p: Process, a: SyscallArgs): number {
  const size = a.int(0);
  if (size < 0 || size > 65536) throw new SysError(EINVAL);
  const v = readView(p.mem, a.num(1), size * 4);
  if (!canSetgid(p)) throw new SysError(EPERM);
  p.groups = [];
  for (let k = 0; k < size; k++) p.groups.push(v.getUint32(k * 4, true));
  return 0;
}

function self(p: Process, pid: number): boolean {
  return pid === 0 || pid === p.pid;
}

// ---------------------------------------------------------------- uname, limits

function sysUname(p: Process, a: SyscallArgs): number {
  const s = new Struct(65 * 6);
  const fields = ['Linux', os.hostname(), os.release(), os.version(), 'x86_64', '(none)'];
  fields.forEach((f, k) => s.str(k * 65, f, 64));
  writeMem(p.mem, a.num(0), s.bytes);
  return 0;
}

function packRlimit(l: [bigint, bigint]): Uint8Array {
  return new Struct(16).u64(0, l[0]).u64(8, l[1]).bytes;
}

function setRlimit(p: Process, res: number, soft: bigint, hard: bigint): void {
  if (soft > hard) throw new SysError(EINVAL);
  const cur = p.rlimits[res];
  if (hard > cur[1] && !capable(p, CAP_SYS_RESOURCE)) throw new SysError(EPERM);
  if (res === RLIMIT_NOFILE && hard > NR_OPEN) throw new SysError(EPERM);
  p.rlimits[res] = [soft, hard];
  if (res === RLIMIT_NOFILE) p.fds.limit = Number(soft > NR_OPEN ? NR_OPEN : soft);
  if (res === RLIMIT_STACK) p.mm.setStackLimit();
}

function sysPrlimit64(p: Process, a: SyscallArgs): number {
  const pid = a.int(0), res = a.u32(1), nw = a.num(2), old = a.num(3);
  if (res >= 16) throw new SysError(EINVAL);
  if (!self(p, pid)) throw new SysError(ESRCH);
  let next: [bigint, bigint] | null = null;
  if (nw !== 0) {
    const v = readView(p.mem, nw, 16);
    next = [v.getBigUint64(0, true), v.getBigUint64(8, true)];
    if (next[0] > next[1]) throw new SysError(EINVAL);
  }
  if (old !== 0) writeMem(p.mem, old, packRlimit(p.rlimits[res]));
  if (next) setRlimit(p, res, next[0], next[1]);
  return 0;
}

// ---------------------------------------------------------------- arch_prctl, prctl

const ARCH_SET_GS = 0x1001, ARCH_SET_FS = 0x1002, ARCH_GET_FS = 0x1003, ARCH_GET_GS = 0x1004;
const ARCH_GET_CPUID = 0x1011, ARCH_SET_CPUID = 0x1012;

function sysArchPrctl(p: Process, a: SyscallArgs): number {
  const code = a.int(0), addr = a.num(1);
  switch (code) {
    case ARCH_SET_FS:
    case ARCH_SET_GS:
      if (addr < 0 || addr >= TASK_SIZE) throw new SysError(EPERM);
      if (code === ARCH_SET_FS) p.cpu.fsBase = addr;
      else p.cpu.gsBase = addr;
      return 0;
    case ARCH_GET_FS:
      write64(p.mem, addr, p.cpu.fsBase);
      return 0;
    case ARCH_GET_GS:
      write64(p.mem, addr, p.cpu.gsBase);
      return 0;
    case ARCH_GET_CPUID:
      return 1;
    case ARCH_SET_CPUID:
      throw new SysError(19 /* ENODEV: no CPUID faulting */);
  }
  throw new SysError(EINVAL);
}

const PR_SET_PDEATHSIG = 1, PR_GET_PDEATHSIG = 2, PR_GET_DUMPABLE = 3, PR_SET_DUMPABLE = 4, PR_GET_KEEPCAPS = 7, PR_SET_KEEPCAPS = 8;
const PR_GET_TIMING = 13, PR_SET_NAME = 15, PR_GET_NAME = 16, PR_GET_SECCOMP = 21, PR_SET_SECCOMP = 22, PR_CAPBSET_READ = 23;
const PR_GET_SECUREBITS = 27, PR_SET_TIMERSLACK = 29, PR_GET_TIMERSLACK = 30, PR_MCE_KILL_GET = 34, PR_SET_CHILD_SUBREAPER = 36;
const PR_GET_CHILD_SUBREAPER = 37, PR_SET_NO_NEW_PRIVS = 38, PR_GET_NO_NEW_PRIVS = 39, PR_GET_THP_DISABLE = 42, PR_SET_THP_DISABLE = 41;
const PR_GET_TID_ADDRESS = 40, PR_CAP_AMBIENT = 47;

function sysPrctl(p: Process, a: SyscallArgs): number {
  const opt = a.int(0), arg2 = a.num(1);
  const st = p as Process & { pdeathsig?: number; dumpable?: number; noNewPrivs?: number; timerslack?: number; subreaper?: number; thp?: number; keepcaps?: number };
  switch (opt) {
    case PR_SET_NAME: {
      const b = readCStr(p.mem, arg2, 16 + 4096).subarray(0, 15);
      p.comm = Buffer.from(b).toString('latin1');
      return 0;
    }
    case PR_GET_NAME: {
      const s = new Struct(16).str(0, Buffer.from(p.comm, 'latin1'), 15);
      writeMem(p.mem, arg2, s.bytes);
      return 0;
    }
    case PR_SET_PDEATHSIG:
      if (arg2 < 0 || arg2 > 64) throw new SysError(EINVAL);
      st.pdeathsig = arg2;
      return 0;
    case PR_GET_PDEATHSIG:
      write32(p.mem, arg2, st.pdeathsig ?? 0);
      return 0;
    case PR_GET_DUMPABLE:
      return st.dumpable ?? 1;
    case PR_SET_DUMPABLE:
      if (arg2 !== 0 && arg2 !== 1) throw new SysError(EINVAL);
      st.dumpable = arg2;
      return 0;
    case PR_GET_KEEPCAPS:
      return st.keepcaps ?? 0;
    case PR_SET_KEEPCAPS:
      if (arg2 !== 0 && arg2 !== 1) throw new SysError(EINVAL);
      st.keepcaps = arg2;
      return 0;
    case PR_GET_TIMING:
      return 0;
    case PR_GET_SECCOMP:
      return 0;
    case PR_SET_SECCOMP:
      throw new SysError(EINVAL);
    case PR_CAPBSET_READ:
      if (arg2 < 0 || arg2 > 40) throw new SysError(EINVAL);
      return 1;
    case PR_GET_SECUREBITS:
      return 0;
    case PR_SET_TIMERSLACK:
      st.timerslack = arg2 <= 0 ? 50000 : arg2;
      return 0;
    case PR_GET_TIMERSLACK:
      return st.timerslack ?? 50000;
    case PR_MCE_KILL_GET:
      return 0;
    case PR_SET_CHILD_SUBREAPER:
      st.subreaper = arg2 ? 1 : 0;
      return 0;
    case PR_GET_CHILD_SUBREAPER:
      write32(p.mem, arg2, st.subreaper ?? 0);
      return 0;
    case PR_SET_NO_NEW_PRIVS:
      if (arg2 !== 1 || a.num(2) || a.num(3) || a.num(4)) throw new SysError(EINVAL);
      st.noNewPrivs = 1;
      return 0;
    case PR_GET_NO_NEW_PRIVS:
      return st.noNewPrivs ?? 0;
    case PR_SET_THP_DISABLE:
      st.thp = arg2 ? 1 : 0;
      return 0;
    case PR_GET_THP_DISABLE:
      return st.thp ?? 0;
    case PR_GET_TID_ADDRESS:
      write64(p.mem, arg2, p.task.clearChildTid);
      return 0;
    case PR_CAP_AMBIENT:
      if (arg2 === 1 /* IS_SET */) return 0;
      if (arg2 === 4 /* CLEAR_ALL */) return 0;
      throw new SysError(EPERM);
  }
  throw new SysError(EINVAL);
}

// ---------------------------------------------------------------- resources

const CAP_V1 = 0x19980330, CAP_V2 = 0x20071026, CAP_V3 = 0x20080522;

/** The header of capget/capset: the number of 32-bit words per set, or EINVAL after writing back the version the kernel prefers. */
function capHeader(p: Process, hdr: number, data: number, forGet: boolean): number {
  const v = readView(p.mem, hdr, 8);
  const version = v.getUint32(0, true);
  if (version === CAP_V1) return 1;
  if (version === CAP_V2 || version === CAP_V3) return 2;
  write32(p.mem, hdr, CAP_V3);
  if (forGet && data === 0) return 0; // the probe libcap makes: the version is the answer
  throw new SysError(EINVAL);
}

function sysCapget(p: Process, a: SyscallArgs): number {
  const hdr = a.num(0), data = a.num(1);
  const words = capHeader(p, hdr, data, true);
  if (words === 0) return 0;
  const pid = read32(p.mem, hdr + 4);
  if (pid < 0) throw new SysError(EINVAL);
  if (!self(p, pid)) throw new SysError(ESRCH);
  if (data === 0) return 0;
  const s = new Struct(12 * words);
  for (let k = 0; k < words; k++) {
    const sh = BigInt(32 * k);
    s.u32(k * 12, Number((p.caps.eff >> sh) & 0xffffffffn));
    s.u32(k * 12 + 4, Number((p.caps.prm >> sh) & 0xffffffffn));
    s.u32(k * 12 + 8, Number((p.caps.inh >> sh) & 0xffffffffn));
  }
  writeMem(p.mem, data, s.bytes);
  return 0;
}

/**
 * capset (cap_capset): only the caller's own sets; the new inheritable set
 * within the old inheritable and permitted ones (unless CAP_SETPCAP) and
 * within the bounding set, permitted only shrinking, effective within
 * permitted. The sets are the process's: later checks (chown, setuid,
 * setpriority ...) look at them.
 */
function sysCapset(p: Process, a: SyscallArgs): number {
  const hdr = a.num(0), data = a.num(1);
  const words = capHeader(p, hdr, data, false);
  const pid = read32(p.mem, hdr + 4);
  if (pid !== 0 && pid !== p.pid) throw new SysError(EPERM);
  const v = readView(p.mem, data, 12 * words);
  const set = (off: number): bigint => {
    let x = 0n;
    for (let k = 0; k < words; k++) x |= BigInt(v.getUint32(k * 12 + off, true)) << BigInt(32 * k);
    return x;
  };
  const eff = set(0), prm = set(4), inh = set(8);
  const sub = (x: bigint, y: bigint) => (x & ~y) === 0n;
  const old = p.caps;
  if (!capable(p, CAP_SETPCAP) && !sub(inh, old.inh | old.prm)) throw new SysError(EPERM);
  if (!sub(inh, old.inh | old.bnd)) throw new SysError(EPERM);
  if (!sub(prm, old.prm)) throw new SysError(EPERM);
  if (!sub(eff, prm)) throw new SysError(EPERM);
  p.caps = { ...old, eff, prm, inh };
  return 0;
}

function sysGetrusage(p: Process, a: SyscallArgs): number {
  const who = a.int(0);
  if (who !== 0 && who !== -1 && who !== 1) throw new SysError(EINVAL);
  const s = new Struct(144);
  if (who !== -1) {
    const u = process.cpuUsage();
    s.u64(0, Math.floor(u.user / 1e6)).u64(8, u.user % 1e6);
    s.u64(16, Math.floor(u.system / 1e6)).u64(24, u.system % 1e6);
    s.u64(32, Math.floor(process.memoryUsage().rss / 1024));
  }
  writeMem(p.mem, a.num(1), s.bytes);
  return 0;
}

function sysTimes(p: Process, a: SyscallArgs): number {
  const buf = a.num(0);
  if (buf !== 0) {
    const u = process.cpuUsage();
    writeMem(p.mem, buf, new Struct(32).u64(0, Math.floor(u.user / 10000)).u64(8, Math.floor(u.system / 10000)).bytes);
  }
  return Number(monoNs() / 10000000n);
}

/**
 * struct sysinfo as Linux fills it: the memory figures of si_meminfo and
 * si_swapinfo (MemTotal, MemFree, Shmem, Buffers, SwapTotal, SwapFree) in
 * bytes with mem_unit 1, the load averages in 1/65536 (os.loadavg is
 * sysinfo's own loads divided back), uptime rounded up to a second, procs =
 * the machine's thread count.
 */
export interface SysinfoValues {
  uptime: number;
  loads: number[];
  /** totalram, freeram, sharedram, bufferram, totalswap, freeswap, in mem_unit units. */
  ram: number[];
  procs: number;
  totalhigh: number;
  freehigh: number;
  memUnit: number;
}

/** What sysinfo reports (the 64-bit and the compat layouts pack the same values). */
export function sysinfoValues(): SysinfoValues {
  const mi = hostMeminfo();
  const kb = (k: string) => mi.get(k) ?? 0;
  return {
    uptime: Math.ceil(os.uptime()),
    loads: os.loadavg().map((l) => Math.round(l * 65536)),
    ram: [kb('MemTotal'), kb('MemFree'), kb('Shmem'), kb('Buffers'), kb('SwapTotal'), kb('SwapFree')],
    procs: Math.min(hostThreadCount(), 0xffff),
    totalhigh: kb('HighTotal'),
    freehigh: kb('HighFree'),
    memUnit: 1,
  };
}

function sysSysinfo(p: Process, a: SyscallArgs): number {
  const v = sysinfoValues();
  const s = new Struct(112);
  s.u64(0, v.uptime);
  v.loads.forEach((l, k) => s.u64(8 + k * 8, l));
  v.ram.forEach((x, k) => s.u64(32 + k * 8, x));
  s.u16(80, v.procs);
  s.u64(88, v.totalhigh).u64(96, v.freehigh);
  s.u32(104, v.memUnit);
  writeMem(p.mem, a.num(0), s.bytes);
  return 0;
}

function sysGetrandom(p: Process, a: SyscallArgs): number {
  const buf = a.num(0), flags = a.u32(2);
  let len = a.unum(1);
  if (flags & ~7 || (flags & 2 && flags & 4)) throw new SysError(EINVAL);
  len = Math.min(len, 33554431);
  const out = new Uint8Array(len);
  randomFillSync(out);
  writeMem(p.mem, buf, out);
  return len;
}

export function registerProc(t: HandlerTable): void {
  t.on(39, (p) => p.pid);
  t.on(186, (p) => p.tid);
  t.on(102, (p) => p.uid);
  t.on(104, (p) => p.gid);
  t.on(107, (p) => p.euid);
  t.on(108, (p) => p.egid);
  t.on(105, uidChange(sysSetuid));
  t.on(106, sysSetgid);
  t.on(113, uidChange(sysSetreuid));
  t.on(114, sysSetregid);
  t.on(117, uidChange((p, a) => sysSetresuid(p, a.int(0), a.int(1), a.int(2))));
  t.on(118, (p, a) => writeIds(p, [a.num(0), a.num(1), a.num(2)], [p.uid, p.euid, p.suid]));
  t.on(119, (p, a) => sysSetresgid(p, a.int(0), a.int(1), a.int(2)));
  t.on(120, (p, a) => writeIds(p, [a.num(0), a.num(1), a.num(2)], [p.gid, p.egid, p.sgid]));
  t.on(122, (p) => p.euid, 'returns the old fsuid (the euid) and keeps none: file access follows the euid'); // setfsuid
  t.on(123, (p) => p.egid, 'returns the old fsgid (the egid) and keeps none');
  t.on(115, sysGetgroups);
  t.on(116, sysSetgroups);
  t.on(63, sysUname);
  t.on(170, () => {
    throw new SysError(EPERM);
  }, "EPERM even for root: the host's name is not the program's to set");
  t.on(171, () => {
    throw new SysError(EPERM);
  }, "EPERM even for root: the host's domain name is not the program's to set");
  const limits = 'RLIMIT_NOFILE, RLIMIT_AS, RLIMIT_DATA and RLIMIT_STACK are applied; the others are kept and returned but not enforced';
  t.on(97, (p, a) => {
    const res = a.u32(0);
    if (res >= 16) throw new SysError(EINVAL);
    writeMem(p.mem, a.num(1), packRlimit(p.rlimits[res]));
    return 0;
  });
  t.on(160, (p, a) => {
    const res = a.u32(0);
    if (res >= 16) throw new SysError(EINVAL);
    const v = readView(p.mem, a.num(1), 16);
    setRlimit(p, res, v.getBigUint64(0, true), v.getBigUint64(8, true));
    return 0;
  }, limits);
  t.on(302, sysPrlimit64, limits);
  t.on(158, sysArchPrctl);
  t.on(218, (p, a) => {
    p.task.clearChildTid = a.num(0);
    return p.tid;
  });
  t.on(273, (p, a) => {
    if (a.unum(1) !== 24) throw new SysError(EINVAL);
    p.task.robustList = a.num(0);
    p.task.robustListLen = 24;
    return 0;
  });
  t.on(274, (p, a) => {
    if (!self(p, a.int(0))) throw new SysError(ESRCH);
    write64(p.mem, a.num(1), p.task.robustList);
    write64(p.mem, a.num(2), p.task.robustListLen);
    return 0;
  });
  t.enosys(334, 'as a kernel built without CONFIG_RSEQ: glibc goes on without it');
  t.on(157, sysPrctl, 'PR_SET_PDEATHSIG, DUMPABLE, TIMERSLACK, THP_DISABLE, CHILD_SUBREAPER and NO_NEW_PRIVS are kept and read back without effect; no seccomp; the capability bounding set is not changed');
  t.on(318, sysGetrandom);
  t.on(98, sysGetrusage, 'times are the host process\'s (the emulator\'s own work included), ru_maxrss is Node\'s resident size, the other counters are 0');
  t.on(100, sysTimes, 'the host process\'s times, the emulator\'s own work included');
  t.on(99, sysSysinfo);
  t.on(125, sysCapget);
  t.on(126, sysCapset, 'the sets are kept and checked (capget, chown, set*uid, setpriority ...); the host process keeps its own');
  t.on(309, (p, a) => {
    const { cpu, node } = hostCurrentCpu(); // the host thread that runs the program
    if (a.num(0) !== 0) write32(p.mem, a.num(0), cpu);
    if (a.num(1) !== 0) write32(p.mem, a.num(1), node);
    return 0;
  });
  t.on(135, (p, a) => {
    const st = p as Process & { personality?: number };
    const old = st.personality ?? 0;
    if (a.u32(0) !== 0xffffffff) st.personality = a.u32(0);
    return old;
  }, 'kept and returned; its flags (READ_IMPLIES_EXEC, ADDR_LIMIT_32BIT ...) change nothing');
  t.on(324, (_p, a) => {
    const cmd = a.int(0);
    if (cmd === 0) return 0; // MEMBARRIER_CMD_QUERY: nothing supported
    throw new SysError(EINVAL);
  }, 'MEMBARRIER_CMD_QUERY reports no command supported');
}

