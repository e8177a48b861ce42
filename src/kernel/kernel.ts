/**
 * The emulated kernel's global state, one per machine: the process and task
 * tables, pid allocation, the guest kernel's own pages (shared by every
 * address space), and what the machine above must do when a task is
 * created, execs or ends (`machine`). Each Process points at its Kernel.
 *
 * Two facilities are the host process's rather than one machine's: the
 * flock table (two machines in one Node see each other's locks, as two
 * processes of one Linux machine do) and the machine's memory, counted
 * against --mem-limit.
 *
 * The tables are typed by the process and task types (process.ts), which
 * import this module: the type parameters keep src/kernel free of an import
 * cycle.
 */
import { Memory } from '../cpu/memory.js';
import { hostAllowedCpus } from './host.js';
import type { Exec } from './exec.js';
import { FlockTable } from './locks.js';
import { FutexTable } from './futex.js';
import { IpcNamespace } from './ipc/namespace.js';
import { PageCache } from './pagecache.js';
import type { HostSockets } from './net/hostsockets.js';
import { PhysMem } from './physmem.js';

/** The flock table of this host process: shared by every machine in it. */
export const hostFlocks = new FlockTable();
/** The memory of this host process's machines: guest pages counted against --mem-limit. */
export const hostPhysmem = new PhysMem();

/** What a task switch, a fork or an exec means above the kernel: the entry model's state and the scheduler (the Machine implements it). */
export interface MachineHooks<T> {
  /**
   * fork or clone made `child` (a new process, or with CLONE_THREAD a new
   * thread of its creator's process), whose CPU is a copy of its parent's
   * at the syscall: make it return 0 to its program the way the entry model
   * returns (on `stack` if not 0: clone's new stack), give its address
   * space a block cache, and schedule it.
   */
  taskForked(parent: T, child: T, how: 'fork' | 'vfork' | 'thread', stack: number): void;
  /**
   * execve replaced the task's address space with a new program (its entry
   * point and initial stack in x; `executable`, the ranges it mapped
   * executable, the program's and its interpreter's code): the model sees
   * that code and every later executable mapping, sets up the new image,
   * and makes the syscall return to its entry point.
   */
  exec(task: T, x: Exec, executable: [number, number][]): void;
  /** Ranges no program may be loaded over (the guest kernel's zpoline page). */
  reserved(): [number, number][];
  /** The 32-bit vDSO an i386 program gets (null: the entry model has no compat entry). */
  vdso32(): { image: Uint8Array; vsyscall: number } | null;
  /** A vfork parent goes on: its child has exec'd or exited. */
  vforkDone(parent: T): void;
  /** sched_yield: the task's turn ends when it is back in user code. */
  yield(task: T): void;
  /** The task ended (exit, or a signal): it runs no more; the model's per-task state may be reused. */
  taskExited(task: T): void;
}

/** Pids of the first process and the ones after it (the first process's parent is the emulator itself). */
export const FIRST_PID = 1000;

export class Kernel<P extends { readonly pid: number } = { readonly pid: number }, T = unknown> {
  readonly flocks: FlockTable = hostFlocks;
  /** The machine's memory: guest pages counted against --mem-limit. */
  readonly physmem: PhysMem = hostPhysmem;
  /** The machine's CPUs: those the host process may run on when we start (sched_setaffinity cannot go beyond them). */
  readonly cpus: readonly number[] = hostAllowedCpus();
  /** Pages of files mapped MAP_SHARED, which every such mapping and every read and write of the file meet. */
  readonly pageCache = new PageCache();
  /** The guest kernel's pages (its image and the tasks' kernel stacks): one set that every address space shares. */
  readonly kernelPages = new Memory();
  /** Processes by pid, zombies included, in creation order. */
  readonly procs = new Map<number, P>();
  /** Tasks that have not ended, in tid order (the scheduler's order). */
  readonly tasks: T[] = [];
  /** The tids of live threads that are not their group's leader (a pid is not reused while a tid holds it). */
  readonly threadIds = new Set<number>();
  /** The tasks waiting on futexes. */
  readonly futexes = new FutexTable();
  /** The machine's sockets on the host, by the host-sockets worker's id (net/hostnet.ts routes the worker's events through them). */
  readonly hostSockets: HostSockets = new Map();
  /** System V IPC: the machine's own namespace of shm segments, semaphore arrays and message queues. */
  readonly ipc = new IpcNamespace(this.physmem);
  /** The machine above (null for a process on its own, as the unit tests make: it cannot fork). */
  machine: MachineHooks<T> | null = null;
  /**
   * A debugger drives the machine: a syscall that would sleep never blocks
   * the host thread (it parks its task, see Process.sleep), so the stub
   * keeps reading the debugger's interrupt.
   */
  debugged = false;
  /**
   * Every task waits for something only another task could end: the waits
   * that can give up (a pipe nobody else holds, pause with nothing armed)
   * do, as they do for a process alone, instead of waiting forever.
   */
  deadlock = false;
  private nextPid = FIRST_PID;
  private nextPipeIno = 1;

  /** The pid for a new process: the next free one from FIRST_PID, as Linux's allocator without wraparound. */
  allocPid(): number {
    while (this.procs.has(this.nextPid) || this.threadIds.has(this.nextPid)) this.nextPid++;
    return this.nextPid++;
  }

  /** Pipe inode numbers (unique in the machine: pipes are shared between processes). */
  allocPipeIno(): number {
    return 0x100000 + this.nextPipeIno++;
  }

  /** More than one task can run: a syscall that would wait must park its task rather than block the host. */
  get cooperative(): boolean {
    return this.debugged || this.tasks.length > 1;
  }
}
