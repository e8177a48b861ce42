/**
 * The futex hash table: the tasks waiting on a futex word, keyed as Linux's
 * get_futex_key keys them. A private futex (FUTEX_PRIVATE_FLAG, or any
 * futex in a private mapping) is (address space, address); a shared one in
 * a MAP_SHARED page is (that page's bytes, offset), so that two processes
 * mapping the page at different addresses meet on the same word.
 *
 * A waiter stays queued until a wake (or requeue then wake) takes it, its
 * wait times out, a signal interrupts it, or its task ends. Wakes take the
 * waiters in the order they queued (Linux's plist for SCHED_OTHER tasks of
 * one priority is FIFO), which keeps a run deterministic.
 *
 * Also here, what a thread's exit does to futexes (mm_release): the
 * clear_child_tid word zeroed and woken (pthread_join waits on it), and the
 * robust list walked (exit_robust_list: a mutex the thread held is marked
 * FUTEX_OWNER_DIED and one waiter woken).
 */
import { PAGE_SIZE, type Memory } from '../cpu/memory.js';
import { read32, write32 } from './sys/util.js';

/** Where a futex word is, as get_futex_key says it: an owner object and an offset in it. */
export interface FutexKey {
  readonly owner: object;
  readonly off: number;
}

/** A queued waiter. */
export interface FutexWaiter {
  key: FutexKey;
  /** FUTEX_WAIT_BITSET's bitset (FUTEX_WAIT: all ones). */
  readonly bitset: number;
  /** A wake took the waiter off the queue (data, not a callback: a snapshot of the machine clones it as it is). */
  woken: boolean;
}

export const FUTEX_WAITERS = 0x80000000 | 0, FUTEX_OWNER_DIED = 0x40000000, FUTEX_TID_MASK = 0x3fffffff;
export const FUTEX_BITSET_MATCH_ANY = 0xffffffff | 0;

/** The key of the futex word at addr in mem (shared: the caller did not say FUTEX_PRIVATE_FLAG). */
export function futexKey(mem: Memory, addr: number, shared: boolean): FutexKey {
  if (shared) {
    const page = mem.pageAt(addr);
    if (page?.shared) return { owner: page.u8.buffer, off: addr % PAGE_SIZE };
  }
  return { owner: mem, off: addr };
}

function same(a: FutexKey, b: FutexKey): boolean {
  return a.owner === b.owner && a.off === b.off;
}

export class FutexTable {
  /** Every waiter, in the order it queued. */
  private queue: FutexWaiter[] = [];

  enqueue(key: FutexKey, bitset: number): FutexWaiter {
    const w: FutexWaiter = { key, bitset, woken: false };
    this.queue.push(w);
    return w;
  }

  /** Take w off the queue (its wait ended without a wake); false if a wake had taken it already. */
  remove(w: FutexWaiter): boolean {
    const at = this.queue.indexOf(w);
    if (at < 0) return false;
    this.queue.splice(at, 1);
    return true;
  }

  /** Wake up to n waiters on key whose bitset meets bitset; how many were woken. */
  wake(key: FutexKey, n: number, bitset = FUTEX_BITSET_MATCH_ANY): number {
    let woken = 0;
    for (let i = 0; i < this.queue.length && woken < n; ) {
      const w = this.queue[i];
      if (same(w.key, key) && (w.bitset & bitset) !== 0) {
        this.queue.splice(i, 1);
        woken++;
        w.woken = true;
      } else i++;
    }
    return woken;
  }

  /** FUTEX_REQUEUE: wake up to nWake waiters on from, move up to nMove of the rest to to; woken + moved. */
  requeue(from: FutexKey, to: FutexKey, nWake: number, nMove: number): number {
    const woken = this.wake(from, nWake);
    let moved = 0;
    for (const w of this.queue) {
      if (moved >= nMove) break;
      if (same(w.key, from)) {
        w.key = to;
        moved++;
      }
    }
    return woken + moved;
  }

  /** Waiters queued on key (FUTEX_LOCK_PI's hand-off: are there more?). */
  count(key: FutexKey): number {
    let n = 0;
    for (const w of this.queue) if (same(w.key, key)) n++;
    return n;
  }
}

/**
 * exit_robust_list: each futex of the dying thread's robust list (and the
 * one its list_op_pending names) that it still owns gets FUTEX_OWNER_DIED,
 * and, if it has waiters, one of them is woken. head: the robust_list_head
 * (list, futex_offset, list_op_pending). A bad pointer ends the walk, as in
 * Linux; so does a list longer than ROBUST_LIST_LIMIT.
 */
export function exitRobustList(mem: Memory, table: FutexTable, head: number, tid: number): void {
  const ROBUST_LIST_LIMIT = 2048;
  const rd64 = (a: number): number => read32(mem, a + 4) * 4294967296 + (read32(mem, a) >>> 0);
  const death = (entry: number, offset: number): void => {
    const addr = entry + offset;
    if (addr % 4 !== 0) return;
    const v = read32(mem, addr);
    if ((v & FUTEX_TID_MASK) !== tid) return;
    write32(mem, addr, (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED);
    if (v & FUTEX_WAITERS) table.wake(futexKey(mem, addr, true), 1);
  };
  try {
    // the low bit of an entry marks a PI futex; the address is the rest
    let entry = rd64(head);
    const offset = (read32(mem, head + 12) * 4294967296 + (read32(mem, head + 8) >>> 0)) | 0;
    const pending = rd64(head + 16);
    for (let n = 0; entry !== head && n < ROBUST_LIST_LIMIT; n++) {
      const e = entry - (entry % 2);
      if (e === 0) break;
      const next = rd64(e);
      if (e !== pending - (pending % 2)) death(e, offset);
      entry = next;
    }
    if (pending !== 0) death(pending - (pending % 2), offset);
  } catch {
    /* a bad pointer: the walk ends, as Linux's fetch_robust_entry failing */
  }
}

/** mm_release's clear_child_tid: the word zeroed and one waiter woken (pthread_join), if it can be written. */
export function clearChildTid(mem: Memory, table: FutexTable, addr: number): void {
  try {
    write32(mem, addr, 0);
  } catch {
    return; // not writable: Linux ignores the fault too
  }
  table.wake(futexKey(mem, addr, true), 1);
}
