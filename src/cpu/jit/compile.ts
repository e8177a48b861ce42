/**
 * The block compiler: a hot decoded block (run.ts) becomes one JavaScript
 * function that does the work of the interpreter's loop over the block's
 * instructions, with the decoded fields (registers, sizes, displacements,
 * immediates, branch targets) turned into constants.
 *
 * It is the interpreter, specialised, and must stay indistinguishable from
 * it: the same registers, memory, flags, RIP and instruction count after the
 * block, after a self-modifying store ends it early, and after any
 * instruction in it faults. So:
 * - memory goes through Memory's read/write methods (their TLB fast paths,
 *   their permission checks, watchpoints and code-page generations);
 * - every template does its loads and stores before it changes a register,
 *   as the handler it replaces does, so a fault leaves the registers as the
 *   interpreter leaves them;
 * - the lazy arithmetic flags of the last flag-setting instruction live in
 *   locals (F*), written to cpu.lf only when something outside the block may
 *   look (at the block's end, before a handler is called, in the fault path),
 *   and a condition that follows a known operation (cmp; jcc) is decided from
 *   the operands directly;
 * - an instruction without a template calls its handler, exactly as the
 *   interpreter does.
 * The interpreter remains the reference; test/jit.test.ts runs programs and
 * random blocks both ways and requires identical results.
 */
import type { CPU } from '../cpu.js';
import type { Handler, Insn } from '../insn.js';
import * as alu from '../ops/alu.js';
import * as mv from '../ops/move.js';
import * as ctl from '../ops/control.js';
import * as sh from '../ops/shift.js';
import * as c32 from '../ops/compat.js';
import { CpuFault, Vector } from '../fault.js';

/**
 * A compiled block: runs the whole block; returns how many instructions
 * retired. A block that branches back to its own start (a loop of one
 * block) runs again inside the function, with its registers kept in locals,
 * while it branches back, the next round fits in `budget` and nothing asked
 * the CPU to stop; a store that rewrote code ends it early, and then the
 * count is not a multiple of the block's length.
 */
export type CompiledBlock = (cpu: CPU, insns: Insn[], budget: number) => number;

// FlOp values (cpu.ts; a const enum there, spelled out here for the generated code)
const F_ADD = 1, F_ADC = 2, F_SUB = 3, F_SBB = 4, F_LOGIC = 5, F_INC = 6, F_DEC = 7, F_RESULT = 8, F_IMUL64 = 9;

const MASK = ['', '255', '65535', '', '-1', '', '', '', '-1'];

/** What the generated code knows about the flags at a point of the block. */
interface Pending {
  /** FlOp of the last flag-setting template, whose operands are in the F* locals; -1: cpu.lf has it. */
  op: number;
  size: number;
  /**
   * A rotate's CF and OF (in local Rot) wait to be applied over op's flags
   * with cpu.setArith, as the rotate's handler does at once.
   */
  rot: boolean;
}

/** Fields cpu.setLazy writes (lf indices 0..8) and the locals holding them. */
const LAZY_ALL = 'lf[0]=Fop;lf[1]=Fsz;lf[2]=Fa;lf[3]=Fah;lf[4]=Fb;lf[5]=Fbh;lf[6]=Fr;lf[7]=Frh;lf[8]=Fx;';
/** Fields cpu.setLogic writes. */
const LAZY_LOGIC = 'lf[0]=Fop;lf[1]=Fsz;lf[6]=Fr;lf[7]=Frh;';
/** Fields cpu.setResult writes. */
const LAZY_RESULT = 'lf[0]=Fop;lf[1]=Fsz;lf[6]=Fr;lf[7]=Frh;lf[8]=Fx;';

/** The cpu.lf fields an operation's record has. */
function lazyFields(op: number): string {
  return op === F_LOGIC ? LAZY_LOGIC : op === F_RESULT ? LAZY_RESULT : LAZY_ALL;
}

/**
 * Statements loading memory at the address in local `A` into v (and vh for size 8): Memory's
 * read TLB looked up inline (the page's number and the offset in Pn, Po,
 * the entry in Pg), its read method on a miss or an access across pages.
 * A large block's function is past V8's inlining budget, and a call with
 * an address (a double) boxes it.
 */
function loadAt(A: string, size: number, v: string, vh: string): string {
  const hit = `const Pn=Math.floor(${A}/4096),Po=${A}&4095,Pg=mem.rt[Pn&255];const Ph=Pg!==null&&Pg.pn===Pn${size > 1 ? `&&Po<=${4096 - size}` : ''};`;
  switch (size) {
    case 1:
      return hit + `const ${v}=Ph?Pg.u8[Po]:mem.read8(${A});`;
    case 2:
      return hit + `const ${v}=Ph?Pg.dv.getUint16(Po,true):mem.read16(${A});`;
    case 4:
      return hit + `const ${v}=Ph?Pg.dv.getInt32(Po,true):mem.read32(${A});`;
    default:
      return hit + `const ${v}=Ph?Pg.dv.getInt32(Po,true):mem.read64(${A}),${vh}=Ph?Pg.dv.getInt32(Po+4,true):mem.hi;`;
  }
}

/** Statements storing at the address in local `A` (as loadAt: the write TLB inline, in Qn, Qo, Qg; it never holds a page with code). */
function storeAt(A: string, size: number, lo: string, hi: string): string {
  const hit = `const Qn=Math.floor(${A}/4096),Qo=${A}&4095,Qg=mem.wt[Qn&255];if(Qg!==null&&Qg.pn===Qn${size > 1 ? `&&Qo<=${4096 - size}` : ''})`;
  switch (size) {
    case 1:
      return hit + `Qg.u8[Qo]=${lo};else mem.write8(${A},${lo});`;
    case 2:
      return hit + `Qg.dv.setUint16(Qo,${lo},true);else mem.write16(${A},${lo});`;
    case 4:
      return hit + `Qg.dv.setInt32(Qo,${lo},true);else mem.write32(${A},${lo});`;
    default:
      return hit + `{Qg.dv.setInt32(Qo,${lo},true);Qg.dv.setInt32(Qo+4,${hi},true);}else mem.write64(${A},${lo},${hi});`;
  }
}

class Emitter {
  out: string[] = [];
  pending: Pending | null = null;
  /** Index of the instruction being emitted, and whether it is the block's last. */
  k = 0;
  /**
   * Whether the flags a block starts with are overwritten before anything
   * can see them: a flag producer came first, before any reader, handler,
   * early exit or rotate. A loop of such a block need not write its flags
   * to cpu.lf between rounds.
   */
  produced = false;
  startFlagsDead = false;

  private produce(): void {
    if (!this.produced) {
      this.produced = true;
      this.startFlagsDead = true;
    }
  }

  private consume(): void {
    this.produced = true;
  }

  /** Write the pending flags to cpu.lf (nothing pending afterwards: cpu.lf is the truth). */
  materialize(): string {
    this.consume();
    const p = this.pending;
    if (p === null) return '';
    this.pending = null;
    return (p.op >= 0 ? lazyFields(p.op) + 'Fop=-1;' : '') + (p.rot ? 'cpu.setArith(2049,Rot);Rot=-1;' : '');
  }

