/**
 * Machine = CPU + memory + process + an entry model: the one object that
 * `entrystub run`, `trace` and a gdb session drive. It runs the program in
 * slices and returns why it stopped as one value (stop.ts). The entry model
 * (src/entry) owns everything about how syscalls reach the kernel; the
 * machine owns the run loop, stop requests, signals and faults, and offers
 * the model a narrow port.
 */
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CPU, RSP, RDX, RCX } from '../cpu/cpu.js';
import { Memory, PAGE_SIZE } from '../cpu/memory.js';
import { CpuFault, PF_FETCH, PF_PRESENT, PF_WRITE, UndefinedOpcode, Vector } from '../cpu/fault.js';
import { BP_SW, BlockCache, runBlocks } from '../cpu/run.js';
import { fxsaveTo, fxrstorFrom } from '../cpu/fpu-state.js';
import { ExecError, type LoadedImage } from '../kernel/loader.js';
import { __USER32_CS, __USER_CS, __USER_DS } from '../cpu/segment.js';
import { syscall32 } from '../kernel/ia32/syscalls.js';
import { execElf, type Exec } from '../kernel/exec.js';
import type { SyscallArgs } from '../kernel/sys/util.js';
import { ENOSYS, WouldBlock } from '../kernel/errno.js';
import { Process } from '../kernel/process.js';
import { syscall } from '../kernel/syscalls.js';
import { disposition, isBlocked, setupFrame, sigreturn, signalName, SIG, type SigInfo } from '../kernel/signal.js';
import { DEFAULT_ENTRY, makeEntryModel, type EntryModel, type EntryPort, type PathInfo } from '../entry/index.js';
import { withUserContext } from '../entry/ptregs.js';
import { isEnd, morePressing, type Stop } from './stop.js';
import { Watchpoints } from './watch.js';

export type { PathInfo } from '../entry/index.js';
export type { Stop } from './stop.js';

/** Per-syscall figures for --stats. */
export interface SyscallStat {
  count: number;
  /** Guest instructions from the user instruction to the next user instruction, summed. */
  insns: number;
}

export interface MachineOptions {
  /** Host path of the program file. */
  program: string;
  /** argv, including argv[0]. */
  argv: string[];
  /** Environment as KEY=VALUE strings. */
  env: string[];
  /** Host directory the guest sees as '/'. */
  root?: string;
  /** Guest working directory (default: the host cwd, as a guest path). */
  cwd?: string;
  stdin?: number;
  stdout?: number;
  stderr?: number;
  /** One-line reports for the user (unknown syscalls, bypassed sites); default: stderr. */
  warn?: (msg: string) => void;
  /** The entry model (src/entry/index.ts: nommu, native, direct; default nommu). */
  entry?: string;
  /** The model's hook (nommu: zpoline, lazy, seccomp; default: the model's first). */
  hook?: string;
  /** How a 32-bit program's vDSO enters the kernel (entry/vdso32.ts: sysenter, the default, or int80). */
  compatEntry?: string;
  /** Guest kernel messages (printk). */
  kernelLog?: (line: string) => void;
  /** Count syscalls and the instructions of their entry/exit path. */
  stats?: boolean;
}

const SEGV_MAPERR = 1, SEGV_ACCERR = 2, BUS_ADRERR = 2, ILL_ILLOPN = 2, FPE_INTDIV = 1, SI_KERNEL = 0x80;

/** A signal the debugger was shown and has not yet decided on (ptrace's signal-delivery-stop). */
interface StoppedSignal {
  info: SigInfo;
  /** A synchronous fault: it cannot be blocked or ignored. */
  forced: boolean;
  /** The line to report if it kills the program. */
  message: string;
  /** Stopped in the guest kernel's exit work: the user context is the pt_regs here. */
  regs: number | null;
  /** A fault in guest kernel code: the task dies whatever the debugger says. */
  oops: boolean;
}

