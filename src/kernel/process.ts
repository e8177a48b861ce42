/**
 * One emulated Linux process (a thread group) and its task: the address
 * space, descriptors, cwd, ids, limits, timers and signal state, its place
 * in the process tree (parent, children, process group, session) and how it
 * ended. Its system calls are dispatched by syscalls.ts's
 * `syscall(p, nr, args?)`, which this module does not import (the
 * implementations under sys/ import Process: no cycle).
 *
 * A process is made either from the host (the first one: its ids, limits
 * and standard descriptors are the emulator's own, as a program started by
 * the same shell would have them) or by fork from its parent (a copy, as
 * copy_process makes it). exit and exit_group end it through exit.ts, which
 * sets `exitCode` (or `termSignal`) and stops the CPU. rt_sigreturn (15) is
 * not handled by the host syscalls (the signal-delivery code owns it).
 *
 * ## Signal state (see signal.ts's SignalState)
 * - `sigactions[sig]` for sig 1..64: { handler, flags, restorer, maskLo, maskHi }
 *   exactly as rt_sigaction stored them (handler 0 = SIG_DFL, 1 = SIG_IGN).
 * - `blockedLo`/`blockedHi`: the blocked mask, bit (sig-1); never has SIGKILL/SIGSTOP.
 * - `pending`: set of pending signal numbers (standard signals do not queue).
 *   `pendingInfo.get(sig)` is the siginfo of the pending signal (si_code
 *   SI_USER for kill, SI_TKILL for tgkill/tkill/raise, SI_QUEUE for sigqueue,
 *   SI_KERNEL for SIGPIPE/SIGALRM...). The deliverer removes both when delivering.
 * - `altstack`: { sp, flags, size } with flags SS_DISABLE (2) when there is
 *   none, else 0 (| SS_AUTODISARM); SS_ONSTACK is computed, never stored.
 * - `savedMask`: set by rt_sigsuspend/ppoll/pselect6 (the mask to restore
 *   after the handler): when non-null the deliverer must save *it* in the
 *   frame's uc_sigmask instead of the current (temporary) blocked mask, then
 *   set savedMask = null. If no handler runs, call restoreSavedMask().
 * - `interrupted`: how an -EINTR result may be restarted (see the field).
 * - Timers: pollTimers() (call between run slices) makes SIGALRM/SIGVTALRM/
 *   SIGPROF pending when an itimer/alarm expires.
 */
import type * as nodefs from 'node:fs';
import { hostFs as fs } from './hostlog.js';
import * as tty from 'node:tty';
import type { CPU } from '../cpu/cpu.js';
import type { Memory } from '../cpu/memory.js';
import { WouldBlock } from './errno.js';
import { FdTable, OpenFile, O_ACCMODE, O_APPEND, O_LARGEFILE, O_RDONLY, O_WRONLY } from './fdtable.js';
import { type CapSets, hostCaps, hostFdFlags, hostGroups, hostRlimits, hostUmask } from './host.js';
import { Kernel } from './kernel.js';
import type { FutexWaiter } from './futex.js';
import type { LoadedImage } from './loader.js';
import type { Exec } from './exec.js';
import { MM, mmapBaseFor } from './mm.js';
import { DEFAULT_ACTION, disposition, isBlocked, SS_DISABLE, type SigAction, type SigInfo, type SignalState } from './signal.js';
import { SI_KERNEL, type SyscallArgs, kindOf, monoNs, sleepMs } from './sys/util.js';
import { syscallName } from './sysnames.js';
import { Vfs } from './vfs.js';

export { SyscallArgs, SI_USER, SI_KERNEL, SI_QUEUE, SI_TIMER, SI_TKILL, kindOf } from './sys/util.js';

