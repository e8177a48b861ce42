/**
 * The one door from the gdb target into the emulator: what a debugger may
 * ask of a traced process, in the terms of Linux's ptrace and /proc (a
 * register set is PTRACE_GETREGS's struct, memory is PEEK/POKE through
 * every permission, a resume is PTRACE_CONT with a signal, files are opened
 * as the process would open them). The capability modules beside this file
 * speak only this interface; machine-port.ts implements it over the Machine
 * and its Process, and is the only module of src/gdb that imports src/machine,
 * src/kernel or src/cpu. A new machine or kernel changes that adapter, not
 * the target.
 *
 * Numbers follow src/cpu: a 64-bit address is the JS number of its signed
 * value; errors are Linux errno values (positive).
 */

/** sizeof(struct user_regs_struct) on x86-64: 27 slots of 8 bytes. */
export const USER_REGS_SIZE = 27 * 8;
/** sizeof(struct user_fpregs_struct): the 512-byte fxsave image. */
export const USER_FPREGS_SIZE = 512;

/** Slot index of each field of struct user_regs_struct (arch/x86/include/uapi/asm/ptrace.h order). */
export const USER_REGS = {
  r15: 0, r14: 1, r13: 2, r12: 3, rbp: 4, rbx: 5, r11: 6, r10: 7, r9: 8, r8: 9, rax: 10, rcx: 11, rdx: 12, rsi: 13, rdi: 14,
  orig_rax: 15, rip: 16, cs: 17, eflags: 18, rsp: 19, ss: 20, fs_base: 21, gs_base: 22, ds: 23, es: 24, fs: 25, gs: 26,
} as const;

/**
 * How a debugger numbers a 32-bit task's syscalls (the machine's
 * kernel/ia32/table.ts says it, this boundary repeats the two names):
 * by the x86-64 counterpart, or by the task's own i386 number.
 */
export type SyscallNumbers32 = 'x86-64' | 'i386';

export interface GuestRegs {
  /** PTRACE_GETREGS: struct user_regs_struct, little-endian, into out (USER_REGS_SIZE bytes). */
  getRegs(out: Uint8Array): void;
  /** PTRACE_SETREGS. */
  setRegs(data: Uint8Array): void;
  /** PTRACE_PEEKUSER of one slot of struct user_regs_struct: its 8 bytes into out[off..off+8) (a stop reply reads three). */
  peekUser(slot: number, out: Uint8Array, off: number): void;
  /** PTRACE_GETFPREGS: struct user_fpregs_struct (the fxsave image), USER_FPREGS_SIZE bytes. */
  getFpRegs(out: Uint8Array): void;
  /** PTRACE_SETFPREGS. */
  setFpRegs(data: Uint8Array): void;
  /** The instruction pointer alone (range stepping reads it after every block). */
  pc(): number;
  setPc(pc: number): void;
}

export interface GuestMemory {
  /** Debugger read, seeing through page permissions as ptrace does: the number of bytes read before an unmapped page. */
  peek(addr: number, out: Uint8Array): number;
  /** Debugger write, all or nothing: false (nothing written) if any byte is unmapped. */
  poke(addr: number, data: Uint8Array): boolean;
}

/** What the last signal stop was about (the fields of siginfo_t a debugger reads). */
export interface GuestSigInfo {
  signo: number;
  code: number;
  /** si_addr for faults. */
  addr?: number;
  /** si_pid/si_uid for signals sent by a process. */
  pid?: number;
  uid?: number;
}

/** Why run() returned, and in which task (tid: unset for the end of the whole program). */
export type GuestEvent = (
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: number }
  /** A breakpoint the debugger set as software (Z0) or hardware (Z1), before the instruction at addr runs. */
  | { kind: 'breakpoint'; addr: number; type: 'sw' | 'hw' }
  /** A watchpoint (its type and address as set), after the instruction that accessed it. */
  | { kind: 'watch'; type: 'watch' | 'rwatch' | 'awatch'; addr: number }
  | { kind: 'syscall-entry'; nr: number }
  | { kind: 'syscall-return'; nr: number }
  /** A signal is about to be delivered (signal-delivery-stop); resumeSignal decides its fate. */
  | { kind: 'signal'; info: GuestSigInfo }
  /** The program sleeps in a syscall: call run again in about ms. */
  | { kind: 'blocked'; ms: number }
  /** The task forked (vforked): child is the new process's pid, held stopped and traced (catchEvents). */
  | { kind: 'fork' | 'vfork'; child: number }
  /** A vfork parent goes on: its child has exec'd or exited. */
  | { kind: 'vfork-done' }
  /** The task exec'd path (its process has a new image). */
  | { kind: 'exec'; path: string }
  /** A thread was made (thread events on): child is its tid, stopped. */
  | { kind: 'thread-created'; child: number }
  /** A thread ended, its process living on (thread events on): its exit code; tid names it. */
  | { kind: 'thread-exited'; code: number }
  /** One traced process ended while the program runs on; last: no traced process is left. */
  | { kind: 'process-exited'; pid: number; code: number; last: boolean }
  | { kind: 'process-killed'; pid: number; signal: number; last: boolean }
) & { tid?: number };

