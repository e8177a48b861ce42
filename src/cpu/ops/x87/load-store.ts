/**
 * x87 loads and stores: fld/fst(p)/fild/fist(p)/fisttp of every memory
 * format, 80-bit fld/fstp, register moves (fld st(i), fst(p) st(i), fxch,
 * fcmovcc) and the constants (fld1, fldpi ...).
 */
import type { CPU } from '../../cpu.js';
import type { Handler, Insn } from '../../insn.js';
import { C1, S_DE, S_IE, S_SF, phys, x87State } from '../../fpu-state.js';
import { A, B, OUT, T, W, rcOf, storeW, toF32, toF64, toInt, unpack, wIndef } from './float80.js';
import { type MemLoad, begin, finish, getST, pop, push, pushExt } from './stack.js';

export function fldMem(load: MemLoad): Handler {
  return (cpu, i) => {
    begin(cpu);
    load(cpu, cpu.ea(i));
    if (B.dn) W.flags |= S_DE;
    const st = x87State(cpu);
    pushExt(cpu, st, B);
    finish(cpu);
  };
}

export function fld80(cpu: CPU, i: Insn): void {
  begin(cpu);
  const a = cpu.ea(i);
  const lo = cpu.mem.read64(a);
  const hi = cpu.mem.hi;
  const se = cpu.mem.read16(a + 8);
  const st = x87State(cpu);
  const p = push(cpu, st);
  if (p >= 0) {
    st.se[p] = se;
    st.mh[p] = hi >>> 0;
    st.ml[p] = lo >>> 0;
    st.empty &= ~(1 << p);
  }
  finish(cpu);
}

export function fstp80(cpu: CPU, i: Insn): void {
  begin(cpu);
  const a = cpu.ea(i);
  const st = x87State(cpu);
  const p = phys(cpu, 0);
  let se: number, h: number, l: number;
  if (st.empty & (1 << p)) {
    W.flags |= S_IE | S_SF;
    se = 0xffff;
    h = 0xc0000000;
    l = 0;
  } else {
    se = st.se[p];
    h = st.mh[p];
    l = st.ml[p];
  }
  cpu.mem.wpage(a);
  cpu.mem.wpage(a + 9);
  cpu.mem.write64(a, l | 0, h | 0);
  cpu.mem.write16(a + 8, se);
  pop(cpu, st);
  finish(cpu);
}

/** fst/fstp m32 (size 4) or m64 (size 8) */
export function fstMem(size: number, popAfter: boolean): Handler {
  return (cpu, i) => {
    begin(cpu);
    const a = cpu.ea(i);
    const st = x87State(cpu);
    getST(cpu, st, 0, A);
    const rc = rcOf(cpu);
    if (size === 4) {
      const v = toF32(A, rc);
      cpu.mem.write32(a, v);
    } else {
      toF64(A, rc);
      cpu.mem.write64(a, OUT.lo, OUT.hi);
    }
    if (popAfter) pop(cpu, st);
    finish(cpu);
  };
}

/** fist/fistp/fisttp m16/m32/m64 */
export function fistMem(bits: number, popAfter: boolean, trunc: boolean): Handler {
  return (cpu, i) => {
    begin(cpu);
    const a = cpu.ea(i);
    const st = x87State(cpu);
    getST(cpu, st, 0, A);
    toInt(A, trunc ? 3 : rcOf(cpu), bits);
    if (bits === 16) cpu.mem.write16(a, OUT.lo);
    else if (bits === 32) cpu.mem.write32(a, OUT.lo);
    else cpu.mem.write64(a, OUT.lo, OUT.hi);
    if (popAfter) pop(cpu, st);
    finish(cpu);
  };
}

export function fldReg(sti: number): Handler {
  return (cpu, _i) => {
    const st = x87State(cpu);
    const p = phys(cpu, sti);
    if (st.empty & (1 << p)) {
      getST(cpu, st, sti, A);
      pushExt(cpu, st, A);
    } else {
      const se = st.se[p], h = st.mh[p], l = st.ml[p];
      const q = push(cpu, st);
      if (q >= 0) {
        st.se[q] = se;
        st.mh[q] = h;
        st.ml[q] = l;
        st.empty &= ~(1 << q);
      }
    }
    finish(cpu);
  };
}

