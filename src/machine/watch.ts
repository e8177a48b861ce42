/**
 * Debugger watchpoints (gdb's Z2/Z3/Z4): Memory keeps watched pages out of
 * its TLBs, so every guest access to them reaches onAccess, and a hit stops
 * right after the instruction that made it. Which watchpoint was hit is
 * decided after that instruction, from the accesses and the bytes' old and
 * new values.
 *
 * How a hit stops after its instruction: with only write watchpoints (gdb's
 * `watch`), blocks stay whole and a write hit ends its block after the
 * instruction as a store into code does (cpu.smc: the interpreter and the
 * compiled blocks check it after every store), so a program runs at full
 * speed between hits (reverse-continue's scans of history do too). Loads
 * are not checked that way, so while a read watchpoint is set the blocks are
 * cut to one instruction.
 */
import type { CPU } from '../cpu/cpu.js';
import { PAGE_SIZE, WATCH_READ, WATCH_WRITE, type Memory, type MemoryWatch } from '../cpu/memory.js';
import type { BlockCache } from '../cpu/run.js';
import type { Stop, WatchType } from '../entry/stop.js';

interface Watch {
  type: WatchType;
  addr: number;
  len: number;
  /** Bytes at insertion (or at the last check): a write watchpoint reports a change. */
  old: Uint8Array;
}

/** Opcodes (one-byte map) that access the stack with 8-byte operands. */
const STACK_OPS = new Set([0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x68, 0x6a, 0x8f, 0x9c, 0x9d, 0xc2, 0xc3, 0xc8, 0xc9, 0xe8, 0xff]);

/** The largest watched range (gdb splits larger ones). */
const MAX_WATCH = 4096;

/** The task whose memory is watched: its CPU, address space and blocks (they change with exec). */
export interface WatchTarget {
  cpu: CPU;
  mem: Memory;
  blocks: BlockCache;
}

export class Watchpoints {
  private watches: Watch[] = [];
  private applied = '';
  /** The address space the watched pages were handed to. */
  private appliedTo: Memory | null = null;
  /** Guest accesses to watched ranges since the last check: [addr, len, write]. */
  private hits: [number, number, boolean][] = [];

  /** target: the task the debugger watches (the machine's current one when it resumes: the machine itself). */
  constructor(private readonly target: WatchTarget) {}

  /** After a clone of the machine: the watched pages are handed to the (cloned) Memory again at the next apply(). */
  reapply(): void {
    this.applied = '\0';
    this.appliedTo = null;
  }

  private get cpu(): CPU {
    return this.target.cpu;
  }

  private get mem(): Memory {
    return this.target.mem;
  }

  private get blocks(): BlockCache {
    return this.target.blocks;
  }

  get size(): number {
    return this.watches.length;
  }

  add(type: WatchType, addr: number, len: number): boolean {
    if (len <= 0 || len > MAX_WATCH) return false;
    const old = this.read(addr, len);
    if (old.length !== len) return false;
    this.remove(type, addr, len);
    this.watches.push({ type, addr, len, old });
    return true;
  }

  remove(type: WatchType, addr: number, len: number): boolean {
    this.watches = this.watches.filter((w) => !(w.type === type && w.addr === addr && w.len === len));
    return true;
  }

  clear(): void {
    this.watches = [];
  }

  /** Hand the watched pages to Memory, only when the set changed (gdb re-inserts the same set at every resume). */
  apply(): void {
    const key = this.watches.map((w) => `${w.type}:${w.addr}:${w.len}`).join(',');
    this.hits.length = 0;
    if (key === this.applied && this.mem === this.appliedTo) return;
    if (this.appliedTo !== null && this.appliedTo !== this.mem) this.appliedTo.setWatch(null);
    this.applied = key;
    this.appliedTo = this.mem;
    if (this.watches.length === 0) {
      this.mem.setWatch(null);
      this.blocks.setMaxBlock();
      return;
    }
    const pages = new Map<number, number>();
    for (const w of this.watches) {
      const bits = w.type === 'watch' ? WATCH_WRITE : w.type === 'rwatch' ? WATCH_READ : WATCH_READ | WATCH_WRITE;
      for (let pn = Math.floor(w.addr / PAGE_SIZE); pn <= Math.floor((w.addr + w.len - 1) / PAGE_SIZE); pn++) pages.set(pn, (pages.get(pn) ?? 0) | bits);
    }
    const watch: MemoryWatch = { pages, hit: (addr, write) => this.onAccess(addr, write) };
    this.mem.setWatch(watch);
    // a read hit can end a block only where it is cut: one instruction per block
    this.whole = this.watches.every((w) => w.type === 'watch');
    this.blocks.setMaxBlock(this.whole ? undefined : 1);
  }

  /** Accesses were noted since the last check (the run loop stopped for them). */
  get pending(): boolean {
    return this.hits.length > 0;
  }

  /** Blocks are whole (only write watchpoints): a hit ends its block through cpu.smc, and RIP is the block's start until then. */
  private whole = false;

  /** A guest access touched a watched page: note it if it may overlap a watchpoint, and end the slice after this instruction. */
  private onAccess(addr: number, write: boolean): void {
    // inside a whole block RIP names its first instruction, not this one: any write up to a page long may reach the range
    // (a false touch only stops after the instruction, where check() finds the bytes unchanged)
    const len = this.whole ? PAGE_SIZE : this.accessLength();
    for (const w of this.watches) {
      if (write ? w.type === 'rwatch' : w.type === 'watch') continue;
      if (addr < w.addr + w.len && addr + len > w.addr) {
        if (this.hits.length < 64) this.hits.push([addr, len, write]);
        this.cpu.stopRequested = true;
        this.cpu.smc = true; // the block ends after this instruction
        return;
      }
    }
  }

  /**
   * How many bytes the current access may span. Memory reports only where an
   * access starts, so this is judged from the instruction: its operand size,
   * 8 for stack operations, 16 for SSE, a page for string instructions and
   * for the host kernel's copies during a syscall (rip already moved on).
   */
  private accessLength(): number {
    const cpu = this.cpu;
    if (cpu.rip === cpu.nextRip) return PAGE_SIZE; // inside a syscall or signal delivery
    let i;
    try {
      i = this.blocks.insnAt(cpu.rip, cpu.compat);
    } catch {
      return 8;
    }
    if (i.rep) return PAGE_SIZE;
    if (i.opc >= 0x100) return 16;
    if (STACK_OPS.has(i.opc)) return 8;
    return i.size;
  }

  /** Which watchpoint (if any) the noted accesses hit; the remembered values are refreshed. */
  check(): Extract<Stop, { kind: 'watch' }> | null {
    const hits = this.hits;
    let found: Extract<Stop, { kind: 'watch' }> | null = null;
    for (const w of this.watches) {
      const now = this.read(w.addr, w.len);
      const changed = now.length === w.len && now.some((b, k) => b !== w.old[k]);
      const touched = (write: boolean | null) => hits.some(([a, l, wr]) => (write === null || wr === write) && a < w.addr + w.len && a + l > w.addr);
      let hit = false;
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
    return out.subarray(0, this.mem.peek(addr, out));
  }
}
