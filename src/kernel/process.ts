/**
 * One emulated Linux process: its memory areas, descriptors, cwd, ids,
 * limits, timers and signal state. Its system calls are dispatched by
 * syscalls.ts's `syscall(p, nr, args?)`, which this module does not import
 * (the implementations under sys/ import Process: no cycle).
 *
 * exit/exit_group set `exitCode` and `cpu.stopRequested`. rt_sigreturn (15)
 * is not handled by the host syscalls (the signal-delivery code owns it).
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
import * as fs from 'node:fs';
import * as tty from 'node:tty';
import type { CPU } from '../cpu/cpu.js';
import type { Memory } from '../cpu/memory.js';
import { WouldBlock } from './errno.js';
import { FdTable, OpenFile, O_ACCMODE, O_APPEND, O_LARGEFILE, O_RDONLY, O_WRONLY } from './fdtable.js';
import { type CapSets, hostCaps, hostFdFlags, hostGroups, hostRlimits, hostUmask } from './host.js';
import { type Kernel, defaultKernel } from './kernel.js';
import { MM, mmapBaseFor } from './mm.js';
import { disposition, isBlocked, SS_DISABLE, type SigAction, type SigInfo, type SignalState } from './signal.js';
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
  /** Process id (default 1000); tid = pid. */
  pid?: number;
  /** Parent process id (default 999). */
  ppid?: number;
  /** Top of the top-down mmap area (default mm.ts DEFAULT_MMAP_BASE, Linux's no-ASLR 0x7ffff7fff000). */
  mmapBase?: number;
  /** The kernel-wide state this process shares with others (default: the host process's one). */
  kernel?: Kernel;
}

/** An interval timer: deadline in the timer's clock (ns), 0n when disarmed. */
export interface ITimer {
  deadline: bigint;
  interval: bigint;
}

/** Deliverable-signal wait outcome. */
export type WaitResult = 'signal' | 'timeout' | 'deadlock';

export class Process implements SignalState {
  pid: number;
  tid: number;
  ppid: number;
  pgid: number;
  sid: number;
  uid: number;
  euid: number;
  suid: number;
  gid: number;
  egid: number;
  sgid: number;
  /** Supplementary groups (getgroups). */
  groups: number[];
  /** CPUs the process may run on (sched_getaffinity), ascending; starts as the host process's own. */
  affinity: number[];
  /** Capability sets (capget/capset, and the checks of privileged calls); start as the host process's own. */
  caps: CapSets = hostCaps();
  /** I/O priority (ioprio_set): class << 13 | data; 0 = none set, as for a task without an io_context. */
  ioprio = 0;
  /** Scheduling policy and static priority (sched_setscheduler), SCHED_OTHER at start. */
  sched = { policy: 0, priority: 0, resetOnFork: false };
  /** The kernel-wide state (flock table ...). */
  readonly kernel: Kernel;
  mm: MM;
  fds: FdTable;
  vfs: Vfs;
  /** Current directory, canonical guest path. */
  cwd: string;
  umask: number;
  /** The host process's umask (applied by the host on creation; creations are fixed up to the guest's umask). */
  readonly hostUmask: number;
  exitCode: number | null = null;
  /** The user RSP when a syscall runs in a guest kernel (the CPU's RSP is then the kernel stack). */
  userRsp: number | null = null;
  /** Guest path of the program. */
  exePath: string;
  argv: string[];
  /** Thread name (prctl PR_SET_NAME), at most 15 bytes. */
  comm: string;
  /** set_tid_address pointer. */
  clearChildTid = 0;
  robustList = 0;
  robustListLen = 0;
  /** Resource limits [soft, hard] by RLIMIT_* number (RLIM_INFINITY = 2^64-1). */
  rlimits: [bigint, bigint][];
  /** ITIMER_REAL (monotonic ns), ITIMER_VIRTUAL, ITIMER_PROF (process cpu ns). */
  itimers: ITimer[] = [
    { deadline: 0n, interval: 0n },
    { deadline: 0n, interval: 0n },
    { deadline: 0n, interval: 0n },
  ];
  /** Run-time diagnostics (the CLI's --log destination; nothing with --quiet), never the program's own stderr. */
  readonly warn: (msg: string) => void;
  private readonly warned = new Set<number>();
  /** Calls that returned ENOSYS because the emulator has no implementation, by syscall number. */
  readonly enosys = new Map<number, number>();
  private readonly warnedMsgs = new Set<string>();
  /** Called after every syscall (for traces). */
  afterSyscall: ((nr: number, a: SyscallArgs, ret: number) => void) | null = null;
  /** Creation time (for pipe stats, times()). */
  readonly startMono = monoNs();
  private nextPipeIno = 1;

  // ---- signal state ----
  sigactions: SigAction[] = [];
  blockedLo = 0;
  blockedHi = 0;
  pending = new Set<number>();
  pendingInfo = new Map<number, SigInfo>();
  altstack = { sp: 0, flags: SS_DISABLE, size: 0 };
  savedMask: { lo: number; hi: number } | null = null;
  /**
   * How the last syscall's -EINTR may be restarted, as Linux's internal
   * ERESTART* codes say: 'sys' (ERESTARTSYS: restart if the handler has
   * SA_RESTART or no handler ran), 'nohand' (ERESTARTNOHAND: restart only if
   * no handler ran: poll, select, pause, sigsuspend), 'block'
   * (ERESTART_RESTARTBLOCK: nanosleep; restarting needs the remaining time,
   * so treat as 'nohand'), or null (not interrupted). Reset at every syscall.
   * The deliverer may use it to re-execute the syscall (rip -= 2, rax = nr).
   */
  interrupted: 'sys' | 'nohand' | 'block' | null = null;
  /**
   * Cooperative blocking (set while a debugger drives the machine): a syscall
   * that would sleep throws WouldBlock and is retried later instead of
   * blocking the host thread. The deadline of the sleep in progress is kept
   * across the retries (as Linux's restart_block keeps nanosleep's), and
   * dropped when the syscall completes.
   */
  cooperative = false;
  private sleepDeadline: bigint | null | undefined = undefined;