export interface ProcessOptions {
  /** Host directory the guest sees as '/'; '/' = the whole host. */
  root: string;
  /** Initial working directory (guest path). */
  cwd: string;
  /** Host fds for the guest's 0, 1, 2 (default 0, 1, 2). They are never closed on the host. */
  stdin?: number;
  stdout?: number;
  stderr?: number;
  /** One-line run-time diagnostics (unimplemented syscall, deadlock): the stub's log, not the guest's fd 2. */
  warn: (msg: string) => void;
  /** Guest path of the running program (readlink /proc/self/exe, open of it). */
  exePath?: string;
  /** argv, for /proc/self/cmdline and the initial comm. */
  argv?: string[];
  /** Process id (default: the kernel's next, 1000 for the first); tid = pid. */
  pid?: number;
  /** Parent process id (default 999: the emulator, which started it). */
  ppid?: number;
  /** Top of the top-down mmap area (default mm.ts DEFAULT_MMAP_BASE, Linux's no-ASLR 0x7ffff7fff000). */
  mmapBase?: number;
  /** The machine's kernel (default: a kernel of its own). */
  kernel?: ProcKernel;
}

/** The kernel a process lives in, its tables typed with Process and Task. */
export type ProcKernel = Kernel<Process, Task>;

/** How fork makes a child from its parent (copy_process). */
export interface ForkFrom {
  parent: Process;
  pid: number;
  /** CLONE_VM (vfork): the child runs in its parent's address space and memory map. */
  shareVm: boolean;
}

const SIGCHLD = 17;

/**
 * A task: what Linux's task_struct is to the scheduler, one thread of
 * execution. Its CPU object *is* its saved context (a task switch is the
 * choice of which CPU runs); the entry model keeps its own per-task state in
 * `entry` (the trip in progress, the task's guest kernel stack). Everything
 * the thread group shares (the address space, descriptors, signal
 * dispositions, ids, process-directed pending signals) is its Process's;
 * what is each thread's own is here: its signal mask, the signals sent to it
 * alone (tgkill, a fault), its sigaltstack, its name, clear_child_tid and
 * the robust list, a futex wait in progress.
 */
export class Task {
  /** The blocked mask, bit (sig-1); never has SIGKILL/SIGSTOP (a new thread starts with its creator's). */
  blockedLo = 0;
  blockedHi = 0;
  /** Signals sent to this thread alone (tkill, tgkill, a synchronous fault), and their siginfo. */
  pending = new Set<number>();
  pendingInfo = new Map<number, SigInfo>();
  altstack = { sp: 0, flags: SS_DISABLE, size: 0 };
  /** See Process (its accessors are the running thread's). */
  savedMask: { lo: number; hi: number } | null = null;
  interrupted: 'sys' | 'nohand' | 'block' | null = null;
  sleepDeadline: bigint | null | undefined = undefined;
  retryProgress = 0;
  userRsp: number | null = null;
  /** Thread name (prctl PR_SET_NAME, /proc/PID/task/TID/comm), at most 15 bytes. */
  comm = '';
  /** The futex this task waits on (a parked FUTEX_WAIT retried at each turn; futex.ts). */
  futexWait: { waiter: FutexWaiter; deadline: bigint | null } | null = null;
  /** set_tid_address / CLONE_CHILD_CLEARTID: the word zeroed (and futex-woken) when the task exits. */
  clearChildTid = 0;
  robustList = 0;
  robustListLen = 0;
  /** The entry model's own state of this task (src/entry: its kernel stack, the trip in progress). */
  entry: unknown = null;
  /** Number of the syscall in progress as ptrace shows orig_rax (-1: none). */
  origRax = -1;
  /** The code it passed to exit(2), when it ended alone (its process living on). */
  exitCode: number | null = null;
  /** The task has ended (its process may stay a zombie until its parent waits for it). */
  dead = false;
  /**
   * Parked in a syscall that cannot complete yet, retried when its turn
   * comes: the longest the host may wait before that retry (Infinity: only
   * another task can end the wait). null: runnable.
   */
  parked: number | null = null;
  /** vfork: the child this task waits for until it execs or exits. */
  vforkChild: Task | null = null;
  /** Set when this task, made by vfork, has exec'd or ended: its parent goes on. */
  vforkDone = false;
  /** A debugger traces the task: its stops (breakpoints, caught syscalls, signals) are reported. */
  traced = false;
  /** Kept stopped by the debugger (a new child it follows): not scheduled until released. */
  held = false;

  constructor(
    /** Thread id; the thread group leader's is its process's pid (an exec from another thread takes it). */
    public tid: number,
    readonly proc: Process,
    public cpu: CPU,
  ) {}

