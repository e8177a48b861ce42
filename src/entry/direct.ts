/**
 * The direct entry: no guest kernel; the host handles `syscall` in place,
 * with SYSCALL's visible effects (RCX = the next instruction, R11 = RFLAGS).
 * The baseline the other models are compared with.
 *
 * As under ptrace, RIP is past the instruction from the syscall-entry stop
 * on: a caught syscall's entry stop shows RAX = -ENOSYS and orig_rax = the
 * number, and the syscall runs when the debugger resumes, with the number
 * (orig_rax; -1 skips it and leaves RAX as the result) and arguments the
 * registers then hold. A 32-bit program's call stops the same way (under
 * the number the debugger asked for: debuggerNr32), with the registers as
 * the compat entries leave pt_regs at that stop: EIP at the landing pad for
 * SYSENTER and SYSCALL, EBP the sixth argument fetched from the user stack.
 */
import type { CPU, TrapSite } from '../cpu/cpu.js';
import { CpuFault, Vector } from '../cpu/fault.js';
import { setPrivilege } from '../cpu/ops/system.js';
import { __USER32_CS, __USER_CS, __USER_DS } from '../cpu/segment.js';
import { EFAULT, EINTR, ENOSYS, WouldBlock } from '../kernel/errno.js';
import type { LoadedImage } from '../kernel/loader.js';
import { NR_SYSCALLS } from '../guest/generated/abi.js';
import { NR32_RT_SIGRETURN, NR32_SIGRETURN, debuggerNr32 } from '../kernel/ia32/table.js';
import { sysenterArch } from '../cpu/ops/system.js';
import type { Insn } from '../cpu/insn.js';
import { rehook, type CpuHooks, rebuiltHooks, type EntryModel, type EntryPort, type EntryTask, type PathInfo } from './model.js';
import { DEFAULT_COMPAT_ENTRY, compatVendor, vdso32, type CompatEntry, type Vdso32 } from './vdso32.js';

const RAX = 0, RCX = 1, RSP = 4, R11 = 11;

/** A task's state in the direct model: the syscall it has not run yet. */
export interface DirectTask {
  /**
   * A syscall that has not run yet: its entry stop was reported, or it would
   * have slept (the task is parked). resume() runs it if RIP is still `at`,
   * just past the instruction.
   */
  pending: { at: number; caught: boolean; nr: number; compat?: 'fast' | 'int80' } | null;
  /**
   * The syscall in progress, reported (trace, --stats) when it has run: what
   * the entry saw, read when it entered (only if a trace listens: a
   * description per syscall was ~15% of a direct getpid), and whether
   * --stats counts it.
   */
  entered: { nr: number; path: PathInfo | null; count: boolean } | null;
  /** Where its process's 32-bit vDSO has int80_landing_pad, SYSENTER's return (null: no vDSO, a 64-bit program). */
  landingPad: number | null;
}
/** Linux's internal 'restart this syscall' code: what RAX shows while a task sleeps in one. */
const ERESTARTSYS = 512;
const RT_SIGRETURN = 15;

export class DirectEntry implements EntryModel {
  readonly label = 'direct';
  /** `int $0x80` of a 32-bit program is handled in place too. */
  readonly compat = true;

  /** A 32-bit program's vDSO, entering by --compat-entry (sysenter or int $0x80), each handled in place. */
  vdso32(): Vdso32 {
    return vdso32(this.compatEntry);
  }
  readonly kernel = null;
  /** The running task's state. */
  private t: DirectTask = { pending: null, entered: null, landingPad: null };

  constructor(
    private port: EntryPort,
    private readonly compatEntry: CompatEntry = DEFAULT_COMPAT_ENTRY,
  ) {}

  mapKernel(): void {}

  /** fork's child is its parent's CPU just past the `syscall`, with RAX = 0 (and clone's stack). */
  newTask(task: EntryTask, parent: EntryTask | null, stack: number): void {
    task.entry = this.newState();
    if (parent === null) return;
    // the child's address space is a copy of its parent's, vDSO included
    (task.entry as DirectTask).landingPad = (parent.entry as DirectTask).landingPad;
    task.cpu.setNum(RAX, 0);
    if (stack !== 0) task.cpu.setNum(RSP, stack);
  }

