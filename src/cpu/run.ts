/**
 * The interpreter loop over cached basic blocks.
 *
 * A block is the decoded instructions from an address up to and including
 * the first one that may change control flow (or 64 instructions, or the end
 * of the page). It records the generation of the page(s) it was decoded from;
 * a store into such a page bumps the generation (see Memory.wpage), so stale
 * blocks are rebuilt: breakpoints written by a debugger, self-modifying and
 * JIT code, and zpoline's rewrites all invalidate cleanly.
 */
import type { CPU } from './cpu.js';
import { decode } from './decode.js';
import { CpuFault } from './fault.js';
import { I_BRANCH, type Insn } from './insn.js';
import { PAGE_SIZE, type Memory, type Page } from './memory.js';
import { compileBlock, compileTrace, knownBlock, selfLoop, traceExit, type CompiledBlock } from './jit/compile.js';
import { current, traceFrom } from './jit/trace.js';

const MAX_BLOCK = 64;
/**
 * Runs of a block before it is compiled to JavaScript (jit/compile.ts). A new
 * function starts in V8's bytecode interpreter and is optimized only after
 * many calls of its own, so a lukewarm block runs slower compiled than in the
 * interpreter's long-optimized handlers (python3's start-up, 30 M
 * instructions over thousands of blocks, took 5x longer with 32): only code
 * that runs long enough to earn V8's optimization is compiled.
 */
const HOT = 20_000;
/**
 * Runs of a loop of one block (one that branches back to its start) before
 * it is compiled. Its compiled function goes round inside one call, where V8
 * optimizes it on the spot (on-stack replacement), so it earns its compile
 * after far fewer runs than a block called once a round: bench-crc's loops
 * then run compiled after 1,024 rounds instead of 20,000, and python3's
 * start-up compiles 8 loops early (48 blocks in all, of 31 M instructions).
 */
const LOOP_HOT = 1024;
/**
 * Runs of a block of the guest kernel's code (BlockCache.kernelCode) before
 * it is compiled. That code never changes and is the path of every syscall,
 * so a program that makes this many has a use for it compiled and will make
 * more: getpid-asm's 200,000 trips ran their first 20,000 in the interpreter
 * at HOT, about a fifth of the whole run's time.
 */
const KERNEL_HOT = 512;
/** Runs after which a block looks for a compiled form made before (jit/compile.ts's knownBlock). */
const WARM = 16;

/** A one-byte nop (90 without prefixes; with REX.B it is xchg r8, rax). */
function isNop(i: Insn): boolean {
  return i.len === 1 && i.bytes[0] === 0x90;
}

/** Kinds of debugger breakpoint at an address (both when gdb set both). */
export const BP_SW = 1, BP_HW = 2;

export class Block {
  /** Debugger breakpoints at the block's first instruction: BP_SW | BP_HW, 0 for none. */
  bp = 0;
  /** Called before the block runs (kernel-path probes: the trampoline's guard, --stats). */
  probe: ((cpu: CPU) => void) | null = null;
  /** The block that followed this one last time, valid while the epochs and its page generation hold. */
  link: Block | null = null;
  linkAddr = NaN;
  linkEpoch = -1;
  /** The privilege level the link was found at (its fetch was checked at that level only). */
  linkCpl = -1;
  /**
   * The successor before that one, under the same conditions: a block whose
   * successors alternate (a shared function's `ret`, a branch taken every
   * other time; the syscall path has four on every getpid) finds both
   * without a lookup.
   */
  link2: Block | null = null;
  link2Addr = NaN;
  link2Epoch = -1;
  link2Cpl = -1;
  /** The mode it was decoded in (compat: 32-bit code), which a link must match: the same address may be entered in either. */
  compat = false;
  /** Times the block ran whole in the interpreter; at BlockCache.hot it is compiled. */
  runs = 0;
  /** Runs after which it is compiled if sooner than BlockCache.hot: a loop of one block (LOOP_HOT), the guest kernel's code (KERNEL_HOT). */
  hotAt = Infinity;
  /** The compiled block (null: not yet, or not worth it), used when the whole block may run. */
  compiled: CompiledBlock | null = null;
  /**
   * A run of one-byte nops (90) this long starts here (0: an ordinary block).
   * It executes as one step of as many instructions as the budget allows, so
   * zpoline's sled costs next to nothing while every nop in it can still be
   * stepped onto; it ends before a breakpoint or probe like any block.
   */
  nops = 0;
  /** The RanLog mark under which the block was last noted as run (RanLog.note). */
  ranMark = -1;
  /**
   * A trace from here (jit/trace.ts): the compiled cycle of blocks this one
   * starts, the blocks and their instructions as one array, and the epochs
   * and privilege level its links were followed at. Null: none (yet).
   */
  trace: CompiledBlock | null = null;
  traceBlocks: Block[] = [];
  traceInsns: Insn[] = [];
  traceEpoch = -1;
  traceCpl = -1;
  /** Compiled runs at which to look for a trace next (backing off while there is none). */
  traceAt = 0;
  constructor(
    readonly insns: Insn[],
    readonly page: Page,
    readonly gen: number,
    readonly page2: Page | null,
    readonly gen2: number,
  ) {}
}