  /** Write the pending flags to cpu.lf on a path that leaves the block (what is known here stays known). */
  pendingWrite(): string {
    this.consume();
    const p = this.pending;
    if (p === null) return '';
    return (p.op >= 0 ? lazyFields(p.op) : '') + (p.rot ? 'cpu.setArith(2049,Rot);' : '');
  }

  // ---- operands ----

  /** Register value of a size, as an expression (byte registers 16..19 are AH..BH). */
  reg(r: number, size: number): string {
    switch (size) {
      case 1:
        return r < 16 ? `(RL[${r}]&255)` : `((RL[${r - 16}]>>8)&255)`;
      case 2:
        return `(RL[${r}]&65535)`;
      default:
        return `RL[${r}]`;
    }
  }

  /** Statements that set a register of a size from expressions (evaluated once, before the write). */
  setReg(r: number, size: number, lo: string, hi: string): string {
    switch (size) {
      case 1:
        return r < 16 ? `RL[${r}]=(RL[${r}]&-256)|((${lo})&255);` : `RL[${r - 16}]=(RL[${r - 16}]&-65281)|(((${lo})&255)<<8);`;
      case 2:
        return `RL[${r}]=(RL[${r}]&-65536)|((${lo})&65535);`;
      case 4:
        return `RL[${r}]=${lo};RH[${r}]=0;`;
      default:
        return `RL[${r}]=${lo};RH[${r}]=${hi};`;
    }
  }

  /** Statements computing the memory operand's linear address into `A` (as cpu.ea does). */
  ea(i: Insn): string {
    if (i.asize === 4 && i.seg === 0) {
      // a 32-bit address (compat mode, or 67 in 64-bit code): the low halves' sum, wrapped at 4 GiB
      let s = `${i.disp}`;
      if (i.base >= 0) s += `+(RL[${i.base}]>>>0)`;
      if (i.index >= 0) s += `+(RL[${i.index}]>>>0)*${i.scale}`;
      return `const A=(${s})>>>0;`;
    }
    if (i.asize !== 8 || i.seg !== 0) return `${SYNC_OUT}const A=cpu.ea(I[${this.k}]);`;
    let s = `let A=${i.disp};`;
    if (i.base >= 0) s += `A+=RH[${i.base}]*4294967296+(RL[${i.base}]>>>0);`;
    if (i.index >= 0) s += `A+=(RH[${i.index}]*4294967296+(RL[${i.index}]>>>0))*${i.scale};`;
    // out of the canonical range: cpu.ea wraps it or raises #GP
    if (i.base >= 0 || i.index >= 0) s += `if(A>=140737488355328||A<-140737488355328){${SYNC_OUT}A=cpu.ea(I[${this.k}]);}`;
    return s;
  }

  /** Statements loading memory at `A` into v (and vh for size 8): see loadAt. */
  load(size: number, v = 'v', vh = 'vh'): string {
    return loadAt('A', size, v, vh);
  }

  /** Statements storing at `A`: see storeAt. */
  store(size: number, lo: string, hi: string): string {
    return storeAt('A', size, lo, hi);
  }

  // ---- conditions ----

  /** The condition cc as an expression, from the pending operation where it decides it, else through cpu.cond. */
  cond(cc: number): { pre: string; expr: string } {
    this.consume();
    const p = this.pending;
    const e = p ? this.condFrom(p, cc) : null;
    if (e !== null) return { pre: '', expr: e };
    return { pre: this.materialize(), expr: `cpu.cond(${cc})` };
  }

  private condFrom(p: Pending, cc: number): string | null {
    const s = p.size;
    const neg = (x: string | null): string | null => (x === null ? null : `!(${x})`);
    if (p.rot) {
      if ((cc & 1) === 0 && cc < 4) return cc === 0 ? '(Rot&2048)!==0' : '(Rot&1)===1';
      if (cc < 4) return neg(this.condFrom(p, cc & ~1));
      return null;
    }
    const zf = (): string => (s === 8 ? `(Fr|Frh)===0` : `Fr===0`);
    const sf = (): string => (s === 8 ? `Frh<0` : s === 4 ? `Fr<0` : `((Fr>>>${s * 8 - 1})&1)===1`);
    if (cc & 1) return neg(this.condFrom(p, cc & ~1));
    if (p.op === F_SUB) {
      const ltu = s === 8 ? `((Fah>>>0)<(Fbh>>>0)||(Fah===Fbh&&(Fa>>>0)<(Fb>>>0)))` : `((Fa>>>0)<(Fb>>>0))`;
      const eq = s === 8 ? `(Fa===Fb&&Fah===Fbh)` : `(Fa===Fb)`;
      const sx = (x: string): string => (s === 4 ? x : `((${x}<<${32 - s * 8})>>${32 - s * 8})`);
      const lts = s === 8 ? `(Fah<Fbh||(Fah===Fbh&&(Fa>>>0)<(Fb>>>0)))` : `(${sx('Fa')}<${sx('Fb')})`;
      switch (cc) {
        case 2:
          return ltu;
        case 4:
          return eq;
        case 6:
          return `(${ltu}||${eq})`;
        case 8:
          return sf();
        case 12:
          return lts;
        case 14:
          return `(${lts}||${eq})`;
      }
      return null;
    }
    if (p.op === F_LOGIC) {
      switch (cc) {
        case 0: // OF = 0
        case 2: // CF = 0
          return 'false';
        case 4:
        case 6: // CF | ZF
          return zf();
        case 8:
        case 12: // SF != OF, OF = 0
          return sf();
        case 14:
          return `(${zf()}||${sf()})`;
      }
      return null;
    }
    if (cc === 4) return zf();
    if (cc === 8) return sf();
    if (p.op === F_RESULT && cc === 2) return '(Fx&1)===1';
    if (p.op === F_RESULT && cc === 0) return '(Fx&2048)!==0';
    return null;
  }

  /** CF of the pending operation as an expression (0 or 1), or null where only cpu.getCF() knows it. */
  private cfFrom(p: Pending): string | null {
    if (p.rot) return '(Rot&1)';
    if (p.op === F_LOGIC) return '0';
    if (p.op === F_RESULT) return '(Fx&1)';
    if (p.op === F_SUB) return `(${this.condFrom(p, 2)}?1:0)`;
    if (p.op === F_ADD) return p.size === 8 ? `(((Frh>>>0)<(Fah>>>0)||(Frh===Fah&&(Fr>>>0)<(Fa>>>0)))?1:0)` : `((Fr>>>0)<(Fa>>>0)?1:0)`;
    return null;
  }

  /** Statements putting CF into local `c`. */
  carry(): string {
    this.consume();
    const p = this.pending;
    const e = p ? this.cfFrom(p) : null;
    if (e !== null) return `const c=${e};`;
    return this.materialize() + 'const c=cpu.getCF();';
  }

  // ---- flag producers (what cpu.setLazy / setLogic record) ----

  lazy(op: number, size: number, a: string, ah: string, b: string, bh: string, r: string, rh: string, x: string): string {
    this.produce();
    const clear = this.pending?.rot ? 'Rot=-1;' : '';
    this.pending = { op, size, rot: false };
    return clear + `Fop=${op};Fsz=${size};Fa=${a};Fah=${ah};Fb=${b};Fbh=${bh};Fr=${r};Frh=${rh};Fx=${x};`;
  }

