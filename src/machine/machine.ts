/**
 * Machine = CPU + memory + kernel: the one object that `entrystub run` and a
 * gdb session drive. It runs the program in slices and reports what stopped
 * it as a StopEvent, the single source of truth the CLI and the RSP layer
 * both render.
 */
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CPU, RCX, RDX, RSP, R11 } from '../cpu/cpu.js';
import { Memory, PROT_READ, PROT_WRITE } from '../cpu/memory.js';
import { CpuFault, PF_PRESENT, UndefinedOpcode, Vector } from '../cpu/fault.js';
import { BlockCache, runBlocks } from '../cpu/run.js';
import type { Insn } from '../cpu/insn.js';
import { buildStack, loadElf, readProgram, STACK_SIZE, STACK_TOP, type LoadedImage } from '../kernel/loader.js';
import { Process } from '../kernel/process.js';
import { disposition, isBlocked, setupFrame, sigreturn, signalName, SIG, type SigInfo } from '../kernel/signal.js';

export type EntryMode = 'direct';

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
  /** One-line reports (unknown syscalls, fatal signals); default: stderr. */
  warn?: (msg: string) => void;
}

export type StopEvent =
  | { reason: 'exited'; code: number }
  | { reason: 'signaled'; signal: number; addr?: number; message: string }
  | { reason: 'breakpoint'; addr: number }
  | { reason: 'syscall-entry'; nr: number }
  | { reason: 'syscall-return'; nr: number; ret: number }
  // gdb stub: a signal about to be delivered (only with stopOnSignals); resume with resumeSignal()
  | { reason: 'signal'; signal: number; info: SigInfo }
  | { reason: 'budget' };

const SEGV_MAPERR = 1, SEGV_ACCERR = 2, ILL_ILLOPN = 2, FPE_INTDIV = 1, SI_KERNEL = 0x80, TRAP_BRKPT = 1;