export class Machine {
  readonly mem = new Memory();
  readonly cpu = new CPU(this.mem);
  readonly blocks = new BlockCache(this.cpu);
  readonly proc: Process;
  readonly model: EntryModel;
  readonly watchpoints: Watchpoints;
  /** The program as execve loaded it (the interpreter, if any, is in `exec`). */
  image!: LoadedImage;
  /** The last execve: the program, its interpreter, the initial stack and auxv. */
  exec!: Exec;
  /** Set when the program has ended. */
  ended: Extract<Stop, { kind: 'exited' | 'killed' }> | null = null;
  /**
   * Syscalls a debugger catches: null = none, 'all', or a set of numbers.
   * A caught syscall stops twice: when it enters (syscall-entry) and when it
   * is back at the next user instruction (syscall-return).
   */
  catchSyscalls: Set<number> | 'all' | null = null;
  /**
   * With a debugger attached: stop with a 'signal' before a signal is
   * delivered (ptrace's signal-delivery-stop), except for signals in
   * passSignals (QPassSignals). The debugger resumes with resumeSignal(sig).
   */
  stopOnSignals = false;
  passSignals: ReadonlySet<number> = new Set();
  /** Number of the syscall in progress (the orig_rax a debugger sees), -1 outside one. */
  origRax = -1;
  /** Guest kernel messages. */
  readonly kernelLog: string[] = [];
  /** --stats: per syscall number. */
  readonly stats = new Map<number, SyscallStat>();
  /** Called when a trip through the entry path returns to the program (trace). */
  onPath: ((p: PathInfo) => void) | null = null;
  private readonly warn: (msg: string) => void;
  /** The stop requested since the last run() returned (the most pressing: stop.ts). */
  private stop: Stop | null = null;
  private stoppedSignal: StoppedSignal | null = null;
  /** While onUserContext runs: the pt_regs it works on (a signal stop there resumes there). */
  private userContextRegs: number | null = null;
  /**
   * Stopped at a guest kernel's syscall-entry stop: the path's first
   * instruction, where RAX still holds the number. A debugger sees the
   * registers as at Linux's syscall-entry-stop: orig_rax = the number and
   * rax = the result, -ENOSYS until the call runs. Writing orig_rax changes
   * the syscall that runs (-1 skips it); writing rax sets what a skipped call
   * returns. Both take effect when the machine resumes.
   */
  private entryStop: { result: number; resultSet: boolean } | null = null;

  constructor(readonly opts: MachineOptions) {
    this.warn = opts.warn ?? ((m) => process.stderr.write(m + '\n'));
    const root = path.resolve(opts.root ?? '/');
    this.proc = new Process(this.cpu, this.mem, {
      root,
      cwd: opts.cwd ?? guestPathOf(root, process.cwd()),
      stdin: opts.stdin,
      stdout: opts.stdout,
      stderr: opts.stderr,
      warn: this.warn,
      exePath: guestPathOf(root, path.resolve(opts.program)),
      argv: opts.argv,
    });
    this.watchpoints = new Watchpoints(this.cpu, this.mem, this.blocks);
    this.blocks.onBreakpoint = (addr, kinds) => this.requestStop({ kind: 'breakpoint', type: kinds & BP_SW ? 'sw' : 'hw', addr });
    this.model = makeEntryModel(opts.entry ?? DEFAULT_ENTRY, opts.hook, this.port(), opts.compatEntry);
  }

  /** What the entry model may ask of the machine. */
  private port(): EntryPort {
    const m = this;
    return {
      cpu: this.cpu,
      mem: this.mem,
      blocks: this.blocks,
      hostSyscall: (nr, a, userRsp) => this.hostSyscall(nr, a, userRsp),
      hostSyscall32: (nr, regs) => this.hostSyscall(nr, undefined, undefined, regs),
      sigreturn: (regs) => this.sigreturnOn(regs),
      exitWork: (regs) => this.exitWork(regs),
      requestStop: (s) => this.requestStop(s),
      printk: (line) => this.printk(line),
      warn: (line) => this.warn(line),
      caught: (nr) => this.caught(nr),
      get origRax() {
        return m.origRax;
      },
      set origRax(v: number) {
        m.origRax = v;
      },
      tripDone: (nr, insns, describe, counted = true) => this.tripDone(nr, insns, describe, counted),
      queueSignal: (info) => {
        this.proc.pending.add(info.signo);
        this.proc.pendingInfo.set(info.signo, info);
      },
    };
  }

  /** The guest kernel image of the model, if it runs one. */
  get kernel() {
    return this.model.kernel;
  }

  private printk(line: string): void {
    this.kernelLog.push(line);
    this.opts.kernelLog?.(line);
  }