  /** cpu.setResult: ZF/SF/PF from the result, CF | OF given. */
  result(size: number, r: string, rh: string, cfof: string): string {
    this.produce();
    const clear = this.pending?.rot ? 'Rot=-1;' : '';
    this.pending = { op: F_RESULT, size, rot: false };
    return clear + `Fop=${F_RESULT};Fsz=${size};Fr=${r};Frh=${rh};Fx=${cfof};`;
  }

  /** A rotate's CF | OF: applied over the flags pending before it when something looks. */
  rotate(cfof: string): string {
    this.consume();
    const p = this.pending;
    this.pending = { op: p ? p.op : -1, size: p ? p.size : 0, rot: true };
    return `Rot=${cfof};`;
  }

  logic(size: number, r: string, rh: string): string {
    this.produce();
    const clear = this.pending?.rot ? 'Rot=-1;' : '';
    this.pending = { op: F_LOGIC, size, rot: false };
    return clear + `Fop=${F_LOGIC};Fsz=${size};Fr=${r};Frh=${rh};`;
  }

  /**
   * The ALU operation `op` (alu.ts numbering) of a (a, ah) and b (b, bh) of a size:
   * statements leaving the result in r, rh and recording the flags. `carry` is
   * emitted first where the operation reads CF.
   */
  aluOp(op: number, size: number, a0: string, ah0: string, b0: string, bh0: string): string {
    // operands may be negative literals: parenthesised, so that `a-(-1)` stays one subtraction
    const a = `(${a0})`, ah = `(${ah0})`, b = `(${b0})`, bh = `(${bh0})`;
    let s = '';
    let cin = '0';
    if (op === 2 || op === 3) {
      s += this.carry();
      cin = 'c';
    }
    if (op === 0 || op === 2) {
      if (size === 8) s += `const lo=(${a}>>>0)+(${b}>>>0)+${cin},r=lo|0,rh=(${ah}+${bh}+(lo>4294967295?1:0))|0;`;
      else if (size === 4) s += `const r=(${a}+${b}+${cin})|0,rh=0;`;
      else s += `const r=(${a}+${b}+${cin})&${MASK[size]},rh=0;`;
      return s + this.lazy(op === 0 ? F_ADD : F_ADC, size, a, ah, b, bh, 'r', 'rh', cin);
    }
    if (op === 3 || op === 5 || op === 7) {
      if (size === 8) s += `const lo=(${a}>>>0)-(${b}>>>0)-${cin},r=lo|0,rh=(${ah}-${bh}-(lo<0?1:0))|0;`;
      else if (size === 4) s += `const r=(${a}-${b}-${cin})|0,rh=0;`;
      else s += `const r=(${a}-${b}-${cin})&${MASK[size]},rh=0;`;
      return s + this.lazy(op === 3 ? F_SBB : F_SUB, size, a, ah, b, bh, 'r', 'rh', cin);
    }
    const o = op === 1 ? '|' : op === 4 ? '&' : '^';
    s += `const r=${a}${o}${b},rh=${size === 8 ? `${ah}${o}${bh}` : '0'};`;
    return s + this.logic(size, 'r', 'rh');
  }
}

type Template = (e: Emitter, i: Insn) => string | null;

/**
 * RSP moved down by n (1..65535) as halves nl, nh in 32-bit arithmetic (a
 * borrow from the low half), and the new top `sp` as an address, computed
 * as the interpreter computes it (beyond 2^53 a double rounds, and the
 * fault reports that address); the template writes nl, nh to RSP after its
 * store, which faults for any address that is not canonical.
 */
const SP_DOWN = (n: number): string => `const nl=(RL[4]-${n})|0,nh=(RH[4]-((RL[4]>>>0)<${n}?1:0))|0,sp=RH[4]*4294967296+(RL[4]>>>0)-${n};`;
/**
 * push of a 64-bit value: RSP down by 8, the store through the write TLB
 * inline (the syscall paths push pt_regs, 20 words a trip), then RSP.
 */
const PUSH64 = (lo: string, hi: string): string => SP_DOWN(8) + storeAt('sp', 8, lo, hi) + 'RL[4]=nl;RH[4]=nh;';
/** A 64-bit call's push of its return address (the next instruction's, as halves). */
const PUSH_RETURN = (i: Insn): string => {
  const hi = Math.floor(i.next / 4294967296);
  return PUSH64(String((i.next - hi * 4294967296) | 0), String(hi | 0));
};
/** The 64-bit word at the top of the stack into v, vh (through the read TLB inline), its address in `sp`; RSP unchanged. */
const TOP64 = (v: string, vh: string): string => 'const sp=RH[4]*4294967296+(RL[4]>>>0);' + loadAt('sp', 8, v, vh);
/** ESP moved down by 4, wrapped at 4 GiB, as the address `sp` (compat mode's push). */
const ESP_DOWN = 'const sp=(RL[4]-4)>>>0;';
/** RSP moved up by n (1..65543) as halves nl, nh (a carry into the high half). */
const SP_UP = (n: number): string => `const nl=(RL[4]+${n})|0,nh=(RH[4]+((RL[4]>>>0)+${n}>4294967295?1:0))|0;`;

/** Operand b of an ALU form with an immediate, as aluEI takes it. */
function immB(i: Insn): string {
  return String(i.size < 4 ? i.imm & (i.size === 1 ? 0xff : 0xffff) : i.imm);
}

/** r/m op= b (aluEG, aluEI): read, compute, write back unless cmp. */
function aluRM(e: Emitter, i: Insn, b: string, bh: string): string {
  const size = i.size;
  const wb = i.sub !== 7;
  if (i.rm >= 0) {
    // the handlers read a register's high half only for size 8 (it is ignored otherwise)
    let s = `const a0=${e.reg(i.rm, size)},ah0=${size === 8 ? `RH[${i.rm}]` : '0'};`;
    s += e.aluOp(i.sub, size, 'a0', 'ah0', b, bh);
    if (wb) s += e.setReg(i.rm, size, 'r', 'rh');
    return s;
  }
  let s = e.ea(i) + e.load(size, 'a0', 'ah0');
  if (size !== 8) s += 'const ah0=0;';
  s += e.aluOp(i.sub, size, 'a0', 'ah0', b, bh);
  if (wb) s += e.store(size, 'r', 'rh');
  return s;
}

/** 64-bit rotate left of (lo, hi) by l (1..63), as shl64 | shr64 in shift.ts: statements leaving r, rh. */
function rotl64(l: number): string {
  const shl = l < 32 ? `let r=lo<<${l},rh=(hi<<${l})|(lo>>>${32 - l});` : `let r=0,rh=lo<<${l - 32};`;
  const m = 64 - l;
  const shr = m < 32 ? `r|=(lo>>>${m})|(hi<<${32 - m});rh|=hi>>>${m};` : `r|=hi>>>${m - 32};`;
  return shl + shr;
}

/** bit k (0..63) of (lo, hi). */
function bit64(k: number): string {
  return k < 32 ? `((lo>>>${k})&1)` : `((hi>>>${k - 32})&1)`;
}

