/**
 * What the protocol drives. The packet handlers know nothing of x86 or of
 * the Machine: they talk to a Target, which lives as long as the stub and
 * holds at most one process. It has a required base (registers, memory,
 * execution: they need a process, and the dispatcher answers E01 when there
 * is none) and optional capabilities: a capability that is undefined means
 * its packets are unsupported, and qSupported advertises exactly the ones
 * present (the Rust gdbstub crate's `support_*()` extension methods). As the
 * target outlives its processes, what it supports does not change when gdb
 * runs a new one.
 *
 * Conventions: addresses are JS numbers holding the signed 64-bit value
 * (canonical addresses are exact); signal numbers are Linux's (the session
 * translates to gdb's numbering); register numbers are the target
 * description's regnums; errors of file operations are Linux errnos.
 */

/** Why the target stopped: the one value a stop reply is built from. */
export type StopReason = (
  /** A single step (or a range step leaving its range) completed. */
  | { kind: 'step' }
  /** Software (Z0) or hardware (Z1) breakpoint at addr, before the instruction there runs. */
  | { kind: 'swbreak'; addr: number }
  | { kind: 'hwbreak'; addr: number }
  /** A watchpoint: write (Z2), read (Z3) or access (Z4) of the data at addr; reported after the instruction. */
  | { kind: 'watch'; type: WatchType; addr: number }
  /** A signal is about to be delivered (Linux number); the next resume says whether to deliver it. */
  | { kind: 'signal'; signal: number }
  /** Caught syscall (QCatchSyscalls): before it runs / after it returned. */
  | { kind: 'syscall-entry'; nr: number }
  | { kind: 'syscall-return'; nr: number }
  /** The program ended. */
  | { kind: 'exited'; code: number }
  | { kind: 'terminated'; signal: number }
  /** Stopped at the debugger's request (0x03, or a debugger attaching to a free-running program). */
  | { kind: 'interrupted' }
  /** The set of loaded images changed (the stop reply carries `library:;`). */
  | { kind: 'library' }
  /** The thread forked (vforked) the process child, which is stopped and followed (fork-events). */
  | { kind: 'fork' | 'vfork'; child: number }
  /** A vfork parent goes on: its child exec'd or exited. */
  | { kind: 'vforkdone' }
  /** A thread was made (QThreadEvents): the stop names the new thread, stopped. */
  | { kind: 'thread-created' }
  /** A thread ended, its process living on (QThreadEvents): its exit code; tid names it. */
  | { kind: 'thread-exited'; code: number }
  /** The thread's process exec'd path (exec-events). */
  | { kind: 'exec'; path: string }
  /**
   * One of several followed processes ended (the program runs on); last:
   * no followed process is left, the others run on their own.
   */
  | { kind: 'process-exited'; pid: number; code: number; last: boolean }
  | { kind: 'process-terminated'; pid: number; signal: number; last: boolean }
) & {
  /** The thread it happened in (unset: the program's first). */
  tid?: number;
  /** Going backwards reached the start of recorded history (the stop reply says replaylog:begin). */
  historyBegin?: boolean;
};

export type WatchType = 'watch' | 'rwatch' | 'awatch';

export interface ResumeAction {
  /** reverse-*: bs and bc, back through recorded history. */
  kind: 'continue' | 'step' | 'range' | 'reverse-step' | 'reverse-continue';
  /** Signal to deliver as the target resumes (Linux number, 0 = none). */
  signal: number;
  /** For 'range': keep stepping while start <= rip < end. */
  start?: number;
  end?: number;
  /** For c/s with an address: resume there. */
  addr?: number;
  /** The thread the action is for (a step's), when the client named one. */
  thread?: number;
  /** The followed threads this resume lets run ('all' when unset); the others stay stopped. */
  threads?: ReadonlySet<number> | 'all';
}

/** One register of the target description. */
export interface RegInfo {
  name: string;
  /** Size in bytes. */
  size: number;
  regnum: number;
  /** Offset in the `g` packet. */
  offset: number;
}