  /**
   * execve: load the program (and its interpreter) and build its stack
   * (kernel/exec.ts); every executable mapping, these and later ones, goes to
   * the entry model; the model installs what it needs. Throws ExecError.
   */
  load(): void {
    this.model.mapKernel();
    const reserved = this.model.reserved();
    const mm = this.proc.mm;
    for (const [s, e] of reserved) mm.reserveForKernel(s, e);
    mm.onExecutable = (start, end, movedFrom) => this.model.executableMapped(start, end, movedFrom);
    const x = execElf(this.proc, {
      hostPath: this.opts.program,
      // as execve got it (AT_EXECFN): the path given, or under --root the guest's path of it
      filename: this.proc.vfs.confined ? this.proc.exePath : this.opts.program,
      name: this.opts.program,
      argv: this.opts.argv,
      envp: this.opts.env,
      reserved,
      random: randomBytes(16),
      vdso32: this.model.vdso32() ?? undefined,
    });
    if (x.compat && !this.model.compat)
      throw new ExecError(`${this.opts.program}: a 32-bit program; the ${this.model.label} entry model has no compat (i386) entry yet`, 8, 'run it with --entry direct');
    this.exec = x;
    this.image = x.program;
    const cpu = this.cpu;
    cpu.rl.fill(0);
    cpu.rh.fill(0);
    cpu.setNum(RSP, x.sp);
    cpu.setNum(RDX, 0); // static glibc registers RDX as an exit handler: Linux starts with 0
    cpu.rip = x.entry;
    cpu.setFlags(0x202);
    // start_thread_ia32: CS = __USER32_CS, DS = ES = SS = __USER_DS, FS = GS = 0, no TLS descriptors yet
    cpu.compat = x.compat;
    cpu.seg.set(x.compat ? [__USER_DS, __USER32_CS, __USER_DS, __USER_DS, 0, 0] : [0, __USER_CS, __USER_DS, 0, 0, 0]);
    cpu.gdt.tls.fill(null);
    this.model.exec(x.program, x.vdso);
  }

  /**
   * Where the dynamic linker's view of the program starts, for a debugger's
   * link map (gdb's svr4 solib support): the program's and the interpreter's
   * load addresses and, once ld.so has filled the program's DT_DEBUG, the
   * address of its struct r_debug (whose r_map lists every loaded object).
   * rDebug is null for a static program, or before ld.so has run.
   */
  linkMap(): { program: { path: string; bias: number; dynamic: number }; interp: { path: string; base: number } | null; rDebug: number | null } {
    const x = this.exec;
    const program = { path: x.program.path, bias: x.program.bias, dynamic: x.program.dynamic };
    const interp = x.interp ? { path: x.interp.path, base: x.interp.bias } : null;
    return { program, interp, rDebug: x.program.dynamic ? this.dtDebug(x.program.dynamic) : null };
  }

  /** The DT_DEBUG value in the dynamic array at addr (non-zero), or null. */
  private dtDebug(addr: number): number | null {
    const DT_NULL = 0, DT_DEBUG = 21;
    const e = new Uint8Array(16);
    const dv = new DataView(e.buffer);
    // bounded: a corrupt or overwritten array must not loop for ever
    for (let k = 0; k < 4096; k++, addr += 16) {
      if (this.mem.peek(addr, e) !== 16) return null;
      const tagLo = dv.getUint32(0, true), tagHi = dv.getUint32(4, true);
      if (tagLo === DT_NULL && tagHi === 0) return null;
      if (tagLo === DT_DEBUG && tagHi === 0) {
        const v = dv.getUint32(12, true) * 4294967296 + dv.getUint32(8, true);
        return v === 0 ? null : v;
      }
    }
    return null;
  }

  // ---- stops ----

  /** Stop after the current instruction, for `s` (or for a more pressing reason already requested). */
  requestStop(s: Stop): void {
    this.stop = morePressing(this.stop, s);
    this.cpu.stopRequested = true;
  }

  private take(): Stop | null {
    const s = this.stop;
    this.stop = null;
    return s;
  }

  caught(nr: number): boolean {
    return this.catchSyscalls !== null && (this.catchSyscalls === 'all' || this.catchSyscalls.has(nr));
  }

