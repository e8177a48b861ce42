/**
 * x87 arithmetic and comparisons: fadd/fsub(r)/fmul/fdiv(r) with memory and
 * register operands, fcom/fucom(i), fchs, fabs, fsqrt, frndint, ftst, fxam,
 * fscale, fxtract, fprem/fprem1.
 */
import type { CPU } from '../../cpu.js';
import { CF, PF, ZF, SF, OF, AF } from '../../cpu.js';
import type { Handler, Insn } from '../../insn.js';
import { C0, C1, C2, C3, S_DE, S_IE, S_PE, S_ZE, phys, x87State } from '../../fpu-state.js';
import { A, B, EQ, type Ext, FIN, GT, INF, LT, NAN, OUT, T, TWO32, W, ZERO, addX, checkDE, cmpX, divX, fromInt64, isSNaN, loadW, mulX, nanResult, normW, rcOf, roundW, sqrtX, storeW, toIntMag, wIndef } from './float80.js';
import { type MemLoad, begin, cmpCC, finish, getST, pop, pushExt, pushW, setCC } from './stack.js';

const ARITH = CF | PF | AF | ZF | SF | OF;

/** dst = dst op src for op 0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr; result in W. */
function arithW(cpu: CPU, op: number, d: Ext, s: Ext): void {
  const rc = rcOf(cpu);
  // a denormal operand raises DE, except with a NaN or when dividing by zero
  if ((d.dn || s.dn) && d.c !== NAN && s.c !== NAN && !(op === 6 && s.c === ZERO) && !(op === 7 && d.c === ZERO)) W.flags |= S_DE;
  switch (op) {
    case 0:
      addX(d, s, s.s, rc);
      break;
    case 1:
      mulX(d, s);
      break;
    case 4:
      addX(d, s, s.s ^ (s.c === NAN ? 0 : 1), rc);
      break;
    case 5:
      addX(s, d, d.s ^ (d.c === NAN ? 0 : 1), rc);
      break;
    case 6:
      divX(cpu, d, s);
      break;
    default:
      divX(cpu, s, d);
  }
}

/** Arithmetic/compare with a memory operand (already unpacked into B): ST0 op B. */
function memArith(cpu: CPU, op: number): void {
  const st = x87State(cpu);
  const ok = getST(cpu, st, 0, A);
  if (op === 2 || op === 3) {
    checkDE(A, B);
    if (A.c === NAN || B.c === NAN) W.flags |= S_IE;
    setCC(cpu, cmpCC(cmpX(A, B)));
    if (op === 3) pop(cpu, st);
    finish(cpu);
    return;
  }
  if (ok) arithW(cpu, op, A, B);
  else wIndef();
  storeW(cpu, st, phys(cpu, 0), true);
  finish(cpu);
}

export function memArithHandler(load: MemLoad, op: number): Handler {
  return (cpu, i) => {
    begin(cpu);
    load(cpu, cpu.ea(i));
    memArith(cpu, op);
  };
}

/** D8 / DC / DE register arithmetic: d = destination index (0 or i), s = source index. */
export function regArith(op: number, d: number, s: number, popAfter: boolean): Handler {
  return (cpu, _i) => {
    begin(cpu);
    const st = x87State(cpu);
    const okA = getST(cpu, st, d, A);
    const okB = getST(cpu, st, s, B);
    if (okA && okB) arithW(cpu, op, A, B);
    else wIndef();
    storeW(cpu, st, phys(cpu, d), true);
    if (popAfter) pop(cpu, st);
    finish(cpu);
  };
}

/** fcom/fcomp/fucom/fucomp st(i) (pops = number of pops, unordered = fucom) */
export function regCom(sti: number, pops: number, unordered: boolean): Handler {
  return (cpu, _i) => {
    begin(cpu);
    const st = x87State(cpu);
    getST(cpu, st, 0, A);
    getST(cpu, st, sti, B);
    checkDE(A, B);
    if (unordered ? isSNaN(A) || isSNaN(B) : A.c === NAN || B.c === NAN) W.flags |= S_IE;
    setCC(cpu, cmpCC(cmpX(A, B)));
    for (let k = 0; k < pops; k++) pop(cpu, st);
    finish(cpu);
  };
}

/** fcomi/fcomip/fucomi/fucomip */
export function regComi(sti: number, popAfter: boolean, unordered: boolean): Handler {
  return (cpu, _i) => {
    begin(cpu);
    const st = x87State(cpu);
    getST(cpu, st, 0, A);
    getST(cpu, st, sti, B);
    checkDE(A, B);
    if (unordered ? isSNaN(A) || isSNaN(B) : A.c === NAN || B.c === NAN) W.flags |= S_IE;
    const r = cmpX(A, B);
    cpu.setArith(ARITH, r === GT ? 0 : r === LT ? CF : r === EQ ? ZF : ZF | PF | CF);
    cpu.fsw &= ~C1;
    if (popAfter) pop(cpu, st);
    finish(cpu);
  };
}

