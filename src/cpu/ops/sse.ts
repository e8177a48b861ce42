/**
 * SSE, SSE2, SSE3, SSSE3 and SSE4.1 instructions on xmm registers, plus
 * fxsave/fxrstor/ldmxcsr/stmxcsr (0F AE /0-/3), movbe and crc32 (0F 38 F0/F1).
 *
 * Register state is cpu.xmm (Int32Array, dword k of xmm r at r*4+k). Handlers
 * reach it through typed-array views of every element width over the same
 * buffer (rebound when a different CPU is seen), and copy a memory or register
 * source operand into a scratch buffer S first, so every memory access happens
 * before any register changes (precise faults) and an instruction whose source
 * and destination are the same register reads consistent values. The host must
 * be little-endian (x86-64 and arm64 Node are).
 *
 * Floating point: JS doubles compute +, -, *, / and sqrt correctly rounded to
 * nearest; float32 results are rounded once more with Math.fround, which is
 * exact for these operations (53 >= 2*24+2). The exact error of each result
 * (TwoSum, Dekker products, division/sqrt residuals) gives its direction, from
 * which MXCSR.RC's directed roundings and the PE/UE/OE flags follow; DE, ZE,
 * IE, DAZ and FTZ are implemented too, and the results and flags match a real
 * CPU bit for bit (test/sse.test.ts). NaNs are handled on the bit patterns
 * (JS does not preserve NaN payloads): an SNaN is quieted, the first
 * operand's NaN wins, an invalid operation yields the default QNaN.
 * Exceptions are always treated as masked (#XM is never raised).
 * rcpps/rsqrtps return the correctly rounded value, not the hardware's 12-bit
 * approximation. MMX (no-prefix mm register) forms are not implemented:
 * sseHandler returns null for them.
 */
import { CPU, CF, PF, ZF, SF, OF, AF } from '../cpu.js';
import { CpuFault, Vector } from '../fault.js';
import type { Handler, Insn } from '../insn.js';
import { MXCSR_MASK, fxrstorFrom, fxsaveTo, x87Empty } from '../fpu-state.js';

const ARITH = CF | PF | AF | ZF | SF | OF;

// MXCSR exception flags
const IE = 1;
const ZE = 4;
const OE = 8;
const PE = 32;

const DAZ = 0x40;
/** FTZ with the underflow exception masked */
const FTZ_UM = 0x8800;

// ---------------------------------------------------------------------------
// Views over the register file and scratch operands

let curX: Int32Array | null = null;
let XI: Int32Array = new Int32Array(0);
let XB: Uint8Array = new Uint8Array(0);
let XSB: Int8Array = new Int8Array(0);
let XW: Uint16Array = new Uint16Array(0);
let XSW: Int16Array = new Int16Array(0);
let XF: Float32Array = new Float32Array(0);
let XD: Float64Array = new Float64Array(0);

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

function bind(cpu: CPU): void {
  if (cpu.xmm !== curX) rebind(cpu.xmm);
}

/** Source operand scratch. */
const SBUF = new ArrayBuffer(16);
const SI = new Int32Array(SBUF);
const SB = new Uint8Array(SBUF);
const SSB = new Int8Array(SBUF);
const SW = new Uint16Array(SBUF);
const SSW = new Int16Array(SBUF);
const SF32 = new Float32Array(SBUF);
const SD = new Float64Array(SBUF);

/** Result scratch (for shuffles whose result depends on the destination). */
const RBUF = new ArrayBuffer(16);
const RI = new Int32Array(RBUF);
const RB = new Uint8Array(RBUF);
const RW = new Uint16Array(RBUF);
const RSW = new Int16Array(RBUF);

/** Float conversion scratch. */
const CBUF = new ArrayBuffer(8);
const CF32 = new Float32Array(CBUF);
const CI = new Int32Array(CBUF);
const CD = new Float64Array(CBUF);

// ---------------------------------------------------------------------------
// Memory access

function gp(): never {
  throw new CpuFault(Vector.GP);
}

/** Read 16 bytes at a into dst[o..o+3]; faults before writing anything. */
function rd128(cpu: CPU, a: number, dst: Int32Array, o: number): void {
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
function wr128(cpu: CPU, a: number, src: Int32Array, o: number): void {
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
function ldA(cpu: CPU, i: Insn): void {
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
function ld64(cpu: CPU, i: Insn): void {
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
function ld32(cpu: CPU, i: Insn): void {
  bind(cpu);
  const r = i.rm;
  SI[0] = r >= 0 ? XI[r << 2] : cpu.mem.read32(cpu.ea(i));
  SI[1] = 0;
  SI[2] = 0;
  SI[3] = 0;
}

/** S[0] <- low word of xmm[rm] or m16. */
function ld16(cpu: CPU, i: Insn): void {
  bind(cpu);
  const r = i.rm;
  SI[0] = r >= 0 ? XI[r << 2] & 0xffff : cpu.mem.read16(cpu.ea(i));
  SI[1] = 0;
  SI[2] = 0;
  SI[3] = 0;
}

function copyS(d: number): void {
  XI[d] = SI[0];
  XI[d + 1] = SI[1];
  XI[d + 2] = SI[2];
  XI[d + 3] = SI[3];
}

function copyR(d: number): void {
  XI[d] = RI[0];
  XI[d + 1] = RI[1];
  XI[d + 2] = RI[2];
  XI[d + 3] = RI[3];
}

/** GPR source of r/m32 or r/m64 (REX.W); low half returned, high half in cpu.hi. */
function gprSrc(cpu: CPU, i: Insn): number {
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

// ---------------------------------------------------------------------------
// Moves

function movdqaLoad(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rm >= 0) {
    const s = i.rm << 2;
    XI[d] = XI[s];
    XI[d + 1] = XI[s + 1];
    XI[d + 2] = XI[s + 2];
    XI[d + 3] = XI[s + 3];
  } else {
    const a = cpu.ea(i);
    if ((a & 15) !== 0) gp();
    rd128(cpu, a, XI, d);
  }
}

function movdquLoad(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rm >= 0) {
    const s = i.rm << 2;
    XI[d] = XI[s];
    XI[d + 1] = XI[s + 1];
    XI[d + 2] = XI[s + 2];
    XI[d + 3] = XI[s + 3];
  } else rd128(cpu, cpu.ea(i), XI, d);
}

function movdqaStore(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  if (i.rm >= 0) {
    const d = i.rm << 2;
    XI[d] = XI[s];
    XI[d + 1] = XI[s + 1];
    XI[d + 2] = XI[s + 2];
    XI[d + 3] = XI[s + 3];
  } else {
    const a = cpu.ea(i);
    if ((a & 15) !== 0) gp();
    wr128(cpu, a, XI, s);
  }
}

function movdquStore(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  if (i.rm >= 0) {
    const d = i.rm << 2;
    XI[d] = XI[s];
    XI[d + 1] = XI[s + 1];
    XI[d + 2] = XI[s + 2];
    XI[d + 3] = XI[s + 3];
  } else wr128(cpu, cpu.ea(i), XI, s);
}

/** movss xmm, xmm/m32 */
function movssLoad(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rm >= 0) XI[d] = XI[i.rm << 2];
  else {
    XI[d] = cpu.mem.read32(cpu.ea(i));
    XI[d + 1] = 0;
    XI[d + 2] = 0;
    XI[d + 3] = 0;
  }
}

/** movss xmm/m32, xmm */
function movssStore(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  if (i.rm >= 0) XI[i.rm << 2] = XI[s];
  else cpu.mem.write32(cpu.ea(i), XI[s]);
}

/** movsd xmm, xmm/m64 */
function movsdLoad(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rm >= 0) {
    XI[d] = XI[i.rm << 2];
    XI[d + 1] = XI[(i.rm << 2) + 1];
  } else {
    const mem = cpu.mem;
    XI[d] = mem.read64(cpu.ea(i));
    XI[d + 1] = mem.hi;
    XI[d + 2] = 0;
    XI[d + 3] = 0;
  }
}

/** movsd xmm/m64, xmm and movlps/movlpd m64, xmm */
function movsdStore(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  if (i.rm >= 0) {
    XI[i.rm << 2] = XI[s];
    XI[(i.rm << 2) + 1] = XI[s + 1];
  } else cpu.mem.write64(cpu.ea(i), XI[s], XI[s + 1]);
}

/** movq xmm, xmm/m64 (F3 0F 7E): zero the upper qword */
function movqLoad(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  copyS(i.reg << 2);
}

/** movq xmm/m64, xmm (66 0F D6): a register destination has its upper qword zeroed */
function movqStore(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  if (i.rm >= 0) {
    const d = i.rm << 2;
    XI[d] = XI[s];
    XI[d + 1] = XI[s + 1];
    XI[d + 2] = 0;
    XI[d + 3] = 0;
  } else cpu.mem.write64(cpu.ea(i), XI[s], XI[s + 1]);
}

/** movhlps (reg) / movlps, movlpd (m64): replace the low qword */
function movlpLoad(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rm >= 0) {
    const s = i.rm << 2;
    XI[d] = XI[s + 2];
    XI[d + 1] = XI[s + 3];
  } else {
    const mem = cpu.mem;
    XI[d] = mem.read64(cpu.ea(i));
    XI[d + 1] = mem.hi;
  }
}

/** movlhps (reg) / movhps, movhpd (m64): replace the high qword */
function movhpLoad(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rm >= 0) {
    const s = i.rm << 2;
    XI[d + 2] = XI[s];
    XI[d + 3] = XI[s + 1];
  } else {
    const mem = cpu.mem;
    const lo = mem.read64(cpu.ea(i));
    XI[d + 2] = lo;
    XI[d + 3] = mem.hi;
  }
}