/**
 * Group 2 on a 32- or 64-bit register by a constant count (shift.ts's grp2 and
 * shiftOp, specialised): shl/sal, shr, sar record their flags lazily (setResult),
 * rol/ror set CF and OF through cpu.setArith as the handler does. Other forms: null.
 */
function shiftTemplate(e: Emitter, i: Insn): string | null {
  const size = i.size, op = i.sub;
  if (i.rm < 0 || (size !== 4 && size !== 8) || i.imm2 === 2 || op === 2 || op === 3) return null;
  const n = (i.imm2 === 0 ? 1 : i.imm) & (size === 8 ? 63 : 31);
  const d = i.rm;
  if (n === 0) return size === 4 ? `RH[${d}]=0;` : '';
  let s = `const lo=RL[${d}],hi=${size === 8 ? `RH[${d}]` : '0'};`;
  if (op === 0 || op === 1) {
    const l = op === 0 ? n : size * 8 - n;
    if (size === 8) s += rotl64(l);
    else s += `const v=lo>>>0;const r=((v<<${l})|(v>>>${32 - l}))|0,rh=0;`;
    const msb = size === 8 ? '(rh>>>31)' : '(r>>>31)';
    if (op === 0) s += `const cf=r&1,of=${msb}^cf;`;
    else s += `const cf=${msb},of=cf^${size === 8 ? '((rh>>>30)&1)' : '((r>>>30)&1)'};`;
    s += e.rotate('cf|(of<<11)');
    return s + e.setReg(d, size, 'r', 'rh');
  }
  if (size === 8) {
    if (op === 4 || op === 6) {
      s += `const cf=${bit64(64 - n)};`;
      s += n < 32 ? `const r=lo<<${n},rh=(hi<<${n})|(lo>>>${32 - n});` : `const r=0,rh=lo<<${n - 32};`;
      s += 'const of=(rh>>>31)^cf;';
    } else if (op === 5) {
      s += `const cf=${bit64(n - 1)};`;
      s += n < 32 ? `const r=(lo>>>${n})|(hi<<${32 - n}),rh=hi>>>${n};` : `const r=hi>>>${n - 32},rh=0;`;
      s += 'const of=hi>>>31;';
    } else {
      s += `const cf=${bit64(n - 1)};`;
      s += n < 32 ? `const r=(lo>>>${n})|(hi<<${32 - n}),rh=hi>>${n};` : `const r=hi>>${n - 32},rh=hi>>31;`;
      s += 'const of=0;';
    }
  } else {
    s += 'const v=lo>>>0;';
    if (op === 4 || op === 6) s += `const cf=(v>>>${32 - n})&1,r=(v<<${n})|0,rh=0,of=(r>>>31)^cf;`;
    else if (op === 5) s += `const cf=(v>>>${n - 1})&1,r=(v>>>${n})|0,rh=0,of=(lo>>>31)&1;`;
    else s += `const cf=(lo>>${n - 1})&1,r=lo>>${n},rh=0,of=0;`;
  }
  s += e.result(size, 'r', 'rh', 'cf|(of<<11)');
  return s + e.setReg(d, size, 'r', 'rh');
}

/** imul reg, r/m (0F AF) and imul reg, r/m, imm (69, 6B) of 32 or 64 bits (alu.ts's imul2, with mullo64 inlined). */
function imulTemplate(e: Emitter, i: Insn): string | null {
  const size = i.size;
  if (size !== 4 && size !== 8) return null;
  let s = i.rm >= 0 ? `const b=RL[${i.rm}],bh=${size === 8 ? `RH[${i.rm}]` : '0'};` : e.ea(i) + e.load(size, 'b', 'bh') + (size === 8 ? '' : 'const bh=0;');
  s += i.opc === 0x1af ? `const a=RL[${i.reg}],ah=${size === 8 ? `RH[${i.reg}]` : '0'};` : `const a=${i.imm},ah=${i.immHi};`;
  if (size === 8) {
    // mul32(a>>>0, b>>>0) then the cross products (int64.ts mullo64)
    s +=
      'const x=a>>>0,y=b>>>0,x0=x&65535,x1=x>>>16,y0=y&65535,y1=y>>>16,t=x0*y0,mid=x1*y0+x0*y1+Math.floor(t/65536);' +
      'const lo=Math.imul(x,y),hi=((((x1*y1+Math.floor(mid/65536))>>>0)+Math.imul(a,bh)+Math.imul(ah,b))|0);';
    s += `RL[${i.reg}]=lo;RH[${i.reg}]=hi;`;
    return s + e.lazy(F_IMUL64, 8, 'a', 'ah', 'b', 'bh', 'lo', 'hi', '0');
  }
  s += `const p=Math.imul(a,b);RL[${i.reg}]=p;RH[${i.reg}]=0;`;
  return s + e.result(4, 'p', '0', '((a|0)*(b|0)!==p?2049:0)');
}

/** not r/m (no flags) and neg r/m (the flags of 0 - x, as alu.ts's neg records them). */
function notNegTemplate(e: Emitter, i: Insn): string {
  const size = i.size;
  let s = i.rm >= 0 ? `const a0=${e.reg(i.rm, size)},ah0=${size === 8 ? `RH[${i.rm}]` : '0'};` : e.ea(i) + e.load(size, 'a0', 'ah0') + (size === 8 ? '' : 'const ah0=0;');
  if (i.op === alu.not) s += 'const r=~a0,rh=~ah0;';
  else s += e.aluOp(5, size, '0', '0', 'a0', 'ah0');
  return s + (i.rm >= 0 ? e.setReg(i.rm, size, 'r', 'rh') : e.store(size, 'r', size === 8 ? 'rh' : '0'));
}

/** bswap of a 32- or 64-bit register (the 16-bit form, undefined, stays the handler's). */
function bswapTemplate(_e: Emitter, i: Insn): string | null {
  const r = i.reg;
  const sw = (v: string): string => `(((${v}&255)<<24)|((${v}&65280)<<8)|((${v}>>>8)&65280)|(${v}>>>24))`;
  if (i.size === 8) return `const lo=RL[${r}],hi=RH[${r}];RL[${r}]=${sw('hi')};RH[${r}]=${sw('lo')};`;
  if (i.size === 4) return `const v=RL[${r}];RL[${r}]=${sw('v')};RH[${r}]=0;`;
  return null;
}

