/**
 * IEEE arithmetic under MXCSR for the SSE floating-point instructions.
 *
 * JS doubles compute +, -, *, / and sqrt correctly rounded to nearest; float32
 * results are rounded once more with Math.fround, which is exact for these
 * operations (53 >= 2*24+2). The exact error of each result (TwoSum, Dekker
 * products, division/sqrt residuals) gives its direction, from which MXCSR.RC's
 * directed roundings and the PE/UE/OE flags follow; DE, ZE, IE, DAZ and FTZ are
 * implemented too, and the results and flags match a real CPU bit for bit
 * (test/sse.test.ts). NaNs are handled on the bit patterns (JS does not
 * preserve NaN payloads): an SNaN is quieted, the first operand's NaN wins, an
 * invalid operation yields the default QNaN. Exceptions are always treated as
 * masked (#XM is never raised).
 */
import type { CPU } from '../../cpu.js';
import { CD, CF32, CI } from './operands.js';

// MXCSR exception flags
export const IE = 1;
const ZE = 4;
const OE = 8;
export const PE = 32;
export const DAZ = 0x40;
/** FTZ with the underflow exception masked */
const FTZ_UM = 0x8800;

export function isNaN32(b: number): boolean {
  return (b & 0x7fffffff) > 0x7f800000;
}

export function isSNaN32(b: number): boolean {
  return (b & 0x7fc00000) === 0x7f800000 && (b & 0x3fffff) !== 0;
}

export function isSNaN64(hi: number, lo: number): boolean {
  return (hi & 0x7ff80000) === 0x7ff00000 && ((hi & 0x7ffff) | lo) !== 0;
}

export function isNaN64(hi: number, lo: number): boolean {
  const h = hi & 0x7fffffff;
  return h > 0x7ff00000 || (h === 0x7ff00000 && lo !== 0);
}

export const DEF_NAN32 = 0xffc00000 | 0;
export const DEF_NAN64_HI = 0xfff80000 | 0;
export const ADD = 0, MUL = 1, SUB = 2, DIV = 3, MIN = 4, MAX = 5;

/** Arithmetic on two non-NaN values, rounded to nearest double. */
function arith(op: number, a: number, b: number): number {
  switch (op) {
    case ADD:
      return a + b;
    case MUL:
      return a * b;
    case SUB:
      return a - b;
    default:
      return a / b;
  }
}

export const DE = 2;
const UE = 16;
const MIN32 = 1.1754943508222875e-38;
const MAX32 = 3.4028234663852886e38;
const MIN64 = 2.2250738585072014e-308;
const MAX64 = Number.MAX_VALUE;
const SPLIT = 134217729; // 2^27 + 1

/** Exact a*b - p (p = RN(a*b)) by Dekker's product; requires moderate magnitudes. */
function dekker(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b), bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/** Unbiased exponent of a finite nonzero double. */
function ilogb(x: number): number {
  CD[0] = x;
  const e = (CI[1] >>> 20) & 0x7ff;
  if (e !== 0) return e - 1023;
  CD[0] = x * 18446744073709551616;
  return ((CI[1] >>> 20) & 0x7ff) - 1023 - 64;
}

function ldexp(x: number, n: number): number {
  while (n > 1000) {
    x *= 2 ** 1000;
    n -= 1000;
  }
  while (n < -1000) {
    x *= 2 ** -1000;
    n += 1000;
  }
  return x * 2 ** n;
}

function moderate(x: number): boolean {
  const m = Math.abs(x);
  return m > 1e-150 && m < 1e150;
}