/** Apply a unary operation to ST0 (read into A), result in W. */
export function unary(f: (cpu: CPU) => void, round: boolean): Handler {
  return (cpu, _i) => {
    begin(cpu);
    const st = x87State(cpu);
    if (!getST(cpu, st, 0, A)) {
      finish(cpu);
      return;
    }
    if (!(A.s === 1 && f === sqrtOp)) checkDE(A, null);
    f(cpu);
    storeW(cpu, st, phys(cpu, 0), round);
    finish(cpu);
  };
}

/** fchs (sign flip) / fabs (sign clear) act on the raw register bits. */
function signOp(abs: boolean): Handler {
  return (cpu, _i) => {
    begin(cpu);
    const st = x87State(cpu);
    const p = phys(cpu, 0);
    if (st.empty & (1 << p)) {
      getST(cpu, st, 0, A);
      loadW(A, A.s);
      storeW(cpu, st, p, false);
    } else st.se[p] = abs ? st.se[p] & 0x7fff : st.se[p] ^ 0x8000;
    finish(cpu);
  };
}

export const fchs = signOp(false);
export const fabs = signOp(true);
const sqrtOp = (_cpu: CPU): void => sqrtX(A);
export const fsqrt = unary(sqrtOp, true);

function rndintW(cpu: CPU): void {
  if (A.c !== FIN) {
    if (A.c === NAN) nanResult(A, null);
    else loadW(A, A.s);
    return;
  }
  if (A.e >= 63) {
    loadW(A, A.s);
    return;
  }
  toIntMag(A, rcOf(cpu));
  fromInt64(OUT.lo | 0, OUT.hi | 0, T);
  // fromInt64 treats the words as signed; magnitude < 2^64 and here < 2^63+1
  if (T.c === ZERO) {
    W.c = ZERO;
    W.s = A.s;
    return;
  }
  if ((OUT.hi | 0) < 0) {
    // magnitude 2^63 exactly
    W.c = FIN;
    W.e = 63;
    W.h = 0x80000000;
    W.l = 0;
    W.x = 0;
    W.s = A.s;
    return;
  }
  loadW(T, A.s);
}

export const frndint = unary(rndintW, false);

export function ftst(cpu: CPU, _i: Insn): void {
  const st = x87State(cpu);
  getST(cpu, st, 0, A);
  checkDE(A, null);
  if (A.c === NAN) W.flags |= S_IE;
  T.c = ZERO;
  T.s = 0;
  setCC(cpu, cmpCC(cmpX(A, T)));
  finish(cpu);
}

export function fxam(cpu: CPU, _i: Insn): void {
  const st = x87State(cpu);
  const p = phys(cpu, 0);
  const sgn = st.se[p] & 0x8000 ? C1 : 0;
  if (st.empty & (1 << p)) {
    setCC(cpu, C3 | C0 | sgn);
    return;
  }
  const exp = st.se[p] & 0x7fff, h = st.mh[p], l = st.ml[p];
  let cc: number;
  if (exp === 0x7fff) {
    if ((h & 0x80000000) === 0) cc = 0;
    else cc = (h & 0x7fffffff) === 0 && l === 0 ? C2 | C0 : C0;
  } else if (exp === 0) cc = h === 0 && l === 0 ? C3 : C3 | C2;
  else cc = h & 0x80000000 ? C2 : 0;
  setCC(cpu, cc | sgn);
}

/** fscale: ST0 * 2^trunc(ST1) */
export function fscale(cpu: CPU, _i: Insn): void {
  begin(cpu);
  const st = x87State(cpu);
  getST(cpu, st, 0, A);
  getST(cpu, st, 1, B);
  if (A.c === NAN || B.c === NAN) nanResult(A, B);
  else if (B.c === INF) {
    if (B.s === 0) {
      if (A.c === ZERO) wIndef();
      else {
        W.c = A.c === ZERO ? ZERO : INF;
        W.s = A.s;
      }
    } else if (A.c === INF) wIndef();
    else {
      W.c = ZERO;
      W.s = A.s;
    }
  } else {
    checkDE(A, B);
    let n = 0;
    if (A.c === FIN && B.c === FIN) {
      n = !toIntMag(B, 3) || OUT.hi !== 0 || OUT.lo > 100000 ? 100000 : OUT.lo;
      W.flags &= ~S_PE;
    }
    loadW(A, A.s);
    if (n !== 0) {
      W.e += B.s ? -n : n;
      roundW(64, -16382, 16383, rcOf(cpu));
    }
  }
  storeW(cpu, st, phys(cpu, 0), false);
  finish(cpu);
}

