/**
 * Why the machine stopped: the one value `Machine.run` returns, which the
 * CLI turns into a line of text and the gdb stub into a stop reply.
 *
 * Several reasons can arise in the same instruction (a watched store made by
 * a caught syscall that also ends the program). The machine keeps only the
 * most pressing one, in this order, highest first:
 *
 *   1. exited, killed      the program is gone: nothing else can be reported
 *   2. signal              a signal is about to be delivered (a debugger decides its fate);
 *      process-exit         a process a debugger traces ended, and the machine runs on
 *   3. syscall-entry/-return  a caught syscall (it happened before the access that follows it),
 *      and fork, vfork, vfork-done, exec, thread-created, thread-exit: the events of a syscall a debugger asked to see
 *   4. watch               a watched location was accessed by the instruction that just ran
 *   5. breakpoint          execution reached a breakpoint (the instruction there has not run)
 *   6. step                the requested single step is done
 *   7. interrupt           the debugger asked (0x03); any of the above already answers it
 *   8. blocked             the program sleeps in a host call (the machine is resumed later)
 */
import type { SigInfo } from '../kernel/signal.js';

export type WatchType = 'watch' | 'rwatch' | 'awatch';

export type Stop = (
  | { kind: 'exited'; code: number }
  /** Terminated by a signal; message says why in one line (the CLI prints it). */
  | { kind: 'killed'; signal: number; addr?: number; message: string }
  /** A signal about to be delivered (only with a debugger attached: ptrace's signal-delivery-stop). */
  | { kind: 'signal'; signal: number; info: SigInfo }
  /** A caught syscall at the first instruction of its path (or, direct, just past `syscall`). */
  | { kind: 'syscall-entry'; nr: number }
  /** A caught syscall back at the user instruction after it. */
  | { kind: 'syscall-return'; nr: number; ret: number }
  /** The instruction that just ran accessed a watched location (addr: the watchpoint's). */
  | { kind: 'watch'; type: WatchType; addr: number }
  /** Execution reached a breakpoint the debugger set as software (Z0) or hardware (Z1). */
  | { kind: 'breakpoint'; type: 'sw' | 'hw'; addr: number }
  | { kind: 'step' }
  | { kind: 'interrupt' }
  /** Every task sleeps in a host call; run again in about ms. */
  | { kind: 'blocked'; ms: number }
  /** A traced task forked (fork, or clone of a new process): child is the new task's tid, held stopped for the debugger. */
  | { kind: 'fork'; child: number }
  /** A traced task vforked: child is the new task's tid, held stopped; the parent waits until the child execs or exits. */
  | { kind: 'vfork'; child: number }
  /** A traced vfork parent goes on: its child has exec'd or exited. */
  | { kind: 'vfork-done' }
  /** A traced task made a thread (a debugger asked for thread events: QThreadEvents): child is its tid; the stop is the new thread's. */
  | { kind: 'thread-created'; child: number }
  /** A thread of a traced process ended while its process lives on (QThreadEvents): its tid and exit code. */
  | { kind: 'thread-exit'; code: number }
  /** A traced task exec'd: path is the new program's guest path. */
  | { kind: 'exec'; path: string }
  /**
   * A process a debugger traces ended while others run on: its exit code or
   * terminating signal; last when no traced task is left (the others run free).
   */
  | { kind: 'process-exit'; pid: number; code: number | null; signal: number | null; last: boolean }
) & {
  /** The task it happened in (the first process's for the end of the program); unset until the machine returns it. */
  tid?: number;
};

const RANK: Record<Stop['kind'], number> = {
  exited: 1,
  killed: 1,
  signal: 2,
  'process-exit': 2,
  'syscall-entry': 3,
  'syscall-return': 3,
  fork: 3,
  vfork: 3,
  'vfork-done': 3,
  exec: 3,
  'thread-created': 3,
  'thread-exit': 3,
  watch: 4,
  breakpoint: 5,
  step: 6,
  interrupt: 7,
  blocked: 8,
};

/** The stop to keep when b arrives while a is pending. */
export function morePressing(a: Stop | null, b: Stop): Stop {
  return a === null || RANK[b.kind] < RANK[a.kind] ? b : a;
}

/** The program has ended with this stop. */
export function isEnd(s: Stop | null): s is Extract<Stop, { kind: 'exited' | 'killed' }> {
  return s !== null && (s.kind === 'exited' || s.kind === 'killed');
}
