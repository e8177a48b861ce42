/**
 * Breakpoints (Z0, Z1) and watchpoints (Z2 write, Z3 read, Z4 access).
 * Breakpoints never write guest memory: the machine checks the address
 * before the instruction there runs, so a memory read shows the original
 * bytes. Watchpoints watch pages: an access to a watched page is noted with
 * the extent the instruction may touch, and after the instruction the noted
 * accesses are matched against the watched ranges (a write watchpoint
 * reports only a change of value, as gdb expects of hardware ones).
 *
 * gdb re-inserts the same set before every resume; the sets are handed to
 * the machine only when they changed (apply()).
 */
import type { BreakpointOps, StopReason, WatchType } from '../target.js';
import { WATCH_READ, WATCH_WRITE, type GuestProcess } from './port.js';

/** A watchpoint covers at most a page (gdb splits larger ones over several). */
const MAX_WATCH_LEN = 4096;
const PAGE = 4096;

interface Watch {
  type: WatchType;
  addr: number;
  len: number;
  /** Bytes at insertion (or the last stop): a write watchpoint reports a change. */
  old: Uint8Array;
}

export class Breakpoints implements BreakpointOps {
  private readonly sw = new Set<number>();
  private readonly hwSet = new Set<number>();
  private watches: Watch[] = [];
  private appliedBps = '';
  private appliedWatches = '';
  /** Guest accesses to watched ranges since the last check: [addr, len, write]. */
  private readonly hits: [number, number, boolean][] = [];

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
    add: (type: WatchType, addr: number, len: number): boolean => {
      if (len <= 0 || len > MAX_WATCH_LEN) return false;
      const old = this.read(addr, len);
      if (old.length !== len) return false;
      this.watches = this.watches.filter((w) => !(w.type === type && w.addr === addr && w.len === len));
      this.watches.push({ type, addr, len, old });
      return true;
    },
    remove: (type: WatchType, addr: number, len: number): boolean => {
      this.watches = this.watches.filter((w) => !(w.type === type && w.addr === addr && w.len === len));
      return true;
    },
  };

  /** The stop reason for a breakpoint the machine stopped at. */
  stopAt(addr: number): StopReason {
    return this.hwSet.has(addr) && !this.sw.has(addr) ? { kind: 'hwbreak', addr } : { kind: 'swbreak', addr };
  }

  /** Forget everything (the debugger detached, or a new process started). */
  clear(): void {
    this.sw.clear();
    this.hwSet.clear();
    this.watches = [];
    this.hits.length = 0;
  }

  /** The process changed: nothing of the old one is applied to it. */
  reset(): void {
    this.clear();
    this.appliedBps = '';
    this.appliedWatches = '';
  }

  /** Hand the current sets to the machine (before a resume), if they changed. */
  apply(): void {
    const exec = this.proc().exec;
    const all = [...new Set([...this.sw, ...this.hwSet])].sort((x, y) => x - y);
    const key = all.join(',');
    if (key !== this.appliedBps) {
      this.appliedBps = key;
      exec.setBreakpoints(all);
    }
    const wkey = this.watches.map((w) => `${w.type}:${w.addr}:${w.len}`).join(',');
    if (wkey === this.appliedWatches) return;
    this.appliedWatches = wkey;
    if (this.watches.length === 0) return exec.watch(null, () => {});
    const pages = new Map<number, number>();
    for (const w of this.watches) {
      const bits = w.type === 'watch' ? WATCH_WRITE : w.type === 'rwatch' ? WATCH_READ : WATCH_READ | WATCH_WRITE;
      for (let pn = Math.floor(w.addr / PAGE); pn <= Math.floor((w.addr + w.len - 1) / PAGE); pn++) pages.set(pn, (pages.get(pn) ?? 0) | bits);
    }
    exec.watch(pages, (addr, write) => this.onAccess(addr, write));
  }

  /** A resume starts: accesses before it do not count. */
  startResume(): void {
    this.hits.length = 0;
  }

  /** Were watched ranges possibly touched since the last check? */
  get touched(): boolean {
    return this.hits.length > 0;
  }

  /** A guest access touched a watched page: note it if it may overlap a watchpoint, and stop after this instruction. */
  private onAccess(addr: number, write: boolean): void {
    const exec = this.proc().exec;
    const len = exec.accessLength();
    for (const w of this.watches) {
      if (write ? w.type === 'rwatch' : w.type === 'watch') continue;
      if (addr < w.addr + w.len && addr + len > w.addr) {
        if (this.hits.length < 64) this.hits.push([addr, len, write]);
        exec.requestStop();
        return;
      }
    }
  }

  /** Decide which watchpoint (if any) the noted accesses hit; refresh the remembered values. */
  checkWatches(): StopReason | null {
    const hits = this.hits;
    let found: StopReason | null = null;
    for (const w of this.watches) {
      const now = this.read(w.addr, w.len);
      const changed = now.length === w.len && now.some((b, k) => b !== w.old[k]);
      const touched = (write: boolean | null) => hits.some(([a, l, wr]) => (write === null || wr === write) && a < w.addr + w.len && a + l > w.addr);
      let hit: boolean;
      if (w.type === 'watch') hit = changed && touched(true);
      else if (w.type === 'rwatch') hit = touched(false);
      else hit = touched(null) || changed;
      if (hit && !found) found = { kind: 'watch', type: w.type, addr: w.addr };
      w.old = now;
    }
    hits.length = 0;
    return found;
  }

  private read(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    return out.subarray(0, this.proc().mem.peek(addr, out));
  }
}