  /** The state letter of /proc/PID/stat: R running or runnable, S waiting in a syscall, Z ended. */
  get state(): 'R' | 'S' | 'Z' {
    if (this.dead) return 'Z';
    return this.parked !== null ? 'S' : 'R';
  }
}

/** An interval timer: deadline in the timer's clock (ns), 0n when disarmed. */
export interface ITimer {
  deadline: bigint;
  interval: bigint;
}

/** Deliverable-signal wait outcome. */
export type WaitResult = 'signal' | 'timeout' | 'deadlock';

export class Process implements SignalState {
  readonly pid: number;
  /** The parent's pid (1 once orphaned: init's role is the emulator's, which reaps them). */
  ppid!: number;
  pgid!: number;
  sid!: number;
  uid!: number;
  euid!: number;
  suid!: number;
  gid!: number;
  egid!: number;
  sgid!: number;
  /** Supplementary groups (getgroups). */
  groups!: number[];
  /** CPUs the process may run on (sched_getaffinity), ascending; starts as the host process's own. */
  affinity!: number[];
  /** Capability sets (capget/capset, and the checks of privileged calls); start as the host process's own. */
  caps!: CapSets;
  /** I/O priority (ioprio_set): class << 13 | data; 0 = none set, as for a task without an io_context. */
  ioprio = 0;
  /** Scheduling policy and static priority (sched_setscheduler), SCHED_OTHER at start. */
  sched = { policy: 0, priority: 0, resetOnFork: false };
  /** The machine's kernel: the process table, the flock table, the machine's memory. */
  readonly kernel: ProcKernel;
  /** The live threads of the group, in creation order (the leader first while it lives). */
  readonly threads: Task[] = [];
  /**
   * The thread running in this group now (Linux's `current` when one of its
   * threads runs): the machine sets it at each switch, and every syscall and
   * signal delivery of the group works on its per-thread state through the
   * accessors below (blocked mask, altstack...).
   */
  current: Task;
  /** The address space (execve gives a new one; a vfork child shares its parent's). */
  mem: Memory;
  mm!: MM;
  fds!: FdTable;
  vfs!: Vfs;
  /** Current directory, canonical guest path. */
  cwd!: string;
  umask!: number;
  /** The host process's umask (applied by the host on creation; creations are fixed up to the guest's umask). */
  readonly hostUmask: number;
  /** The exit status it ended with (exit, exit_group), or null. */
  exitCode: number | null = null;
  /** The signal that killed it, or null. */
  termSignal: number | null = null;
  /** The parent (null: the emulator started it, or it was orphaned: init's role). */
  parent: Process | null = null;
  /** Children not yet reaped, in the order they were made. */
  readonly children: Process[] = [];
  /** The signal the parent gets when it ends (fork: SIGCHLD; clone: its CSIGNAL byte; 0: none). */
  exitSignal = SIGCHLD;
  /** The program image of its last exec (null before the first). */
  image: LoadedImage | null = null;
  /** Its last execve: the program, its interpreter, the initial stack and auxv (null before the first). */
  exec: Exec | null = null;
  /** It has called execve since it was forked (setpgid on it by its parent is then EACCES). */
  execed = false;
  /** Guest path of the program. */
  exePath!: string;
  argv!: string[];
  /** Resource limits [soft, hard] by RLIMIT_* number (RLIM_INFINITY = 2^64-1). */
  rlimits!: [bigint, bigint][];
  /** ITIMER_REAL (monotonic ns), ITIMER_VIRTUAL, ITIMER_PROF (process cpu ns). */
  itimers: ITimer[] = [
    { deadline: 0n, interval: 0n },
    { deadline: 0n, interval: 0n },
    { deadline: 0n, interval: 0n },
  ];
  /** Run-time diagnostics (the CLI's --log destination; nothing with --quiet), never the program's own stderr. */
  readonly warn: (msg: string) => void;
  /** What has been reported once: shared by a process and its descendants, so a pipeline reports a missing syscall once. */
  private readonly warned: Set<number>;
  /** Calls that returned ENOSYS because the emulator has no implementation, by syscall number (the machine's, shared likewise). */
  readonly enosys: Map<number, number>;
  private readonly warnedMsgs: Set<string>;
  /** Called after every syscall (for traces); a child inherits its parent's. */
  afterSyscall: ((nr: number, a: SyscallArgs, ret: number) => void) | null = null;
  /** Creation time (for pipe stats, times(), /proc/PID/stat's starttime). */
  readonly startMono = monoNs();