  /** A fresh per-task state (nommu keeps one for the syscalls its hook missed). */
  newState(): DirectTask {
    return { pending: null, entered: null, landingPad: null };
  }

  activate(task: EntryTask): void {
    this.useState(task.entry as DirectTask);
  }

  useState(st: DirectTask): void {
    this.t = st;
  }

  releaseTask(): void {}

  /** No guest kernel: nothing names the current task. */
  asCurrent<R>(_task: EntryTask, fn: () => R): R {
    return fn();
  }

  /** The registers of a new program, as start_thread and ELF_PLAT_INIT leave them: all zero but RSP; RIP at the entry. */
  execReturn(entry: number, sp: number, compat: boolean): void {
    const cpu = this.port.cpu;
    setPrivilege(cpu, 3, compat ? __USER32_CS : __USER_CS, __USER_DS);
    cpu.fsBase = 0;
    cpu.gsBase = 0;
    cpu.rl.fill(0);
    cpu.rh.fill(0);
    cpu.setNum(RSP, sp);
    cpu.rip = entry;
    cpu.nextRip = entry;
    cpu.setFlags(0x202);
  }

  switchable(): boolean {
    return true;
  }

  reserved(): [number, number][] {
    return [];
  }

  exec(_img: LoadedImage, vdso: number | null = null): void {
    this.port.cpu.vendor = compatVendor(this.compatEntry);
    this.t.landingPad = vdso === null ? null : vdso + vdso32(this.compatEntry).landingPad;
    Object.assign(this.port.cpu, this.cpuHooks());
  }

  private cpuHooks(): CpuHooks {
    return rebuiltHooks({
      onSyscall: (cpu, i) => (cpu.compat ? this.fastCompat(cpu, i, cpu.rl[RSP] >>> 0) : this.syscall(cpu, i, true)),
      onInt80: (cpu, i) => this.int80(cpu, i),
      // the running task's vDSO (after a clone every task's CPU gets these hooks): without one, SYSENTER is
      // the CPU's own (ops/compat.ts hands the hook the sysenter instruction itself)
      onSysenter: (cpu, i) => (this.t.landingPad === null ? sysenterArch(cpu, i as Insn) : this.fastCompat(cpu, i, cpu.rl[5] >>> 0)),
    });
  }

  rewire(port: EntryPort, cpus: Iterable<CPU>): void {
    this.port = port;
    rehook(cpus, this.cpuHooks());
  }

  installProbes(): void {}