  /** Breakpoints a debugger set: software (Z0) and hardware (Z1) ones, reported as such. */
  setBreakpoints(sw: Iterable<number>, hw: Iterable<number>): void {
    const all = new Map<number, number>();
    for (const a of sw) all.set(a, BP_SW);
    for (const a of hw) all.set(a, (all.get(a) ?? 0) | 2);
    this.blocks.setBreakpoints(all);
  }

  /**
   * Run up to budget instructions; null if the budget ran out with nothing to
   * report. A breakpoint at `resumeFrom` is passed over if execution starts
   * there (a debugger resuming from the breakpoint it stopped at).
   */
  run(budget: number, resumeFrom = NaN): Stop | null {
    if (this.ended) return this.ended;
    const cpu = this.cpu;
    cpu.stopRequested = false;
    // a stop found before any instruction ran (the next signal, set up by resumeSignal)
    const early = this.take();
    if (early) return early;
    this.stoppedSignal = null; // resuming without resumeSignal() discards a stopped signal
    const es = this.entryStop;
    if (es) {
      this.entryStop = null;
      cpu.setNum(0, this.origRax); // the number the path pushes as orig_ax
      if (es.resultSet) this.model.overrideResult(es.result);
    }
    if (this.model.resume()) {
      // a syscall the last stop left pending ran: it is the first instruction of this resume
      const s = this.settle();
      if (s) return s;
      if (budget === 1) return null; // a single step from the stop: the syscall was the step (as PTRACE_SINGLESTEP)
    }
    if (!this.model.inTrip()) this.origRax = -1;
    this.watchpoints.apply();
    let left = budget;
    while (left > 0) {
      const n0 = cpu.icount;
      try {
        runBlocks(cpu, this.blocks, left, resumeFrom);
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        this.fault(e);
      }
      resumeFrom = NaN;
      left -= cpu.icount - n0;
      const s = this.settle();
      if (s) return s;
      if (!cpu.stopRequested || cpu.icount === n0) break;
      // the slice ended for something that is no stop (a watched page touched, the program still running)
      cpu.stopRequested = false;
    }
    this.proc.pollTimers();
    // a signal that arrived while the program ran (a timer) is delivered now if it
    // is in user code; inside a syscall path the guest kernel's exit work does it
    if (this.model.inUserCode()) this.deliverPending();
    return this.ended ?? this.take();
  }

  /** After instructions ran: the program's end, or the most pressing stop requested. */
  private settle(): Stop | null {
    if (this.watchpoints.pending) {
      const w = this.watchpoints.check();
      if (w) this.requestStop(w);
    }
    if (!this.ended && this.proc.exitCode !== null) this.ended = { kind: 'exited', code: this.proc.exitCode & 0xff };
    if (this.ended) {
      this.stop = null;
      return this.ended;
    }
    const s = this.take();
    if (s?.kind === 'syscall-entry' && this.model.inTrip()) this.entryStop = { result: -ENOSYS, resultSet: false };
    return s;
  }

  /** At a guest kernel's syscall-entry stop, the RAX a debugger sees (see entryStop); else null: the CPU's. */
  entryStopRax(): number | null {
    return this.entryStop ? this.entryStop.result : null;
  }

  /** A debugger writes RAX at a guest kernel's syscall-entry stop: the result of a skipped call. False if not at one. */
  setEntryStopRax(v: number): boolean {
    if (!this.entryStop) return false;
    this.entryStop = { result: v, resultSet: true };
    return true;
  }

  /** Run to the end of the program. */
  runToEnd(): Extract<Stop, { kind: 'exited' | 'killed' }> {
    for (;;) {
      const s = this.run(1_000_000);
      if (isEnd(s)) return s;
    }
  }

  private kill(sig: number, message: string, addr?: number): void {
    this.ended = { kind: 'killed', signal: sig, addr, message };
    this.cpu.stopRequested = true;
  }

  /** The debugger ends the program (k, vKill). */
  killByDebugger(): void {
    if (!this.ended) this.ended = { kind: 'killed', signal: SIG.KILL, message: 'killed by the debugger' };
  }

  /** The CPU is in the program's own code: not in a syscall path, the trampoline page or the guest kernel. */
  inUserCode(): boolean {
    return this.model.inUserCode();
  }