/** fxtract: ST0 -> exponent, then push significand */
export function fxtract(cpu: CPU, _i: Insn): void {
  begin(cpu);
  const st = x87State(cpu);
  getST(cpu, st, 0, A);
  checkDE(A, null);
  const p0 = phys(cpu, 0);
  if (A.c === NAN) {
    nanResult(A, null);
    storeW(cpu, st, p0, false);
    pushW(cpu, st);
  } else if (A.c === ZERO) {
    W.flags |= S_ZE;
    W.c = INF;
    W.s = 1;
    storeW(cpu, st, p0, false);
    W.c = ZERO;
    W.s = A.s;
    pushW(cpu, st);
  } else if (A.c === INF) {
    W.c = INF;
    W.s = 0;
    storeW(cpu, st, p0, false);
    W.c = INF;
    W.s = A.s;
    pushW(cpu, st);
  } else {
    const e = A.e;
    fromInt64(e, e >> 31, T);
    loadW(T, T.s);
    storeW(cpu, st, p0, false);
    A.e = 0;
    pushExt(cpu, st, A);
  }
  finish(cpu);
}

/** fprem (ieee=false) / fprem1 (ieee=true) */
function remainder(ieee: boolean): Handler {
  return (cpu, _i) => {
    begin(cpu);
    const st = x87State(cpu);
    getST(cpu, st, 0, A);
    getST(cpu, st, 1, B);
    checkDE(A, B);
    const p0 = phys(cpu, 0);
    let cc = 0;
    if (A.c === NAN || B.c === NAN) nanResult(A, B);
    else if (A.c === INF || B.c === ZERO) wIndef();
    else if (A.c === ZERO || B.c === INF) loadW(A, A.s);
    else {
      let d = A.e - B.e;
      let partial = false;
      let be = B.e;
      if (d >= 64) {
        // partial remainder: like the hardware, reduce the exponent difference to a multiple of 32
        const n = 32 + (d & 31);
        be = B.e + d - n;
        d = n;
        partial = true;
      }
      if (d < 0) {
        if (ieee && d === -1 && !(A.h === B.h && A.l === B.l) && magHalfGreater()) {
          // |A| > |B|/2: remainder A - sign*B
          cc = C1;
          fromIeeeAdjust();
        } else loadW(A, A.s);
      } else {
        // long division of mantissas: r = MA * 2^d mod MB, q = quotient (low bits)
        let rh = A.h, rl = A.l;
        const bh = B.h, bl = B.l;
        let q = 0;
        for (let n = 0; n <= d; n++) {
          let bit = 0;
          if (rh > bh || (rh === bh && rl >= bl)) {
            rl -= bl;
            rh -= bh;
            if (rl < 0) {
              rl += TWO32;
              rh -= 1;
            }
            bit = 1;
          }
          q = ((q << 1) | bit) & 7;
          if (n < d) {
            rh = rh * 2 + (rl >= 2147483648 ? 1 : 0);
            rl = rl >= 2147483648 ? rl * 2 - TWO32 : rl * 2;
          }
        }
        // r = rh:rl with value r * 2^(be - 63)
        let rs = A.s;
        if (ieee && !partial) {
          // round quotient to nearest: if 2r > MB or (2r == MB and q odd) then r = MB - r, q++
          const r2h = rh * 2 + (rl >= 2147483648 ? 1 : 0), r2l = rl >= 2147483648 ? rl * 2 - TWO32 : rl * 2;
          const gt = r2h > bh || (r2h === bh && r2l > bl);
          const eq = r2h === bh && r2l === bl;
          if (gt || (eq && (q & 1) === 1)) {
            let nl = bl - rl, nh = bh - rh;
            if (nl < 0) {
              nl += TWO32;
              nh -= 1;
            }
            rh = nh;
            rl = nl;
            rs ^= 1;
            q = (q + 1) & 7;
          }
        }
        W.c = FIN;
        W.s = rs;
        W.h = rh;
        W.l = rl;
        W.x = 0;
        W.e = be;
        if (!normW()) {
          W.c = ZERO;
          W.s = A.s;
        }
        if (partial) cc = C2;
        else cc = (q & 4 ? C0 : 0) | (q & 2 ? C3 : 0) | (q & 1 ? C1 : 0);
      }
    }
    if (W.c === FIN && W.e < -16382) roundW(64, -16382, 16383, rcOf(cpu));
    storeW(cpu, st, p0, false);
    setCC(cpu, cc);
    finish(cpu);
  };
}

export const fprem = remainder(false);
export const fprem1 = remainder(true);

/** For fprem1 with exponent difference -1: is |A| > |B|/2? */
function magHalfGreater(): boolean {
  // |A| has exponent B.e - 1; |B|/2 has the same exponent with B's mantissa
  return A.h > B.h || (A.h === B.h && A.l > B.l);
}

function fromIeeeAdjust(): void {
  // result = A - sign(A)*B  (magnitudes: |B| - |A|, sign flipped)
  addX(A, B, A.s ^ 1, 0);
}
