/**
 * What the models that run a guest kernel image (nommu, native) share: the
 * hypercalls the image makes, and the trip in progress, from the user
 * instruction that entered the path to the return instruction, which feeds
 * catch syscall, trace and --stats.
 */
import { RDI, RSP, type CPU, type TrapSite } from '../cpu/cpu.js';
import { CpuFault, Vector } from '../cpu/fault.js';
import { PAGE_SIZE, PROT_READ, PROT_USER, PROT_WRITE } from '../cpu/memory.js';
import { resetFpu } from '../cpu/context.js';
import { WouldBlock } from '../kernel/errno.js';
import type { LoadedImage } from '../kernel/loader.js';
import type { SigInfo } from '../kernel/signal.js';
import { SyscallArgs } from '../kernel/sys/util.js';
import { syscallName } from '../kernel/sysnames.js';
import { NR32_RT_SIGRETURN, NR32_SIGRETURN, debuggerNr32 } from '../kernel/ia32/table.js';
import { __USER32_CS } from '../cpu/segment.js';
import { HC, SEL, IA32_NR_SYSCALLS, IA32_SYSCALL_NAMES, NR_SYSCALLS, SIZEOF_PTREGS, SYSCALL_NAMES, SYSRETL_CHECKS, SYSRET_CHECKS, THREAD_SIZE } from '../guest/generated/abi.js';
import { DirectEntry, type DirectTask } from './direct.js';
import { imagePath, loadKernelImage, type KernelImage } from './kernel-image.js';
import { rehook, type CpuHooks, type EntryModel, type EntryPort, type EntryTask, type PathInfo } from './model.js';
import { sharedOnClone } from '../cpu/clone.js';
import type { BlockCache } from '../cpu/run.js';
import type { Vdso32 } from './vdso32.js';
import { ARG_SLOTS, PT_OF_REG, PT_REGS, field, peekPtRegs, peekWord, pokeWord, readPtRegs, setField, writePtRegs } from './ptregs.js';

const RT_SIGRETURN = 15;

/** The trip in progress: set when the program enters the path, cleared at the return instruction. */
export interface Trip {
  nr: number;
  /** icount at the user instruction that entered. */
  icount: number;
  /** Its address. */
  at: number;
  /** call/trap: nommu's; lstar: native SYSCALL; the compat entries (a 32-bit program): sysenter, cstar (SYSCALL from compat mode), int80. */
  how: 'call' | 'trap' | 'lstar' | CompatHow;
  /** zpoline: the offset the call landed at. */
  sled: number;
  /** native: the last SYSRET check the path reached (0: none yet). */
  check: number;
}

export type CompatHow = 'sysenter' | 'cstar' | 'int80';

/** A trip of a 32-bit program (an i386 syscall number, the ia32 table)? */
export function compatTrip(t: Trip): boolean {
  return t.how === 'sysenter' || t.how === 'cstar' || t.how === 'int80';
}

/** The trip in progress as a debugger is told of it (`monitor trip`). */
export interface TripView {
  nr: number;
  /** How it entered, as trace --path says it. */
  via: string;
  /** Guest instructions since the user instruction that entered. */
  insns: number;
  /** native: the last SYSRET check the path reached (0: none yet, or a model without them). */
  check: number;
}

/** A task's state in a guest-kernel model. */
export interface GuestTask {
  /** The trip in progress. */
  trip: Trip | null;
  /** A caught syscall's number, until its return stop (-1: none). */
  returnStopNr: number;
  /** Its kernel stack: the top, and where its struct pt_regs is. */
  stackTop: number;
  ptregs: number;
  /** The stack slot the host allocated for it (null: the image's init_task, task_stack and task_regs). */
  slot: number | null;
  /** The guest kernel's per-CPU words as this task left them when it was switched out (see percpu()). */
  percpu: number[];
  /** Syscalls of sites the hook missed run in place (nommu's zpoline): their state. */
  direct: DirectTask;
  /** Where its process's 32-bit vDSO is mapped (current->mm->context.vdso; 0: none, a 64-bit program). */
  vdso: number;
}

/**
 * Where the host puts the kernel stacks of the tasks after the first (as
 * alloc_thread_stack_node): slots above the image, each a guard page, the
 * stack (THREAD_SIZE) and a page for its pt_regs, mapped once and reused.
 */
const SLOT_SIZE = 0x8000;
const STACKS_GAP = 0x10000;