  /** Where the guest kernel keeps the current task's struct pt_regs (null: the model keeps none). */
  ptregsAddr(): number | null {
    return this.model.ptregsAddr();
  }

  // ---- the port's services ----

  /**
   * The host syscall, whichever entry reached it: a bad guest pointer is
   * -EFAULT and a host-side bug -EIO with a report, never a host exception.
   */
  private hostSyscall(nr: number, a?: SyscallArgs, userRsp?: number, regs32?: ArrayLike<number>): number {
    const proc = this.proc;
    proc.userRsp = userRsp ?? null;
    try {
      return regs32 !== undefined ? syscall32(this.proc, nr, regs32) : syscall(this.proc, nr, a);
    } catch (e) {
      if (e instanceof CpuFault) return -14;
      if (e instanceof WouldBlock) throw e; // retried by the model
      this.warn(`entrystub: internal error in syscall ${nr}: ${(e as Error).message}`);
      return -5;
    } finally {
      proc.userRsp = null;
      if (proc.exitCode !== null) this.cpu.stopRequested = true;
    }
  }

  private tripDone(nr: number, insns: number, describe: () => PathInfo, counted: boolean): void {
    if (counted && this.opts.stats) {
      const st = this.stats.get(nr) ?? { count: 0, insns: 0 };
      st.count++;
      st.insns += insns;
      this.stats.set(nr, st);
    }
    if (this.onPath) this.onPath(describe());
  }

  /** rt_sigreturn on the CPU's user context, or on the one in the pt_regs at regs. */
  private sigreturnOn(regs: number | null): number {
    const cpu = this.cpu;
    const restore = () => {
      try {
        sigreturn(cpu, this.proc, fxrstorFromMem);
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        this.kill(SIG.SEGV, `killed by SIGSEGV: rt_sigreturn with a bad frame at 0x${hex(cpu.getNum(RSP))}`);
      }
    };
    if (regs === null) {
      restore();
      return cpu.getNum(0);
    }
    let ax = 0;
    this.onUserContext(regs, () => {
      restore();
      ax = cpu.getNum(0);
    });
    return ax;
  }

  /** Deliver pending signals on the way back to user space; true if that stopped the machine. */
  private exitWork(regs: number | null): boolean {
    if (regs === null) this.deliverPending();
    else if (this.proc.exitCode === null && this.proc.pending.size > 0) this.onUserContext(regs, () => this.deliverPending());
    if (this.ended) this.cpu.stopRequested = true;
    return this.ended !== null || this.stop !== null;
  }

  /** fn with the CPU holding the user context in pt_regs at regs (see ptregs.ts). */
  private onUserContext(regs: number, fn: () => void): void {
    const outer = this.userContextRegs;
    this.userContextRegs = regs;
    try {
      withUserContext(this.cpu, this.mem, regs, fn);
    } finally {
      this.userContextRegs = outer;
    }
  }

  // ---- signals ----

  /**
   * gdb stub: resume from a stop delivering signal sig, as PTRACE_CONT's data
   * argument does: 0 discards the signal of a 'signal' stop; any other number
   * is delivered now (handler frame, termination, or left pending if blocked).
   */
  resumeSignal(sig: number): void {
    const stopped = this.stoppedSignal;
    this.stoppedSignal = null;
    const st = this.proc;
    if (stopped?.oops) return this.kill(SIG.SEGV, stopped.message, stopped.info.addr); // the task dies, as after Linux's oops
    if (sig === 0) {
      if (stopped && !stopped.forced) st.restoreSavedMask();
      return;
    }
    // stopped in the guest kernel's exit work: the signal goes to the user context in pt_regs
    if (stopped?.regs != null) return this.onUserContext(stopped.regs, () => this.resumeWith(sig, stopped));
    // anywhere else inside a syscall path: pending, delivered on the way out (as Linux's exit work)
    if (this.model.inTrip()) return st.raise(sig, { signo: sig, code: 0 /* SI_USER */ });
    this.resumeWith(sig, stopped);
  }

