/**
 * Machine = the emulated computer: its kernel (processes and tasks, one CPU
 * object and address space each, the guest kernel's pages shared), an entry
 * model, and the scheduler that runs every task. It is the one object that
 * `entrystub run`, `trace` and a gdb session drive: it runs the tasks in
 * slices and returns why it stopped as one value (entry/stop.ts), naming the task
 * it stopped in. The entry model (src/entry) owns everything about how
 * syscalls reach the kernel; the machine owns the run loop, task switches,
 * stop requests, signals and faults, and offers the model a narrow port.
 *
 * `cpu`, `mem`, `blocks` and `proc` are the *current* task's: the running
 * one while instructions run, and between runs the one the last stop named
 * (with a debugger attached, a task it traces).
 */
import * as path from 'node:path';
import { randomBytes, withHostLog, type HostLog } from '../kernel/hostlog.js';
import { CPU, RSP, RDX, RCX } from '../cpu/cpu.js';
import { Memory } from '../cpu/memory.js';
import { CpuFault } from '../cpu/fault.js';
import { faultSignal, hex } from './fault-signal.js';
import { MachineStats } from './counts.js';
import { BP_SW, BlockCache, runBlocks } from '../cpu/run.js';
import { StretchNotes, type StretchNote } from './stretch.js';
import { DEFAULT_TIMER_HZ, Timer, type InterruptMode } from './timer.js';
import { fxsaveToMem, fxrstorFromMem } from '../cpu/fpu-state.js';
import { ExecError, type LoadedImage } from '../kernel/loader.js';
import { CS, SS, __USER32_CS, __USER_CS, __USER_DS } from '../cpu/segment.js';
import { syscall32 } from '../kernel/ia32/syscalls.js';
import type { SyscallNumbers32 } from '../kernel/ia32/table.js';
import { BadFrame, setupFrameIa32, sigreturnIa32 } from '../kernel/ia32/signal.js';
import { execElf, startThreadSegments, type Exec } from '../kernel/exec.js';
import { ENOSYS, WouldBlock } from '../kernel/errno.js';
import { doExit } from '../kernel/exit.js';
import { Kernel, type MachineHooks } from '../kernel/kernel.js';
import { Process, Task } from '../kernel/process.js';
import { syscall } from '../kernel/syscalls.js';
import { disposition, isBlocked, setupFrame, sigreturn, signalName, SA_IA32_ABI, SIG, type SigInfo } from '../kernel/signal.js';
import { sleepMs, type SyscallArgs } from '../kernel/sys/util.js';
import { DEFAULT_ENTRY, makeEntryModel, type EntryModel, type EntryPort, type Ia32Sigreturn, type PathInfo } from '../entry/index.js';
import { withUserContext } from '../entry/ptregs.js';
import { Scheduler } from './scheduler.js';
import { isEnd, morePressing, type Stop } from '../entry/stop.js';
import { Watchpoints } from './watch.js';
import { linkMapOf, type LinkMap } from './linkmap.js';
import { guestPathOf, isElf32 } from './program.js';
import { cacheOnClone, rebuiltOnClone, sharedOnClone } from '../cpu/clone.js';
import type { MM } from '../kernel/mm.js';

export type { PathInfo } from '../entry/index.js';
export type { Stop } from '../entry/stop.js';

/** A task as the debugger's thread list shows it. */
export interface TaskInfo {
  pid: number;
  tid: number;
  /** comm. */
  name: string;
  /** R running or runnable, S waiting in a syscall, Z ended (a zombie). */
  state: 'R' | 'S' | 'Z';
  traced: boolean;
  held: boolean;
}

export type { MachineOptions } from './options.js';
import type { MachineOptions } from './options.js';

/** The longest the host sleeps at once while every task waits (a retry then looks again). */
const MAX_IDLE_MS = 1000;
/**
 * Instructions a task past its quantum runs at a time while it is not at a
 * safe point to be switched out (inside a syscall path): it may go this far
 * past the point, which keeps the schedule deterministic and costs a slice
 * per OVERRUN instructions rather than one per instruction.
 */
const OVERRUN = 64;

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

type End = Extract<Stop, { kind: 'exited' | 'killed' }>;