/** movhps/movhpd m64, xmm */
function movhpStore(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  cpu.mem.write64(cpu.ea(i), XI[s + 2], XI[s + 3]);
}

/** movddup xmm, xmm/m64 */
function movddup(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  const d = i.reg << 2;
  XI[d] = XI[d + 2] = SI[0];
  XI[d + 1] = XI[d + 3] = SI[1];
}

/** movsldup (sub 0) / movshdup (sub 1) */
function movsldup(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = XI[d + 1] = SI[0];
  XI[d + 2] = XI[d + 3] = SI[2];
}
function movshdup(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = XI[d + 1] = SI[1];
  XI[d + 2] = XI[d + 3] = SI[3];
}

/** movd/movq xmm, r/m32|64 */
function movdToX(cpu: CPU, i: Insn): void {
  const lo = gprSrc(cpu, i);
  const hi = cpu.hi;
  bind(cpu);
  const d = i.reg << 2;
  XI[d] = lo;
  XI[d + 1] = hi;
  XI[d + 2] = 0;
  XI[d + 3] = 0;
}

/** movd/movq r/m32|64, xmm */
function movdFromX(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  const w = (i.rex & 8) !== 0;
  if (i.rm >= 0) {
    if (w) cpu.setReg(i.rm, 8, XI[s], XI[s + 1]);
    else cpu.setReg(i.rm, 4, XI[s], 0);
  } else if (w) cpu.mem.write64(cpu.ea(i), XI[s], XI[s + 1]);
  else cpu.mem.write32(cpu.ea(i), XI[s]);
}

/** movntdq/movntps/movntpd m128, xmm and movntdqa xmm, m128 */
function movntStore(cpu: CPU, i: Insn): void {
  movdqaStore(cpu, i);
}

/** lddqu xmm, m128 */
function lddqu(cpu: CPU, i: Insn): void {
  movdquLoad(cpu, i);
}

/** maskmovdqu xmm1, xmm2: bytes of xmm1 whose xmm2 mask byte has bit 7 go to [rdi] */
function maskmovdqu(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 4, m = i.rm << 4;
  let a = i.asize === 4 ? cpu.rl[7] >>> 0 : cpu.getNum(7);
  if (i.seg !== 0) a += i.seg === 1 ? cpu.fsBase : cpu.gsBase;
  for (let k = 0; k < 16; k++) if (XB[m + k] & 0x80) cpu.mem.wpage(a + k);
  for (let k = 0; k < 16; k++) if (XB[m + k] & 0x80) cpu.mem.write8(a + k, XB[s + k]);
}

/** movmskps r32, xmm */
function movmskps(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.rm << 2;
  const v = (XI[s] >>> 31) | ((XI[s + 1] >>> 31) << 1) | ((XI[s + 2] >>> 31) << 2) | ((XI[s + 3] >>> 31) << 3);
  cpu.setReg(i.reg, 4, v, 0);
}

/** movmskpd r32, xmm */
function movmskpd(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.rm << 2;
  cpu.setReg(i.reg, 4, (XI[s + 1] >>> 31) | ((XI[s + 3] >>> 31) << 1), 0);
}

/** Sign bits of the 4 bytes of v, as a 4-bit mask. */
function byteSigns(v: number): number {
  return (Math.imul((v >>> 7) & 0x01010101, 0x00204081) >>> 21) & 15;
}

/** pmovmskb r32, xmm */
function pmovmskb(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.rm << 2;
  const v = byteSigns(XI[s]) | (byteSigns(XI[s + 1]) << 4) | (byteSigns(XI[s + 2]) << 8) | (byteSigns(XI[s + 3]) << 12);
  cpu.setReg(i.reg, 4, v, 0);
}

// ---------------------------------------------------------------------------
// Bitwise and hot integer ops (explicit loops)

function pand(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] &= SI[0];
  XI[d + 1] &= SI[1];
  XI[d + 2] &= SI[2];
  XI[d + 3] &= SI[3];
}
function pandn(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = ~XI[d] & SI[0];
  XI[d + 1] = ~XI[d + 1] & SI[1];
  XI[d + 2] = ~XI[d + 2] & SI[2];
  XI[d + 3] = ~XI[d + 3] & SI[3];
}
function por(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] |= SI[0];
  XI[d + 1] |= SI[1];
  XI[d + 2] |= SI[2];
  XI[d + 3] |= SI[3];
}
function pxor(cpu: CPU, i: Insn): void {
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

/** 0xff in each byte of x that is zero, else 0. */
function zeroBytes(x: number): number {
  const t = (((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) & 0x80808080;
  return ~((t >>> 7) * 0xff);
}
function pcmpeqb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = zeroBytes(XI[d] ^ SI[0]);
  XI[d + 1] = zeroBytes(XI[d + 1] ^ SI[1]);
  XI[d + 2] = zeroBytes(XI[d + 2] ^ SI[2]);
  XI[d + 3] = zeroBytes(XI[d + 3] ^ SI[3]);
}
function pcmpeqw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k++) XW[d + k] = XW[d + k] === SW[k] ? 0xffff : 0;
}
function pcmpeqd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = XI[d] === SI[0] ? -1 : 0;
  XI[d + 1] = XI[d + 1] === SI[1] ? -1 : 0;
  XI[d + 2] = XI[d + 2] === SI[2] ? -1 : 0;
  XI[d + 3] = XI[d + 3] === SI[3] ? -1 : 0;
}
function pcmpeqq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  const e0 = XI[d] === SI[0] && XI[d + 1] === SI[1] ? -1 : 0;
  const e1 = XI[d + 2] === SI[2] && XI[d + 3] === SI[3] ? -1 : 0;
  XI[d] = XI[d + 1] = e0;
  XI[d + 2] = XI[d + 3] = e1;
}
function pcmpgtq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k += 2) {
    const ah = XI[d + k + 1], bh = SI[k + 1];
    const gt = ah > bh || (ah === bh && XI[d + k] >>> 0 > SI[k] >>> 0);
    XI[d + k] = XI[d + k + 1] = gt ? -1 : 0;
  }
}
/** 0xff in each byte where the unsigned byte of a is below that of b (two 16-bit-lane subtractions). */
function ltBytes(a: number, b: number): number {
  const ev = ((a & 0xff00ff) | 0x1000100) - (b & 0xff00ff);
  const od = (((a >>> 8) & 0xff00ff) | 0x1000100) - ((b >>> 8) & 0xff00ff);
  return (((~ev >>> 8) & 0x10001) * 0xff) | ((((~od >>> 8) & 0x10001) * 0xff) << 8);
}
function pminub(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) {
    const a = XI[d + k], b = SI[k];
    XI[d + k] = b ^ ((a ^ b) & ltBytes(a, b));
  }
}
function pmaxub(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) {
    const a = XI[d + k], b = SI[k];
    XI[d + k] = a ^ ((a ^ b) & ltBytes(a, b));
  }
}
function paddb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 16; k++) XB[d + k] += SB[k];
}
function psubb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 16; k++) XB[d + k] -= SB[k];
}
function paddw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k++) XW[d + k] += SW[k];
}
function psubw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k++) XW[d + k] -= SW[k];
}
function paddd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = (XI[d] + SI[0]) | 0;
  XI[d + 1] = (XI[d + 1] + SI[1]) | 0;
  XI[d + 2] = (XI[d + 2] + SI[2]) | 0;
  XI[d + 3] = (XI[d + 3] + SI[3]) | 0;
}
function psubd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = (XI[d] - SI[0]) | 0;
  XI[d + 1] = (XI[d + 1] - SI[1]) | 0;
  XI[d + 2] = (XI[d + 2] - SI[2]) | 0;
  XI[d + 3] = (XI[d + 3] - SI[3]) | 0;
}
function paddq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k += 2) {
    const lo = (XI[d + k] >>> 0) + (SI[k] >>> 0);
    XI[d + k] = lo | 0;
    XI[d + k + 1] = (XI[d + k + 1] + SI[k + 1] + (lo > 0xffffffff ? 1 : 0)) | 0;
  }
}
function psubq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k += 2) {
    const a = XI[d + k] >>> 0, b = SI[k] >>> 0;
    XI[d + k] = (a - b) | 0;
    XI[d + k + 1] = (XI[d + k + 1] - SI[k + 1] - (a < b ? 1 : 0)) | 0;
  }
}

// ---------------------------------------------------------------------------
// Generic element-wise integer ops

type F2 = (a: number, b: number) => number;

