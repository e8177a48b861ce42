/**
 * An entry model: how a user `syscall` reaches the kernel and how the kernel
 * returns. Each model is a module of its own (direct.ts, nommu.ts,
 * native.ts) behind this interface; the machine never asks which model it
 * runs. A model reaches back into the machine only through the EntryPort.
 *
 * A model owns what it installs at exec (a guest kernel image, the zpoline
 * page, rewritten sites, MSRs), the CPU's hooks for `syscall` and `vmcall`,
 * the probes on its kernel's labels, and the state of each task (the trip in
 * progress, its kernel stack): the machine makes tasks and switches between
 * them through newTask/activate, and the model keeps what is per task in
 * the task's `entry` slot.
 */
import type { Vdso32 } from './vdso32.js';
import type { CPU } from '../cpu/cpu.js';
import { STALE, rebuiltOnClone } from '../cpu/clone.js';
import type { Memory } from '../cpu/memory.js';
import type { BlockCache } from '../cpu/run.js';
import type { LoadedImage } from '../kernel/loader.js';
import type { SigInfo } from '../kernel/signal.js';
import type { SyscallNumbers32 } from '../kernel/ia32/table.js';
import type { SyscallArgs } from '../kernel/sys/util.js';
import type { Stop } from './stop.js';
import type { KernelImage } from './kernel-image.js';

/** One trip through an entry path, as `trace --path` shows it. */
export interface PathInfo {
  nr: number;
  /** How the program entered: the sled offset, the trap, or SYSCALL through LSTAR. */
  via: string;
  /** The named steps of the path. */
  steps: string[];
  /** The pt_regs the entry wrote, as the exit path sees them. */
  ptregs: { orig_ax: number; ax: number; ip: number; sp: number; flags: number };
  /** The six argument slots (di, si, dx, r10, r8, r9). */
  args: number[];
  /** How it returned: jmp *%rcx, sysretq, or iretq and the SYSRET check that sent it there. */
  route: string;
  /** Guest instructions from the user instruction to the next user instruction. */
  insns: number;
  /** The call did not go through the guest kernel (nommu/zpoline: a site written at run time, not rewritten). */
  bypassed?: boolean;
  /** nr and args are a 32-bit program's (i386 numbers; ebx, ecx, edx, esi, edi, ebp). */
  abi?: 'i386';
}

/** A task as a model sees it: its CPU (its saved context) and the slot for the model's per-task state. */
export interface EntryTask {
  readonly tid: number;
  readonly cpu: CPU;
  /** The model's own state of this task (set by newTask). */
  entry: unknown;
}

/** Which return from a 32-bit program's handler: the old frame's (sigreturn) or the SA_SIGINFO one's. */
export type Ia32Sigreturn = 'sigreturn' | 'rt_sigreturn';