const TEMPLATES = new Map<Handler, Template>([
  [alu.not, notNegTemplate],
  [alu.neg, notNegTemplate],
  [mv.bswap, bswapTemplate],
  [sh.grp2, shiftTemplate],
  [alu.imul2, imulTemplate],
  [mv.nop, () => ''],
  // DF is outside the lazy arithmetic flags: cpu.flags holds it whatever is pending
  [mv.cld, () => 'cpu.flags&=-1025;'],
  // pushfq (every syscall path saves the user's flags in pt_regs with it): the flags as the handler reads
  // them, RF and VM as 0, so the pending arithmetic flags go to cpu.lf first (the 16-bit form stays the handler's)
  [mv.pushf, (e, i) => (i.size !== 8 ? null : e.materialize() + 'const f=cpu.getFlags()&-196609;' + PUSH64('f', '0'))],
  [mv.std, () => 'cpu.flags|=1024;'],
  [
    // leave (any operand size, as the handler): RSP = RBP + 8 after the load from RBP, then RBP = the value
    mv.leave,
    () =>
      'const bp=RH[5]*4294967296+(RL[5]>>>0);' + loadAt('bp', 8, 'v', 'vh') +
      'const nl=(RL[5]+8)|0,nh=(RH[5]+((RL[5]>>>0)+8>4294967295?1:0))|0;RL[4]=nl;RH[4]=nh;RL[5]=v;RH[5]=vh;',
  ],
  [mv.movRR64, (_e, i) => `RL[${i.reg}]=RL[${i.rm}];RH[${i.reg}]=RH[${i.rm}];`],
  [mv.movRR64toRM, (_e, i) => `RL[${i.rm}]=RL[${i.reg}];RH[${i.rm}]=RH[${i.reg}];`],
  [mv.movRM64, (e, i) => e.ea(i) + e.load(8) + `RH[${i.reg}]=vh;RL[${i.reg}]=v;`],
  [mv.movMR64, (e, i) => e.ea(i) + e.store(8, `RL[${i.reg}]`, `RH[${i.reg}]`)],
  [mv.movRM32, (e, i) => e.ea(i) + e.load(4) + `RL[${i.reg}]=v;RH[${i.reg}]=0;`],
  [
    mv.movGE,
    (e, i) => {
      if (i.rm >= 0) return `const v=${e.reg(i.rm, i.size)},vh=${i.size === 8 ? `RH[${i.rm}]` : '0'};` + e.setReg(i.reg, i.size, 'v', 'vh');
      return e.ea(i) + e.load(i.size) + e.setReg(i.reg, i.size, 'v', 'vh');
    },
  ],
  [
    mv.movEG,
    (e, i) => {
      const v = e.reg(i.reg, i.size), vh = i.size === 8 ? `RH[${i.reg}]` : '0';
      if (i.rm >= 0) return `const v=${v},vh=${vh};` + e.setReg(i.rm, i.size, 'v', 'vh');
      return e.ea(i) + e.store(i.size, v, vh);
    },
  ],
  [mv.movRI, (e, i) => e.setReg(i.reg, i.size, String(i.imm), String(i.immHi))],
  [
    mv.movEI,
    (e, i) => {
      if (i.rm >= 0) return e.setReg(i.rm, i.size, String(i.imm), String(i.immHi));
      return e.ea(i) + e.store(i.size, String(i.imm), String(i.immHi));
    },
  ],
  [
    mv.movzx,
    (e, i) => {
      const src = i.rm >= 0 ? `const v=${e.reg(i.rm, i.sub)};` : e.ea(i) + e.load(i.sub);
      return src + e.setReg(i.reg, i.size, 'v', '0');
    },
  ],
  [
    mv.movsx,
    (e, i) => {
      let src = i.rm >= 0 ? `const v0=${e.reg(i.rm, i.sub)};` : e.ea(i) + e.load(i.sub, 'v0', 'v0h');
      src += i.sub === 1 ? 'const v=(v0<<24)>>24;' : i.sub === 2 ? 'const v=(v0<<16)>>16;' : 'const v=v0;';
      return src + e.setReg(i.reg, i.size, 'v', 'v>>31');
    },
  ],
  [
    mv.lea,
    (e, i) => {
      let s: string;
      if (i.base < 0 && i.index < 0) {
        const hi = Math.floor(i.disp / 4294967296);
        s = `const lo=${(i.disp - hi * 4294967296) | 0};let hi=${hi};`;
      } else {
        s = `let l=${i.disp >>> 0},hi=${i.disp >> 31};`;
        if (i.base >= 0) s += `l+=RL[${i.base}]>>>0;hi+=RH[${i.base}];`;
        if (i.index >= 0) {
          const sh = i.scale === 1 ? 0 : i.scale === 2 ? 1 : i.scale === 4 ? 2 : 3;
          const x = i.index;
          s += sh === 0 ? `l+=RL[${x}]>>>0;hi+=RH[${x}];` : `l+=(RL[${x}]<<${sh})>>>0;hi+=(RH[${x}]<<${sh})|(RL[${x}]>>>${32 - sh});`;
        }
        s += `hi=(hi+Math.floor(l/4294967296))|0;const lo=l|0;`;
      }
      if (i.asize === 4) s += 'hi=0;';
      return s + e.setReg(i.reg, i.size, 'lo', 'hi');
    },
  ],
  [
    mv.pushR,
    (_e, i) => {
      const v = i.reg;
      if (i.size === 2) return SP_DOWN(2) + `mem.write16(sp,RL[${v}]);RL[4]=nl;RH[4]=nh;`;
      return PUSH64(`RL[${v}]`, `RH[${v}]`);
    },
  ],
  [
    mv.pushI,
    (_e, i) => {
      if (i.size === 2) return SP_DOWN(2) + `mem.write16(sp,${i.imm});RL[4]=nl;RH[4]=nh;`;
      return PUSH64(String(i.imm), String(i.immHi));
    },
  ],
  [
    mv.pushE,
    (e, i) => {
      // the operand is read (its address from the old RSP) before RSP moves
      if (i.rm >= 0) return i.size === 2 ? null : `const v=RL[${i.rm}],vh=RH[${i.rm}];` + PUSH64('v', 'vh');
      if (i.size === 2) return null;
      return e.ea(i) + e.load(8) + PUSH64('v', 'vh');
    },
  ],
  [
    mv.popR,
    (e, i) => {
      if (i.size === 2) return null;
      return TOP64('v', 'vh') + SP_UP(8) + `RL[4]=nl;RH[4]=nh;RL[${i.reg}]=v;RH[${i.reg}]=vh;`;
    },
  ],
  // compat mode's stack (ops/compat.ts): ESP moves by 4 and wraps at 4 GiB, RSP's high half is cleared;
  // the 16-bit forms (66) are left to the handlers
  [c32.pushR, (_e, i) => (i.size === 2 ? null : ESP_DOWN + `mem.write32(sp,RL[${i.reg}]);RL[4]=sp|0;RH[4]=0;`)],
  [c32.pushI, (_e, i) => (i.size === 2 ? null : ESP_DOWN + `mem.write32(sp,${i.imm});RL[4]=sp|0;RH[4]=0;`)],
  // ESP moves before the register is written, so `pop %esp` loads the popped value
  [c32.popR, (e, i) => (i.size === 2 ? null : 'const sp=RL[4]>>>0;const v=mem.read32(sp);RL[4]=(sp+4)|0;RH[4]=0;' + e.setReg(i.reg, 4, 'v', '0'))],
  [c32.leave, () => 'const bp=RL[5]>>>0;const v=mem.read32(bp);RL[4]=(bp+4)|0;RH[4]=0;RL[5]=v;RH[5]=0;'],
  [c32.callRel, (_e, i) => (i.size === 2 ? null : ESP_DOWN + `mem.write32(sp,${i.next});RL[4]=sp|0;RH[4]=0;cpu.nextRip=${i.disp >>> 0};`)],
  [c32.jmpRel, (_e, i) => `cpu.nextRip=${i.disp >>> 0};`],
  [c32.ret, (_e, i) => (i.size === 2 ? null : `const sp=RL[4]>>>0;const t=mem.read32(sp)>>>0;RL[4]=(sp+${4 + (i.imm & 0xffff)})|0;RH[4]=0;cpu.nextRip=t;`)],
  [
    alu.aluRR64,
    (e, i) => {
      let s = `const a0=RL[${i.rm}],ah0=RH[${i.rm}],b0=RL[${i.reg}],bh0=RH[${i.reg}];` + e.aluOp(i.sub, 8, 'a0', 'ah0', 'b0', 'bh0');
      if (i.sub !== 7) s += `RL[${i.rm}]=r;RH[${i.rm}]=rh;`;
      return s;
    },
  ],
  [
    alu.aluRR64G,
    (e, i) => {
      let s = `const a0=RL[${i.reg}],ah0=RH[${i.reg}],b0=RL[${i.rm}],bh0=RH[${i.rm}];` + e.aluOp(i.sub, 8, 'a0', 'ah0', 'b0', 'bh0');
      if (i.sub !== 7) s += `RL[${i.reg}]=r;RH[${i.reg}]=rh;`;
      return s;
    },
  ],
  [alu.aluEG, (e, i) => `const b0=${e.reg(i.reg, i.size)},bh0=${i.size === 8 ? `RH[${i.reg}]` : '0'};` + aluRM(e, i, 'b0', 'bh0')],
  [
    alu.aluGE,
    (e, i) => {
      const size = i.size;
      let s = i.rm >= 0 ? `const b0=${e.reg(i.rm, size)},bh0=${size === 8 ? `RH[${i.rm}]` : '0'};` : e.ea(i) + e.load(size, 'b0', 'bh0') + (size === 8 ? '' : 'const bh0=0;');
      s += `const a0=${e.reg(i.reg, size)},ah0=${size === 8 ? `RH[${i.reg}]` : '0'};`;
      s += e.aluOp(i.sub, size, 'a0', 'ah0', 'b0', 'bh0');
      if (i.sub !== 7) s += e.setReg(i.reg, size, 'r', 'rh');
      return s;
    },
  ],
  [alu.aluEI, (e, i) => aluRM(e, i, immB(i), String(i.immHi))],
  [
    alu.zeroIdiom,
    (e, i) => e.setReg(i.rm, i.size, '0', '0') + (i.sub === 6 ? e.logic(i.size, '0', '0') : e.lazy(F_SUB, i.size, '0', '0', '0', '0', '0', '0', '0')),
  ],
  [
    alu.testEG,
    (e, i) => {
      const size = i.size;
      const a = i.rm >= 0 ? `const a0=${e.reg(i.rm, size)}${size === 8 ? `,ah0=RH[${i.rm}]` : ''};` : e.ea(i) + e.load(size, 'a0', 'ah0');
      return a + (size === 8 ? e.logic(8, `a0&RL[${i.reg}]`, `ah0&RH[${i.reg}]`) : e.logic(size, `a0&${e.reg(i.reg, size)}`, '0'));
    },
  ],
  [
    alu.testEI,
    (e, i) => {
      const size = i.size;
      const a = i.rm >= 0 ? `const a0=${e.reg(i.rm, size)}${size === 8 ? `,ah0=RH[${i.rm}]` : ''};` : e.ea(i) + e.load(size, 'a0', 'ah0');
      if (size === 8) return a + e.logic(8, `a0&${i.imm}`, `ah0&${i.immHi}`);
      return a + e.logic(size, `a0&${i.imm & (size === 1 ? 0xff : size === 2 ? 0xffff : -1)}`, '0');
    },
  ],
  [
    alu.incdec,
    (e, i) => {
      const size = i.size;
      let s = i.rm >= 0 ? `const a0=${e.reg(i.rm, size)},ah0=${size === 8 ? `RH[${i.rm}]` : '0'};` : e.ea(i) + e.load(size, 'a0', 'ah0') + (size === 8 ? '' : 'const ah0=0;');
      s += e.carry();
      const inc = i.sub === 0;
      const o = inc ? '+' : '-';
      if (size === 8) s += `const lo=(a0>>>0)${o}1,r=lo|0,rh=(ah0${inc ? '+(lo>4294967295?1:0)' : '-(lo<0?1:0)'})|0;`;
      else if (size === 4) s += `const r=(a0${o}1)|0,rh=0;`;
      else s += `const r=(a0${o}1)&${MASK[size]},rh=0;`;
      s += e.lazy(inc ? F_INC : F_DEC, size, 'a0', 'ah0', '1', '0', 'r', 'rh', 'c');
      return s + (i.rm >= 0 ? e.setReg(i.rm, size, 'r', 'rh') : e.store(size, 'r', 'rh'));
    },
  ],
  [
    mv.cmov,
    (e, i) => {
      const size = i.size;
      let s = i.rm >= 0 ? `const v=${e.reg(i.rm, size)},vh=${size === 8 ? `RH[${i.rm}]` : '0'};` : e.ea(i) + e.load(size);
      const c = e.cond(i.sub);
      s += c.pre + `if(${c.expr}){${e.setReg(i.reg, size, 'v', size === 8 ? 'vh' : '0')}}`;
      if (size === 4) s += `else RH[${i.reg}]=0;`;
      return s;
    },
  ],
  [
    mv.setcc,
    (e, i) => {
      const c = e.cond(i.sub);
      const v = `(${c.expr}?1:0)`;
      if (i.rm >= 0) return c.pre + e.setReg(i.rm, 1, v, '0');
      return c.pre + e.ea(i) + e.store(1, v, '0');
    },
  ],
  // control transfers: only ever a block's last instruction, where cpu.nextRip is set
  [ctl.jmpRel, (_e, i) => `cpu.nextRip=${i.disp};`],
  [ctl.jmpE, (e, i) => indirectTarget(e, i) + 'cpu.nextRip=t;'],
  [
    ctl.jcc,
    (e, i) => {
      const c = e.cond(i.sub);
      return c.pre + `if(${c.expr})cpu.nextRip=${i.disp};`;
    },
  ],
  [
    ctl.callRel,
    (_e, i) => PUSH_RETURN(i) + `cpu.nextRip=${i.disp};`,
  ],
]);

