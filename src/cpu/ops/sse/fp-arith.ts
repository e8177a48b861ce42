/**
 * SSE floating-point arithmetic on packed and scalar float32/float64: add,
 * sub, mul, div, min, max, sqrt, rcp/rsqrt, addsub, horizontal add/sub,
 * round, dot products. rcpps/rsqrtps return the correctly rounded value, not
 * the hardware's 12-bit approximation.
 */
import type { CPU } from '../../cpu.js';
import type { Handler, Insn } from '../../insn.js';
import { SD, SF32, SI, XD, XF, XI, ld32, ld64, ldA } from './operands.js';
import { ADD, DAZ, DE, DEF_NAN32, DEF_NAN64_HI, IE, MUL, PE, SUB, daz32, daz64, denorm32, denorm64, fHi, fbin32, fbin64, finish32, finish64, isSNaN32, isSNaN64, mxRC, roundRC } from './float.js';

/** dest float32 at XI index dk op= source float32 at SI index sk */
function fop32(cpu: CPU, op: number, dk: number, sk: number): void {
  XI[dk] = fbin32(cpu, op, XI[dk], SI[sk]);
}

/** dest float64 at XD index dq op= source float64 at SD index sq */
function fop64(cpu: CPU, op: number, dq: number, sq: number): void {
  const lo = fbin64(cpu, op, XI[2 * dq], XI[2 * dq + 1], SI[2 * sq], SI[2 * sq + 1]);
  XI[2 * dq] = lo;
  XI[2 * dq + 1] = fHi;
}

export function fpPS(op: number): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 2;
    fop32(cpu, op, d, 0);
    fop32(cpu, op, d + 1, 1);
    fop32(cpu, op, d + 2, 2);
    fop32(cpu, op, d + 3, 3);
  };
}

export function fpPD(op: number): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 1;
    fop64(cpu, op, d, 0);
    fop64(cpu, op, d + 1, 1);
  };
}

export function fpSS(op: number): Handler {
  return (cpu, i) => {
    ld32(cpu, i);
    fop32(cpu, op, i.reg << 2, 0);
  };
}

export function fpSD(op: number): Handler {
  return (cpu, i) => {
    ld64(cpu, i);
    fop64(cpu, op, i.reg << 1, 0);
  };
}

const SQRT = 6;

/** sqrt of source float32 SI[sk] into XI[dk] */
function sqrt32(cpu: CPU, dk: number, sk: number): void {
  let b = SF32[sk];
  const bi = SI[sk];
  if (denorm32(b)) {
    if (cpu.mxcsr & DAZ) b = b < 0 ? -0 : 0;
    else if (b > 0) cpu.mxcsr |= DE;
  }
  if (b !== b) {
    if (isSNaN32(bi)) cpu.mxcsr |= IE;
    XI[dk] = bi | 0x400000;
  } else if (b < 0) {
    XI[dk] = DEF_NAN32;
    cpu.mxcsr |= IE;
  } else XF[dk] = finish32(cpu, SQRT, b, b, Math.sqrt(b));
}

function sqrt64(cpu: CPU, dq: number, sq: number): void {
  let b = SD[sq];
  if (denorm64(b)) {
    if (cpu.mxcsr & DAZ) b = b < 0 ? -0 : 0;
    else if (b > 0) cpu.mxcsr |= DE;
  }
  if (b !== b) {
    if (isSNaN64(SI[2 * sq + 1], SI[2 * sq])) cpu.mxcsr |= IE;
    XI[2 * dq] = SI[2 * sq];
    XI[2 * dq + 1] = SI[2 * sq + 1] | 0x80000;
  } else if (b < 0) {
    XI[2 * dq] = 0;
    XI[2 * dq + 1] = DEF_NAN64_HI;
    cpu.mxcsr |= IE;
  } else XD[dq] = b === Infinity ? b : finish64(cpu, SQRT, b, b, Math.sqrt(b));
}

export function sqrtps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  for (let k = 0; k < 4; k++) sqrt32(cpu, (i.reg << 2) + k, k);
}

export function sqrtpd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  sqrt64(cpu, i.reg << 1, 0);
  sqrt64(cpu, (i.reg << 1) + 1, 1);
}

export function sqrtss(cpu: CPU, i: Insn): void {
  ld32(cpu, i);
  sqrt32(cpu, i.reg << 2, 0);
}

export function sqrtsd(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  sqrt64(cpu, i.reg << 1, 0);
}

/** rcp (kind 0) / rsqrt (kind 1), correctly rounded rather than approximated */
function approx32(dk: number, sk: number, kind: number): void {
  const b = SF32[sk], bi = SI[sk];
  if (b !== b) XI[dk] = bi | 0x400000;
  else if (kind === 0) XF[dk] = Math.fround(1 / b);
  else if (b < 0) XI[dk] = DEF_NAN32;
  else XF[dk] = Math.fround(1 / Math.sqrt(b));
}

export function approxPS(kind: number): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    for (let k = 0; k < 4; k++) approx32((i.reg << 2) + k, k, kind);
  };
}

export function approxSS(kind: number): Handler {
  return (cpu, i) => {
    ld32(cpu, i);
    approx32(i.reg << 2, 0, kind);
  };
}

/** addsubps / addsubpd, haddps/pd, hsubps/pd */
export function addsubps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  fop32(cpu, SUB, d, 0);
  fop32(cpu, ADD, d + 1, 1);
  fop32(cpu, SUB, d + 2, 2);
  fop32(cpu, ADD, d + 3, 3);
}