  private resumeWith(sig: number, stopped: StoppedSignal | null): void {
    const st = this.proc;
    const same = stopped !== null && stopped.info.signo === sig;
    const info: SigInfo = same ? stopped.info : { signo: sig, code: 0 /* SI_USER */ };
    const d = disposition(st, sig);
    // a synchronous fault cannot be blocked or ignored: Linux's force_sig kills
    if (same && stopped.forced && (isBlocked(st, sig) || d !== 'handle')) return this.kill(sig, stopped.message, info.addr);
    if (isBlocked(st, sig) && sig !== SIG.KILL) return st.raise(sig, info);
    if (d === 'ignore') return;
    if (d === 'terminate') return this.kill(sig, `killed by ${signalName(sig)}`);
    this.deliver(info);
    // Linux sets up a frame for every pending signal before returning to user
    // space: the next one's stop comes before the first handler instruction
    if (!this.ended) this.deliverPending();
  }

  /** gdb stub: report a signal before delivering it. */
  private signalStop(info: SigInfo, forced: boolean, message: string, oops = false): void {
    this.stoppedSignal = { info, forced, message, regs: this.userContextRegs, oops };
    this.requestStop({ kind: 'signal', signal: info.signo, info });
  }

  /** Deliver pending, unblocked signals (on the way back to user space). */
  deliverPending(): void {
    const st = this.proc;
    if (st.pending.size === 0) return;
    for (const sig of [...st.pending].sort((a, b) => a - b)) {
      if (isBlocked(st, sig) && sig !== SIG.KILL) continue;
      st.pending.delete(sig);
      const info = st.pendingInfo.get(sig) ?? { signo: sig, code: 0 };
      st.pendingInfo.delete(sig);
      const d = disposition(st, sig);
      if (d === 'ignore') continue;
      if (this.stopOnSignals && !this.passSignals.has(sig)) return this.signalStop(info, false, `killed by ${signalName(sig)}`);
      if (d === 'terminate') return this.kill(sig, `killed by ${signalName(sig)}`);
      this.deliver(info);
      if (this.ended) return;
    }
    st.restoreSavedMask();
  }

  private deliver(info: SigInfo): void {
    if (this.cpu.compat) {
      // no ia32 signal frames (sigframe_ia32, rt_sigframe_ia32) yet; a 32-bit program cannot install handlers either
      this.kill(SIG.SEGV, `killed by SIGSEGV: ${signalName(info.signo)} has a handler, and signal frames for 32-bit programs are not implemented`);
      return;
    }
    try {
      setupFrame(this.cpu, this.proc, info, fxsaveToMem);
      this.cpu.nextRip = this.cpu.rip;
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      this.kill(SIG.SEGV, `killed by SIGSEGV: cannot build the frame for ${signalName(info.signo)} (stack at 0x${hex(this.cpu.getNum(RSP))})`);
    }
  }

  // ---- faults ----

