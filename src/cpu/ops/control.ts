/**
 * Control transfer: jmp, jcc, call, ret, loop/jrcxz. Branch targets of
 * relative forms are resolved by the decoder into i.disp (absolute).
 * A transfer to a non-canonical address raises #GP at the branch itself.
 */
import { CPU, RCX, RSP } from '../cpu.js';
import { CpuFault, Vector } from '../fault.js';
import type { Insn } from '../insn.js';

function canonical(t: number): number {
  if (t >= 0x800000000000 || t < -0x800000000000) throw new CpuFault(Vector.GP);
  return t;
}

function pushNum(cpu: CPU, v: number): void {
  const hi = Math.floor(v / 4294967296);
  cpu.push64((v - hi * 4294967296) | 0, hi | 0);
}

export function jmpRel(cpu: CPU, i: Insn): void {
  cpu.nextRip = i.disp;
}

export function jcc(cpu: CPU, i: Insn): void {
  if (cpu.cond(i.sub)) cpu.nextRip = i.disp;
}

export function callRel(cpu: CPU, i: Insn): void {
  pushNum(cpu, i.next);
  cpu.nextRip = i.disp;
}

/** call r/m64 (FF /2) */
export function callE(cpu: CPU, i: Insn): void {
  const lo = cpu.readRMsize(i, 8);
  const t = canonical(cpu.hi * 4294967296 + (lo >>> 0));
  pushNum(cpu, i.next);
  cpu.nextRip = t;
}

/** jmp r/m64 (FF /4) */
export function jmpE(cpu: CPU, i: Insn): void {
  const lo = cpu.readRMsize(i, 8);
  cpu.nextRip = canonical(cpu.hi * 4294967296 + (lo >>> 0));
}

/** ret and ret imm16 */
export function ret(cpu: CPU, i: Insn): void {
  const sp = cpu.getNum(RSP);
  const lo = cpu.mem.read64(sp);
  const t = canonical(cpu.mem.hi * 4294967296 + (lo >>> 0));
  cpu.setNum(RSP, sp + 8 + (i.imm & 0xffff));
  cpu.nextRip = t;
}

/** loop/loope/loopne (sub 0 = loopne, 1 = loope, 2 = loop) and jrcxz (sub 3). */
export function loop(cpu: CPU, i: Insn): void {
  if (i.sub === 3) {
    const z = i.asize === 4 ? cpu.rl[RCX] === 0 : (cpu.rl[RCX] | cpu.rh[RCX]) === 0;
    if (z) cpu.nextRip = i.disp;
    return;
  }
  let lo = cpu.rl[RCX], hi = cpu.rh[RCX];
  if (lo === 0) hi = (hi - 1) | 0;
  lo = (lo - 1) | 0;
  if (i.asize === 4) hi = 0;
  cpu.set64(RCX, lo, hi);
  const nz = (lo | hi) !== 0;
  const take = i.sub === 2 ? nz : i.sub === 1 ? nz && cpu.getZF() === 1 : nz && cpu.getZF() === 0;
  if (take) cpu.nextRip = i.disp;
}
