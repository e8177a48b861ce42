/**
 * The x87 register stack as instructions see it (ST(i) relative to TOP,
 * push/pop with stack overflow/underflow), the per-instruction bracket that
 * merges raised exceptions into FSW, and the memory operand loaders.
 */
import type { CPU } from '../../cpu.js';
import { C0, C1, C2, C3, S_IE, S_SF, X87, phys, setTop, top } from '../../fpu-state.js';
import { B, EQ, type Ext, GT, LT, W, fromF32, fromF64, fromInt64, loadW, setIndef, storeW, unpackReg } from './float80.js';

/** Start an instruction that reports rounding in C1. */
export function begin(cpu: CPU): void {
  cpu.fsw &= ~C1;
  W.flags = 0;
}

/** Merge the operation's exception flags (and C1 = rounded up) into FSW. */
export function finish(cpu: CPU): void {
  cpu.fsw |= W.flags & (0x7f | C1);
  W.flags = 0;
}

/** Read ST(i) into x; an empty register is a stack underflow (indefinite). */
export function getST(cpu: CPU, st: X87, i: number, x: Ext): boolean {
  const p = phys(cpu, i);
  if (st.empty & (1 << p)) {
    W.flags |= S_IE | S_SF;
    cpu.fsw &= ~C1;
    setIndef(x);
    return false;
  }
  unpackReg(st, p, x);
  return true;
}

/** Decrement TOP for a push; returns the physical register, or -1 on stack overflow (indefinite pushed). */
export function push(cpu: CPU, st: X87): number {
  const t = (top(cpu) - 1) & 7;
  setTop(cpu, t);
  if ((st.empty & (1 << t)) === 0) {
    W.flags |= S_IE | S_SF;
    cpu.fsw |= C1;
    st.se[t] = 0xffff;
    st.mh[t] = 0xc0000000;
    st.ml[t] = 0;
    return -1;
  }
  return t;
}

export function pop(cpu: CPU, st: X87): void {
  const t = top(cpu);
  st.empty |= 1 << t;
  setTop(cpu, t + 1);
}

export function pushW(cpu: CPU, st: X87): void {
  const p = push(cpu, st);
  if (p >= 0) storeW(cpu, st, p, false);
}

export function pushExt(cpu: CPU, st: X87, x: Ext): void {
  loadW(x, x.s);
  pushW(cpu, st);
}

export function setCC(cpu: CPU, cc: number): void {
  cpu.fsw = (cpu.fsw & ~(C0 | C1 | C2 | C3)) | cc;
}

export function cmpCC(r: number): number {
  return r === GT ? 0 : r === LT ? C0 : r === EQ ? C3 : C0 | C2 | C3;
}

export type MemLoad = (cpu: CPU, a: number) => void;

/** Memory operand loaders into B. */
export const ldM32: MemLoad = (cpu, a) => fromF32(cpu.mem.read32(a), B);

export const ldM64: MemLoad = (cpu, a) => {
  const lo = cpu.mem.read64(a);
  fromF64(lo, cpu.mem.hi, B);
};

export const ldI16: MemLoad = (cpu, a) => {
  const v = (cpu.mem.read16(a) << 16) >> 16;
  fromInt64(v, v >> 31, B);
};

export const ldI32: MemLoad = (cpu, a) => {
  const v = cpu.mem.read32(a);
  fromInt64(v, v >> 31, B);
};

export const ldI64: MemLoad = (cpu, a) => {
  const lo = cpu.mem.read64(a);
  fromInt64(lo, cpu.mem.hi, B);
};
