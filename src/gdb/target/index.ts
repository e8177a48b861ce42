/**
 * The emulator as a gdb Target: one object for the stub's whole life, made
 * of one module per capability (registers and memory, execution,
 * breakpoints and watchpoints, host I/O, monitor, the qXfer objects), all
 * over the current GuestProcess (port.ts). Extended mode starts a new
 * process in the same target, so what the target supports is known before
 * the first `run`.
 */
import { X86_64_LINUX } from '../arch/x86_64.js';
import type { Arch, ExtendedOps, ProcessesOps, Target } from '../target.js';
import { Breakpoints } from './breakpoints.js';
import { Execution } from './execution.js';
import { HostIo } from './host-io.js';
import { Monitor } from './monitor.js';
import { Auxv, ExecFile, Libraries, SectionOffsets, Threads } from './objects.js';
import type { GuestLauncher, GuestProcess } from './port.js';
import { Memory, Registers } from './registers.js';

export { LaunchError, spawnGuest, type SpawnOptions } from './machine-port.js';
export type { GuestProcess } from './port.js';
export type { HistoryBounds } from './history.js';

export interface MachineTargetOptions {
  /** Start a process (vRun, and the program given on the command line). */
  launch: GuestLauncher;
  /** Extended mode: gdb may start processes. */
  extended: boolean;
  /** The processes launch makes record their history: bs and bc (reverse execution) are supported. */
  reverse?: boolean;
  /** Called with each process that is let go of (its --stats table, if any). */
  onProcessEnd?: (p: GuestProcess) => void;
}

export class MachineTarget implements Target {
  readonly arch: Arch = X86_64_LINUX;
  private proc: GuestProcess | null = null;

  readonly registers: Registers;
  readonly memory: Memory;
  readonly breakpoints: Breakpoints;
  readonly execution: Execution;
  readonly catchSyscalls: Execution['catchSyscalls'];
  readonly passSignals: Execution['passSignals'];
  readonly threads: Threads;
  readonly processes: ProcessesOps;
  readonly execFile: ExecFile;
  readonly auxv: Auxv;
  readonly libraries: Libraries;
  readonly siginfo: { siginfo(): Uint8Array | null };
  readonly sectionOffsets: SectionOffsets;
  readonly hostIo: HostIo;
  readonly monitor: Monitor;
  readonly extended?: ExtendedOps;

  constructor(private readonly opts: MachineTargetOptions) {
    const need = () => this.need();
    const current = () => this.proc;
    this.registers = new Registers(this.arch, need);
    this.memory = new Memory(need);
    this.breakpoints = new Breakpoints(need);
    this.execution = new Execution(need, current, this.breakpoints, () => this.drop(), opts.reverse ?? false);
    this.catchSyscalls = this.execution.catchSyscalls;
    this.passSignals = this.execution.passSignals;
    this.siginfo = { siginfo: () => this.execution.siginfo() };
    this.threads = new Threads(current);
    this.processes = {
      setEvents: (ev) => this.execution.setEvents(ev),
      select: (tid) => this.proc?.select(tid) ?? false,
      selected: () => this.proc?.selected() ?? null,
      count: () => new Set(this.proc?.tasks().map((t) => t.pid)).size,
      detach: (pid) => this.proc?.exec.detachProcess(pid) ?? false,
      kill: (pid) => this.proc?.exec.killProcess(pid) ?? false,
    };
    this.execFile = new ExecFile(need);
    this.auxv = new Auxv(need);
    this.libraries = new Libraries(current);
    const libs = this.libraries;
    this.hostIo = new HostIo(current, () => libs?.libraries().libraries ?? []);
    this.sectionOffsets = new SectionOffsets(need);
    this.monitor = new Monitor(need, this.execution);
    if (opts.extended) this.extended = { run: (argv) => this.start(argv) };
  }

  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  /** The current process (the handlers run only when there is one). */
  private need(): GuestProcess {
    if (!this.proc) throw new Error('no process');
    return this.proc;
  }

  /** Start a process, ending the current one (throws LaunchError when the program cannot run). */
  start(argv: string[]): void {
    const p = this.opts.launch(argv);
    if (this.proc) {
      this.proc.exec.kill();
      this.drop();
    }
    this.proc = p;
    this.breakpoints.reset();
    this.execution.adopt(p);
  }

  /** The stub is ending: end the process, if any, and release it. */
  shutdown(): void {
    if (!this.proc) return;
    this.proc.exec.kill();
    this.drop();
  }

  /** Let go of the process: it ended or was killed. */
  private drop(): void {
    const p = this.proc;
    if (!p) return;
    this.proc = null;
    p.dispose();
    this.opts.onProcessEnd?.(p);
  }
}
