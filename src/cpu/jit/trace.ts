/**
 * Traces: a cycle of hot blocks (a loop whose body is more than one block,
 * such as a hash's round with its test at the end and a jump back) compiled
 * as one loop (compile.ts's traceSource), so that round after round runs
 * without coming back to the run loop, with the guest registers and flags in
 * locals throughout.
 *
 * The cycle is the one the blocks last took: each block's link (run.ts) is
 * the block that followed it last time, and the run loop looks for a cycle
 * of links back to a hot block. The trace is used from its first block only
 * while every link it was made of would still be followed (the same
 * mappings, breakpoints and privilege level: the epochs) and every block is
 * still what its bytes decode to (the pages' generations); it leaves at the
 * first branch that goes elsewhere.
 */
import { I_BRANCH, type Insn } from '../insn.js';
import type { Page } from '../memory.js';
import * as ctl from '../ops/control.js';
import * as c32 from '../ops/compat.js';

/**
 * What a trace reads of a block: run.ts's Block, named here by its shape, so that the run loop imports the
 * traces and not the other way round.
 */
export interface Traced {
  readonly insns: Insn[];
  readonly page: Page;
  readonly gen: number;
  readonly page2: Page | null;
  readonly gen2: number;
  readonly compat: boolean;
  readonly bp: number;
  readonly probe: unknown;
  readonly nops: number;
  /** The block that followed this one last time, and the epoch and privilege level it was found at. */
  readonly link: Traced | null;
  readonly linkEpoch: number;
  readonly linkCpl: number;
}

/** Blocks in a trace at most, and instructions. */
const MAX_BLOCKS = 8, MAX_INSNS = 512;

/** The block's decoded bytes are unchanged. */
export function current(b: Traced): boolean {
  return b.gen === b.page.gen && (b.page2 === null || b.gen2 === b.page2.gen);
}

/**
 * The block that followed `b` last time, if the run loop would follow that
 * link now and it may be traced: a target that b's last instruction names
 * (a direct jump's, either of a conditional branch's, the next instruction
 * after one that does not branch), and nothing that must be seen at its
 * start (breakpoint, probe) or that runs apart (a nop sled).
 */
function successor(b: Traced, epoch: number, cpl: number): Traced | null {
  const l = b.link;
  if (l === null || l === b || b.linkEpoch !== epoch || b.linkCpl !== cpl || l.compat !== b.compat || !current(l)) return null;
  if (l.bp !== 0 || l.probe !== null || l.nops !== 0) return null;
  const tail = b.insns[b.insns.length - 1];
  const to = l.insns[0].addr;
  if (tail.op === ctl.jcc) return to === tail.disp || to === tail.next ? l : null;
  if (tail.op === ctl.jmpRel || tail.op === c32.jmpRel) return to === tail.disp ? l : null;
  if (tail.flags & I_BRANCH) return null;
  return to === tail.next ? l : null;
}

/** The cycle of links from `head` back to it (head first), or null. */
export function cycleFrom<B extends Traced>(head: B, epoch: number, cpl: number): B[] | null {
  if (head.bp !== 0 || head.probe !== null || head.nops !== 0) return null;
  const out = [head];
  let total = head.insns.length;
  for (let b = head; ; ) {
    const s = successor(b, epoch, cpl) as B | null; // a block's links are blocks of its own cache
    if (s === null) return null;
    if (s === head) return out.length > 1 ? out : null;
    total += s.insns.length;
    if (out.includes(s) || out.length === MAX_BLOCKS || total > MAX_INSNS) return null;
    out.push(s);
    b = s;
  }
}
