/**
 * SSE/FPU state instructions: fxsave/fxrstor (0F AE /0 /1), ldmxcsr/stmxcsr
 * (0F AE /2 /3), emms. The layouts are fpu-state.ts's.
 */
import type { CPU } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { MXCSR_MASK, fxrstorFrom, fxsaveTo, x87Empty } from '../../fpu-state.js';
import { gp } from './operands.js';

export function emms(cpu: CPU, _i: Insn): void {
  x87Empty(cpu);
}

const FXBUF = new Uint8Array(512);

export function fxsave(cpu: CPU, i: Insn): void {
  const a = cpu.ea(i);
  if ((a & 15) !== 0) gp();
  cpu.mem.wpage(a);
  cpu.mem.wpage(a + 511);
  fxsaveTo(cpu, FXBUF);
  cpu.mem.writeBytes(a, FXBUF.subarray(0, 416));
}

export function fxrstor(cpu: CPU, i: Insn): void {
  const a = cpu.ea(i);
  if ((a & 15) !== 0) gp();
  const img = cpu.mem.readBytes(a, 512);
  fxrstorFrom(cpu, img);
}

export function ldmxcsr(cpu: CPU, i: Insn): void {
  const v = cpu.mem.read32(cpu.ea(i));
  if (v & ~MXCSR_MASK) gp();
  cpu.mxcsr = v;
}

export function stmxcsr(cpu: CPU, i: Insn): void {
  cpu.mem.write32(cpu.ea(i), cpu.mxcsr);
}