export abstract class GuestKernelEntry implements EntryModel {
  abstract readonly label: string;
  /** A guest kernel with compat entries (native) says so; UML nommu is 64-bit only. */
  readonly compat: boolean = false;

  vdso32(): Vdso32 | null {
    return null;
  }
  kernel!: KernelImage;
  /** The running task's state. */
  protected t: GuestTask = { trip: null, returnStopNr: -1, stackTop: 0, ptregs: 0, slot: null, percpu: [], direct: { pending: null, entered: null, landingPad: null }, vdso: 0 };
  /** Syscalls from sites a hook missed, handled in place (nommu's zpoline). */
  protected readonly bypass: DirectEntry;
  /** Kernel stack slots free for reuse (lowest first: the same run gets the same addresses), and the next never used. */
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;

  constructor(
    protected port: EntryPort,
    /** Which image: src/guest/image/kernel-NAME.elf. */
    private readonly image: string,
    /** Its pages are user-accessible (no privilege levels: UML nommu). */
    private readonly userPages: boolean,
  ) {
    this.bypass = new DirectEntry(port);
  }

  protected get trip(): Trip | null {
    return this.t.trip;
  }

  protected set trip(v: Trip | null) {
    this.t.trip = v;
  }

  /** Map the guest kernel image into the kernel's pages (before the program, so their ranges cannot collide unnoticed). */
  mapKernel(): void {
    // the image never changes once loaded: every clone of the machine shares it
    this.kernel = sharedOnClone(loadKernelImage(this.port.kernelPages, imagePath(this.image), this.userPages, this.reserved().length > 0));
  }

  /** The hooks exec installs on the running CPU. */
  protected abstract cpuHooks(): CpuHooks;
  abstract installProbes(blocks: BlockCache): void;

  rewire(port: EntryPort, cpus: Iterable<CPU>): void {
    this.port = port;
    this.bypass.rewire(port, []);
    rehook(cpus, this.cpuHooks());
  }

  // ---- tasks ----

  /** The pt_regs of a task whose kernel stack tops at `top` (native: at the top of the stack, as task_pt_regs). */
  protected abstract ptregsFor(top: number, slotPage: number): number;
  /** The image's own task (init_task): its stack and pt_regs. */
  protected abstract initTask(): { stackTop: number; ptregs: number };
  /** Where fork's child starts in ret_from_fork: its RSP (its stack top, or its pt_regs), and its flags. */
  protected abstract forkEntry(st: GuestTask): { rsp: number; flags: number };
  /** Write the guest kernel's `current` variables for the task about to run. */
  protected abstract setCurrent(st: GuestTask): void;
  /** Addresses of the guest kernel's per-CPU 32-bit words that a task switch saves and restores (nommu: signals_enabled). */
  protected percpu(): number[] {
    return [];
  }

  newTask(task: EntryTask, parent: EntryTask | null, stack: number): void {
    const kp = this.port.kernelPages;
    if (parent === null) {
      const init = this.initTask();
      const st: GuestTask = { trip: null, returnStopNr: -1, ...init, slot: null, percpu: this.readPercpu(), direct: this.bypass.newState(), vdso: 0 };
      pokeWord(kp, st.ptregs + PT_REGS.orig_ax, -1);
      task.entry = st;
      return;
    }
    const ps = parent.entry as GuestTask;
    const slot = this.freeSlots.length > 0 ? this.freeSlots.shift()! : this.nextSlot++;
    const base = this.slotBase(slot);
    if (slot === this.nextSlot - 1 && !kp.isMapped(base)) kp.map(base, THREAD_SIZE + PAGE_SIZE, PROT_READ | PROT_WRITE | (this.userPages ? PROT_USER : 0));
    const stackTop = base + THREAD_SIZE;
    const st: GuestTask = {
      trip: null,
      returnStopNr: -1,
      stackTop,
      ptregs: this.ptregsFor(stackTop, stackTop),
      slot,
      percpu: ps === this.t ? this.readPercpu() : [...ps.percpu],
      direct: this.bypass.newState(),
      vdso: ps.vdso,
    };
    task.entry = st;
    const cpu = task.cpu;
    if (ps.trip === null && cpu.cpl !== 0 && !this.kernel.contains(cpu.rip)) {
      // a syscall the hook missed, run in place (zpoline): the child returns as the direct model's does
      this.bypass.newTask({ tid: task.tid, cpu, entry: null }, parent, stack);
      return;
    }
    // its pt_regs: the parent's, with ax = 0 (fork returns 0 in the child), on clone's stack if given one
    const pt = readPtRegs(kp, ps.ptregs);
    setField(pt, 'ax', 0);
    if (stack !== 0) setField(pt, 'sp', stack);
    writePtRegs(kp, st.ptregs, pt);
    // it starts at ret_from_fork on its own kernel stack
    const { rsp, flags } = this.forkEntry(st);
    cpu.setNum(RSP, rsp);
    cpu.rip = cpu.nextRip = this.kernel.sym('ret_from_fork');
    cpu.setFlags(flags);
  }

