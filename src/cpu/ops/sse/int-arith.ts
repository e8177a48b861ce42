/**
 * SSE integer arithmetic on packed bytes, words, dwords and qwords: bitwise
 * logic, add/sub (wrapping and saturating), averages, min/max, multiplies,
 * sums of absolute differences, horizontal add/sub, sign and abs, and the
 * element and whole-register shifts.
 */
import type { CPU } from '../../cpu.js';
import type { Handler, Insn } from '../../insn.js';
import { RI, RSW, RW, SB, SI, SSB, SSW, SW, XB, XI, XSB, XSW, XW, bind, copyR, ldA } from './operands.js';

export function pand(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] &= SI[0];
  XI[d + 1] &= SI[1];
  XI[d + 2] &= SI[2];
  XI[d + 3] &= SI[3];
}

export function pandn(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = ~XI[d] & SI[0];
  XI[d + 1] = ~XI[d + 1] & SI[1];
  XI[d + 2] = ~XI[d + 2] & SI[2];
  XI[d + 3] = ~XI[d + 3] & SI[3];
}

export function por(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] |= SI[0];
  XI[d + 1] |= SI[1];
  XI[d + 2] |= SI[2];
  XI[d + 3] |= SI[3];
}

export function pxor(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rm === i.reg) {
    XI[d] = XI[d + 1] = XI[d + 2] = XI[d + 3] = 0;
    return;
  }
  ldA(cpu, i);
  XI[d] ^= SI[0];
  XI[d + 1] ^= SI[1];
  XI[d + 2] ^= SI[2];
  XI[d + 3] ^= SI[3];
}

/** 0xff in each byte where the unsigned byte of a is below that of b (two 16-bit-lane subtractions). */
function ltBytes(a: number, b: number): number {
  const ev = ((a & 0xff00ff) | 0x1000100) - (b & 0xff00ff);
  const od = (((a >>> 8) & 0xff00ff) | 0x1000100) - ((b >>> 8) & 0xff00ff);
  return (((~ev >>> 8) & 0x10001) * 0xff) | ((((~od >>> 8) & 0x10001) * 0xff) << 8);
}

export function pminub(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) {
    const a = XI[d + k], b = SI[k];
    XI[d + k] = b ^ ((a ^ b) & ltBytes(a, b));
  }
}

export function pmaxub(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) {
    const a = XI[d + k], b = SI[k];
    XI[d + k] = a ^ ((a ^ b) & ltBytes(a, b));
  }
}

export function paddb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 16; k++) XB[d + k] += SB[k];
}

export function psubb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 16; k++) XB[d + k] -= SB[k];
}

export function paddw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k++) XW[d + k] += SW[k];
}

export function psubw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k++) XW[d + k] -= SW[k];
}

export function paddd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = (XI[d] + SI[0]) | 0;
  XI[d + 1] = (XI[d + 1] + SI[1]) | 0;
  XI[d + 2] = (XI[d + 2] + SI[2]) | 0;
  XI[d + 3] = (XI[d + 3] + SI[3]) | 0;
}

export function psubd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = (XI[d] - SI[0]) | 0;
  XI[d + 1] = (XI[d + 1] - SI[1]) | 0;
  XI[d + 2] = (XI[d + 2] - SI[2]) | 0;
  XI[d + 3] = (XI[d + 3] - SI[3]) | 0;
}

export function paddq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k += 2) {
    const lo = (XI[d + k] >>> 0) + (SI[k] >>> 0);
    XI[d + k] = lo | 0;
    XI[d + k + 1] = (XI[d + k + 1] + SI[k + 1] + (lo > 0xffffffff ? 1 : 0)) | 0;
  }
}

export function psubq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k += 2) {
    const a = XI[d + k] >>> 0, b = SI[k] >>> 0;
    XI[d + k] = (a - b) | 0;
    XI[d + k + 1] = (XI[d + k + 1] - SI[k + 1] - (a < b ? 1 : 0)) | 0;
  }
}

type F2 = (a: number, b: number) => number;

function e8u(f: F2): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 4;
    for (let k = 0; k < 16; k++) XB[d + k] = f(XB[d + k], SB[k]);
  };
}

export function e8s(f: F2): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 4;
    for (let k = 0; k < 16; k++) XSB[d + k] = f(XSB[d + k], SSB[k]);
  };
}

function e16u(f: F2): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 3;
    for (let k = 0; k < 8; k++) XW[d + k] = f(XW[d + k], SW[k]);
  };
}

export function e16s(f: F2): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 3;
    for (let k = 0; k < 8; k++) XSW[d + k] = f(XSW[d + k], SSW[k]);
  };
}