/** fst/fstp st(i): copy ST0 raw */
export function fstReg(sti: number, popAfter: boolean): Handler {
  return (cpu, _i) => {
    const st = x87State(cpu);
    const p0 = phys(cpu, 0), p = phys(cpu, sti);
    if (st.empty & (1 << p0)) {
      W.flags |= S_IE | S_SF;
      st.se[p] = 0xffff;
      st.mh[p] = 0xc0000000;
      st.ml[p] = 0;
    } else {
      st.se[p] = st.se[p0];
      st.mh[p] = st.mh[p0];
      st.ml[p] = st.ml[p0];
    }
    st.empty &= ~(1 << p);
    if (popAfter) pop(cpu, st);
    finish(cpu);
  };
}

export function fxch(sti: number): Handler {
  return (cpu, _i) => {
    const st = x87State(cpu);
    const p0 = phys(cpu, 0), p = phys(cpu, sti);
    for (const q of [p0, p]) {
      if (st.empty & (1 << q)) {
        W.flags |= S_IE | S_SF;
        st.se[q] = 0xffff;
        st.mh[q] = 0xc0000000;
        st.ml[q] = 0;
        st.empty &= ~(1 << q);
      }
    }
    const se = st.se[p0], h = st.mh[p0], l = st.ml[p0];
    st.se[p0] = st.se[p];
    st.mh[p0] = st.mh[p];
    st.ml[p0] = st.ml[p];
    st.se[p] = se;
    st.mh[p] = h;
    st.ml[p] = l;
    cpu.fsw &= ~C1;
    finish(cpu);
  };
}

/** fcmovcc st0, st(i): cc is the condition code for cpu.cond */
export function fcmov(cc: number, sti: number): Handler {
  return (cpu, _i) => {
    begin(cpu);
    if (!cpu.cond(cc)) return;
    const st = x87State(cpu);
    const p = phys(cpu, sti), p0 = phys(cpu, 0);
    if (st.empty & ((1 << p) | (1 << p0))) {
      getST(cpu, st, 0, A);
      getST(cpu, st, sti, A);
      wIndef();
      storeW(cpu, st, p0, false);
    } else {
      st.se[p0] = st.se[p];
      st.mh[p0] = st.mh[p];
      st.ml[p0] = st.ml[p];
    }
    finish(cpu);
  };
}

/**
 * Push a constant given as 80-bit fields rounded to nearest; dir says whether
 * that rounding went up (+1) or down (-1), so that rounding down/toward zero
 * (dir +1) or up (dir -1) yields the neighbouring value like hardware.
 */
function fldConst(se: number, h: number, l: number, dir: number): Handler {
  return (cpu, _i) => {
    begin(cpu);
    const st = x87State(cpu);
    const rc = rcOf(cpu);
    let lo = l;
    if (dir > 0 && (rc === 1 || rc === 3)) lo -= 1;
    else if (dir < 0 && rc === 2) lo += 1;
    unpack(se, h >>> 0, lo >>> 0, T);
    pushExt(cpu, st, T);
    finish(cpu);
  };
}

// constants: fld1, fldl2t, fldl2e, fldpi, fldlg2, fldln2, fldz (rounded to nearest)
export const fld1 = fldConst(0x3fff, 0x80000000, 0x00000000, 0);
export const fldl2t = fldConst(0x4000, 0xd49a784b, 0xcd1b8afe, -1); // log2(10)
export const fldl2e = fldConst(0x3fff, 0xb8aa3b29, 0x5c17f0bc, 1); // log2(e)
export const fldpi = fldConst(0x4000, 0xc90fdaa2, 0x2168c235, 1);
export const fldlg2 = fldConst(0x3ffd, 0x9a209a84, 0xfbcff799, 1); // log10(2)
export const fldln2 = fldConst(0x3ffe, 0xb17217f7, 0xd1cf79ac, 1); // ln(2)
export const fldz = fldConst(0x0000, 0x00000000, 0x00000000, 0);