  // ---- signal state ----
  sigactions: SigAction[] = [];
  /** Process-directed pending signals (kill, timers, SIGCHLD): any thread that does not block one takes it. */
  pending = new Set<number>();
  pendingInfo = new Map<number, SigInfo>();

  /** The running thread (see `current`). */
  get task(): Task {
    return this.current;
  }
  /** The running thread's blocked mask. */
  get blockedLo(): number {
    return this.current.blockedLo;
  }
  set blockedLo(v: number) {
    this.current.blockedLo = v;
  }
  get blockedHi(): number {
    return this.current.blockedHi;
  }
  set blockedHi(v: number) {
    this.current.blockedHi = v;
  }
  /** The running thread's sigaltstack. */
  get altstack(): { sp: number; flags: number; size: number } {
    return this.current.altstack;
  }
  set altstack(v: { sp: number; flags: number; size: number }) {
    this.current.altstack = v;
  }
  /**
   * Set by rt_sigsuspend/ppoll/pselect6 (the mask to restore after the
   * handler), the running thread's: when non-null the deliverer must save
   * *it* in the frame's uc_sigmask instead of the current (temporary)
   * blocked mask, then set savedMask = null.
   */
  get savedMask(): { lo: number; hi: number } | null {
    return this.current.savedMask;
  }
  set savedMask(v: { lo: number; hi: number } | null) {
    this.current.savedMask = v;
  }
  /**
   * How the running thread's last syscall's -EINTR may be restarted, as
   * Linux's internal ERESTART* codes say: 'sys' (ERESTARTSYS: restart if the
   * handler has SA_RESTART or no handler ran), 'nohand' (ERESTARTNOHAND:
   * restart only if no handler ran: poll, select, pause, sigsuspend),
   * 'block' (ERESTART_RESTARTBLOCK: nanosleep; restarting needs the
   * remaining time, so treat as 'nohand'), or null (not interrupted). Reset
   * at every syscall. The deliverer may use it to re-execute the syscall.
   */
  get interrupted(): 'sys' | 'nohand' | 'block' | null {
    return this.current.interrupted;
  }
  set interrupted(v: 'sys' | 'nohand' | 'block' | null) {
    this.current.interrupted = v;
  }
  /**
   * The deadline of the running thread's sleep in progress, kept across the
   * retries of a parked syscall (as Linux's restart_block keeps
   * nanosleep's), and dropped when the syscall completes (see cooperative).
   */
  private get sleepDeadline(): bigint | null | undefined {
    return this.current.sleepDeadline;
  }
  private set sleepDeadline(v: bigint | null | undefined) {
    this.current.sleepDeadline = v;
  }
  /** What a parked syscall had done before it parked (bytes of a pipe write), for its retry; dropped when it completes. */
  get retryProgress(): number {
    return this.current.retryProgress;
  }
  set retryProgress(v: number) {
    this.current.retryProgress = v;
  }
  /** The user RSP when a syscall runs in a guest kernel (the CPU's RSP is then the kernel stack). */
  get userRsp(): number | null {
    return this.current.userRsp;
  }
  set userRsp(v: number | null) {
    this.current.userRsp = v;
  }
  /** The running thread's name (prctl PR_SET_NAME); the process's (/proc/PID/comm) is its leader's, `leaderComm`. */
  get comm(): string {
    return this.current.comm;
  }
  set comm(v: string) {
    this.current.comm = v;
  }
  /** The name /proc/PID/comm and ps show: the group leader's (the thread with tid = pid), or the running thread's once the leader is gone. */
  get leaderComm(): string {
    return (this.threads.find((t) => t.tid === this.pid) ?? this.current).comm;
  }