// Markers the templates leave, resolved by registersInLocals once the block's registers are known.
const SYNC_OUT = '/*OUT*/', SYNC_IN = '/*IN*/', REGS = '/*REGS*/';

/**
 * The guest registers a block uses live in locals (l3, h3 for RBX's halves)
 * loaded at its start; the ones it writes go back to cpu.rl/rh where the CPU
 * must hold them (SYNC_OUT: before a handler or cpu.ea reads them, at every
 * exit, in the fault path), and all are reloaded after a handler (SYNC_IN).
 * Templates change registers only after their last access that can fault,
 * so in the fault path the locals are the state before the faulting instruction.
 */
function registersInLocals(src: string): string {
  const used = new Set<string>(), written = new Set<string>();
  for (const m of src.matchAll(/R([LH])\[(\d+)\](=(?!=))?/g)) {
    const v = (m[1] === 'L' ? 'l' : 'h') + m[2];
    used.add(v);
    if (m[3]) written.add(v);
  }
  const arr = (v: string): string => `${v[0] === 'l' ? 'RL' : 'RH'}[${v.slice(1)}]`;
  const decl = used.size > 0 ? `let ${[...used].map((v) => `${v}=${arr(v)}`).join(',')};` : '';
  const out = [...written].map((v) => `${arr(v)}=${v};`).join('');
  const reload = [...used].map((v) => `${v}=${arr(v)};`).join('');
  const body = src.replace(/R([LH])\[(\d+)\]/g, (_m, half: string, r: string) => (half === 'L' ? 'l' : 'h') + r);
  // the declarations themselves read the arrays: put them in after the rename
  return body.split(SYNC_OUT).join(out).split(SYNC_IN).join(reload).replace(REGS, decl);
}

