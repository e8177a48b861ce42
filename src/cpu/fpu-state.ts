/**
 * The FPU and SSE architectural state as it leaves the CPU: the x87 register
 * file with its tag word and 80-bit register images, the FSW bits, and the
 * memory layouts that hold the state (fxsave/fxrstor's 512 bytes, the 28-byte
 * x87 environment of fnstenv/fldenv and fnsave/frstor's 108 bytes).
 * Instructions (ops/sse/state.ts, ops/x87/control.ts), signal frames (the
 * kernel) and the debugger (gdb's st0-7 and ftag) all go through here.
 *
 * cpu.fcw, cpu.fsw (TOP in bits 11..13, kept current), cpu.mxcsr and cpu.xmm
 * live on the CPU; the x87 registers and which of them are empty live in an
 * X87 object per CPU (x87State).
 */
import type { CPU } from './cpu.js';
import type { Memory } from './memory.js';
import { CpuFault, Vector } from './fault.js';
import { sideTableOnClone } from './clone.js';

// FSW bits: exception flags, stack fault, condition codes
export const S_IE = 0x1;
export const S_DE = 0x2;
export const S_ZE = 0x4;
export const S_OE = 0x8;
export const S_UE = 0x10;
export const S_PE = 0x20;
export const S_SF = 0x40;
export const C0 = 0x100;
export const C1 = 0x200;
export const C2 = 0x400;
export const C3 = 0x4000;

/** Bits of MXCSR that ldmxcsr/fxrstor may set (reported as MXCSR_MASK). */
export const MXCSR_MASK = 0xffff;

/** Per-CPU register file: physical registers 0..7. */
export class X87 {
  /** sign << 15 | biased exponent */
  readonly se = new Uint16Array(8);
  /** mantissa high and low words (bit 63 = explicit integer bit) */
  readonly mh = new Uint32Array(8);
  readonly ml = new Uint32Array(8);
  /** bit p set: physical register p is empty */
  empty = 0xff;
}

// state kept beside each CPU: a snapshot's CPUs get copies (clone.ts)
const states = sideTableOnClone(new WeakMap<CPU, X87>());
let lastCpu: CPU | null = null;
let lastState: X87 = new X87();

export function x87State(cpu: CPU): X87 {
  if (cpu === lastCpu) return lastState;
  let s = states.get(cpu);
  if (s === undefined) {
    s = new X87();
    states.set(cpu, s);
  }
  lastCpu = cpu;
  lastState = s;
  return s;
}

export function top(cpu: CPU): number {
  return (cpu.fsw >> 11) & 7;
}
export function setTop(cpu: CPU, t: number): void {
  cpu.fsw = (cpu.fsw & ~0x3800) | ((t & 7) << 11);
}
/** Physical register of ST(i). */
export function phys(cpu: CPU, i: number): number {
  return (((cpu.fsw >> 11) & 7) + i) & 7;
}

// ---------------------------------------------------------------------------
// Tags and 80-bit register images

/** Tag of physical register p: 0 valid, 1 zero, 2 special (NaN, infinity, denormal, unsupported), 3 empty. */
function tagOf(st: X87, p: number): number {
  if (st.empty & (1 << p)) return 3;
  const exp = st.se[p] & 0x7fff;
  if (exp === 0x7fff) return 2;
  if (exp === 0) return st.mh[p] === 0 && st.ml[p] === 0 ? 1 : 2;
  return st.mh[p] & 0x80000000 ? 0 : 2;
}

function fullTag(st: X87): number {
  let t = 0;
  for (let p = 0; p < 8; p++) t |= tagOf(st, p) << (2 * p);
  return t;
}

function writeReg80(st: X87, p: number, out: Uint8Array, off: number): void {
  const l = st.ml[p], h = st.mh[p], se = st.se[p];
  for (let k = 0; k < 4; k++) out[off + k] = (l >>> (8 * k)) & 0xff;
  for (let k = 0; k < 4; k++) out[off + 4 + k] = (h >>> (8 * k)) & 0xff;
  out[off + 8] = se & 0xff;
  out[off + 9] = se >> 8;
}
function readReg80(st: X87, p: number, img: Uint8Array, off: number): void {
  st.ml[p] = (img[off] | (img[off + 1] << 8) | (img[off + 2] << 16) | (img[off + 3] << 24)) >>> 0;
  st.mh[p] = (img[off + 4] | (img[off + 5] << 8) | (img[off + 6] << 16) | (img[off + 7] << 24)) >>> 0;
  st.se[p] = img[off + 8] | (img[off + 9] << 8);
}

/** ST(0)..ST(7) as 10-byte images at off, off + stride ... (fxsave: stride 16, fnsave: 10). */
export function writeStack80(cpu: CPU, out: Uint8Array, off: number, stride: number): void {
  const st = x87State(cpu);
  const t = top(cpu);
  for (let n = 0; n < 8; n++) writeReg80(st, (t + n) & 7, out, off + stride * n);
}
/** Load ST(0)..ST(7) from 10-byte images (tags are set separately). */
export function readStack80(cpu: CPU, img: Uint8Array, off: number, stride: number): void {
  const st = x87State(cpu);
  const t = top(cpu);
  for (let n = 0; n < 8; n++) readReg80(st, (t + n) & 7, img, off + stride * n);
}

