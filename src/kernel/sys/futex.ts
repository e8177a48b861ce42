/**
 * futex(2): the waits and wakes that glibc's, musl's and Go's locks,
 * condition variables, joins and barriers are built on (the table of
 * waiters is ../futex.ts).
 *
 * A wait parks its task: the syscall throws WouldBlock and is retried at
 * the task's turns (as every syscall that waits here is), and the retry
 * finds the task's `futexWait` to learn what happened meanwhile: a wake
 * (0), a timeout (ETIMEDOUT), a signal (EINTR), or nothing yet (park
 * again). The value is compared, and the waiter queued, only on the first
 * try, as Linux compares and queues under the hash bucket's lock.
 */
import { EAGAIN, EDEADLK, EINTR, EINVAL, ENOSYS, EPERM, ETIMEDOUT, SysError, WouldBlock } from '../errno.js';
import { FUTEX_BITSET_MATCH_ANY, FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS, futexKey, type FutexKey } from '../futex.js';
import type { Process } from '../process.js';
import type { HandlerTable } from './table.js';
import { type SyscallArgs, monoNs, read32, readTimespec, realNs, write32 } from './util.js';

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5, FUTEX_LOCK_PI = 6;
const FUTEX_UNLOCK_PI = 7, FUTEX_TRYLOCK_PI = 8, FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10, FUTEX_LOCK_PI2 = 13;
const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;
const INT_MAX = 0x7fffffff;

/** The longest a parked wait lets the host sleep before its retry looks at the clock again. */
function msUntil(deadline: bigint | null): number {
  if (deadline === null) return Infinity;
  const left = deadline - monoNs();
  return left <= 0n ? 0 : Number((left + 999999n) / 1000000n);
}

/**
 * Wait on key while the word at uaddr holds val (checked by the caller on the
 * first try), until deadline (monotonic ns, null: none); PI: the retry of
 * FUTEX_LOCK_PI (the lock may now be free).
 */
function wait(p: Process, key: FutexKey, bitset: number, deadline: bigint | null): number {
  const t = p.task;
  const w = t.futexWait;
  if (w !== null) {
    // a retry: what happened since the task parked
    if (w.waiter.woken) {
      t.futexWait = null;
      return 0;
    }
    p.pollTimers();
    if (p.hasInterruptingSignal()) {
      p.kernel.futexes.remove(w.waiter);
      t.futexWait = null;
      // futex_wait: -ERESTARTSYS without a timeout (restarted under SA_RESTART), else restart_block's
      p.interrupted = w.deadline === null ? 'sys' : 'block';
      throw new SysError(EINTR);
    }
    if (w.deadline !== null && monoNs() >= w.deadline) {
      p.kernel.futexes.remove(w.waiter);
      t.futexWait = null;
      throw new SysError(ETIMEDOUT);
    }
    throw new WouldBlock(Math.min(msUntil(w.deadline), p.timerWaitMs()));
  }
  if (deadline !== null && monoNs() >= deadline) throw new SysError(ETIMEDOUT);
  if (p.hasInterruptingSignal()) {
    p.interrupted = deadline === null ? 'sys' : 'block';
    throw new SysError(EINTR);
  }
  t.futexWait = { waiter: p.kernel.futexes.enqueue(key, bitset), deadline };
  throw new WouldBlock(Math.min(msUntil(deadline), p.timerWaitMs()));
}

/**
 * The deadline a wait's timeout names: relative for FUTEX_WAIT, absolute
 * for the others (on CLOCK_REALTIME with the flag). compat: an i386 futex
 * call's struct old_timespec32.
 */
function deadlineOf(p: Process, tmo: number, relative: boolean, realtime: boolean, compat: boolean): bigint | null {
  if (tmo === 0) return null;
  const [s, n] = compat ? [BigInt(p.mem.read32(tmo) | 0), BigInt(p.mem.read32(tmo + 4) | 0)] : readTimespec(p.mem, tmo);
  if (s < 0n || n < 0n || n > 999999999n) throw new SysError(EINVAL);
  const t = s * 1000000000n + n;
  if (relative) return monoNs() + t;
  return realtime ? monoNs() + (t - realNs()) : t;
}

/** FUTEX_WAKE_OP's operation on the second word: its old value, and whether the comparison holds. */
function wakeOp(p: Process, uaddr2: number, val3: number): boolean {
  const opn = (val3 >>> 28) & 7, cmp = (val3 >>> 24) & 15;
  let oparg = (val3 << 8) >> 20; // sign-extended 12 bits
  const cmparg = (val3 << 20) >> 20;
  if ((val3 >>> 28) & 8) {
    if (oparg < 0 || oparg > 31) throw new SysError(EINVAL);
    oparg = 1 << oparg;
  }
  const old = read32(p.mem, uaddr2) | 0;
  let nv: number;
  switch (opn) {
    case 0: nv = oparg; break;
    case 1: nv = old + oparg; break;
    case 2: nv = old | oparg; break;
    case 3: nv = old & ~oparg; break;
    case 4: nv = old ^ oparg; break;
    default: throw new SysError(ENOSYS);
  }
  if (cmp > 5) throw new SysError(ENOSYS);
  write32(p.mem, uaddr2, nv | 0);
  switch (cmp) {
    case 0: return old === cmparg;
    case 1: return old !== cmparg;
    case 2: return old < cmparg;
    case 3: return old <= cmparg;
    case 4: return old > cmparg;
    default: return old >= cmparg;
  }
}