/**
 * Where code ran since the last mark: the [start, end) of every block looked
 * up, each once per mark (reverse execution's summary of a stretch of
 * history, src/gdb/target/history.ts: a stretch none of whose blocks holds a
 * breakpoint's address cannot have stopped there, and is not replayed to
 * look). A block is looked up at least once per mark because a mark also
 * breaks the links between blocks (BlockCache.relink), so the blocks reached
 * through links are noted too at no cost on the linked path.
 */
export class RanLog {
  mark = 0;
  /** Flattened pairs: start, end. */
  private ranges: number[] = [];

  note(b: Block): void {
    b.ranMark = this.mark;
    const first = b.insns[0];
    const last = b.insns[b.insns.length - 1];
    this.ranges.push(first.addr, b.nops !== 0 ? first.addr + b.nops : last.next);
  }

  /** The ranges noted since the last mark, and a new mark. */
  take(): number[] {
    const r = this.ranges;
    this.ranges = [];
    this.mark++;
    return r;
  }
}

export class BlockCache {
  /** Decoded blocks by address: 64-bit code, and 32-bit code (a compat-mode CS) apart, as the same bytes decode differently. */
  private readonly blocks = new Map<number, Block>();
  private readonly blocks32 = new Map<number, Block>();
  /**
   * Debugger breakpoints: address -> BP_SW | BP_HW. Blocks end before each
   * one, so a breakpoint is only ever at a block's start and costs nothing
   * elsewhere.
   */
  private breakpoints = new Map<number, number>();
  /** Execution reached a breakpoint (the instruction there has not run); the run loop then stops. */
  onBreakpoint: ((addr: number, kinds: number) => void) | null = null;
  /** Probes by block start address, and a per-page probe factory (trampoline page). */
  private probes = new Map<number, (cpu: CPU) => void>();
  pageProbe: ((rip: number) => ((cpu: CPU) => void) | null) | null = null;
  /**
   * Longest block. The gdb stub sets 1 while watchpoints are set, so that a
   * watchpoint hit (which sets cpu.stopRequested) stops right after its
   * instruction; the run loop itself is unchanged.
   */
  private maxBlock = MAX_BLOCK;

  constructor(readonly mem: Memory) {}

  /**
   * The cache of an address space forked from this one: no blocks (they
   * would name this one's pages), the same probes and block limit, and the
   * breakpoints only if asked (a debugger follows the child).
   */
  fork(mem: Memory, breakpoints: boolean): BlockCache {
    const c = new BlockCache(mem);
    c.probes = new Map(this.probes);
    c.pageProbe = this.pageProbe;
    c.maxBlock = this.maxBlock;
    c.kernelCode = this.kernelCode;
    c.onBreakpoint = this.onBreakpoint;
    c.ran = this.ran;
    if (breakpoints) c.breakpoints = new Map(this.breakpoints);
    return c;
  }

