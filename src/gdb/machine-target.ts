/**
 * The Machine as a gdb Target: registers in the amd64-linux layout, memory
 * through page permissions (peek/poke, like ptrace), resume/step/range-step
 * on Machine.run, breakpoints without writing guest memory, watchpoints on
 * Memory's watched pages, catch syscall, signal stops, the program's auxv,
 * vFile through the process's Vfs (confined to --root), and `monitor`.
 *
 * Later (guest kernel): a `libraries` capability listing the kernel image
 * (served by hostIo like the program), and more stop places; nothing here
 * needs to change shape for it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Machine, type MachineOptions, type Stop } from '../machine/machine.js';
import { PAGE_SIZE } from '../cpu/memory.js';
import { GuestKernelEntry } from '../entry/guest-kernel.js';
import { servedImage } from '../entry/kernel-image.js';
import { PT_OF_REG, PT_REGS, field, readPtRegs, type PtRegsField } from '../entry/ptregs.js';
import { readST80, writeST80, x87State, x87TagWord } from '../cpu/fpu-state.js';
import { errnoFromNode, SysError } from '../kernel/errno.js';
import type { OpenFile } from '../kernel/fdtable.js';
import { AT_FDCWD, fileRead, fileStat, guestNorm, O_RDONLY, openFile, resolveAt, specialPath, type KStat } from '../kernel/sys/files.js';
import type { SigInfo } from '../kernel/signal.js';
import { syscallName } from '../kernel/sysnames.js';
import { SYSRET_CHECKS } from '../guest/generated/abi.js';
import { X86_64_LINUX, REG } from './arch/x86_64.js';
import { addrHex, getS64, getU32, putU32, putU64 } from './hex.js';
import type {
  Arch,
  BreakpointOps,
  HostIoOps,
  LibrariesOps,
  MonitorOps,
  ResumeAction,
  StopReason,
  Target,
  WatchType,
} from './target.js';

/** gdb's rax rbx rcx rdx rsi rdi rbp rsp r8..r15 -> the CPU's register index. */
const GPR_OF = [0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15];
/** gdb's cs ss ds es fs gs -> cpu.seg index (es cs ss ds fs gs). */
const SEG_OF = [1, 2, 3, 0, 4, 5];

const EACCES = 13, EINVAL = 22;

export class MachineTarget implements Target {
  readonly arch: Arch = X86_64_LINUX;
  readonly pid: number;
  readonly rangeStep = true as const;

  private action: ResumeAction = { kind: 'continue', signal: 0 };
  /** The first run of a resume passes over a breakpoint at this address (the one we are stopped at). */
  private resumeFrom = NaN;
  /** The last poll found the program sleeping in a syscall for about this many ms (idleMs). */
  private sleeping = 0;
  /** resumeSignal set up a handler frame: a step stops at the handler's first instruction. */
  private enteredHandler = false;
  private readonly sw = new Set<number>();
  private readonly hw = new Set<number>();
  private appliedBps = '';
  private catching: null | 'all' | Set<number> = null;
  private readonly auxvBytes: Uint8Array;
  private lastSiginfo: SigInfo | null = null;
  private readonly syscallCounts = new Map<number, number>();
  private attached = true;

  constructor(readonly m: Machine) {
    this.pid = m.proc.pid;
    m.stopOnSignals = true;
    this.auxvBytes = this.readInitialAuxv();
    // count syscalls for `monitor stats` (keeping any existing hook)
    const prev = m.proc.afterSyscall;
    m.proc.afterSyscall = (nr, a, ret) => {
      this.syscallCounts.set(nr, (this.syscallCounts.get(nr) ?? 0) + 1);
      prev?.(nr, a, ret);
    };
  }

  /** Create and load a Machine (throws ExecError for a bad program) and wrap it. */
  static launch(opts: MachineOptions): MachineTarget {
    const m = new Machine(opts);
    m.load();
    // a syscall that would sleep stops the machine instead of the stub (the interrupt byte is still read)
    m.proc.cooperative = true;
    return new MachineTarget(m);
  }

  // ---------------------------------------------------------------- registers

