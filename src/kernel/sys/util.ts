/**
 * Helpers shared by the syscall implementations: syscall arguments, guest
 * memory access with Linux's EFAULT semantics, struct packing, sleeping.
 */
import type * as fs from 'node:fs';
import { hrtimeNs, REALTIME_BASE_NS } from '../hostlog.js';
import type { CPU } from '../../cpu/cpu.js';
import type { FileKind } from '../fdtable.js';
import { CpuFault } from '../../cpu/fault.js';
import type { Memory } from '../../cpu/memory.js';
import { EFAULT, ENAMETOOLONG, SysError } from '../errno.js';
import { TASK_SIZE } from '../mm.js';
import { PATH_MAX } from '../vfs.js';

/** Argument registers in order: rdi, rsi, rdx, r10, r8, r9. */
export const ARG_REGS = [7, 6, 2, 10, 8, 9] as const;

/**
 * The six syscall arguments as 32-bit halves, with typed views: int(k) for C
 * `int`/`unsigned` arguments (the kernel uses the low 32 bits), num(k) for
 * pointers and signed longs, unum(k) for size_t.
 */
export class SyscallArgs {
  readonly lo = new Int32Array(6);
  readonly hi = new Int32Array(6);

  /** Load from the CPU's argument registers. */
  load(cpu: CPU): this {
    for (let k = 0; k < 6; k++) {
      this.lo[k] = cpu.rl[ARG_REGS[k]];
      this.hi[k] = cpu.rh[ARG_REGS[k]];
    }
    return this;
  }

  /** Build from values (numbers in [-2^63, 2^64) or bigints), for tests and internal calls. */
  static of(...vals: (number | bigint)[]): SyscallArgs {
    const a = new SyscallArgs();
    vals.forEach((v, k) => {
      const b = BigInt.asUintN(64, BigInt(v));
      a.lo[k] = Number(b & 0xffffffffn) | 0;
      a.hi[k] = Number(b >> 32n) | 0;
    });
    return a;
  }

  /** Signed 32-bit (int, fd, flags). */
  int(k: number): number {
    return this.lo[k];
  }
  /** Unsigned 32-bit. */
  u32(k: number): number {
    return this.lo[k] >>> 0;
  }
  /** Signed 64-bit as a number (pointers, off_t, long). Exact for |v| < 2^53. */
  num(k: number): number {
    return this.hi[k] * 4294967296 + (this.lo[k] >>> 0);
  }
  /** Unsigned 64-bit as a number (size_t); values above 2^53 are approximate but stay huge. */
  unum(k: number): number {
    return (this.hi[k] >>> 0) * 4294967296 + (this.lo[k] >>> 0);
  }
  /** Exact unsigned 64-bit. */
  big(k: number): bigint {
    return (BigInt(this.hi[k] >>> 0) << 32n) | BigInt(this.lo[k] >>> 0);
  }
}

/** Linux's access_ok: the range lies in the user half. */
export function accessOk(addr: number, len: number): boolean {
  return addr >= 0 && len >= 0 && addr + len <= TASK_SIZE;
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CpuFault) throw new SysError(EFAULT);
    throw e;
  }
}

/** Copy bytes from the guest (EFAULT on a bad pointer). */
export function readMem(mem: Memory, addr: number, len: number): Uint8Array {
  if (len === 0) return new Uint8Array(0);
  if (!accessOk(addr, len)) throw new SysError(EFAULT);
  return guard(() => mem.readBytes(addr, len));
}

/** Copy bytes to the guest (EFAULT on a bad pointer; nothing written then). */
export function writeMem(mem: Memory, addr: number, data: Uint8Array): void {
  if (data.length === 0) return;
  if (!accessOk(addr, data.length)) throw new SysError(EFAULT);
  guard(() => mem.writeBytes(addr, data));
}

/** Check the guest range is writable without changing it. */
export function probeWrite(mem: Memory, addr: number, len: number): void {
  if (len === 0) return;
  if (!accessOk(addr, len)) throw new SysError(EFAULT);
  guard(() => {
    for (let a = addr; a < addr + len; a = (Math.floor(a / 4096) + 1) * 4096) mem.wpage(a);
    mem.wpage(addr + len - 1);
  });
}

/** NUL-terminated string bytes (at most max-1 bytes; ENAMETOOLONG if longer). */
export function readCStr(mem: Memory, addr: number, max = PATH_MAX): Uint8Array {
  if (!accessOk(addr, 1)) throw new SysError(EFAULT);
  const bytes: number[] = [];
  return guard(() => {
    // read page by page
    let a = addr;
    while (bytes.length < max) {
      const page = mem.rpage(a);
      const off = a & 4095;
      const u8 = page.u8;
      for (let k = off; k < 4096; k++) {
        const b = u8[k];
        if (b === 0) return Uint8Array.from(bytes);
        bytes.push(b);
        if (bytes.length >= max) throw new SysError(ENAMETOOLONG);
      }
      a += 4096 - off;
      if (!accessOk(a, 1)) throw new SysError(EFAULT);
    }
    throw new SysError(ENAMETOOLONG);
  });
}