/** The register layout and its target description (qXfer:features:read). */
export interface Arch {
  regs: readonly RegInfo[];
  /** Size of the `g` packet in bytes. */
  gSize: number;
  /** Annex name -> XML document. target.xml is the root. */
  features: ReadonlyMap<string, string>;
  /** Registers every stop reply carries (regnums), so stepping needs no `g`. */
  expedited: readonly number[];
}

export interface Target {
  readonly arch: Arch;
  /** The process being debugged (tid = pid: one thread), or null when there is none. */
  readonly pid: number | null;

  // ---- base: need a process ----
  readonly registers: RegistersOps;
  readonly memory: MemoryOps;
  readonly execution: ExecutionOps;

  // ---- optional capabilities ----
  readonly breakpoints?: BreakpointOps;
  readonly catchSyscalls?: CatchSyscallsOps;
  readonly passSignals?: PassSignalsOps;
  readonly threads?: ThreadsOps;
  readonly processes?: ProcessesOps;
  readonly execFile?: ExecFileOps;
  readonly auxv?: AuxvOps;
  readonly libraries?: LibrariesOps;
  readonly siginfo?: SiginfoOps;
  readonly sectionOffsets?: SectionOffsetsOps;
  readonly hostIo?: HostIoOps;
  readonly monitor?: MonitorOps;
  /** Extended mode (`target extended-remote`): start processes. */
  readonly extended?: ExtendedOps;
}

export interface RegistersOps {
  /** All registers in `g` layout (arch.gSize bytes). */
  readAll(): Uint8Array;
  /** Write all registers from a `g`-layout buffer (may be shorter: trailing ones unchanged). */
  writeAll(data: Uint8Array): void;
  /** One register (its size in bytes), or null for an unknown regnum. */
  read(regnum: number): Uint8Array | null;
  /** Write one register; false for an unknown regnum or a bad size. */
  write(regnum: number, data: Uint8Array): boolean;
}

export interface MemoryOps {
  /**
   * Debugger read, seeing through page permissions like ptrace; returns the
   * bytes readable from addr (shorter than len if an unmapped page follows).
   */
  read(addr: number, len: number): Uint8Array;
  /** Debugger write, all or nothing: false (nothing changed) if any byte is unmapped. */
  write(addr: number, data: Uint8Array): boolean;
}

export interface ExecutionOps {
  /** Start a resume (continue, step or range step, with an optional signal). */
  resume(action: ResumeAction): void;
  /**
   * Run the current resume for up to `budget` instructions: the stop reason,
   * or null if it is still running (the caller polls again later, so that
   * socket input, such as the interrupt byte, is read in between).
   */
  poll(budget: number): StopReason | null;
  /**
   * After poll returned null: milliseconds to wait before polling again
   * because the program sleeps in a syscall (0: poll again at once).
   */
  idleMs(): number;
  /** vCont;r: the target implements range stepping. */
  readonly rangeStep: boolean;
  /** bs and bc: the target records history and can run backwards (ReverseStep+, ReverseContinue+). */
  readonly reverse: boolean;
  /** No debugger: run freely, no breakpoints, no stops for signals. */
  detach(): void;
  /** A debugger attached (again): stops for signals resume. */
  attach(): void;
  /** Terminate the program (k, vKill); the target has no process afterwards. */
  kill(): void;
  /** The program ended (after an exited/terminated stop): let go of it. */
  release(): void;
}

export interface BreakpointOps {
  /** Z0/z0 (the kind, an instruction length hint, means nothing on x86). */
  addSw(addr: number): boolean;
  removeSw(addr: number): boolean;
  /** Z1/z1. */
  readonly hw?: { add(addr: number): boolean; remove(addr: number): boolean };
  /** Z2/Z3/Z4 and z2/z3/z4. */
  readonly watch?: { add(type: WatchType, addr: number, len: number): boolean; remove(type: WatchType, addr: number, len: number): boolean };
}

export interface CatchSyscallsOps {
  /** null = catch none, 'all', or the numbers to catch; kept for every process. */
  setCatch(which: null | 'all' | ReadonlySet<number>): void;
}