  constructor(cpu: CPU, mem: Memory, opts: ProcessOptions | ForkFrom) {
    this.mem = mem;
    if ('parent' in opts) {
      // fork: the child's copy of everything copy_process copies
      const parent = opts.parent;
      this.kernel = parent.kernel;
      this.pid = opts.pid;
      this.current = new Task(this.pid, this, cpu);
      this.threads.push(this.current);
      this.warned = parent.warned;
      this.warnedMsgs = parent.warnedMsgs;
      this.enosys = parent.enosys;
      this.warn = parent.warn;
      this.hostUmask = parent.hostUmask;
      this.copyFrom(parent, opts.shareVm);
      this.kernel.procs.set(this.pid, this);
      this.kernel.tasks.push(this.task);
      return;
    }
    this.kernel = opts.kernel ?? new Kernel<Process, Task>();
    this.pid = opts.pid ?? this.kernel.allocPid();
    this.current = new Task(this.pid, this, cpu);
    this.threads.push(this.current);
    this.kernel.procs.set(this.pid, this);
    this.kernel.tasks.push(this.task);
    this.warned = new Set();
    this.warnedMsgs = new Set();
    this.enosys = new Map();
    this.caps = hostCaps();
    this.fds = new FdTable();
    this.warn = opts.warn;
    this.affinity = [...this.kernel.cpus];
    this.ppid = opts.ppid ?? 999;
    // like a program started by a shell without job control (or by a test harness):
    // in its parent's process group and session
    this.pgid = this.ppid;
    this.sid = this.ppid;
    this.uid = this.euid = this.suid = process.getuid?.() ?? 0;
    this.gid = this.egid = this.sgid = process.getgid?.() ?? 0;
    this.groups = hostGroups();
    // the limits a program started by the same shell inherits (ulimit), Linux's defaults where unknown
    const INF = 0xffffffffffffffffn;
    this.rlimits = hostRlimits() ?? Array.from({ length: 16 }, (): [bigint, bigint] => [INF, INF]);
    if (hostRlimits() === null) {
      this.rlimits[3] = [8n * 1024n * 1024n, INF]; // RLIMIT_STACK
      this.rlimits[7] = [1024n, 1048576n]; // RLIMIT_NOFILE
    }
    this.fds.limit = Number(this.rlimits[7][0] > 1048576n ? 1048576n : this.rlimits[7][0]);
    this.mm = new MM(mem, { mmapBase: opts.mmapBase ?? mmapBaseFor(this.rlimits[3][0]), limits: this });
    this.mm.allowLowMappings = this.euid === 0;
    this.kernel.physmem.attach(mem, this);
    this.vfs = new Vfs(opts.root);
    this.cwd = opts.cwd.startsWith('/') ? opts.cwd : '/' + opts.cwd;
    this.hostUmask = this.umask = hostUmask();
    this.exePath = opts.exePath ?? '';
    this.argv = opts.argv ?? (this.exePath ? [this.exePath] : []);
    const base = (this.argv[0] ?? this.exePath).split('/').pop() ?? '';
    this.comm = (base || this.exePath.split('/').pop() || 'entrystub').slice(0, 15);
    for (let s = 0; s <= 64; s++) this.sigactions.push(DEFAULT_ACTION);
    this.setupStdio(0, opts.stdin ?? 0, O_RDONLY);
    this.setupStdio(1, opts.stdout ?? 1, O_WRONLY);
    this.setupStdio(2, opts.stderr ?? 2, O_WRONLY);
  }