  private putReg(n: number, out: Uint8Array, off: number): void {
    const cpu = this.m.cpu;
    const viewRax = n === 0 ? this.m.entryStopRax() : null; // ptrace's view at a syscall-entry stop
    if (viewRax !== null) return putU64(out, off, viewRax);
    if (n < 16) {
      const r = GPR_OF[n];
      putU32(out, off, cpu.rl[r]);
      putU32(out, off + 4, cpu.rh[r]);
      return;
    }
    if (n >= REG.xmm0 && n < REG.xmm0 + 16) {
      const base = (n - REG.xmm0) * 4;
      for (let k = 0; k < 4; k++) putU32(out, off + 4 * k, cpu.xmm[base + k]);
      return;
    }
    if (n >= REG.st0 && n < REG.st0 + 8) return readST80(cpu, n - REG.st0, out, off);
    if (n >= REG.cs && n <= REG.gs) return putU32(out, off, cpu.seg[SEG_OF[n - REG.cs]]);
    switch (n) {
      case REG.rip:
        return putU64(out, off, cpu.rip);
      case REG.eflags:
        return putU32(out, off, cpu.getFlags());
      case REG.fctrl:
        return putU32(out, off, cpu.fcw);
      case REG.fstat:
        return putU32(out, off, cpu.fsw);
      case REG.ftag:
        return putU32(out, off, x87TagWord(cpu));
      case REG.mxcsr:
        return putU32(out, off, cpu.mxcsr);
      case REG.orig_rax:
        return putU64(out, off, this.m.origRax);
      case REG.fs_base:
        return putU64(out, off, cpu.fsBase);
      case REG.gs_base:
        return putU64(out, off, cpu.gsBase);
      default: // fiseg fioff foseg fooff fop: not tracked
        return putU32(out, off, 0);
    }
  }

  private setReg(n: number, b: Uint8Array, off: number): void {
    const cpu = this.m.cpu;
    if (n === 0 && this.m.setEntryStopRax(getS64(b, off))) return;
    if (n < 16) {
      const r = GPR_OF[n];
      cpu.rl[r] = getU32(b, off) | 0;
      cpu.rh[r] = getU32(b, off + 4) | 0;
      return;
    }
    if (n >= REG.xmm0 && n < REG.xmm0 + 16) {
      const base = (n - REG.xmm0) * 4;
      for (let k = 0; k < 4; k++) cpu.xmm[base + k] = getU32(b, off + 4 * k) | 0;
      return;
    }
    if (n >= REG.st0 && n < REG.st0 + 8) return writeST80(cpu, n - REG.st0, b, off);
    if (n >= REG.cs && n <= REG.gs) {
      cpu.seg[SEG_OF[n - REG.cs]] = getU32(b, off) & 0xffff;
      return;
    }
    switch (n) {
      case REG.rip:
        cpu.rip = getS64(b, off);
        return;
      case REG.eflags:
        return cpu.setFlags(getU32(b, off));
      case REG.fctrl:
        cpu.fcw = getU32(b, off) & 0xffff;
        return;
      case REG.fstat:
        cpu.fsw = getU32(b, off) & 0xffff;
        return;
      case REG.ftag: {
        // full tag word: 3 = empty
        const t = getU32(b, off);
        let empty = 0;
        for (let p = 0; p < 8; p++) if (((t >> (2 * p)) & 3) === 3) empty |= 1 << p;
        x87State(cpu).empty = empty;
        return;
      }
      case REG.mxcsr:
        cpu.mxcsr = getU32(b, off) & 0xffff;
        return;
      case REG.orig_rax:
        this.m.origRax = getS64(b, off);
        return;
      case REG.fs_base:
        cpu.fsBase = getS64(b, off);
        return;
      case REG.gs_base:
        cpu.gsBase = getS64(b, off);
        return;
    }
  }

  readRegisters(): Uint8Array {
    const out = new Uint8Array(this.arch.gSize);
    for (const r of this.arch.regs) this.putReg(r.regnum, out, r.offset);
    return out;
  }