/** The r/m64 target of call/jmp r/m (FF /2, /4) into t: #GP at the instruction if not canonical (as control.ts). */
function indirectTarget(e: Emitter, i: Insn): string {
  const src = i.rm >= 0 ? `const lo=RL[${i.rm}],t=RH[${i.rm}]*4294967296+(lo>>>0);` : e.ea(i) + 'const lo=mem.read64(A),t=mem.hi*4294967296+(lo>>>0);';
  return src + 'if(t>=140737488355328||t<-140737488355328)throw GP();';
}

/** call r/m64: the target is read and checked before the return address is pushed. */
const callETemplate: Template = (e, i) => indirectTarget(e, i) + PUSH_RETURN(i) + 'cpu.nextRip=t;';

/** ret: a non-canonical target is #GP at the ret, with RSP unchanged (as ctl.ret). */
const retTemplate: Template = (_e, i) =>
  TOP64('lo', 'lh') + 'const t=lh*4294967296+(lo>>>0);' +
  `if(t>=140737488355328||t<-140737488355328)throw GP();` +
  SP_UP(8 + (i.imm & 0xffff)) + `RL[4]=nl;RH[4]=nh;cpu.nextRip=t;`;

/** Instructions that store to memory (a store may rewrite the block: cpu.smc). */
function mayStore(i: Insn, t: Template | undefined): boolean {
  if (t === undefined) return true; // a handler: anything
  const op = i.op;
  if (op === mv.pushR || op === mv.pushI || op === mv.pushE || op === mv.pushf || op === mv.movMR64 || op === c32.pushR || op === c32.pushI) return true;
  if (op === mv.movEG || op === mv.movEI || op === mv.setcc || op === alu.incdec || op === alu.not || op === alu.neg) return i.rm < 0;
  if (op === alu.aluEG || op === alu.aluEI) return i.rm < 0 && i.sub !== 7;
  return false;
}

/** A loop of one block: it ends in a jump or a conditional branch back to its first instruction. */
export function selfLoop(insns: Insn[]): boolean {
  const tail = insns[insns.length - 1];
  return (tail.op === ctl.jcc || tail.op === ctl.jmpRel || tail.op === c32.jmpRel) && tail.disp === insns[0].addr;
}

/** A block's instructions as statements; `base` is the index of its first instruction in I (a trace's blocks are one array). */
interface Member {
  code: string;
  templated: number;
  tailTemplated: boolean;
}

function member(e: Emitter, insns: Insn[], base: number): Member {
  const n = insns.length;
  const out: string[] = [`S=${base};L=${base + n - 1};`];
  let templated = 0;
  let tailTemplated = false;
  for (let j = 0; j < n; j++) {
    const i = insns[j];
    const k = base + j;
    e.k = k;
    const last = j === n - 1;
    let t = i.op === ctl.ret ? retTemplate : i.op === ctl.callE ? callETemplate : TEMPLATES.get(i.op);
    const body = t ? t(e, i) : null;
    if (body === null) t = undefined;
    out.push(`k=${k};`);
    if (last) out.push(`cpu.icount+=${j};cpu.rip=${i.addr};cpu.nextRip=${i.next};`);
    if (last) tailTemplated = body !== null;
    if (body !== null) {
      templated++;
      out.push(`{${body}}`);
    } else {
      out.push(e.materialize() + `${SYNC_OUT}h=1;H[${k}](cpu,I[${k}]);h=0;${last ? '' : SYNC_IN}`);
      e.pending = null;
    }
    if (!last && mayStore(i, t)) out.push(`if(cpu.smc){${e.pendingWrite()}${SYNC_OUT}cpu.smc=false;cpu.rip=${i.next};cpu.icount+=${j + 1};return D+${j + 1};}`);
  }
  return { code: out.join('\n'), templated, tailTemplated };
}

/** The lazy flags pending in the F* locals (if any: Fop, Rot) written to cpu.lf, as the interpreter would have left them. */
const FLAGS_OUT = `if(Fop===${F_LOGIC}){${LAZY_LOGIC}}else if(Fop===${F_RESULT}){${LAZY_RESULT}}else if(Fop>=0){${LAZY_ALL}}if(Rot>=0)cpu.setArith(2049,Rot);`;

/**
 * The function's frame around a body: the registers it uses in locals, the
 * lazy flags in locals, and the fault path, which leaves the CPU as the
 * interpreter leaves it when the instruction I[k] faults (S and L: the first
 * and last index of the block k is in).
 */
function frame(body: string): string {
  return registersInLocals(
    `const RL=cpu.rl,RH=cpu.rh,mem=cpu.mem,lf=cpu.lf;` +
    `${REGS}let k=0,S=0,L=0,h=0,D=0,Fop=-1,Fsz=0,Fa=0,Fah=0,Fb=0,Fbh=0,Fr=0,Frh=0,Fx=0,Rot=-1;` +
    // a handler that faults (h) found the registers in the CPU and leaves there what it did (a rep string's
    // completed rounds); the locals are the state before it
    `try{${body}}catch(err){if(h===0){${SYNC_OUT}}` +
    // precise: the flags as the interpreter would have left them, the faulting instruction's RIP and count
    FLAGS_OUT +
    `cpu.rip=I[k].addr;if(k<L)cpu.icount+=k-S;throw err;}`
  );
}

/**
 * JavaScript for a block, or null when it is not worth compiling (nothing
 * but handler calls). Exported for tests that look at what was generated.
 */
export function blockSource(insns: Insn[]): string | null {
  const e = new Emitter();
  const n = insns.length;
  const loop = selfLoop(insns);
  const m = member(e, insns, 0);
  if (m.templated === 0) return null;
  let body: string;
  if (loop && e.startFlagsDead && !(e.pending?.rot ?? false)) {
    // round after round of a loop whose flags the next round overwrites before anything sees them:
    // they stay in the F* locals (the fault path writes them out) and go to cpu.lf once, after the last round
    body = `for(;;){${m.code}\ncpu.icount++;D+=${n};if(cpu.nextRip!==${insns[0].addr}||D+${n}>B||cpu.stopRequested)break;}` + e.materialize();
  } else {
    body = m.code + e.materialize();
    // else the flags are in cpu.lf at the end of each round, as the start of the next expects
    if (loop) body = `for(;;){${body}\ncpu.icount++;D+=${n};if(cpu.nextRip!==${insns[0].addr}||D+${n}>B||cpu.stopRequested)break;}`;
    else body += `\ncpu.icount++;D=${n};`;
  }
  // after a handler as the last instruction (a template may decline a form: imul's 16-bit one),
  // the registers are already in the CPU, and the locals are stale
  if (m.tailTemplated) body += SYNC_OUT;
  body += `cpu.rip=cpu.nextRip;cpu.smc=false;return D;`;
  return frame(body);
}