  /** fork: this new process is its parent's copy (copy_process, for a process without threads). */
  private copyFrom(parent: Process, shareVm: boolean): void {
    this.afterSyscall = parent.afterSyscall;
    this.parent = parent;
    parent.children.push(this);
    this.ppid = parent.pid;
    this.pgid = parent.pgid;
    this.sid = parent.sid;
    this.uid = parent.uid;
    this.euid = parent.euid;
    this.suid = parent.suid;
    this.gid = parent.gid;
    this.egid = parent.egid;
    this.sgid = parent.sgid;
    this.groups = [...parent.groups];
    this.affinity = [...parent.affinity];
    this.caps = { ...parent.caps };
    this.ioprio = parent.ioprio;
    // SCHED_RESET_ON_FORK: the child starts as SCHED_OTHER
    this.sched = parent.sched.resetOnFork ? { policy: 0, priority: 0, resetOnFork: false } : { ...parent.sched };
    this.rlimits = parent.rlimits.map(([s, h]): [bigint, bigint] => [s, h]);
    this.mm = shareVm ? parent.mm : parent.mm.fork(this.mem, { limits: this });
    if (!shareVm) this.kernel.physmem.attach(this.mem, this);
    this.fds = parent.fds.fork();
    this.vfs = parent.vfs;
    this.cwd = parent.cwd;
    this.umask = parent.umask;
    this.exePath = parent.exePath;
    this.argv = [...parent.argv];
    this.comm = parent.comm;
    this.task.blockedLo = parent.task.blockedLo;
    this.task.blockedHi = parent.task.blockedHi;
    this.task.altstack = { ...parent.task.altstack };
    this.image = parent.image;
    this.exec = parent.exec;
    // the interval timers and alarm are not inherited; the pending signals neither
    this.sigactions = parent.sigactions.slice(); // actions are values (SigAction)
    // prctl settings a child keeps (PR_SET_PDEATHSIG and the subreaper flag are not inherited)
    type Prctl = { dumpable?: number; keepcaps?: number; noNewPrivs?: number; timerslack?: number; thp?: number; personality?: number };
    const from = parent as Process & Prctl, to = this as Process & Prctl;
    for (const k of ['dumpable', 'noNewPrivs', 'timerslack', 'thp', 'personality'] as const) if (from[k] !== undefined) to[k] = from[k];
  }

  /**
   * A new thread of this process (clone with CLONE_THREAD, made by the
   * running one): its mask and name are its creator's; it is scheduled
   * after the tasks made before it.
   */
  addThread(tid: number, cpu: CPU): Task {
    const creator = this.current;
    const t = new Task(tid, this, cpu);
    t.blockedLo = creator.blockedLo;
    t.blockedHi = creator.blockedHi;
    t.comm = creator.comm;
    t.traced = creator.traced;
    this.threads.push(t);
    this.kernel.tasks.push(t);
    this.kernel.threadIds.add(tid);
    return t;
  }

  /** The process has ended (a zombie until reaped). */
  get ended(): boolean {
    return this.exitCode !== null || this.termSignal !== null;
  }

  /** The CPU of its task. */
  get cpu(): CPU {
    return this.task.cpu;
  }

  /** Thread id of its task. */
  get tid(): number {
    return this.task.tid;
  }

  /**
   * Whether a syscall that would sleep must not block the host thread: a
   * debugger drives the machine, or another task could run meanwhile. It
   * then throws WouldBlock and is retried later (the task is parked).
   */
  get cooperative(): boolean {
    return this.kernel.cooperative;
  }

  private setupStdio(guestFd: number, hostFd: number, defaultMode: number): void {
    let st: nodefs.Stats;
    try {
      st = fs.fstatSync(hostFd);
    } catch {
      return; // closed on the host: closed for the guest too
    }
    const hf = hostFdFlags(hostFd);
    const flags = hf === null ? defaultMode : hf & (O_ACCMODE | O_APPEND | O_LARGEFILE);
    const f = new OpenFile(kindOf(st), flags);
    f.hostFd = hostFd;
    f.ownsHostFd = false;
    f.positioned = false;
    // only a character device can be a terminal: asking Node (its tty module, and net behind it) is left to those
    f.isTty = st.isCharacterDevice() && tty.isatty(hostFd);
    f.hostPath = `/proc/self/fd/${hostFd}`;
    try {
      f.guestPath = fs.readlinkSync(f.hostPath);
    } catch {
      f.guestPath = f.hostPath;
    }
    this.fds.install(guestFd, f, false);
  }

  /** Syscall nr answers ENOSYS because the emulator lacks it: count the call (--stats), report the number once. */
  unimplemented(nr: number, detail = ''): void {
    this.countEnosys(nr);
    if (this.warned.has(nr)) return;
    this.warned.add(nr);
    this.warn(`entrystub: unimplemented syscall ${nr} (${syscallName(nr)})${detail ? ': ' + detail : ''}`);
  }

  /** Count a call answered ENOSYS because the emulator lacks it (--stats). */
  countEnosys(nr: number): void {
    this.enosys.set(nr, (this.enosys.get(nr) ?? 0) + 1);
  }