function e8u(f: F2): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 4;
    for (let k = 0; k < 16; k++) XB[d + k] = f(XB[d + k], SB[k]);
  };
}
function e8s(f: F2): Handler {
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
function e16s(f: F2): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 3;
    for (let k = 0; k < 8; k++) XSW[d + k] = f(XSW[d + k], SSW[k]);
  };
}
function e32(f: F2): Handler {
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

const sat8s = (v: number): number => (v > 127 ? 127 : v < -128 ? -128 : v);
const sat8u = (v: number): number => (v > 255 ? 255 : v < 0 ? 0 : v);
const sat16s = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
const sat16u = (v: number): number => (v > 65535 ? 65535 : v < 0 ? 0 : v);
const min = (a: number, b: number): number => (a < b ? a : b);
const max = (a: number, b: number): number => (a > b ? a : b);
const sign = (a: number, b: number): number => (b < 0 ? -a : b === 0 ? 0 : a);

const paddsb = e8s((a, b) => sat8s(a + b));
const psubsb = e8s((a, b) => sat8s(a - b));
const paddusb = e8u((a, b) => sat8u(a + b));
const psubusb = e8u((a, b) => sat8u(a - b));
const pavgb = e8u((a, b) => (a + b + 1) >> 1);
const pcmpgtb = e8s((a, b) => (a > b ? -1 : 0));
const pminsb = e8s(min);
const pmaxsb = e8s(max);
const psignb = e8s(sign);

const paddsw = e16s((a, b) => sat16s(a + b));
const psubsw = e16s((a, b) => sat16s(a - b));
const paddusw = e16u((a, b) => sat16u(a + b));
const psubusw = e16u((a, b) => sat16u(a - b));
const pavgw = e16u((a, b) => (a + b + 1) >> 1);
const pcmpgtw = e16s((a, b) => (a > b ? -1 : 0));
const pminsw = e16s(min);
const pmaxsw = e16s(max);
const pminuw = e16u(min);
const pmaxuw = e16u(max);
const pmullw = e16u((a, b) => Math.imul(a, b));
const pmulhw = e16s((a, b) => (a * b) >> 16);
const pmulhuw = e16u((a, b) => Math.floor((a * b) / 65536));
const pmulhrsw = e16s((a, b) => (((a * b) >> 14) + 1) >> 1);
const psignw = e16s(sign);

const pcmpgtd = e32((a, b) => (a > b ? -1 : 0));
const pminsd = e32(min);
const pmaxsd = e32(max);
const pminud = e32u(min);
const pmaxud = e32u(max);
const pmulld = e32((a, b) => Math.imul(a, b));
const psignd = e32((a, b) => (b < 0 ? -a | 0 : b === 0 ? 0 : a));

function pabsb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 16; k++) XB[d + k] = Math.abs(SSB[k]);
}
function pabsw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k++) XW[d + k] = Math.abs(SSW[k]);
}
function pabsd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) XI[d + k] = Math.abs(SI[k]) | 0;
}

function pmaddwd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k += 2) {
    const v = XSW[d + k] * SSW[k] + XSW[d + k + 1] * SSW[k + 1];
    XI[(d + k) >> 1] = v | 0;
  }
}

function pmaddubsw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 16; k += 2) {
    RW[k >> 1] = sat16s(XB[d + k] * SSB[k] + XB[d + k + 1] * SSB[k + 1]);
  }
  copyR(i.reg << 2);
}

function psadbw(cpu: CPU, i: Insn): void {
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

function pmuludq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k += 2) {
    XI[d + k] = mulu32(XI[d + k], SI[k]);
    XI[d + k + 1] = mulHi;
  }
}

function pmuldq(cpu: CPU, i: Insn): void {
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

function phminposuw(cpu: CPU, i: Insn): void {
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
function phw(sub: boolean, sat: boolean): Handler {
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
function phd(sub: boolean): Handler {
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

// ---------------------------------------------------------------------------
// Packs and unpacks

function packsswb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k++) {
    RB[k] = sat8s(XSW[d + k]);
    RB[k + 8] = sat8s(SSW[k]);
  }
  copyR(i.reg << 2);
}
function packuswb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k++) {
    RB[k] = sat8u(XSW[d + k]);
    RB[k + 8] = sat8u(SSW[k]);
  }
  copyR(i.reg << 2);
}
function packssdw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) {
    RW[k] = sat16s(XI[d + k]);
    RW[k + 4] = sat16s(SI[k]);
  }
  copyR(d);
}
function packusdw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) {
    RW[k] = sat16u(XI[d + k]);
    RW[k + 4] = sat16u(SI[k]);
  }
  copyR(d);
}

function punpcklbw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 8; k++) {
    RB[2 * k] = XB[d + k];
    RB[2 * k + 1] = SB[k];
  }
  copyR(i.reg << 2);
}
function punpckhbw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 8; k++) {
    RB[2 * k] = XB[d + 8 + k];
    RB[2 * k + 1] = SB[8 + k];
  }
  copyR(i.reg << 2);
}
function punpcklwd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 4; k++) {
    RW[2 * k] = XW[d + k];
    RW[2 * k + 1] = SW[k];
  }
  copyR(i.reg << 2);
}
function punpckhwd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 4; k++) {
    RW[2 * k] = XW[d + 4 + k];
    RW[2 * k + 1] = SW[4 + k];
  }
  copyR(i.reg << 2);
}
/** punpckldq / unpcklps */
function punpckldq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d + 3] = SI[1];
  XI[d + 2] = XI[d + 1];
  XI[d + 1] = SI[0];
}
/** punpckhdq / unpckhps */
function punpckhdq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = XI[d + 2];
  XI[d + 1] = SI[2];
  XI[d + 2] = XI[d + 3];
  XI[d + 3] = SI[3];
}
/** punpcklqdq / unpcklpd */
function punpcklqdq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d + 2] = SI[0];
  XI[d + 3] = SI[1];
}
/** punpckhqdq / unpckhpd */
function punpckhqdq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = XI[d + 2];
  XI[d + 1] = XI[d + 3];
  XI[d + 2] = SI[2];
  XI[d + 3] = SI[3];
}

// ---------------------------------------------------------------------------
// Shuffles, inserts, extracts

function pshufd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2, m = i.imm;
  XI[d] = SI[m & 3];
  XI[d + 1] = SI[(m >> 2) & 3];
  XI[d + 2] = SI[(m >> 4) & 3];
  XI[d + 3] = SI[(m >> 6) & 3];
}
function pshufhw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3, m = i.imm;
  XI[d >> 1] = SI[0];
  XI[(d >> 1) + 1] = SI[1];
  XW[d + 4] = SW[4 + (m & 3)];
  XW[d + 5] = SW[4 + ((m >> 2) & 3)];
  XW[d + 6] = SW[4 + ((m >> 4) & 3)];
  XW[d + 7] = SW[4 + ((m >> 6) & 3)];
}
function pshuflw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3, m = i.imm;
  XW[d] = SW[m & 3];
  XW[d + 1] = SW[(m >> 2) & 3];
  XW[d + 2] = SW[(m >> 4) & 3];
  XW[d + 3] = SW[(m >> 6) & 3];
  XI[(d >> 1) + 2] = SI[2];
  XI[(d >> 1) + 3] = SI[3];
}
function shufps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2, m = i.imm;
  const a = XI[d + (m & 3)], b = XI[d + ((m >> 2) & 3)];
  XI[d] = a;
  XI[d + 1] = b;
  XI[d + 2] = SI[(m >> 4) & 3];
  XI[d + 3] = SI[(m >> 6) & 3];
}
function shufpd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2, m = i.imm;
  const q = d + (m & 1 ? 2 : 0);
  const lo = XI[q], hi = XI[q + 1];
  XI[d] = lo;
  XI[d + 1] = hi;
  const s = m & 2 ? 2 : 0;
  XI[d + 2] = SI[s];
  XI[d + 3] = SI[s + 1];
}
function pshufb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 16; k++) {
    const s = SB[k];
    RB[k] = s & 0x80 ? 0 : XB[d + (s & 15)];
  }
  copyR(i.reg << 2);
}
function palignr(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4, n = i.imm;
  for (let k = 0; k < 16; k++) {
    const j = k + n;
    RB[k] = j < 16 ? SB[j] : j < 32 ? XB[d + j - 16] : 0;
  }
  copyR(i.reg << 2);
}
function pinsrw(cpu: CPU, i: Insn): void {
  const v = i.rm >= 0 ? cpu.rl[i.rm] : cpu.mem.read16(cpu.ea(i));
  bind(cpu);
  XW[(i.reg << 3) + (i.imm & 7)] = v;
}
function pextrwC5(cpu: CPU, i: Insn): void {
  bind(cpu);
  cpu.setReg(i.reg, 4, XW[(i.rm << 3) + (i.imm & 7)], 0);
}
function pinsrb(cpu: CPU, i: Insn): void {
  const v = i.rm >= 0 ? cpu.rl[i.rm] : cpu.mem.read8(cpu.ea(i));
  bind(cpu);
  XB[(i.reg << 4) + (i.imm & 15)] = v;
}
function pinsrd(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rex & 8) {
    const lo = gprSrc(cpu, i);
    const k = d + ((i.imm & 1) << 1);
    XI[k] = lo;
    XI[k + 1] = cpu.hi;
  } else {
    const v = gprSrc(cpu, i);
    XI[d + (i.imm & 3)] = v;
  }
}
/** pextrb/pextrw/pextrd/pextrq/extractps r/m, xmm, imm: the element is in the reg field */
function pextrb(cpu: CPU, i: Insn): void {
  bind(cpu);
  const v = XB[(i.reg << 4) + (i.imm & 15)];
  if (i.rm >= 0) cpu.setReg(i.rm, 4, v, 0);
  else cpu.mem.write8(cpu.ea(i), v);
}
function pextrw(cpu: CPU, i: Insn): void {
  bind(cpu);
  const v = XW[(i.reg << 3) + (i.imm & 7)];
  if (i.rm >= 0) cpu.setReg(i.rm, 4, v, 0);
  else cpu.mem.write16(cpu.ea(i), v);
}
function pextrd(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  if (i.rex & 8) {
    const k = s + ((i.imm & 1) << 1);
    if (i.rm >= 0) cpu.setReg(i.rm, 8, XI[k], XI[k + 1]);
    else cpu.mem.write64(cpu.ea(i), XI[k], XI[k + 1]);
  } else {
    const v = XI[s + (i.imm & 3)];
    if (i.rm >= 0) cpu.setReg(i.rm, 4, v, 0);
    else cpu.mem.write32(cpu.ea(i), v);
  }
}
function extractps(cpu: CPU, i: Insn): void {
  bind(cpu);
  const v = XI[(i.reg << 2) + (i.imm & 3)];
  if (i.rm >= 0) cpu.setReg(i.rm, 4, v, 0);
  else cpu.mem.write32(cpu.ea(i), v);
}
function insertps(cpu: CPU, i: Insn): void {
  const m = i.imm;
  let v: number;
  bind(cpu);
  if (i.rm >= 0) v = XI[(i.rm << 2) + (m >> 6)];
  else v = cpu.mem.read32(cpu.ea(i));
  const d = i.reg << 2;
  XI[d + ((m >> 4) & 3)] = v;
  for (let k = 0; k < 4; k++) if (m & (1 << k)) XI[d + k] = 0;
}

