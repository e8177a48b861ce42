/**
 * x87 extended-precision arithmetic in software. Registers hold real 80-bit
 * values (sign+exponent, 64-bit explicit mantissa in two 32-bit words); add,
 * sub, mul, div, sqrt and the conversions to and from integers, float32,
 * float64 are exact and correctly rounded to FCW's precision control
 * (24/53/64 bits) and rounding control. musl's printf depends on this: it
 * rounds decimal digits with tests like `2/LDBL_EPSILON + 0.5 != 2/LDBL_EPSILON`,
 * which float64 would get wrong.
 *
 * An operation unpacks its operands into Ext values (A, B, T), computes into
 * the working value W, collects the exception flags it raises in W.flags, and
 * storeW rounds W into a register. Exceptions are always treated as masked
 * (the masked response is produced and the FSW flag set; #MF is never raised).
 */
import type { CPU } from '../../cpu.js';
import { mulu64, R as M128 } from '../../int64.js';
import { C1, S_DE, S_IE, S_OE, S_PE, S_UE, S_ZE, type X87 } from '../../fpu-state.js';

export const TWO32 = 4294967296;
export const ZERO = 0, FIN = 1, INF = 2, NAN = 3;

/** value = (h:l) * 2^(e-63), h bit 31 set for FIN; NaN keeps its raw mantissa. */
export class Ext {
  c = ZERO;
  /** a denormal operand (raises DE when used in arithmetic) */
  dn = false;
  s = 0;
  e = 0;
  h = 0;
  l = 0;
}

export const A = new Ext(), B = new Ext(), T = new Ext();

export function setIndef(x: Ext): void {
  x.dn = false;
  x.c = NAN;
  x.s = 1;
  x.e = 0;
  x.h = 0xc0000000;
  x.l = 0;
}

/** Unpack raw 80-bit fields. Unsupported encodings (unnormals, pseudo-NaN/inf) become the indefinite. */
export function unpack(se: number, h: number, l: number, x: Ext): void {
  const exp = se & 0x7fff;
  x.s = se >> 15;
  x.dn = false;
  if (exp === 0x7fff) {
    if ((h & 0x80000000) === 0) setIndef(x);
    else if ((h & 0x7fffffff) === 0 && l === 0) x.c = INF;
    else {
      x.c = NAN;
      x.h = h;
      x.l = l;
    }
    x.e = 0;
    return;
  }
  if (exp === 0) {
    if (h === 0 && l === 0) {
      x.c = ZERO;
      return;
    }
    // denormal (or pseudo-denormal): normalize
    x.c = FIN;
    x.dn = true;
    let e = -16382;
    while (h === 0) {
      h = l;
      l = 0;
      e -= 32;
    }
    const z = Math.clz32(h);
    if (z > 0) {
      h = ((h << z) | (l >>> (32 - z))) >>> 0;
      l = (l << z) >>> 0;
      e -= z;
    }
    x.e = e;
    x.h = h;
    x.l = l;
    return;
  }
  if ((h & 0x80000000) === 0) {
    setIndef(x);
    return;
  }
  x.c = FIN;
  x.e = exp - 16383;
  x.h = h;
  x.l = l;
}

export function unpackReg(st: X87, p: number, x: Ext): void {
  unpack(st.se[p], st.mh[p], st.ml[p], x);
}

export function isSNaN(x: Ext): boolean {
  return x.c === NAN && (x.h & 0x40000000) === 0;
}

// ---------------------------------------------------------------------------
// The working value W

/**
 * The result being computed: class c and sign s, value = (h:l:x) * 2^(e-95)
 * with h bit 31 set when normalized; and the FSW exception flags (and C1 =
 * rounded up) the current instruction has raised so far.
 */
class Work {
  c = ZERO;
  s = 0;
  e = 0;
  h = 0;
  l = 0;
  x = 0;
  flags = 0;
}
export const W = new Work();
/** A conversion's 64-bit result (float64 bits, integer) as two 32-bit words. */
export const OUT = { lo: 0, hi: 0 };

export function loadW(x: Ext, s: number): void {
  W.c = x.c;
  W.s = s;
  W.e = x.e;
  W.h = x.h;
  W.l = x.l;
  W.x = 0;
}

