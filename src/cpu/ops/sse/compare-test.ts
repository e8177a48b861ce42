/**
 * SSE comparisons and tests: integer pcmpeq/pcmpgt, float cmpps/pd/ss/sd with
 * their eight predicates, comis/ucomis into RFLAGS, ptest.
 */
import { type CPU, AF, CF, OF, PF, SF, ZF } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { SD, SF32, SI, SW, XD, XF, XI, XW, ld32, ld64, ldA } from './operands.js';
import { DAZ, DE, IE, denorm32, denorm64, isNaN32, isNaN64, isSNaN32, isSNaN64 } from './float.js';
import { e16s, e32, e8s } from './int-arith.js';

const ARITH = CF | PF | AF | ZF | SF | OF;

/** 0xff in each byte of x that is zero, else 0. */
function zeroBytes(x: number): number {
  const t = (((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) & 0x80808080;
  return ~((t >>> 7) * 0xff);
}

export function pcmpeqb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = zeroBytes(XI[d] ^ SI[0]);
  XI[d + 1] = zeroBytes(XI[d + 1] ^ SI[1]);
  XI[d + 2] = zeroBytes(XI[d + 2] ^ SI[2]);
  XI[d + 3] = zeroBytes(XI[d + 3] ^ SI[3]);
}

export function pcmpeqw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k++) XW[d + k] = XW[d + k] === SW[k] ? 0xffff : 0;
}

export function pcmpeqd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = XI[d] === SI[0] ? -1 : 0;
  XI[d + 1] = XI[d + 1] === SI[1] ? -1 : 0;
  XI[d + 2] = XI[d + 2] === SI[2] ? -1 : 0;
  XI[d + 3] = XI[d + 3] === SI[3] ? -1 : 0;
}

export function pcmpeqq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  const e0 = XI[d] === SI[0] && XI[d + 1] === SI[1] ? -1 : 0;
  const e1 = XI[d + 2] === SI[2] && XI[d + 3] === SI[3] ? -1 : 0;
  XI[d] = XI[d + 1] = e0;
  XI[d + 2] = XI[d + 3] = e1;
}

export function pcmpgtq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k += 2) {
    const ah = XI[d + k + 1], bh = SI[k + 1];
    const gt = ah > bh || (ah === bh && XI[d + k] >>> 0 > SI[k] >>> 0);
    XI[d + k] = XI[d + k + 1] = gt ? -1 : 0;
  }
}

export const pcmpgtb = e8s((a, b) => (a > b ? -1 : 0));
export const pcmpgtw = e16s((a, b) => (a > b ? -1 : 0));
export const pcmpgtd = e32((a, b) => (a > b ? -1 : 0));

export function ptest(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  let and = 0, andn = 0;
  for (let k = 0; k < 4; k++) {
    and |= XI[d + k] & SI[k];
    andn |= ~XI[d + k] & SI[k];
  }
  cpu.setArith(ARITH, (and === 0 ? ZF : 0) | (andn === 0 ? CF : 0));
}

function cmpPred(p: number, a: number, b: number): boolean {
  switch (p) {
    case 0:
      return a === b;
    case 1:
      return a < b;
    case 2:
      return a <= b;
    case 3:
      return a !== a || b !== b;
    case 4:
      return !(a === b);
    case 5:
      return !(a < b);
    case 6:
      return !(a <= b);
    default:
      return a === a && b === b;
  }
}

/** Signaling predicates (LT, LE, NLT, NLE) raise IE on any NaN, the others on SNaN only. */
function cmpIE32(cpu: CPU, p: number, ai: number, bi: number): void {
  if ((p & 3) === 1 || (p & 3) === 2) {
    if (isNaN32(ai) || isNaN32(bi)) cpu.mxcsr |= IE;
  } else if (isSNaN32(ai) || isSNaN32(bi)) cpu.mxcsr |= IE;
}