  /**
   * SYSENTER or SYSCALL from the vDSO (`movl %esp, %ebp; sysenter`, or on an
   * AMD CPU `movl %ecx, %ebp; syscall`), handled in place as the compat
   * entries and do_fast_syscall_32 handle it: `usp` is the user stack pointer
   * (stashed in EBP for SYSENTER, ESP itself for SYSCALL), the sixth argument
   * is read from it (where __kernel_vsyscall pushed the caller's EBP; -EFAULT
   * if it cannot be read), and the call returns to int80_landing_pad with
   * EBP restored, as the opportunistic SYSRETL leaves it (ECX = the landing
   * pad, EFLAGS as they were; the vDSO then pops ECX and EDX).
   */
  private fastCompat(cpu: CPU, i: TrapSite, usp: number): void {
    const port = this.port;
    const pad = this.t.landingPad;
    if (pad === null) throw new CpuFault(Vector.UD); // no vDSO: nowhere to return to
    let arg6: number;
    try {
      arg6 = cpu.mem.read32(usp);
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      // do_fast_syscall_32: regs->ax = -EFAULT, and the IRET path to the landing pad (ECX as it was)
      cpu.setReg(0, 4, -EFAULT, 0);
      this.toLandingPad(cpu, usp, pad);
      return;
    }
    const nr = cpu.rl[0] >>> 0;
    // through the vDSO too, as Linux allows it (the frame is then looked for where ESP is, past the vDSO's pushes)
    if (this.sigreturn32(cpu, nr)) return;
    if (this.caught32(nr)) {
      cpu.setReg(5, 4, arg6, 0);
      this.toLandingPad(cpu, usp, pad);
      this.entryStop32(nr, pad, 'fast');
      return;
    }
    const args = [cpu.rl[3], cpu.rl[1], cpu.rl[2], cpu.rl[6], cpu.rl[7], arg6];
    const entered = { ecx: cpu.rl[1], ebp: cpu.rl[5], esp: cpu.rl[RSP] };
    // the return is set up before the call runs: a fork's child copies it, an exec replaces it
    cpu.setReg(5, 4, arg6, 0);
    cpu.setReg(1, 4, pad, 0);
    this.toLandingPad(cpu, usp, pad);
    let r: number;
    try {
      r = port.hostSyscall32(nr, args);
    } catch (e) {
      if (!(e instanceof WouldBlock)) throw e;
      // the retry enters the same way: back on the instruction, EBP holding the stack pointer again
      cpu.setReg(1, 4, entered.ecx, 0);
      cpu.setReg(5, 4, entered.ebp, 0);
      cpu.setReg(RSP, 4, entered.esp, 0);
      cpu.rip = i.addr;
      cpu.nextRip = i.addr;
      port.requestStop({ kind: 'blocked', ms: e.ms });
      return;
    }
    cpu.setReg(0, 4, r, 0);
    cpu.nextRip = cpu.rip;
    port.exitWork(null);
  }

  /** Does the debugger catch i386 call nr (by the number it asked for)? */
  private caught32(nr: number): boolean {
    const shown = debuggerNr32(nr, this.port.syscallNumbers32);
    return shown !== undefined && this.port.caught(shown);
  }

  /**
   * A caught 32-bit call's entry stop, the return already set up (EIP = at):
   * EAX = -ENOSYS, orig_rax = the i386 number, as ptrace shows it; the call
   * runs when the debugger resumes (complete32).
   */
  private entryStop32(nr: number, at: number, how: 'fast' | 'int80'): void {
    const port = this.port;
    port.origRax = nr;
    port.cpu.setReg(0, 4, -ENOSYS, 0);
    this.t.pending = { at, caught: true, nr, compat: how };
    port.requestStop({ kind: 'syscall-entry', nr: debuggerNr32(nr, port.syscallNumbers32)! });
  }

  /**
   * Run a 32-bit call stopped at its entry: the number orig_rax holds now
   * (-1: the debugger cancelled it, EAX stays the result), the arguments the
   * registers hold (EBX, ECX, EDX, ESI, EDI, EBP). A fast entry returns as
   * SYSRETL does, ECX = the return EIP (the vDSO pops the caller's).
   */
  private complete32(pend: NonNullable<DirectTask['pending']>): void {
    const port = this.port, cpu = port.cpu;
    this.t.pending = null;
    const nr = port.origRax;
    let r: number;
    try {
      r = nr === -1 ? cpu.rl[0] : port.hostSyscall32(nr >>> 0, [cpu.rl[3], cpu.rl[1], cpu.rl[2], cpu.rl[6], cpu.rl[7], cpu.rl[5]]);
    } catch (e) {
      if (!(e instanceof WouldBlock)) throw e;
      this.t.pending = pend;
      cpu.setReg(0, 4, -ERESTARTSYS, 0);
      port.requestStop({ kind: 'blocked', ms: e.ms });
      return;
    }
    if (pend.compat === 'fast') cpu.setReg(RCX, 4, pend.at, 0);
    cpu.setReg(0, 4, r, 0);
    cpu.nextRip = cpu.rip;
    // the exit stop names the call that ran, as for a 64-bit call
    const shown = nr === -1 ? undefined : debuggerNr32(nr >>> 0, port.syscallNumbers32);
    if (shown !== undefined && port.caught(shown)) port.requestStop({ kind: 'syscall-return', nr: shown, ret: r });
    else if (!port.exitWork(null)) port.origRax = -1;
  }