export function wIndef(): void {
  W.c = NAN;
  W.s = 1;
  W.h = 0xc0000000;
  W.l = 0;
  W.x = 0;
  W.flags |= S_IE;
}

export function normW(): boolean {
  if (W.h === 0 && W.l === 0 && W.x === 0) return false;
  while (W.h === 0) {
    W.h = W.l;
    W.l = W.x;
    W.x = 0;
    W.e -= 32;
  }
  const z = Math.clz32(W.h);
  if (z > 0) {
    W.h = ((W.h << z) | (W.l >>> (32 - z))) >>> 0;
    W.l = ((W.l << z) | (W.x >>> (32 - z))) >>> 0;
    W.x = (W.x << z) >>> 0;
    W.e -= z;
  }
  return true;
}

/** Shift W right by n, ORing the lost bits into bit 0. */
function shrW(n: number): void {
  if (n <= 0) return;
  if (n >= 96) {
    const st = (W.h | W.l | W.x) !== 0;
    W.h = W.l = 0;
    W.x = st ? 1 : 0;
    return;
  }
  let st = 0;
  while (n >= 32) {
    st |= W.x;
    W.x = W.l;
    W.l = W.h;
    W.h = 0;
    n -= 32;
  }
  if (n > 0) {
    st |= W.x << (32 - n);
    W.x = ((W.x >>> n) | (W.l << (32 - n))) >>> 0;
    W.l = ((W.l >>> n) | (W.h << (32 - n))) >>> 0;
    W.h = W.h >>> n;
  }
  if (st !== 0) W.x = (W.x | 1) >>> 0;
}

/** Bit p (0..95) of W. */
function wbit(p: number): number {
  const w = p < 32 ? W.x : p < 64 ? W.l : W.h;
  return (w >>> (p & 31)) & 1;
}

/** Any bit of W below position p (0..96)? */
function wany(p: number): boolean {
  if (p <= 0) return false;
  if (p >= 96) return (W.h | W.l | W.x) !== 0;
  const m = (p & 31) === 0 ? 0 : (1 << (p & 31)) - 1;
  if (p < 32) return (W.x & m) !== 0;
  if (p < 64) return W.x !== 0 || (W.l & m) !== 0;
  return W.x !== 0 || W.l !== 0 || (W.h & m) !== 0;
}

/** Clear the bits of W below position k (32..96). */
function wtrunc(k: number): void {
  W.x = 0;
  if (k >= 64) {
    W.l = 0;
    if (k >= 96) W.h = 0;
    else if (k > 64) W.h = (W.h & ~((1 << (k - 64)) - 1)) >>> 0;
  } else if (k > 32) W.l = (W.l & ~((1 << (k - 32)) - 1)) >>> 0;
}

/** Add 2^k (32..95) to W; returns true on carry out of bit 95. */
function wadd(k: number): boolean {
  if (k < 64) {
    W.l += Math.pow(2, k - 32);
    if (W.l >= TWO32) {
      W.l -= TWO32;
      W.h += 1;
    }
  } else W.h += Math.pow(2, k - 64);
  if (W.h >= TWO32) {
    W.h -= TWO32;
    return true;
  }
  return false;
}

function roundUp(rc: number, s: number, lsb: number, rbit: number, sticky: boolean): boolean {
  switch (rc) {
    case 0:
      return rbit === 1 && (sticky || lsb === 1);
    case 1:
      return s === 1 && (rbit === 1 || sticky);
    case 2:
      return s === 0 && (rbit === 1 || sticky);
    default:
      return false;
  }
}

/**
 * Round the finite normalized W to prec bits with exponent range [emin, emax]
 * (denormals below emin) under rounding control rc. May turn W into zero or
 * infinity (wc).
 */
