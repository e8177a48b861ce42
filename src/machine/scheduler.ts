/**
 * Which task runs next. One emulator runs every process of the machine,
 * deterministically: round robin in tid order, a task in user code
 * preempted after QUANTUM guest instructions (the same program with the
 * same input runs the same schedule), a task switched out only at a safe
 * point (the machine asks the entry model). A task whose syscall cannot
 * complete yet is parked (Task.parked) and retried when its turn comes; a
 * turn that ends parked with nothing done counts as stalled, and when every
 * task that may run has stalled since the last progress, the machine waits
 * on the host for the shortest of their waits (or, with a debugger, stops
 * with 'blocked' so the stub keeps reading).
 */

/** Guest instructions a task runs before the next one's turn. */
export const QUANTUM = 100_000;

/** What the scheduler reads of a task. */
export interface SchedTask {
  readonly tid: number;
  readonly dead: boolean;
  parked: number | null;
  /** Kept stopped by a debugger. */
  readonly held: boolean;
}

export class Scheduler<T extends SchedTask> {
  /** Instructions left of the running task's quantum. */
  quantum = QUANTUM;
  private stalled = 0;
  private shortest = Infinity;

  /** source.tasks: the live tasks, in tid order (the kernel's list: data, so that a clone of the machine clones it). */
  constructor(private readonly source: { readonly tasks: readonly T[] }) {}

  /** The task whose turn follows `cur`'s: the next in tid order that may run (wrapping round), or null if none. */
  next(cur: T): T | null {
    const ts = this.source.tasks;
    let first: T | null = null;
    for (const t of ts) {
      if (t.dead || t.held) continue;
      if (t.tid > cur.tid) return t;
      first ??= t;
    }
    return first;
  }

  /** A new turn begins. */
  turn(): void {
    this.quantum = QUANTUM;
  }

  /** Something happened (instructions ran, a syscall completed): the stalled round starts over. */
  progress(): void {
    this.stalled = 0;
    this.shortest = Infinity;
  }

  /** A turn ended parked with nothing done; the task may be retried within ms. */
  stall(ms: number): void {
    this.stalled++;
    this.shortest = Math.min(this.shortest, ms);
  }

  /**
   * Every task that may run has stalled since the last progress: the
   * shortest of their waits (Infinity: only one of them could end another's
   * wait: a deadlock), else null.
   */
  allStalled(): number | null {
    const n = this.source.tasks.filter((t) => !t.dead && !t.held).length;
    if (n === 0 || this.stalled < n) return null;
    return this.shortest;
  }
}