export function e32(f: F2): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 2;
    for (let k = 0; k < 4; k++) XI[d + k] = f(XI[d + k], SI[k]);
  };
}

function e32u(f: F2): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 2;
    for (let k = 0; k < 4; k++) XI[d + k] = f(XI[d + k] >>> 0, SI[k] >>> 0);
  };
}

export const sat8s = (v: number): number => (v > 127 ? 127 : v < -128 ? -128 : v);
export const sat8u = (v: number): number => (v > 255 ? 255 : v < 0 ? 0 : v);
export const sat16s = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
export const sat16u = (v: number): number => (v > 65535 ? 65535 : v < 0 ? 0 : v);
export const min = (a: number, b: number): number => (a < b ? a : b);
export const max = (a: number, b: number): number => (a > b ? a : b);
const sign = (a: number, b: number): number => (b < 0 ? -a : b === 0 ? 0 : a);
export const paddsb = e8s((a, b) => sat8s(a + b));
export const psubsb = e8s((a, b) => sat8s(a - b));
export const paddusb = e8u((a, b) => sat8u(a + b));
export const psubusb = e8u((a, b) => sat8u(a - b));
export const pavgb = e8u((a, b) => (a + b + 1) >> 1);
export const pminsb = e8s(min);
export const pmaxsb = e8s(max);
export const psignb = e8s(sign);
export const paddsw = e16s((a, b) => sat16s(a + b));
export const psubsw = e16s((a, b) => sat16s(a - b));
export const paddusw = e16u((a, b) => sat16u(a + b));
export const psubusw = e16u((a, b) => sat16u(a - b));
export const pavgw = e16u((a, b) => (a + b + 1) >> 1);
export const pminsw = e16s(min);
export const pmaxsw = e16s(max);
export const pminuw = e16u(min);
export const pmaxuw = e16u(max);
export const pmullw = e16u((a, b) => Math.imul(a, b));
export const pmulhw = e16s((a, b) => (a * b) >> 16);
export const pmulhuw = e16u((a, b) => Math.floor((a * b) / 65536));
export const pmulhrsw = e16s((a, b) => (((a * b) >> 14) + 1) >> 1);
export const psignw = e16s(sign);
export const pminsd = e32(min);
export const pmaxsd = e32(max);
export const pminud = e32u(min);
export const pmaxud = e32u(max);
export const pmulld = e32((a, b) => Math.imul(a, b));
export const psignd = e32((a, b) => (b < 0 ? -a | 0 : b === 0 ? 0 : a));

export function pabsb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 16; k++) XB[d + k] = Math.abs(SSB[k]);
}

export function pabsw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k++) XW[d + k] = Math.abs(SSW[k]);
}

export function pabsd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) XI[d + k] = Math.abs(SI[k]) | 0;
}

export function pmaddwd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k += 2) {
    const v = XSW[d + k] * SSW[k] + XSW[d + k + 1] * SSW[k + 1];
    XI[(d + k) >> 1] = v | 0;
  }
}

export function pmaddubsw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 16; k += 2) {
    RW[k >> 1] = sat16s(XB[d + k] * SSB[k] + XB[d + k + 1] * SSB[k + 1]);
  }
  copyR(i.reg << 2);
}

export function psadbw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  let s0 = 0, s1 = 0;
  for (let k = 0; k < 8; k++) s0 += Math.abs(XB[d + k] - SB[k]);
  for (let k = 8; k < 16; k++) s1 += Math.abs(XB[d + k] - SB[k]);
  const o = i.reg << 2;
  XI[o] = s0;
  XI[o + 1] = 0;
  XI[o + 2] = s1;
  XI[o + 3] = 0;
}

/** Unsigned 32x32 -> 64 product: low half returned, high half in mulHi. */
let mulHi = 0;

function mulu32(a: number, b: number): number {
  a >>>= 0;
  b >>>= 0;
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl;
  const mid = al * bh + ah * bl; // < 2^33
  const lo = ll + (mid % 65536) * 65536; // < 2^49
  mulHi = (ah * bh + Math.floor(mid / 65536) + Math.floor(lo / 4294967296)) | 0;
  return lo % 4294967296 | 0;
}

export function pmuludq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k += 2) {
    XI[d + k] = mulu32(XI[d + k], SI[k]);
    XI[d + k + 1] = mulHi;
  }
}

export function pmuldq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k += 2) {
    const a = XI[d + k], b = SI[k];
    XI[d + k] = mulu32(a, b);
    let hi = mulHi;
    if (a < 0) hi = (hi - b) | 0;
    if (b < 0) hi = (hi - a) | 0;
    XI[d + k + 1] = hi;
  }
}