export function roundW(prec: number, emin: number, emax: number, rc: number): void {
  if (W.c !== FIN) return;
  const tiny = W.e < emin;
  if (tiny) {
    shrW(emin - W.e);
    W.e = emin;
  }
  const k = 96 - prec;
  const rbit = wbit(k - 1), sticky = wany(k - 1), lsb = wbit(k);
  wtrunc(k);
  const inexact = rbit === 1 || sticky;
  if (inexact) {
    W.flags |= S_PE;
    if (tiny) W.flags |= S_UE;
    if (roundUp(rc, W.s, lsb, rbit, sticky)) {
      W.flags |= C1;
      if (wadd(k)) {
        W.h = 0x80000000;
        W.e++;
      }
    }
  }
  if (W.h === 0 && W.l === 0) {
    W.c = ZERO;
    return;
  }
  if (W.e > emax) {
    W.flags |= S_OE | S_PE;
    if (rc === 0 || (rc === 2 && W.s === 0) || (rc === 1 && W.s === 1)) {
      W.c = INF;
      W.flags |= C1;
    } else {
      W.flags &= ~C1;
      // largest finite
      W.e = emax;
      W.h = 0xffffffff;
      W.l = 0xffffffff;
      W.x = 0;
      wtrunc(k);
    }
  }
}

function pcBits(cpu: CPU): number {
  const pc = (cpu.fcw >> 8) & 3;
  return pc === 0 ? 24 : pc === 2 ? 53 : 64;
}

export function rcOf(cpu: CPU): number {
  return (cpu.fcw >> 10) & 3;
}

/** Round W to the FCW precision and store it in physical register p. */
export function storeW(cpu: CPU, st: X87, p: number, round: boolean): void {
  if (round && W.c === FIN) roundW(pcBits(cpu), -16382, 16383, rcOf(cpu));
  else if (W.c === FIN) roundW(64, -16382, 16383, rcOf(cpu));
  const s = W.s << 15;
  switch (W.c) {
    case ZERO:
      st.se[p] = s;
      st.mh[p] = 0;
      st.ml[p] = 0;
      break;
    case INF:
      st.se[p] = s | 0x7fff;
      st.mh[p] = 0x80000000;
      st.ml[p] = 0;
      break;
    case NAN:
      st.se[p] = s | 0x7fff;
      st.mh[p] = W.h | 0xc0000000;
      st.ml[p] = W.l;
      break;
    default:
      st.se[p] = s | (W.h & 0x80000000 ? W.e + 16383 : 0);
      st.mh[p] = W.h;
      st.ml[p] = W.l;
  }
  st.empty &= ~(1 << p);
}

/** NaN operand(s): the result NaN per the x87 rules (larger significand of two, quieted). */
export function nanResult(a: Ext, b: Ext | null): void {
  if (isSNaN(a) || (b !== null && isSNaN(b))) W.flags |= S_IE;
  let n = a;
  if (b !== null && b.c === NAN) {
    if (a.c !== NAN) n = b;
    else if (isSNaN(a) !== isSNaN(b)) n = isSNaN(a) ? b : a; // a QNaN beats an SNaN
    else {
      const ah = a.h & 0x3fffffff, bh = b.h & 0x3fffffff;
      if (bh > ah || (bh === ah && b.l > a.l)) n = b;
    }
  }
  W.c = NAN;
  W.s = n.s;
  W.h = (n.h | 0xc0000000) >>> 0;
  W.l = n.l;
  W.x = 0;
}

// ---------------------------------------------------------------------------
// Arithmetic into W

