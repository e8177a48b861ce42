/**
 * Integer arithmetic and logic: add/or/adc/sbb/and/sub/xor/cmp in all forms,
 * inc/dec/neg/not/test, mul/imul/div/idiv, and the sign-extension family.
 * Operands of size 1 and 2 are carried masked (unsigned); size 4 as int32;
 * size 8 as two int32 halves with the high one in cpu.hi.
 */
import { CPU, FlOp, RAX, RDX, SIZE_MASK, CF, OF } from '../cpu.js';
import { CpuFault, Vector } from '../fault.js';
import type { Insn } from '../insn.js';
import { MH, R, divu128, mul32, mullo64, mulu64, muls64, neg128 } from '../int64.js';

export const enum Alu {
  ADD = 0,
  OR = 1,
  ADC = 2,
  SBB = 3,
  AND = 4,
  SUB = 5,
  XOR = 6,
  CMP = 7,
}

function add(cpu: CPU, size: number, a: number, ah: number, b: number, bh: number, cin: number, fl: FlOp): number {
  let r: number, rh = 0;
  if (size === 8) {
    const lo = (a >>> 0) + (b >>> 0) + cin;
    rh = (ah + bh + (lo > 4294967295 ? 1 : 0)) | 0;
    r = lo | 0;
  } else if (size === 4) r = (a + b + cin) | 0;
  else r = (a + b + cin) & SIZE_MASK[size];
  cpu.setLazy(fl, size, a, ah, b, bh, r, rh, cin);
  cpu.hi = rh;
  return r;
}

function sub(cpu: CPU, size: number, a: number, ah: number, b: number, bh: number, cin: number, fl: FlOp): number {
  let r: number, rh = 0;
  if (size === 8) {
    const lo = (a >>> 0) - (b >>> 0) - cin;
    rh = (ah - bh - (lo < 0 ? 1 : 0)) | 0;
    r = lo | 0;
  } else if (size === 4) r = (a - b - cin) | 0;
  else r = (a - b - cin) & SIZE_MASK[size];
  cpu.setLazy(fl, size, a, ah, b, bh, r, rh, cin);
  cpu.hi = rh;
  return r;
}

/** One ALU operation; returns the low half, high half in cpu.hi. */
export function alu(cpu: CPU, op: number, size: number, a: number, ah: number, b: number, bh: number): number {
  let r: number, rh: number;
  switch (op) {
    case Alu.ADD:
      return add(cpu, size, a, ah, b, bh, 0, FlOp.ADD);
    case Alu.ADC:
      return add(cpu, size, a, ah, b, bh, cpu.getCF(), FlOp.ADC);
    case Alu.SBB:
      return sub(cpu, size, a, ah, b, bh, cpu.getCF(), FlOp.SBB);
    case Alu.SUB:
    case Alu.CMP:
      return sub(cpu, size, a, ah, b, bh, 0, FlOp.SUB);
    case Alu.OR:
      r = a | b;
      rh = ah | bh;
      break;
    case Alu.AND:
      r = a & b;
      rh = ah & bh;
      break;
    default:
      r = a ^ b;
      rh = ah ^ bh;
      break;
  }
  if (size !== 8) rh = 0;
  cpu.setLogic(size, r, rh);
  cpu.hi = rh;
  return r;
}

/** 00-3F forms: op r/m, reg (sub = op). */
export function aluEG(cpu: CPU, i: Insn): void {
  const size = i.size;
  const a = cpu.readRM(i);
  const ah = cpu.hi;
  const b = cpu.getReg(i.reg, size);
  const r = alu(cpu, i.sub, size, a, ah, b, size === 8 ? cpu.rh[i.reg] : 0);
  if (i.sub !== Alu.CMP) cpu.writeRM(i, r, cpu.hi);
}

/** op reg, r/m. */
export function aluGE(cpu: CPU, i: Insn): void {
  const size = i.size;
  const b = cpu.readRM(i);
  const bh = size === 8 ? cpu.hi : 0;
  const a = cpu.getReg(i.reg, size);
  const r = alu(cpu, i.sub, size, a, size === 8 ? cpu.rh[i.reg] : 0, b, bh);
  if (i.sub !== Alu.CMP) cpu.setReg(i.reg, size, r, cpu.hi);
}

/** op r64, r64 with the destination in r/m (01, 09 ... 39 register forms): the hottest ALU form, without size dispatch. */
export function aluRR64(cpu: CPU, i: Insn): void {
  rr64(cpu, i.sub, i.rm, i.reg);
}