  private slotBase(slot: number): number {
    const first = Math.ceil(this.kernel.end / STACKS_GAP) * STACKS_GAP + STACKS_GAP;
    return first + slot * SLOT_SIZE + PAGE_SIZE;
  }

  activate(task: EntryTask): void {
    const st = task.entry as GuestTask;
    if (st === this.t) return;
    if (this.t.stackTop !== 0) this.t.percpu = this.readPercpu();
    this.t = st;
    this.bypass.useState(st.direct);
    this.setCurrent(st);
    this.writePercpu(st.percpu);
  }

  asCurrent<R>(task: EntryTask, fn: () => R): R {
    const st = task.entry as GuestTask;
    if (st === this.t || st === null) return fn();
    const running = this.t;
    const words = this.readPercpu();
    this.setCurrent(st);
    this.writePercpu(st.percpu);
    try {
      return fn();
    } finally {
      this.setCurrent(running);
      this.writePercpu(words);
    }
  }

  private writePercpu(values: number[]): void {
    const kp = this.port.kernelPages;
    const b = new Uint8Array(4);
    this.percpu().forEach((a, k) => {
      new DataView(b.buffer).setInt32(0, values[k] ?? 0, true);
      kp.poke(a, b);
    });
  }

  private readPercpu(): number[] {
    const kp = this.port.kernelPages;
    const b = new Uint8Array(4);
    return this.percpu().map((a) => {
      kp.peek(a, b);
      return new DataView(b.buffer).getInt32(0, true);
    });
  }

  releaseTask(task: EntryTask): void {
    const st = task.entry as GuestTask;
    if (st.slot === null) return;
    this.freeSlots.push(st.slot);
    this.freeSlots.sort((a, b) => a - b);
  }

  /**
   * The syscall in progress returns to a new program: its pt_regs hold the
   * user context of start_thread (every register 0, the entry point, the
   * stack, IF set), which the exit path restores (native: by IRET, since
   * RCX is no longer RIP). The user's FS and GS bases are 0, the FPU in
   * its initial state.
   */
  execReturn(entry: number, sp: number, compat: boolean): void {
    const kp = this.port.kernelPages;
    const pt = readPtRegs(kp, this.t.ptregs);
    for (const o of PT_OF_REG) pt.setBigInt64(o, 0n, true);
    setField(pt, 'ip', entry);
    setField(pt, 'sp', sp);
    // the mode the new program runs in: the return from the syscall goes there (by IRET, as the SYSRET checks fail when it changes)
    setField(pt, 'cs', compat ? SEL.USER32_CS : SEL.USER_CS);
    setField(pt, 'ss', SEL.USER_DS);
    setField(pt, 'flags', 0x200);
    writePtRegs(kp, this.t.ptregs, pt);
    const cpu = this.port.cpu;
    cpu.fsBase = 0;
    this.clearUserGs(cpu);
    resetFpu(cpu);
  }

  /** The user's GS base becomes 0 (native: it is in KERNEL_GS_BASE while the kernel runs). */
  protected clearUserGs(cpu: CPU): void {
    cpu.gsBase = 0;
  }

  switchable(): boolean {
    return this.inUserCode();
  }

  reserved(): [number, number][] {
    return [];
  }

  abstract exec(img: LoadedImage): void;
  abstract describe(): string;

  /** Code the program maps runs as it is, unless a model rewrites it (nommu's zpoline). */
  executableMapped(_start: number, _end: number, _movedFrom?: number): void {}

  abstract ptregsAddr(): number;
  /** How the trip entered, for trace. */
  protected abstract via(t: Trip): string;
  /** The named steps of the path, for trace. */
  protected abstract steps(t: Trip, sys: string): string[];

  resume(): boolean {
    return this.bypass.resume();
  }

