/**
 * crc32 (F2 0F 38 F0/F1): CRC-32C (Castagnoli) accumulated over 1, 2, 4 or 8
 * bytes of the source into a 32-bit general register.
 */
import type { CPU } from '../cpu.js';
import type { Insn } from '../insn.js';

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

export function crc32b(cpu: CPU, i: Insn): void {
  crc32(cpu, i, 1);
}

export function crc32v(cpu: CPU, i: Insn): void {
  crc32(cpu, i, i.size);
}