/** op r64, r64 with the destination in reg (03, 0B ... 3B register forms). */
export function aluRR64G(cpu: CPU, i: Insn): void {
  rr64(cpu, i.sub, i.reg, i.rm);
}

function rr64(cpu: CPU, op: number, d: number, s: number): void {
  const rl = cpu.rl, rh = cpu.rh;
  const a = rl[d], ah = rh[d], b = rl[s], bh = rh[s];
  if (op === Alu.ADD) {
    const lo = (a >>> 0) + (b >>> 0);
    const hi = (ah + bh + (lo > 4294967295 ? 1 : 0)) | 0;
    cpu.setLazy(FlOp.ADD, 8, a, ah, b, bh, lo | 0, hi, 0);
    rl[d] = lo;
    rh[d] = hi;
    return;
  }
  if (op === Alu.SUB || op === Alu.CMP) {
    const lo = (a >>> 0) - (b >>> 0);
    const hi = (ah - bh - (lo < 0 ? 1 : 0)) | 0;
    cpu.setLazy(FlOp.SUB, 8, a, ah, b, bh, lo | 0, hi, 0);
    if (op === Alu.SUB) {
      rl[d] = lo;
      rh[d] = hi;
    }
    return;
  }
  const r = alu(cpu, op, 8, a, ah, b, bh);
  rl[d] = r;
  rh[d] = cpu.hi;
}

/** op r/m, imm (group 1 and the accumulator forms, where rm = RAX). */
export function aluEI(cpu: CPU, i: Insn): void {
  const size = i.size;
  const a = cpu.readRM(i);
  const ah = size === 8 ? cpu.hi : 0;
  const b = size < 4 ? i.imm & SIZE_MASK[size] : i.imm;
  const r = alu(cpu, i.sub, size, a, ah, b, i.immHi);
  if (i.sub !== Alu.CMP) cpu.writeRM(i, r, cpu.hi);
}

/** Register-register xor/sub of a register with itself: the zeroing idiom. */
export function zeroIdiom(cpu: CPU, i: Insn): void {
  cpu.setReg(i.rm, i.size, 0, 0);
  if (i.sub === Alu.XOR) cpu.setLogic(i.size, 0, 0);
  else cpu.setLazy(FlOp.SUB, i.size, 0, 0, 0, 0, 0, 0, 0);
}

/** test r/m, reg */
export function testEG(cpu: CPU, i: Insn): void {
  const a = cpu.readRM(i);
  const ah = cpu.hi;
  const b = cpu.getReg(i.reg, i.size);
  if (i.size === 8) cpu.setLogic(8, a & b, ah & cpu.rh[i.reg]);
  else cpu.setLogic(i.size, a & b, 0);
}

/** test r/m, imm */
export function testEI(cpu: CPU, i: Insn): void {
  const a = cpu.readRM(i);
  if (i.size === 8) cpu.setLogic(8, a & i.imm, cpu.hi & i.immHi);
  else cpu.setLogic(i.size, a & i.imm & SIZE_MASK[i.size], 0);
}

/** inc/dec r/m (sub 0 = inc, 1 = dec): CF preserved. */
export function incdec(cpu: CPU, i: Insn): void {
  const size = i.size;
  const a = cpu.readRM(i);
  const ah = size === 8 ? cpu.hi : 0;
  const cf = cpu.getCF();
  const r = i.sub === 0 ? add(cpu, size, a, ah, 1, 0, 0, FlOp.INC) : sub(cpu, size, a, ah, 1, 0, 0, FlOp.DEC);
  cpu.lf[8] = cf;
  cpu.writeRM(i, r, cpu.hi);
}

export function not(cpu: CPU, i: Insn): void {
  const a = cpu.readRM(i);
  const ah = cpu.hi;
  cpu.writeRM(i, ~a, ~ah);
}

export function neg(cpu: CPU, i: Insn): void {
  const size = i.size;
  const a = cpu.readRM(i);
  const ah = size === 8 ? cpu.hi : 0;
  const r = sub(cpu, size, 0, 0, a, ah, 0, FlOp.SUB);
  cpu.writeRM(i, r, cpu.hi);
}

function sext(v: number, size: number): number {
  return size === 1 ? (v << 24) >> 24 : size === 2 ? (v << 16) >> 16 : v | 0;
}