/** A number with the sign of (exact - r), exact = a op b, r = RN result (finite); 0 if exact. */
function errSign64(op: number, a: number, b: number, r: number): number {
  switch (op) {
    case ADD:
    case SUB: {
      if (op === SUB) b = -b;
      const bb = r - a;
      return a - (r - bb) + (b - bb);
    }
    case MUL:
      if (a === 0 || b === 0) return 0;
      if (moderate(a) && moderate(b) && moderate(r)) return dekker(a, b, r);
      {
        const ea = ilogb(a), eb = ilogb(b);
        const a1 = ldexp(a, -ea), b1 = ldexp(b, -eb);
        return dekker(a1, b1, ldexp(r, -(ea + eb)));
      }
    case DIV: {
      if (a === 0 || b === Infinity || b === -Infinity || a === Infinity || a === -Infinity) return 0;
      let a1 = a, b1 = b, q = r;
      if (!(moderate(a) && moderate(b) && moderate(r))) {
        const ea = ilogb(a), eb = ilogb(b);
        a1 = ldexp(a, -ea);
        b1 = ldexp(b, -eb);
        q = ldexp(r, eb - ea);
      }
      const p = q * b1;
      const rem = a1 - p - dekker(q, b1, p);
      return b1 < 0 ? -rem : rem;
    }
    default: {
      // sqrt of b
      if (b === 0 || b === Infinity) return 0;
      let b1 = b, s = r;
      if (!moderate(b)) {
        const k = ilogb(b) >> 1;
        b1 = ldexp(b, -2 * k);
        s = ldexp(r, -k);
      }
      const p = s * s;
      return b1 - p - dekker(s, s, p);
    }
  }
}

function nextUp64(x: number): number {
  if (x !== x || x === Infinity) return x;
  if (x === 0) return 5e-324;
  CD[0] = x;
  let lo = CI[0], hi = CI[1];
  if (x > 0) {
    lo = (lo + 1) | 0;
    if (lo === 0) hi++;
  } else {
    if (lo === 0) hi--;
    lo = (lo - 1) | 0;
  }
  CI[0] = lo;
  CI[1] = hi;
  return CD[0];
}

function nextUp32(x: number): number {
  if (x !== x || x === Infinity) return x;
  if (x === 0) return 1.401298464324817e-45;
  CF32[0] = x;
  CI[0] = x > 0 ? CI[0] + 1 : CI[0] - 1;
  return CF32[0];
}

/** Apply directed rounding rc (1 down, 2 up, 3 zero) to the nearest result r given the error sign e. */
export function directed(r: number, e: number, rc: number, single: boolean): number {
  if (rc === 0 || e === 0) return r;
  const down = rc === 1 ? e < 0 : rc === 2 ? false : e < 0 && r > 0;
  const up = rc === 2 ? e > 0 : rc === 1 ? false : e > 0 && r < 0;
  if (down) return single ? -nextUp32(-r) : -nextUp64(-r);
  if (up) return single ? nextUp32(r) : nextUp64(r);
  return r;
}

/** Overflowed result under rc: infinity or the largest finite value. */
function overflow(r: number, rc: number, max: number): number {
  if (rc === 0) return r;
  if (rc === 3) return r > 0 ? max : -max;
  if (rc === 1) return r > 0 ? max : r;
  return r < 0 ? -max : r;
}

/**
 * Round the exact result of a op b (float64 inputs) to float64 under MXCSR,
 * raising PE/UE/OE. r is the nearest-rounded result (finite or infinite).
 */
export function finish64(cpu: CPU, op: number, a: number, b: number, r: number): number {
  const rc = (cpu.mxcsr >> 13) & 3;
  if (r === Infinity || r === -Infinity) {
    cpu.mxcsr |= OE | PE;
    return overflow(r, rc, MAX64);
  }
  const e = errSign64(op, a, b, r);
  if ((cpu.mxcsr & FTZ_UM) === FTZ_UM && tiny(r, e, MIN64)) return flush(cpu, r, e);
  if (e === 0 || e !== e) return r;
  let f = PE;
  const v = directed(r, e, rc, false);
  const m = Math.abs(v);
  const mr = Math.abs(r);
  if (mr < MIN64 || (mr === MIN64 && (r > 0 ? e < 0 : e > 0))) f |= UE;
  if (m === Infinity) f |= OE;
  cpu.mxcsr |= f;
  return v;
}

