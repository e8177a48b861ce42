/**
 * Operand access shared by the SSE instruction files. Register state is
 * cpu.xmm (Int32Array, dword k of xmm r at r*4+k); handlers reach it through
 * typed-array views of every element width over the same buffer (rebound when
 * a different CPU is seen), and copy a memory or register source operand into
 * the scratch S first, so every memory access happens before any register
 * changes (precise faults) and an instruction whose source and destination are
 * the same register reads consistent values. The host must be little-endian
 * (x86-64 and arm64 Node are).
 */
import type { CPU } from '../../cpu.js';
import { CpuFault, Vector } from '../../fault.js';
import type { Insn } from '../../insn.js';

let curX: Int32Array | null = null;
export let XI: Int32Array = new Int32Array(0);
export let XB: Uint8Array = new Uint8Array(0);
export let XSB: Int8Array = new Int8Array(0);
export let XW: Uint16Array = new Uint16Array(0);
export let XSW: Int16Array = new Int16Array(0);
export let XF: Float32Array = new Float32Array(0);
export let XD: Float64Array = new Float64Array(0);

function rebind(x: Int32Array): void {
  const b = x.buffer, o = x.byteOffset;
  curX = x;
  XI = x;
  XB = new Uint8Array(b, o, 256);
  XSB = new Int8Array(b, o, 256);
  XW = new Uint16Array(b, o, 128);
  XSW = new Int16Array(b, o, 128);
  XF = new Float32Array(b, o, 64);
  XD = new Float64Array(b, o, 32);
}

export function bind(cpu: CPU): void {
  if (cpu.xmm !== curX) rebind(cpu.xmm);
}

/** Source operand scratch. */
const SBUF = new ArrayBuffer(16);
export const SI = new Int32Array(SBUF);
export const SB = new Uint8Array(SBUF);
export const SSB = new Int8Array(SBUF);
export const SW = new Uint16Array(SBUF);
export const SSW = new Int16Array(SBUF);
export const SF32 = new Float32Array(SBUF);
export const SD = new Float64Array(SBUF);
/** Result scratch (for shuffles whose result depends on the destination). */
const RBUF = new ArrayBuffer(16);
export const RI = new Int32Array(RBUF);
export const RB = new Uint8Array(RBUF);
export const RW = new Uint16Array(RBUF);
export const RSW = new Int16Array(RBUF);
/** Float conversion scratch. */
const CBUF = new ArrayBuffer(8);
export const CF32 = new Float32Array(CBUF);
export const CI = new Int32Array(CBUF);
export const CD = new Float64Array(CBUF);

export function gp(): never {
  throw new CpuFault(Vector.GP);
}

/** Read 16 bytes at a into dst[o..o+3]; faults before writing anything. */
export function rd128(cpu: CPU, a: number, dst: Int32Array, o: number): void {
  const mem = cpu.mem;
  const off = a & 4095;
  if (off <= 4080) {
    const dv = mem.rpage(a).dv;
    dst[o] = dv.getInt32(off, true);
    dst[o + 1] = dv.getInt32(off + 4, true);
    dst[o + 2] = dv.getInt32(off + 8, true);
    dst[o + 3] = dv.getInt32(off + 12, true);
    return;
  }
  mem.rpage(a);
  mem.rpage(a - off + 4096);
  const v0 = mem.read32(a), v1 = mem.read32(a + 4), v2 = mem.read32(a + 8), v3 = mem.read32(a + 12);
  dst[o] = v0;
  dst[o + 1] = v1;
  dst[o + 2] = v2;
  dst[o + 3] = v3;
}

/** Write src[o..o+3] to 16 bytes at a; both pages are checked first. */
export function wr128(cpu: CPU, a: number, src: Int32Array, o: number): void {
  const mem = cpu.mem;
  const off = a & 4095;
  if (off <= 4080) {
    const dv = mem.wpage(a).dv;
    dv.setInt32(off, src[o], true);
    dv.setInt32(off + 4, src[o + 1], true);
    dv.setInt32(off + 8, src[o + 2], true);
    dv.setInt32(off + 12, src[o + 3], true);
    return;
  }
  mem.wpage(a);
  mem.wpage(a - off + 4096);
  mem.write32(a, src[o]);
  mem.write32(a + 4, src[o + 1]);
  mem.write32(a + 8, src[o + 2]);
  mem.write32(a + 12, src[o + 3]);
}

/** S <- xmm[rm] or an aligned m128. */
export function ldA(cpu: CPU, i: Insn): void {
  bind(cpu);
  const r = i.rm;
  if (r >= 0) {
    const o = r << 2;
    SI[0] = XI[o];
    SI[1] = XI[o + 1];
    SI[2] = XI[o + 2];
    SI[3] = XI[o + 3];
  } else {
    const a = cpu.ea(i);
    if ((a & 15) !== 0) gp();
    rd128(cpu, a, SI, 0);
  }
}

/** S <- xmm[rm] or an unaligned m128. */
function ldU(cpu: CPU, i: Insn): void {
  bind(cpu);
  const r = i.rm;
  if (r >= 0) {
    const o = r << 2;
    SI[0] = XI[o];
    SI[1] = XI[o + 1];
    SI[2] = XI[o + 2];
    SI[3] = XI[o + 3];
  } else rd128(cpu, cpu.ea(i), SI, 0);
}

/** S[0..1] <- low qword of xmm[rm] or m64 (S[2..3] cleared). */
export function ld64(cpu: CPU, i: Insn): void {
  bind(cpu);
  const r = i.rm;
  if (r >= 0) {
    SI[0] = XI[r << 2];
    SI[1] = XI[(r << 2) + 1];
  } else {
    const mem = cpu.mem;
    SI[0] = mem.read64(cpu.ea(i));
    SI[1] = mem.hi;
  }
  SI[2] = 0;
  SI[3] = 0;
}

/** S[0] <- low dword of xmm[rm] or m32. */
export function ld32(cpu: CPU, i: Insn): void {
  bind(cpu);
  const r = i.rm;
  SI[0] = r >= 0 ? XI[r << 2] : cpu.mem.read32(cpu.ea(i));
  SI[1] = 0;
  SI[2] = 0;
  SI[3] = 0;
}

/** S[0] <- low word of xmm[rm] or m16. */
export function ld16(cpu: CPU, i: Insn): void {
  bind(cpu);
  const r = i.rm;
  SI[0] = r >= 0 ? XI[r << 2] & 0xffff : cpu.mem.read16(cpu.ea(i));
  SI[1] = 0;
  SI[2] = 0;
  SI[3] = 0;
}

export function copyS(d: number): void {
  XI[d] = SI[0];
  XI[d + 1] = SI[1];
  XI[d + 2] = SI[2];
  XI[d + 3] = SI[3];
}

export function copyR(d: number): void {
  XI[d] = RI[0];
  XI[d + 1] = RI[1];
  XI[d + 2] = RI[2];
  XI[d + 3] = RI[3];
}

/** GPR source of r/m32 or r/m64 (REX.W); low half returned, high half in cpu.hi. */
export function gprSrc(cpu: CPU, i: Insn): number {
  const w = (i.rex & 8) !== 0;
  if (i.rm >= 0) {
    if (w) return cpu.getReg(i.rm, 8);
    cpu.hi = 0;
    return cpu.rl[i.rm];
  }
  const a = cpu.ea(i);
  if (w) {
    const lo = cpu.mem.read64(a);
    cpu.hi = cpu.mem.hi;
    return lo;
  }
  cpu.hi = 0;
  return cpu.mem.read32(a);
}