  /**
   * A result a debugger wrote at a syscall-entry stop, for pt_regs->ax once
   * do_syscall_64 is reached: data rather than only a probe in a block
   * cache, so that a snapshot taken before then carries it (probePending
   * probes it again in a restored machine's fresh caches).
   */
  private pendingResult: number | null = null;

  /** pt_regs->ax once do_syscall_64 has them complete (as a tracer's write at Linux's syscall-entry-stop). */
  overrideResult(value: number): void {
    this.pendingResult = value;
    this.probePending(this.port.blocks);
  }

  /** The guest kernel's code, for the block compiler (BlockCache.kernelCode): its image and the reserved pages (nommu's trampoline). */
  protected markKernelCode(blocks: BlockCache): void {
    blocks.kernelCode = [this.kernel.start, this.kernel.end, ...this.reserved().flat()];
  }

  /** The probes of what is pending in the machine's state (a fresh cache's share of installProbes). */
  protected probePending(blocks: BlockCache): void {
    if (this.pendingResult === null) return;
    const at = this.kernel.sym('do_syscall_64');
    blocks.setProbe(at, () => {
      blocks.setProbe(at, null);
      if (this.pendingResult === null) return; // put in place by another address space's probe
      pokeWord(this.port.mem, this.ptregsAddr() + PT_REGS.ax, this.pendingResult);
      this.pendingResult = null;
    });
  }

  inTrip(): boolean {
    return this.trip !== null;
  }

  /**
   * The trip in progress (null: none), for a debugger: which SYSRET check a
   * return failed is known here, from the labels the guest code reached, and
   * must not be worked out again from pt_regs by a script.
   */
  /**
   * The trip in progress, as recorded. At the IRET path the last check
   * reached is the one that failed; stopped at a check's label, that check
   * has not run yet.
   */
  describeTrip(): string {
    const t = this.tripInProgress();
    if (t === null) return 'no trip in progress: no syscall is between its user instruction and the return to the program\n';
    const compat = this.trip !== null && compatTrip(this.trip);
    let s = compat ? `trip in progress: i386 syscall ${t.nr} (${IA32_SYSCALL_NAMES[t.nr] ?? 'not in syscall_32.tbl'})\n` : `trip in progress: syscall ${t.nr} (${syscallName(t.nr)})\n`;
    s += `  entered by: ${t.via}\n`;
    s += `  instructions since: ${t.insns}\n`;
    if (compat) {
      // do_fast_syscall_32's labels: check is SYSRETL_CHECKS' index + 1 (0: none reached)
      const c = SYSRETL_CHECKS.find((x) => x.n === t.check - 1);
      if (c && c.n === 0) s += `  ${c.label}: do_fast_syscall_32 could not fetch ebp from the user stack (-EFAULT, IRET)\n`;
      else if (c) s += `  last SYSRETL check reached: check ${c.n} of ${SYSRETL_CHECKS.length - 1}, ${c.label}: ${c.what}\n`;
      return s;
    }
    const c = SYSRET_CHECKS.find((x) => x.n === t.check);
    if (c) s += `  last SYSRET check reached: check ${c.n} of ${SYSRET_CHECKS.length}, ${c.label}: ${c.what}\n`;
    return s;
  }

  tripInProgress(): TripView | null {
    const t = this.trip;
    if (t === null) return null;
    return { nr: t.nr, via: this.via(t), insns: this.port.cpu.icount - t.icount, check: t.check };
  }

  inUserCode(): boolean {
    const cpu = this.port.cpu;
    return this.trip === null && cpu.cpl !== 0 && !this.kernel.contains(cpu.rip);
  }

  relayUserFault(_info: SigInfo): boolean {
    return false;
  }

  claimUserFault(_vector: number, _addr: number): boolean {
    return false;
  }

  fixupKernelFault(_vector: number): SigInfo | 'fixed' | null {
    return null;
  }

  statsLines(): string[] {
    return [];
  }

  abstract timerInterrupt(): 'user' | 'kernel' | null;

  // ---- the trip ----