  private toLandingPad(cpu: CPU, usp: number, pad: number): void {
    cpu.setReg(4, 4, usp, 0);
    cpu.rip = pad;
    cpu.nextRip = pad;
  }

  /**
   * `int $0x80` in compat mode: the i386 syscall in EAX with its arguments in
   * EBX, ECX, EDX, ESI, EDI, EBP (do_int80_syscall_32), handled in place; the
   * result goes to EAX. A call that would sleep with a debugger attached is
   * retried from the instruction (EIP back on it), as the ia32 entry restarts
   * a call; signals are delivered on the way out as for `syscall`. trace
   * --path does not see these calls yet.
   */
  private int80(cpu: CPU, i: TrapSite): void {
    const port = this.port;
    const nr = cpu.rl[0] >>> 0;
    if (this.sigreturn32(cpu, nr)) return;
    if (this.caught32(nr)) {
      cpu.rip = i.next;
      cpu.nextRip = i.next;
      this.entryStop32(nr, i.next, 'int80');
      return;
    }
    const regs = [cpu.rl[3], cpu.rl[1], cpu.rl[2], cpu.rl[6], cpu.rl[7], cpu.rl[5]];
    // past the instruction before the call runs: a fork's child copies that, an exec replaces it
    cpu.rip = i.next;
    cpu.nextRip = i.next;
    let r: number;
    try {
      r = port.hostSyscall32(nr, regs);
    } catch (e) {
      if (!(e instanceof WouldBlock)) throw e;
      cpu.rip = i.addr;
      cpu.nextRip = i.addr;
      port.requestStop({ kind: 'blocked', ms: e.ms });
      return;
    }
    cpu.setReg(0, 4, r, 0);
    cpu.nextRip = cpu.rip;
    port.exitWork(null);
  }

  /**
   * i386 sigreturn or rt_sigreturn (nr): the whole user context comes from
   * the frame, the return goes wherever it says (IRET), and signals the
   * restored mask unblocks are delivered. False for any other call.
   */
  private sigreturn32(cpu: CPU, nr: number): boolean {
    if (nr !== NR32_SIGRETURN && nr !== NR32_RT_SIGRETURN) return false;
    this.port.sigreturn(null, nr === NR32_SIGRETURN ? 'sigreturn' : 'rt_sigreturn');
    cpu.nextRip = cpu.rip;
    this.port.exitWork(null);
    return true;
  }

  executableMapped(): void {} // `syscall` runs as it is

  /**
   * A user `syscall` (count: this model's own, for --stats; not when nommu
   * hands over a site it missed, which describes the trip as it saw it).
   */
  syscall(cpu: CPU, i: TrapSite, count: boolean, path?: PathInfo): void {
    const port = this.port;
    // the whole of RAX is the number, as in do_syscall_64: one beyond the table is -ENOSYS below
    const nr = cpu.rh[0] === 0 && cpu.rl[0] >= 0 ? cpu.rl[0] : cpu.getNum(0);
    this.t.entered = { nr, path: path ?? (port.describingTrips ? this.pathInfo(nr, i.addr) : null), count };
    cpu.setNum(RCX, i.next);
    cpu.set64(R11, cpu.getFlags(), 0);
    cpu.rip = i.next;
    cpu.nextRip = i.next;
    port.origRax = nr;
    if (port.caught(nr)) {
      this.t.pending = { at: i.next, caught: true, nr };
      cpu.setNum(0, -ENOSYS);
      port.requestStop({ kind: 'syscall-entry', nr });
      return;
    }
    this.complete(nr, nr, false, i.next, false);
  }

  resume(): boolean {
    const pend = this.t.pending;
    if (pend === null) return false;
    const cpu = this.port.cpu;
    if (cpu.rip === pend.at) {
      if (pend.compat) this.complete32(pend);
      else this.complete(this.port.origRax, pend.nr, pend.caught, pend.at, true);
      return true;
    }
    // the debugger moved RIP off the pending syscall: it never runs (as an interrupted one, -EINTR)
    this.t.pending = null;
    cpu.setNum(0, -EINTR);
    return false;
  }