  writeRegisters(data: Uint8Array): void {
    for (const r of this.arch.regs) if (r.offset + r.size <= data.length) this.setReg(r.regnum, data, r.offset);
  }

  readRegister(n: number): Uint8Array | null {
    const r = this.arch.regs[n];
    if (!r) return null;
    const out = new Uint8Array(r.size);
    this.putReg(n, out, 0);
    return out;
  }

  writeRegister(n: number, data: Uint8Array): boolean {
    const r = this.arch.regs[n];
    if (!r || data.length !== r.size) return false;
    this.setReg(n, data, 0);
    return true;
  }

  // ---------------------------------------------------------------- memory

  readMemory(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    return out.subarray(0, this.m.mem.peek(addr, out));
  }

  writeMemory(addr: number, data: Uint8Array): boolean {
    const mem = this.m.mem;
    if (data.length === 0) return true;
    // all or nothing: every page must be mapped
    for (let a = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE; a < addr + data.length; a += PAGE_SIZE) if (!mem.isMapped(a)) return false;
    return mem.poke(addr, data) === data.length;
  }

  // ---------------------------------------------------------------- execution

  resume(a: ResumeAction): void {
    const m = this.m, cpu = m.cpu;
    this.applyBreakpoints();
    // as ptrace: a continue stops at caught syscalls, a single or range step never does
    m.catchSyscalls = this.attached && a.kind === 'continue' ? this.catching : null;
    if (a.addr !== undefined) cpu.rip = a.addr;
    const rip = cpu.rip;
    m.resumeSignal(a.signal);
    this.enteredHandler = cpu.rip !== rip && !m.ended;
    this.resumeFrom = rip;
    this.action = a;
  }

  get threadName(): string {
    return this.m.proc.comm;
  }

  idleMs(): number {
    return this.sleeping;
  }

  poll(budget: number): StopReason | null {
    const a = this.action, m = this.m, cpu = m.cpu;
    this.sleeping = 0;
    switch (a.kind) {
      case 'step': {
        if (this.enteredHandler) return { kind: 'step' };
        const ev = m.run(1, this.takeResumeFrom());
        if (ev?.kind === 'blocked') return this.sleep(ev.ms); // the step ends when the syscall does
        return this.stopOf(ev) ?? { kind: 'step' };
      }
      case 'continue': {
        const ev = m.run(budget, this.takeResumeFrom());
        if (ev?.kind === 'blocked') return this.sleep(ev.ms);
        return this.stopOf(ev);
      }
      case 'range': {
        const start = a.start!, end = a.end!;
        let left = budget;
        while (left > 0) {
          // run whole blocks that lie inside the range, single instructions at its edges
          const n = this.insnsInRange(start, end);
          const ev = m.run(n, this.takeResumeFrom());
          if (ev?.kind === 'blocked') return this.sleep(ev.ms);
          const st = this.stopOf(ev);
          if (st) return st;
          if (cpu.rip < start || cpu.rip >= end) return { kind: 'step' };
          left -= n;
        }
        return null;
      }
    }
  }

  /** The program sleeps in a syscall: no stop yet, poll again in about ms. */
  private sleep(ms: number): null {
    this.sleeping = ms;
    return null;
  }

  private takeResumeFrom(): number {
    const r = this.resumeFrom;
    this.resumeFrom = NaN;
    return r;
  }

  /** How many instructions from rip can run before one could leave [start, end): a whole block if it lies inside. */
  private insnsInRange(start: number, end: number): number {
    const rip = this.m.cpu.rip;
    if (rip < start || rip >= end) return 1;
    try {
      const b = this.m.blocks.get(rip);
      const last = b.insns[b.insns.length - 1];
      return last.addr < end ? b.insns.length : 1;
    } catch {
      return 1; // the fetch faults: let run() report it
    }
  }