function pblendw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k++) if (i.imm & (1 << k)) XW[d + k] = SW[k];
}
function blendps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) if (i.imm & (1 << k)) XI[d + k] = SI[k];
}
function blendpd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  if (i.imm & 1) {
    XI[d] = SI[0];
    XI[d + 1] = SI[1];
  }
  if (i.imm & 2) {
    XI[d + 2] = SI[2];
    XI[d + 3] = SI[3];
  }
}
/** pblendvb: mask in xmm0 */
function pblendvb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 16; k++) if (XB[k] & 0x80) XB[d + k] = SB[k];
}
function blendvps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) if (XI[k] < 0) XI[d + k] = SI[k];
}
function blendvpd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  if (XI[1] < 0) {
    XI[d] = SI[0];
    XI[d + 1] = SI[1];
  }
  if (XI[3] < 0) {
    XI[d + 2] = SI[2];
    XI[d + 3] = SI[3];
  }
}

function ptest(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  let and = 0, andn = 0;
  for (let k = 0; k < 4; k++) {
    and |= XI[d + k] & SI[k];
    andn |= ~XI[d + k] & SI[k];
  }
  cpu.setArith(ARITH, (and === 0 ? ZF : 0) | (andn === 0 ? CF : 0));
}

/** pmovsx/pmovzx: kind = low nibble of the opcode (0 bw, 1 bd, 2 bq, 3 wd, 4 wq, 5 dq) */
function pmovx(kind: number, signed: boolean): Handler {
  const srcBytes = [8, 4, 2, 8, 4, 8][kind];
  return (cpu, i) => {
    if (srcBytes === 8) ld64(cpu, i);
    else if (srcBytes === 4) ld32(cpu, i);
    else ld16(cpu, i);
    const d = i.reg << 2;
    switch (kind) {
      case 0:
        for (let k = 0; k < 8; k++) RW[k] = signed ? SSB[k] : SB[k];
        break;
      case 1:
        for (let k = 0; k < 4; k++) RI[k] = signed ? SSB[k] : SB[k];
        break;
      case 2:
        for (let k = 0; k < 2; k++) {
          const v = signed ? SSB[k] : SB[k];
          RI[2 * k] = v;
          RI[2 * k + 1] = v >> 31;
        }
        break;
      case 3:
        for (let k = 0; k < 4; k++) RI[k] = signed ? SSW[k] : SW[k];
        break;
      case 4:
        for (let k = 0; k < 2; k++) {
          const v = signed ? SSW[k] : SW[k];
          RI[2 * k] = v;
          RI[2 * k + 1] = v >> 31;
        }
        break;
      default: {
        const a = SI[0], b = SI[1];
        RI[0] = a;
        RI[1] = signed ? a >> 31 : 0;
        RI[2] = b;
        RI[3] = signed ? b >> 31 : 0;
      }
    }
    copyR(d);
  };
}

// ---------------------------------------------------------------------------
// Shifts

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
function shiftImm(bits: number, kind: number): Handler {
  return (cpu, i) => {
    bind(cpu);
    shiftVec(i.rm, bits, kind, i.imm);
  };
}
/** ... by the low qword of xmm/m128 */
function shiftXmm(bits: number, kind: number): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const cnt = SI[1] !== 0 || SI[0] >>> 0 > 64 ? 64 : SI[0];
    shiftVec(i.reg, bits, kind, cnt);
  };
}
function psrldq(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.rm << 4, n = i.imm;
  for (let k = 0; k < 16; k++) XB[d + k] = k + n < 16 ? XB[d + k + n] : 0;
}
function pslldq(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.rm << 4, n = i.imm;
  for (let k = 15; k >= 0; k--) XB[d + k] = k - n >= 0 ? XB[d + k - n] : 0;
}

// ---------------------------------------------------------------------------
// Floating point helpers

function isNaN32(b: number): boolean {
  return (b & 0x7fffffff) > 0x7f800000;
}
function isSNaN32(b: number): boolean {
  return (b & 0x7fc00000) === 0x7f800000 && (b & 0x3fffff) !== 0;
}
function isSNaN64(hi: number, lo: number): boolean {
  return (hi & 0x7ff80000) === 0x7ff00000 && ((hi & 0x7ffff) | lo) !== 0;
}
function isNaN64(hi: number, lo: number): boolean {
  const h = hi & 0x7fffffff;
  return h > 0x7ff00000 || (h === 0x7ff00000 && lo !== 0);
}

const DEF_NAN32 = 0xffc00000 | 0;
const DEF_NAN64_HI = 0xfff80000 | 0;

const ADD = 0, MUL = 1, SUB = 2, DIV = 3, MIN = 4, MAX = 5;

/** Arithmetic on two non-NaN values, rounded to nearest double. */
function arith(op: number, a: number, b: number): number {
  switch (op) {
    case ADD:
      return a + b;
    case MUL:
      return a * b;
    case SUB:
      return a - b;
    default:
      return a / b;
  }
}

const DE = 2;
const UE = 16;
const MIN32 = 1.1754943508222875e-38;
const MAX32 = 3.4028234663852886e38;
const MIN64 = 2.2250738585072014e-308;
const MAX64 = Number.MAX_VALUE;
const SPLIT = 134217729; // 2^27 + 1

/** Exact a*b - p (p = RN(a*b)) by Dekker's product; requires moderate magnitudes. */
function dekker(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b), bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/** Unbiased exponent of a finite nonzero double. */
function ilogb(x: number): number {
  CD[0] = x;
  const e = (CI[1] >>> 20) & 0x7ff;
  if (e !== 0) return e - 1023;
  CD[0] = x * 18446744073709551616;
  return ((CI[1] >>> 20) & 0x7ff) - 1023 - 64;
}
function ldexp(x: number, n: number): number {
  while (n > 1000) {
    x *= 2 ** 1000;
    n -= 1000;
  }
  while (n < -1000) {
    x *= 2 ** -1000;
    n += 1000;
  }
  return x * 2 ** n;
}
function moderate(x: number): boolean {
  const m = Math.abs(x);
  return m > 1e-150 && m < 1e150;
}

/** A number with the sign of (exact - r), exact = a op b, r = RN result (finite); 0 if exact. */
function errSign64(op: number, a: number, b: number, r: number): number {
  switch (op) {
    case ADD:
    case SUB: {
      if (op === SUB) b = -b;
      const bb = r - a;
      return a - (r - bb) + (b - bb);
    }
    case MUL:
      if (a === 0 || b === 0) return 0;
      if (moderate(a) && moderate(b) && moderate(r)) return dekker(a, b, r);
      {
        const ea = ilogb(a), eb = ilogb(b);
        const a1 = ldexp(a, -ea), b1 = ldexp(b, -eb);
        return dekker(a1, b1, ldexp(r, -(ea + eb)));
      }
    case DIV: {
      if (a === 0 || b === Infinity || b === -Infinity || a === Infinity || a === -Infinity) return 0;
      let a1 = a, b1 = b, q = r;
      if (!(moderate(a) && moderate(b) && moderate(r))) {
        const ea = ilogb(a), eb = ilogb(b);
        a1 = ldexp(a, -ea);
        b1 = ldexp(b, -eb);
        q = ldexp(r, eb - ea);
      }
      const p = q * b1;
      const rem = a1 - p - dekker(q, b1, p);
      return b1 < 0 ? -rem : rem;
    }
    default: {
      // sqrt of b
      if (b === 0 || b === Infinity) return 0;
      let b1 = b, s = r;
      if (!moderate(b)) {
        const k = ilogb(b) >> 1;
        b1 = ldexp(b, -2 * k);
        s = ldexp(r, -k);
      }
      const p = s * s;
      return b1 - p - dekker(s, s, p);
    }
  }
}

function nextUp64(x: number): number {
  if (x !== x || x === Infinity) return x;
  if (x === 0) return 5e-324;
  CD[0] = x;
  let lo = CI[0], hi = CI[1];
  if (x > 0) {
    lo = (lo + 1) | 0;
    if (lo === 0) hi++;
  } else {
    if (lo === 0) hi--;
    lo = (lo - 1) | 0;
  }
  CI[0] = lo;
  CI[1] = hi;
  return CD[0];
}
function nextUp32(x: number): number {
  if (x !== x || x === Infinity) return x;
  if (x === 0) return 1.401298464324817e-45;
  CF32[0] = x;
  CI[0] = x > 0 ? CI[0] + 1 : CI[0] - 1;
  return CF32[0];
}

/** Apply directed rounding rc (1 down, 2 up, 3 zero) to the nearest result r given the error sign e. */
function directed(r: number, e: number, rc: number, single: boolean): number {
  if (rc === 0 || e === 0) return r;
  const down = rc === 1 ? e < 0 : rc === 2 ? false : e < 0 && r > 0;
  const up = rc === 2 ? e > 0 : rc === 1 ? false : e > 0 && r < 0;
  if (down) return single ? -nextUp32(-r) : -nextUp64(-r);
  if (up) return single ? nextUp32(r) : nextUp64(r);
  return r;
}

