/**
 * Breakpoints (Z0, Z1) and watchpoints (Z2 write, Z3 read, Z4 access), as
 * the debugger set them. Breakpoints never write guest memory: the machine
 * checks the address before the instruction there runs, so a memory read
 * shows the original bytes, and it reports which kind stopped it. The
 * machine watches the watchpoints (src/machine/watch.ts) and reports each
 * hit after the instruction that made it.
 *
 * gdb re-inserts the same set before every resume; the breakpoints are
 * handed to the machine only when they changed (apply()).
 *
 * Following several processes, each has its own set, as each real process
 * has its own memory: a Z packet is for the process of the selected thread
 * (gdb removes a parent's breakpoints from a forked child it lets go with
 * the child selected, and they must stay in the parent). A forked child
 * starts with its parent's set, as its memory starts as a copy.
 */
import type { BreakpointOps, WatchType } from '../target.js';
import type { GuestProcess } from './port.js';

/** One process's breakpoints. */
class BpSet {
  readonly sw = new Set<number>();
  readonly hw = new Set<number>();
  applied = '';
  /** The sets may differ from what was applied (gdb re-inserts the same breakpoints before every resume: no change). */
  changed = true;
  constructor(from?: BpSet) {
    if (from) {
      for (const a of from.sw) this.sw.add(a);
      for (const a of from.hw) this.hw.add(a);
    }
  }
  add(set: Set<number>, addr: number): void {
    if (set.has(addr)) return;
    set.add(addr);
    this.changed = true;
  }
  remove(set: Set<number>, addr: number): void {
    if (set.delete(addr)) this.changed = true;
  }
  clear(): void {
    this.sw.clear();
    this.hw.clear();
    this.changed = true;
  }
  key(): string {
    return [...this.sw].sort((x, y) => x - y).join(',') + '/' + [...this.hw].sort((x, y) => x - y).join(',');
  }
}

export class Breakpoints implements BreakpointOps {
  /** By pid; the program's first process is the one a client that follows nothing sets. */
  private readonly sets = new Map<number, BpSet>();

  constructor(private readonly proc: () => GuestProcess) {}

  /** The set of the selected thread's process (a new one starts as a copy of the first process's). */
  private set(): BpSet {
    const p = this.proc();
    const pid = p.selected()?.pid ?? p.pid;
    let s = this.sets.get(pid);
    if (!s) {
      s = new BpSet(this.sets.get(p.pid));
      this.sets.set(pid, s);
    }
    return s;
  }

  addSw(addr: number): boolean {
    const s = this.set();
    s.add(s.sw, addr);
    return true;
  }

  removeSw(addr: number): boolean {
    const s = this.set();
    s.remove(s.sw, addr);
    return true;
  }

  readonly hw = {
    add: (addr: number): boolean => {
      const s = this.set();
      s.add(s.hw, addr);
      return true;
    },
    remove: (addr: number): boolean => {
      const s = this.set();
      s.remove(s.hw, addr);
      return true;
    },
  };

  readonly watch = {
    add: (type: WatchType, addr: number, len: number): boolean => this.proc().exec.addWatch(type, addr, len),
    remove: (type: WatchType, addr: number, len: number): boolean => (this.proc().exec.removeWatch(type, addr, len), true),
  };

  /** Forget everything (the debugger detached, or a new process started). */
  clear(): void {
    // emptied, not dropped: the next apply() takes them out of the machine
    for (const s of this.sets.values()) s.clear();
  }

  /** The process changed: nothing of the old one is applied to it. */
  reset(): void {
    this.sets.clear();
  }

  /** A process exec'd (its breakpoints went with its old image; gdb inserts the new ones). */
  execd(tid: number | undefined): void {
    const p = this.proc();
    const pid = tid === undefined ? p.pid : (p.tasks().find((t) => t.tid === tid)?.pid ?? tid);
    const s = this.sets.get(pid);
    if (s) {
      s.clear();
      s.applied = '';
    }
  }

  /** A followed process ended. */
  gone(pid: number): void {
    if (pid !== this.proc().pid) this.sets.delete(pid);
  }

  /** Hand the sets to the machine (before a resume), those that changed. */
  apply(): void {
    const p = this.proc();
    const exec = p.exec;
    const single = this.sets.size <= 1 && [...this.sets.keys()].every((pid) => pid === p.pid);
    for (const [pid, s] of this.sets) {
      if (!s.changed) continue;
      s.changed = false;
      const key = s.key();
      if (key === s.applied) continue;
      s.applied = key;
      // following one process: its set is every traced task's (vfork's child shares its memory)
      if (single) exec.setBreakpoints(s.sw, s.hw);
      else exec.setProcessBreakpoints(pid, s.sw, s.hw);
    }
  }
}