  /** The stop reply's reason for a Machine stop, or null if still running. */
  private stopOf(ev: Stop | null): StopReason | null {
    if (!ev) return null;
    switch (ev.kind) {
      case 'exited':
        return { kind: 'exited', code: ev.code };
      case 'killed':
        return { kind: 'terminated', signal: ev.signal };
      case 'breakpoint':
        return ev.type === 'hw' ? { kind: 'hwbreak', addr: ev.addr } : { kind: 'swbreak', addr: ev.addr };
      case 'watch':
        return { kind: 'watch', type: ev.type, addr: ev.addr };
      case 'syscall-entry':
        return { kind: 'syscall-entry', nr: ev.nr };
      case 'syscall-return':
        return { kind: 'syscall-return', nr: ev.nr };
      case 'signal':
        this.lastSiginfo = ev.info;
        return { kind: 'signal', signal: ev.signal };
      case 'step':
        return { kind: 'step' };
      case 'interrupt':
        return { kind: 'interrupted' };
      case 'blocked':
        return null;
    }
  }

  detach(): void {
    this.attached = false;
    this.sw.clear();
    this.hw.clear();
    this.m.watchpoints.clear();
    this.catching = null;
    this.m.catchSyscalls = null;
    this.m.stopOnSignals = false;
    this.applyBreakpoints();
  }

  attach(): void {
    this.attached = true;
    this.m.stopOnSignals = true;
  }

  kill(): void {
    this.m.killByDebugger();
  }

  // ---------------------------------------------------------------- breakpoints and watchpoints

  readonly breakpoints: BreakpointOps = {
    addSw: (a) => (this.sw.add(a), true),
    removeSw: (a) => (this.sw.delete(a), true),
    addHw: (a) => (this.hw.add(a), true),
    removeHw: (a) => (this.hw.delete(a), true),
    addWatch: (type, addr, len) => this.m.watchpoints.add(type, addr, len),
    removeWatch: (type, addr, len) => this.m.watchpoints.remove(type, addr, len),
  };

  /** Hand the breakpoint set to the block cache, only when it changed (gdb re-inserts the same set at every resume). */
  private applyBreakpoints(): void {
    const key = [...this.sw].sort((x, y) => x - y).join(',') + '/' + [...this.hw].sort((x, y) => x - y).join(',');
    if (key === this.appliedBps) return;
    this.appliedBps = key;
    this.m.setBreakpoints(this.sw, this.hw);
  }

  // ---------------------------------------------------------------- syscalls and signals

  readonly catchSyscalls = {
    setCatch: (which: null | 'all' | Set<number>) => {
      this.catching = which;
      this.m.catchSyscalls = which;
    },
  };

  readonly passSignals = {
    setPass: (sigs: Set<number>) => {
      this.m.passSignals = sigs;
    },
  };

  readonly siginfo = {
    /** Linux's 128-byte siginfo_t of the last signal stop. */
    siginfo: (): Uint8Array | null => {
      const si = this.lastSiginfo;
      if (!si) return null;
      const b = new Uint8Array(128);
      putU32(b, 0, si.signo);
      putU32(b, 8, si.code);
      if (si.addr !== undefined) putU64(b, 16, si.addr);
      else {
        putU32(b, 16, si.pid ?? 0);
        putU32(b, 20, si.uid ?? 0);
      }
      return b;
    },
  };

  // ---------------------------------------------------------------- files

  readonly execFile = { execFile: () => this.m.proc.exePath };

  readonly sectionOffsets = {
    offsets: () => {
      const bias = this.m.image.bias;
      return { text: bias, data: bias, bss: bias };
    },
  };

  readonly auxv = { auxv: () => this.auxvBytes };

  /** The auxv words from the initial stack (argc, argv..., 0, envp..., 0, auxv...): read once, before the program can change them. */
  private readInitialAuxv(): Uint8Array {
    const mem = this.m.mem;
    const cpu = this.m.cpu;
    const word = (a: number): number => {
      const b = new Uint8Array(8);
      return mem.peek(a, b) === 8 ? getS64(b, 0) : 0;
    };
    let p = cpu.getNum(4); // rsp
    const argc = word(p);
    p += 8 * (argc + 2);
    let guard = 0;
    while (word(p) !== 0 && guard++ < 100_000) p += 8;
    p += 8;
    const start = p;
    for (guard = 0; guard < 256; guard++, p += 16) if (word(p) === 0) break;
    const out = new Uint8Array(p + 16 - start);
    mem.peek(start, out);
    return out;
  }