const dec = new TextDecoder();
const enc = new TextEncoder();

/** A path argument as a string (UTF-8). */
export function readPath(mem: Memory, addr: number): string {
  return dec.decode(readCStr(mem, addr, PATH_MAX));
}

export function utf8(s: string): Uint8Array {
  return enc.encode(s);
}

export function decodeUtf8(b: Uint8Array): string {
  return dec.decode(b);
}

export function read32(mem: Memory, addr: number): number {
  return readView(mem, addr, 4).getInt32(0, true);
}

export function readU64(mem: Memory, addr: number): number {
  const v = readView(mem, addr, 8);
  return v.getUint32(4, true) * 4294967296 + v.getUint32(0, true);
}

export function readI64(mem: Memory, addr: number): number {
  const v = readView(mem, addr, 8);
  return v.getInt32(4, true) * 4294967296 + v.getUint32(0, true);
}

export function readView(mem: Memory, addr: number, len: number): DataView {
  const b = readMem(mem, addr, len);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function write32(mem: Memory, addr: number, v: number): void {
  const b = new Struct(4);
  b.u32(0, v);
  writeMem(mem, addr, b.bytes);
}

export function write64(mem: Memory, addr: number, v: number | bigint): void {
  const b = new Struct(8);
  b.u64(0, v);
  writeMem(mem, addr, b.bytes);
}

/** A little-endian struct being packed for the guest. */
export class Struct {
  readonly bytes: Uint8Array;
  readonly dv: DataView;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.dv = new DataView(this.bytes.buffer);
  }
  u8(o: number, v: number): this {
    this.dv.setUint8(o, v & 0xff);
    return this;
  }
  u16(o: number, v: number): this {
    this.dv.setUint16(o, v & 0xffff, true);
    return this;
  }
  u32(o: number, v: number): this {
    this.dv.setUint32(o, v >>> 0, true);
    return this;
  }
  /** 64-bit from a number (negative = two's complement) or bigint. */
  u64(o: number, v: number | bigint): this {
    this.dv.setBigUint64(o, BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(Math.trunc(v))), true);
    return this;
  }
  str(o: number, s: string | Uint8Array, max: number): this {
    const b = typeof s === 'string' ? enc.encode(s) : s;
    this.bytes.set(b.subarray(0, max), o);
    return this;
  }
}

/** Block the thread for ms milliseconds (a question to the host: see hostlog.ts). */
export { sleepMs } from '../hostlog.js';

/** Monotonic clock in nanoseconds (CLOCK_MONOTONIC). */
export function monoNs(): bigint {
  return hrtimeNs();
}

/** Wall clock in nanoseconds (CLOCK_REALTIME), monotonic-smooth from process start. */
export function realNs(): bigint {
  return REALTIME_BASE_NS + hrtimeNs();
}

/** Split nanoseconds into [sec, nsec] (floor division). */
export function splitNs(ns: bigint): [bigint, bigint] {
  let s = ns / 1000000000n;
  let n = ns % 1000000000n;
  if (n < 0n) {
    n += 1000000000n;
    s -= 1n;
  }
  return [s, n];
}

/** Write a struct timespec. */
export function writeTimespec(mem: Memory, addr: number, ns: bigint): void {
  const [s, n] = splitNs(ns);
  writeMem(mem, addr, new Struct(16).u64(0, s).u64(8, n).bytes);
}

/** Write a struct timeval from nanoseconds. */
export function writeTimeval(mem: Memory, addr: number, ns: bigint): void {
  const [s, n] = splitNs(ns);
  writeMem(mem, addr, new Struct(16).u64(0, s).u64(8, n / 1000n).bytes);
}

/** Read a struct timespec as [sec, nsec] (bigints, not validated). */
export function readTimespec(mem: Memory, addr: number): [bigint, bigint] {
  const v = readView(mem, addr, 16);
  return [v.getBigInt64(0, true), v.getBigInt64(8, true)];
}

export const SI_USER = 0;
export const SI_KERNEL = 0x80;
export const SI_QUEUE = -1;
export const SI_TIMER = -2;
export const SI_TKILL = -6;


/** Kind of a host file from its stats. */
export function kindOf(st: fs.Stats | fs.BigIntStats): FileKind {
  if (st.isFile()) return 'reg';
  if (st.isDirectory()) return 'dir';
  if (st.isCharacterDevice()) return 'chr';
  if (st.isBlockDevice()) return 'blk';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'sock';
  if (st.isSymbolicLink()) return 'lnk';
  return 'reg';
}