export function addX(a: Ext, b: Ext, bs: number, rc: number): void {
  if (a.c === NAN || b.c === NAN) return nanResult(a, b);
  const as = a.s;
  if (a.c === INF) {
    if (b.c === INF && as !== bs) return wIndef();
    W.c = INF;
    W.s = as;
    return;
  }
  if (b.c === INF) {
    W.c = INF;
    W.s = bs;
    return;
  }
  if (a.c === ZERO && b.c === ZERO) {
    W.c = ZERO;
    W.s = as === bs ? as : rc === 1 ? 1 : 0;
    return;
  }
  if (a.c === ZERO) return loadW(b, bs);
  if (b.c === ZERO) return loadW(a, as);
  let big = a, bsg = as, small = b, ssg = bs;
  if (b.e > a.e || (b.e === a.e && (b.h > a.h || (b.h === a.h && b.l > a.l)))) {
    big = b;
    bsg = bs;
    small = a;
    ssg = as;
  }
  W.h = small.h;
  W.l = small.l;
  W.x = 0;
  shrW(big.e - small.e);
  const sh = W.h, sl = W.l, sx = W.x;
  W.c = FIN;
  W.e = big.e;
  W.s = bsg;
  if (bsg === ssg) {
    let l = big.l + sl, h = big.h + sh;
    if (l >= TWO32) {
      l -= TWO32;
      h += 1;
    }
    W.x = sx;
    W.l = l;
    W.h = h;
    if (h >= TWO32) {
      const stk = W.x & 1;
      W.x = ((W.x >>> 1) | ((W.l & 1) << 31) | stk) >>> 0;
      W.l = ((W.l >>> 1) | ((h & 1) << 31)) >>> 0;
      W.h = Math.floor(h / 2);
      W.e++;
    }
  } else {
    let x = -sx, l = big.l - sl, h = big.h - sh;
    if (x < 0) {
      x += TWO32;
      l -= 1;
    }
    if (l < 0) {
      l += TWO32;
      h -= 1;
    }
    W.x = x;
    W.l = l;
    W.h = h;
    if (!normW()) {
      W.c = ZERO;
      W.s = rc === 1 ? 1 : 0;
    }
  }
}

export function mulX(a: Ext, b: Ext): void {
  if (a.c === NAN || b.c === NAN) return nanResult(a, b);
  const s = a.s ^ b.s;
  if (a.c === INF || b.c === INF) {
    if (a.c === ZERO || b.c === ZERO) return wIndef();
    W.c = INF;
    W.s = s;
    return;
  }
  if (a.c === ZERO || b.c === ZERO) {
    W.c = ZERO;
    W.s = s;
    return;
  }
  mulu64(a.l, a.h, b.l, b.h);
  W.c = FIN;
  W.s = s;
  W.h = M128[3] >>> 0;
  W.l = M128[2] >>> 0;
  W.x = (M128[1] | (M128[0] !== 0 ? 1 : 0)) >>> 0;
  W.e = a.e + b.e + 1;
  normW();
}

export function divX(cpu: CPU, a: Ext, b: Ext): void {
  if (a.c === NAN || b.c === NAN) return nanResult(a, b);
  const s = a.s ^ b.s;
  if (a.c === INF) {
    if (b.c === INF) return wIndef();
    W.c = INF;
    W.s = s;
    return;
  }
  if (b.c === INF) {
    W.c = ZERO;
    W.s = s;
    return;
  }
  if (b.c === ZERO) {
    if (a.c === ZERO) return wIndef();
    W.flags |= S_ZE;
    W.c = INF;
    W.s = s;
    return;
  }
  if (a.c === ZERO) {
    W.c = ZERO;
    W.s = s;
    return;
  }
  void cpu;
  let rh = a.h, rl = a.l;
  const bh = b.h, bl = b.l;
  let q2 = 0, q1 = 0, q0 = 0;
  for (let n = 0; n < 96; n++) {
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
    q2 = ((q2 << 1) | (q1 >>> 31)) >>> 0;
    q1 = ((q1 << 1) | (q0 >>> 31)) >>> 0;
    q0 = ((q0 << 1) | bit) >>> 0;
    rh = rh * 2 + (rl >= 2147483648 ? 1 : 0);
    rl = rl >= 2147483648 ? rl * 2 - TWO32 : rl * 2;
  }
  W.c = FIN;
  W.s = s;
  W.e = a.e - b.e;
  W.h = q2;
  W.l = q1;
  W.x = q0;
  normW();
  if (rh !== 0 || rl !== 0) W.x = (W.x | 1) >>> 0;
}