/** Every instruction of the block has a template (no handler is called): a trace may go on past it. */
export function templated(insns: Insn[]): boolean {
  let t = isTemplated.get(insns);
  if (t === undefined) isTemplated.set(insns, (t = member(new Emitter(), insns, 0).templated === insns.length));
  return t;
}
/** templated's answers, by a block's instructions (the search for a trace asks about a block many times). */
const isTemplated = new WeakMap<Insn[], boolean>();

/**
 * JavaScript for a trace (jit/trace.ts): a cycle of two or more blocks, each
 * of which branches (or falls through) to the next and the last back to the
 * first, run as one loop with the registers and flags in locals throughout.
 * Between two blocks it does what the run loop does between them: it goes on
 * only while the branch went to the next block of the cycle, the next block
 * fits in the budget, nothing asked the CPU to stop and no store rewrote
 * code; else it leaves, with RIP at the branch's target. A block of the cycle
 * that loops on itself goes round inside it. Only blocks whose every
 * instruction has a template are traced (a handler may change what the
 * blocks' validity rests on: the mappings, the privilege level, the mode);
 * null otherwise.
 */
export function traceSource(blocks: Insn[][]): string | null {
  const e = new Emitter();
  let j = 0;
  // every exit goes through one sequence after the trace's code (OUT): V8 optimizes a trace on the
  // type feedback of the code that ran, and an exit first taken in optimized code deoptimizes it (exits
  // are taken rarely: where a slice's budget ends, at a tick), so there is one exit to learn
  const leave = (): string => {
    e.pendingWrite(); // the flags are looked at there: the pending ones, which OUT writes as the catch does
    return `{X[0]=${j};break out;}`;
  };
  let body = '';
  let headDead = false;
  let base = 0;
  for (; j < blocks.length; j++) {
    const insns = blocks[j];
    const n = insns.length;
    const next = blocks[(j + 1) % blocks.length];
    const inner = selfLoop(insns);
    // the flags a round of an inner loop starts with are in cpu.lf (or dead: see blockSource)
    if (inner) body += e.materialize();
    e.produced = false;
    e.startFlagsDead = false;
    const m = member(e, insns, base);
    if (m.templated !== n) return null;
    const dead = e.startFlagsDead && !(e.pending?.rot ?? false);
    if (j === 0) headDead = dead;
    let code = m.code;
    if (inner) {
      if (!dead) code += e.materialize();
      code = `for(;;){${code}\ncpu.icount++;D+=${n};if(cpu.nextRip!==${insns[0].addr}||D+${n}>B||cpu.stopRequested)break;}`;
    } else code += `\ncpu.icount++;D+=${n};`;
    // back to the first block: with the flags where its code expects them
    if (j === blocks.length - 1 && !headDead) code += e.materialize();
    const tail = insns[n - 1];
    const smc = mayStore(tail, TEMPLATES.get(tail.op)) ? '||cpu.smc' : '';
    code += `if(cpu.nextRip!==${next[0].addr}||D+${next.length}>B||cpu.stopRequested${smc})${leave()}`;
    body += code + '\n';
    base += n;
  }
  return frame(`X[0]=-1;out:{for(;;){${body}}}${FLAGS_OUT}${SYNC_OUT}cpu.rip=cpu.nextRip;cpu.smc=false;return D;`);
}

/**
 * The index in its trace of the block a trace function last left from
 * after running it whole (-1: it left inside a block, after a store into
 * code), which the run loop follows the links of next.
 */
export const traceExit = new Int32Array(1);

/** The #GP a non-canonical branch target raises (as control.ts's canonical()). */
function GP(): CpuFault {
  return new CpuFault(Vector.GP);
}

/**
 * Blocks compiled so far in this process, by where and what they are (the
 * mode, the first address and every instruction's bytes, which are all the
 * source depends on: the same bytes are other instructions in 32-bit code): a clone of the machine (src/machine/snapshot.ts) decodes its
 * blocks afresh, and finds the compiled form of the same block, with the
 * code V8 optimized for it, at once instead of after another HOT runs.
 */
const known = new Map<string, CompiledBlock | null>();
/** Entries kept at most (a program that keeps generating code must not grow this for ever). */
const KNOWN_MAX = 100_000;

function siteOf(insns: Insn[], compat: boolean): string {
  let k = (compat ? '32:' : '') + String(insns[0].addr);
  for (const i of insns) k += ':' + i.bytes.join(',');
  return k;
}

/** The compiled form of this block if one was made before (undefined: never compiled; null: not worth it). */
export function knownBlock(insns: Insn[], compat: boolean): CompiledBlock | null | undefined {
  return known.get(siteOf(insns, compat));
}

/**
 * Compile a block to a function (or null: see blockSource). 32-bit code
 * (compat) needs nothing of its own here: the forms whose meaning differs in
 * compat mode (the stack, near branches, segment loads: ops/compat.ts) have
 * handlers of their own, which the block calls, and the templates take the
 * operand and address sizes from the decoded instruction, as the 64-bit
 * handlers they replace do.
 */
export function compileBlock(insns: Insn[], compat: boolean): CompiledBlock | null {
  const site = siteOf(insns, compat);
  const had = known.get(site);
  if (had !== undefined) return had;
  const src = blockSource(insns);
  let fn: CompiledBlock | null = null;
  if (src !== null) {
    const handlers = insns.map((i) => i.op);
    const make = new Function('H', 'GP', `return function block(cpu,I,B){${src}};`) as (h: Handler[], gp: () => CpuFault) => CompiledBlock;
    fn = make(handlers, GP);
  }
  if (known.size >= KNOWN_MAX) known.clear();
  known.set(site, fn);
  return fn;
}

/**
 * Compile a trace, a cycle of blocks (jit/trace.ts), to one function (null:
 * a block has an instruction without a template, see traceSource, or it is
 * too long). It is called with the blocks' instructions as one array, in the
 * cycle's order.
 */
export function compileTrace(blocks: Insn[][], compat: boolean): CompiledBlock | null {
  const site = 'trace|' + blocks.map((b) => siteOf(b, compat)).join('|');
  const had = known.get(site);
  if (had !== undefined) return had;
  const src = traceSource(blocks);
  let fn: CompiledBlock | null = null;
  if (src !== null && src.length <= MAX_TRACE_SOURCE) {
    const make = new Function('H', 'GP', 'X', `return function trace(cpu,I,B){${src}};`) as (h: Handler[], gp: () => CpuFault, x: Int32Array) => CompiledBlock;
    fn = make(blocks.flat().map((i) => i.op), GP, traceExit);
  }
  if (known.size >= KNOWN_MAX) known.clear();
  known.set(site, fn);
  return fn;
}

/**
 * Characters of JavaScript a trace has at most. V8 never optimized longer
 * ones (traces of 8 to 12 blocks of busybox sha256sum, 55,000 to 75,000
 * characters, ran in its bytecode interpreter to the end, the whole program
 * 3x slower); one of 21,000 was optimized at once.
 */
const MAX_TRACE_SOURCE = 24_000;
