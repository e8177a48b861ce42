/**
 * Snapshots of the whole machine, for reverse execution (src/gdb/target/
 * history.ts): every task and address space, fd tables and open files, the
 * scheduler, the timer, the guest kernel's pages, futexes, pending signals,
 * and where the host log stood. A snapshot is a structural clone of the
 * Machine's object graph (src/cpu/clone.ts): going back restores a clone of
 * the nearest snapshot (so that the snapshot stays usable) and replays the
 * host log from where it stood.
 *
 * Why a clone of the object graph rather than a save routine per class: the
 * machine's state is spread over some forty kernel classes (files, pipes,
 * sockets, epoll, timers ...) and a routine per class would have to follow
 * every field added to any of them; the generic clone follows them by
 * itself, and fails loudly where it cannot (a closure holding state: such
 * fields were made data, the rest are rebuilt by Machine.rewire).
 *
 * Guest memory is not copied: pages are cloned as Page objects over the same
 * bytes, frozen on both sides, and whichever side writes a page first gives
 * it bytes of its own (Page.thaw), as fork's copy-on-write does between two
 * address spaces; each clone keeps its own page-table sharing and page
 * accounting, so a restored machine counts its pages as the original did.
 * Decoded blocks, compiled code and TLBs are caches: a clone starts without
 * them (the JIT is exact: test/gdb/reverse.test.ts checks a restored run
 * against the original instant by instant).
 *
 * Live host resources are never cloned: a restored machine answers every
 * host question from the log (HostLog.replayFrom) up to the log's end.
 */
import { Cloner } from '../cpu/clone.js';
import { CPU } from '../cpu/cpu.js';
import { PAGE_SIZE } from '../cpu/memory.js';
import { MM } from '../kernel/mm.js';
import type { HostLog } from '../kernel/hostlog.js';
import type { Machine } from './machine.js';

export interface Snapshot {
  /** The frozen clone (never run: restore() clones it again). */
  readonly machine: Machine;
  /** The instant it was taken (guest instructions since the start). */
  readonly icount: number;
  /** The host log's next answer then. */
  readonly hostCursor: number;
  /** Objects cloned, and guest pages the snapshot holds (shared with the machine until one side writes them). */
  readonly objects: number;
  readonly pages: number;
  /** Bytes the clone copied (registers, MAP_SHARED pages, file data): held by the snapshot alone. */
  readonly copied: number;
  /** The machine's count of thawed pages then (PhysMem.thawed): the pages thawed after it are the ones this snapshot holds alone. */
  readonly thawed: number;
}

/** A snapshot of m as it stands (between two runs). */
export function takeSnapshot(m: Machine): Snapshot {
  const c = new Cloner('snapshot');
  const copy = c.clone(m);
  c.finish();
  copy.rewire(null, { cpus: c.copiesOf(CPU), mms: c.copiesOf(MM) });
  c.check();
  return { machine: copy, icount: m.icount, hostCursor: m.opts.hostLog?.position ?? 0, objects: c.size, pages: pagesOf(m), copied: c.copied, thawed: m.os.physmem.thawed };
}

/** A machine that stands where snapshot s was taken, answering the host's questions from log (positioned at s.hostCursor). */
export function restoreSnapshot(s: Snapshot, log: HostLog): Machine {
  const c = new Cloner('restore');
  const m = c.clone(s.machine);
  c.finish();
  m.rewire(log, { cpus: c.copiesOf(CPU), mms: c.copiesOf(MM) });
  c.check();
  return m;
}

/**
 * Did nothing write [addr, addr+len) between two states of one history
 * (snapshots' machines, or the running one)? True only when every address
 * space, the same processes on both sides, holds the very same bytes for
 * each page of it (a write to a page a snapshot shares gives it bytes of its
 * own); false when it cannot tell (reverse-continue then replays to look).
 */
export function unwrittenBetween(a: Machine, b: Machine, addr: number, len: number): boolean {
  if (a.os.procs.size !== b.os.procs.size) return false;
  const first = Math.floor(addr / PAGE_SIZE), last = Math.floor((addr + Math.max(len, 1) - 1) / PAGE_SIZE);
  for (const [pid, p] of a.os.procs) {
    const q = b.os.procs.get(pid);
    if (q === undefined) return false;
    for (let pn = first; pn <= last; pn++) if (p.mem.bytesOf(pn) !== q.mem.bytesOf(pn)) return false;
  }
  return true;
}

/** Guest pages the machine holds: every address space's, and the guest kernel's. */
function pagesOf(m: Machine): number {
  const seen = new Set<object>();
  let n = m.os.kernelPages.pageCount;
  for (const p of m.os.procs.values()) {
    if (seen.has(p.mem)) continue;
    seen.add(p.mem);
    n += p.mem.pageCount;
  }
  return n;
}