  /** Compile hot blocks to JavaScript (false: interpret everything, the reference the compiler is checked against). */
  jit = true;
  /** Whole runs of a block before it is compiled (tests set 1 to compile everything at once). */
  hot = HOT;

  /** Bumped whenever cached blocks are dropped, so links between blocks are re-checked. */
  epoch = 0;

  clear(): void {
    this.blocks.clear();
    this.blocks32.clear();
    this.epoch++;
  }

  /** Run fn before the instruction at addr each time it starts a block (blocks are split there). */
  setProbe(addr: number, fn: ((cpu: CPU) => void) | null): void {
    if (fn) this.probes.set(addr, fn);
    else this.probes.delete(addr);
    this.clear();
  }

  /** Replace the breakpoint set, address -> BP_SW | BP_HW (decoded blocks are rebuilt around them). */
  setBreakpoints(bps: ReadonlyMap<number, number>): void {
    this.breakpoints = new Map(bps);
    this.clear();
  }

  /** Limit blocks to n instructions (1 while debugger watchpoints are set; MAX_BLOCK by default). */
  setMaxBlock(n = MAX_BLOCK): void {
    if (n !== this.maxBlock) {
      this.maxBlock = n;
      this.blocks.clear();
      this.blocks32.clear();
    }
  }

  /** The valid block starting at rip in the mode `compat` (32-bit code), decoding it if needed (may throw the fetch/decode fault). */
  get(rip: number, compat: boolean): Block {
    const mem = this.mem;
    const page = mem.xpage(rip);
    const b = (compat ? this.blocks32 : this.blocks).get(rip);
    if (b !== undefined && b.page === page && b.gen === page.gen && (b.page2 === null || b.gen2 === b.page2.gen)) {
      if (this.ran !== null && b.ranMark !== this.ran.mark) this.ran.note(b);
      return b;
    }
    const n = this.build(rip, page, compat);
    if (this.ran !== null) this.ran.note(n);
    return n;
  }

  /** Where the blocks looked up are noted (null: nowhere). */
  ran: RanLog | null = null;

  /** Links between blocks are checked again (each block is then looked up, and noted in `ran`, once more). */
  relink(): void {
    this.epoch++;
  }

  private build(rip: number, page: Page, compat: boolean): Block {
    const mem = this.mem;
    const insns: Insn[] = [];
    let a = rip;
    let page2: Page | null = null;
    const pageEnd = (Math.floor(rip / PAGE_SIZE) + 1) * PAGE_SIZE;
    while (insns.length < this.maxBlock && a < pageEnd) {
      if (insns.length > 0 && (this.breakpoints.has(a) || this.probes.has(a))) break;
      let i: Insn;
      try {
        i = decode(mem, a, compat);
      } catch (e) {
        // a later instruction faults on fetch or decode: end the block before it
        if (insns.length > 0 && e instanceof CpuFault) break;
        throw e;
      }
      insns.push(i);
      if (i.next > pageEnd) {
        page2 = mem.xpage(pageEnd);
        break;
      }
      a = i.next;
      if (i.flags & I_BRANCH) break;
    }
    const b = new Block(insns, page, page.gen, page2, page2 ? page2.gen : 0);
    if (isNop(insns[0])) {
      // a sled: the block is the nops up to the first other byte (insns keeps the first, for insnAt)
      let n = 1;
      for (let x = rip + 1; x < pageEnd && page.u8[x & (PAGE_SIZE - 1)] === 0x90 && !this.breakpoints.has(x) && !this.probes.has(x); x++) n++;
      if (n > 1) b.nops = n;
    }
    b.bp = this.breakpoints.get(rip) ?? 0;
    b.probe = this.probes.get(rip) ?? (this.pageProbe ? this.pageProbe(rip) : null);
    b.compat = compat;
    if (selfLoop(insns)) b.hotAt = LOOP_HOT;
    else if (this.isKernelCode(rip)) b.hotAt = KERNEL_HOT;
    (compat ? this.blocks32 : this.blocks).set(rip, b);
    return b;
  }