  /** Warn once per distinct message. */
  warnOnce(msg: string): void {
    if (this.warnedMsgs.has(msg)) return;
    this.warnedMsgs.add(msg);
    this.warn(msg);
  }

  /**
   * The machine's memory (--mem-limit) is used up by this program's pages: as
   * Linux's OOM killer, SIGKILL, and say why.
   */
  /** A page over --mem-limit (physmem.ts: the process is the owner of its address space's pages). */
  oom(): void {
    const mib = Math.round(this.kernel.physmem.limit / 1048576);
    this.warn(`entrystub: out of memory: the program's pages reached the ${mib} MiB of --mem-limit; killed by SIGKILL as by Linux's OOM killer`);
    this.raise(9, { signo: 9, code: SI_KERNEL });
    this.cpu.stopRequested = true;
  }

  /** Pipe inode numbers (the machine's: a pipe outlives the process that made it). */
  allocPipeIno(): number {
    return this.kernel.allocPipeIno();
  }

  // ---- signals ----

  /**
   * Make sig pending for the process (any thread that does not block it
   * takes it), unless it is ignored and not blocked by the running thread,
   * which discards it, as Linux does.
   */
  raise(sig: number, info: SigInfo = { signo: sig, code: SI_KERNEL }): void {
    if (sig < 1 || sig > 64) return;
    if (disposition(this, sig) === 'ignore' && !this.threads.some((t) => isBlocked(t, sig))) return;
    if (!this.pending.has(sig)) {
      this.pending.add(sig);
      this.pendingInfo.set(sig, info);
    }
  }

  /** Make sig pending for one thread of the group (tkill, tgkill, pthread_kill, a fault). */
  raiseTask(t: Task, sig: number, info: SigInfo = { signo: sig, code: SI_KERNEL }): void {
    if (sig < 1 || sig > 64) return;
    if (!isBlocked(t, sig) && disposition(this, sig) === 'ignore') return;
    if (!t.pending.has(sig)) {
      t.pending.add(sig);
      t.pendingInfo.set(sig, info);
    }
  }

  /** Whether sig is pending for the running thread: sent to it, or to the process. */
  hasPending(sig: number): boolean {
    return this.current.pending.has(sig) || this.pending.has(sig);
  }

  /** Any signal pending for the running thread, blocked or not. */
  get anyPending(): boolean {
    return this.current.pending.size > 0 || this.pending.size > 0;
  }

  /**
   * Take pending sig for the running thread (its own first, then the
   * process's, as dequeue_signal): its siginfo, or null if not pending.
   */
  takePending(sig: number): SigInfo | null {
    for (const q of [this.current, this] as const) {
      if (!q.pending.has(sig)) continue;
      const info = q.pendingInfo.get(sig) ?? { signo: sig, code: 0 };
      q.pending.delete(sig);
      q.pendingInfo.delete(sig);
      return info;
    }
    return null;
  }

  /** The signals pending for the running thread, ascending, its own and the process's. */
  pendingSignals(): number[] {
    return [...new Set([...this.current.pending, ...this.pending])].sort((a, b) => a - b);
  }

  /** Lowest-numbered pending signal the running thread does not block (0 if none). Ignored ones count: delivery discards them. */
  nextDeliverable(): number {
    let best = 0;
    for (const s of this.pendingSignals()) if (!isBlocked(this, s) && (best === 0 || s < best)) best = s;
    return best;
  }

  /** True when a pending signal the running thread does not block would run a handler or kill the process. */
  hasInterruptingSignal(): boolean {
    for (const s of this.pendingSignals()) if (!isBlocked(this, s) && disposition(this, s) !== 'ignore') return true;
    return false;
  }

  /** Drop pending signals whose disposition is now 'ignore' and that are not blocked. */
  discardIgnored(): void {
    for (const q of [this, ...this.threads])
      for (const s of [...q.pending])
        if (!isBlocked(q === this ? this : (q as Task), s) && disposition(this, s) === 'ignore') {
          q.pending.delete(s);
          q.pendingInfo.delete(s);
        }
  }

  /** Drop sig wherever it is pending in the group (its action became "ignore"). */
  discardSignal(sig: number): void {
    for (const q of [this, ...this.threads]) {
      q.pending.delete(sig);
      q.pendingInfo.delete(sig);
    }
  }

