/**
 * Machine = CPU + memory + kernel: the one object that `entrystub run` and a
 * gdb session drive. It runs the program in slices and reports what stopped
 * it as a StopEvent, the single source of truth the CLI and the RSP layer
 * both render.
 */
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CPU, RCX, RDI, RDX, RSP, R11 } from '../cpu/cpu.js';
import { Memory, PROT_READ, PROT_WRITE } from '../cpu/memory.js';
import { CpuFault, PF_PRESENT, UndefinedOpcode, Vector } from '../cpu/fault.js';
import { BlockCache, runBlocks } from '../cpu/run.js';
import type { Insn } from '../cpu/insn.js';
import { buildStack, loadElf, readProgram, STACK_SIZE, STACK_TOP, type LoadedImage } from '../kernel/loader.js';
import { NR_SYSCALLS, loadKernelImage, mapTrampoline, rewriteSyscallSites, TRAMPOLINE_TAIL, TRAMPOLINE_TAIL_END, type EntryModel, type Hook, type KernelImage } from '../kernel/guest.js';
import { SyscallArgs } from '../kernel/sys/util.js';
import { SYSCALL_NAMES } from '../kernel/sysnames.js';
import { EINTR, ENOSYS, WouldBlock } from '../kernel/errno.js';
import { setPrivilege } from '../cpu/ops/system.js';
import { fxsaveTo, fxrstorFrom } from '../cpu/ops/sse.js';
import { PAGE_SIZE, PROT_EXEC } from '../cpu/memory.js';
import { Process } from '../kernel/process.js';
import { syscall } from '../kernel/syscalls.js';
import { disposition, isBlocked, setupFrame, sigreturn, signalName, SIG, type SigInfo } from '../kernel/signal.js';

export type { EntryModel, Hook } from '../kernel/guest.js';

/** struct pt_regs field offsets (src/guest/pt_regs.h). */
export const PT = {
  r15: 0, r14: 8, r13: 16, r12: 24, bp: 32, bx: 40, r11: 48, r10: 56, r9: 64, r8: 72, ax: 80, cx: 88, dx: 96, si: 104, di: 112,
  orig_ax: 120, ip: 128, cs: 136, flags: 144, sp: 152, ss: 160,
} as const;
/** pt_regs slots of the 16 GPRs in CPU register order (rax rcx rdx rbx rsp rbp rsi rdi r8..r15); rsp is pt_regs->sp. */
const PT_OF_REG = [80, 88, 96, 40, 152, 32, 104, 112, 72, 64, 56, 48, 24, 16, 8, 0];
const HC_SYSCALL = 1, HC_EXIT_WORK = 2, HC_PRINTK = 3, HC_BOOT_DONE = 4;
/** pt_regs slots of the six syscall arguments: di, si, dx, r10, r8, r9. */
const ARG_SLOTS = [PT.di, PT.si, PT.dx, PT.r10, PT.r8, PT.r9];

/** One trip through the guest kernel's entry path (for `entrystub trace --path`). */
export interface PathInfo {
  nr: number;
  /** How the program entered: the sled offset, the trap, or SYSCALL through LSTAR. */
  via: string;
  /** The named steps of the path. */
  steps: string[];
  /** The pt_regs the entry wrote (as the exit path sees them). */
  ptregs: { orig_ax: number; ax: number; ip: number; sp: number; flags: number };
  /** The six argument slots (di, si, dx, r10, r8, r9). */
  args: number[];
  /** How it returned: jmp *%rcx, sysretq, or iretq and the SYSRET check that failed. */
  route: string;
  /** Guest instructions from the user instruction to the next user instruction. */
  insns: number;
}

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
  /** One-line reports (unknown syscalls, fatal signals); default: stderr. */
  warn?: (msg: string) => void;
  /** How syscalls enter the kernel (default direct: the host handles `syscall` in place). */
  entry?: EntryModel;
  /** nommu: how a user `syscall` reaches __kernel_vsyscall (default zpoline). */
  hook?: Hook;
  /** Guest kernel messages (printk). */
  kernelLog?: (line: string) => void;
  /** Count syscalls and the instructions of their entry/exit path. */
  stats?: boolean;
}

