/**
 * The readiness model every waiting call shares (poll, ppoll, select,
 * pselect6, epoll, and the blocking reads and writes of sockets, eventfd and
 * timerfd): what an open file is ready for now, in Linux's POLL* bits, and
 * how a task waits until that may have changed.
 *
 * A wait ends for one of three reasons: a signal, its deadline, or a chance
 * that readiness changed. Readiness changes when another task acts (a pipe
 * or socket peer, an eventfd writer: the task parks until the scheduler
 * retries it, WouldBlock(Infinity), and the machine's deadlock rule applies),
 * at a known time (a timerfd's expiry: `wakeAt`), or when the host acts (a
 * socket served by the host-sockets worker: `hostBacked`, looked at again
 * within HOST_POLL_MS, or, when the task runs alone and undebugged, a real
 * host wait that the worker ends as soon as something arrives).
 */
import { EAGAIN, EINTR, SysError } from './errno.js';
import { type OpenFile, O_NONBLOCK, O_PATH } from './fdtable.js';
import type { Process } from './process.js';
import { monoNs, sleepMs } from './sys/util.js';

export const POLLIN = 0x1, POLLPRI = 0x2, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
export const POLLRDNORM = 0x40, POLLRDBAND = 0x80, POLLWRNORM = 0x100, POLLWRBAND = 0x200, POLLMSG = 0x400, POLLRDHUP = 0x2000;

/** How often a wait on host-backed files looks again when it may not block the host (ms). */
export const HOST_POLL_MS = 5;

/**
 * A host wait that ends early when the host side has news (the host-sockets
 * worker registers its event counter here when it starts): null until then.
 */
let hostWaiter: ((ms: number) => void) | null = null;

export function setHostWaiter(w: (ms: number) => void): void {
  hostWaiter = w;
}

/** The events an open file is ready for now (f_op->poll). Files without a poll method are always ready, as Linux's DEFAULT_POLLMASK. */
export function readiness(f: OpenFile): number {
  if (f.ops) return f.ops.poll();
  if (f.kind === 'pipe') {
    const pp = f.pipe!;
    if (f.readable) return (pp.size > 0 ? POLLIN | POLLRDNORM : 0) | (pp.writers === 0 ? POLLHUP : 0);
    if (pp.readers === 0) return POLLERR;
    return pp.full ? 0 : POLLOUT | POLLWRNORM;
  }
  if (f.flags & O_PATH) return POLLNVAL;
  return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
}

/** What may end a wait on these files other than a signal or the deadline. */
export interface Wake {
  /** Earliest time one of them changes by itself (ns, monotonic), or null. */
  at: bigint | null;
  /** The host may make one of them ready. */
  host: boolean;
}

/** The wake-ups of a set of files. */
export function wakeOf(files: Iterable<OpenFile>): Wake {
  const w: Wake = { at: null, host: false };
  for (const f of files) {
    if (!f.ops) continue;
    if (f.ops.hostBacked) w.host = true;
    const t = f.ops.wakeAt?.() ?? null;
    if (t !== null && (w.at === null || t < w.at)) w.at = t;
  }
  return w;
}

export type WaitOutcome = 'signal' | 'timeout' | 'again' | 'deadlock';

/**
 * Wait until readiness may have changed: 'again' (look again), 'signal' (an
 * interrupting signal is pending), 'timeout' (deadline passed; deadline is
 * monotonic ns, null = none, kept across the retries of a parked syscall),
 * or 'deadlock' (nothing but another task could end it and every task
 * waits: the caller gives up as Linux's caller would never have to).
 */
export function waitEvent(p: Process, deadline: bigint | null, wake: Wake): WaitOutcome {
  deadline = p.retryDeadline(deadline);
  p.pollTimers();
  if (p.hasInterruptingSignal()) return 'signal';
  const now = monoNs();
  if (deadline !== null && now >= deadline) return 'timeout';
  let until = deadline;
  if (wake.at !== null && (until === null || wake.at < until)) until = wake.at;
  if (wake.host) {
    const h = now + BigInt(HOST_POLL_MS * (p.cooperative ? 1 : 200)) * 1000000n;
    if (until === null || h < until) until = h;
  }
  if (until === null) {
    // only another task (or a signal, an ITIMER_REAL expiry) can end it
    const r = p.waitForSignal(null);
    return r === 'timeout' ? 'again' : r;
  }
  const real = p.itimers[0].deadline;
  if (real !== 0n && real < until) until = real;
  const ms = Math.max(1, Number((until - now + 999999n) / 1000000n));
  if (p.cooperative) p.sleep(ms, deadline); // parks the task: the syscall is retried
  else if (wake.host && hostWaiter) hostWaiter(Math.min(ms, 1000));
  else sleepMs(Math.min(ms, 1000));
  return 'again';
}

/**
 * A read or write on f that must wait until ready() (a socket's data, an
 * eventfd's count): O_NONBLOCK (or MSG_DONTWAIT: nonblock) answers EAGAIN,
 * a signal EINTR (restartable, as ERESTARTSYS), and a wait that nothing can
 * ever end gives up with EAGAIN and a warning rather than hang the machine.
 */
export function waitFor(p: Process, f: OpenFile, ready: () => boolean, what: string, nonblock = false, deadline: bigint | null = null): void {
  while (!ready()) {
    if (nonblock || f.flags & O_NONBLOCK) throw new SysError(EAGAIN);
    const r = waitEvent(p, deadline, wakeOf([f]));
    if (r === 'signal') {
      p.interrupted = 'sys';
      throw new SysError(EINTR);
    }
    if (r === 'timeout') throw new SysError(EAGAIN);
    if (r === 'deadlock') {
      p.warnOnce(`entrystub: ${what} waits for something no process can do; returning EAGAIN`);
      throw new SysError(EAGAIN);
    }
  }
}