/** What a model may ask of the machine. */
export interface EntryPort {
  /** The running task's CPU, address space and its decoded blocks (they change at every task switch). */
  readonly cpu: CPU;
  readonly mem: Memory;
  readonly blocks: BlockCache;
  /** The guest kernel's pages: one set, seen from every address space (its image, the tasks' kernel stacks). */
  readonly kernelPages: Memory;
  /**
   * The host performs syscall nr (arguments from the CPU unless given;
   * userRsp: the user stack pointer when the CPU's RSP is a kernel stack).
   * Never throws for a guest error (those are -errno); throws WouldBlock when
   * the call would sleep with a debugger attached: retry it later.
   */
  hostSyscall(nr: number, args?: SyscallArgs, userRsp?: number): number;
  /** An i386 syscall of a compat-mode program: its number and ebx, ecx, edx, esi, edi, ebp (kernel/ia32). */
  hostSyscall32(nr: number, regs: ArrayLike<number>, userRsp?: number): number;
  /**
   * rt_sigreturn on the user context: the CPU's (regs null) or the pt_regs
   * at regs, where the restored rax is too (all 64 bits: no number, which
   * would round a register beyond 2^53); ia32: a 32-bit program's sigreturn
   * or rt_sigreturn (its frames are ia32 ones).
   */
  sigreturn(regs: number | null, ia32?: Ia32Sigreturn): void;
  /**
   * Pending work on the way back to user space (signal delivery) on that user
   * context. True if it stopped the machine (a debugger's signal stop, or the
   * program ended).
   */
  exitWork(regs: number | null): boolean;
  /** Stop the machine after the current instruction (stop.ts: the most pressing reason wins). */
  requestStop(stop: Stop): void;
  /** A line of the guest kernel's log. */
  printk(line: string): void;
  /** A line for the user, on the log stream. */
  warn(line: string): void;
  /** Does the debugger catch syscall nr? */
  caught(nr: number): boolean;
  /** How the debugger numbers a 32-bit task's syscalls (caught() and the stops take that number). */
  readonly syscallNumbers32: SyscallNumbers32;
  /** The syscall in progress as a debugger sees orig_rax (-1: none). */
  origRax: number;
  /**
   * A trip through the path is over; counted: it goes into --stats (not a
   * syscall that bypassed the path).
   */
  tripDone(nr: number, insns: number, counted?: boolean): void;
  /**
   * Someone listens to the trips' descriptions (trace): only then is a trip
   * described (describeTrip, after its tripDone), and a model that must read
   * a description at entry reads it. Nothing is made per syscall otherwise.
   */
  readonly describingTrips: boolean;
  describeTrip(p: PathInfo): void;
  /** Make a synchronous signal pending for the program (a fault the kernel relays). */
  queueSignal(info: SigInfo): void;
  /** The guest kernel's schedule(): the running task's turn ends when it is next back in its program. */
  reschedule(): void;
}