/** A count argument (wake n, requeue n): Linux takes it as int; a negative one is EINVAL for requeues. */
function count(v: number): number {
  return v < 0 ? INT_MAX : v;
}

/** futex (compat: an i386 program's old futex call, whose timeouts are struct old_timespec32). */
export function doFutex(p: Process, a: SyscallArgs, compat = false): number {
  const uaddr = a.num(0), op = a.int(1), val = a.u32(2), tmo = a.num(3), uaddr2 = a.num(4), val3 = a.u32(5);
  const cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  const shared = (op & FUTEX_PRIVATE_FLAG) === 0;
  const realtime = (op & FUTEX_CLOCK_REALTIME) !== 0;
  if (realtime && cmd !== FUTEX_WAIT && cmd !== FUTEX_WAIT_BITSET && cmd !== FUTEX_LOCK_PI2) throw new SysError(ENOSYS);
  const table = p.kernel.futexes;
  const key = (addr: number): FutexKey => {
    if (addr % 4 !== 0) throw new SysError(EINVAL);
    return futexKey(p.mem, addr, shared);
  };
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      const bitset = cmd === FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : val3 | 0;
      if (bitset === 0) throw new SysError(EINVAL);
      const k = key(uaddr);
      if (p.task.futexWait === null) {
        const deadline = deadlineOf(p, tmo, cmd === FUTEX_WAIT, realtime, compat);
        if (read32(p.mem, uaddr) >>> 0 !== val) throw new SysError(EAGAIN);
        return wait(p, k, bitset, deadline);
      }
      return wait(p, k, bitset, null);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      const bitset = cmd === FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : val3 | 0;
      if (bitset === 0) throw new SysError(EINVAL);
      return table.wake(key(uaddr), count(a.int(2)), bitset);
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      const nWake = a.int(2), nMove = a.int(3);
      if (nWake < 0 || nMove < 0) throw new SysError(EINVAL);
      const from = key(uaddr), to = key(uaddr2);
      if (cmd === FUTEX_CMP_REQUEUE && read32(p.mem, uaddr) >>> 0 !== val3 >>> 0) throw new SysError(EAGAIN);
      return table.requeue(from, to, nWake, nMove);
    }
    case FUTEX_WAKE_OP: {
      const k1 = key(uaddr), k2 = key(uaddr2);
      const hit = wakeOp(p, uaddr2, val3);
      let n = table.wake(k1, count(a.int(2)));
      if (hit) n += table.wake(k2, count(a.int(3)));
      return n;
    }
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
    case FUTEX_TRYLOCK_PI:
      return lockPi(p, uaddr, key(uaddr), cmd === FUTEX_TRYLOCK_PI, cmd === FUTEX_LOCK_PI ? deadlineOf(p, tmo, false, true, compat) : deadlineOf(p, tmo, false, realtime, compat));
    case FUTEX_UNLOCK_PI: {
      const k = key(uaddr);
      const cur = read32(p.mem, uaddr) >>> 0;
      if ((cur & FUTEX_TID_MASK) !== p.tid) throw new SysError(EPERM);
      // hand the lock to the first waiter (it owns it when it runs), or free it
      write32(p.mem, uaddr, 0);
      if (table.count(k) > 0) table.wake(k, 1);
      return 0;
    }
  }
  throw new SysError(ENOSYS);
}

/**
 * FUTEX_LOCK_PI: take the lock word (the owner's tid) if it is free, else
 * mark it FUTEX_WAITERS and wait for its owner's FUTEX_UNLOCK_PI, then try
 * again. No priority inheritance: every task here has the same priority.
 */
function lockPi(p: Process, uaddr: number, k: FutexKey, tryOnly: boolean, deadline: bigint | null): number {
  const t = p.task;
  for (;;) {
    if (t.futexWait !== null) {
      // a retry: woken by the unlock (try the word again), or still waiting
      if (!t.futexWait.waiter.woken) return wait(p, k, FUTEX_BITSET_MATCH_ANY, null);
      t.futexWait = null;
    }
    const cur = read32(p.mem, uaddr) >>> 0;
    const owner = cur & FUTEX_TID_MASK;
    if (owner === 0) {
      const others = p.kernel.futexes.count(k) > 0 ? FUTEX_WAITERS : 0;
      write32(p.mem, uaddr, (cur & FUTEX_OWNER_DIED) | others | p.tid);
      return 0;
    }
    if (owner === p.tid) throw new SysError(EDEADLK);
    if (tryOnly) throw new SysError(EAGAIN);
    write32(p.mem, uaddr, cur | FUTEX_WAITERS);
    return wait(p, k, FUTEX_BITSET_MATCH_ANY, deadline);
  }
}

export function registerFutex(t: HandlerTable): void {
  t.on(202, (p, a) => doFutex(p, a), 'no priority inheritance (every task has one priority): FUTEX_LOCK_PI waits in queue order');
}