export function phminposuw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  let m = SW[0], idx = 0;
  for (let k = 1; k < 8; k++)
    if (SW[k] < m) {
      m = SW[k];
      idx = k;
    }
  const d = i.reg << 2;
  XI[d] = m | (idx << 16);
  XI[d + 1] = XI[d + 2] = XI[d + 3] = 0;
}

/** Horizontal add/sub of words (phaddw, phsubw, phaddsw, phsubsw). */
export function phw(sub: boolean, sat: boolean): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 3;
    for (let k = 0; k < 4; k++) {
      const a = XSW[d + 2 * k], b = XSW[d + 2 * k + 1];
      const c = SSW[2 * k], e = SSW[2 * k + 1];
      let v1 = sub ? a - b : a + b, v2 = sub ? c - e : c + e;
      if (sat) {
        v1 = sat16s(v1);
        v2 = sat16s(v2);
      }
      RSW[k] = v1;
      RSW[k + 4] = v2;
    }
    copyR(i.reg << 2);
  };
}

export function phd(sub: boolean): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 2;
    RI[0] = (sub ? XI[d] - XI[d + 1] : XI[d] + XI[d + 1]) | 0;
    RI[1] = (sub ? XI[d + 2] - XI[d + 3] : XI[d + 2] + XI[d + 3]) | 0;
    RI[2] = (sub ? SI[0] - SI[1] : SI[0] + SI[1]) | 0;
    RI[3] = (sub ? SI[2] - SI[3] : SI[2] + SI[3]) | 0;
    copyR(d);
  };
}

/** kind: 0 srl, 1 sra, 2 sll; element bits 16/32/64; reg = register index */
function shiftVec(r: number, bits: number, kind: number, cnt: number): void {
  if (bits === 16) {
    const d = r << 3;
    if (cnt > 15) {
      if (kind !== 1) {
        for (let k = 0; k < 8; k++) XW[d + k] = 0;
        return;
      }
      cnt = 15;
    }
    if (kind === 0) for (let k = 0; k < 8; k++) XW[d + k] = XW[d + k] >>> cnt;
    else if (kind === 1) for (let k = 0; k < 8; k++) XSW[d + k] = XSW[d + k] >> cnt;
    else for (let k = 0; k < 8; k++) XW[d + k] = XW[d + k] << cnt;
  } else if (bits === 32) {
    const d = r << 2;
    if (cnt > 31) {
      if (kind !== 1) {
        for (let k = 0; k < 4; k++) XI[d + k] = 0;
        return;
      }
      cnt = 31;
    }
    if (kind === 0) for (let k = 0; k < 4; k++) XI[d + k] = XI[d + k] >>> cnt;
    else if (kind === 1) for (let k = 0; k < 4; k++) XI[d + k] = XI[d + k] >> cnt;
    else for (let k = 0; k < 4; k++) XI[d + k] = XI[d + k] << cnt;
  } else {
    const d = r << 2;
    if (cnt > 63) {
      for (let k = 0; k < 4; k++) XI[d + k] = 0;
      return;
    }
    if (cnt === 0) return;
    for (let k = 0; k < 4; k += 2) {
      const lo = XI[d + k], hi = XI[d + k + 1];
      if (kind === 0) {
        if (cnt < 32) {
          XI[d + k] = (lo >>> cnt) | (hi << (32 - cnt));
          XI[d + k + 1] = hi >>> cnt;
        } else {
          XI[d + k] = hi >>> (cnt - 32);
          XI[d + k + 1] = 0;
        }
      } else if (cnt < 32) {
        XI[d + k + 1] = (hi << cnt) | (lo >>> (32 - cnt));
        XI[d + k] = lo << cnt;
      } else {
        XI[d + k + 1] = lo << (cnt - 32);
        XI[d + k] = 0;
      }
    }
  }
}

/** psrlw/psraw/psllw etc. by imm8: the register is rm */
export function shiftImm(bits: number, kind: number): Handler {
  return (cpu, i) => {
    bind(cpu);
    shiftVec(i.rm, bits, kind, i.imm);
  };
}

/** ... by the low qword of xmm/m128 */
export function shiftXmm(bits: number, kind: number): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const cnt = SI[1] !== 0 || SI[0] >>> 0 > 64 ? 64 : SI[0];
    shiftVec(i.reg, bits, kind, cnt);
  };
}

export function psrldq(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.rm << 4, n = i.imm;
  for (let k = 0; k < 16; k++) XB[d + k] = k + n < 16 ? XB[d + k + n] : 0;
}

export function pslldq(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.rm << 4, n = i.imm;
  for (let k = 15; k >= 0; k--) XB[d + k] = k - n >= 0 ? XB[d + k - n] : 0;
}