export interface PassSignalsOps {
  /** Signals (Linux numbers) delivered without a stop; kept for every process. */
  setPass(sigs: ReadonlySet<number>): void;
}

export interface ThreadInfo {
  /** Its process. */
  pid: number;
  tid: number;
  /** Linux's comm. */
  name: string;
}

export interface ThreadsOps {
  /** The live threads of the processes followed (none once the program has ended). */
  list(): ThreadInfo[];
  /** QThreadEvents: stop when a thread is made (the new one, stopped) or ends while its process lives on. */
  setEvents(on: boolean): void;
}

/**
 * Following the processes a program forks (fork-events, vfork-events,
 * exec-events, as gdbserver on Linux): each is an inferior of the client,
 * with its own threads, breakpoints and memory.
 */
export interface ProcessesOps {
  /** Which events stop: what the client announced in qSupported. */
  setEvents(ev: { fork: boolean; vfork: boolean; exec: boolean }): void;
  /** Hg: the thread register, memory and breakpoint packets refer to; false if it is not followed. */
  select(tid: number): boolean;
  /** The selected thread (the last stop's unless Hg chose another). */
  selected(): ThreadInfo | null;
  /** The processes followed. */
  count(): number;
  /** D;pid with others followed: let this one run on its own. False if it is not followed. */
  detach(pid: number): boolean;
  /** vKill;pid with others followed: end this one. False if it is not followed. */
  kill(pid: number): boolean;
}

export interface ExecFileOps {
  /** Path of the program as the debugger should open it (through vFile when it has hostIo); of process pid when given (null: not followed). */
  execFile(pid?: number): string | null;
}

export interface AuxvOps {
  /** The auxiliary vector as the program received it. */
  auxv(): Uint8Array;
}

export interface Library {
  name: string;
  /** Load offset: 0 for an image linked at its run address. */
  lAddr: number;
  lm?: number;
  lLd?: number;
}

/** Loaded images besides the program (qXfer:libraries-svr4:read); each path is served by hostIo. */
export interface LibrariesOps {
  /**
   * The loaded images, and the program's own link_map (the list's head,
   * which the list leaves out) once ld.so has made one: read together, from
   * one walk of the link map.
   */
  libraries(): { libraries: Library[]; mainLm: number | null };
}

export interface SiginfoOps {
  /** Linux's 128-byte siginfo_t of the last signal stop, or null. */
  siginfo(): Uint8Array | null;
}

export interface SectionOffsetsOps {
  /** qOffsets: load bias of the program. */
  offsets(): { text: number; data: number; bss: number };
}

/** The stat fields of gdb's File-I/O struct stat. */
export interface HostStat {
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

/**
 * Files for gdb (vFile), as the program sees them and only those gdb needs
 * (the target decides which). The descriptors gdb uses belong to its
 * connection: the session keeps them and closes them when it ends.
 */
export interface HostIoOps {
  /** vFile:open: the open file, or -errno (Linux errno). */
  open(path: string, flags: number, mode: number): HostFile | number;
  /** vFile:readlink: the link text, or -errno. */
  readlink(path: string): string | number;
}

export interface HostFile {
  /** vFile:pread: the bytes, or -errno. */
  pread(count: number, offset: number): Uint8Array | number;
  /** vFile:fstat: the stat fields, or -errno. */
  fstat(): HostStat | number;
  close(): void;
}

export interface MonitorCommand {
  name: string;
  /** One line for `monitor help`. */
  help: string;
  /** It shows the process: with none, the answer says so. */
  needsProcess: boolean;
  /** The text to print. */
  run(args: string): string;
}

export interface MonitorOps {
  /** The target's own commands (the stub adds `help` and `exit`). */
  readonly commands: readonly MonitorCommand[];
}

export interface ExtendedOps {
  /**
   * Start a new process (vRun; argv[0] '' = the default program), killing
   * the current one. Throws an Error whose message says why it cannot run.
   */
  run(argv: string[]): void;
}