export function addsubpd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  fop64(cpu, SUB, i.reg << 1, 0);
  fop64(cpu, ADD, (i.reg << 1) + 1, 1);
}

export function hps(op: number): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 2;
    // result: [d0 op d1, d2 op d3, s0 op s1, s2 op s3]; compute via scratch by moving pairs
    const s0 = SI[0], s1 = SI[1], s2 = SI[2], s3 = SI[3];
    const d1 = XI[d + 1], d2 = XI[d + 2], d3 = XI[d + 3];
    // element 0: d0 op d1
    SI[0] = d1;
    fop32(cpu, op, d, 0);
    // element 1: d2 op d3
    XI[d + 1] = d2;
    SI[1] = d3;
    fop32(cpu, op, d + 1, 1);
    // element 2: s0 op s1
    XI[d + 2] = s0;
    SI[2] = s1;
    fop32(cpu, op, d + 2, 2);
    // element 3: s2 op s3
    XI[d + 3] = s2;
    SI[3] = s3;
    fop32(cpu, op, d + 3, 3);
  };
}

export function hpd(op: number): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 2;
    const s0 = SI[0], s1 = SI[1], s2 = SI[2], s3 = SI[3];
    SI[0] = XI[d + 2];
    SI[1] = XI[d + 3];
    fop64(cpu, op, i.reg << 1, 0);
    XI[d + 2] = s0;
    XI[d + 3] = s1;
    SI[2] = s2;
    SI[3] = s3;
    fop64(cpu, op, (i.reg << 1) + 1, 1);
  };
}


/** round{ps,pd,ss,sd}: imm bit 2 selects MXCSR.RC, else imm bits 1:0 */
function roundRC32(cpu: CPU, dk: number, sk: number, rc: number, quiet: boolean): void {
  const x = SF32[sk];
  if (x !== x) {
    if (isSNaN32(SI[sk])) cpu.mxcsr |= IE;
    XI[dk] = SI[sk] | 0x400000;
    return;
  }
  const z = daz32(cpu, x);
  const r = roundRC(z, rc);
  if (r !== z && !quiet) cpu.mxcsr |= PE;
  XF[dk] = r;
}

function roundRC64(cpu: CPU, dq: number, sq: number, rc: number, quiet: boolean): void {
  const x = SD[sq];
  if (x !== x) {
    if (isSNaN64(SI[2 * sq + 1], SI[2 * sq])) cpu.mxcsr |= IE;
    XI[2 * dq] = SI[2 * sq];
    XI[2 * dq + 1] = SI[2 * sq + 1] | 0x80000;
    return;
  }
  const z = daz64(cpu, x);
  const r = roundRC(z, rc);
  if (r !== z && !quiet) cpu.mxcsr |= PE;
  XD[dq] = r;
}

export function roundps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const rc = i.imm & 4 ? mxRC(cpu) : i.imm & 3, q = (i.imm & 8) !== 0;
  for (let k = 0; k < 4; k++) roundRC32(cpu, (i.reg << 2) + k, k, rc, q);
}

export function roundpd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const rc = i.imm & 4 ? mxRC(cpu) : i.imm & 3, q = (i.imm & 8) !== 0;
  roundRC64(cpu, i.reg << 1, 0, rc, q);
  roundRC64(cpu, (i.reg << 1) + 1, 1, rc, q);
}

export function roundss(cpu: CPU, i: Insn): void {
  ld32(cpu, i);
  const rc = i.imm & 4 ? mxRC(cpu) : i.imm & 3;
  roundRC32(cpu, i.reg << 2, 0, rc, (i.imm & 8) !== 0);
}

export function roundsd(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  const rc = i.imm & 4 ? mxRC(cpu) : i.imm & 3;
  roundRC64(cpu, i.reg << 1, 0, rc, (i.imm & 8) !== 0);
}

/** dpps / dppd (SSE4.1 dot products): products, then pairwise sums, each rounded like hardware */
export function dpps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2, m = i.imm;
  const p0 = m & 16 ? fbin32(cpu, MUL, XI[d], SI[0]) : 0;
  const p1 = m & 32 ? fbin32(cpu, MUL, XI[d + 1], SI[1]) : 0;
  const p2 = m & 64 ? fbin32(cpu, MUL, XI[d + 2], SI[2]) : 0;
  const p3 = m & 128 ? fbin32(cpu, MUL, XI[d + 3], SI[3]) : 0;
  const s01 = fbin32(cpu, ADD, p0, p1), s23 = fbin32(cpu, ADD, p2, p3);
  const s = fbin32(cpu, ADD, s01, s23);
  for (let k = 0; k < 4; k++) XI[d + k] = m & (1 << k) ? s : 0;
}

export function dppd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2, m = i.imm;
  let l0 = 0, h0 = 0, l1 = 0, h1 = 0;
  if (m & 16) {
    l0 = fbin64(cpu, MUL, XI[d], XI[d + 1], SI[0], SI[1]);
    h0 = fHi;
  }
  if (m & 32) {
    l1 = fbin64(cpu, MUL, XI[d + 2], XI[d + 3], SI[2], SI[3]);
    h1 = fHi;
  }
  const lo = fbin64(cpu, ADD, l0, h0, l1, h1), hi = fHi;
  XI[d] = m & 1 ? lo : 0;
  XI[d + 1] = m & 1 ? hi : 0;
  XI[d + 2] = m & 2 ? lo : 0;
  XI[d + 3] = m & 2 ? hi : 0;
}