/** Same for float32 results: d is the double result of the float32 operation. */
export function finish32(cpu: CPU, op: number, a: number, b: number, d: number): number {
  const rc = (cpu.mxcsr >> 13) & 3;
  const r = Math.fround(d);
  if ((r === Infinity || r === -Infinity) && d - d === 0) {
    cpu.mxcsr |= OE | PE;
    return overflow(r, rc, MAX32);
  }
  let e: number;
  if (d !== r) e = d - r;
  else if (op === ADD || op === SUB) e = errSign64(op, a, b, d);
  else if (op === MUL) e = 0;
  else if (op === DIV) {
    if (a === 0 || !isFinite(a) || !isFinite(b)) e = 0;
    else {
      const rem = a - r * b;
      e = b < 0 ? -rem : rem;
    }
  } else e = b === 0 || b === Infinity ? 0 : b - r * r;
  if ((cpu.mxcsr & FTZ_UM) === FTZ_UM && tiny(r, e, MIN32)) return flush(cpu, r, e);
  if (e === 0 || e !== e) return r;
  let f = PE;
  const v = directed(r, e, rc, true);
  const m = Math.abs(v);
  const mr = Math.abs(r);
  if (mr < MIN32 || (mr === MIN32 && (r > 0 ? e < 0 : e > 0))) f |= UE;
  if (m === Infinity) f |= OE;
  cpu.mxcsr |= f;
  return v;
}

/** Is the exact result (r + e, r rounded to nearest) tiny, i.e. nonzero and below the smallest normal? */
function tiny(r: number, e: number, min: number): boolean {
  const m = Math.abs(r);
  if (m < min) return r !== 0 || (e !== 0 && e === e);
  return m === min && (r > 0 ? e < 0 : e > 0);
}

/** FTZ: a tiny result becomes zero with the true result's sign, raising UE and PE. */
function flush(cpu: CPU, r: number, e: number): number {
  cpu.mxcsr |= UE | PE;
  return r < 0 || (r === 0 && e < 0) ? -0 : 0;
}

/** Round a double (exact value d) to float32 under MXCSR (cvtsd2ss, cvtsi2ss...). */
export function narrow32(cpu: CPU, d: number, e0: number): number {
  const rc = (cpu.mxcsr >> 13) & 3;
  const r = Math.fround(d);
  if ((r === Infinity || r === -Infinity) && d - d === 0) {
    cpu.mxcsr |= OE | PE;
    return overflow(r, rc, MAX32);
  }
  const e = d !== r ? d - r : e0;
  if ((cpu.mxcsr & FTZ_UM) === FTZ_UM && tiny(r, e, MIN32)) return flush(cpu, r, e);
  if (e === 0 || e !== e) return r;
  let f = PE;
  const mr = Math.abs(r);
  if (mr < MIN32 || (mr === MIN32 && (r > 0 ? e < 0 : e > 0))) f |= UE;
  const v = directed(r, e, rc, true);
  if (Math.abs(v) === Infinity) f |= OE;
  cpu.mxcsr |= f;
  return v;
}

export function denorm32(x: number): boolean {
  return x !== 0 && x < MIN32 && x > -MIN32;
}

export function denorm64(x: number): boolean {
  return x !== 0 && x < MIN64 && x > -MIN64;
}

/**
 * A source operand under MXCSR.DAZ: a denormal reads as a zero of its sign,
 * with no flag. For the instructions that otherwise raise no DE for one
 * (conversions to integer, round): their results and PE follow from the zero.
 */
export function daz32(cpu: CPU, x: number): number {
  return cpu.mxcsr & DAZ && denorm32(x) ? (x < 0 ? -0 : 0) : x;
}

export function daz64(cpu: CPU, x: number): number {
  return cpu.mxcsr & DAZ && denorm64(x) ? (x < 0 ? -0 : 0) : x;
}

/** Result zero of an exact cancellation: -0 when rounding down unless both addends are +0. */
function zeroSign(r: number, op: number, a: number, b: number, rc: number): number {
  if (r !== 0 || rc !== 1 || (op !== ADD && op !== SUB)) return r;
  const bneg = op === SUB ? !(1 / b < 0) : 1 / b < 0;
  return 1 / a < 0 || bneg || a !== 0 ? -0 : 0;
}