  /**
   * The guest kernel's code, [start, end) pairs flattened, which the entry
   * model names (its image, and nommu's trampoline page): compiled after
   * KERNEL_HOT runs.
   */
  kernelCode: number[] = [];

  private isKernelCode(rip: number): boolean {
    const k = this.kernelCode;
    for (let j = 0; j < k.length; j += 2) if (rip >= k[j] && rip < k[j + 1]) return true;
    return false;
  }

  /** Decoded instruction at an address, in the mode `compat` (for traces and debuggers). */
  insnAt(rip: number, compat: boolean): Insn {
    return this.get(rip, compat).insns[0];
  }
}

/**
 * Call a compiled block or trace. V8 inlines the function a call site has
 * only ever seen into its caller, and throws the caller's optimized code away
 * when another one comes (bench-crc's first run compiled the run loop five
 * times, three of them for that); this call site is shown two functions at
 * load, so that it calls whatever block comes, never inlining one.
 */
function enter(f: CompiledBlock, cpu: CPU, insns: Insn[], budget: number): number {
  return f(cpu, insns, budget);
}
for (const f of [(): number => 0, (): number => 1]) enter(f, null as unknown as CPU, [], 0);

/**
 * Look for a trace from the compiled block b (jit/trace.ts): the cycle of
 * links back to it, compiled as one loop. Each failure waits twice as many
 * runs before the next look, so that a block that heads no cycle costs next
 * to nothing.
 */
function findTrace(b: Block, epoch: number, cpl: number): void {
  const blocks = traceFrom(b, epoch, cpl);
  const fn = blocks === null ? null : compileTrace(blocks.map((x) => x.insns), b.compat);
  if (blocks === null || fn === null) {
    b.traceAt = b.runs * 2 + 2;
    return;
  }
  b.trace = fn;
  b.traceBlocks = blocks;
  b.traceInsns = blocks.flatMap((x) => x.insns);
  b.traceEpoch = epoch;
  b.traceCpl = cpl;
}

/**
 * Compiled runs of a block before it looks for a trace: rounds enough for a
 * loop's branches to have gone both ways, so that the links the search
 * follows (link and link2) hold the way back (a branch that last left the
 * loop hid it); at most the compile threshold (tests compile everything at once).
 */
const TRACE_AFTER = 32;

/** The links b's trace was made of would all be followed now, to blocks that are still current. */
function traceHolds(b: Block, epoch: number, cpl: number): boolean {
  if (b.traceEpoch !== epoch || b.traceCpl !== cpl) return false;
  for (const m of b.traceBlocks) if (!current(m)) return false;
  return true;
}

/**
 * Execute at most `budget` instructions, stopping early when an instruction
 * sets cpu.stopRequested (checked at block ends) or at a breakpoint, which
 * is reported to cache.onBreakpoint; a breakpoint at `resumeFrom` is passed over when it
 * is the first instruction, so a debugger can resume from it. A CpuFault propagates with cpu.rip
 * at the faulting instruction and cpu.icount counting those retired.
 * Returns the number of instructions retired.
 */