export interface GuestExecution {
  /**
   * Run up to budget instructions: an event, or null when the budget ran out
   * or a stop was requested (icount() tells how far it got).
   * A breakpoint at resumeFrom is passed over if execution starts there (the
   * one the debugger is resuming from).
   */
  /** stepping: a single or range step (a timer interrupt does not divert it unless `monitor step-interrupts on`). */
  run(budget: number, resumeFrom: number, stepping?: boolean): GuestEvent | null;
  /** As PTRACE_CONT's data: deliver sig now (0: discard the signal of a signal stop). */
  resumeSignal(sig: number): void;
  /** PTRACE_KILL: the process ends killed by SIGKILL; its descriptors are closed. */
  kill(): void;
  /** The process has ended. */
  ended(): boolean;
  /** Syscalls that stop at entry and return (PTRACE_SYSCALL's filter). */
  catchSyscalls(which: null | 'all' | ReadonlySet<number>): void;
  /** How catchSyscalls and the syscall stops number a 32-bit task's calls (kernel/ia32/table.ts). */
  syscallNumbers32(numbers: SyscallNumbers32): void;
  /** Stop before delivering a signal (ptrace's signal-delivery-stop), except those passed through. */
  stopOnSignals(on: boolean, pass: ReadonlySet<number>): void;
  /** Breakpoints checked before the instruction at each address runs (software and hardware ones); memory is never written. */
  setBreakpoints(sw: Iterable<number>, hw: Iterable<number>): void;
  /**
   * A watchpoint (a debug register's job): run() reports a 'watch' event after
   * the instruction that wrote (watch: changed), read (rwatch) or accessed
   * (awatch) the len bytes at addr. False if it cannot be set.
   */
  addWatch(type: 'watch' | 'rwatch' | 'awatch', addr: number, len: number): boolean;
  removeWatch(type: 'watch' | 'rwatch' | 'awatch', addr: number, len: number): void;
  clearWatches(): void;
  /** How many instructions from the pc can run before one could leave [start, end): a whole block if it lies inside, else 1. */
  insnsWithin(start: number, end: number): number;
  /** Instructions executed so far. */
  icount(): number;
  /** Which process events stop, as PTRACE_O_TRACEFORK, _TRACEVFORK and _TRACEEXEC: a forked child is then traced and held. */
  catchEvents(ev: { fork: boolean; vfork: boolean; exec: boolean }): void;
  /** Thread creation and exit stops (QThreadEvents). */
  threadEvents(on: boolean): void;
  /** The traced tasks the next run lets go ('all': every one); the other traced tasks stay stopped. */
  resumeOnly(tids: ReadonlySet<number> | 'all'): void;
  /**
   * Make tid the task that runs first (a step of it): false if it cannot be
   * now (the running task is inside the kernel). Either way, register access
   * is the running task's afterwards (a tid of -1 only does that).
   */
  focus(tid: number): boolean;
  /** PTRACE_DETACH of one process: it runs on untraced, with no breakpoints. False if it is not traced. */
  detachProcess(pid: number): boolean;
  /** End one traced process with SIGKILL (the program runs on). False if it is not traced. */
  killProcess(pid: number): boolean;
  /** Breakpoints of one process's address space (a debugger following several keeps a set per process). */
  setProcessBreakpoints(pid: number, sw: Iterable<number>, hw: Iterable<number>): void;
}

/** An open file, as the process would read it. */
export interface GuestFile {
  /** The bytes (fewer at the end of the file), or -errno. */
  pread(count: number, offset: number): Uint8Array | number;
  /** stat of the open file, or -errno. */
  fstat(): GuestStat | number;
  close(): void;
}

/** The stat fields gdb's File-I/O protocol carries (times in seconds). */
export interface GuestStat {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atime: number;
  mtime: number;
  ctime: number;
}

export interface GuestFiles {
  /** The guest path of path as the process resolves it lexically (relative to its cwd). */
  normalize(path: string): string;
  /** Is the guest's file system a directory of the host (--root) rather than the whole host? */
  readonly confined: boolean;
  /** The path is one of the process's own synthesized /proc entries (maps, cmdline, ...), not a host file. */
  isOwnProc(path: string): boolean;
  /** open(path, O_RDONLY) as the process would: the file, or -errno. */
  open(path: string): GuestFile | number;
  /** readlink(path) as the process would: the link text, or -errno. */
  readlink(path: string): string | number;
}