  /**
   * The program entered the path (the sled, __kernel_vsyscall or
   * entry_SYSCALL_64 is next). A caught syscall stops here, at the first
   * instruction of the path, so a debugger can step on through it.
   */
  protected enter(icount: number, nr: number, how: Trip['how'], at: number, sled = nr): void {
    if (this.trip !== null) return;
    this.trip = { nr, icount, at, how, sled, check: 0 };
    this.port.origRax = nr;
    // a 32-bit program's call stops under the number the debugger asked for (table.ts: debuggerNr32)
    const caught = compatTrip(this.trip) ? debuggerNr32(nr, this.port.syscallNumbers32) : nr;
    if (caught !== undefined && this.port.caught(caught)) {
      this.port.requestStop({ kind: 'syscall-entry', nr: caught });
      this.t.returnStopNr = caught;
    }
  }

  /** The path is about to return to the program: the return instruction (`route`, or what says it: trace's) is next. */
  protected leave(icountAfter: number, route: string | (() => string)): void {
    const t = this.trip;
    if (t === null) return;
    const insns = icountAfter - t.icount;
    this.port.tripDone(t.nr, insns);
    if (this.port.describingTrips) this.port.describeTrip(this.pathInfo(t, insns, typeof route === 'string' ? route : route()));
    this.trip = null;
    if (this.t.returnStopNr < 0) this.port.origRax = -1;
  }

  /** Back at the user instruction after a caught syscall: stop again, unless it is no longer caught (deleted, or stepping). */
  protected returnStop(): void {
    if (this.t.returnStopNr < 0) return;
    this.t.returnStopNr = -1;
    // the exit stop names the call that ran, as ptrace's does (orig_ax then): none after a skip; a
    // 32-bit program's (it returns to __USER32_CS) under the number the debugger asked for, as at entry
    const regs = this.ptregsAddr();
    const ran = peekWord(this.port.mem, regs + PT_REGS.orig_ax);
    const nr = ran !== -1 && peekWord(this.port.mem, regs + PT_REGS.cs) === __USER32_CS ? debuggerNr32(ran, this.port.syscallNumbers32) : ran;
    if (nr !== undefined && nr !== -1 && this.port.caught(nr)) this.port.requestStop({ kind: 'syscall-return', nr, ret: this.port.cpu.getNum(0) });
  }

  /** A return stop is due when the path gets back to the program. */
  protected returnStopDue(): boolean {
    const t = this.t;
    if (t.returnStopNr >= 0 && !this.port.caught(t.returnStopNr)) t.returnStopNr = -1;
    return t.returnStopNr >= 0;
  }

  private pathInfo(t: Trip, insns: number, route: string): PathInfo {
    const pt = readPtRegs(this.port.mem, this.ptregsAddr());
    const nr = t.nr;
    const compat = compatTrip(t);
    const sys = compat
      ? nr < IA32_NR_SYSCALLS ? (IA32_SYSCALL_NAMES[nr] ? `__ia32_sys_${IA32_SYSCALL_NAMES[nr]}` : 'sys_ni_syscall') : 'beyond ia32_sys_call_table (-ENOSYS)'
      : nr >= 0 && nr < NR_SYSCALLS ? (SYSCALL_NAMES[nr] ? `__x64_sys_${syscallName(nr)}` : 'sys_ni_syscall') : 'beyond sys_call_table (-ENOSYS)';
    return {
      nr,
      via: this.via(t),
      steps: this.steps(t, sys),
      ptregs: { orig_ax: field(pt, 'orig_ax'), ax: field(pt, 'ax'), ip: field(pt, 'ip'), sp: field(pt, 'sp'), flags: field(pt, 'flags') },
      // the i386 arguments: ebx, ecx, edx, esi, edi, ebp
      args: (compat ? IA32_ARG_SLOTS : ARG_SLOTS).map((o) => pt.getInt32(o + 4, true) * 4294967296 + pt.getUint32(o, true)),
      route,
      insns,
      ...(compat ? { abi: 'i386' as const } : {}),
    };
  }

  // ---- hypercalls ----

  /** `vmcall` from the guest kernel: %eax selects the service, %rdi is its argument. */
  protected hypercall(cpu: CPU, i: TrapSite): void {
    const arg = cpu.getNum(RDI);
    switch (cpu.rl[0]) {
      case HC.SYSCALL:
        this.hcSyscall(cpu, i, arg);
        return;
      case HC.SYSCALL32:
        this.hcSyscall32(cpu, i, arg);
        return;
      case HC.EXIT_WORK:
        this.port.exitWork(arg);
        return;
      case HC.PRINTK:
        this.port.printk(cString(this.port, arg));
        return;
      case HC.SCHEDULE:
        this.port.reschedule();
        return;
      default:
        if (!this.otherHypercall(cpu, cpu.rl[0])) throw new CpuFault(Vector.UD);
    }
  }