  /**
   * vFile: files as the program sees them, through the kernel's own open and
   * read (confined to --root, with /proc/PID/maps, /proc/PID/exe ... of the
   * emulated process), read-only.
   */
  /**
   * The guest kernel image, reported to gdb as a loaded object (linked at
   * its run address: l_addr 0) under a name that only vFile serves, so its
   * symbols, types and line tables load with no command from the user.
   */
  get libraries(): LibrariesOps | undefined {
    const m = this.m;
    return m.kernel ? { libraries: () => [{ name: kernelLibName(m), lAddr: 0 }] } : undefined;
  }

  readonly hostIo: HostIoOps = {
    open: (path, flags, mode) => {
      void mode;
      // gdb reads programs and images; O_WRONLY/O_RDWR/O_CREAT/O_TRUNC are refused
      if ((flags & 3) !== 0 || (flags & 0x600) !== 0) return -EACCES;
      if (this.m.kernel && path === kernelLibName(this.m)) return openKernelImage(this.m.kernel.path);
      const proc = this.m.proc;
      let f: OpenFile;
      try {
        f = openFile(proc, AT_FDCWD, path, O_RDONLY, 0);
      } catch (e) {
        return -errnoOf(e);
      }
      return {
        pread: (count, offset) => {
          if (offset < 0 || count < 0) return -EINVAL;
          try {
            return fileRead(proc, f, count, offset);
          } catch (e) {
            return -errnoOf(e);
          }
        },
        fstat: () => {
          try {
            return fileioStat(fileStat(proc, f));
          } catch (e) {
            return -errnoOf(e);
          }
        },
        close: () => f.release(),
      };
    },
    readlink: (path) => {
      const p = this.m.proc;
      try {
        const sp = specialPath(p, guestNorm(p, AT_FDCWD, path));
        if (sp?.type === 'exe') return p.exePath;
        if (sp?.type === 'cwd') return p.cwd;
        if (sp?.type === 'fd') return p.fds.file(sp.fd).guestPath;
        if (sp) return -EINVAL;
        return fs.readlinkSync(resolveAt(p, AT_FDCWD, path, false).host, 'utf8');
      } catch (e) {
        return -errnoOf(e);
      }
    },
  };

  // ---------------------------------------------------------------- monitor

  readonly monitor: MonitorOps = {
    command: (cmd) => {
      const [name] = cmd.split(/\s+/);
      switch (name) {
        case 'help':
        case '':
          return (
            'entrystub monitor commands:\n' +
            '  monitor help     this list\n' +
            "  monitor ptregs   the CPU's registers in struct pt_regs order, and the guest kernel's saved pt_regs\n" +
            '  monitor mode     the syscall entry model and hook\n' +
            '  monitor stats    instructions executed and syscalls made\n' +
            '  monitor trip     the syscall in progress on the entry path: how it entered, the last SYSRET check reached\n'
          );
        case 'ptregs':
          return this.ptregs();
        case 'mode':
          return this.mode();
        case 'stats':
          return this.stats();
        case 'trip':
          return this.trip();
      }
      return null;
    },
  };

  private mode(): string {
    return this.m.model.describe();
  }

  private ptregs(): string {
    const m = this.m, cpu = m.cpu;
    const cpuValue = (f: PtRegsField): number => {
      const r = PT_OF_REG.indexOf(PT_REGS[f]);
      if (r >= 0) return cpu.getNum(r);
      return { orig_ax: m.origRax, ip: cpu.rip, cs: cpu.seg[1], flags: cpu.getFlags(), ss: cpu.seg[2] }[f as string] ?? 0;
    };
    const fields = Object.keys(PT_REGS) as PtRegsField[];
    const where = m.inUserCode() ? 'in user code' : 'in the guest kernel path: these are not the user registers';
    let s = `the CPU's registers now, in struct pt_regs order (${where}):\n`;
    for (const f of fields) s += `  ${f.padEnd(8)} 0x${addrHex(cpuValue(f)).padStart(16, '0')}\n`;
    const at = m.ptregsAddr();
    if (at === null) {
      s += 'no kernel entry frame: in the direct entry model a syscall is handled by the host in place\n';
      return s;
    }
    // the task's pt_regs image in the guest kernel (written by the last entry)
    const pt = readPtRegs(m.mem, at);
    s += `guest kernel pt_regs at 0x${addrHex(at)} (${m.model.label}; the user state the last syscall entry saved):\n`;
    for (const f of fields) s += `  ${f.padEnd(8)} 0x${addrHex(field(pt, f)).padStart(16, '0')}\n`;
    return s;
  }