/** The guest kernel image, served to gdb as a loaded object linked at its run address. */
export interface GuestKernelImage {
  /** The name gdb sees (only vFile serves it). */
  name: string;
  /** Open the image file for reading, or -errno. */
  open(): GuestFile | number;
}

/** The selected task's process as its last execve left it. */
export interface GuestImage {
  /** The program's guest path (what /proc/PID/exe names). */
  readonly exePath: string;
  /** Its PT_INTERP, if it has one. */
  readonly interp: string | null;
  /** Where exec mapped the interpreter: its load bias and its dynamic section's address. */
  readonly interpLoad: { bias: number; dynamic: number } | null;
  /** Load bias (0 for ET_EXEC). */
  readonly loadBias: number;
  /** The auxiliary vector the program received (read at exec, before the program can change it). */
  readonly auxv: Uint8Array;
  readonly kernelImage: GuestKernelImage | null;
  /**
   * The address of the program's struct r_debug (what ld.so stored in its
   * DT_DEBUG entry), whose r_map lists every loaded object; null for a static
   * program, or before ld.so has run.
   */
  rDebug(): number | null;
  /** An i386 program: its r_debug and link_map have 4-byte pointers. */
  readonly compat: boolean;
}

/** The entry-path facts `monitor` shows. */
export interface GuestKernel {
  /** The model's name as --stats and trace give it (nommu/zpoline, native, direct). */
  readonly modelLabel: string;
  /** struct pt_regs as the guest kernel lays it out: each field, its offset, and its struct user_regs_struct slot. */
  readonly ptregsLayout: readonly { field: string; offset: number; slot: number }[];
  /** `monitor mode`: the entry model and what it does, as the model says it. */
  mode(): string;
  /** `monitor trip`: the syscall on its way through the entry path, as the model recorded it. */
  trip(): string;
  /** The CPU is in the program's own code (not in a syscall path or the guest kernel). */
  inUserCode(): boolean;
  /** Where the guest kernel keeps the task's struct pt_regs (null: the model keeps none). */
  ptregsAddr(): number | null;
  syscallName(nr: number): string;
  /** Syscalls made, by number. */
  syscallCounts(): ReadonlyMap<number, number>;
  /** The --stats table, or null when not asked for. */
  statsTable(): string | null;
  /** `monitor interrupts`: the timer's period and the interrupts delivered, in user and in kernel mode. */
  interrupts(): string;
  /** A debugger's single and range steps may be interrupted (the step then stops at the handler's first instruction). */
  stepInterrupts: boolean;
  /** The running task's next timer tick falls due n instructions from now; false when there is no timer. */
  armTimer(n: number): boolean;
}

export interface GuestTask {
  /** Its process (thread group). */
  pid: number;
  tid: number;
  /** comm, as Linux names the thread. */
  name: string;
}

/** A process being debugged. */
export interface GuestProcess {
  readonly pid: number;
  readonly regs: GuestRegs;
  readonly mem: GuestMemory;
  readonly exec: GuestExecution;
  readonly files: GuestFiles;
  readonly image: GuestImage;
  readonly kernel: GuestKernel;
  /** The tasks the debugger traces (the program's first, and the processes it followed), while they live. */
  tasks(): GuestTask[];
  /** The task register and memory access refer to (Hg); false if it is not traced. Each stop selects its own task. */
  select(tid: number): boolean;
  /** The selected task. */
  selected(): GuestTask | null;
  /** The program a followed process runs now (what /proc/PID/exe names), or null if it is not followed. */
  exePathOf(pid: number): string | null;
  /** Release what the process holds on the host (descriptors); it must have ended. */
  dispose(): void;
  /** Its recorded history, when it keeps one (history.ts): going back to an earlier instant. */
  readonly reverse?: GuestReverse;
}

/** Where a reverse resume ended: the stop it found (null: one instruction back), and whether that is the start of history. */
export interface ReverseStop {
  event: GuestEvent | null;
  begin: boolean;
}

export interface GuestReverse {
  /** reverse-stepi: the instant one instruction earlier. */
  stepBack(): ReverseStop;
  /** reverse-continue: back to where a breakpoint, watchpoint or caught syscall set now would last have stopped. */
  continueBack(): ReverseStop;
  /** What `monitor history` says. */
  describe(): string;
}

/** How to start a process (the argv gdb gives to vRun; '' as argv[0]: the default program). */
export type GuestLauncher = (argv: string[]) => GuestProcess;