/** Scalar float32 a op b on bit patterns under MXCSR; returns the result bits. */
export function fbin32(cpu: CPU, op: number, ai: number, bi: number): number {
  CI[0] = ai;
  let a = CF32[0];
  CI[0] = bi;
  let b = CF32[0];
  if (a !== a || b !== b) {
    if (op >= MIN) {
      cpu.mxcsr |= IE;
      return bi;
    }
    if (isSNaN32(ai) || isSNaN32(bi)) cpu.mxcsr |= IE;
    return (isNaN32(ai) ? ai : bi) | 0x400000;
  }
  if (denorm32(a) || denorm32(b)) {
    if (cpu.mxcsr & DAZ) {
      if (denorm32(a)) {
        ai &= 0x80000000;
        a = ai !== 0 ? -0 : 0;
      }
      if (denorm32(b)) {
        bi &= 0x80000000;
        b = bi !== 0 ? -0 : 0;
      }
    } else cpu.mxcsr |= DE;
  }
  if (op === MIN) return a < b ? ai : bi;
  if (op === MAX) return a > b ? ai : bi;
  const d = arith(op, a, b);
  if (d !== d) {
    cpu.mxcsr |= IE;
    return DEF_NAN32;
  }
  if (op === DIV && b === 0) {
    if (a - a === 0) cpu.mxcsr |= ZE;
    CF32[0] = d;
  } else if (d === 0 && (op === ADD || op === SUB)) CF32[0] = zeroSign(d, op, a, b, (cpu.mxcsr >> 13) & 3);
  else CF32[0] = finish32(cpu, op, a, b, d);
  return CI[0];
}

/** Scalar float64 a op b on bit patterns; result low word returned, high word in fHi. */
export let fHi = 0;

export function fbin64(cpu: CPU, op: number, al: number, ah: number, bl: number, bh: number): number {
  CI[0] = al;
  CI[1] = ah;
  let a = CD[0];
  CI[0] = bl;
  CI[1] = bh;
  let b = CD[0];
  if (a !== a || b !== b) {
    if (op >= MIN) {
      cpu.mxcsr |= IE;
      fHi = bh;
      return bl;
    }
    if (isSNaN64(ah, al) || isSNaN64(bh, bl)) cpu.mxcsr |= IE;
    if (isNaN64(ah, al)) {
      fHi = ah | 0x80000;
      return al;
    }
    fHi = bh | 0x80000;
    return bl;
  }
  if (denorm64(a) || denorm64(b)) {
    if (cpu.mxcsr & DAZ) {
      if (denorm64(a)) {
        a = a < 0 ? -0 : 0;
        ah &= 0x80000000;
        al = 0;
      }
      if (denorm64(b)) {
        b = b < 0 ? -0 : 0;
        bh &= 0x80000000;
        bl = 0;
      }
    } else cpu.mxcsr |= DE;
  }
  if (op === MIN || op === MAX) {
    if (op === MIN ? a < b : a > b) {
      fHi = ah;
      return al;
    }
    fHi = bh;
    return bl;
  }
  let r = arith(op, a, b);
  if (r !== r) {
    cpu.mxcsr |= IE;
    fHi = DEF_NAN64_HI;
    return 0;
  }
  if (op === DIV && b === 0) {
    if (a - a === 0) cpu.mxcsr |= ZE;
  } else if (r === 0 && (op === ADD || op === SUB)) r = zeroSign(r, op, a, b, (cpu.mxcsr >> 13) & 3);
  else if (!((r === Infinity || r === -Infinity) && (a - a !== 0 || b - b !== 0))) r = finish64(cpu, op, a, b, r);
  CD[0] = r;
  fHi = CI[1];
  return CI[0];
}

/** Round an integral-or-not finite double per rounding control 0..3. */
export function roundRC(x: number, rc: number): number {
  switch (rc) {
    case 0: {
      const r = Math.round(x);
      return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
    }
    case 1:
      return Math.floor(x);
    case 2:
      return Math.ceil(x);
    default:
      return Math.trunc(x);
  }
}

export function mxRC(cpu: CPU): number {
  return (cpu.mxcsr >> 13) & 3;
}