  /**
   * The trip in progress, as the model recorded it. At the IRET path the
   * last check reached is the one that failed; stopped at a check's label,
   * that check has not run yet.
   */
  private trip(): string {
    const model = this.m.model;
    if (!(model instanceof GuestKernelEntry)) return 'no entry path: in the direct entry model the host handles each syscall in place\n';
    const t = model.tripInProgress();
    if (t === null) return 'no trip in progress: no syscall is between its user instruction and the return to the program\n';
    let s = `trip in progress: syscall ${t.nr} (${syscallName(t.nr)})\n`;
    s += `  entered by: ${t.via}\n`;
    s += `  instructions since: ${t.insns}\n`;
    const c = SYSRET_CHECKS.find((x) => x.n === t.check);
    if (c) s += `  last SYSRET check reached: check ${c.n} of ${SYSRET_CHECKS.length}, ${c.label}: ${c.what}\n`;
    return s;
  }

  private stats(): string {
    let total = 0;
    for (const n of this.syscallCounts.values()) total += n;
    let s = `instructions: ${this.m.cpu.icount}\nsyscalls: ${total}\n`;
    const rows = [...this.syscallCounts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    for (const [nr, n] of rows) s += `  ${syscallName(nr).padEnd(20)} ${String(nr).padStart(4)}  ${n}\n`;
    return s;
  }
}

function errnoOf(e: unknown): number {
  return e instanceof SysError ? e.errno : errnoFromNode(e);
}

/** gdb's File-I/O struct stat: big-endian, 64 bytes. */
function fileioStat(st: KStat): Uint8Array {
  const b = new Uint8Array(64);
  const dv = new DataView(b.buffer);
  const u32 = (off: number, v: bigint) => dv.setUint32(off, Number(v & 0xffffffffn));
  const u64 = (off: number, v: bigint) => dv.setBigUint64(off, BigInt.asUintN(64, v));
  u32(0, st.dev);
  u32(4, st.ino);
  u32(8, st.mode);
  u32(12, st.nlink);
  u32(16, st.uid);
  u32(20, st.gid);
  u32(24, st.rdev);
  u64(28, st.size);
  u64(36, st.blksize);
  u64(44, st.blocks);
  u32(52, st.atimeNs / 1000000000n);
  u32(56, st.mtimeNs / 1000000000n);
  u32(60, st.ctimeNs / 1000000000n);
  return b;
}

/** The name gdb sees for the guest kernel image (served by vFile only). */
export function kernelLibName(m: Machine): string {
  return `/entrystub/guest/${path.basename(m.kernel!.path)}`;
}

/** vFile handle on the committed guest kernel image (read-only, outside the guest's root). */
function openKernelImage(file: string): ReturnType<HostIoOps['open']> {
  let data: Uint8Array;
  let st: fs.BigIntStats;
  try {
    data = servedImage(file);
    st = fs.statSync(file, { bigint: true });
  } catch (e) {
    return -errnoOf(e);
  }
  const kst: KStat = {
    dev: st.dev, ino: st.ino, mode: st.mode, nlink: st.nlink, uid: st.uid, gid: st.gid, rdev: st.rdev, size: st.size,
    blksize: st.blksize, blocks: st.blocks, atimeNs: st.atimeNs, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, birthtimeNs: st.birthtimeNs,
  };
  return {
    pread: (count, offset) => (offset < 0 || count < 0 ? -EINVAL : data.subarray(Math.min(offset, data.length), Math.min(offset + count, data.length))),
    fstat: () => fileioStat(kst),
    close: () => {},
  };
}
