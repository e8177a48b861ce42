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
 */
import type { BreakpointOps, WatchType } from '../target.js';
import type { GuestProcess } from './port.js';

export class Breakpoints implements BreakpointOps {
  private readonly sw = new Set<number>();
  private readonly hwSet = new Set<number>();
  private appliedBps = '';

  constructor(private readonly proc: () => GuestProcess) {}

  addSw(addr: number): boolean {
    this.sw.add(addr);
    return true;
  }

  removeSw(addr: number): boolean {
    this.sw.delete(addr);
    return true;
  }

  readonly hw = {
    add: (addr: number): boolean => (this.hwSet.add(addr), true),
    remove: (addr: number): boolean => (this.hwSet.delete(addr), true),
  };

  readonly watch = {
    add: (type: WatchType, addr: number, len: number): boolean => this.proc().exec.addWatch(type, addr, len),
    remove: (type: WatchType, addr: number, len: number): boolean => (this.proc().exec.removeWatch(type, addr, len), true),
  };

  /** Forget everything (the debugger detached, or a new process started). */
  clear(): void {
    this.sw.clear();
    this.hwSet.clear();
    this.appliedBps = '';
  }

  /** The process changed: nothing of the old one is applied to it. */
  reset(): void {
    this.clear();
  }

  /** Hand the current sets to the machine (before a resume), if they changed. */
  apply(): void {
    const exec = this.proc().exec;
    const key = [...this.sw].sort((x, y) => x - y).join(',') + '/' + [...this.hwSet].sort((x, y) => x - y).join(',');
    if (key === this.appliedBps) return;
    this.appliedBps = key;
    exec.setBreakpoints(this.sw, this.hwSet);
  }
}