/** Overflowed result under rc: infinity or the largest finite value. */
function overflow(r: number, rc: number, max: number): number {
  if (rc === 0) return r;
  if (rc === 3) return r > 0 ? max : -max;
  if (rc === 1) return r > 0 ? max : r;
  return r < 0 ? -max : r;
}

/**
 * Round the exact result of a op b (float64 inputs) to float64 under MXCSR,
 * raising PE/UE/OE. r is the nearest-rounded result (finite or infinite).
 */
function finish64(cpu: CPU, op: number, a: number, b: number, r: number): number {
  const rc = (cpu.mxcsr >> 13) & 3;
  if (r === Infinity || r === -Infinity) {
    cpu.mxcsr |= OE | PE;
    return overflow(r, rc, MAX64);
  }
  const e = errSign64(op, a, b, r);
  if ((cpu.mxcsr & FTZ_UM) === FTZ_UM && tiny(r, e, MIN64)) return flush(cpu, r, e);
  if (e === 0 || e !== e) return r;
  let f = PE;
  const v = directed(r, e, rc, false);
  const m = Math.abs(v);
  const mr = Math.abs(r);
  if (mr < MIN64 || (mr === MIN64 && (r > 0 ? e < 0 : e > 0))) f |= UE;
  if (m === Infinity) f |= OE;
  cpu.mxcsr |= f;
  return v;
}

/** Same for float32 results: d is the double result of the float32 operation. */
function finish32(cpu: CPU, op: number, a: number, b: number, d: number): number {
  const rc = (cpu.mxcsr >> 13) & 3;
  const r = Math.fround(d);
  if ((r === Infinity || r === -Infinity) && d - d === 0) {
    cpu.mxcsr |= OE | PE;
    return overflow(r, rc, MAX32);
  }
  let e: number;
  if (d !== r) e = d - r;
  else if (op === ADD || op === SUB) e = errSign64(op, a, b, d);
  else if (op === MUL) e = 0;
  else if (op === DIV) {
    if (a === 0 || !isFinite(a) || !isFinite(b)) e = 0;
    else {
      const rem = a - r * b;
      e = b < 0 ? -rem : rem;
    }
  } else e = b === 0 || b === Infinity ? 0 : b - r * r;
  if ((cpu.mxcsr & FTZ_UM) === FTZ_UM && tiny(r, e, MIN32)) return flush(cpu, r, e);
  if (e === 0 || e !== e) return r;
  let f = PE;
  const v = directed(r, e, rc, true);
  const m = Math.abs(v);
  const mr = Math.abs(r);
  if (mr < MIN32 || (mr === MIN32 && (r > 0 ? e < 0 : e > 0))) f |= UE;
  if (m === Infinity) f |= OE;
  cpu.mxcsr |= f;
  return v;
}

/** Is the exact result (r + e, r rounded to nearest) tiny, i.e. nonzero and below the smallest normal? */
function tiny(r: number, e: number, min: number): boolean {
  const m = Math.abs(r);
  if (m < min) return r !== 0 || (e !== 0 && e === e);
  return m === min && (r > 0 ? e < 0 : e > 0);
}
/** FTZ: a tiny result becomes zero with the true result's sign, raising UE and PE. */
function flush(cpu: CPU, r: number, e: number): number {
  cpu.mxcsr |= UE | PE;
  return r < 0 || (r === 0 && e < 0) ? -0 : 0;
}

/** Round a double (exact value d) to float32 under MXCSR (cvtsd2ss, cvtsi2ss...). */
function narrow32(cpu: CPU, d: number, e0: number): number {
  const rc = (cpu.mxcsr >> 13) & 3;
  const r = Math.fround(d);
  if ((r === Infinity || r === -Infinity) && d - d === 0) {
    cpu.mxcsr |= OE | PE;
    return overflow(r, rc, MAX32);
  }
  const e = d !== r ? d - r : e0;
  if ((cpu.mxcsr & FTZ_UM) === FTZ_UM && tiny(r, e, MIN32)) return flush(cpu, r, e);
  if (e === 0 || e !== e) return r;
  let f = PE;
  const mr = Math.abs(r);
  if (mr < MIN32 || (mr === MIN32 && (r > 0 ? e < 0 : e > 0))) f |= UE;
  const v = directed(r, e, rc, true);
  if (Math.abs(v) === Infinity) f |= OE;
  cpu.mxcsr |= f;
  return v;
}

function denorm32(x: number): boolean {
  return x !== 0 && x < MIN32 && x > -MIN32;
}
function denorm64(x: number): boolean {
  return x !== 0 && x < MIN64 && x > -MIN64;
}

/** Result zero of an exact cancellation: -0 when rounding down unless both addends are +0. */
function zeroSign(r: number, op: number, a: number, b: number, rc: number): number {
  if (r !== 0 || rc !== 1 || (op !== ADD && op !== SUB)) return r;
  const bneg = op === SUB ? !(1 / b < 0) : 1 / b < 0;
  return 1 / a < 0 || bneg || a !== 0 ? -0 : 0;
}

/** Scalar float32 a op b on bit patterns under MXCSR; returns the result bits. */
function fbin32(cpu: CPU, op: number, ai: number, bi: number): number {
  CI[0] = ai;
  let a = CF32[0];
  CI[0] = bi;
  let b = CF32[0];
  if (a !== a || b !== b) {
    if (op >= MIN) {
      cpu.mxcsr |= IE;
      return bi;
    }
    if (isSNaN32(ai) || isSNaN32(bi)) cpu.mxcsr |= IE;
    return (isNaN32(ai) ? ai : bi) | 0x400000;
  }
  if (denorm32(a) || denorm32(b)) {
    if (cpu.mxcsr & DAZ) {
      if (denorm32(a)) {
        ai &= 0x80000000;
        a = ai !== 0 ? -0 : 0;
      }
      if (denorm32(b)) {
        bi &= 0x80000000;
        b = bi !== 0 ? -0 : 0;
      }
    } else cpu.mxcsr |= DE;
  }
  if (op === MIN) return a < b ? ai : bi;
  if (op === MAX) return a > b ? ai : bi;
  const d = arith(op, a, b);
  if (d !== d) {
    cpu.mxcsr |= IE;
    return DEF_NAN32;
  }
  if (op === DIV && b === 0) {
    if (a - a === 0) cpu.mxcsr |= ZE;
    CF32[0] = d;
  } else if (d === 0 && (op === ADD || op === SUB)) CF32[0] = zeroSign(d, op, a, b, (cpu.mxcsr >> 13) & 3);
  else CF32[0] = finish32(cpu, op, a, b, d);
  return CI[0];
}

/** dest float32 at XI index dk op= source float32 at SI index sk */
function fop32(cpu: CPU, op: number, dk: number, sk: number): void {
  XI[dk] = fbin32(cpu, op, XI[dk], SI[sk]);
}

/** Scalar float64 a op b on bit patterns; result low word returned, high word in fHi. */
let fHi = 0;
function fbin64(cpu: CPU, op: number, al: number, ah: number, bl: number, bh: number): number {
  CI[0] = al;
  CI[1] = ah;
  let a = CD[0];
  CI[0] = bl;
  CI[1] = bh;
  let b = CD[0];
  if (a !== a || b !== b) {
    if (op >= MIN) {
      cpu.mxcsr |= IE;
      fHi = bh;
      return bl;
    }
    if (isSNaN64(ah, al) || isSNaN64(bh, bl)) cpu.mxcsr |= IE;
    if (isNaN64(ah, al)) {
      fHi = ah | 0x80000;
      return al;
    }
    fHi = bh | 0x80000;
    return bl;
  }
  if (denorm64(a) || denorm64(b)) {
    if (cpu.mxcsr & DAZ) {
      if (denorm64(a)) {
        a = a < 0 ? -0 : 0;
        ah &= 0x80000000;
        al = 0;
      }
      if (denorm64(b)) {
        b = b < 0 ? -0 : 0;
        bh &= 0x80000000;
        bl = 0;
      }
    } else cpu.mxcsr |= DE;
  }
  if (op === MIN || op === MAX) {
    if (op === MIN ? a < b : a > b) {
      fHi = ah;
      return al;
    }
    fHi = bh;
    return bl;
  }
  let r = arith(op, a, b);
  if (r !== r) {
    cpu.mxcsr |= IE;
    fHi = DEF_NAN64_HI;
    return 0;
  }
  if (op === DIV && b === 0) {
    if (a - a === 0) cpu.mxcsr |= ZE;
  } else if (r === 0 && (op === ADD || op === SUB)) r = zeroSign(r, op, a, b, (cpu.mxcsr >> 13) & 3);
  else if (!((r === Infinity || r === -Infinity) && (a - a !== 0 || b - b !== 0))) r = finish64(cpu, op, a, b, r);
  CD[0] = r;
  fHi = CI[1];
  return CI[0];
}

/** dest float64 at XD index dq op= source float64 at SD index sq */
function fop64(cpu: CPU, op: number, dq: number, sq: number): void {
  const lo = fbin64(cpu, op, XI[2 * dq], XI[2 * dq + 1], SI[2 * sq], SI[2 * sq + 1]);
  XI[2 * dq] = lo;
  XI[2 * dq + 1] = fHi;
}