  /** A CPU exception: a synchronous signal in user code (as Linux's trap handlers), an oops in the guest kernel. */
  private fault(e: CpuFault): void {
    const cpu = this.cpu;
    const user = cpu.cpl === 3 && !this.model.kernel?.contains(cpu.rip);
    if (user && (e.vector === Vector.UD || (e.vector === Vector.PF && e.errorCode & PF_FETCH)) && this.model.claimUserFault(e.vector, e.addr)) return;
    const rip = cpu.rip;
    let info: SigInfo;
    let what: string;
    switch (e.vector) {
      case Vector.PF:
        // a page of a file mapping past the file's end: Linux's filemap fault says SIGBUS
        if (user && this.proc.mm.busError(e.addr, (e.errorCode & PF_WRITE) !== 0, (e.errorCode & PF_FETCH) !== 0)) {
          info = { signo: SIG.BUS, code: BUS_ADRERR, addr: e.addr };
          what = `at 0x${hex(rip)}: ${e.errorCode & PF_FETCH ? 'executing' : e.errorCode & PF_WRITE ? 'writing' : 'reading'} address 0x${hex(e.addr)}, past the end of the file mapped there`;
          break;
        }
        // the zpoline page is the guest kernel's: to the program it is not there (MAPERR)
        info = { signo: SIG.SEGV, code: e.errorCode & PF_PRESENT && !(e.addr >= 0 && e.addr < PAGE_SIZE && this.model.reserved().length > 0) ? SEGV_ACCERR : SEGV_MAPERR, addr: e.addr };
        what = `at 0x${hex(rip)}: ${e.errorCode & 16 ? 'executing' : e.errorCode & 2 ? 'writing' : 'reading'} address 0x${hex(e.addr)}`;
        break;
      case Vector.UD: {
        const bytes = e instanceof UndefinedOpcode ? e.bytes : this.bytesAt(rip);
        info = { signo: SIG.ILL, code: ILL_ILLOPN, addr: rip };
        what = `illegal instruction at 0x${hex(rip)}: ${bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
        break;
      }
      case Vector.DE:
        info = { signo: SIG.FPE, code: FPE_INTDIV, addr: rip };
        what = `integer divide error at 0x${hex(rip)}`;
        break;
      case Vector.BP:
        // int3 is a trap: report it after the instruction
        cpu.rip = rip + this.blocks.insnAt(rip).len;
        info = { signo: SIG.TRAP, code: SI_KERNEL };
        what = `breakpoint trap at 0x${hex(rip)}`;
        break;
      default:
        info = { signo: SIG.SEGV, code: SI_KERNEL, addr: 0 };
        what = `general protection fault at 0x${hex(rip)}`;
        if (cpu.cpl === 0 && this.isSysretq(rip)) what += ` (sysretq with non-canonical RCX 0x${hex(cpu.getNum(RCX))}, on the user stack)`;
    }
    if (!user) return this.kernelFault(e, info, what);
    this.userFault(info, what);
  }

  private userFault(info: SigInfo, what: string): void {
    const st = this.proc;
    if (this.stopOnSignals && !this.passSignals.has(info.signo)) return this.signalStop(info, true, `killed by ${signalName(info.signo)}: ${what}`);
    if (isBlocked(st, info.signo) || disposition(st, info.signo) !== 'handle') return this.kill(info.signo, `killed by ${signalName(info.signo)}: ${what}`, info.addr);
    if (this.model.relayUserFault(info)) return;
    this.deliver(info);
  }

  /**
   * A fault in guest kernel code. An entry model may fix it up as Linux's
   * exception table does (a bad IRET frame becomes a SIGSEGV in user mode);
   * anything else is an oops: the kernel log names the symbol, a debugger
   * stops there, and the task dies with SIGSEGV as after Linux's oops_end.
   */
  private kernelFault(e: CpuFault, info: SigInfo, what: string): void {
    const fixed = this.model.fixupKernelFault(e.vector);
    if (fixed) return this.userFault(fixed, `${fixed.signo === SIG.SEGV ? 'general protection fault' : 'fault'} on return to user space (${what}, fixed up)`);
    const where = this.symbolize(this.cpu.rip);
    const line = `Oops: ${what} in ${where}`;
    this.printk(line);
    const message = `kernel oops: ${what} in ${where}`;
    if (this.stopOnSignals) return this.signalStop({ ...info, signo: SIG.SEGV }, true, `killed by SIGSEGV: ${message}`, true);
    this.kill(SIG.SEGV, message, info.addr);
  }

  private isSysretq(rip: number): boolean {
    const b = new Uint8Array(3);
    return this.mem.peek(rip, b) === 3 && b[0] === 0x48 && b[1] === 0x0f && b[2] === 0x07;
  }

  /** symbol+offset for an address in the guest kernel image (or its zpoline page), else hex. */
  symbolize(addr: number): string {
    return this.model.kernel?.symbolize(addr) ?? `0x${hex(addr)}`;
  }

  private bytesAt(addr: number): number[] {
    const b = new Uint8Array(15);
    const n = this.mem.peek(addr, b);
    return [...b.subarray(0, Math.min(n, 4))];
  }
}

/** The FPU/SSE state saved in a signal frame: the 512-byte fxsave image. */
function fxsaveToMem(cpu: CPU, mem: Memory, addr: number): void {
  const img = new Uint8Array(512);
  fxsaveTo(cpu, img);
  mem.writeBytes(addr, img);
}

function fxrstorFromMem(cpu: CPU, mem: Memory, addr: number): void {
  fxrstorFrom(cpu, mem.readBytes(addr, 512));
}

function hex(v: number): string {
  return v < 0 ? (BigInt(v) + (1n << 64n)).toString(16) : v.toString(16);
}

/** Guest path of a host path under root (the host path itself when root is '/'). */
export function guestPathOf(root: string, hostPath: string): string {
  if (root === '/') return hostPath;
  const rel = path.relative(root, hostPath);
  if (rel.startsWith('..')) return '/';
  return '/' + rel;
}