/** mul/imul one-operand (sub 4 = mul, 5 = imul): rDX:rAX = rAX * r/m. */
export function mul1(cpu: CPU, i: Insn): void {
  const size = i.size;
  const signed = i.sub === 5;
  const b = cpu.readRM(i);
  const bh = cpu.hi;
  let over: boolean;
  if (size === 8) {
    const al = cpu.rl[RAX], ah = cpu.rh[RAX];
    if (signed) muls64(al, ah, b, bh);
    else mulu64(al, ah, b, bh);
    cpu.set64(RAX, R[0], R[1]);
    cpu.set64(RDX, R[2], R[3]);
    over = signed ? !(R[3] === R[1] >> 31 && R[2] === R[1] >> 31) : (R[2] | R[3]) !== 0;
  } else if (size === 4) {
    const a = cpu.rl[RAX];
    let lo: number, hi: number;
    if (signed) {
      muls64(a, a >> 31, b, b >> 31);
      lo = R[0];
      hi = R[1];
      over = hi !== lo >> 31;
    } else {
      lo = mul32(a >>> 0, b >>> 0);
      hi = MH;
      over = hi !== 0;
    }
    cpu.setReg(RAX, 4, lo, 0);
    cpu.setReg(RDX, 4, hi, 0);
  } else if (size === 2) {
    const a = cpu.rl[RAX] & 0xffff;
    const p = signed ? sext(a, 2) * sext(b, 2) : a * b;
    cpu.setReg(RAX, 2, p & 0xffff, 0);
    cpu.setReg(RDX, 2, (p >> 16) & 0xffff, 0);
    over = signed ? p !== sext(p & 0xffff, 2) : p > 0xffff;
  } else {
    const a = cpu.rl[RAX] & 0xff;
    const p = signed ? sext(a, 1) * sext(b, 1) : a * b;
    cpu.setReg(RAX, 2, p & 0xffff, 0);
    over = signed ? p !== sext(p & 0xff, 1) : p > 0xff;
  }
  mulFlags(cpu, over, size, 0);
}

/** Flags after mul/imul: CF = OF = overflow; SF, ZF, AF and PF are undefined by the SDM (taken from the low result here). */
function mulFlags(cpu: CPU, over: boolean, size: number, lo: number): void {
  cpu.setResult(size, lo, 0, over ? CF | OF : 0);
}

/** imul reg, r/m (0F AF) and imul reg, r/m, imm (69, 6B). */
export function imul2(cpu: CPU, i: Insn): void {
  const size = i.size;
  const b = cpu.readRM(i);
  const bh = cpu.hi;
  let a: number, ah: number;
  if (i.opc === 0x1af) {
    a = cpu.getReg(i.reg, size);
    ah = size === 8 ? cpu.rh[i.reg] : 0;
  } else {
    a = i.imm;
    ah = i.immHi;
  }
  if (size === 8) {
    const lo = mullo64(a, ah, b, bh);
    const hi = MH;
    cpu.setReg(i.reg, 8, lo, hi);
    // CF = OF = the signed product did not fit: computed only if a later instruction reads them
    cpu.setLazy(FlOp.IMUL64, 8, a, ah, b, bh, lo, hi, 0);
  } else if (size === 4) {
    const p = Math.imul(a, b);
    cpu.setReg(i.reg, 4, p, 0);
    mulFlags(cpu, (a | 0) * (b | 0) !== p, 4, p);
  } else {
    const p = sext(a, 2) * sext(b, 2);
    cpu.setReg(i.reg, 2, p & 0xffff, 0);
    mulFlags(cpu, p !== sext(p & 0xffff, 2), 2, p & 0xffff);
  }
}