function fpPS(op: number): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 2;
    fop32(cpu, op, d, 0);
    fop32(cpu, op, d + 1, 1);
    fop32(cpu, op, d + 2, 2);
    fop32(cpu, op, d + 3, 3);
  };
}
function fpPD(op: number): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 1;
    fop64(cpu, op, d, 0);
    fop64(cpu, op, d + 1, 1);
  };
}
function fpSS(op: number): Handler {
  return (cpu, i) => {
    ld32(cpu, i);
    fop32(cpu, op, i.reg << 2, 0);
  };
}
function fpSD(op: number): Handler {
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

function sqrtps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  for (let k = 0; k < 4; k++) sqrt32(cpu, (i.reg << 2) + k, k);
}
function sqrtpd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  sqrt64(cpu, i.reg << 1, 0);
  sqrt64(cpu, (i.reg << 1) + 1, 1);
}
function sqrtss(cpu: CPU, i: Insn): void {
  ld32(cpu, i);
  sqrt32(cpu, i.reg << 2, 0);
}
function sqrtsd(cpu: CPU, i: Insn): void {
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
function approxPS(kind: number): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    for (let k = 0; k < 4; k++) approx32((i.reg << 2) + k, k, kind);
  };
}
function approxSS(kind: number): Handler {
  return (cpu, i) => {
    ld32(cpu, i);
    approx32(i.reg << 2, 0, kind);
  };
}

/** addsubps / addsubpd, haddps/pd, hsubps/pd */
function addsubps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  fop32(cpu, SUB, d, 0);
  fop32(cpu, ADD, d + 1, 1);
  fop32(cpu, SUB, d + 2, 2);
  fop32(cpu, ADD, d + 3, 3);
}
function addsubpd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  fop64(cpu, SUB, i.reg << 1, 0);
  fop64(cpu, ADD, (i.reg << 1) + 1, 1);
}
function hps(op: number): Handler {
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
function hpd(op: number): Handler {
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

/** (andps/orps/xorps/andnps and the pd forms use the integer handlers pand/por/pxor/pandn.) */

// ---- compares ----

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
function cmpps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const p = i.imm & 7, d = i.reg << 2;
  for (let k = 0; k < 4; k++) cmp32(cpu, p, d + k, k);
}
function cmppd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const p = i.imm & 7;
  cmp64(cpu, p, i.reg << 1, 0);
  cmp64(cpu, p, (i.reg << 1) + 1, 1);
}
function cmpss(cpu: CPU, i: Insn): void {
  ld32(cpu, i);
  cmp32(cpu, i.imm & 7, i.reg << 2, 0);
}
function cmpsd(cpu: CPU, i: Insn): void {
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
function comiss(cpu: CPU, i: Insn): void {
  ld32(cpu, i);
  const d = i.reg << 2;
  const a = XF[d], b = SF32[0];
  if (a !== a || b !== b) cpu.mxcsr |= IE;
  comiFlags(cpu, a, b, true);
}
function ucomiss(cpu: CPU, i: Insn): void {
  ld32(cpu, i);
  const d = i.reg << 2;
  const a = XF[d], b = SF32[0];
  if ((a !== a || b !== b) && (isSNaN32(XI[d]) || isSNaN32(SI[0]))) cpu.mxcsr |= IE;
  comiFlags(cpu, a, b, true);
}
function comisd(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  const a = XD[i.reg << 1], b = SD[0];
  if (a !== a || b !== b) cpu.mxcsr |= IE;
  comiFlags(cpu, a, b, false);
}
function ucomisd(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  const d = i.reg << 2;
  const a = XD[i.reg << 1], b = SD[0];
  if ((a !== a || b !== b) && (isSNaN64(XI[d + 1], XI[d]) || isSNaN64(SI[1], SI[0]))) cpu.mxcsr |= IE;
  comiFlags(cpu, a, b, false);
}

// ---- conversions ----

/** Round an integral-or-not finite double per rounding control 0..3. */
export function roundRC(x: number, rc: number): number {
  switch (rc) {
    case 0: {
      const r = Math.round(x);
      return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
    }
    case 1:
      return Math.floor(x);
    case 2:
      return Math.ceil(x);
    default:
      return Math.trunc(x);
  }
}

/** Double -> int32 with rounding rc (4 = truncate); indefinite 0x80000000 on overflow/NaN. */
function toI32(cpu: CPU, x: number, rc: number): number {
  if (x !== x) {
    cpu.mxcsr |= IE;
    return 0x80000000 | 0;
  }
  const r = roundRC(x, rc);
  if (r < -2147483648 || r > 2147483647) {
    cpu.mxcsr |= IE;
    return 0x80000000 | 0;
  }
  if (r !== x) cpu.mxcsr |= PE;
  return r | 0;
}

/** Double -> int64; low half returned, high half in cvtHi. */
let cvtHi = 0;
function toI64(cpu: CPU, x: number, rc: number): number {
  if (x !== x) {
    cpu.mxcsr |= IE;
    cvtHi = 0x80000000 | 0;
    return 0;
  }
  const r = roundRC(x, rc);
  if (r < -9223372036854775808 || r >= 9223372036854775808) {
    cpu.mxcsr |= IE;
    cvtHi = 0x80000000 | 0;
    return 0;
  }
  if (r !== x) cpu.mxcsr |= PE;
  const hi = Math.floor(r / 4294967296);
  cvtHi = hi | 0;
  return (r - hi * 4294967296) | 0;
}

/** int64 (lo, hi) -> float32, correctly rounded to nearest. */
export function i64ToF32(lo: number, hi: number): number {
  const neg = hi < 0;
  let ml = lo >>> 0, mh = hi >>> 0;
  if (neg) {
    ml = (~lo + 1) >>> 0;
    mh = (~hi + (ml === 0 ? 1 : 0)) >>> 0;
  }
  // keep the double conversion exact: fold bits below 2^12 into a sticky bit
  if (mh >= 0x200000 && (ml & 0xfff) !== 0) ml = ((ml & ~0xfff) | 0x800) >>> 0;
  const v = mh * 4294967296 + ml;
  return Math.fround(neg ? -v : v);
}

function mxRC(cpu: CPU): number {
  return (cpu.mxcsr >> 13) & 3;
}

/** cvtsi2ss xmm, r/m32|64 */
function cvtsi2ss(cpu: CPU, i: Insn): void {
  const lo = gprSrc(cpu, i);
  const hi = cpu.hi;
  bind(cpu);
  let v: number;
  if (i.rex & 8) {
    const r = i64ToF32(lo, hi);
    const d = hi * 4294967296 + (lo >>> 0);
    const ed = (lo >>> 0) - (d - hi * 4294967296);
    v = narrow32(cpu, r, d !== r ? d - r : ed);
  } else v = narrow32(cpu, lo, 0);
  XF[i.reg << 2] = v;
}
/** cvtsi2sd xmm, r/m32|64 */
function cvtsi2sd(cpu: CPU, i: Insn): void {
  const lo = gprSrc(cpu, i);
  const hi = cpu.hi;
  bind(cpu);
  if (i.rex & 8) {
    const r = hi * 4294967296 + (lo >>> 0);
    const e = (lo >>> 0) - (r - hi * 4294967296);
    if (e !== 0) cpu.mxcsr |= PE;
    XD[i.reg << 1] = directed(r, e, mxRC(cpu), false);
  } else XD[i.reg << 1] = lo;
}
/** cvt(t)ss2si / cvt(t)sd2si: trunc=true for the 2C forms */
function cvt2si(dbl: boolean, trunc: boolean): Handler {
  return (cpu, i) => {
    let x: number;
    if (dbl) {
      ld64(cpu, i);
      x = SD[0];
    } else {
      ld32(cpu, i);
      x = SF32[0];
    }
    const rc = trunc ? 3 : mxRC(cpu);
    if (i.rex & 8) {
      const lo = toI64(cpu, x, rc);
      cpu.setReg(i.reg, 8, lo, cvtHi);
    } else cpu.setReg(i.reg, 4, toI32(cpu, x, rc), 0);
  };
}

/** float32 bits -> float64 stored at XI[2q], XI[2q+1] (NaNs quieted, payload kept) */
function f32to64(cpu: CPU, bits: number, q: number): void {
  if (isNaN32(bits)) {
    if (isSNaN32(bits)) cpu.mxcsr |= IE;
    const m = (bits & 0x7fffff) | 0x400000;
    XI[2 * q + 1] = (bits & 0x80000000) | 0x7ff00000 | (m >>> 3);
    XI[2 * q] = (m & 7) << 29;
  } else {
    CI[0] = bits;
    let v = CF32[0];
    if (denorm32(v)) {
      if (cpu.mxcsr & DAZ) v = v < 0 ? -0 : 0;
      else cpu.mxcsr |= DE;
    }
    XD[q] = v;
  }
}
/** float64 (lo, hi) -> float32 bits */
function f64to32(cpu: CPU, lo: number, hi: number): number {
  if (isNaN64(hi, lo)) {
    if (isSNaN64(hi, lo)) cpu.mxcsr |= IE;
    return (hi & 0x80000000) | 0x7fc00000 | ((hi & 0x7ffff) << 3) | (lo >>> 29);
  }
  CI[0] = lo;
  CI[1] = hi;
  let d = CD[0];
  if (denorm64(d)) {
    if (cpu.mxcsr & DAZ) d = d < 0 ? -0 : 0;
    else cpu.mxcsr |= DE;
  }
  CF32[0] = narrow32(cpu, d, 0);
  return CI[0];
}

function cvtss2sd(cpu: CPU, i: Insn): void {
  ld32(cpu, i);
  f32to64(cpu, SI[0], i.reg << 1);
}
function cvtsd2ss(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  XI[i.reg << 2] = f64to32(cpu, SI[0], SI[1]);
}
function cvtps2pd(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  f32to64(cpu, SI[0], i.reg << 1);
  f32to64(cpu, SI[1], (i.reg << 1) + 1);
}
function cvtpd2ps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = f64to32(cpu, SI[0], SI[1]);
  XI[d + 1] = f64to32(cpu, SI[2], SI[3]);
  XI[d + 2] = 0;
  XI[d + 3] = 0;
}
function cvtdq2ps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) XF[d + k] = narrow32(cpu, SI[k], 0);
}
function cvtdq2pd(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  const a = SI[0], b = SI[1];
  XD[i.reg << 1] = a;
  XD[(i.reg << 1) + 1] = b;
}
function cvtps2dq(trunc: boolean): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 2, rc = trunc ? 3 : mxRC(cpu);
    for (let k = 0; k < 4; k++) XI[d + k] = toI32(cpu, SF32[k], rc);
  };
}
function cvtpd2dq(trunc: boolean): Handler {
  return (cpu, i) => {
    ldA(cpu, i);
    const d = i.reg << 2, rc = trunc ? 3 : mxRC(cpu);
    XI[d] = toI32(cpu, SD[0], rc);
    XI[d + 1] = toI32(cpu, SD[1], rc);
    XI[d + 2] = 0;
    XI[d + 3] = 0;
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
  const r = roundRC(x, rc);
  if (r !== x && !quiet) cpu.mxcsr |= PE;
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
  const r = roundRC(x, rc);
  if (r !== x && !quiet) cpu.mxcsr |= PE;
  XD[dq] = r;
}
function roundps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const rc = i.imm & 4 ? mxRC(cpu) : i.imm & 3, q = (i.imm & 8) !== 0;
  for (let k = 0; k < 4; k++) roundRC32(cpu, (i.reg << 2) + k, k, rc, q);
}
function roundpd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const rc = i.imm & 4 ? mxRC(cpu) : i.imm & 3, q = (i.imm & 8) !== 0;
  roundRC64(cpu, i.reg << 1, 0, rc, q);
  roundRC64(cpu, (i.reg << 1) + 1, 1, rc, q);
}
function roundss(cpu: CPU, i: Insn): void {
  ld32(cpu, i);
  const rc = i.imm & 4 ? mxRC(cpu) : i.imm & 3;
  roundRC32(cpu, i.reg << 2, 0, rc, (i.imm & 8) !== 0);
}
function roundsd(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  const rc = i.imm & 4 ? mxRC(cpu) : i.imm & 3;
  roundRC64(cpu, i.reg << 1, 0, rc, (i.imm & 8) !== 0);
}