export class Machine {
  /** The emulated kernel: processes, tasks, pids, the guest kernel's pages. */
  readonly os: Kernel<Process, Task>;
  /** The first process (the program the machine was started with): its end is the machine's. */
  readonly leader: Process;
  /** The entry model (load() may replace the default one: a 32-bit program runs through the native compat entries). */
  model: EntryModel;
  readonly watchpoints: Watchpoints;
  /** Set when the program has ended: every process has (with a debugger, every task it traces). */
  ended: End | null = null;
  /** Syscalls a debugger catches (null = none): each stops at its entry and back at the next user instruction. */
  catchSyscalls: Set<number> | 'all' | null = null;
  /** How the debugger numbers a 32-bit task's syscalls in catchSyscalls and the stops (table.ts). */
  syscallNumbers32: SyscallNumbers32 = 'x86-64';
  /** A debugger asked for thread creation and exit stops (QThreadEvents). */
  threadEvents = false;
  /** Which process events a debugger catches (fork, vfork and vfork-done, exec stops); a forked child is then held for it. */
  catchEvents = { fork: false, vfork: false, exec: false };
  /**
   * Exec catches waiting for their new program's first instruction, where
   * each stops: data rather than only a probe in a block cache, so that a
   * snapshot taken in between carries them (cacheOf probes them again in a
   * restored machine's fresh caches).
   */
  private execStops: { mem: Memory; entry: number; path: string }[] = [];
  /**
   * With a debugger attached: stop with a 'signal' before a signal is
   * delivered (ptrace's signal-delivery-stop), except for signals in
   * passSignals (QPassSignals). The debugger resumes with resumeSignal(sig).
   */
  stopOnSignals = false;
  passSignals: ReadonlySet<number> = new Set();
  /** Guest kernel messages. */
  readonly kernelLog: string[] = [];
  /** What --stats counts. */
  readonly stats = new MachineStats();
  /**
   * The schedule so far: every task switch (the task that runs next, and
   * the machine's guest instruction count there) folded into a 32-bit
   * FNV-1a hash. The same program with the same input (and no timers or
   * sleeps, which follow the host's clock) switches at the same points:
   * --stats prints it, --schedule-log lists the switches.
   */
  readonly schedule = { switches: 0, hash: 0x811c9dc5 };
  /** Called at each task switch (--schedule-log). */
  onSwitch: ((tid: number, icount: number) => void) | null = null;
  /** Called when a trip through the entry path returns to the program (trace). */
  onPath: ((p: PathInfo) => void) | null = null;
  /** The timer interrupt: its period, what it delivered, whether a debugger's step may be interrupted. */
  readonly timer: Timer;
  /** Called when a timer interrupt is delivered (trace), with where it found the CPU and the interrupted RIP. */
  onInterrupt: ((mode: InterruptMode, rip: number) => void) | null = null;
  /** The guest kernel's schedule() ended the running task's turn (HC_SCHEDULE): the slice ends. */
  private rescheduled = false;
  /** Called when a process has ended, at the end of its last turn (trace's `+++ exited +++` lines). */
  onProcessEnd: ((p: Process) => void) | null = null;
  private readonly warn: (msg: string) => void;
  private readonly warned = new Set<string>();
  /** The task the CPU getters name: the running one (see the class comment). */
  private current: Task;
  private readonly sched: Scheduler<Task>;
  /** Each address space's decoded blocks (a cache: a clone of the machine decodes again, see cacheOf). */
  private readonly caches = cacheOnClone(new WeakMap<Memory, BlockCache>());
  /** Syscalls made, by number (every process's; a debugger's `monitor stats`). */
  readonly syscallCounts = new Map<number, number>();
  /** What each stretch of history ran, for reverse execution (takeRan): every address space notes in it. */
  private readonly notes = new StretchNotes();
  /** The debugger's breakpoints, set in the block cache of every traced task's address space. */
  private breakpoints = new Map<number, number>();
  /** Tasks whose end run() has dealt with (reported, or passed over). */
  private readonly endSeen = new WeakSet<Task>();
  /** Sets a debugger gave for one process's address space (setBreakpoints with a pid). */
  private readonly ownBreakpoints = new Map<Memory, Map<number, number>>();
  /** How the first process ended (the CLI's report and exit status), once it has. */
  private leaderEnd: End | null = null;
  /** Guest instructions of the tasks that have ended (their CPUs are gone). */
  private endedInsns = 0;
  /** The stop requested since the last run() returned (the most pressing: entry/stop.ts). */
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
    // the options and the warning sink are the host's side: every clone of the machine shares them (snapshot.ts)
    sharedOnClone(opts);
    this.warn = sharedOnClone(opts.warn ?? ((m) => process.stderr.write(m + '\n')));
    this.timer = opts.timerInsns !== undefined ? new Timer(opts.timerInsns) : Timer.fromHz(DEFAULT_TIMER_HZ);
    const root = path.resolve(opts.root ?? '/');
    this.os = new Kernel<Process, Task>();
    const kp = this.os.kernelPages;
    this.os.physmem.attach(kp, null);
    const mem = new Memory();
    mem.shareGlobal(kp);
    const cpu = new CPU(mem);
    this.leader = new Process(cpu, mem, {
      root,
      cwd: opts.cwd ?? guestPathOf(root, process.cwd()),
      stdin: opts.stdin,
      stdout: opts.stdout,
      stderr: opts.stderr,
      warn: this.warn,
      exePath: guestPathOf(root, path.resolve(opts.program)),
      argv: opts.argv,
      kernel: this.os,
    });
    this.current = this.leader.task;
    this.current.traced = true;
    this.sched = new Scheduler(this.os);
    this.caches.set(mem, this.newCache(mem));
    this.os.machine = this.hooks();
    this.watchpoints = new Watchpoints(this);
    this.model = makeEntryModel(opts.entry ?? DEFAULT_ENTRY, opts.hook, this.port(), opts.compatEntry);
  }

  /** The current task's CPU (its registers are the task's context). */
  get cpu(): CPU {
    return this.current.cpu;
  }

  /** The current task's address space. */
  get mem(): Memory {
    return this.current.proc.mem;
  }

  /** The decoded blocks of the current task's address space. */
  get blocks(): BlockCache {
    return this.cacheOf(this.current.proc.mem);
  }

  /** mem's decoded blocks; after a clone of the machine, a fresh cache with the model's probes and the debugger's breakpoints. */
  private cacheOf(mem: Memory): BlockCache {
    let b = this.caches.get(mem);
    if (b === undefined) {
      b = this.newCache(mem);
      this.caches.set(mem, b);
      this.model.installProbes(b);
      for (const x of this.execStops) if (x.mem === mem) this.probeExecStop(b, x);
      const traced = this.os.tasks.some((t) => t.traced && t.proc.mem === mem);
      if (traced) b.setBreakpoints(this.ownBreakpoints.get(mem) ?? this.breakpoints);
    }
    return b;
  }

  /**
   * After a clone of the machine (snapshot.ts): what the clone holds stale
   * is made anew (the closures that name the machine: the kernel's hooks,
   * the model's port and the hooks of its CPUs, the address spaces'
   * listeners: of every one cloned, a reaped task's too), and the host log
   * it answers from is `log`.
   */
  rewire(log: HostLog | null, copies: { cpus: CPU[]; mms: MM[] }): void {
    Object.assign(this, { opts: sharedOnClone({ ...this.opts, hostLog: log ?? undefined }), onExecutable: this.executableHook() });
    this.os.machine = this.hooks();
    const tasks = [...this.os.procs.values()].flatMap((p) => [...p.threads, p.current]);
    this.model.rewire(this.port(), copies.cpus);
    for (const mm of copies.mms) if (mm.onExecutable !== null) mm.onExecutable = this.onExecutable;
    for (const t of tasks) if (t !== this.current) t.cpu.useMemory(t.cpu.mem);
    this.cpu.useMemory(this.cpu.mem);
    for (const p of this.os.procs.values()) this.notes.attach(p.mem);
    this.watchpoints.reapply();
  }

  /** The current task's process. */
  get proc(): Process {
    return this.current.proc;
  }

  /** The current task. */
  get task(): Task {
    return this.current;
  }

  /** The image of the current process's program (its interpreter, if any, is in `exec`). */
  get image(): LoadedImage {
    return this.proc.image!;
  }

  /** The current process's last execve: the program, its interpreter, the initial stack and auxv. */
  get exec(): Exec {
    return this.proc.exec!;
  }

  /**
   * Every address space's executable mappings go to the entry model (zpoline
   * rewrites them) as they are made; always in the running task's address
   * space, the one its mmap or mprotect changes.
   */
  readonly onExecutable = this.executableHook();

  private executableHook(): (start: number, end: number, movedFrom?: number) => void {
    return rebuiltOnClone((start: number, end: number, movedFrom?: number): void => this.model.executableMapped(start, end, movedFrom));
  }

  /** Number of the syscall in progress in the current task (the orig_rax a debugger sees), -1 outside one. */
  get origRax(): number {
    return this.current.origRax;
  }

  set origRax(v: number) {
    this.current.origRax = v;
  }

  /** Guest instructions run by every task, ended ones included. */
  get icount(): number {
    let n = this.endedInsns;
    for (const t of this.os.tasks) n += t.cpu.icount;
    return n;
  }

  /** Every task of the machine that has not been reaped, for a debugger's thread list. */
  tasks(): TaskInfo[] {
    const out: TaskInfo[] = [];
    for (const p of this.os.procs.values()) {
      // a zombie process shows its leader; a live one its live threads
      if (p.threads.length === 0) out.push({ pid: p.pid, tid: p.pid, name: p.leaderComm, state: 'Z', traced: p.current.traced, held: p.current.held });
      for (const t of p.threads) out.push({ pid: p.pid, tid: t.tid, name: t.comm, state: t.state, traced: t.traced, held: t.held });
    }
    return out;
  }

  /** The debugger lets go of a process (by its pid or a tid of it): its threads run untraced (detach-on-fork, or `detach`). */
  detachTask(tid: number): void {
    const p = this.os.procs.get(tid) ?? this.taskOf(tid)?.proc;
    if (!p) return;
    for (const t of p.threads) {
      t.traced = false;
      t.held = false;
    }
    p.current.traced = false;
    this.applyBreakpoints();
  }

  /** Let a held process's threads run (still traced), or hold them again: a debugger keeping a new child stopped (detach-on-fork off). */
  holdTask(tid: number, held: boolean): void {
    const p = this.os.procs.get(tid) ?? this.taskOf(tid)?.proc;
    if (p) for (const t of p.threads) t.held = held;
  }

  private newCache(mem: Memory): BlockCache {
    const b = new BlockCache(mem);
    this.notes.attach(mem, b);
    b.onBreakpoint = (addr, kinds) => this.requestStop({ kind: 'breakpoint', type: kinds & BP_SW ? 'sw' : 'hw', addr });
    return b;
  }

  /** What the entry model may ask of the machine (the running task's CPU, memory and blocks). */
  private port(): EntryPort {
    const m = this;
    return rebuiltOnClone({
      get cpu() {
        return m.cpu;
      },
      get mem() {
        return m.mem;
      },
      get blocks() {
        return m.blocks;
      },
      kernelPages: this.os.kernelPages,
      hostSyscall: (nr, a, userRsp) => this.hostSyscall(nr, a, userRsp),
      hostSyscall32: (nr, regs, userRsp) => this.hostSyscall(nr, undefined, userRsp, regs),
      sigreturn: (regs, ia32) => this.sigreturnOn(regs, ia32),
      exitWork: (regs) => this.exitWork(regs),
      requestStop: (s) => this.requestStop(s),
      printk: (line) => this.printk(line),
      warn: (line) => this.warn(line),
      caught: (nr) => this.caught(nr),
      get syscallNumbers32() {
        return m.syscallNumbers32;
      },
      get origRax() {
        return m.current.origRax;
      },
      set origRax(v: number) {
        m.current.origRax = v;
      },
      tripDone: (nr, insns, counted = true) => {
        if (counted && this.opts.stats) this.stats.trip(nr, insns, this.proc);
      },
      get describingTrips() {
        return m.onPath !== null;
      },
      describeTrip: (p) => this.onPath?.(p),
      queueSignal: (info) => {
        // a synchronous fault is the faulting thread's
        this.current.pending.add(info.signo);
        this.current.pendingInfo.set(info.signo, info);
      },
      reschedule: () => {
        // the scheduler's turn is over; the switch happens at the next point where the task is switchable
        this.sched.quantum = 0;
        this.rescheduled = true;
        this.cpu.stopRequested = true;
      },
    });
  }

  /** What the kernel's fork, exec and exit mean for the model, the caches and the scheduler. */
  private hooks(): MachineHooks<Task> {
    return rebuiltOnClone({
      taskForked: (parent, child, how, stack) => {
        const pm = parent.proc.mem, cm = child.proc.mem;
        if (cm !== pm) this.caches.set(cm, this.cacheOf(pm).fork(cm, false));
        this.model.newTask(child, parent, stack);
        if (how === 'thread') {
          // a debugger that asked for thread events (QThreadEvents) hears of it, the new thread stopped
          if (parent.traced && this.threadEvents) {
            child.held = true;
            this.requestStop({ kind: 'thread-created', child: child.tid, tid: child.tid });
          }
          return;
        }
        const event = how === 'vfork' ? this.catchEvents.vfork : this.catchEvents.fork;
        if (parent.traced && event) {
          // as PTRACE_O_TRACEFORK: the child starts traced and stopped, for the debugger to keep or let go
          child.traced = child.held = true;
          const own = this.ownBreakpoints.get(pm);
          if (own && cm !== pm) this.ownBreakpoints.set(cm, new Map(own));
          this.applyBreakpoints();
          this.requestStop({ kind: how, child: child.tid });
        }
      },
      yield: (task) => {
        this.sched.quantum = 0;
        task.cpu.stopRequested = true;
      },
      vforkDone: (parent) => {
        if (parent.traced && this.catchEvents.vfork) this.requestStop({ kind: 'vfork-done' });
      },
      reserved: () => this.model.reserved(),
      vdso32: () => this.model.vdso32(),
      exec: (task, x, executable) => {
        const mm = task.proc.mm;
        this.caches.set(mm.mem, this.newCache(mm.mem));
        // the blocks running now are the old address space's: the slice ends at this instruction
        task.cpu.stopRequested = true;
        mm.onExecutable = this.onExecutable;
        for (const [s, e] of executable) this.model.executableMapped(s, e);
        if (task.traced) this.applyBreakpoints();
        this.model.exec(x.program, x.vdso);
        this.model.execReturn(x.entry, x.sp, x.compat);
        startThreadSegments(task.cpu, x.compat);
        if (task.traced && this.catchEvents.exec) {
          // reported with the new program's registers, as ptrace's PTRACE_EVENT_EXEC: here when the
          // syscall has returned, before the first instruction of the new program (or its interpreter)
          const stop = { mem: mm.mem, entry: x.entry, path: task.proc.exePath };
          this.execStops.push(stop);
          this.probeExecStop(this.cacheOf(mm.mem), stop);
        }
      },
      taskExited: (task) => {
        this.model.releaseTask(task);
        this.endedInsns += task.cpu.icount;
        const p = task.proc;
        if (this.opts.stats) this.stats.taskExited(p, task.cpu.icount);
        if (p === this.leader && p.ended && !this.leaderEnd)
          this.leaderEnd = p.termSignal !== null ? { kind: 'killed', signal: p.termSignal, message: `killed by ${signalName(p.termSignal)}` } : { kind: 'exited', code: p.exitCode! };
      },
    });
  }

  /** The probe of an exec catch waiting at its program's entry (execStops). */
  private probeExecStop(blocks: BlockCache, x: { mem: Memory; entry: number; path: string }): void {
    blocks.setProbe(x.entry, () => {
      blocks.setProbe(x.entry, null);
      this.execStops = this.execStops.filter((s) => s !== x);
      this.requestStop({ kind: 'exec', path: x.path });
    });
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
   * The first execve: load the program (and its interpreter) and build its
   * stack (kernel/exec.ts); every executable mapping, these and later ones,
   * goes to the entry model; the model installs what it needs. Throws
   * ExecError.
   */
  load(): void {
    withHostLog(this.opts.hostLog ?? null, () => this.loadProgram());
  }

  private loadProgram(): void {
    const p = this.leader;
    if (!this.model.compat && isElf32(this.opts.program)) {
      // UML nommu is 64-bit only (no compat entries): Linux's own entry, native, runs a 32-bit program
      if (this.opts.entry !== undefined)
        this.warn(`entrystub: ${this.opts.program} is a 32-bit program; the ${this.model.label} entry model is 64-bit only (UML nommu has no compat entries): running it with --entry native`);
      this.model = makeEntryModel('native', undefined, this.port(), this.opts.compatEntry);
    }
    this.model.mapKernel();
    this.model.newTask(p.task, null, 0);
    this.model.activate(p.task);
    const reserved = this.model.reserved();
    const mm = p.mm;
    for (const [s, e] of reserved) mm.reserveForKernel(s, e);
    mm.onExecutable = this.onExecutable;
    const x = execElf(p, {
      hostPath: this.opts.program,
      // as execve got it (AT_EXECFN): the path given, or under --root the guest's path of it
      filename: p.vfs.confined ? p.exePath : this.opts.program,
      name: this.opts.program,
      argv: this.opts.argv,
      envp: this.opts.env,
      reserved,
      random: randomBytes(16),
      vdso32: this.model.vdso32() ?? undefined,
    });
    if (x.compat && !this.model.compat)
      throw new ExecError(`${this.opts.program}: a 32-bit program; the ${this.model.label} entry model has no compat (i386) entry`, 8, 'run it with --entry native');
    p.exec = x;
    p.image = x.program;
    const cpu = this.cpu;
    cpu.rl.fill(0);
    cpu.rh.fill(0);
    cpu.setNum(RSP, x.sp);
    cpu.setNum(RDX, 0); // static glibc registers RDX as an exit handler: Linux starts with 0
    cpu.rip = x.entry;
    cpu.setFlags(0x202);
    // start_thread_ia32: CS = __USER32_CS, SS = __USER_DS (start_thread: __USER_CS), and the data segments
    cpu.compat = x.compat;
    cpu.seg[CS] = x.compat ? __USER32_CS : __USER_CS;
    cpu.seg[SS] = __USER_DS;
    startThreadSegments(cpu, x.compat);
    this.model.exec(x.program, x.vdso);
  }

  /** Where the dynamic linker's view of the program starts, for a debugger's link map (linkmap.ts). */
  linkMap(): LinkMap {
    return linkMapOf(this.exec, this.mem);
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

  /** Whether the debugger catches syscall nr in the running task (it traces it). */
  caught(nr: number): boolean {
    // every syscall stop is looked for here, under the number it reports: a stretch of history that never asked for nr cannot stop at it
    this.notes.syscall(nr);
    return this.current.traced && this.catchSyscalls !== null && (this.catchSyscalls === 'all' || this.catchSyscalls.has(nr));
  }

  /** What ran since the last call, and a fresh note from here (stretch.ts; null at the first call). */
  takeRan(): StretchNote | null {
    return this.notes.take([...this.os.procs.values()].map((p) => [p.mem, this.caches.get(p.mem)]));
  }

  /**
   * Breakpoints a debugger set: software (Z0) and hardware (Z1) ones,
   * reported as such. Without pid, in every traced task; with it, in that
   * process's address space only (a debugger following several processes
   * keeps a set per process, as each real process has its own memory: a
   * forked child starts with its parent's, as it starts with a copy of its
   * parent's breakpoint bytes).
   */
  setBreakpoints(sw: Iterable<number>, hw: Iterable<number>, pid?: number): void {
    const all = new Map<number, number>();
    for (const a of sw) all.set(a, BP_SW);
    for (const a of hw) all.set(a, (all.get(a) ?? 0) | 2);
    if (pid === undefined) {
      this.breakpoints = all;
      this.ownBreakpoints.clear();
    } else {
      const mem = this.os.procs.get(pid)?.mem;
      if (mem) this.ownBreakpoints.set(mem, all);
    }
    this.applyBreakpoints();
  }

  /** The breakpoints set into the caches of the traced tasks' address spaces, none into the others'. */
  private applyBreakpoints(): void {
    const traced = new Set<Memory>(), others = new Set<Memory>();
    for (const t of this.os.tasks) (t.traced ? traced : others).add(t.proc.mem);
    for (const mem of traced) this.caches.get(mem)?.setBreakpoints(this.ownBreakpoints.get(mem) ?? this.breakpoints);
    for (const mem of others) if (!traced.has(mem)) this.caches.get(mem)?.setBreakpoints(new Map());
  }

  /**
   * Run up to budget instructions; null if the budget ran out with nothing to
   * report. A breakpoint at `resumeFrom` is passed over if execution starts
   * there (a debugger resuming from the breakpoint it stopped at).
   *
   * The current task runs first (the one a debugger resumes); the others
   * take their turns as the scheduler gives them. A stop is returned with
   * the task it happened in current.
   *
   * stepping: a debugger's single or range step, which a timer interrupt
   * does not divert unless it asked for that (timer.stepInterrupts): a due
   * tick waits for the next resume.
   */
  run(budget: number, resumeFrom = NaN, stepping = budget === 1): Stop | null {
    const log = this.opts.hostLog;
    return log ? withHostLog(log, () => this.runSlices(budget, resumeFrom, stepping)) : this.runSlices(budget, resumeFrom, stepping);
  }

  private runSlices(budget: number, resumeFrom: number, stepping: boolean): Stop | null {
    if (this.ended) return this.ended;
    this.cpu.stopRequested = false;
    // a stop found before any instruction ran (the next signal, set up by resumeSignal)
    const early = this.take();
    if (early) return this.named(early);
    this.stoppedSignal = null; // resuming without resumeSignal() discards a stopped signal
    const es = this.entryStop;
    if (es) {
      this.entryStop = null;
      this.cpu.setNum(0, this.origRax); // the number the path pushes as orig_ax
      if (es.resultSet) this.model.overrideResult(es.result);
    }
    let left = budget;
    let first = true;
    for (;;) {
      if (this.current.dead && !this.endSeen.has(this.current)) {
        // it died before it ran (a debugger delivered it a fatal signal): its end, as at the end of a turn
        const t = this.current;
        this.endSeen.add(t);
        if (t.proc.ended) this.onProcessEnd?.(t.proc);
        const end = this.taskEnded(t);
        if (end) return end;
      }
      if (this.current.dead || this.current.held) {
        // its end was just reported, or a debugger resumed other tasks and not this one
        const idle = this.nextTurn(this.current);
        if (idle) return idle;
        if (this.current.dead || this.current.held) return null; // every task is held by the debugger
      }
      const t = this.current;
      const n0 = t.cpu.icount;
      const wasParked = t.parked !== null;
      t.parked = null;
      // past its quantum a task runs on in steps of OVERRUN until it is at a safe point to switch
      // (one instruction at a time made a slice of each instruction left of a syscall path)
      let s = this.slice(Math.min(left, this.sched.quantum > 0 ? this.sched.quantum : OVERRUN), first ? resumeFrom : NaN, first && budget === 1, stepping);
      const ran = t.cpu.icount - n0;
      first = false;
      left -= ran;
      this.sched.quantum -= ran;
      if (s?.kind === 'blocked') {
        t.parked = s.ms;
        s = null;
        if (ran === 0 && (wasParked || this.os.tasks.length > 1)) this.sched.stall(t.parked);
        else this.sched.progress();
      } else this.sched.progress();
      if (t.dead) {
        this.stop = null;
        this.endSeen.add(t);
        if (t.proc.ended) this.onProcessEnd?.(t.proc);
        const end = this.taskEnded(t);
        if (end) return end;
        s = null;
      }
      if (s !== null) return this.named(s);
      if (this.irqStepped) {
        this.irqStepped = false;
        return null;
      }
      if (t.dead || t.parked !== null || t.held || (this.sched.quantum <= 0 && this.model.switchable())) {
        const idle = this.nextTurn(t);
        if (idle) return idle;
      } else if (this.sched.quantum <= 0 && this.sched.next(t) === t) {
        // alone: its next turn starts now, not after slices of OVERRUN up to a switchable point (3 of 422 in a zpoline getpid)
        this.sched.turn();
      }
      if (left <= 0) break;
    }
    return null;
  }

  /** Tag a stop with the task it happened in. */
  private named(s: Stop): Stop {
    if (s.tid === undefined) s.tid = isEnd(s) ? this.leader.pid : this.current.tid;
    return s;
  }

  /**
   * A task ended during its turn: the machine's end when it was the last;
   * with a debugger, a process-exit stop when it was traced (the machine runs
   * on: the other processes, traced or not, are still there); else null and
   * the turn passes.
   */
  private taskEnded(t: Task): Stop | null {
    if (!t.proc.ended) {
      // one thread of a process that lives on: a debugger hears of it if it asked (QThreadEvents)
      if (this.os.debugged && t.traced && this.threadEvents) return { kind: 'thread-exit', code: t.exitCode ?? 0, tid: t.tid };
      return null;
    }
    const gone = this.os.tasks.length === 0;
    if (gone) {
      this.ended = this.leaderEnd ?? { kind: 'killed', signal: SIG.KILL, message: 'killed' };
      this.ended.tid = this.leader.pid;
      // a debugger that followed another process hears of that one's end first (the machine's end comes next)
      if (!(this.os.debugged && t.traced && t.proc !== this.leader)) return this.ended;
    }
    if (this.os.debugged && t.traced) {
      const p = t.proc;
      const last = !this.os.tasks.some((x) => x.traced);
      return { kind: 'process-exit', pid: p.pid, code: p.termSignal === null ? p.exitCode : null, signal: p.termSignal, last, tid: t.tid };
    }
    return null;
  }

  /** A live task by tid (a debugger's view of one thread), or null. */
  taskOf(tid: number): Task | null {
    return this.os.tasks.find((t) => t.tid === tid) ?? null;
  }

  /**
   * A debugger resumes these traced tasks (all: every one); the other traced
   * tasks stay stopped, as gdb's threads of the inferiors it does not resume.
   */
  resumeOnly(tids: ReadonlySet<number> | 'all'): void {
    for (const t of this.os.tasks) if (t.traced) t.held = tids !== 'all' && !tids.has(t.tid);
  }

  /**
   * Make tid the running task, for a debugger that steps it: only when the
   * running one is at a point where the scheduler could switch (in user
   * code), as it would at its turn. False if it cannot.
   */
  focus(tid: number): boolean {
    const t = this.taskOf(tid);
    if (!t) return false;
    if (t === this.current) return true;
    if (!this.model.switchable()) return false;
    this.becomeCurrent(t);
    return true;
  }

  /**
   * The turn passes from t to the next task. When every task has parked
   * with nothing done, wait on the host for the shortest of their waits, or
   * stop 'blocked' for a debugger; when only a task could end another's
   * wait, let the waits that can give up do so (Kernel.deadlock).
   */
  private nextTurn(t: Task): Stop | null {
    for (;;) {
      const waitMs = this.sched.allStalled();
      if (waitMs !== null) {
        if (waitMs === Infinity) {
          if (!this.os.deadlock) {
            // one more round in which the waits that can give up do
            this.os.deadlock = true;
            this.sched.progress();
          } else if (this.os.tasks.some((x) => x.futexWait !== null)) {
            // threads waiting on futexes with no timeout: Linux leaves the process hanging (a lock-order
            // bug, a lost wake-up); so does the emulator, saying so once, interruptible (^C, gdb's 0x03)
            this.warnOnce('entrystub: every thread waits on a futex (or for another task) with no timeout, and none can wake the others: the program hangs, as it would on Linux');
            this.sched.progress();
            if (this.os.debugged) return this.named({ kind: 'blocked', ms: 50 });
            sleepMs(MAX_IDLE_MS);
          } else {
            this.warn('entrystub: every process waits for another and none can go on: deadlock; killing them all');
            for (const x of [...this.os.tasks]) doExit(x.proc, { signal: SIG.KILL });
            const end = this.taskEnded(t);
            if (end) return end;
          }
        } else if (this.os.debugged) {
          this.sched.progress();
          return this.named({ kind: 'blocked', ms: Math.max(1, Math.min(waitMs, 50)) });
        } else {
          sleepMs(Math.min(waitMs, MAX_IDLE_MS));
          this.sched.progress();
        }
      } else if (this.os.deadlock && this.sched.allStalled() === null && t.parked === null) this.os.deadlock = false;
      const next = this.sched.next(t);
      if (next === null) return null; // every task is held by the debugger
      this.switchTo(next);
      return null;
    }
  }

  private warnOnce(msg: string): void {
    if (this.warned.has(msg)) return;
    this.warned.add(msg);
    this.warn(msg);
  }

  /** t's CPU, address space and entry state are the machine's now, and it is its group's `current`. */
  private becomeCurrent(t: Task): void {
    this.current = t;
    t.proc.current = t;
    t.cpu.useMemory(t.proc.mem);
    this.model.activate(t);
    this.recordSwitch(t);
  }

  private recordSwitch(t: Task): void {
    const icount = this.icount;
    let h = this.schedule.hash;
    for (const v of [t.tid, icount % 4294967296, Math.floor(icount / 4294967296)])
      for (let k = 0; k < 4; k++) h = Math.imul(h ^ ((v >>> (8 * k)) & 0xff), 0x01000193) >>> 0;
    this.schedule.hash = h;
    this.schedule.switches++;
    this.onSwitch?.(t.tid, icount);
  }

  /** Make `t` the running task (at a safe point of the one running). */
  private switchTo(t: Task): void {
    this.sched.turn();
    if (t === this.current) return;
    this.becomeCurrent(t);
    // what happened while it waited its turn: timers expired, signals sent by others
    t.proc.pollTimers();
    if (t.parked === null && this.model.inUserCode()) this.deliverPending();
  }

  /** One turn of the current task: up to n instructions. */
  private slice(n: number, resumeFrom: number, step: boolean, stepping: boolean): Stop | null {
    const cpu = this.cpu;
    cpu.stopRequested = false;
    if (this.model.resume()) {
      // a syscall the last stop left pending ran: it is the first instruction of this resume
      const s = this.settle();
      if (s) return s;
      if (step) return null; // a single step from the stop: the syscall was the step (as PTRACE_SINGLESTEP)
    }
    if (!this.model.inTrip()) this.origRax = -1;
    if (this.current.traced) this.watchpoints.apply();
    let left = n;
    while (left > 0) {
      const n0 = cpu.icount;
      let budget = left;
      // a model without a guest kernel (direct) has nothing to take a tick: no timer (a tick held for it would step one instruction at a time)
      if (this.timer.period !== 0 && this.model.kernel) {
        // the tick: delivered at this boundary if due and the kernel can take it; the budget ends at the next
        // (not before a breakpoint the debugger resumes from: the return from the handler would hit it again)
        const t = this.timerTick(stepping, cpu.rip === resumeFrom && (this.ownBreakpoints.get(this.mem) ?? this.breakpoints).has(cpu.rip));
        if (t === 'stepped') {
          // the step is the interrupt's delivery: it ends at the handler's first instruction
          this.irqStepped = true;
          return this.take();
        }
        budget = Math.min(left, t);
      }
      try {
        runBlocks(cpu, this.blocks, budget, resumeFrom);
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        this.fault(e);
      }
      resumeFrom = NaN;
      left -= cpu.icount - n0;
      const s = this.settle();
      if (s) return s;
      if (this.rescheduled) {
        this.rescheduled = false;
        break;
      }
      if (this.current.dead || cpu.icount === n0) break;
      if (!cpu.stopRequested) {
        if (cpu.icount - n0 === budget) continue; // the budget ended at the next tick, not the slice's
        break;
      }
      // the slice ended for something that is no stop (a watched page touched, the program still running)
      cpu.stopRequested = false;
    }
    if (this.current.dead) return null;
    this.proc.pollTimers();
    // a signal that arrived while the program ran (a timer) is delivered now if it
    // is in user code; inside a syscall path the guest kernel's exit work does it
    if (this.model.inUserCode()) this.deliverPending();
    return this.take();
  }

  /** A debugger's step ended with the delivery of an interrupt (step-interrupts on). */
  private irqStepped = false;
  /** The instruction a masked tick was last held over (to see whether it was `sti`), or NaN. */
  private heldAt = NaN;

  /**
   * The timer at an instruction boundary of the current task: deliver a due
   * tick if the entry model's kernel can take it now. Returns how many
   * instructions may run before the timer needs to look again (one at a
   * time while a due tick is held: masked, in the STI shadow, a debugger's
   * step, the instruction a debugger resumes from), or 'stepped' when a
   * debugger's step was the delivery itself (step-interrupts on).
   */
  private timerTick(stepping: boolean, atResume: boolean): number | 'stepped' {
    const cpu = this.cpu, timer = this.timer;
    if (!timer.due(cpu)) return timer.until(cpu);
    // the instruction after `sti` runs before an interrupt is recognized
    const held = this.heldAt;
    this.heldAt = NaN;
    const b = new Uint8Array(1);
    const shadow = !Number.isNaN(held) && this.mem.peek(held, b) === 1 && b[0] === 0xfb;
    if ((stepping && !timer.stepInterrupts) || atResume || shadow) return 1;
    const rip = cpu.rip;
    let mode: InterruptMode | null;
    try {
      mode = this.model.timerInterrupt();
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      this.fault(e); // a broken gate: the delivery faults in the guest kernel
      return 1;
    }
    if (mode === null) {
      this.heldAt = rip;
      return 1;
    }
    timer.delivered(cpu, mode);
    this.onInterrupt?.(mode, rip);
    return stepping ? 'stepped' : timer.until(cpu);
  }

  /** After instructions ran: the most pressing stop requested (none once the task has ended). */
  private settle(): Stop | null {
    if (this.watchpoints.pending) {
      const w = this.watchpoints.check();
      if (w) this.requestStop(w);
    }
    if (this.current.dead) {
      this.stop = null;
      return null;
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

  /** Run to the end of the program: until every process has ended. Its end is the first process's. */
  runToEnd(): End {
    for (;;) {
      const s = this.run(1_000_000);
      if (isEnd(s)) return s;
    }
  }

  /** The current task's process is killed by sig (a fatal signal: message says why). */
  private kill(sig: number, message: string, addr?: number): void {
    const p = this.proc;
    if (p === this.leader && !this.leaderEnd) this.leaderEnd = { kind: 'killed', signal: sig, addr, message };
    doExit(p, { signal: sig });
    this.cpu.stopRequested = true;
  }

  /** The debugger ends the program (k, vKill): every process is killed. */
  killByDebugger(): void {
    if (this.ended) return;
    if (!this.leaderEnd) this.leaderEnd = { kind: 'killed', signal: SIG.KILL, message: 'killed by the debugger' };
    for (const t of [...this.os.tasks]) doExit(t.proc, { signal: SIG.KILL });
    this.ended = { ...this.leaderEnd, tid: this.leader.pid };
  }

  /**
   * vKill of one process a debugger follows: it is let go and sent SIGKILL
   * (it dies at its next turn, as a killed process does; the debugger hears
   * no more of it), and the machine runs on.
   */
  killProcess(pid: number): void {
    const p = this.os.procs.get(pid);
    if (!p || p.ended) return;
    this.detachTask(pid);
    p.raise(SIG.KILL, { signo: SIG.KILL, code: 0 /* SI_USER */ });
  }

  /** The machine is done with (its debugger went): every process left is killed, so that its descriptors close. */
  shutdown(): void {
    for (const t of [...this.os.tasks]) doExit(t.proc, { signal: SIG.KILL });
    this.leader.fds.closeAll();
  }

  /** The CPU is in the program's own code: not in a syscall path, the trampoline page or the guest kernel. */
  inUserCode(): boolean {
    return this.model.inUserCode();
  }

  /** fn reading the machine as task would be seen if it ran: the guest kernel's current-task variables are its own meanwhile. */
  asCurrent<R>(task: Task, fn: () => R): R {
    return task === this.current ? fn() : this.model.asCurrent(task, fn);
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
      const ret = regs32 !== undefined ? syscall32(proc, nr, regs32) : syscall(proc, nr, a);
      this.syscallCounts.set(nr, (this.syscallCounts.get(nr) ?? 0) + 1);
      return ret;
    } catch (e) {
      if (e instanceof CpuFault) return -14;
      if (e instanceof WouldBlock) throw e; // retried by the model
      this.warn(`entrystub: internal error in syscall ${nr}: ${(e as Error).message}`);
      return -5;
    } finally {
      proc.userRsp = null;
      if (proc.ended) this.cpu.stopRequested = true;
    }
  }

  /** rt_sigreturn (or a 32-bit program's sigreturn, rt_sigreturn) on the CPU's user context, or on the one in the pt_regs at regs. */
  private sigreturnOn(regs: number | null, ia32?: Ia32Sigreturn): void {
    const cpu = this.cpu;
    // in the guest kernel (CPL 0, after SWAPGS) the user's GS base is the one in MSR_KERNEL_GS_BASE
    const kernelGs = cpu.cpl === 0;
    const restore = () => {
      try {
        if (ia32) sigreturnIa32(cpu, this.proc, ia32 === 'rt_sigreturn', kernelGs);
        else sigreturn(cpu, this.proc, fxrstorFromMem);
      } catch (e) {
        if (!(e instanceof CpuFault) && !(e instanceof BadFrame)) throw e;
        this.kill(SIG.SEGV, `killed by SIGSEGV: ${ia32 ?? 'rt_sigreturn'} with a bad frame at 0x${hex(cpu.getNum(RSP))}`);
      }
    };
    if (regs === null) restore();
    else this.onUserContext(regs, restore);
  }

  /** Deliver pending signals on the way back to user space; true if that stopped the machine. */
  private exitWork(regs: number | null): boolean {
    if (this.proc.ended) return true;
    if (regs === null) this.deliverPending();
    else if (this.proc.exitCode === null && this.proc.anyPending) this.onUserContext(regs, () => this.deliverPending());
    if (this.proc.ended) this.cpu.stopRequested = true;
    return this.proc.ended || this.stop !== null;
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
    if (!this.proc.ended) this.deliverPending();
  }

  /** A debugger stops the running task before sig is delivered: it traces the task and does not pass sig through. */
  private stopsOn(sig: number): boolean {
    return this.stopOnSignals && this.current.traced && !this.passSignals.has(sig);
  }

  /** gdb stub: report a signal before delivering it. */
  private signalStop(info: SigInfo, forced: boolean, message: string, oops = false): void {
    this.stoppedSignal = { info, forced, message, regs: this.userContextRegs, oops };
    this.requestStop({ kind: 'signal', signal: info.signo, info });
  }

  /** Deliver pending, unblocked signals (on the way back to user space). */
  deliverPending(): void {
    const st = this.proc;
    if (!st.anyPending) return;
    for (const sig of st.pendingSignals()) {
      if (isBlocked(st, sig) && sig !== SIG.KILL) continue;
      const info = st.takePending(sig) ?? { signo: sig, code: 0 };
      const d = disposition(st, sig);
      if (d === 'ignore') continue;
      if (this.stopsOn(sig)) return this.signalStop(info, false, `killed by ${signalName(sig)}`);
      if (d === 'terminate') return this.kill(sig, `killed by ${signalName(sig)}`);
      this.deliver(info);
      if (st.ended) return;
    }
    st.restoreSavedMask();
  }

  private deliver(info: SigInfo): void {
    try {
      // the frame follows the ABI of the sigaction call that installed the handler (is_ia32_frame)
      if (this.proc.sigactions[info.signo].flags & SA_IA32_ABI) setupFrameIa32(this.cpu, this.proc, info, this.proc.exec?.vdso ?? null);
      else setupFrame(this.cpu, this.proc, info, fxsaveToMem);
      this.cpu.nextRip = this.cpu.rip;
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      this.kill(SIG.SEGV, `killed by SIGSEGV: cannot build the frame for ${signalName(info.signo)} (stack at 0x${hex(this.cpu.getNum(RSP))})`);
    }
  }

  // ---- faults ----

  /** A CPU exception: a synchronous signal in user code (as Linux's trap handlers), an oops in the guest kernel. */
  private fault(e: CpuFault): void {
    const sig = faultSignal(e, { cpu: this.cpu, mem: this.mem, model: this.model, mm: this.proc.mm, insnAt: (rip, compat) => this.blocks.insnAt(rip, compat) });
    if (!sig) return;
    if (!sig.user) return this.kernelFault(e, sig.info, sig.what);
    this.userFault(sig.info, sig.what);
  }

  private userFault(info: SigInfo, what: string): void {
    const st = this.proc;
    if (this.stopsOn(info.signo)) return this.signalStop(info, true, `killed by ${signalName(info.signo)}: ${what}`);
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
    if (fixed === 'fixed') return;
    if (fixed) return this.userFault(fixed, `${fixed.signo === SIG.SEGV ? 'general protection fault' : 'fault'} on return to user space (${what}, fixed up)`);
    const where = this.symbolize(this.cpu.rip);
    const line = `Oops: ${what} in ${where}`;
    this.printk(line);
    const message = `kernel oops: ${what} in ${where}`;
    if (this.stopOnSignals && this.current.traced) return this.signalStop({ ...info, signo: SIG.SEGV }, true, `killed by SIGSEGV: ${message}`, true);
    this.kill(SIG.SEGV, message, info.addr);
  }

  /** symbol+offset for an address in the guest kernel image (or its zpoline page), else hex. */
  symbolize(addr: number): string {
    return this.model.kernel?.symbolize(addr) ?? `0x${hex(addr)}`;
  }
}