/** ST(i) as 10 bytes (for the debugger). */
export function readST80(cpu: CPU, i: number, out: Uint8Array, off = 0): void {
  writeReg80(x87State(cpu), phys(cpu, i), out, off);
}
/** Set ST(i) from 10 bytes (for the debugger); marks it non-empty. */
export function writeST80(cpu: CPU, i: number, img: Uint8Array, off = 0): void {
  const st = x87State(cpu);
  const p = phys(cpu, i);
  readReg80(st, p, img, off);
  st.empty &= ~(1 << p);
}
/** Full 16-bit tag word (for the debugger and fnstenv). */
export function x87TagWord(cpu: CPU): number {
  return fullTag(x87State(cpu));
}

/** All registers empty (emms, fninit). */
export function x87Empty(cpu: CPU): void {
  x87State(cpu).empty = 0xff;
}

/** The state fninit (and fnsave after saving) leaves. */
export function fninitState(cpu: CPU): void {
  cpu.fcw = 0x37f;
  cpu.fsw = 0;
  x87Empty(cpu);
}

// ---------------------------------------------------------------------------
// fxsave / fxrstor image

/**
 * The 512-byte fxsave image of the FPU and SSE state: FCW, FSW, the abridged
 * tag byte, MXCSR and its mask, ST0-7 at 32 (16 bytes apart), xmm0-15 at 160
 * (FIP/FDP/FOP stored as 0; bytes 416..511 are left untouched). Also for
 * signal frames.
 */
export function fxsaveTo(cpu: CPU, out: Uint8Array): void {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let k = 0; k < 416; k++) out[k] = 0;
  dv.setUint16(0, cpu.fcw, true);
  dv.setUint16(2, cpu.fsw, true);
  out[4] = ~x87State(cpu).empty & 0xff;
  writeStack80(cpu, out, 32, 16);
  dv.setUint32(24, cpu.mxcsr >>> 0, true);
  dv.setUint32(28, MXCSR_MASK, true);
  for (let k = 0; k < 64; k++) dv.setInt32(160 + 4 * k, cpu.xmm[k], true);
}

/** Load FPU and SSE state from a 512-byte fxsave image; #GP if MXCSR has reserved bits. */
export function fxrstorFrom(cpu: CPU, img: Uint8Array): void {
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const mx = dv.getUint32(24, true);
  if (mx & ~MXCSR_MASK) throw new CpuFault(Vector.GP);
  cpu.fcw = dv.getUint16(0, true);
  cpu.fsw = dv.getUint16(2, true);
  x87State(cpu).empty = ~img[4] & 0xff;
  readStack80(cpu, img, 32, 16);
  cpu.mxcsr = mx;
  for (let k = 0; k < 64; k++) cpu.xmm[k] = dv.getInt32(160 + 4 * k, true);
}

// ---------------------------------------------------------------------------
// x87 environment (28 bytes, the 32-bit layout, used in 64-bit mode too)

export const ENV_SIZE = 28;

export function storeEnv(cpu: CPU, a: number): void {
  const mem = cpu.mem;
  mem.wpage(a);
  mem.wpage(a + 27);
  mem.write32(a, cpu.fcw | 0xffff0000);
  mem.write32(a + 4, cpu.fsw | 0xffff0000);
  mem.write32(a + 8, fullTag(x87State(cpu)) | 0xffff0000);
  mem.write32(a + 12, 0);
  mem.write32(a + 16, 0);
  mem.write32(a + 20, 0);
  mem.write32(a + 24, 0xffff0000 | 0);
}

export function loadEnv(cpu: CPU, a: number): void {
  const fcw = cpu.mem.read16(a), fsw = cpu.mem.read16(a + 4), tag = cpu.mem.read16(a + 8);
  cpu.mem.read32(a + 24);
  cpu.fcw = fcw;
  cpu.fsw = fsw;
  let e = 0;
  for (let p = 0; p < 8; p++) if (((tag >> (2 * p)) & 3) === 3) e |= 1 << p;
  x87State(cpu).empty = e;
}

/** The FPU/SSE state saved in a signal frame: the 512-byte fxsave image at addr. */
export function fxsaveToMem(cpu: CPU, mem: Memory, addr: number): void {
  const img = new Uint8Array(512);
  fxsaveTo(cpu, img);
  mem.writeBytes(addr, img);
}

/** The state a signal frame's fxsave image at addr holds, restored by rt_sigreturn. */
export function fxrstorFromMem(cpu: CPU, mem: Memory, addr: number): void {
  fxrstorFrom(cpu, mem.readBytes(addr, 512));
}
