/**
 * What a stretch of history ran, noted while it runs forward, so that
 * reverse execution (src/gdb/target/history.ts) passes over a stretch that
 * cannot hold the stop it looks for without replaying it. Every note is a
 * superset of what ran, never less: a stretch is skipped only when it surely
 * holds no stop.
 *
 * - the code, as [start, end) pairs of the blocks run (RanLog, src/cpu/run.ts:
 *   a block counts whole, and so does one looked up for a debugger): a
 *   breakpoint outside them cannot be hit;
 * - the syscall numbers a stop was looked for (Machine.caught, at every entry
 *   and at the return of a caught call): `catch syscall` of another number
 *   cannot stop;
 * - the pages read (Memory.reads, at every fill of a TLB for reads; the TLBs
 *   are emptied at each note, so a page read from then on is filled, and
 *   noted, at least once): rwatch and awatch elsewhere cannot stop.
 *
 * Nothing is noted until the first take: a machine not recorded pays nothing.
 */
import { RanLog, type BlockCache } from '../cpu/run.js';
import type { Memory } from '../cpu/memory.js';

export interface StretchNote {
  /** The [start, end) of every block run, flattened. */
  code: number[];
  /** The syscall numbers a stop was looked for. */
  syscalls: number[];
  /** The page numbers read, in any address space. */
  reads: number[];
}

export class StretchNotes {
  private ran: RanLog | null = null;
  private syscalls: Set<number> | null = null;
  private reads: Set<number> | null = null;

  /** A syscall stop was looked for under nr. */
  syscall(nr: number): void {
    this.syscalls?.add(nr);
  }

  /** An address space notes here from now on: a new one (fork, exec), or a clone's (Memory's CLONE leaves the note out). */
  attach(mem: Memory, cache?: BlockCache): void {
    if (this.reads !== null) mem.reads = this.reads;
    if (cache !== undefined) cache.ran = this.ran;
  }

  /** What ran since the last take (null at the first: nothing was noted), and a fresh note from here in every address space. */
  take(spaces: Iterable<[Memory, BlockCache | undefined]>): StretchNote | null {
    const first = this.ran === null;
    const ran = (this.ran ??= new RanLog());
    const syscalls = (this.syscalls ??= new Set());
    const reads = (this.reads ??= new Set());
    for (const [mem, cache] of spaces) {
      mem.reads = reads;
      mem.flushTlb();
      if (cache === undefined) continue;
      cache.ran = ran;
      cache.relink(); // links between blocks pass by the lookup that notes them: look each up once more
    }
    const note: StretchNote = { code: ran.take(), syscalls: [...syscalls], reads: [...reads] };
    syscalls.clear();
    reads.clear();
    return first ? null : note;
  }
}