  /** A service only one model offers (native: HC_BOOT_DONE); false if unknown. */
  protected otherHypercall(_cpu: CPU, _nr: number): boolean {
    return false;
  }

  /**
   * HC_SYSCALL32 (ia32_sys_call_table's entries): the host performs i386
   * syscall regs->orig_ax with the 32-bit arguments saved in pt_regs (ebx,
   * ecx, edx, esi, edi, ebp: ebp as do_fast_syscall_32 fetched it); the
   * result in %rax. A call that would sleep runs again, as HC_SYSCALL's.
 * sigreturn and rt_sigreturn restore the user context in pt_regs.
   */
  private hcSyscall32(cpu: CPU, i: TrapSite, regs: number): void {
    const port = this.port;
    const pt = peekPtRegs(port.mem, regs);
    const nr = pt.getUint32(PT_REGS.orig_ax, true);
    if (nr === NR32_SIGRETURN || nr === NR32_RT_SIGRETURN) {
      port.sigreturn(regs, nr === NR32_SIGRETURN ? 'sigreturn' : 'rt_sigreturn');
      this.restoredAx(cpu, regs);
      return;
    }
    const args = IA32_ARG_SLOTS.map((o) => pt.getInt32(o, true));
    const sp = pt.getUint32(PT_REGS.sp, true);
    try {
      cpu.setNum(0, port.hostSyscall32(nr, args, sp));
    } catch (e) {
      this.retryLater(cpu, i, e);
    }
  }

  /**
   * A host syscall that would sleep leaves the vmcall to run again when the machine is resumed
   * (%eax still the hypercall's number); anything else thrown goes on.
   */
  private retryLater(cpu: CPU, i: TrapSite, e: unknown): void {
    if (!(e instanceof WouldBlock)) throw e;
    cpu.nextRip = i.addr;
    cpu.icount--;
    this.port.requestStop({ kind: 'blocked', ms: e.ms });
  }

  /**
   * The result of a sigreturn: the restored rax, which the entry path stores in regs->ax, returned
   * whole (as a number it would be rounded to 53 bits, and code interrupted anywhere holds any 64-bit value).
   */
  private restoredAx(cpu: CPU, regs: number): void {
    const restored = peekPtRegs(this.port.mem, regs);
    cpu.set64(0, restored.getInt32(PT_REGS.ax, true), restored.getInt32(PT_REGS.ax + 4, true));
  }

  /** HC_SYSCALL: the host performs syscall regs->orig_ax with the arguments saved in pt_regs; the result in %rax. */
  private hcSyscall(cpu: CPU, i: TrapSite, regs: number): void {
    const port = this.port;
    const pt = peekPtRegs(port.mem, regs); // shared: everything is read from it before the call runs
    const nr = pt.getInt32(PT_REGS.orig_ax, true);
    port.origRax = nr;
    if (nr === RT_SIGRETURN) {
      port.sigreturn(regs);
      this.restoredAx(cpu, regs);
      return;
    }
    const a = PT_ARGS;
    for (let k = 0; k < 6; k++) {
      a.lo[k] = pt.getInt32(ARG_SLOTS[k], true);
      a.hi[k] = pt.getInt32(ARG_SLOTS[k] + 4, true);
    }
    const sp = field(pt, 'sp');
    // the result in %rax (no closure around the call: this runs on every trip)
    try {
      cpu.setNum(0, port.hostSyscall(nr, a, sp));
    } catch (e) {
      this.retryLater(cpu, i, e);
    }
  }
}

/**
 * The arguments of the HC_SYSCALL being served, one for every trip: a host
 * syscall uses them before it returns (as syscalls.ts's own for the direct
 * entry), and two typed arrays a call cost more than the rest of the hypercall.
 */
const PT_ARGS = new SyscallArgs();
const IA32_ARG_SLOTS = [PT_REGS.bx, PT_REGS.cx, PT_REGS.dx, PT_REGS.si, PT_REGS.di, PT_REGS.bp];

function cString(port: EntryPort, addr: number): string {
  const out: number[] = [];
  const b = new Uint8Array(1);
  while (out.length < 1024 && port.mem.peek(addr + out.length, b) === 1 && b[0] !== 0) out.push(b[0]);
  return new TextDecoder().decode(Uint8Array.from(out));
}