/** Square root by the bitwise restoring method on a 136-bit radicand (68+ root bits, sticky from the remainder). */
export function sqrtX(a: Ext): void {
  if (a.c === NAN) return nanResult(a, null);
  if (a.c === ZERO) {
    W.c = ZERO;
    W.s = a.s;
    return;
  }
  if (a.s === 1) return wIndef();
  if (a.c === INF) {
    W.c = INF;
    W.s = 0;
    return;
  }
  // value = M * 2^E, M 64-bit integer, E = e - 63. N = M << t with E - t even.
  const E = a.e - 63;
  const t = 72 + (((E % 2) + 2) % 2);
  const totalBits = 64 + t; // N < 2^totalBits
  const mbit = (p: number): number => {
    const q = p - t;
    if (q < 0 || q > 63) return 0;
    return q >= 32 ? (a.h >>> (q - 32)) & 1 : (a.l >>> q) & 1;
  };
  // remainder and root as 3 uint32 words (numbers), little-endian
  let r0 = 0, r1 = 0, r2 = 0;
  let q0 = 0, q1 = 0, q2 = 0;
  const startBit = totalBits % 2 === 0 ? totalBits - 1 : totalBits;
  for (let p = startBit; p >= 1; p -= 2) {
    const two = (mbit(p) << 1) | mbit(p - 1);
    // rem = rem*4 + two
    r2 = ((r2 << 2) | (r1 >>> 30)) >>> 0;
    r1 = ((r1 << 2) | (r0 >>> 30)) >>> 0;
    r0 = ((r0 << 2) | two) >>> 0;
    // trial = root*4 + 1
    const t2 = ((q2 << 2) | (q1 >>> 30)) >>> 0;
    const t1 = ((q1 << 2) | (q0 >>> 30)) >>> 0;
    const t0 = ((q0 << 2) | 1) >>> 0;
    // root *= 2
    q2 = ((q2 << 1) | (q1 >>> 31)) >>> 0;
    q1 = ((q1 << 1) | (q0 >>> 31)) >>> 0;
    q0 = (q0 << 1) >>> 0;
    const ge = r2 > t2 || (r2 === t2 && (r1 > t1 || (r1 === t1 && r0 >= t0)));
    if (ge) {
      let d0 = r0 - t0, d1 = r1 - t1, d2 = r2 - t2;
      if (d0 < 0) {
        d0 += TWO32;
        d1 -= 1;
      }
      if (d1 < 0) {
        d1 += TWO32;
        d2 -= 1;
      }
      r0 = d0;
      r1 = d1;
      r2 = d2;
      q0 = (q0 | 1) >>> 0;
    }
  }
  // sqrt = root * 2^((E - t) / 2); W convention value = W * 2^(we - 95)
  W.c = FIN;
  W.s = 0;
  W.h = q2;
  W.l = q1;
  W.x = q0;
  W.e = (E - t) / 2 + 95;
  normW();
  if ((r0 | r1 | r2) !== 0) W.x = (W.x | 1) >>> 0;
}

/** DE for a denormal operand of a compare or unary operation. */
export function checkDE(a: Ext, b: Ext | null): void {
  if ((a.dn || (b !== null && b.dn)) && a.c !== NAN && (b === null || b.c !== NAN)) W.flags |= S_DE;
}

/** Compare: 0 greater, 1 less, 2 equal, 3 unordered. */
export const GT = 0, LT = 1, EQ = 2, UN = 3;

function magCmp(a: Ext, b: Ext): number {
  if (a.c === INF) return b.c === INF ? 0 : 1;
  if (b.c === INF) return -1;
  if (a.e !== b.e) return a.e > b.e ? 1 : -1;
  if (a.h !== b.h) return a.h > b.h ? 1 : -1;
  if (a.l !== b.l) return a.l > b.l ? 1 : -1;
  return 0;
}

export function cmpX(a: Ext, b: Ext): number {
  if (a.c === NAN || b.c === NAN) return UN;
  const az = a.c === ZERO, bz = b.c === ZERO;
  if (az && bz) return EQ;
  if (az) return b.s ? GT : LT;
  if (bz) return a.s ? LT : GT;
  if (a.s !== b.s) return a.s ? LT : GT;
  let m = magCmp(a, b);
  if (a.s) m = -m;
  return m > 0 ? GT : m < 0 ? LT : EQ;
}

// ---------------------------------------------------------------------------
// Conversions