/** div/idiv (sub 6 = div, 7 = idiv). #DE on zero divisor or quotient overflow. */
export function div1(cpu: CPU, i: Insn): void {
  const size = i.size;
  const signed = i.sub === 7;
  const b = cpu.readRM(i);
  const bh = cpu.hi;
  if (size === 8) {
    const n = [cpu.rl[RAX], cpu.rh[RAX], cpu.rl[RDX], cpu.rh[RDX]];
    let dl = b, dh = bh;
    const nneg = signed && n[3] < 0;
    const dneg = signed && dh < 0;
    if (nneg) neg128(n);
    if (dneg) {
      const t = [dl, dh, 0, 0];
      neg128(t);
      dl = t[0];
      dh = t[1];
    }
    if (!divu128(n[0], n[1], n[2], n[3], dl, dh)) throw new CpuFault(Vector.DE);
    const q = [R[0], R[1], 0, 0];
    const r = [R[2], R[3], 0, 0];
    if (signed) {
      const qneg = nneg !== dneg;
      // magnitude limits: positive quotient < 2^63, negative <= 2^63
      if (qneg) {
        if (q[1] >>> 0 > 0x80000000 || (q[1] >>> 0 === 0x80000000 && q[0] !== 0)) throw new CpuFault(Vector.DE);
        neg128(q);
      } else if (q[1] < 0) throw new CpuFault(Vector.DE);
      if (nneg) neg128(r);
    }
    cpu.set64(RAX, q[0], q[1]);
    cpu.set64(RDX, r[0], r[1]);
    return;
  }
  if (size === 4) {
    if (signed) {
      const d = b | 0;
      if (d === 0) throw new CpuFault(Vector.DE);
      // dividend edx:eax signed 64-bit
      const nl = cpu.rl[RAX], nh = cpu.rl[RDX];
      const n = [nl, nh, nh >> 31, nh >> 31];
      const nneg = nh < 0;
      if (nneg) neg128(n);
      const dm = Math.abs(d);
      if (!divu128(n[0], n[1], 0, 0, dm, 0)) throw new CpuFault(Vector.DE);
      let q = (R[1] >>> 0) * 4294967296 + (R[0] >>> 0);
      let r = (R[3] >>> 0) * 4294967296 + (R[2] >>> 0);
      if (nneg !== d < 0) q = -q;
      if (nneg) r = -r;
      if (q > 0x7fffffff || q < -0x80000000) throw new CpuFault(Vector.DE);
      cpu.setReg(RAX, 4, q | 0, 0);
      cpu.setReg(RDX, 4, r | 0, 0);
    } else {
      const d = b >>> 0;
      if (d === 0) throw new CpuFault(Vector.DE);
      const nh = cpu.rl[RDX] >>> 0;
      if (nh >= d) throw new CpuFault(Vector.DE);
      if (!divu128(cpu.rl[RAX], nh, 0, 0, d, 0)) throw new CpuFault(Vector.DE);
      cpu.setReg(RAX, 4, R[0], 0);
      cpu.setReg(RDX, 4, R[2], 0);
    }
    return;
  }
  if (size === 2) {
    const n = ((cpu.rl[RDX] & 0xffff) << 16) | (cpu.rl[RAX] & 0xffff);
    let q: number, r: number;
    if (signed) {
      const d = sext(b, 2);
      if (d === 0) throw new CpuFault(Vector.DE);
      q = Math.trunc(n / d);
      r = n - q * d;
      if (q > 0x7fff || q < -0x8000) throw new CpuFault(Vector.DE);
    } else {
      if (b === 0) throw new CpuFault(Vector.DE);
      q = Math.floor((n >>> 0) / b);
      r = (n >>> 0) - q * b;
      if (q > 0xffff) throw new CpuFault(Vector.DE);
    }
    cpu.setReg(RAX, 2, q & 0xffff, 0);
    cpu.setReg(RDX, 2, r & 0xffff, 0);
    return;
  }
  const n = cpu.rl[RAX] & 0xffff;
  let q: number, r: number;
  if (signed) {
    const d = sext(b, 1);
    if (d === 0) throw new CpuFault(Vector.DE);
    const sn = sext(n, 2);
    q = Math.trunc(sn / d);
    r = sn - q * d;
    if (q > 0x7f || q < -0x80) throw new CpuFault(Vector.DE);
  } else {
    if (b === 0) throw new CpuFault(Vector.DE);
    q = Math.floor(n / b);
    r = n - q * b;
    if (q > 0xff) throw new CpuFault(Vector.DE);
  }
  cpu.setReg(RAX, 2, (q & 0xff) | ((r & 0xff) << 8), 0);
}

/** cbw/cwde/cdqe (98) */
export function cbw(cpu: CPU, i: Insn): void {
  const a = cpu.rl[RAX];
  if (i.size === 8) cpu.set64(RAX, a, a >> 31);
  else if (i.size === 4) cpu.setReg(RAX, 4, (a << 16) >> 16, 0);
  else cpu.setReg(RAX, 2, ((a << 24) >> 24) & 0xffff, 0);
}

/** cwd/cdq/cqo (99) */
export function cwd(cpu: CPU, i: Insn): void {
  if (i.size === 8) {
    const s = cpu.rh[RAX] >> 31;
    cpu.set64(RDX, s, s);
  } else if (i.size === 4) cpu.setReg(RDX, 4, cpu.rl[RAX] >> 31, 0);
  else cpu.setReg(RDX, 2, ((cpu.rl[RAX] << 16) >> 31) & 0xffff, 0);
}
