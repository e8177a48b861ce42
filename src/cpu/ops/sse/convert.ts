/**
 * SSE conversions between float32, float64 and signed integers (scalar and
 * packed, general-register and xmm forms), rounded under MXCSR or truncated.
 */
import type { CPU } from '../../cpu.js';
import type { Handler, Insn } from '../../insn.js';
import { CD, CF32, CI, SD, SF32, SI, XD, XF, XI, bind, gprSrc, ld32, ld64, ldA } from './operands.js';
import { DAZ, DE, IE, PE, daz32, daz64, denorm32, denorm64, directed, isNaN32, isNaN64, isSNaN32, isSNaN64, mxRC, narrow32, roundRC } from './float.js';

/** Double -> int32 with rounding rc (4 = truncate); indefinite 0x80000000 on overflow/NaN. */
function toI32(cpu: CPU, x: number, rc: number): number {
  if (x !== x) {
    cpu.mxcsr |= IE;
    return 0x80000000 | 0;
  }
  const r = roundRC(x, rc);
  if (r < -2147483648 || r > 2147483647) {
    cpu.mxcsr |= IE;
    return 0x80000000 | 0;
  }
  if (r !== x) cpu.mxcsr |= PE;
  return r | 0;
}

/** Double -> int64; low half returned, high half in cvtHi. */
let cvtHi = 0;

function toI64(cpu: CPU, x: number, rc: number): number {
  if (x !== x) {
    cpu.mxcsr |= IE;
    cvtHi = 0x80000000 | 0;
    return 0;
  }
  const r = roundRC(x, rc);
  if (r < -9223372036854775808 || r >= 9223372036854775808) {
    cpu.mxcsr |= IE;
    cvtHi = 0x80000000 | 0;
    return 0;
  }
  if (r !== x) cpu.mxcsr |= PE;
  const hi = Math.floor(r / 4294967296);
  cvtHi = hi | 0;
  return (r - hi * 4294967296) | 0;
}

/** int64 (lo, hi) -> float32, correctly rounded to nearest. */
export function i64ToF32(lo: number, hi: number): number {
  const neg = hi < 0;
  let ml = lo >>> 0, mh = hi >>> 0;
  if (neg) {
    ml = (~lo + 1) >>> 0;
    mh = (~hi + (ml === 0 ? 1 : 0)) >>> 0;
  }
  // keep the double conversion exact: fold bits below 2^12 into a sticky bit
  if (mh >= 0x200000 && (ml & 0xfff) !== 0) ml = ((ml & ~0xfff) | 0x800) >>> 0;
  const v = mh * 4294967296 + ml;
  return Math.fround(neg ? -v : v);
}

/** cvtsi2ss xmm, r/m32|64 */
export function cvtsi2ss(cpu: CPU, i: Insn): void {
  const lo = gprSrc(cpu, i);
  const hi = cpu.hi;
  bind(cpu);
  let v: number;
  if (i.rex & 8) {
    const r = i64ToF32(lo, hi);
    const d = hi * 4294967296 + (lo >>> 0);
    const ed = (lo >>> 0) - (d - hi * 4294967296);
    v = narrow32(cpu, r, d !== r ? d - r : ed);
  } else v = narrow32(cpu, lo, 0);
  XF[i.reg << 2] = v;
}

/** cvtsi2sd xmm, r/m32|64 */
export function cvtsi2sd(cpu: CPU, i: Insn): void {
  const lo = gprSrc(cpu, i);
  const hi = cpu.hi;
  bind(cpu);
  if (i.rex & 8) {
    const r = hi * 4294967296 + (lo >>> 0);
    const e = (lo >>> 0) - (r - hi * 4294967296);
    if (e !== 0) cpu.mxcsr |= PE;
    XD[i.reg << 1] = directed(r, e, mxRC(cpu), false);
  } else XD[i.reg << 1] = lo;
}

/** cvt(t)ss2si / cvt(t)sd2si: trunc=true for the 2C forms */
export function cvt2si(dbl: boolean, trunc: boolean): Handler {
  return (cpu, i) => {
    let x: number;
    if (dbl) {
      ld64(cpu, i);
      x = daz64(cpu, SD[0]);
    } else {
      ld32(cpu, i);
      x = daz32(cpu, SF32[0]);
    }
    const rc = trunc ? 3 : mxRC(cpu);
    if (i.rex & 8) {
      const lo = toI64(cpu, x, rc);
      cpu.setReg(i.reg, 8, lo, cvtHi);
    } else cpu.setReg(i.reg, 4, toI32(cpu, x, rc), 0);
  };
}

/** float32 bits -> float64 stored at XI[2q], XI[2q+1] (NaNs quieted, payload kept) */
function f32to64(cpu: CPU, bits: number, q: number): void {
  if (isNaN32(bits)) {
    if (isSNaN32(bits)) cpu.mxcsr |= IE;
    const m = (bits & 0x7fffff) | 0x400000;
    XI[2 * q + 1] = (bits & 0x80000000) | 0x7ff00000 | (m >>> 3);
    XI[2 * q] = (m & 7) << 29;
  } else {
    CI[0] = bits;
    let v = CF32[0];
    if (denorm32(v)) {
      if (cpu.mxcsr & DAZ) v = v < 0 ? -0 : 0;
      else cpu.mxcsr |= DE;
    }
    XD[q] = v;
  }
}

/** float64 (lo, hi) -> float32 bits */
function f64to32(cpu: CPU, lo: number, hi: number): number {
  if (isNaN64(hi, lo)) {
    if (isSNaN64(hi, lo)) cpu.mxcsr |= IE;
    return (hi & 0x80000000) | 0x7fc00000 | ((hi & 0x7ffff) << 3) | (lo >>> 29);
  }
  CI[0] = lo;
  CI[1] = hi;
  let d = CD[0];
  if (denorm64(d)) {
    if (cpu.mxcsr & DAZ) d = d < 0 ? -0 : 0;
    else cpu.mxcsr |= DE;
  }
  CF32[0] = narrow32(cpu, d, 0);
  return CI[0];
}

export function cvtss2sd(cpu: CPU, i: Insn): void {
  ld32(cpu, i);
  f32to64(cpu, SI[0], i.reg << 1);
}

export function cvtsd2ss(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  XI[i.reg << 2] = f64to32(cpu, SI[0], SI[1]);
}

export function cvtps2pd(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  f32to64(cpu, SI[0], i.reg << 1);
  f32to64(cpu, SI[1], (i.reg << 1) + 1);
}

export function cvtpd2ps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = f64to32(cpu, SI[0], SI[1]);
  XI[d + 1] = f64to32(cpu, SI[2], SI[3]);
  XI[d + 2] = 0;
  XI[d + 3] = 0;
}

export function cvtdq2ps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) XF[d + k] = narrow32(cpu, SI[k], 0);
}

export function cvtdq2pd(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  const a = SI[0], b = SI[1];
  XD[i.reg << 1] = a;
  XD[(i.reg << 1) + 1] = b;
}

export function cvtps2dq(trunc: boolean): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 2, rc = trunc ? 3 : mxRC(cpu);
    for (let k = 0; k < 4; k++) XI[d + k] = toI32(cpu, daz32(cpu, SF32[k]), rc);
  };
}

export function cvtpd2dq(trunc: boolean): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 2, rc = trunc ? 3 : mxRC(cpu);
    XI[d] = toI32(cpu, daz64(cpu, SD[0]), rc);
    XI[d + 1] = toI32(cpu, daz64(cpu, SD[1]), rc);
    XI[d + 2] = 0;
    XI[d + 3] = 0;
  };
}