/** Signed 64-bit integer (lo, hi) -> Ext. */
export function fromInt64(lo: number, hi: number, x: Ext): void {
  x.dn = false;
  if (lo === 0 && hi === 0) {
    x.c = ZERO;
    x.s = 0;
    return;
  }
  let ml = lo >>> 0, mh = hi >>> 0;
  x.s = 0;
  if (hi < 0) {
    x.s = 1;
    ml = (~lo + 1) >>> 0;
    mh = (~hi + (ml === 0 ? 1 : 0)) >>> 0;
  }
  let e = 63;
  if (mh === 0) {
    mh = ml;
    ml = 0;
    e -= 32;
  }
  const z = Math.clz32(mh);
  if (z > 0) {
    mh = ((mh << z) | (ml >>> (32 - z))) >>> 0;
    ml = (ml << z) >>> 0;
    e -= z;
  }
  x.c = FIN;
  x.e = e;
  x.h = mh;
  x.l = ml;
}

/** float64 bits -> Ext (SNaN raises IE and is quieted). */
export function fromF64(lo: number, hi: number, x: Ext): void {
  const exp = (hi >>> 20) & 0x7ff;
  x.dn = false;
  x.s = hi >>> 31;
  let h = (((hi & 0xfffff) << 11) | (lo >>> 21)) >>> 0;
  let l = (lo << 11) >>> 0;
  if (exp === 0x7ff) {
    if (h === 0 && l === 0) x.c = INF;
    else {
      x.c = NAN;
      if ((h & 0x40000000) === 0) W.flags |= S_IE;
      x.h = (h | 0x80000000) >>> 0;
      x.l = l;
    }
    return;
  }
  if (exp === 0) {
    if (h === 0 && l === 0) {
      x.c = ZERO;
      return;
    }
    x.dn = true;
    let e = -1022;
    while (h === 0) {
      h = l;
      l = 0;
      e -= 32;
    }
    const z = Math.clz32(h);
    if (z > 0) {
      h = ((h << z) | (l >>> (32 - z))) >>> 0;
      l = (l << z) >>> 0;
      e -= z;
    }
    x.c = FIN;
    x.e = e;
    x.h = h;
    x.l = l;
    return;
  }
  x.c = FIN;
  x.e = exp - 1023;
  x.h = (h | 0x80000000) >>> 0;
  x.l = l;
}

/** float32 bits -> Ext. */
export function fromF32(bits: number, x: Ext): void {
  const exp = (bits >>> 23) & 0xff;
  x.dn = false;
  let m = bits & 0x7fffff;
  x.s = bits >>> 31;
  if (exp === 0xff) {
    if (m === 0) x.c = INF;
    else {
      x.c = NAN;
      if ((m & 0x400000) === 0) W.flags |= S_IE;
      x.h = (0x80000000 | (m << 8)) >>> 0;
      x.l = 0;
    }
    return;
  }
  if (exp === 0) {
    if (m === 0) {
      x.c = ZERO;
      return;
    }
    x.dn = true;
    const z = Math.clz32(m) - 8; // leading bit to position 23
    m <<= z;
    x.c = FIN;
    x.e = -126 - z;
    x.h = (m << 8) >>> 0;
    x.l = 0;
    return;
  }
  x.c = FIN;
  x.e = exp - 127;
  x.h = ((m << 8) | 0x80000000) >>> 0;
  x.l = 0;
}

/** Ext -> float64 bits in (outLo, outHi), rounded per rc. */
export function toF64(x: Ext, rc: number): void {
  switch (x.c) {
    case ZERO:
      OUT.lo = 0;
      OUT.hi = x.s << 31;
      return;
    case INF:
      OUT.lo = 0;
      OUT.hi = (x.s << 31) | 0x7ff00000;
      return;
    case NAN:
      if ((x.h & 0x40000000) === 0) W.flags |= S_IE;
      OUT.hi = (x.s << 31) | 0x7ff80000 | ((x.h >>> 11) & 0xfffff);
      OUT.lo = ((x.h << 21) | (x.l >>> 11)) | 0;
      return;
  }
  loadW(x, x.s);
  roundW(53, -1022, 1023, rc);
  if (W.c === ZERO) {
    OUT.lo = 0;
    OUT.hi = W.s << 31;
    return;
  }
  if (W.c === INF) {
    OUT.lo = 0;
    OUT.hi = (W.s << 31) | 0x7ff00000;
    return;
  }
  // W bits 95..43 hold the 53-bit significand
  const bexp = W.h & 0x80000000 ? W.e + 1023 : 0;
  OUT.hi = (W.s << 31) | (bexp << 20) | ((W.h >>> 11) & 0xfffff);
  OUT.lo = (((W.h & 0x7ff) << 21) | (W.l >>> 11)) | 0;
}

