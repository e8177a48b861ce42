/**
 * x87 FPU.
 *
 * Registers hold real 80-bit extended values (sign+exponent, 64-bit explicit
 * mantissa in two 32-bit words) and arithmetic is a software float: add, sub,
 * mul, div, sqrt, frndint, fscale, fprem/fprem1 and the conversions to and from
 * integers, float32, float64 and m80 are exact and correctly rounded to
 * FCW's precision control (24/53/64 bits) and rounding control. musl's printf
 * depends on this: it rounds decimal digits with tests like
 * `2/LDBL_EPSILON + 0.5 != 2/LDBL_EPSILON`, which float64 would get wrong.
 * Transcendentals (fsin, fcos, fsincos, fptan, fpatan, f2xm1, fyl2x, fyl2xp1)
 * go through float64 and are therefore only double-precision accurate.
 *
 * Exceptions are always treated as masked (the masked response is produced
 * and the FSW flag set; #MF is never raised). FIP/FDP/FOP are not tracked
 * (stored as 0). fbld/fbstp (BCD) are not implemented.
 *
 * State: cpu.fcw and cpu.fsw (with TOP in bits 11..13, kept current) and the
 * registers/tags in an X87 object per CPU (x87State).
 */
import type { CPU } from '../cpu.js';
import { CF, PF, ZF, SF, OF, AF } from '../cpu.js';
import type { Handler, Insn } from '../insn.js';
import { mulu64, R as M128 } from '../int64.js';

const ARITH = CF | PF | AF | ZF | SF | OF;
const TWO32 = 4294967296;

// FSW bits
const S_IE = 0x1;
const S_DE = 0x2;
const S_ZE = 0x4;
const S_OE = 0x8;
const S_UE = 0x10;
const S_PE = 0x20;
const S_SF = 0x40;
const C0 = 0x100;
const C1 = 0x200;
const C2 = 0x400;
const C3 = 0x4000;

/** Per-CPU register file: physical registers 0..7. */
export class X87 {
  /** sign << 15 | biased exponent */
  readonly se = new Uint16Array(8);
  /** mantissa high and low words (bit 63 = explicit integer bit) */
  readonly mh = new Uint32Array(8);
  readonly ml = new Uint32Array(8);
  /** bit p set: physical register p is empty */
  empty = 0xff;
}

const states = new WeakMap<CPU, X87>();
let lastCpu: CPU | null = null;
let lastState: X87 = new X87();

export function x87State(cpu: CPU): X87 {
  if (cpu === lastCpu) return lastState;
  let s = states.get(cpu);
  if (s === undefined) {
    s = new X87();
    states.set(cpu, s);
  }
  lastCpu = cpu;
  lastState = s;
  return s;
}

function top(cpu: CPU): number {
  return (cpu.fsw >> 11) & 7;
}
function setTop(cpu: CPU, t: number): void {
  cpu.fsw = (cpu.fsw & ~0x3800) | ((t & 7) << 11);
}
function phys(cpu: CPU, i: number): number {
  return (((cpu.fsw >> 11) & 7) + i) & 7;
}

// ---------------------------------------------------------------------------
// Unpacked values

const ZERO = 0, FIN = 1, INF = 2, NAN = 3;

/** value = (h:l) * 2^(e-63), h bit 31 set for FIN; NaN keeps its raw mantissa. */
class Ext {
  c = ZERO;
  /** a denormal operand (raises DE when used in arithmetic) */
  dn = false;
  s = 0;
  e = 0;
  h = 0;
  l = 0;
}
const A = new Ext(), B = new Ext(), T = new Ext();

function setIndef(x: Ext): void {
  x.dn = false;
  x.c = NAN;
  x.s = 1;
  x.e = 0;
  x.h = 0xc0000000;
  x.l = 0;
}

