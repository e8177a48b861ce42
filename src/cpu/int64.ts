/**
 * 64- and 128-bit integer arithmetic on 32-bit halves, for mul/imul/div/idiv.
 * Results are left in the exported scratch array `R` (four signed 32-bit
 * words, least significant first) to avoid allocation.
 */
export const R = new Int32Array(4);

/** Unsigned 32x32 -> 64 product: returns the low 32 bits, high 32 bits in MH. */
export let MH = 0;
export function mul32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const t = a0 * b0;
  const mid = a1 * b0 + a0 * b1 + Math.floor(t / 65536);
  MH = (a1 * b1 + Math.floor(mid / 65536)) >>> 0;
  return Math.imul(a, b);
}

/** Low 64 bits of a 64x64 product (same for signed and unsigned): low half returned, high in MH. */
export function mullo64(al: number, ah: number, bl: number, bh: number): number {
  const lo = mul32(al >>> 0, bl >>> 0);
  MH = (MH + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
  return lo;
}

/** Unsigned 64x64 -> 128 product into R. */
export function mulu64(al: number, ah: number, bl: number, bh: number): void {
  // schoolbook on 32-bit words: p = a0b0 + (a0b1 + a1b0) << 32 + a1b1 << 64
  const a0 = al >>> 0, a1 = ah >>> 0, b0 = bl >>> 0, b1 = bh >>> 0;
  const w0 = mul32(a0, b0);
  const c0 = MH;
  const x = mul32(a0, b1) >>> 0;
  const xh = MH;
  const y = mul32(a1, b0) >>> 0;
  const yh = MH;
  const z = mul32(a1, b1) >>> 0;
  const zh = MH;
  const s1 = c0 + x + y; // < 3 * 2^32
  const w1 = s1 >>> 0;
  const s2 = Math.floor(s1 / 4294967296) + xh + yh + z; // < 4 * 2^32
  const w2 = s2 >>> 0;
  const w3 = (Math.floor(s2 / 4294967296) + zh) >>> 0;
  R[0] = w0;
  R[1] = w1 | 0;
  R[2] = w2 | 0;
  R[3] = w3 | 0;
}

/** Signed 64x64 -> 128 product into R. */
export function muls64(al: number, ah: number, bl: number, bh: number): void {
  mulu64(al, ah, bl, bh);
  // high 64 -= (a<0 ? b : 0) + (b<0 ? a : 0)
  if (ah < 0) sub64hi(bl, bh);
  if (bh < 0) sub64hi(al, ah);
}

function sub64hi(lo: number, hi: number): void {
  const l = (R[2] >>> 0) - (lo >>> 0);
  const borrow = l < 0 ? 1 : 0;
  R[2] = l | 0;
  R[3] = (R[3] - hi - borrow) | 0;
}

/**
 * Unsigned 128/64 division: (nh:nl) / d where n = [n0 n1 n2 n3] words.
 * Returns false on divide overflow (quotient does not fit 64 bits) or d = 0.
 * On success R[0..1] = quotient, R[2..3] = remainder.
 */
export function divu128(n0: number, n1: number, n2: number, n3: number, dl: number, dh: number): boolean {
  if ((dl | dh) === 0) return false;
  // overflow unless high 64 < divisor
  if (!(n3 >>> 0 < dh >>> 0 || (n3 === dh && n2 >>> 0 < dl >>> 0))) return false;
  const D = (dh >>> 0) * 4294967296 + (dl >>> 0);
  if (n3 === 0 && n2 === 0 && n1 >>> 0 < 0x200000 && dh >>> 0 < 0x200000) {
    // fits in doubles exactly
    const N = (n1 >>> 0) * 4294967296 + (n0 >>> 0);
    const q = Math.floor(N / D);
    const r = N - q * D;
    R[0] = q % 4294967296 | 0;
    R[1] = Math.floor(q / 4294967296) | 0;
    R[2] = r % 4294967296 | 0;
    R[3] = Math.floor(r / 4294967296) | 0;
    return true;
  }
  // restoring binary long division: remainder (rh:rl:rx) , quotient bits shift in
  let r0 = n2 >>> 0, r1 = n3 >>> 0; // remainder starts as high 64 bits (< d)
  let q0 = n0 >>> 0, q1 = n1 >>> 0; // low 64 bits shift out into the remainder, quotient bits shift in
  const d0 = dl >>> 0, d1 = dh >>> 0;
  for (let k = 0; k < 64; k++) {
    // shift (r:q) left by 1
    const top = r1 >>> 31;
    r1 = ((r1 << 1) | (r0 >>> 31)) >>> 0;
    r0 = ((r0 << 1) | (q1 >>> 31)) >>> 0;
    q1 = ((q1 << 1) | (q0 >>> 31)) >>> 0;
    q0 = (q0 << 1) >>> 0;
    if (top || r1 > d1 || (r1 === d1 && r0 >= d0)) {
      const l = r0 - d0;
      r0 = (l + (l < 0 ? 4294967296 : 0)) >>> 0;
      r1 = (r1 - d1 - (l < 0 ? 1 : 0)) >>> 0;
      q0 = (q0 | 1) >>> 0;
    }
  }
  R[0] = q0 | 0;
  R[1] = q1 | 0;
  R[2] = r0 | 0;
  R[3] = r1 | 0;
  return true;
}

/** Negate the 128-bit value in words w (in place in a 4-array). */
export function neg128(w: Int32Array | number[]): void {
  let carry = 1;
  for (let k = 0; k < 4; k++) {
    const t = (~w[k] >>> 0) + carry;
    w[k] = t | 0;
    carry = t > 0xffffffff ? 1 : 0;
  }
}