/** Ext -> float32 bits, rounded per rc. */
export function toF32(x: Ext, rc: number): number {
  switch (x.c) {
    case ZERO:
      return x.s << 31;
    case INF:
      return (x.s << 31) | 0x7f800000;
    case NAN:
      if ((x.h & 0x40000000) === 0) W.flags |= S_IE;
      return (x.s << 31) | 0x7fc00000 | ((x.h >>> 8) & 0x3fffff);
  }
  loadW(x, x.s);
  roundW(24, -126, 127, rc);
  if (W.c === ZERO) return W.s << 31;
  if (W.c === INF) return (W.s << 31) | 0x7f800000;
  const bexp = W.h & 0x80000000 ? W.e + 127 : 0;
  return (W.s << 31) | (bexp << 23) | ((W.h >>> 8) & 0x7fffff);
}

/** Ext -> double (for transcendentals). */
export function toNumber(x: Ext): number {
  toF64(x, 0);
  CVI[0] = OUT.lo;
  CVI[1] = OUT.hi;
  return CVD[0];
}

const CVB = new ArrayBuffer(8);
const CVI = new Int32Array(CVB);
const CVD = new Float64Array(CVB);

export function fromNumber(v: number, x: Ext): void {
  CVD[0] = v;
  fromF64(CVI[0], CVI[1], x);
}

/**
 * Round Ext to an integer per rc. Returns false if the magnitude is >= 2^64;
 * else the magnitude is in (outLo, outHi) (unsigned words) and the sign in x.s.
 */
export function toIntMag(x: Ext, rc: number): boolean {
  if (x.c === ZERO) {
    OUT.lo = OUT.hi = 0;
    return true;
  }
  if (x.c !== FIN) return false;
  loadW(x, x.s);
  if (W.e >= 64) return false;
  let ilo = 0, ihi = 0, rbit: number, sticky: boolean;
  if (W.e < 0) {
    rbit = W.e === -1 ? 1 : 0;
    sticky = W.e === -1 ? ((W.h & 0x7fffffff) | W.l) !== 0 : true;
  } else {
    const k = 95 - W.e; // 32..95
    rbit = wbit(k - 1);
    sticky = wany(k - 1);
    if (k >= 64) ilo = W.h >>> (k - 64);
    else {
      const j = k - 32;
      ilo = j === 0 ? W.l : ((W.l >>> j) | (W.h << (32 - j))) >>> 0;
      ihi = W.h >>> j;
    }
  }
  if (rbit === 1 || sticky) W.flags |= S_PE;
  if (roundUp(rc, x.s, ilo & 1, rbit, sticky)) {
    W.flags |= C1;
    ilo += 1;
    if (ilo >= TWO32) {
      ilo = 0;
      ihi += 1;
      if (ihi >= TWO32) return false;
    }
  }
  OUT.lo = ilo;
  OUT.hi = ihi;
  return true;
}

/** Round Ext to a signed integer of `bits` (16/32/64); indefinite on overflow. Result in outLo/outHi (signed words). */
export function toInt(x: Ext, rc: number, bits: number): void {
  const ok = toIntMag(x, rc);
  let lo = OUT.lo, hi = OUT.hi;
  let fits = ok;
  if (ok) {
    if (bits === 64) fits = hi < 0x80000000 || (x.s === 1 && hi === 0x80000000 && lo === 0);
    else {
      const lim = bits === 32 ? 2147483648 : 32768;
      fits = hi === 0 && (lo < lim || (x.s === 1 && lo === lim));
    }
  }
  if (!fits) {
    W.flags = (W.flags & ~(S_PE | C1)) | S_IE;
    if (bits === 64) {
      OUT.lo = 0;
      OUT.hi = 0x80000000 | 0;
    } else {
      OUT.lo = bits === 32 ? 0x80000000 | 0 : 0x8000;
      OUT.hi = 0;
    }
    return;
  }
  if (x.s === 1) {
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  OUT.lo = lo | 0;
  OUT.hi = hi | 0;
}