  constructor(
    readonly cpu: CPU,
    readonly mem: Memory,
    opts: ProcessOptions,
  ) {
    this.fds = new FdTable();
    this.warn = opts.warn;
    this.kernel = opts.kernel ?? defaultKernel;
    this.affinity = [...this.kernel.cpus];
    this.pid = opts.pid ?? 1000;
    this.tid = this.pid;
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
    this.mm = new MM(mem, { mmapBase: opts.mmapBase ?? mmapBaseFor(this.rlimits[3][0]), rlimit: (res) => this.rlimits[res][0] });
    this.mm.allowLowMappings = this.euid === 0;
    this.kernel.physmem.attach(
      mem,
      (pn) => this.mm.touched(pn),
      () => this.outOfMemory(),
    );
    this.vfs = new Vfs(opts.root);
    this.cwd = opts.cwd.startsWith('/') ? opts.cwd : '/' + opts.cwd;
    this.hostUmask = this.umask = hostUmask();
    this.exePath = opts.exePath ?? '';
    this.argv = opts.argv ?? (this.exePath ? [this.exePath] : []);
    const base = (this.argv[0] ?? this.exePath).split('/').pop() ?? '';
    this.comm = (base || this.exePath.split('/').pop() || 'entrystub').slice(0, 15);
    for (let s = 0; s <= 64; s++) this.sigactions.push({ handler: 0, flags: 0, restorer: 0, maskLo: 0, maskHi: 0 });
    this.setupStdio(0, opts.stdin ?? 0, O_RDONLY);
    this.setupStdio(1, opts.stdout ?? 1, O_WRONLY);
    this.setupStdio(2, opts.stderr ?? 2, O_WRONLY);
  }

  private setupStdio(guestFd: number, hostFd: number, defaultMode: number): void {
    let st: fs.Stats;
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
    f.isTty = tty.isatty(hostFd);
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
  private outOfMemory(): void {
    const mib = Math.round(this.kernel.physmem.limit / 1048576);
    this.warn(`entrystub: out of memory: the program's pages reached the ${mib} MiB of --mem-limit; killed by SIGKILL as by Linux's OOM killer`);
    this.raise(9, { signo: 9, code: SI_KERNEL });
    this.cpu.stopRequested = true;
  }

  /** Terminate: record the status, write back shared mappings, close descriptors, stop the CPU. */
  exit(status: number): void {
    this.exitCode = status & 0xff;
    this.mm.flushAll();
    this.fds.closeAll();
    this.cpu.stopRequested = true;
  }

  /** Pipe inode numbers. */
  allocPipeIno(): number {
    return 0x100000 + this.nextPipeIno++;
  }

  // ---- signals ----

  /** Make sig pending (unless it is ignored and not blocked, which discards it, as Linux does). */
  raise(sig: number, info: SigInfo = { signo: sig, code: SI_KERNEL }): void {
    if (sig < 1 || sig > 64) return;
    if (!isBlocked(this, sig) && disposition(this, sig) === 'ignore') return;
    if (!this.pending.has(sig)) {
      this.pending.add(sig);
      this.pendingInfo.set(sig, info);
    }
  }

  /** Lowest-numbered pending signal that is not blocked (0 if none). Ignored ones count: delivery discards them. */
  nextDeliverable(): number {
    let best = 0;
    for (const s of this.pending) if (!isBlocked(this, s) && (best === 0 || s < best)) best = s;
    return best;
  }

  /** True when a pending, unblocked signal would run a handler or kill the process. */
  hasInterruptingSignal(): boolean {
    for (const s of this.pending) if (!isBlocked(this, s) && disposition(this, s) !== 'ignore') return true;
    return false;
  }

  /** Drop pending signals whose disposition is now 'ignore' and that are not blocked. */
  discardIgnored(): void {
    for (const s of [...this.pending])
      if (!isBlocked(this, s) && disposition(this, s) === 'ignore') {
        this.pending.delete(s);
        this.pendingInfo.delete(s);
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
      if (until === null) return 'deadlock';
      const ms = Number((until - now + 999999n) / 1000000n);
      this.sleep(ms, deadline);
    }
  }

  /**
   * Sleep about ms milliseconds inside a syscall that waits until deadline:
   * really (Atomics.wait) when running alone; with a debugger attached, throw
   * WouldBlock so the machine stops and retries the syscall later.
   */
  sleep(ms: number, deadline: bigint | null = null): void {
    ms = Math.min(Math.max(ms, 0), 1000);
    if (this.cooperative) {
      this.sleepDeadline = deadline;
      throw new WouldBlock(Math.min(Math.max(ms, 1), 50));
    }
    sleepMs(ms);
  }

  /** The syscall completed, or the one being retried was abandoned (a debugger moved RIP): forget its deadline. */
  dropRetry(): void {
    this.sleepDeadline = undefined;
  }

  /** The deadline a retried sleep keeps (see cooperative), or the one given on the first try. */
  retryDeadline(first: bigint | null): bigint | null {
    return this.cooperative && this.sleepDeadline !== undefined ? this.sleepDeadline : first;
  }
}
