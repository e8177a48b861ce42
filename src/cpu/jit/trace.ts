/**
 * Traces: a cycle of hot blocks (a loop whose body is more than one block,
 * such as a hash's round with its test at the end and a jump back) compiled
 * as one loop (compile.ts's traceSource), so that round after round runs
 * without coming back to the run loop, with the guest registers and flags in
 * locals throughout.
 *
 * The cycle is the way the blocks last went: each block's link (run.ts) is
 * the block that followed it last time (link2 the one before), and the run
 * loop looks for a cycle of links back to a hot block. (Paths that are no
 * cycle, such as a syscall's trip through the guest kernel, were tried as
 * traces run once through: V8's optimizing compiler took longer over them
 * than they saved in 200,000 getpid trips.) The trace is used from its first block only
 * while every link it was made of would still be followed (the same
 * mappings, breakpoints and privilege level: the epochs) and every block is
 * still what its bytes decode to (the pages' generations); it leaves at the
 * first branch that goes elsewhere.
 */
import { I_BRANCH, type Insn } from '../insn.js';
import type { Page } from '../memory.js';
import * as ctl from '../ops/control.js';
import * as c32 from '../ops/compat.js';
import { templated } from './compile.js';

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
  /** The one before (a branch taken every other time: a loop's back edge and its exit). */
  readonly link2: Traced | null;
  readonly link2Epoch: number;
  readonly link2Cpl: number;
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
 * after one that does not branch) or any for a return or an indirect jump or
 * call (the trace goes on only where the branch went there, as it does after
 * every block), and nothing that must be seen at its start (breakpoint,
 * probe) or that runs apart (a nop sled). Only a block whose every
 * instruction has a template is followed: a handler may change what the
 * trace's validity rests on (the mappings, the privilege level, the mode).
 */
function successor(b: Traced, epoch: number, cpl: number, second = false): Traced | null {
  const l = second ? b.link2 : b.link;
  if (l === null || l === b || (second ? b.link2Epoch : b.linkEpoch) !== epoch || (second ? b.link2Cpl : b.linkCpl) !== cpl || l.compat !== b.compat || !current(l)) return null;
  if (l.bp !== 0 || l.probe !== null || l.nops !== 0) return null;
  const tail = b.insns[b.insns.length - 1];
  const to = l.insns[0].addr;
  if (tail.op === ctl.jcc) return to === tail.disp || to === tail.next ? l : null;
  if (tail.op === ctl.jmpRel || tail.op === c32.jmpRel) return to === tail.disp ? l : null;
  if (tail.op === ctl.callRel) return to === tail.disp ? l : null;
  if (tail.flags & I_BRANCH) return tail.op === ctl.ret || tail.op === ctl.jmpE || tail.op === ctl.callE || tail.op === c32.ret || tail.op === c32.callRel ? l : null;
  return to === tail.next ? l : null;
}

/** Blocks looked at at most in the search for a cycle (each has two links to follow). */
const SEARCH = 64;

/**
 * A cycle of links from head back to it, following either of a block's two
 * last successors (a loop's branch back may have gone the other way last
 * time: its exit), or null.
 */
function cycleFrom<B extends Traced>(head: B, epoch: number, cpl: number): B[] | null {
  const path = [head];
  let looked = 0;
  const from = (b: B, total: number): boolean => {
    if (++looked > SEARCH || !templated(b.insns)) return false;
    for (const second of [false, true]) {
      const s = successor(b, epoch, cpl, second) as B | null; // a block's links are blocks of its own cache
      if (s === null) continue;
      if (s === head) return path.length > 1;
      if (path.includes(s) || path.length === MAX_BLOCKS || total + s.insns.length > MAX_INSNS) continue;
      path.push(s);
      if (from(s, total + s.insns.length)) return true;
      path.pop();
    }
    return false;
  };
  return from(head, head.insns.length) ? path : null;
}

/** The trace from `head` (head first): a cycle of links back to it, or null. */
export function traceFrom<B extends Traced>(head: B, epoch: number, cpl: number): B[] | null {
  if (head.bp !== 0 || head.probe !== null || head.nops !== 0) return null;
  return cycleFrom(head, epoch, cpl);
}