  /**
   * Run syscall nr (RIP already past the instruction at `at`). `entered` is
   * the number the entry had (the stops report it), nr the one to run (a
   * debugger may have changed orig_rax since: -1 then skips the call).
   */
  private complete(nr: number, entered: number, caught: boolean, at: number, fromDebugger: boolean): void {
    const port = this.port, cpu = port.cpu;
    const st = this.t;
    st.pending = null;
    if (nr === RT_SIGRETURN) {
      port.sigreturn(null);
      this.report();
      port.origRax = -1; // as Linux's restore_sigcontext: no syscall in progress (gdb's orig_rax)
      port.exitWork(null); // signals the restored mask unblocks
      cpu.nextRip = cpu.rip;
      return;
    }
    let r: number;
    try {
      // -1: a debugger cancelled it (as ptrace); beyond sys_call_table: -ENOSYS, as do_syscall_64
      r = fromDebugger && nr === -1 ? cpu.getNum(0) : nr < 0 || nr >= NR_SYSCALLS ? -ENOSYS : port.hostSyscall(nr);
    } catch (e) {
      if (!(e instanceof WouldBlock)) throw e;
      st.pending = { at, caught, nr: entered };
      cpu.setNum(0, -ERESTARTSYS);
      port.requestStop({ kind: 'blocked', ms: e.ms });
      return;
    }
    cpu.setNum(0, r);
    cpu.nextRip = cpu.rip;
    this.report();
    // the exit stop names the call that ran, as ptrace's does (orig_rax then): none after a skip
    if (caught && nr !== -1 && port.caught(nr)) port.requestStop({ kind: 'syscall-return', nr, ret: r });
    // back in user space: no syscall in progress (gdb's orig_rax), unless a signal stop is reported on the way
    else if (!port.exitWork(null)) port.origRax = -1;
  }

  /** The syscall has run: report its trip (after the host's own report of the call, as trace prints them). */
  private report(): void {
    const e = this.t.entered;
    if (e === null) return;
    this.t.entered = null;
    const path = e.path;
    // as the exit path sees pt_regs: ax is the result (rt_sigreturn's, the restored rax)
    if (path !== null) path.ptregs.ax = this.port.cpu.getNum(0);
    this.port.tripDone(path?.nr ?? e.nr, 1, e.count);
    // (a listener that came during the call is described the call by the registers at its end)
    if (this.port.describingTrips) this.port.describeTrip(path ?? this.pathInfo(e.nr, this.port.cpu.rip - 2));
  }

  private pathInfo(nr: number, at: number): PathInfo {
    const cpu = this.port.cpu;
    const args = [7, 6, 2, 10, 8, 9].map((r) => cpu.getNum(r));
    return {
      nr,
      via: `syscall at 0x${at.toString(16)}`,
      steps: ['handled by the host in place'],
      ptregs: { orig_ax: nr, ax: -ENOSYS, ip: at + 2, sp: cpu.getNum(4), flags: cpu.getFlags() },
      args,
      route: 'in place',
      insns: 1,
    };
  }

  /** At a direct entry stop RAX is the result already (-ENOSYS): a debugger writes it in place. */
  overrideResult(value: number): void {
    this.port.cpu.setNum(0, value);
  }

  ptregsAddr(): number | null {
    return null;
  }

  inTrip(): boolean {
    return false;
  }

  inUserCode(): boolean {
    return true;
  }

  relayUserFault(): boolean {
    return false;
  }

  claimUserFault(): boolean {
    return false;
  }

  fixupKernelFault(): null {
    return null;
  }

  /** No guest kernel, so nothing takes an interrupt: the timer is idle in this model. */
  timerInterrupt(): null {
    return null;
  }

  describeTrip(): string {
    return 'no entry path: in the direct entry model the host handles each syscall in place\n';
  }

  describe(): string {
    return 'entry model: direct (a syscall instruction is handled by the host in place; no guest kernel)\n';
  }

  statsLines(): string[] {
    return [];
  }
}