/** dpps / dppd (SSE4.1 dot products): products, then pairwise sums, each rounded like hardware */
function dpps(cpu: CPU, i: Insn): void {
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
function dppd(cpu: CPU, i: Insn): void {
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

// ---------------------------------------------------------------------------
// movbe and crc32 (0F 38 F0/F1)

function bswap32(v: number): number {
  return ((v >>> 24) | ((v >> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24)) | 0;
}
function movbeLoad(cpu: CPU, i: Insn): void {
  const a = cpu.ea(i);
  if (i.size === 2) {
    const v = cpu.mem.read16(a);
    cpu.setReg(i.reg, 2, ((v >> 8) | (v << 8)) & 0xffff, 0);
  } else if (i.size === 8) {
    const lo = cpu.mem.read64(a);
    const hi = cpu.mem.hi;
    cpu.setReg(i.reg, 8, bswap32(hi), bswap32(lo));
  } else cpu.setReg(i.reg, 4, bswap32(cpu.mem.read32(a)), 0);
}
function movbeStore(cpu: CPU, i: Insn): void {
  const a = cpu.ea(i);
  if (i.size === 2) {
    const v = cpu.rl[i.reg];
    cpu.mem.write16(a, ((v >> 8) & 0xff) | ((v & 0xff) << 8));
  } else if (i.size === 8) cpu.mem.write64(a, bswap32(cpu.rh[i.reg]), bswap32(cpu.rl[i.reg]));
  else cpu.mem.write32(a, bswap32(cpu.rl[i.reg]));
}

const CRC32C = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  CRC32C[n] = c;
}
function crcBytes(crc: number, v: number, n: number): number {
  for (let k = 0; k < n; k++) {
    crc = CRC32C[(crc ^ v) & 0xff] ^ (crc >>> 8);
    v >>>= 8;
  }
  return crc;
}
function crc32(cpu: CPU, i: Insn, srcSize: number): void {
  let lo: number, hi = 0;
  if (i.rm >= 0) {
    lo = cpu.getReg(i.rm, srcSize);
    if (srcSize === 8) hi = cpu.hi;
  } else {
    const a = cpu.ea(i);
    lo = cpu.readMem(a, srcSize);
    if (srcSize === 8) hi = cpu.hi;
  }
  let c = cpu.rl[i.reg];
  if (srcSize === 8) {
    c = crcBytes(c, lo, 4);
    c = crcBytes(c, hi, 4);
  } else c = crcBytes(c, lo, srcSize);
  cpu.setReg(i.reg, 4, c | 0, 0);
}
function crc32b(cpu: CPU, i: Insn): void {
  crc32(cpu, i, 1);
}
function crc32v(cpu: CPU, i: Insn): void {
  crc32(cpu, i, i.size);
}

// ---------------------------------------------------------------------------
// emms, fxsave/fxrstor, ldmxcsr/stmxcsr

function emms(cpu: CPU, _i: Insn): void {
  x87Empty(cpu);
}

const FXBUF = new Uint8Array(512);

function fxsave(cpu: CPU, i: Insn): void {
  const a = cpu.ea(i);
  if ((a & 15) !== 0) gp();
  cpu.mem.wpage(a);
  cpu.mem.wpage(a + 511);
  fxsaveTo(cpu, FXBUF);
  cpu.mem.writeBytes(a, FXBUF.subarray(0, 416));
}
function fxrstor(cpu: CPU, i: Insn): void {
  const a = cpu.ea(i);
  if ((a & 15) !== 0) gp();
  const img = cpu.mem.readBytes(a, 512);
  fxrstorFrom(cpu, img);
}
function ldmxcsr(cpu: CPU, i: Insn): void {
  const v = cpu.mem.read32(cpu.ea(i));
  if (v & ~MXCSR_MASK) gp();
  cpu.mxcsr = v;
}
function stmxcsr(cpu: CPU, i: Insn): void {
  cpu.mem.write32(cpu.ea(i), cpu.mxcsr);
}

export function group15Handler(i: Insn): Handler | null {
  if (i.rm >= 0 || i.pfx !== 0) return null;
  switch (i.sub) {
    case 0:
      return fxsave;
    case 1:
      return fxrstor;
    case 2:
      return ldmxcsr;
    case 3:
      return stmxcsr;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Opcode selection

const INT66: (Handler | undefined)[] = [];
function int66(op: number, h: Handler): void {
  INT66[op] = h;
}
int66(0x60, punpcklbw);
int66(0x61, punpcklwd);
int66(0x62, punpckldq);
int66(0x63, packsswb);
int66(0x64, pcmpgtb);
int66(0x65, pcmpgtw);
int66(0x66, pcmpgtd);
int66(0x67, packuswb);
int66(0x68, punpckhbw);
int66(0x69, punpckhwd);
int66(0x6a, punpckhdq);
int66(0x6b, packssdw);
int66(0x6c, punpcklqdq);
int66(0x6d, punpckhqdq);
int66(0x74, pcmpeqb);
int66(0x75, pcmpeqw);
int66(0x76, pcmpeqd);
int66(0xd1, shiftXmm(16, 0));
int66(0xd2, shiftXmm(32, 0));
int66(0xd3, shiftXmm(64, 0));
int66(0xd4, paddq);
int66(0xd5, pmullw);
int66(0xd8, psubusb);
int66(0xd9, psubusw);
int66(0xda, pminub);
int66(0xdb, pand);
int66(0xdc, paddusb);
int66(0xdd, paddusw);
int66(0xde, pmaxub);
int66(0xdf, pandn);
int66(0xe0, pavgb);
int66(0xe1, shiftXmm(16, 1));
int66(0xe2, shiftXmm(32, 1));
int66(0xe3, pavgw);
int66(0xe4, pmulhuw);
int66(0xe5, pmulhw);
int66(0xe8, psubsb);
int66(0xe9, psubsw);
int66(0xea, pminsw);
int66(0xeb, por);
int66(0xec, paddsb);
int66(0xed, paddsw);
int66(0xee, pmaxsw);
int66(0xef, pxor);
int66(0xf1, shiftXmm(16, 2));
int66(0xf2, shiftXmm(32, 2));
int66(0xf3, shiftXmm(64, 2));
int66(0xf4, pmuludq);
int66(0xf5, pmaddwd);
int66(0xf6, psadbw);
int66(0xf8, psubb);
int66(0xf9, psubw);
int66(0xfa, psubd);
int66(0xfb, psubq);
int66(0xfc, paddb);
int66(0xfd, paddw);
int66(0xfe, paddd);

/** Float arithmetic 0F 51, 58-5F by prefix: [none=ps, 66=pd, F3=ss, F2=sd] */
const FARITH: Record<number, Handler[]> = {
  0x58: [fpPS(ADD), fpPD(ADD), fpSS(ADD), fpSD(ADD)],
  0x59: [fpPS(MUL), fpPD(MUL), fpSS(MUL), fpSD(MUL)],
  0x5c: [fpPS(SUB), fpPD(SUB), fpSS(SUB), fpSD(SUB)],
  0x5d: [fpPS(MIN), fpPD(MIN), fpSS(MIN), fpSD(MIN)],
  0x5e: [fpPS(DIV), fpPD(DIV), fpSS(DIV), fpSD(DIV)],
  0x5f: [fpPS(MAX), fpPD(MAX), fpSS(MAX), fpSD(MAX)],
  0x51: [sqrtps, sqrtpd, sqrtss, sqrtsd],
};

function byPfx(i: Insn, none: Handler | null, p66: Handler | null, f3: Handler | null, f2: Handler | null): Handler | null {
  switch (i.pfx) {
    case 0:
      return none;
    case 0x66:
      return p66;
    case 0xf3:
      return f3;
    default:
      return f2;
  }
}

const cvttss2si = cvt2si(false, true), cvttsd2si = cvt2si(true, true);
const cvtss2si = cvt2si(false, false), cvtsd2si = cvt2si(true, false);
const rsqrtps = approxPS(1), rcpps = approxPS(0), rsqrtss = approxSS(1), rcpss = approxSS(0);
const cvtps2dqH = cvtps2dq(false), cvttps2dqH = cvtps2dq(true);
const cvtpd2dqH = cvtpd2dq(false), cvttpd2dqH = cvtpd2dq(true);
const haddps = hps(ADD), hsubps = hps(SUB), haddpd = hpd(ADD), hsubpd = hpd(SUB);
const SHIFT71: (Handler | null)[] = [null, null, shiftImm(16, 0), null, shiftImm(16, 1), null, shiftImm(16, 2), null];
const SHIFT72: (Handler | null)[] = [null, null, shiftImm(32, 0), null, shiftImm(32, 1), null, shiftImm(32, 2), null];
const SHIFT73: (Handler | null)[] = [null, null, shiftImm(64, 0), psrldq, null, null, shiftImm(64, 2), pslldq];

function map1(op: number, i: Insn): Handler | null {
  const mem = i.rm < 0;
  const p = i.pfx;
  if (p === 0x66) {
    const h = INT66[op];
    if (h !== undefined) return h;
  }
  const f = FARITH[op];
  if (f !== undefined) return f[p === 0 ? 0 : p === 0x66 ? 1 : p === 0xf3 ? 2 : 3];
  switch (op) {
    case 0x10:
      return byPfx(i, movdquLoad, movdquLoad, movssLoad, movsdLoad);
    case 0x11:
      return byPfx(i, movdquStore, movdquStore, movssStore, movsdStore);
    case 0x12:
      return byPfx(i, movlpLoad, mem ? movlpLoad : null, movsldup, movddup);
    case 0x13:
      return (p === 0 || p === 0x66) && mem ? movsdStore : null;
    case 0x14:
      return byPfx(i, punpckldq, punpcklqdq, null, null);
    case 0x15:
      return byPfx(i, punpckhdq, punpckhqdq, null, null);
    case 0x16:
      return byPfx(i, movhpLoad, mem ? movhpLoad : null, movshdup, null);
    case 0x17:
      return (p === 0 || p === 0x66) && mem ? movhpStore : null;
    case 0x28:
      return p === 0 || p === 0x66 ? movdqaLoad : null;
    case 0x29:
      return p === 0 || p === 0x66 ? movdqaStore : null;
    case 0x2a:
      return byPfx(i, null, null, cvtsi2ss, cvtsi2sd);
    case 0x2b:
      return (p === 0 || p === 0x66) && mem ? movntStore : null;
    case 0x2c:
      return byPfx(i, null, null, cvttss2si, cvttsd2si);
    case 0x2d:
      return byPfx(i, null, null, cvtss2si, cvtsd2si);
    case 0x2e:
      return byPfx(i, ucomiss, ucomisd, null, null);
    case 0x2f:
      return byPfx(i, comiss, comisd, null, null);
    case 0x50:
      return mem ? null : byPfx(i, movmskps, movmskpd, null, null);
    case 0x52:
      return byPfx(i, rsqrtps, null, rsqrtss, null);
    case 0x53:
      return byPfx(i, rcpps, null, rcpss, null);
    case 0x54:
      return byPfx(i, pand, pand, null, null);
    case 0x55:
      return byPfx(i, pandn, pandn, null, null);
    case 0x56:
      return byPfx(i, por, por, null, null);
    case 0x57:
      return byPfx(i, pxor, pxor, null, null);
    case 0x5a:
      return byPfx(i, cvtps2pd, cvtpd2ps, cvtss2sd, cvtsd2ss);
    case 0x5b:
      return byPfx(i, cvtdq2ps, cvtps2dqH, cvttps2dqH, null);
    case 0x6e:
      return p === 0x66 ? movdToX : null;
    case 0x6f:
      return byPfx(i, null, movdqaLoad, movdquLoad, null);
    case 0x70:
      return byPfx(i, null, pshufd, pshufhw, pshuflw);
    case 0x71:
      return p === 0x66 && !mem ? SHIFT71[i.sub & 7] : null;
    case 0x72:
      return p === 0x66 && !mem ? SHIFT72[i.sub & 7] : null;
    case 0x73:
      return p === 0x66 && !mem ? SHIFT73[i.sub & 7] : null;
    case 0x77:
      return p === 0 ? emms : null;
    case 0x7c:
      return byPfx(i, null, haddpd, null, haddps);
    case 0x7d:
      return byPfx(i, null, hsubpd, null, hsubps);
    case 0x7e:
      return byPfx(i, null, movdFromX, movqLoad, null);
    case 0x7f:
      return byPfx(i, null, movdqaStore, movdquStore, null);
    case 0xc2:
      return byPfx(i, cmpps, cmppd, cmpss, cmpsd);
    case 0xc4:
      return p === 0x66 ? pinsrw : null;
    case 0xc5:
      return p === 0x66 && !mem ? pextrwC5 : null;
    case 0xc6:
      return byPfx(i, shufps, shufpd, null, null);
    case 0xd0:
      return byPfx(i, null, addsubpd, null, addsubps);
    case 0xd6:
      return p === 0x66 ? movqStore : null;
    case 0xd7:
      return p === 0x66 && !mem ? pmovmskb : null;
    case 0xe6:
      return byPfx(i, null, cvttpd2dqH, cvtdq2pd, cvtpd2dqH);
    case 0xe7:
      return p === 0x66 && mem ? movntStore : null;
    case 0xf0:
      return p === 0xf2 && mem ? lddqu : null;
    case 0xf7:
      return p === 0x66 && !mem ? maskmovdqu : null;
  }
  return null;
}

const MAP2: (Handler | undefined)[] = [];
MAP2[0x00] = pshufb;
MAP2[0x01] = phw(false, false);
MAP2[0x02] = phd(false);
MAP2[0x03] = phw(false, true);
MAP2[0x04] = pmaddubsw;
MAP2[0x05] = phw(true, false);
MAP2[0x06] = phd(true);
MAP2[0x07] = phw(true, true);
MAP2[0x08] = psignb;
MAP2[0x09] = psignw;
MAP2[0x0a] = psignd;
MAP2[0x0b] = pmulhrsw;
MAP2[0x10] = pblendvb;
MAP2[0x14] = blendvps;
MAP2[0x15] = blendvpd;
MAP2[0x17] = ptest;
MAP2[0x1c] = pabsb;
MAP2[0x1d] = pabsw;
MAP2[0x1e] = pabsd;
for (let k = 0; k < 6; k++) {
  MAP2[0x20 + k] = pmovx(k, true);
  MAP2[0x30 + k] = pmovx(k, false);
}
MAP2[0x28] = pmuldq;
MAP2[0x29] = pcmpeqq;
MAP2[0x2b] = packusdw;
MAP2[0x37] = pcmpgtq;
MAP2[0x38] = pminsb;
MAP2[0x39] = pminsd;
MAP2[0x3a] = pminuw;
MAP2[0x3b] = pminud;
MAP2[0x3c] = pmaxsb;
MAP2[0x3d] = pmaxsd;
MAP2[0x3e] = pmaxuw;
MAP2[0x3f] = pmaxud;
MAP2[0x40] = pmulld;
MAP2[0x41] = phminposuw;

function map2(op: number, i: Insn): Handler | null {
  if (op === 0xf0 || op === 0xf1) {
    if (i.rep === 0xf2 || i.pfx === 0xf2) return op === 0xf0 ? crc32b : crc32v;
    if (i.pfx === 0 || i.pfx === 0x66) return i.rm < 0 ? (op === 0xf0 ? movbeLoad : movbeStore) : null;
    return null;
  }
  if (op === 0x2a) return i.pfx === 0x66 && i.rm < 0 ? movdqaLoad : null; // movntdqa
  if (i.pfx !== 0x66) return null;
  return MAP2[op] ?? null;
}

const MAP3: (Handler | undefined)[] = [];
MAP3[0x08] = roundps;
MAP3[0x09] = roundpd;
MAP3[0x0a] = roundss;
MAP3[0x0b] = roundsd;
MAP3[0x0c] = blendps;
MAP3[0x0d] = blendpd;
MAP3[0x0e] = pblendw;
MAP3[0x0f] = palignr;
MAP3[0x14] = pextrb;
MAP3[0x15] = pextrw;
MAP3[0x16] = pextrd;
MAP3[0x17] = extractps;
MAP3[0x20] = pinsrb;
MAP3[0x21] = insertps;
MAP3[0x22] = pinsrd;
MAP3[0x40] = dpps;
MAP3[0x41] = dppd;

function map3(op: number, i: Insn): Handler | null {
  if (i.pfx !== 0x66) return null;
  return MAP3[op] ?? null;
}

/**
 * Handler for an SSE-family opcode (map 1 = 0F xx, 2 = 0F 38 xx, 3 = 0F 3A xx),
 * chosen by the mandatory prefix and operand kind; null if not implemented.
 */
export function sseHandler(map: number, opcode: number, i: Insn): Handler | null {
  switch (map) {
    case 1:
      return map1(opcode, i);
    case 2:
      return map2(opcode, i);
    case 3:
      return map3(opcode, i);
  }
  return null;
}