/** Unpack raw 80-bit fields. Unsupported encodings (unnormals, pseudo-NaN/inf) become the indefinite. */
function unpack(se: number, h: number, l: number, x: Ext): void {
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

function unpackReg(st: X87, p: number, x: Ext): void {
  unpack(st.se[p], st.mh[p], st.ml[p], x);
}

function isSNaN(x: Ext): boolean {
  return x.c === NAN && (x.h & 0x40000000) === 0;
}

// ---------------------------------------------------------------------------
// Working value W: value = (wh:wl:wx) * 2^(we-95), wh bit 31 set when normalized

let wc = ZERO, ws = 0, we = 0, wh = 0, wl = 0, wx = 0;
/** FSW flags raised by the current operation. */
let flags = 0;

function loadW(x: Ext, s: number): void {
  wc = x.c;
  ws = s;
  we = x.e;
  wh = x.h;
  wl = x.l;
  wx = 0;
}

function wIndef(): void {
  wc = NAN;
  ws = 1;
  wh = 0xc0000000;
  wl = 0;
  wx = 0;
  flags |= S_IE;
}

function normW(): boolean {
  if (wh === 0 && wl === 0 && wx === 0) return false;
  while (wh === 0) {
    wh = wl;
    wl = wx;
    wx = 0;
    we -= 32;
  }
  const z = Math.clz32(wh);
  if (z > 0) {
    wh = ((wh << z) | (wl >>> (32 - z))) >>> 0;
    wl = ((wl << z) | (wx >>> (32 - z))) >>> 0;
    wx = (wx << z) >>> 0;
    we -= z;
  }
  return true;
}

/** Shift W right by n, ORing the lost bits into bit 0. */
function shrW(n: number): void {
  if (n <= 0) return;
  if (n >= 96) {
    const st = (wh | wl | wx) !== 0;
    wh = wl = 0;
    wx = st ? 1 : 0;
    return;
  }
  let st = 0;
  while (n >= 32) {
    st |= wx;
    wx = wl;
    wl = wh;
    wh = 0;
    n -= 32;
  }
  if (n > 0) {
    st |= wx << (32 - n);
    wx = ((wx >>> n) | (wl << (32 - n))) >>> 0;
    wl = ((wl >>> n) | (wh << (32 - n))) >>> 0;
    wh = wh >>> n;
  }
  if (st !== 0) wx = (wx | 1) >>> 0;
}

/** Bit p (0..95) of W. */
function wbit(p: number): number {
  const w = p < 32 ? wx : p < 64 ? wl : wh;
  return (w >>> (p & 31)) & 1;
}
/** Any bit of W below position p (0..96)? */
function wany(p: number): boolean {
  if (p <= 0) return false;
  if (p >= 96) return (wh | wl | wx) !== 0;
  const m = (p & 31) === 0 ? 0 : (1 << (p & 31)) - 1;
  if (p < 32) return (wx & m) !== 0;
  if (p < 64) return wx !== 0 || (wl & m) !== 0;
  return wx !== 0 || wl !== 0 || (wh & m) !== 0;
}
/** Clear the bits of W below position k (32..96). */
function wtrunc(k: number): void {
  wx = 0;
  if (k >= 64) {
    wl = 0;
    if (k >= 96) wh = 0;
    else if (k > 64) wh = (wh & ~((1 << (k - 64)) - 1)) >>> 0;
  } else if (k > 32) wl = (wl & ~((1 << (k - 32)) - 1)) >>> 0;
}
/** Add 2^k (32..95) to W; returns true on carry out of bit 95. */
function wadd(k: number): boolean {
  if (k < 64) {
    wl += Math.pow(2, k - 32);
    if (wl >= TWO32) {
      wl -= TWO32;
      wh += 1;
    }
  } else wh += Math.pow(2, k - 64);
  if (wh >= TWO32) {
    wh -= TWO32;
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
function roundW(prec: number, emin: number, emax: number, rc: number): void {
  if (wc !== FIN) return;
  const tiny = we < emin;
  if (tiny) {
    shrW(emin - we);
    we = emin;
  }
  const k = 96 - prec;
  const rbit = wbit(k - 1), sticky = wany(k - 1), lsb = wbit(k);
  wtrunc(k);
  const inexact = rbit === 1 || sticky;
  if (inexact) {
    flags |= S_PE;
    if (tiny) flags |= S_UE;
    if (roundUp(rc, ws, lsb, rbit, sticky)) {
      flags |= C1;
      if (wadd(k)) {
        wh = 0x80000000;
        we++;
      }
    }
  }
  if (wh === 0 && wl === 0) {
    wc = ZERO;
    return;
  }
  if (we > emax) {
    flags |= S_OE | S_PE;
    if (rc === 0 || (rc === 2 && ws === 0) || (rc === 1 && ws === 1)) {
      wc = INF;
      flags |= C1;
    } else {
      flags &= ~C1;
      // largest finite
      we = emax;
      wh = 0xffffffff;
      wl = 0xffffffff;
      wx = 0;
      wtrunc(k);
    }
  }
}

function pcBits(cpu: CPU): number {
  const pc = (cpu.fcw >> 8) & 3;
  return pc === 0 ? 24 : pc === 2 ? 53 : 64;
}
function rcOf(cpu: CPU): number {
  return (cpu.fcw >> 10) & 3;
}

/** Round W to the FCW precision and store it in physical register p. */
function storeW(cpu: CPU, st: X87, p: number, round: boolean): void {
  if (round && wc === FIN) roundW(pcBits(cpu), -16382, 16383, rcOf(cpu));
  else if (wc === FIN) roundW(64, -16382, 16383, rcOf(cpu));
  const s = ws << 15;
  switch (wc) {
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
      st.mh[p] = wh | 0xc0000000;
      st.ml[p] = wl;
      break;
    default:
      st.se[p] = s | (wh & 0x80000000 ? we + 16383 : 0);
      st.mh[p] = wh;
      st.ml[p] = wl;
  }
  st.empty &= ~(1 << p);
}

/** NaN operand(s): the result NaN per the x87 rules (larger significand of two, quieted). */
function nanResult(a: Ext, b: Ext | null): void {
  if (isSNaN(a) || (b !== null && isSNaN(b))) flags |= S_IE;
  let n = a;
  if (b !== null && b.c === NAN) {
    if (a.c !== NAN) n = b;
    else if (isSNaN(a) !== isSNaN(b)) n = isSNaN(a) ? b : a; // a QNaN beats an SNaN
    else {
      const ah = a.h & 0x3fffffff, bh = b.h & 0x3fffffff;
      if (bh > ah || (bh === ah && b.l > a.l)) n = b;
    }
  }
  wc = NAN;
  ws = n.s;
  wh = (n.h | 0xc0000000) >>> 0;
  wl = n.l;
  wx = 0;
}

// ---------------------------------------------------------------------------
// Arithmetic into W

function addX(a: Ext, b: Ext, bs: number, rc: number): void {
  if (a.c === NAN || b.c === NAN) return nanResult(a, b);
  const as = a.s;
  if (a.c === INF) {
    if (b.c === INF && as !== bs) return wIndef();
    wc = INF;
    ws = as;
    return;
  }
  if (b.c === INF) {
    wc = INF;
    ws = bs;
    return;
  }
  if (a.c === ZERO && b.c === ZERO) {
    wc = ZERO;
    ws = as === bs ? as : rc === 1 ? 1 : 0;
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
  wh = small.h;
  wl = small.l;
  wx = 0;
  shrW(big.e - small.e);
  const sh = wh, sl = wl, sx = wx;
  wc = FIN;
  we = big.e;
  ws = bsg;
  if (bsg === ssg) {
    let l = big.l + sl, h = big.h + sh;
    if (l >= TWO32) {
      l -= TWO32;
      h += 1;
    }
    wx = sx;
    wl = l;
    wh = h;
    if (h >= TWO32) {
      const stk = wx & 1;
      wx = ((wx >>> 1) | ((wl & 1) << 31) | stk) >>> 0;
      wl = ((wl >>> 1) | ((h & 1) << 31)) >>> 0;
      wh = Math.floor(h / 2);
      we++;
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
    wx = x;
    wl = l;
    wh = h;
    if (!normW()) {
      wc = ZERO;
      ws = rc === 1 ? 1 : 0;
    }
  }
}

function mulX(a: Ext, b: Ext): void {
  if (a.c === NAN || b.c === NAN) return nanResult(a, b);
  const s = a.s ^ b.s;
  if (a.c === INF || b.c === INF) {
    if (a.c === ZERO || b.c === ZERO) return wIndef();
    wc = INF;
    ws = s;
    return;
  }
  if (a.c === ZERO || b.c === ZERO) {
    wc = ZERO;
    ws = s;
    return;
  }
  mulu64(a.l, a.h, b.l, b.h);
  wc = FIN;
  ws = s;
  wh = M128[3] >>> 0;
  wl = M128[2] >>> 0;
  wx = (M128[1] | (M128[0] !== 0 ? 1 : 0)) >>> 0;
  we = a.e + b.e + 1;
  normW();
}

function divX(cpu: CPU, a: Ext, b: Ext): void {
  if (a.c === NAN || b.c === NAN) return nanResult(a, b);
  const s = a.s ^ b.s;
  if (a.c === INF) {
    if (b.c === INF) return wIndef();
    wc = INF;
    ws = s;
    return;
  }
  if (b.c === INF) {
    wc = ZERO;
    ws = s;
    return;
  }
  if (b.c === ZERO) {
    if (a.c === ZERO) return wIndef();
    flags |= S_ZE;
    wc = INF;
    ws = s;
    return;
  }
  if (a.c === ZERO) {
    wc = ZERO;
    ws = s;
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
  wc = FIN;
  ws = s;
  we = a.e - b.e;
  wh = q2;
  wl = q1;
  wx = q0;
  normW();
  if (rh !== 0 || rl !== 0) wx = (wx | 1) >>> 0;
}

/** Square root by the bitwise restoring method on a 136-bit radicand (68+ root bits, sticky from the remainder). */
function sqrtX(a: Ext): void {
  if (a.c === NAN) return nanResult(a, null);
  if (a.c === ZERO) {
    wc = ZERO;
    ws = a.s;
    return;
  }
  if (a.s === 1) return wIndef();
  if (a.c === INF) {
    wc = INF;
    ws = 0;
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
  wc = FIN;
  ws = 0;
  wh = q2;
  wl = q1;
  wx = q0;
  we = (E - t) / 2 + 95;
  normW();
  if ((r0 | r1 | r2) !== 0) wx = (wx | 1) >>> 0;
}

/** DE for a denormal operand of a compare or unary operation. */
function checkDE(a: Ext, b: Ext | null): void {
  if ((a.dn || (b !== null && b.dn)) && a.c !== NAN && (b === null || b.c !== NAN)) flags |= S_DE;
}

/** Compare: 0 greater, 1 less, 2 equal, 3 unordered. */
const GT = 0, LT = 1, EQ = 2, UN = 3;
function magCmp(a: Ext, b: Ext): number {
  if (a.c === INF) return b.c === INF ? 0 : 1;
  if (b.c === INF) return -1;
  if (a.e !== b.e) return a.e > b.e ? 1 : -1;
  if (a.h !== b.h) return a.h > b.h ? 1 : -1;
  if (a.l !== b.l) return a.l > b.l ? 1 : -1;
  return 0;
}
function cmpX(a: Ext, b: Ext): number {
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
function fromInt64(lo: number, hi: number, x: Ext): void {
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
function fromF64(lo: number, hi: number, x: Ext): void {
  const exp = (hi >>> 20) & 0x7ff;
  x.dn = false;
  x.s = hi >>> 31;
  let h = (((hi & 0xfffff) << 11) | (lo >>> 21)) >>> 0;
  let l = (lo << 11) >>> 0;
  if (exp === 0x7ff) {
    if (h === 0 && l === 0) x.c = INF;
    else {
      x.c = NAN;
      if ((h & 0x40000000) === 0) flags |= S_IE;
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
function fromF32(bits: number, x: Ext): void {
  const exp = (bits >>> 23) & 0xff;
  x.dn = false;
  let m = bits & 0x7fffff;
  x.s = bits >>> 31;
  if (exp === 0xff) {
    if (m === 0) x.c = INF;
    else {
      x.c = NAN;
      if ((m & 0x400000) === 0) flags |= S_IE;
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

let outLo = 0, outHi = 0;

/** Ext -> float64 bits in (outLo, outHi), rounded per rc. */
function toF64(x: Ext, rc: number): void {
  switch (x.c) {
    case ZERO:
      outLo = 0;
      outHi = x.s << 31;
      return;
    case INF:
      outLo = 0;
      outHi = (x.s << 31) | 0x7ff00000;
      return;
    case NAN:
      if ((x.h & 0x40000000) === 0) flags |= S_IE;
      outHi = (x.s << 31) | 0x7ff80000 | ((x.h >>> 11) & 0xfffff);
      outLo = ((x.h << 21) | (x.l >>> 11)) | 0;
      return;
  }
  loadW(x, x.s);
  roundW(53, -1022, 1023, rc);
  if (wc === ZERO) {
    outLo = 0;
    outHi = ws << 31;
    return;
  }
  if (wc === INF) {
    outLo = 0;
    outHi = (ws << 31) | 0x7ff00000;
    return;
  }
  // W bits 95..43 hold the 53-bit significand
  const bexp = wh & 0x80000000 ? we + 1023 : 0;
  outHi = (ws << 31) | (bexp << 20) | ((wh >>> 11) & 0xfffff);
  outLo = (((wh & 0x7ff) << 21) | (wl >>> 11)) | 0;
}

/** Ext -> float32 bits, rounded per rc. */
function toF32(x: Ext, rc: number): number {
  switch (x.c) {
    case ZERO:
      return x.s << 31;
    case INF:
      return (x.s << 31) | 0x7f800000;
    case NAN:
      if ((x.h & 0x40000000) === 0) flags |= S_IE;
      return (x.s << 31) | 0x7fc00000 | ((x.h >>> 8) & 0x3fffff);
  }
  loadW(x, x.s);
  roundW(24, -126, 127, rc);
  if (wc === ZERO) return ws << 31;
  if (wc === INF) return (ws << 31) | 0x7f800000;
  const bexp = wh & 0x80000000 ? we + 127 : 0;
  return (ws << 31) | (bexp << 23) | ((wh >>> 8) & 0x7fffff);
}

/** Ext -> double (for transcendentals). */
function toNumber(x: Ext): number {
  toF64(x, 0);
  CVI[0] = outLo;
  CVI[1] = outHi;
  return CVD[0];
}
const CVB = new ArrayBuffer(8);
const CVI = new Int32Array(CVB);
const CVD = new Float64Array(CVB);
function fromNumber(v: number, x: Ext): void {
  CVD[0] = v;
  fromF64(CVI[0], CVI[1], x);
}

/**
 * Round Ext to an integer per rc. Returns false if the magnitude is >= 2^64;
 * else the magnitude is in (outLo, outHi) (unsigned words) and the sign in x.s.
 */
function toIntMag(x: Ext, rc: number): boolean {
  if (x.c === ZERO) {
    outLo = outHi = 0;
    return true;
  }
  if (x.c !== FIN) return false;
  loadW(x, x.s);
  if (we >= 64) return false;
  let ilo = 0, ihi = 0, rbit: number, sticky: boolean;
  if (we < 0) {
    rbit = we === -1 ? 1 : 0;
    sticky = we === -1 ? ((wh & 0x7fffffff) | wl) !== 0 : true;
  } else {
    const k = 95 - we; // 32..95
    rbit = wbit(k - 1);
    sticky = wany(k - 1);
    if (k >= 64) ilo = wh >>> (k - 64);
    else {
      const j = k - 32;
      ilo = j === 0 ? wl : ((wl >>> j) | (wh << (32 - j))) >>> 0;
      ihi = wh >>> j;
    }
  }
  if (rbit === 1 || sticky) flags |= S_PE;
  if (roundUp(rc, x.s, ilo & 1, rbit, sticky)) {
    flags |= C1;
    ilo += 1;
    if (ilo >= TWO32) {
      ilo = 0;
      ihi += 1;
      if (ihi >= TWO32) return false;
    }
  }
  outLo = ilo;
  outHi = ihi;
  return true;
}

/** Round Ext to a signed integer of `bits` (16/32/64); indefinite on overflow. Result in outLo/outHi (signed words). */
function toInt(x: Ext, rc: number, bits: number): void {
  const ok = toIntMag(x, rc);
  let lo = outLo, hi = outHi;
  let fits = ok;
  if (ok) {
    if (bits === 64) fits = hi < 0x80000000 || (x.s === 1 && hi === 0x80000000 && lo === 0);
    else {
      const lim = bits === 32 ? 2147483648 : 32768;
      fits = hi === 0 && (lo < lim || (x.s === 1 && lo === lim));
    }
  }
  if (!fits) {
    flags = (flags & ~(S_PE | C1)) | S_IE;
    if (bits === 64) {
      outLo = 0;
      outHi = 0x80000000 | 0;
    } else {
      outLo = bits === 32 ? 0x80000000 | 0 : 0x8000;
      outHi = 0;
    }
    return;
  }
  if (x.s === 1) {
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  outLo = lo | 0;
  outHi = hi | 0;
}

// ---------------------------------------------------------------------------
// Stack access

/** Start an instruction that reports rounding in C1. */
function begin(cpu: CPU): void {
  cpu.fsw &= ~C1;
  flags = 0;
}

/** Merge the operation's exception flags (and C1 = rounded up) into FSW. */
function finish(cpu: CPU): void {
  cpu.fsw |= flags & (0x7f | C1);
  flags = 0;
}

/** Read ST(i) into x; an empty register is a stack underflow (indefinite). */
function getST(cpu: CPU, st: X87, i: number, x: Ext): boolean {
  const p = phys(cpu, i);
  if (st.empty & (1 << p)) {
    flags |= S_IE | S_SF;
    cpu.fsw &= ~C1;
    setIndef(x);
    return false;
  }
  unpackReg(st, p, x);
  return true;
}

/** Decrement TOP for a push; returns the physical register, or -1 on stack overflow (indefinite pushed). */
function push(cpu: CPU, st: X87): number {
  const t = (top(cpu) - 1) & 7;
  setTop(cpu, t);
  if ((st.empty & (1 << t)) === 0) {
    flags |= S_IE | S_SF;
    cpu.fsw |= C1;
    st.se[t] = 0xffff;
    st.mh[t] = 0xc0000000;
    st.ml[t] = 0;
    return -1;
  }
  return t;
}

function pop(cpu: CPU, st: X87): void {
  const t = top(cpu);
  st.empty |= 1 << t;
  setTop(cpu, t + 1);
}

function pushW(cpu: CPU, st: X87): void {
  const p = push(cpu, st);
  if (p >= 0) storeW(cpu, st, p, false);
}

function pushExt(cpu: CPU, st: X87, x: Ext): void {
  loadW(x, x.s);
  pushW(cpu, st);
}

function setCC(cpu: CPU, cc: number): void {
  cpu.fsw = (cpu.fsw & ~(C0 | C1 | C2 | C3)) | cc;
}

function cmpCC(r: number): number {
  return r === GT ? 0 : r === LT ? C0 : r === EQ ? C3 : C0 | C2 | C3;
}

// ---------------------------------------------------------------------------
// Arithmetic instruction core

/** dst = dst op src for op 0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr; result in W. */
function arithW(cpu: CPU, op: number, d: Ext, s: Ext): void {
  const rc = rcOf(cpu);
  // a denormal operand raises DE, except with a NaN or when dividing by zero
  if ((d.dn || s.dn) && d.c !== NAN && s.c !== NAN && !(op === 6 && s.c === ZERO) && !(op === 7 && d.c === ZERO)) flags |= S_DE;
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
    if (A.c === NAN || B.c === NAN) flags |= S_IE;
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

// ---------------------------------------------------------------------------
// Save / restore (fxsave layout bytes 0..159; env for fnstenv/fnsave)

function tagOf(st: X87, p: number): number {
  if (st.empty & (1 << p)) return 3;
  const exp = st.se[p] & 0x7fff;
  if (exp === 0x7fff) return 2;
  if (exp === 0) return st.mh[p] === 0 && st.ml[p] === 0 ? 1 : 2;
  return st.mh[p] & 0x80000000 ? 0 : 2;
}

function fullTag(st: X87): number {
  let t = 0;
  for (let p = 0; p < 8; p++) t |= tagOf(st, p) << (2 * p);
  return t;
}

function writeReg80(st: X87, p: number, out: Uint8Array, off: number): void {
  const l = st.ml[p], h = st.mh[p], se = st.se[p];
  for (let k = 0; k < 4; k++) out[off + k] = (l >>> (8 * k)) & 0xff;
  for (let k = 0; k < 4; k++) out[off + 4 + k] = (h >>> (8 * k)) & 0xff;
  out[off + 8] = se & 0xff;
  out[off + 9] = se >> 8;
}
function readReg80(st: X87, p: number, img: Uint8Array, off: number): void {
  st.ml[p] = (img[off] | (img[off + 1] << 8) | (img[off + 2] << 16) | (img[off + 3] << 24)) >>> 0;
  st.mh[p] = (img[off + 4] | (img[off + 5] << 8) | (img[off + 6] << 16) | (img[off + 7] << 24)) >>> 0;
  st.se[p] = img[off + 8] | (img[off + 9] << 8);
}

/** Fill bytes 0..23 and 32..159 of an fxsave image (FIP/FDP/FOP stored as 0). */
export function x87Save(cpu: CPU, out: Uint8Array): void {
  const st = x87State(cpu);
  out[0] = cpu.fcw & 0xff;
  out[1] = (cpu.fcw >> 8) & 0xff;
  out[2] = cpu.fsw & 0xff;
  out[3] = (cpu.fsw >> 8) & 0xff;
  out[4] = ~st.empty & 0xff;
  for (let k = 5; k < 24; k++) out[k] = 0;
  const t = top(cpu);
  for (let n = 0; n < 8; n++) {
    const off = 32 + 16 * n;
    writeReg80(st, (t + n) & 7, out, off);
    for (let k = 10; k < 16; k++) out[off + k] = 0;
  }
}

/** Load the x87 part of an fxsave image. */
export function x87Restore(cpu: CPU, img: Uint8Array): void {
  const st = x87State(cpu);
  cpu.fcw = img[0] | (img[1] << 8);
  cpu.fsw = img[2] | (img[3] << 8);
  st.empty = ~img[4] & 0xff;
  const t = top(cpu);
  for (let n = 0; n < 8; n++) readReg80(st, (t + n) & 7, img, 32 + 16 * n);
}

/** emms: all registers empty. */
export function x87Emms(cpu: CPU): void {
  x87State(cpu).empty = 0xff;
}

/** ST(i) as 10 bytes (for the debugger). */
export function readST80(cpu: CPU, i: number, out: Uint8Array, off = 0): void {
  writeReg80(x87State(cpu), phys(cpu, i), out, off);
}
/** Set ST(i) from 10 bytes (for the debugger); marks it non-empty. */
export function writeST80(cpu: CPU, i: number, img: Uint8Array, off = 0): void {
  const st = x87State(cpu);
  const p = phys(cpu, i);
  readReg80(st, p, img, off);
  st.empty &= ~(1 << p);
}
/** Full 16-bit tag word (for the debugger and fnstenv). */
export function x87TagWord(cpu: CPU): number {
  return fullTag(x87State(cpu));
}

function fninitState(cpu: CPU): void {
  cpu.fcw = 0x37f;
  cpu.fsw = 0;
  x87State(cpu).empty = 0xff;
}

/** 28-byte environment (32-bit layout, used in 64-bit mode too). */
function storeEnv(cpu: CPU, a: number): void {
  const mem = cpu.mem;
  mem.wpage(a);
  mem.wpage(a + 27);
  mem.write32(a, cpu.fcw | 0xffff0000);
  mem.write32(a + 4, cpu.fsw | 0xffff0000);
  mem.write32(a + 8, fullTag(x87State(cpu)) | 0xffff0000);
  mem.write32(a + 12, 0);
  mem.write32(a + 16, 0);
  mem.write32(a + 20, 0);
  mem.write32(a + 24, 0xffff0000 | 0);
}
function loadEnv(cpu: CPU, a: number): void {
  const fcw = cpu.mem.read16(a), fsw = cpu.mem.read16(a + 4), tag = cpu.mem.read16(a + 8);
  cpu.mem.read32(a + 24);
  cpu.fcw = fcw;
  cpu.fsw = fsw;
  let e = 0;
  for (let p = 0; p < 8; p++) if (((tag >> (2 * p)) & 3) === 3) e |= 1 << p;
  x87State(cpu).empty = e;
}

// ---------------------------------------------------------------------------
// Instruction handlers

type MemLoad = (cpu: CPU, a: number) => void;

/** Memory operand loaders into B. */
const ldM32: MemLoad = (cpu, a) => fromF32(cpu.mem.read32(a), B);
const ldM64: MemLoad = (cpu, a) => {
  const lo = cpu.mem.read64(a);
  fromF64(lo, cpu.mem.hi, B);
};
const ldI16: MemLoad = (cpu, a) => {
  const v = (cpu.mem.read16(a) << 16) >> 16;
  fromInt64(v, v >> 31, B);
};
const ldI32: MemLoad = (cpu, a) => {
  const v = cpu.mem.read32(a);
  fromInt64(v, v >> 31, B);
};
const ldI64: MemLoad = (cpu, a) => {
  const lo = cpu.mem.read64(a);
  fromInt64(lo, cpu.mem.hi, B);
};

function memArithHandler(load: MemLoad, op: number): Handler {
  return (cpu, i) => {
    begin(cpu);
    load(cpu, cpu.ea(i));
    memArith(cpu, op);
  };
}

function fldMem(load: MemLoad): Handler {
  return (cpu, i) => {
    begin(cpu);
    load(cpu, cpu.ea(i));
    if (B.dn) flags |= S_DE;
    const st = x87State(cpu);
    pushExt(cpu, st, B);
    finish(cpu);
  };
}

function fld80(cpu: CPU, i: Insn): void {
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

function fstp80(cpu: CPU, i: Insn): void {
  begin(cpu);
  const a = cpu.ea(i);
  const st = x87State(cpu);
  const p = phys(cpu, 0);
  let se: number, h: number, l: number;
  if (st.empty & (1 << p)) {
    flags |= S_IE | S_SF;
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
function fstMem(size: number, popAfter: boolean): Handler {
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
      cpu.mem.write64(a, outLo, outHi);
    }
    if (popAfter) pop(cpu, st);
    finish(cpu);
  };
}

/** fist/fistp/fisttp m16/m32/m64 */
function fistMem(bits: number, popAfter: boolean, trunc: boolean): Handler {
  return (cpu, i) => {
    begin(cpu);
    const a = cpu.ea(i);
    const st = x87State(cpu);
    getST(cpu, st, 0, A);
    toInt(A, trunc ? 3 : rcOf(cpu), bits);
    if (bits === 16) cpu.mem.write16(a, outLo);
    else if (bits === 32) cpu.mem.write32(a, outLo);
    else cpu.mem.write64(a, outLo, outHi);
    if (popAfter) pop(cpu, st);
    finish(cpu);
  };
}

function fldcw(cpu: CPU, i: Insn): void {
  cpu.fcw = cpu.mem.read16(cpu.ea(i));
}
function fnstcw(cpu: CPU, i: Insn): void {
  cpu.mem.write16(cpu.ea(i), cpu.fcw);
}
function fnstswM(cpu: CPU, i: Insn): void {
  cpu.mem.write16(cpu.ea(i), cpu.fsw);
}
function fnstswAX(cpu: CPU, _i: Insn): void {
  cpu.setReg(0, 2, cpu.fsw, 0);
}
function fnstenv(cpu: CPU, i: Insn): void {
  storeEnv(cpu, cpu.ea(i));
  cpu.fcw |= 0x3f;
}
function fldenv(cpu: CPU, i: Insn): void {
  loadEnv(cpu, cpu.ea(i));
}
function fnsave(cpu: CPU, i: Insn): void {
  const a = cpu.ea(i);
  cpu.mem.wpage(a + 107);
  storeEnv(cpu, a);
  const st = x87State(cpu);
  const buf = new Uint8Array(80);
  const t = top(cpu);
  for (let n = 0; n < 8; n++) writeReg80(st, (t + n) & 7, buf, 10 * n);
  cpu.mem.writeBytes(a + 28, buf);
  fninitState(cpu);
}
function frstor(cpu: CPU, i: Insn): void {
  const a = cpu.ea(i);
  const buf = cpu.mem.readBytes(a + 28, 80);
  loadEnv(cpu, a);
  const st = x87State(cpu);
  const t = top(cpu);
  for (let n = 0; n < 8; n++) readReg80(st, (t + n) & 7, buf, 10 * n);
}

// ---- register forms ----

/** D8 / DC / DE register arithmetic: d = destination index (0 or i), s = source index. */
function regArith(op: number, d: number, s: number, popAfter: boolean): Handler {
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
function regCom(sti: number, pops: number, unordered: boolean): Handler {
  return (cpu, _i) => {
    begin(cpu);
    const st = x87State(cpu);
    getST(cpu, st, 0, A);
    getST(cpu, st, sti, B);
    checkDE(A, B);
    if (unordered ? isSNaN(A) || isSNaN(B) : A.c === NAN || B.c === NAN) flags |= S_IE;
    setCC(cpu, cmpCC(cmpX(A, B)));
    for (let k = 0; k < pops; k++) pop(cpu, st);
    finish(cpu);
  };
}

/** fcomi/fcomip/fucomi/fucomip */
function regComi(sti: number, popAfter: boolean, unordered: boolean): Handler {
  return (cpu, _i) => {
    begin(cpu);
    const st = x87State(cpu);
    getST(cpu, st, 0, A);
    getST(cpu, st, sti, B);
    checkDE(A, B);
    if (unordered ? isSNaN(A) || isSNaN(B) : A.c === NAN || B.c === NAN) flags |= S_IE;
    const r = cmpX(A, B);
    cpu.setArith(ARITH, r === GT ? 0 : r === LT ? CF : r === EQ ? ZF : ZF | PF | CF);
    cpu.fsw &= ~C1;
    if (popAfter) pop(cpu, st);
    finish(cpu);
  };
}

function fldReg(sti: number): Handler {
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
function fstReg(sti: number, popAfter: boolean): Handler {
  return (cpu, _i) => {
    const st = x87State(cpu);
    const p0 = phys(cpu, 0), p = phys(cpu, sti);
    if (st.empty & (1 << p0)) {
      flags |= S_IE | S_SF;
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

function fxch(sti: number): Handler {
  return (cpu, _i) => {
    const st = x87State(cpu);
    const p0 = phys(cpu, 0), p = phys(cpu, sti);
    for (const q of [p0, p]) {
      if (st.empty & (1 << q)) {
        flags |= S_IE | S_SF;
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

function ffree(sti: number, popAfter: boolean): Handler {
  return (cpu, _i) => {
    const st = x87State(cpu);
    st.empty |= 1 << phys(cpu, sti);
    if (popAfter) pop(cpu, st);
  };
}

/** fcmovcc st0, st(i): cc is the condition code for cpu.cond */
function fcmov(cc: number, sti: number): Handler {
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

/** Apply a unary operation to ST0 (read into A), result in W. */
function unary(f: (cpu: CPU) => void, round: boolean): Handler {
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
const fchs = signOp(false);
const fabs = signOp(true);
const sqrtOp = (_cpu: CPU): void => sqrtX(A);
const fsqrt = unary(sqrtOp, true);

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
  fromInt64(outLo | 0, outHi | 0, T);
  // fromInt64 treats the words as signed; magnitude < 2^64 and here < 2^63+1
  if (T.c === ZERO) {
    wc = ZERO;
    ws = A.s;
    return;
  }
  if ((outHi | 0) < 0) {
    // magnitude 2^63 exactly
    wc = FIN;
    we = 63;
    wh = 0x80000000;
    wl = 0;
    wx = 0;
    ws = A.s;
    return;
  }
  loadW(T, A.s);
}
const frndint = unary(rndintW, false);

function ftst(cpu: CPU, _i: Insn): void {
  const st = x87State(cpu);
  getST(cpu, st, 0, A);
  checkDE(A, null);
  if (A.c === NAN) flags |= S_IE;
  T.c = ZERO;
  T.s = 0;
  setCC(cpu, cmpCC(cmpX(A, T)));
  finish(cpu);
}

function fxam(cpu: CPU, _i: Insn): void {
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

function fincstp(cpu: CPU, _i: Insn): void {
  setTop(cpu, top(cpu) + 1);
  cpu.fsw &= ~C1;
}
function fdecstp(cpu: CPU, _i: Insn): void {
  setTop(cpu, top(cpu) - 1);
  cpu.fsw &= ~C1;
}
function fninit(cpu: CPU, _i: Insn): void {
  fninitState(cpu);
}
function fnclex(cpu: CPU, _i: Insn): void {
  cpu.fsw &= ~0x80ff;
}
function fnop(_cpu: CPU, _i: Insn): void {}

/** fscale: ST0 * 2^trunc(ST1) */
function fscale(cpu: CPU, _i: Insn): void {
  begin(cpu);
  const st = x87State(cpu);
  getST(cpu, st, 0, A);
  getST(cpu, st, 1, B);
  if (A.c === NAN || B.c === NAN) nanResult(A, B);
  else if (B.c === INF) {
    if (B.s === 0) {
      if (A.c === ZERO) wIndef();
      else {
        wc = A.c === ZERO ? ZERO : INF;
        ws = A.s;
      }
    } else if (A.c === INF) wIndef();
    else {
      wc = ZERO;
      ws = A.s;
    }
  } else {
    checkDE(A, B);
    let n = 0;
    if (A.c === FIN && B.c === FIN) {
      n = !toIntMag(B, 3) || outHi !== 0 || outLo > 100000 ? 100000 : outLo;
      flags &= ~S_PE;
    }
    loadW(A, A.s);
    if (n !== 0) {
      we += B.s ? -n : n;
      roundW(64, -16382, 16383, rcOf(cpu));
    }
  }
  storeW(cpu, st, phys(cpu, 0), false);
  finish(cpu);
}

/** fxtract: ST0 -> exponent, then push significand */
function fxtract(cpu: CPU, _i: Insn): void {
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
    flags |= S_ZE;
    wc = INF;
    ws = 1;
    storeW(cpu, st, p0, false);
    wc = ZERO;
    ws = A.s;
    pushW(cpu, st);
  } else if (A.c === INF) {
    wc = INF;
    ws = 0;
    storeW(cpu, st, p0, false);
    wc = INF;
    ws = A.s;
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
function fprem(ieee: boolean): Handler {
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
        wc = FIN;
        ws = rs;
        wh = rh;
        wl = rl;
        wx = 0;
        we = be;
        if (!normW()) {
          wc = ZERO;
          ws = A.s;
        }
        if (partial) cc = C2;
        else cc = (q & 4 ? C0 : 0) | (q & 2 ? C3 : 0) | (q & 1 ? C1 : 0);
      }
    }
    if (wc === FIN && we < -16382) roundW(64, -16382, 16383, rcOf(cpu));
    storeW(cpu, st, p0, false);
    setCC(cpu, cc);
    finish(cpu);
  };
}
/** For fprem1 with exponent difference -1: is |A| > |B|/2? */
function magHalfGreater(): boolean {
  // |A| has exponent B.e - 1; |B|/2 has the same exponent with B's mantissa
  return A.h > B.h || (A.h === B.h && A.l > B.l);
}
function fromIeeeAdjust(): void {
  // result = A - sign(A)*B  (magnitudes: |B| - |A|, sign flipped)
  addX(A, B, A.s ^ 1, 0);
}

/** Transcendentals through float64. */
function viaDouble(f: (x: number) => number): Handler {
  return unary(() => {
    if (A.c === NAN) return nanResult(A, null);
    const v = f(toNumber(A));
    fromNumber(v, T);
    if (T.c === NAN && A.c !== NAN) return wIndef();
    loadW(T, T.s);
  }, false);
}
const f2xm1 = viaDouble((x) => Math.pow(2, x) - 1);
const fsin = viaDouble(Math.sin);
const fcos = viaDouble(Math.cos);

/** ST1 = f(ST1, ST0), pop */
function binaryPop(f: (y: number, x: number) => number): Handler {
  return (cpu, _i) => {
    const st = x87State(cpu);
    getST(cpu, st, 0, A);
    getST(cpu, st, 1, B);
    if (A.c === NAN || B.c === NAN) nanResult(B, A);
    else {
      const v = f(toNumber(B), toNumber(A));
      fromNumber(v, T);
      if (T.c === NAN) wIndef();
      else loadW(T, T.s);
    }
    storeW(cpu, st, phys(cpu, 1), false);
    pop(cpu, st);
    finish(cpu);
  };
}
const fyl2x = binaryPop((y, x) => y * Math.log2(x));
const fyl2xp1 = binaryPop((y, x) => y * (Math.log1p(x) / Math.LN2));
const fpatan = binaryPop((y, x) => Math.atan2(y, x));

function fptan(cpu: CPU, _i: Insn): void {
  const st = x87State(cpu);
  if (!getST(cpu, st, 0, A)) {
    finish(cpu);
    return;
  }
  if (A.c === NAN) nanResult(A, null);
  else if (A.c === INF) wIndef();
  else {
    fromNumber(Math.tan(toNumber(A)), T);
    loadW(T, T.s);
  }
  storeW(cpu, st, phys(cpu, 0), false);
  if (wc !== NAN) {
    unpack(0x3fff, 0x80000000, 0, T);
    pushExt(cpu, st, T);
  }
  cpu.fsw &= ~C2;
  finish(cpu);
}

function fsincos(cpu: CPU, _i: Insn): void {
  const st = x87State(cpu);
  if (!getST(cpu, st, 0, A)) {
    finish(cpu);
    return;
  }
  if (A.c === NAN || A.c === INF) {
    if (A.c === NAN) nanResult(A, null);
    else wIndef();
    storeW(cpu, st, phys(cpu, 0), false);
    pushW(cpu, st);
  } else {
    const v = toNumber(A);
    fromNumber(Math.sin(v), T);
    loadW(T, T.s);
    storeW(cpu, st, phys(cpu, 0), false);
    fromNumber(Math.cos(v), T);
    pushExt(cpu, st, T);
  }
  cpu.fsw &= ~C2;
  finish(cpu);
}

// ---------------------------------------------------------------------------
// Decoding

const MEM_LOADS: MemLoad[] = [ldM32, ldI32, ldM64, ldI16]; // for D8, DA, DC, DE

// constants: fld1, fldl2t, fldl2e, fldpi, fldlg2, fldln2, fldz (rounded to nearest)
const CONSTS: [number, number, number, number][] = [
  [0x3fff, 0x80000000, 0x00000000, 0], // 1
  [0x4000, 0xd49a784b, 0xcd1b8afe, -1], // log2(10)
  [0x3fff, 0xb8aa3b29, 0x5c17f0bc, 1], // log2(e)
  [0x4000, 0xc90fdaa2, 0x2168c235, 1], // pi
  [0x3ffd, 0x9a209a84, 0xfbcff799, 1], // log10(2)
  [0x3ffe, 0xb17217f7, 0xd1cf79ac, 1], // ln(2)
  [0x0000, 0x00000000, 0x00000000, 0], // 0
];

/**
 * Handler for an x87 instruction: opcode D8..DF and its ModRM byte (the
 * decoder has filled the memory operand of i). null = #UD.
 */
export function x87Handler(opcode: number, modrm: number, i: Insn): Handler | null {
  void i;
  const mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
  if (mod !== 3) {
    switch (opcode) {
      case 0xd8:
      case 0xda:
      case 0xdc:
      case 0xde:
        return memArithHandler(MEM_LOADS[(opcode - 0xd8) >> 1], reg);
      case 0xd9:
        switch (reg) {
          case 0:
            return fldMem(ldM32);
          case 2:
            return fstMem(4, false);
          case 3:
            return fstMem(4, true);
          case 4:
            return fldenv;
          case 5:
            return fldcw;
          case 6:
            return fnstenv;
          case 7:
            return fnstcw;
        }
        return null;
      case 0xdb:
        switch (reg) {
          case 0:
            return fldMem(ldI32);
          case 1:
            return fistMem(32, true, true);
          case 2:
            return fistMem(32, false, false);
          case 3:
            return fistMem(32, true, false);
          case 5:
            return fld80;
          case 7:
            return fstp80;
        }
        return null;
      case 0xdd:
        switch (reg) {
          case 0:
            return fldMem(ldM64);
          case 1:
            return fistMem(64, true, true);
          case 2:
            return fstMem(8, false);
          case 3:
            return fstMem(8, true);
          case 4:
            return frstor;
          case 6:
            return fnsave;
          case 7:
            return fnstswM;
        }
        return null;
      case 0xdf:
        switch (reg) {
          case 0:
            return fldMem(ldI16);
          case 1:
            return fistMem(16, true, true);
          case 2:
            return fistMem(16, false, false);
          case 3:
            return fistMem(16, true, false);
          case 5:
            return fldMem(ldI64);
          case 7:
            return fistMem(64, true, false);
        }
        return null;
    }
    return null;
  }
  // register forms
  switch (opcode) {
    case 0xd8:
      if (reg === 2) return regCom(rm, 0, false);
      if (reg === 3) return regCom(rm, 1, false);
      return regArith(reg, 0, rm, false);
    case 0xd9:
      switch (reg) {
        case 0:
          return fldReg(rm);
        case 1:
          return fxch(rm);
        case 2:
          return rm === 0 ? fnop : null;
        case 3:
          return fstReg(rm, true); // undocumented fstp1 alias
        case 4:
          return [fchs, fabs, null, null, ftst, fxam, null, null][rm];
        case 5:
          return rm < 7 ? fldConst(...CONSTS[rm]) : null;
        case 6:
          return [f2xm1, fyl2x, fptan, fpatan, fxtract, fprem(true), fdecstp, fincstp][rm];
        default:
          return [fprem(false), fyl2xp1, fsqrt, fsincos, frndint, fscale, fsin, fcos][rm];
      }
    case 0xda:
      if (reg < 4) return fcmov([2, 4, 6, 10][reg], rm);
      if (reg === 5 && rm === 1) return regCom(1, 2, true); // fucompp
      return null;
    case 0xdb:
      if (reg < 4) return fcmov([3, 5, 7, 11][reg], rm);
      if (reg === 4) {
        if (rm === 2) return fnclex;
        if (rm === 3) return fninit;
        if (rm === 0 || rm === 1 || rm === 4) return fnop; // feni, fdisi, fsetpm
        return null;
      }
      if (reg === 5) return regComi(rm, false, true);
      if (reg === 6) return regComi(rm, false, false);
      return null;
    case 0xdc:
      if (reg === 2) return regCom(rm, 0, false);
      if (reg === 3) return regCom(rm, 1, false);
      return regArith(reg >= 4 ? reg ^ 1 : reg, rm, 0, false);
    case 0xdd:
      switch (reg) {
        case 0:
          return ffree(rm, false);
        case 1:
          return fxch(rm);
        case 2:
          return fstReg(rm, false);
        case 3:
          return fstReg(rm, true);
        case 4:
          return regCom(rm, 0, true);
        case 5:
          return regCom(rm, 1, true);
      }
      return null;
    case 0xde:
      if (reg === 3) return rm === 1 ? regCom(1, 2, false) : null; // fcompp
      if (reg === 2) return regCom(rm, 1, false);
      return regArith(reg >= 4 ? reg ^ 1 : reg, rm, 0, true);
    case 0xdf:
      if (reg === 4) return rm === 0 ? fnstswAX : null;
      if (reg === 5) return regComi(rm, true, true);
      if (reg === 6) return regComi(rm, true, false);
      if (reg === 0) return ffree(rm, true); // ffreep
      if (reg === 1) return fxch(rm);
      if (reg === 2 || reg === 3) return fstReg(rm, true);
      return null;
  }
  return null;
}