  /** Restore the mask saved by rt_sigsuspend & co when no handler consumed it. */
  restoreSavedMask(): void {
    if (this.savedMask) {
      this.blockedLo = this.savedMask.lo;
      this.blockedHi = this.savedMask.hi;
      this.savedMask = null;
    }
  }

  // ---- timers ----

  /** Process CPU time in ns (user, user+system). */
  cpuNs(): [bigint, bigint] {
    const u = process.cpuUsage();
    return [BigInt(u.user) * 1000n, BigInt(u.user + u.system) * 1000n];
  }

  /** Current value of timer `which`'s clock. */
  timerClock(which: number): bigint {
    if (which === 0) return monoNs();
    const [u, t] = this.cpuNs();
    return which === 1 ? u : t;
  }

  /** Make timer signals pending for expired itimers. Call between run slices. */
  pollTimers(): void {
    const SIGS = [14, 26, 27];
    for (let w = 0; w < 3; w++) {
      const t = this.itimers[w];
      if (t.deadline === 0n) continue;
      const now = this.timerClock(w);
      if (now < t.deadline) continue;
      this.raise(SIGS[w], { signo: SIGS[w], code: SI_KERNEL });
      if (t.interval > 0n) {
        const missed = (now - t.deadline) / t.interval + 1n;
        t.deadline += missed * t.interval;
      } else t.deadline = 0n;
    }
  }

  /**
   * How long a task parked in a wait that only another task can end may let
   * the host sleep: until its next ITIMER_REAL expiry (which would
   * interrupt the wait), or Infinity.
   */
  timerWaitMs(): number {
    const real = this.itimers[0].deadline;
    if (real === 0n) return Infinity;
    const left = real - monoNs();
    return left <= 0n ? 0 : Number((left + 999999n) / 1000000n);
  }

  /**
   * Block until a signal that interrupts (handler or fatal) is pending, or
   * until deadline (monotonic ns; null = forever). With nothing that could
   * ever wake it (no deadline, no armed timer), returns 'deadlock' at once.
   */
  waitForSignal(deadline: bigint | null): WaitResult {
    if (this.cooperative && this.sleepDeadline !== undefined) deadline = this.sleepDeadline; // a retry
    for (;;) {
      this.pollTimers();
      if (this.hasInterruptingSignal()) return 'signal';
      const now = monoNs();
      if (deadline !== null && now >= deadline) return 'timeout';
      let until = deadline;
      const real = this.itimers[0].deadline;
      if (real !== 0n && (until === null || real < until)) until = real;
      // (CPU-time timers do not advance while the process sleeps: they cannot wake it)
      if (until === null) {
        // nothing of its own can end the wait; another task can (a signal, a pipe), unless every task waits
        if (this.kernel.tasks.length <= 1 || this.kernel.deadlock) return 'deadlock';
        this.sleepDeadline = deadline;
        throw new WouldBlock(Infinity);
      }
      const ms = Number((until - now + 999999n) / 1000000n);
      this.sleep(ms, deadline);
    }
  }

  /**
   * Sleep about ms milliseconds inside a syscall that waits until deadline:
   * really (Atomics.wait) when running alone; with a debugger attached or
   * other tasks to run, throw WouldBlock so the machine parks the task and
   * retries the syscall later.
   */
  sleep(ms: number, deadline: bigint | null = null): void {
    ms = Math.min(Math.max(ms, 0), 1000);
    if (this.cooperative) {
      this.sleepDeadline = deadline;
      throw new WouldBlock(Math.min(Math.max(ms, 1), 50));
    }
    sleepMs(ms);
  }

  /** The syscall completed, or the one being retried was abandoned (a debugger moved RIP): forget its deadline and progress. */
  dropRetry(): void {
    if (this.current.futexWait) this.kernel.futexes.remove(this.current.futexWait.waiter);
    this.current.futexWait = null;
    this.sleepDeadline = undefined;
    this.retryProgress = 0;
  }

  /** The deadline a retried sleep keeps (see cooperative), or the one given on the first try. */
  retryDeadline(first: bigint | null): bigint | null {
    return this.cooperative && this.sleepDeadline !== undefined ? this.sleepDeadline : first;
  }
}