export class Machine {
  readonly mem = new Memory();
  readonly cpu = new CPU(this.mem);
  readonly blocks = new BlockCache(this.cpu);
  readonly proc: Process;
  image!: LoadedImage;
  /** Set when the program has ended. */
  ended: StopEvent | null = null;
  private readonly warn: (msg: string) => void;
  /**
   * Syscalls a debugger catches: null = none, 'all', or a set of numbers.
   * A caught syscall stops twice: before it runs (syscall-entry, RIP at the
   * syscall instruction) and after it returns (syscall-return).
   */
  catchSyscalls: Set<number> | 'all' | null = null;
  /** The syscall whose entry was reported; it runs on the next resume. */
  private enteredSyscall = -1;
  /** Stop event produced inside an instruction (catch syscall). */
  private pendingStop: StopEvent | null = null;
  /** Number of the syscall in progress (the orig_rax a debugger sees), -1 outside one. */
  origRax = -1;
  /**
   * gdb stub: with a debugger attached, stop with a 'signal' event before a
   * signal is delivered (ptrace's signal-delivery-stop), except for signals in
   * passSignals (QPassSignals). The debugger resumes with resumeSignal(sig).
   */
  stopOnSignals = false;
  passSignals: ReadonlySet<number> = new Set();
  /** gdb stub: the signal of the last 'signal' stop, until the next resume. */
  private stoppedSignal: { info: SigInfo; forced: boolean; message: string } | null = null;
  /** gdb stub: a signal stop found by resumeSignal, reported by the next run before any instruction. */
  private queuedStop: StopEvent | null = null;

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
    this.cpu.onSyscall = (cpu, i) => this.directSyscall(cpu, i);
  }

  /** execve: load the program and build its stack. Throws ExecError. */
  load(): void {
    const data = readProgram(this.opts.program, this.opts.program);
    const img = loadElf(this.mem, data, this.opts.program);
    this.image = img;
    for (const s of img.segments) this.proc.mm.addVma(s.start, s.end, s.prot, 'elf');
    this.proc.mm.setBrkStart(img.brk);
    const sp = buildStack(this.mem, img, {
      argv: this.opts.argv,
      envp: this.opts.env,
      execfn: this.opts.argv[0] ?? this.opts.program,
      uid: process.getuid?.() ?? 0,
      euid: process.geteuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
      egid: process.getegid?.() ?? 0,
      hwcap: 0x178bfbff,
      random: randomBytes(16),
      platform: 'x86_64',
    });
    this.proc.mm.addVma(STACK_TOP - STACK_SIZE, STACK_TOP, PROT_READ | PROT_WRITE, '[stack]');
    const cpu = this.cpu;
    cpu.rl.fill(0);
    cpu.rh.fill(0);
    cpu.setNum(RSP, sp);
    cpu.setNum(RDX, 0); // static glibc registers RDX as an exit handler: Linux starts with 0
    cpu.rip = img.entry;
    cpu.setFlags(0x202);
  }

  /**
   * Run up to budget instructions; null if the budget ran out with the program
   * still alive. A breakpoint at `resumeFrom` is passed over if execution
   * starts there (a debugger resuming from the breakpoint it stopped at).
   */
  run(budget: number, resumeFrom = NaN): StopEvent | null {
    if (this.ended) return this.ended;
    const cpu = this.cpu;
    cpu.stopRequested = false;
    cpu.atBreakpoint = false;
    this.pendingStop = null;
    if (this.queuedStop) {
      const q = this.queuedStop;
      this.queuedStop = null;
      return q;
    }
    this.stoppedSignal = null; // resuming without resumeSignal() discards a stopped signal
    if (this.enteredSyscall < 0) this.origRax = -1;
    try {
      runBlocks(cpu, this.blocks, budget, resumeFrom);
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      this.fault(e);
    }
    if (this.ended) return this.ended;
    if (this.proc.exitCode !== null) return this.exit(this.proc.exitCode);
    if (this.pendingStop) return this.pendingStop;
    if (cpu.atBreakpoint) return { reason: 'breakpoint', addr: cpu.rip };
    this.proc.pollTimers();
    this.deliverPending();
    return this.ended ?? this.pendingStop; // pendingStop: a signal stop (gdb stub)
  }

  /**
   * gdb stub: resume from a stop delivering signal sig, as PTRACE_CONT's data
   * argument does: 0 discards the signal of a 'signal' stop; any other number
   * is delivered now (handler frame, termination, or left pending if blocked).
   */
  resumeSignal(sig: number): void {
    const stopped = this.stoppedSignal;
    this.stoppedSignal = null;
    const st = this.proc;
    if (sig === 0) {
      if (stopped && !stopped.forced) st.restoreSavedMask();
      return;
    }
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
    this.pendingStop = null;
    if (!this.ended) this.deliverPending();
    this.queuedStop = this.pendingStop;
    this.pendingStop = null;
  }

  /** gdb stub: report signal info before delivering it. */
  private signalStop(info: SigInfo, forced: boolean, message: string): void {
    this.stoppedSignal = { info, forced, message };
    this.pendingStop = { reason: 'signal', signal: info.signo, info };
    this.cpu.stopRequested = true;
  }

  /** Run to the end of the program. */
  runToEnd(): StopEvent {
    for (;;) {
      const ev = this.run(1_000_000);
      if (ev) return ev;
    }
  }

  private exit(code: number): StopEvent {
    this.ended = { reason: 'exited', code: code & 0xff };
    return this.ended;
  }

  private kill(sig: number, message: string, addr?: number): void {
    this.ended = { reason: 'signaled', signal: sig, addr, message };
  }

  /** The `direct` entry: the host handles `syscall` in place, with SYSCALL's RCX/R11 effects. */
  private directSyscall(cpu: CPU, i: Insn): void {
    const nr = cpu.rl[0];
    const caught = this.catchSyscalls !== null && (this.catchSyscalls === 'all' || this.catchSyscalls.has(nr));
    if (caught && this.enteredSyscall !== nr) {
      // report the entry; the syscall instruction runs again on resume
      this.enteredSyscall = nr;
      this.origRax = nr;
      cpu.nextRip = i.addr;
      this.pendingStop = { reason: 'syscall-entry', nr };
      cpu.stopRequested = true;
      return;
    }
    this.enteredSyscall = -1;
    this.origRax = nr;
    cpu.setNum(RCX, i.next);
    cpu.set64(R11, cpu.getFlags(), 0);
    cpu.rip = i.next;
    if (nr === 15) {
      try {
        sigreturn(cpu, this.proc, fxrstorFrom);
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        this.kill(SIG.SEGV, `rt_sigreturn with a bad frame at 0x${cpu.getNum(RSP).toString(16)}`);
        cpu.stopRequested = true;
      }
      if (!this.ended) this.deliverPending(); // signals unblocked by the restored mask
      cpu.nextRip = cpu.rip;
      return;
    }
    let r: number;
    try {
      r = this.proc.syscall(nr);
    } catch (e) {
      if (e instanceof CpuFault) r = -14;
      else {
        this.warn(`entrystub: internal error in syscall ${nr}: ${(e as Error).message}`);
        r = -5;
      }
    }
    cpu.setNum(0, r);
    if (this.proc.exitCode !== null) cpu.stopRequested = true;
    else if (caught) {
      this.pendingStop = { reason: 'syscall-return', nr, ret: r };
      cpu.stopRequested = true;
    } else this.deliverPending();
    cpu.nextRip = cpu.rip;
    if (this.ended) cpu.stopRequested = true;
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
      if (d === 'terminate') {
        this.kill(sig, `killed by ${signalName(sig)}`);
        return;
      }
      this.deliver(info);
      if (this.ended) return;
    }
    st.restoreSavedMask();
  }

  private deliver(info: SigInfo): void {
    try {
      setupFrame(this.cpu, this.proc, info, fxsaveTo);
      this.cpu.nextRip = this.cpu.rip;
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      this.kill(SIG.SEGV, `killed by SIGSEGV: cannot build the frame for ${signalName(info.signo)} (stack at 0x${this.cpu.getNum(RSP).toString(16)})`);
    }
  }

  /** A CPU exception in user mode becomes a synchronous signal, as Linux's trap handlers do. */
  private fault(e: CpuFault): void {
    const cpu = this.cpu;
    const rip = cpu.rip;
    let info: SigInfo;
    let what: string;
    switch (e.vector) {
      case Vector.PF:
        info = { signo: SIG.SEGV, code: e.errorCode & PF_PRESENT ? SEGV_ACCERR : SEGV_MAPERR, addr: e.addr };
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
        void TRAP_BRKPT;
        break;
      default:
        info = { signo: SIG.SEGV, code: SI_KERNEL, addr: 0 };
        what = `general protection fault at 0x${hex(rip)}`;
    }
    const st = this.proc;
    if (this.stopOnSignals && !this.passSignals.has(info.signo)) return this.signalStop(info, true, `killed by ${signalName(info.signo)}: ${what}`);
    if (isBlocked(st, info.signo) || disposition(st, info.signo) !== 'handle') {
      this.kill(info.signo, `killed by ${signalName(info.signo)}: ${what}`, info.addr);
      return;
    }
    this.deliver(info);
  }

  private bytesAt(addr: number): number[] {
    const b = new Uint8Array(15);
    const n = this.mem.peek(addr, b);
    return [...b.subarray(0, Math.min(n, 4))];
  }
}

/** The FPU/SSE state image saved in a signal frame (fxsave layout: FCW, MXCSR, XMM0-15). */
function fxsaveTo(cpu: CPU, mem: Memory, addr: number): void {
  const img = new Uint8Array(512);
  const dv = new DataView(img.buffer);
  dv.setUint16(0, cpu.fcw, true);
  dv.setUint16(2, cpu.fsw, true);
  dv.setUint32(24, cpu.mxcsr, true);
  dv.setUint32(28, 0xffbf, true);
  for (let k = 0; k < 64; k++) dv.setInt32(160 + k * 4, cpu.xmm[k], true);
  mem.writeBytes(addr, img);
}

function fxrstorFrom(cpu: CPU, mem: Memory, addr: number): void {
  const img = mem.readBytes(addr, 512);
  const dv = new DataView(img.buffer);
  cpu.fcw = dv.getUint16(0, true);
  cpu.fsw = dv.getUint16(2, true);
  cpu.mxcsr = dv.getUint32(24, true) & 0xffff;
  for (let k = 0; k < 64; k++) cpu.xmm[k] = dv.getInt32(160 + k * 4, true);
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