export type StopEvent =
  | { reason: 'exited'; code: number }
  | { reason: 'signaled'; signal: number; addr?: number; message: string }
  | { reason: 'breakpoint'; addr: number }
  | { reason: 'syscall-entry'; nr: number }
  | { reason: 'syscall-return'; nr: number; ret: number }
  // gdb stub: a signal about to be delivered (only with stopOnSignals); resume with resumeSignal()
  | { reason: 'signal'; signal: number; info: SigInfo }
  // a syscall would sleep while a debugger is attached (Process.cooperative): run() again in about ms
  | { reason: 'blocked'; ms: number }
  | { reason: 'budget' };

/** Linux's internal 'restart this syscall' code: what RAX shows while a task sleeps in one. */
const ERESTARTSYS = 512;
const SEGV_MAPERR = 1, SEGV_ACCERR = 2, ILL_ILLOPN = 2, FPE_INTDIV = 1, SI_KERNEL = 0x80;

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
  /**
   * A direct-entry syscall that has not run yet: its entry stop was reported,
   * or it would have blocked with a debugger attached. The next run() runs it
   * (if RIP is still just past it). `at` is that RIP.
   */
  private pendingSyscall: { at: number; caught: boolean; nr: number } | null = null;
  /** A syscall would block (cooperative): run() reports {reason: 'blocked'}; a retry in about this many ms. */
  private blockedMs = 0;
  /** The hypercall that would block (guest kernel entries): the vmcall runs again on the next run(). */
  private blockedVmcall = false;
  /** Stop event produced inside an instruction (catch syscall). */
  private pendingStop: StopEvent | null = null;
  /** Number of the syscall in progress (the orig_rax a debugger sees), -1 outside one. */
  origRax = -1;
  readonly entry: EntryModel;
  readonly hook: Hook;
  /** The guest kernel image (nommu and native models). */
  kernel: KernelImage | null = null;
  /** Syscall sites rewritten to `call *%rax` (zpoline at exec, lazy on first use). */
  readonly rewritten = new Set<number>();
  lazyRewrites = 0;
  /** Guest kernel messages. */
  readonly kernelLog: string[] = [];
  /** --stats: per syscall number. */
  readonly stats = new Map<number, SyscallStat>();
  /** icount at the user instruction that entered the kernel path, -1 outside one. */
  private entryIcount = -1;
  private entryNr = -1;
  /**
   * How the current trip entered the path, for PathInfo.via (formatted only
   * when a trace asks): the user instruction's address, the way in, and the
   * sled offset of a `call *%rax`.
   */
  private entryAt = 0;
  private entryHow: 'call' | 'trap' | 'lstar' = 'call';
  private entrySled = 0;
  /** Called when a trip through the entry path returns to the program. */
  onPath: ((p: PathInfo) => void) | null = null;
  /** A caught syscall in a guest kernel path: stop again when it returns to the program. */
  private returnStopNr = -1;
  private booted = false;
  private warnedZpolineMiss = false;
  /**
   * gdb stub: with a debugger attached, stop with a 'signal' event before a
   * signal is delivered (ptrace's signal-delivery-stop), except for signals in
   * passSignals (QPassSignals). The debugger resumes with resumeSignal(sig).
   */
  stopOnSignals = false;
  passSignals: ReadonlySet<number> = new Set();
  /** gdb stub: the signal of the last 'signal' stop, until the next resume. */
  private stoppedSignal: { info: SigInfo; forced: boolean; message: string; regs: number | null } | null = null;
  /** While withUserContext runs: the pt_regs it works on (a signal stop there resumes there). */
  private userContextRegs: number | null = null;
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
    this.entry = opts.entry ?? 'direct';
    this.hook = opts.hook ?? 'zpoline';
    this.cpu.onSyscall = (cpu, i) => (this.entry === 'nommu' ? this.nommuSyscall(cpu, i) : this.directSyscall(cpu, i));
    this.cpu.onTrap = (cpu, kind, i) => this.trap(cpu, kind, i);
  }

  private printk(line: string): void {
    this.kernelLog.push(line);
    this.opts.kernelLog?.(line);
  }

  /** execve: load the program and build its stack. Throws ExecError. */
  load(): void {
    const data = readProgram(this.opts.program, this.opts.program);
    const reserved: [number, number][] = [];
    if (this.entry !== 'direct') {
      this.kernel = loadKernelImage(this.mem, this.entry);
      reserved.push([this.kernel.start, this.kernel.end]);
      if (this.entry === 'nommu' && this.hook !== 'seccomp') reserved.push([0, PAGE_SIZE]);
    }
    const img = loadElf(this.mem, data, this.opts.program, reserved);
    this.image = img;
    if (this.kernel) this.proc.mm.addVma(this.kernel.start, this.kernel.end, PROT_READ | PROT_WRITE | PROT_EXEC, '[kernel]');
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
    if (this.entry === 'nommu') this.setupNommu();
    else if (this.entry === 'native') this.bootNative();
    if (this.kernel) this.setupExitProbes();
  }

  private setupNommu(): void {
    const k = this.kernel!;
    this.writeKernelWord('task_regs', PT.orig_ax, -1);
    if (this.hook === 'seccomp') return;
    mapTrampoline(this.mem, k.sym('__kernel_vsyscall'));
    if (this.hook === 'zpoline') {
      const ranges = this.image.segments.filter((s) => s.prot & PROT_EXEC).map((s): [number, number] => [s.start, s.end]);
      for (const a of rewriteSyscallSites(this.mem, ranges)) this.rewritten.add(a);
    }
    // the trampoline's guard: only a rewritten site may call into the sled
    this.blocks.pageProbe = (rip) =>
      rip >= 0 && rip < PAGE_SIZE && (rip <= TRAMPOLINE_TAIL || rip >= TRAMPOLINE_TAIL_END) ? (cpu) => this.trampolineGuard(cpu) : null;
  }

  /** Native: run the guest's boot code at CPL 0 (syscall_init programs the MSRs), then drop to user mode. */
  private bootNative(): void {
    const cpu = this.cpu;
    const k = this.kernel!;
    const user = { rip: cpu.rip, rsp: cpu.getNum(RSP) };
    setPrivilege(cpu, 0, 0x10, 0x18);
    cpu.setFlags(2);
    cpu.rip = k.sym('start_kernel_entry');
    for (let n = 0; n < 100 && !this.booted; n++) {
      cpu.stopRequested = false;
      runBlocks(cpu, this.blocks, 100_000);
    }
    if (!this.booted) throw new Error('guest kernel did not finish booting');
    this.writeKernelWord('task_regs', PT.orig_ax, -1);
    setPrivilege(cpu, 3, 0x33, 0x2b);
    cpu.rl.fill(0);
    cpu.rh.fill(0);
    cpu.setNum(RSP, user.rsp);
    cpu.rip = user.rip;
    cpu.setFlags(0x202);
    cpu.archSyscall = true;
    cpu.stopRequested = false;
  }

  /** Probes on the return instructions: --stats, and a caught syscall's return stop under nommu. */
  private setupExitProbes(): void {
    const k = this.kernel!;
    for (const [n, route] of [['entry_SYSRETQ_unsafe_stack', 'sysretq'], ['native_irq_return_iret', 'iretq']])
      if (k.symbols.has(n)) this.blocks.setProbe(k.sym(n), (cpu) => this.pathExit(cpu.icount + 1, route));
    if (k.symbols.has('userspace_return'))
      this.blocks.setProbe(k.sym('userspace_return'), (cpu) => {
        if (this.returnStopNr >= 0 && !this.caught(this.returnStopNr)) this.returnStopNr = -1;
        this.pathExit(cpu.icount + 1, 'jmp *%rcx');
        if (this.returnStopNr >= 0) {
          // do the `jmp *%rcx` here so the stop is at the user instruction
          cpu.rip = cpu.getNum(RCX);
          cpu.icount++;
          this.returnStop();
        }
      });
  }

  private caught(nr: number): boolean {
    return this.catchSyscalls !== null && (this.catchSyscalls === 'all' || this.catchSyscalls.has(nr));
  }

  /**
   * The program entered the kernel path (the sled, __kernel_vsyscall or
   * entry_SYSCALL_64 is next). A caught syscall stops here, at the first
   * instruction of the path, so a debugger can step on through it.
   */
  private pathEntry(icount: number, nr: number, how: 'call' | 'trap' | 'lstar', at: number, sled = nr): void {
    if (this.entryIcount >= 0) return;
    this.entryHow = how;
    this.entryAt = at;
    this.entrySled = sled;
    this.entryIcount = icount;
    this.entryNr = nr;
    this.origRax = nr;
    if (this.caught(nr)) {
      this.pendingStop = { reason: 'syscall-entry', nr };
      this.cpu.stopRequested = true;
      this.returnStopNr = nr;
    }
  }

  /** The kernel path is about to return to the program (the return instruction is next). */
  private pathExit(icountAfter: number, route: string): void {
    if (this.entryIcount < 0) return;
    if (this.onPath) this.onPath(this.pathInfo(icountAfter - this.entryIcount, route));
    if (this.opts.stats) {
      const st = this.stats.get(this.entryNr) ?? { count: 0, insns: 0 };
      st.count++;
      st.insns += icountAfter - this.entryIcount;
      this.stats.set(this.entryNr, st);
    }
    this.entryIcount = -1;
    if (this.returnStopNr < 0) this.origRax = -1;
  }

  private pathInfo(insns: number, route: string): PathInfo {
    const b = new Uint8Array(168);
    this.mem.peek(this.ptregsAddr(), b);
    const dv = new DataView(b.buffer);
    const q = (o: number) => Number(dv.getBigInt64(o, true));
    const ptregs = { orig_ax: q(PT.orig_ax), ax: q(PT.ax), ip: q(PT.ip), sp: q(PT.sp), flags: q(PT.flags) };
    const args = ARG_SLOTS.map(q);
    const nr = this.entryNr;
    const sys = nr >= 0 && nr < NR_SYSCALLS ? (SYSCALL_NAMES[nr] ? `__x64_sys_${SYSCALL_NAMES[nr]}` : 'sys_ni_syscall') : 'beyond sys_call_table (-ENOSYS)';
    const steps =
      this.entry === 'native'
        ? ['entry_SYSCALL_64', 'do_syscall_64', sys, 'syscall_return_slowpath', 'SYSRET checks']
        : [...(this.hook === 'seccomp' ? [] : ['trampoline']), '__kernel_vsyscall', 'do_syscall_64', sys, 'userspace'];
    if (route === 'iretq') {
      // which of the six v5.8 checks sent it to IRET
      const cs = q(PT.cs), ss = q(PT.ss), r11 = q(PT.r11), cx = q(PT.cx);
      const why =
        cx !== ptregs.ip ? 'RCX != RIP'
        : ptregs.ip >= 0x800000000000 || ptregs.ip < -0x800000000000 ? 'RIP not canonical'
        : cs !== 0x33 ? 'CS != __USER_CS'
        : r11 !== ptregs.flags ? 'R11 != RFLAGS'
        : r11 & 0x10100 ? 'RF or TF set'
        : ss !== 0x2b ? 'SS != __USER_DS' : '?';
      route = `iretq (${why})`;
    }
    return { nr: this.entryNr, via: this.entryViaText(), steps, ptregs, args, route, insns };
  }

  private entryViaText(): string {
    const at = `0x${hex(this.entryAt)}`;
    switch (this.entryHow) {
      case 'lstar':
        return `syscall at ${at} → CPL 3 → 0 through MSR_LSTAR`;
      case 'call':
        return `call *%rax at ${at} → sled +${this.entrySled}`;
      case 'trap':
        return this.hook === 'seccomp' ? `syscall at ${at} trapped` : `syscall at ${at} trapped, rewritten to call *%rax → sled +${this.entrySled}`;
    }
  }

  /**
   * A caught syscall's return stop, at the user instruction after the syscall:
   * back in user space after a syscall whose entry was caught: stop again,
   * unless the debugger no longer catches it (catchpoint deleted, or it is
   * single-stepping: as with ptrace, steps see no syscall stops).
   */
  private returnStop(): void {
    const nr = this.returnStopNr;
    this.returnStopNr = -1;
    if (!this.caught(nr)) return;
    this.pendingStop = { reason: 'syscall-return', nr, ret: this.cpu.getNum(0) };
    this.cpu.stopRequested = true;
  }

  /** Where the guest kernel keeps the task's struct pt_regs (nommu: task_regs; native: the top of the kernel stack). */
  ptregsAddr(): number {
    if (this.entry === 'nommu') return this.ksym('task_regs');
    return this.readKernelWord(this.ksym('current_top_of_stack')) - 168;
  }

  /** Address of a guest kernel symbol plus an offset. */
  private ksym(name: string, off = 0): number {
    return this.kernel!.sym(name) + off;
  }

  private readKernelWord(addr: number): number {
    const b = new Uint8Array(8);
    this.mem.peek(addr, b);
    const dv = new DataView(b.buffer);
    return dv.getInt32(4, true) * 4294967296 + dv.getUint32(0, true);
  }

  private writeKernelWord(sym: string, off: number, v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(v), true);
    this.mem.poke(this.ksym(sym, off), b);
  }

  /** The trampoline page's guard: the sled may only be entered from a rewritten site (zpoline's bitmap check). */
  private trampolineGuard(cpu: CPU): void {
    const sp = cpu.getNum(RSP);
    const b = new Uint8Array(8);
    const ok = this.mem.peek(sp, b) === 8;
    const ret = ok ? new DataView(b.buffer).getInt32(4, true) * 4294967296 + new DataView(b.buffer).getUint32(0, true) : -1;
    if (!ok || !this.rewritten.has(ret - 2)) throw new CpuFault(Vector.PF, cpu.rip, PF_PRESENT | 16 | 4);
    this.pathEntry(cpu.icount - 1, cpu.rl[0], 'call', ret - 2, cpu.rip);
  }

  /** A user `syscall` in the nommu model (one that zpoline did not rewrite). */
  private nommuSyscall(cpu: CPU, i: Insn): void {
    const k = this.kernel!;
    this.pathEntry(cpu.icount, cpu.rl[0], 'trap', i.addr);
    if (this.hook === 'seccomp') {
      // the SIGSYS handler's edit: RCX = next instruction, RIP = __kernel_vsyscall, nothing pushed
      cpu.setNum(RCX, i.next);
      cpu.nextRip = k.sym('__kernel_vsyscall');
      return;
    }
    if (this.hook === 'lazy') {
      // rewrite this site, then do what the new `call *%rax` does
      this.mem.poke(i.addr, Uint8Array.of(0xff, 0xd0));
      this.rewritten.add(i.addr);
      this.lazyRewrites++;
      cpu.push64(i.next % 4294967296 | 0, Math.floor(i.next / 4294967296));
      cpu.nextRip = cpu.getNum(0);
      return;
    }
    // zpoline: a site the exec-time sweep could not see (code written at run time) reaches the host directly
    if (!this.warnedZpolineMiss) {
      this.warnedZpolineMiss = true;
      this.printk(`zpoline: syscall at 0x${hex(i.addr)} was not rewritten at exec; it bypasses the guest kernel (use --hook lazy)`);
    }
    this.entryIcount = -1;
    this.directSyscall(cpu, i);
  }

  /** Hypercalls and privilege transitions reported by the CPU. */
  private trap(cpu: CPU, kind: string, _i: Insn): void {
    if (kind === 'syscall-entry') {
      this.pathEntry(cpu.icount, cpu.rl[0], 'lstar', _i.addr);
      return;
    }
    if (kind === 'return-to-user') {
      if (this.returnStopNr >= 0) this.returnStop();
      return;
    }
    if (kind !== 'vmcall') return;
    if (this.entry === 'native' && cpu.cpl !== 0) throw new CpuFault(Vector.UD);
    const regs = cpu.getNum(RDI);
    switch (cpu.rl[0]) {
      case HC_SYSCALL:
        try {
          cpu.setNum(0, this.hcSyscall(regs));
        } catch (e) {
          if (!(e instanceof WouldBlock)) throw e;
          // sleeping in the syscall: this vmcall runs again when the machine is resumed
          cpu.nextRip = _i.addr;
          cpu.stopRequested = true;
          this.blockedMs = e.ms;
          this.blockedVmcall = true;
        }
        break;
      case HC_EXIT_WORK:
        this.hcExitWork(regs);
        break;
      case HC_PRINTK:
        this.printk(new TextDecoder().decode(this.peekCString(regs)));
        break;
      case HC_BOOT_DONE:
        this.booted = true;
        cpu.stopRequested = true;
        break;
      default:
        throw new CpuFault(Vector.UD);
    }
  }

  private peekCString(addr: number): Uint8Array {
    const out: number[] = [];
    const b = new Uint8Array(1);
    while (out.length < 1024 && this.mem.peek(addr + out.length, b) === 1 && b[0] !== 0) out.push(b[0]);
    return Uint8Array.from(out);
  }

  private readPtRegs(regs: number): DataView {
    const b = new Uint8Array(168);
    this.mem.peek(regs, b);
    return new DataView(b.buffer);
  }

  private readonly ptScratch = new Uint8Array(168);
  private readonly ptView = new DataView(this.ptScratch.buffer);
  private readonly sysArgs = new SyscallArgs();

  /** HC_SYSCALL: the host performs syscall regs->orig_ax with the arguments in pt_regs. */
  private hcSyscall(regs: number): number {
    this.mem.peek(regs, this.ptScratch);
    const pt = this.ptView;
    const nr = pt.getInt32(PT.orig_ax, true);
    this.origRax = nr;
    if (nr === 15) {
      let ax = 0;
      this.withUserContext(regs, () => {
        sigreturn(this.cpu, this.proc, fxrstorFromMem);
        ax = this.cpu.getNum(0);
      });
      return ax;
    }
    const a = this.sysArgs;
    for (let k = 0; k < 6; k++) {
      a.lo[k] = pt.getInt32(ARG_SLOTS[k], true);
      a.hi[k] = pt.getInt32(ARG_SLOTS[k] + 4, true);
    }
    this.proc.userRsp = pt.getInt32(PT.sp + 4, true) * 4294967296 + pt.getUint32(PT.sp, true);
    let r: number;
    try {
      r = this.hostSyscall(nr, a);
    } finally {
      this.proc.userRsp = null;
    }
    if (this.proc.exitCode !== null) this.cpu.stopRequested = true;
    return r;
  }

  /**
   * The host syscall, whichever entry reached it: a bad guest pointer is
   * -EFAULT and a host-side bug -EIO with a report, never a host exception.
   */
  private hostSyscall(nr: number, a?: SyscallArgs): number {
    try {
      return syscall(this.proc, nr, a);
    } catch (e) {
      if (e instanceof CpuFault) return -14;
      if (e instanceof WouldBlock) throw e; // retried by run()
      this.warn(`entrystub: internal error in syscall ${nr}: ${(e as Error).message}`);
      return -5;
    }
  }

  /** HC_EXIT_WORK: deliver pending signals by rewriting pt_regs and building the frame on the user stack. */
  private hcExitWork(regs: number): void {
    if (this.proc.exitCode !== null || this.proc.pending.size === 0) return;
    this.withUserContext(regs, () => this.deliverPending());
    if (this.ended) this.cpu.stopRequested = true;
  }

  /**
   * Run fn with the CPU holding the user context saved in pt_regs (GPRs, ip,
   * flags, sp), then store what fn left back into pt_regs: the signal code
   * works on one register file whether the registers live in the CPU (direct)
   * or in pt_regs (guest kernel).
   */
  private withUserContext(regs: number, fn: () => void): void {
    const cpu = this.cpu;
    const saved = { rl: cpu.rl.slice(), rh: cpu.rh.slice(), rip: cpu.rip, next: cpu.nextRip, flags: cpu.getFlags(), cs: cpu.seg[1], ss: cpu.seg[2], ctx: this.userContextRegs };
    this.userContextRegs = regs;
    const pt = this.readPtRegs(regs);
    for (let r = 0; r < 16; r++) cpu.set64(r, pt.getInt32(PT_OF_REG[r], true), pt.getInt32(PT_OF_REG[r] + 4, true));
    cpu.rip = pt.getInt32(PT.ip + 4, true) * 4294967296 + pt.getUint32(PT.ip, true);
    cpu.setFlags(pt.getUint32(PT.flags, true));
    cpu.seg[1] = 0x33;
    cpu.seg[2] = 0x2b;
    try {
      fn();
      for (let r = 0; r < 16; r++) {
        pt.setInt32(PT_OF_REG[r], cpu.rl[r], true);
        pt.setInt32(PT_OF_REG[r] + 4, cpu.rh[r], true);
      }
      pt.setBigInt64(PT.ip, BigInt(cpu.rip), true);
      pt.setBigUint64(PT.flags, BigInt(cpu.getFlags()), true);
      this.mem.poke(regs, new Uint8Array(pt.buffer));
    } finally {
      cpu.rl.set(saved.rl);
      cpu.rh.set(saved.rh);
      cpu.rip = saved.rip;
      cpu.nextRip = saved.next;
      cpu.setFlags(saved.flags);
      cpu.seg[1] = saved.cs;
      cpu.seg[2] = saved.ss;
      this.userContextRegs = saved.ctx;
    }
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
    this.blockedMs = 0;
    const pend = this.pendingSyscall;
    if (pend) {
      if (cpu.rip === pend.at) {
        this.completeDirect(this.origRax, pend.nr, pend.caught, pend.at);
        if (this.blockedMs > 0) return { reason: 'blocked', ms: this.blockedMs };
        if (this.ended) return this.ended;
        if (this.proc.exitCode !== null) return this.exit(this.proc.exitCode);
        if (this.pendingStop) return this.pendingStop;
        cpu.stopRequested = false;
        if (budget === 1) return null; // a single step from the stop: the syscall was the step (as PTRACE_SINGLESTEP)
      } else {
        // the debugger moved RIP off the pending syscall: it never runs (as an interrupted one, -EINTR)
        this.pendingSyscall = null;
        this.proc.dropRetry();
        cpu.setNum(0, -EINTR);
      }
    }
    if (this.entryIcount < 0) this.origRax = -1;
    try {
      runBlocks(cpu, this.blocks, budget, resumeFrom);
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      this.fault(e);
    }
    if (this.blockedVmcall) {
      this.blockedVmcall = false;
      cpu.icount--; // the vmcall did not complete: it runs again
    }
    if (this.ended) return this.ended;
    if (this.proc.exitCode !== null) return this.exit(this.proc.exitCode);
    if (this.blockedMs > 0) return { reason: 'blocked', ms: this.blockedMs };
    if (this.pendingStop) return this.pendingStop;
    if (cpu.atBreakpoint) return { reason: 'breakpoint', addr: cpu.rip };
    this.proc.pollTimers();
    // a signal that arrived while the program ran (a timer) is delivered now if it
    // is in user code; inside a syscall path the guest kernel's exit work does it
    if (this.inUserCode()) this.deliverPending();
    return this.ended ?? this.pendingStop; // pendingStop: a signal stop (gdb stub)
  }

  /** The CPU is in the program's own code: not in a syscall path, the trampoline page or the guest kernel. */
  inUserCode(): boolean {
    const k = this.kernel;
    if (k === null) return true;
    const rip = this.cpu.rip;
    if (this.entryIcount >= 0 || this.cpu.cpl === 0 || (rip >= k.start && rip < k.end)) return false;
    return !(this.entry === 'nommu' && rip < PAGE_SIZE);
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
    // stopped in the guest kernel's exit work: the signal goes to the user context in pt_regs
    if (stopped?.regs != null) return this.withUserContext(stopped.regs, () => this.resumeWith(sig, stopped));
    // anywhere else inside a syscall path: pending, delivered on the way out (as Linux's exit work)
    if (this.entryIcount >= 0) return st.raise(sig, { signo: sig, code: 0 /* SI_USER */ });
    this.resumeWith(sig, stopped);
  }

  private resumeWith(sig: number, stopped: { info: SigInfo; forced: boolean; message: string } | null): void {
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
    this.pendingStop = null;
    if (!this.ended) this.deliverPending();
    this.queuedStop = this.pendingStop;
    this.pendingStop = null;
  }

  /** gdb stub: report signal info before delivering it. */
  private signalStop(info: SigInfo, forced: boolean, message: string): void {
    this.stoppedSignal = { info, forced, message, regs: this.userContextRegs };
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

  /**
   * The `direct` entry: the host handles `syscall` in place, with SYSCALL's
   * RCX/R11 effects. As on Linux, RIP is past the instruction from then on: a
   * caught syscall's entry stop shows RAX = -ENOSYS and orig_rax = the number,
   * and the syscall runs when the debugger resumes (with the number and
   * arguments the registers then hold; orig_rax -1 skips it).
   */
  private directSyscall(cpu: CPU, i: Insn): void {
    const nr = cpu.rl[0];
    if (this.opts.stats && this.entry === 'direct') {
      const st = this.stats.get(nr) ?? { count: 0, insns: 0 };
      st.count++;
      st.insns++;
      this.stats.set(nr, st);
    }
    cpu.setNum(RCX, i.next);
    cpu.set64(R11, cpu.getFlags(), 0);
    cpu.rip = i.next;
    cpu.nextRip = i.next;
    this.origRax = nr;
    if (this.caught(nr)) {
      this.pendingSyscall = { at: i.next, caught: true, nr };
      cpu.setNum(0, -ENOSYS);
      this.pendingStop = { reason: 'syscall-entry', nr };
      cpu.stopRequested = true;
      return;
    }
    this.completeDirect(nr, nr, false, i.next);
  }

  /**
   * Run the direct-entry syscall nr (RIP already past the instruction at
   * `at`). One that would block with a debugger attached stays pending: RAX
   * shows -ERESTARTSYS as Linux shows a sleeping task, and the next run()
   * retries it. `entered` is the number the entry had (the stops report it),
   * nr the one to run (a debugger may have changed orig_rax since).
   */
  private completeDirect(nr: number, entered: number, caught: boolean, at: number): void {
    const cpu = this.cpu;
    this.pendingSyscall = null;
    if (nr === 15) {
      try {
        sigreturn(cpu, this.proc, fxrstorFromMem);
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        this.kill(SIG.SEGV, `rt_sigreturn with a bad frame at 0x${cpu.getNum(RSP).toString(16)}`);
        cpu.stopRequested = true;
      }
      this.origRax = -1; // as Linux's restore_sigcontext: no syscall in progress (gdb's orig_rax)
      if (!this.ended) this.deliverPending(); // signals unblocked by the restored mask
      cpu.nextRip = cpu.rip;
      return;
    }
    let r: number;
    try {
      r = nr === -1 ? cpu.getNum(0) : this.hostSyscall(nr); // -1: a debugger cancelled it (as ptrace)
    } catch (e) {
      if (!(e instanceof WouldBlock)) throw e;
      this.pendingSyscall = { at, caught, nr: entered };
      this.blockedMs = e.ms;
      cpu.setNum(0, -ERESTARTSYS);
      cpu.stopRequested = true;
      return;
    }
    cpu.setNum(0, r);
    if (this.proc.exitCode !== null) cpu.stopRequested = true;
    else if (caught && this.caught(entered)) {
      this.pendingStop = { reason: 'syscall-return', nr: entered, ret: r };
      cpu.stopRequested = true;
    } else {
      this.deliverPending();
      // back in user space: no syscall in progress (gdb's orig_rax), unless a signal stop is reported on the way
      if (this.pendingStop === null) this.origRax = -1;
    }
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
      setupFrame(this.cpu, this.proc, info, fxsaveToMem);
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
        // the trampoline page is the guest kernel's: to the program it is not there (MAPERR)
        info = { signo: SIG.SEGV, code: e.errorCode & PF_PRESENT && !(e.addr >= 0 && e.addr < PAGE_SIZE && this.entry === 'nommu') ? SEGV_ACCERR : SEGV_MAPERR, addr: e.addr };
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
        if (cpu.cpl === 0 && this.mem.peek(rip, new Uint8Array(3)) === 3) {
          const b = new Uint8Array(3);
          this.mem.peek(rip, b);
          if (b[0] === 0x48 && b[1] === 0x0f && b[2] === 0x07) what += ` (sysretq with non-canonical RCX 0x${hex(cpu.getNum(RCX))}, on the user stack)`;
        }
    }
    const st = this.proc;
    const k = this.kernel;
    if (cpu.cpl === 0 || (k && rip >= k.start && rip < k.end)) {
      // a fault in the guest kernel: an oops, the task dies
      this.kill(SIG.KILL, `kernel oops: ${what} in ${this.symbolize(rip)}`, info.addr);
      return;
    }
    if (this.stopOnSignals && !this.passSignals.has(info.signo)) return this.signalStop(info, true, `killed by ${signalName(info.signo)}: ${what}`);
    if (isBlocked(st, info.signo) || disposition(st, info.signo) !== 'handle') {
      this.kill(info.signo, `killed by ${signalName(info.signo)}: ${what}`, info.addr);
      return;
    }
    if (this.entry === 'nommu') {
      // UML nommu relays a fault in user code: the user registers go to pt_regs,
      // the signal is queued, and the CPU resumes in `userspace` on the kernel
      // stack, whose interrupt_end() delivers it on the way back
      const regs = this.ksym('task_regs');
      const pt = this.readPtRegs(regs);
      for (let r = 0; r < 16; r++) {
        pt.setInt32(PT_OF_REG[r], cpu.rl[r], true);
        pt.setInt32(PT_OF_REG[r] + 4, cpu.rh[r], true);
      }
      pt.setBigInt64(PT.ip, BigInt(cpu.rip), true);
      pt.setBigUint64(PT.flags, BigInt(cpu.getFlags()), true);
      pt.setBigInt64(PT.orig_ax, -1n, true);
      this.mem.poke(regs, new Uint8Array(pt.buffer));
      st.pending.add(info.signo);
      st.pendingInfo.set(info.signo, info);
      cpu.setNum(RSP, this.readKernelWord(this.ksym('current_top_of_stack')));
      cpu.rip = this.ksym('userspace');
      return;
    }
    this.deliver(info);
  }

  /** symbol+offset for an address in the guest kernel image, else hex. */
  symbolize(addr: number): string {
    let best = '', bestA = -Infinity;
    if (this.kernel) for (const [n, a] of this.kernel.symbols) if (a <= addr && a > bestA && !n.startsWith('.')) [best, bestA] = [n, a];
    return best && addr - bestA < 0x10000 ? `${best}+0x${(addr - bestA).toString(16)}` : `0x${hex(addr)}`;
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
