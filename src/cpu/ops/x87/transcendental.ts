/**
 * x87 transcendentals: f2xm1, fsin, fcos, fsincos, fptan, fpatan, fyl2x,
 * fyl2xp1. They go through float64 and are therefore only double-precision
 * accurate.
 */
import type { CPU } from '../../cpu.js';
import type { Handler, Insn } from '../../insn.js';
import { C2, phys, x87State } from '../../fpu-state.js';
import { A, B, INF, NAN, T, W, fromNumber, loadW, nanResult, storeW, toNumber, unpack, wIndef } from './float80.js';
import { finish, getST, pop, pushExt, pushW } from './stack.js';
import { unary } from './arith.js';

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

export const f2xm1 = viaDouble((x) => Math.pow(2, x) - 1);
export const fsin = viaDouble(Math.sin);
export const fcos = viaDouble(Math.cos);

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

export const fyl2x = binaryPop((y, x) => y * Math.log2(x));
export const fyl2xp1 = binaryPop((y, x) => y * (Math.log1p(x) / Math.LN2));
export const fpatan = binaryPop((y, x) => Math.atan2(y, x));

export function fptan(cpu: CPU, _i: Insn): void {
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
  if (W.c !== NAN) {
    unpack(0x3fff, 0x80000000, 0, T);
    pushExt(cpu, st, T);
  }
  cpu.fsw &= ~C2;
  finish(cpu);
}

export function fsincos(cpu: CPU, _i: Insn): void {
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
