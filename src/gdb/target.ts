/**
 * What the protocol drives. The stub (session + packet handlers) knows
 * nothing of x86 or of the Machine: it talks to a Target, which has a
 * required core (registers, memory, resume) and optional capabilities. A
 * capability that is undefined means its packets are unsupported; qSupported
 * advertises exactly the capabilities present (as the Rust gdbstub crate's
 * `support_*()` extension methods do).
 *
 * Conventions: addresses are JS numbers holding the signed 64-bit value
 * (canonical addresses are exact); signal numbers are Linux's (the session
 * translates to gdb's numbering); register numbers are the target
 * description's regnums.
 */

/** Why the target stopped: the one value a stop reply is built from. */
export type StopReason =
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
  /** Stopped at the debugger's request (0x03, or a disconnect mid-continue). */
  | { kind: 'interrupted' }
  /** The set of loaded images changed (the stop reply carries `library:;`). */
  | { kind: 'library' };

export type WatchType = 'watch' | 'rwatch' | 'awatch';

export interface ResumeAction {
  kind: 'continue' | 'step' | 'range';
  /** Signal to deliver as the target resumes (Linux number, 0 = none). */
  signal: number;
  /** For 'range': keep stepping while start <= rip < end. */
  start?: number;
  end?: number;
  /** For c/s with an address: resume there. */
  addr?: number;
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
  /** Process and thread id reported to the debugger (single-threaded: tid = pid). */
  readonly pid: number;
  /** The thread's name for `info threads` (Linux's comm), if any. */
  readonly threadName?: string;

  // ---- base: registers and memory ----
  /** All registers in `g` layout (arch.gSize bytes). */
  readRegisters(): Uint8Array;
  /** Write all registers from a `g`-layout buffer (may be shorter: trailing ones unchanged). */
  writeRegisters(data: Uint8Array): void;
  /** One register (its size in bytes), or null for an unknown regnum. */
  readRegister(regnum: number): Uint8Array | null;
  /** Write one register; false for an unknown regnum or a bad size. */
  writeRegister(regnum: number, data: Uint8Array): boolean;
  /**
   * Debugger read, seeing through page permissions like ptrace; returns the
   * bytes readable from addr (shorter than len if an unmapped page follows).
   */
  readMemory(addr: number, len: number): Uint8Array;
  /** Debugger write, all or nothing: false (nothing changed) if any byte is unmapped. */
  writeMemory(addr: number, data: Uint8Array): boolean;

  // ---- base: execution ----
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
  idleMs?(): number;
  /** The debugger went away with D: run freely, no breakpoints, no stops for signals. */
  detach(): void;
  /** The debugger attached (again): stops for signals resume. */
  attach(): void;
  /** Terminate the program (k, vKill). */
  kill(): void;

  // ---- optional capabilities ----
  breakpoints?: BreakpointOps;
  catchSyscalls?: CatchSyscallsOps;
  passSignals?: PassSignalsOps;
  execFile?: ExecFileOps;
  auxv?: AuxvOps;
  libraries?: LibrariesOps;
  hostIo?: HostIoOps;
  monitor?: MonitorOps;
  sectionOffsets?: SectionOffsetsOps;
  /** vCont;r: the target implements range stepping. */
  rangeStep?: true;
  /** The siginfo of the last signal stop (qXfer:siginfo:read), 128 bytes. */
  siginfo?: SiginfoOps;
}

export interface BreakpointOps {
  /** Z0/z0 (kind: instruction length hint, ignored on x86). */
  addSw(addr: number): boolean;
  removeSw(addr: number): boolean;
  /** Z1/z1. */
  addHw?(addr: number): boolean;
  removeHw?(addr: number): boolean;
  /** Z2/Z3/Z4 and z2/z3/z4. */
  addWatch?(type: WatchType, addr: number, len: number): boolean;
  removeWatch?(type: WatchType, addr: number, len: number): boolean;
}

export interface CatchSyscallsOps {
  /** null = catch none, 'all', or the numbers to catch. */
  setCatch(which: null | 'all' | Set<number>): void;
}

export interface PassSignalsOps {
  /** Signals (Linux numbers) delivered without a stop. */
  setPass(sigs: Set<number>): void;
}

export interface ExecFileOps {
  /** Path of the program as the debugger should open it (through vFile when it has hostIo). */
  execFile(): string;
}

export interface AuxvOps {
  /** The auxiliary vector as the program received it. */
  auxv(): Uint8Array;
}

/**
 * Loaded images besides the program (the guest kernel image, later).
 * qXfer:libraries-svr4:read; each path is served by hostIo.
 */
export interface LibrariesOps {
  libraries(): { name: string; lAddr: number; lm?: number; lLd?: number }[];
}

/**
 * Files as the program sees them. The descriptor numbers gdb uses belong to
 * the stub (they outlive a process: gdb keeps the program open across `run`).
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
  /** vFile:fstat: gdb's 64-byte struct stat, or -errno. */
  fstat(): Uint8Array | number;
  close(): void;
}

export interface MonitorOps {
  /** `monitor CMD`: the text to print, or null for an unknown command. */
  command(cmd: string): string | null;
}

export interface SectionOffsetsOps {
  /** qOffsets: load bias of the program. */
  offsets(): { text: number; data: number; bss: number };
}

export interface SiginfoOps {
  siginfo(): Uint8Array | null;
}