/** A model as the machine drives it. */
export interface EntryModel {
  /** For `monitor mode`, --stats and trace: 'direct', 'nommu/zpoline', 'native' ... */
  readonly label: string;
  /** The model has an entry for 32-bit (compat-mode) programs' int $0x80. */
  readonly compat: boolean;
  /** The 32-bit vDSO a compat program gets from this model (null: none). */
  vdso32(): Vdso32 | null;
  /** The guest kernel image the model runs (null: the host handles syscalls in place). */
  readonly kernel: KernelImage | null;
  /** Before the first program is loaded: map the guest kernel image, if any, into the kernel's pages. */
  mapKernel(): void;
  /**
   * After a clone of the machine (src/machine/snapshot.ts): the machine's
   * new port, and the model's hooks again on the CPUs that had them (the
   * clone holds stale placeholders there).
   */
  rewire(port: EntryPort, cpus: Iterable<CPU>): void;
  /** The probes the model sets in a fresh block cache (one made after a clone: the decoded blocks are not cloned). */
  installProbes(blocks: BlockCache): void;
  /** Address ranges the program may not be loaded over (the zpoline page). */
  reserved(): [number, number][];
  /**
   * A new task: the first (parent null: the image's init task), or fork's
   * child, whose CPU is a copy of its parent's at the syscall: it must
   * return 0 to its program the way the model returns from a syscall
   * (ret_from_fork), on `stack` if not 0 (clone's new stack).
   */
  newTask(task: EntryTask, parent: EntryTask | null, stack: number): void;
  /**
   * From now on the CPU is `task`'s: the model's per-task state, and the
   * guest kernel's idea of the current task (its pt_regs and kernel stack).
   * Only at a safe point: the running task is in user code, or parked in a
   * syscall.
   */
  activate(task: EntryTask): void;
  /**
   * fn with the guest kernel's idea of the current task (the variables the
   * unwind tables read pt_regs through, the per-CPU words) set to task's,
   * then back: a debugger reading a task that is not running (its kernel
   * frames unwind through its own pt_regs).
   */
  asCurrent<R>(task: EntryTask, fn: () => R): R;
  /** The task has ended: what the model kept for it (its kernel stack) may be reused. */
  releaseTask(task: EntryTask): void;
  /**
   * exec: set up what the model needs for a freshly loaded program in the
   * running task's address space (the first program: the CPU is at its
   * entry point in user mode); vdso: where a 32-bit program's vDSO is.
   */
  exec(img: LoadedImage, vdso?: number | null): void;
  /**
   * execve (not the first program): the syscall in progress returns to the
   * new program's entry point with stack pointer sp and every other
   * register zero, as Linux's start_thread leaves them; compat: an i386
   * program, in compat mode (start_thread_ia32: CS = __USER32_CS).
   */
  execReturn(entry: number, sp: number, compat: boolean): void;
  /**
   * [start, end) of user memory became executable: the program's and the
   * interpreter's segments at exec, a library ld.so maps, an mprotect that
   * adds PROT_EXEC, or code moved by mremap from movedFrom. Called before the
   * program can run it (zpoline rewrites the syscall sites there).
   */
  executableMapped(start: number, end: number, movedFrom?: number): void;
  /**
   * The machine is resumed: finish what a stop interrupted (a direct syscall
   * left pending). Returns true if that completed a syscall, which counts as
   * the first instruction of the resume.
   */
  resume(): boolean;
  /**
   * A debugger set the result of the syscall in progress before it ran (at
   * its entry stop): what it returns if it does not run (orig_rax -1).
   */
  overrideResult(value: number): void;
  /** Where the current task's pt_regs are (null: the model keeps none). */
  ptregsAddr(): number | null;
  /** A trip through the path is in progress (between the user instruction and the next). */
  inTrip(): boolean;
  /**
   * The running task may be switched out here: it is in user code, and not
   * inside a path that uses per-CPU scratch (native: between swapgs and the
   * switch to the kernel stack). A parked task is always at one.
   */
  switchable(): boolean;
  /** The CPU is in the program's own code: not in a trip, the trampoline or the guest kernel. */
  inUserCode(): boolean;
  /**
   * A fault in user code about to become a signal: a model that routes user
   * faults through its kernel (UML nommu) takes it and returns true.
   */
  relayUserFault(info: SigInfo): boolean;
  /**
   * A fault in user code (vector; addr: the page fault's address) that a
   * model may recognize as its own and redirect the CPU, returning true:
   * zpoline's `call *%rax` of a syscall number that lands where no sled
   * byte is (inside the trampoline's code, or beyond its page).
   */
  claimUserFault(vector: number, addr: number): boolean;
  /**
   * A fault in the model's kernel code: Linux's exception-table fixups. The
   * model may send the kernel on to the instruction's fixup ('fixed': a
   * uaccess that faulted, which then returns -EFAULT), or turn the fault
   * into one of the user context (the CPU then holds that context) and
   * return the signal for it; null: an oops.
   */
  fixupKernelFault(vector: number): SigInfo | 'fixed' | null;
  /**
   * The timer's tick is due: deliver it as the model's kernel takes it
   * (native: the local APIC timer vector through the IDT; UML: SIGALRM to
   * hard_handler), returning where it found the CPU, or null when it cannot
   * be delivered now (native: IF clear; UML: inside the host's handler of
   * the last one) and must wait for a later instruction boundary. A model
   * without a guest kernel has no interrupts: null always.
   */
  timerInterrupt(): 'user' | 'kernel' | null;
  /** `monitor trip`: the trip in progress (the syscall, how it entered, how far it got), in a few lines. */
  describeTrip(): string;
  /** `monitor mode`: what the model does, in a line or two. */
  describe(): string;
  /** Extra lines for --stats (e.g. how many sites zpoline rewrote). */
  statsLines(): string[];
}

/** How a model is made: the registry (index.ts) maps names to these. */
export type EntryFactory = (port: EntryPort, hook: string) => EntryModel;

/** A model's CPU hooks (what exec installs on the running CPU). */
export type CpuHooks = Partial<Pick<CPU, 'onSyscall' | 'onInt80' | 'onSysenter' | 'onTrap'>>;

/** After a clone: each CPU's hooks left stale by the clone are the model's again (clone.ts). */
export function rehook(cpus: Iterable<CPU>, hooks: CpuHooks): void {
  for (const cpu of cpus)
    for (const k of ['onSyscall', 'onInt80', 'onSysenter', 'onTrap'] as const) if ((cpu[k] as unknown) === STALE) (cpu as unknown as Record<string, unknown>)[k] = hooks[k] ?? null;
}

/** A model's hooks, which name the model: a clone of the machine has them made anew (rewire), not copied. */
export function rebuiltHooks(h: CpuHooks): CpuHooks {
  for (const f of Object.values(h)) if (f) rebuiltOnClone(f);
  return h;
}