export function runBlocks(cpu: CPU, cache: BlockCache, budget: number, resumeFrom = NaN): number {
  let done = 0;
  const mem = cpu.mem;
  let prev: Block | null = null;
  while (done < budget && !cpu.stopRequested) {
    // follow the previous block's link when it still holds, else look the block up
    let b: Block;
    const rip = cpu.rip;
    if (prev !== null && prev.link !== null && prev.linkAddr === rip && prev.linkEpoch === mem.epoch + cache.epoch && prev.linkCpl === cpu.cpl && prev.link.compat === cpu.compat && prev.link.gen === prev.link.page.gen && (prev.link.page2 === null || prev.link.gen2 === prev.link.page2.gen))
      b = prev.link;
    else if (prev !== null && prev.link2 !== null && prev.link2Addr === rip && prev.link2Epoch === mem.epoch + cache.epoch && prev.link2Cpl === cpu.cpl && prev.link2.compat === cpu.compat && prev.link2.gen === prev.link2.page.gen && (prev.link2.page2 === null || prev.link2.gen2 === prev.link2.page2.gen))
      b = prev.link2;
    else {
      b = cache.get(rip, cpu.compat);
      if (prev !== null) {
        prev.link2 = prev.link;
        prev.link2Addr = prev.linkAddr;
        prev.link2Epoch = prev.linkEpoch;
        prev.link2Cpl = prev.linkCpl;
        prev.link = b;
        prev.linkAddr = rip;
        prev.linkEpoch = mem.epoch + cache.epoch;
        prev.linkCpl = cpu.cpl;
      }
    }
    prev = b;
    if (b.bp !== 0 && !(done === 0 && rip === resumeFrom)) {
      cpu.stopRequested = true;
      cache.onBreakpoint?.(rip, b.bp);
      break;
    }
    if (b.probe !== null) {
      b.probe(cpu);
      if (cpu.stopRequested) break;
      if (cpu.rip !== rip) continue; // the probe redirected execution
    }
    if (b.nops !== 0) {
      const m = Math.min(b.nops, budget - done);
      cpu.rip = rip + m;
      cpu.icount += m;
      done += m;
      continue;
    }
    const insns = b.insns;
    const n = Math.min(insns.length, budget - done);
    if (n === insns.length && cache.jit) {
      // the whole block may run: its compiled form does exactly what the loop below does
      if (b.compiled === null) {
        const runs = ++b.runs;
        if (runs >= cache.hot || runs >= b.hotAt) {
          b.compiled = compileBlock(insns, b.compat);
          if (b.compiled === null) b.runs = -Infinity; // nothing to gain: never try again
        } else if (runs === WARM) b.compiled = knownBlock(insns, b.compat) ?? null; // compiled before (a clone of the machine decodes again)
        if (b.compiled !== null) b.traceAt = runs + Math.min(TRACE_AFTER, cache.hot);
      }
      if (b.compiled !== null) {
        if (b.trace === null && ++b.runs >= b.traceAt) findTrace(b, mem.epoch + cache.epoch, cpu.cpl);
        if (b.trace !== null) {
          if (traceHolds(b, mem.epoch + cache.epoch, cpu.cpl)) {
            const ran = cache.ran;
            if (ran !== null) for (const m of b.traceBlocks) if (m.ranMark !== ran.mark) ran.note(m);
            done += enter(b.trace, cpu, b.traceInsns, budget - done);
            // the block it left from, whose links the run loop follows next (none after a store into code)
            const x = traceExit[0];
            prev = x >= 0 ? b.traceBlocks[x] : null;
            continue;
          }
          b.trace = null;
          b.traceAt = b.runs + 64;
        }
        // a loop of one block goes round only without a breakpoint or probe at its start, which must be seen each time
        const r = enter(b.compiled, cpu, insns, b.bp === 0 && b.probe === null ? budget - done : n);
        done += r;
        if (r % n !== 0) prev = null; // a store rewrote code: re-decode from cpu.rip
        continue;
      }
    }
    let k = 0;
    try {
      // All but the last instruction: none of them branches, so RIP is only
      // materialized if one faults (below). Then icount is exact while the
      // last one (a branch, a syscall, a hypercall) runs, so handlers can read it.
      for (; k < n - 1; k++) {
        const i = insns[k];
        i.op(cpu, i);
        if (cpu.smc) break; // the block may have rewritten itself: re-decode from here
      }
      if (k < n - 1) {
        cpu.smc = false;
        cpu.rip = insns[k].next;
        k++;
        cpu.icount += k;
        done += k;
        prev = null;
        continue;
      }
      cpu.icount += k;
      const i = insns[k];
      cpu.rip = i.addr;
      cpu.nextRip = i.next;
      i.op(cpu, i);
      cpu.rip = cpu.nextRip;
      cpu.icount++;
      cpu.smc = false;
      done += n;
    } catch (e) {
      cpu.rip = insns[k].addr; // precise: the faulting instruction
      if (k < n - 1) cpu.icount += k;
      done += k;
      throw e;
    }
  }
  return done;
}