function cmpIE64(cpu: CPU, p: number, ah: number, al: number, bh: number, bl: number): void {
  if ((p & 3) === 1 || (p & 3) === 2) {
    if (isNaN64(ah, al) || isNaN64(bh, bl)) cpu.mxcsr |= IE;
  } else if (isSNaN64(ah, al) || isSNaN64(bh, bl)) cpu.mxcsr |= IE;
}

function cmp32(cpu: CPU, p: number, dk: number, sk: number): void {
  let a = XF[dk], b = SF32[sk];
  if (denorm32(a) || denorm32(b)) {
    if (cpu.mxcsr & DAZ) {
      if (denorm32(a)) a = 0;
      if (denorm32(b)) b = 0;
    } else if (b === b && a === a) cpu.mxcsr |= DE;
  }
  if (a !== a || b !== b) cmpIE32(cpu, p, XI[dk], SI[sk]);
  XI[dk] = cmpPred(p, a, b) ? -1 : 0;
}

function cmp64(cpu: CPU, p: number, dq: number, sq: number): void {
  let a = XD[dq], b = SD[sq];
  if (denorm64(a) || denorm64(b)) {
    if (cpu.mxcsr & DAZ) {
      if (denorm64(a)) a = 0;
      if (denorm64(b)) b = 0;
    } else if (a === a && b === b) cpu.mxcsr |= DE;
  }
  if (a !== a || b !== b) cmpIE64(cpu, p, XI[2 * dq + 1], XI[2 * dq], SI[2 * sq + 1], SI[2 * sq]);
  XI[2 * dq] = XI[2 * dq + 1] = cmpPred(p, a, b) ? -1 : 0;
}

export function cmpps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const p = i.imm & 7, d = i.reg << 2;
  for (let k = 0; k < 4; k++) cmp32(cpu, p, d + k, k);
}

export function cmppd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const p = i.imm & 7;
  cmp64(cpu, p, i.reg << 1, 0);
  cmp64(cpu, p, (i.reg << 1) + 1, 1);
}

export function cmpss(cpu: CPU, i: Insn): void {
  ld32(cpu, i);
  cmp32(cpu, i.imm & 7, i.reg << 2, 0);
}

export function cmpsd(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  cmp64(cpu, i.imm & 7, i.reg << 1, 0);
}

/** comiss/ucomiss (signal = comi) */
function comiFlags(cpu: CPU, a: number, b: number, single: boolean): void {
  if (single ? denorm32(a) || denorm32(b) : denorm64(a) || denorm64(b)) {
    if (cpu.mxcsr & DAZ) {
      if (single ? denorm32(a) : denorm64(a)) a = 0;
      if (single ? denorm32(b) : denorm64(b)) b = 0;
    } else if (a === a && b === b) cpu.mxcsr |= DE;
  }
  let f: number;
  if (a !== a || b !== b) f = ZF | PF | CF;
  else if (a > b) f = 0;
  else if (a < b) f = CF;
  else f = ZF;
  cpu.setArith(ARITH, f);
}

export function comiss(cpu: CPU, i: Insn): void {
  ld32(cpu, i);
  const d = i.reg << 2;
  const a = XF[d], b = SF32[0];
  if (a !== a || b !== b) cpu.mxcsr |= IE;
  comiFlags(cpu, a, b, true);
}

export function ucomiss(cpu: CPU, i: Insn): void {
  ld32(cpu, i);
  const d = i.reg << 2;
  const a = XF[d], b = SF32[0];
  if ((a !== a || b !== b) && (isSNaN32(XI[d]) || isSNaN32(SI[0]))) cpu.mxcsr |= IE;
  comiFlags(cpu, a, b, true);
}

export function comisd(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  const a = XD[i.reg << 1], b = SD[0];
  if (a !== a || b !== b) cpu.mxcsr |= IE;
  comiFlags(cpu, a, b, false);
}

export function ucomisd(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  const d = i.reg << 2;
  const a = XD[i.reg << 1], b = SD[0];
  if ((a !== a || b !== b) && (isSNaN64(XI[d + 1], XI[d]) || isSNaN64(SI[1], SI[0]))) cpu.mxcsr |= IE;
  comiFlags(cpu, a, b, false);
}
