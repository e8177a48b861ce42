/**
 * Shifts, rotates, double shifts and bit instructions (bt/bts/btr/btc, bsf/bsr).
 * Flags are materialized explicitly: shifts define CF/OF through the bits that
 * fall out, which the lazy-flag operations do not model.
 */
import { CPU, CF, OF, PF, ZF, SF, AF, RCX } from '../cpu.js';
import type { Insn } from '../insn.js';

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, p = 4; // PF bit value when even parity
  while (b) {
    p ^= (b & 1) << 2;
    b >>= 1;
  }
  PARITY[i] = p;
}

let H = 0; // high half of the last 64-bit helper result

function shl64(lo: number, hi: number, n: number): number {
  if (n === 0) {
    H = hi;
    return lo;
  }
  if (n < 32) {
    H = (hi << n) | (lo >>> (32 - n));
    return lo << n;
  }
  H = lo << (n - 32);
  return 0;
}
function shr64(lo: number, hi: number, n: number): number {
  if (n === 0) {
    H = hi;
    return lo;
  }
  if (n < 32) {
    H = hi >>> n;
    return (lo >>> n) | (hi << (32 - n));
  }
  H = 0;
  return hi >>> (n - 32);
}
function sar64(lo: number, hi: number, n: number): number {
  if (n === 0) {
    H = hi;
    return lo;
  }
  if (n < 32) {
    H = hi >> n;
    return (lo >>> n) | (hi << (32 - n));
  }
  H = hi >> 31;
  return hi >> (n - 32);
}
function bit64(lo: number, hi: number, k: number): number {
  return k < 32 ? (lo >>> k) & 1 : (hi >>> (k - 32)) & 1;
}

/** ZF, SF and PF of a result of the given size. */
export function szp(size: number, lo: number, hi: number): number {
  let f = PARITY[lo & 0xff];
  if (size === 8) {
    if ((lo | hi) === 0) f |= ZF;
    if (hi < 0) f |= SF;
  } else {
    const bits = size * 8;
    const m = bits === 32 ? lo : lo & ((1 << bits) - 1);
    if (m === 0) f |= ZF;
    if ((lo >>> (bits - 1)) & 1) f |= SF;
  }
  return f;
}

function msb(size: number, lo: number, hi: number): number {
  return size === 8 ? hi >>> 31 : (lo >>> (size * 8 - 1)) & 1;
}

function maskv(size: number, v: number): number {
  return size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v | 0;
}

/** Shift or rotate value (lo,hi) of `size` by count n (already masked, n > 0). Result lo; hi in cpu.hi. */
function shiftOp(cpu: CPU, op: number, size: number, lo: number, hi: number, n: number): number {
  const bits = size * 8;
  let r = 0, rh = 0, cf = 0, of = 0;
  switch (op) {
    case 0: // rol
    case 1: {
      // ror
      const k = n % bits;
      if (size === 8) {
        const l = op === 0 ? k : (64 - k) % 64;
        r = shl64(lo, hi, l);
        rh = H;
        const r2 = shr64(lo, hi, (64 - l) % 64);
        if (l !== 0) {
          r |= r2;
          rh |= H;
        }
      } else {
        const v = maskv(size, lo) >>> 0;
        const l = op === 0 ? k : (bits - k) % bits;
        r = l === 0 ? v : maskv(size, (v << l) | (v >>> (bits - l)));
      }
      if (op === 0) {
        cf = r & 1;
        of = msb(size, r, rh) ^ cf;
      } else {
        cf = msb(size, r, rh);
        of = cf ^ (size === 8 ? (rh >>> 30) & 1 : (r >>> (bits - 2)) & 1);
      }
      cpu.setArith(CF | OF, cf | (of << 11));
      cpu.hi = rh;
      return r;
    }
    case 2: // rcl
    case 3: {
      // rcr
      let k = size === 1 ? n % 9 : size === 2 ? n % 17 : n;
      let c = cpu.getCF();
      r = lo;
      rh = hi;
      while (k-- > 0) {
        if (op === 2) {
          const out = msb(size, r, rh);
          if (size === 8) {
            r = shl64(r, rh, 1) | c;
            rh = H;
          } else r = maskv(size, (r << 1) | c);
          c = out;
        } else {
          const out = r & 1;
          if (size === 8) {
            r = shr64(r, rh, 1);
            rh = H | (c << 31);
          } else r = maskv(size, ((maskv(size, r) >>> 0) >>> 1) | (c << (bits - 1)));
          c = out;
        }
      }
      cf = c;
      of = op === 2 ? msb(size, r, rh) ^ cf : msb(size, r, rh) ^ (size === 8 ? (rh >>> 30) & 1 : (r >>> (bits - 2)) & 1);
      cpu.setArith(CF | OF, cf | (of << 11));
      cpu.hi = rh;
      return r;
    }
    case 4: // shl
    case 6:
      if (size === 8) {
        cf = bit64(lo, hi, 64 - n);
        r = shl64(lo, hi, n);
        rh = H;
      } else {
        const v = maskv(size, lo) >>> 0;
        cf = n <= bits ? (v >>> (bits - n)) & 1 : 0;
        r = n < 32 ? maskv(size, v << n) : 0;
      }
      of = msb(size, r, rh) ^ cf;
      break;
    case 5: // shr
      if (size === 8) {
        cf = bit64(lo, hi, n - 1);
        r = shr64(lo, hi, n);
        rh = H;
      } else {
        const v = maskv(size, lo) >>> 0;
        cf = n <= 32 ? (v >>> (n - 1)) & 1 : 0;
        r = n < 32 ? maskv(size, v >>> n) : 0;
      }
      of = msb(size, lo, hi);
      break;
    default: {
      // sar
      if (size === 8) {
        cf = bit64(lo, hi, n - 1);
        r = sar64(lo, hi, n);
        rh = H;
      } else {
        const s = 32 - bits;
        const v = (lo << s) >> s; // sign-extended
        const m = n > 31 ? 31 : n;
        cf = (v >> (m - 1)) & 1;
        if (n > bits) cf = v < 0 ? 1 : 0;
        r = maskv(size, v >> m);
      }
      of = 0;
      break;
    }
  }
  cpu.setResult(size, r, rh, cf | (of << 11));
  cpu.hi = rh;
  return r;
}

function shiftCount(cpu: CPU, i: Insn): number {
  // i.imm2: 0 = by 1, 1 = by imm8, 2 = by CL
  const c = i.imm2 === 0 ? 1 : i.imm2 === 1 ? i.imm : cpu.rl[RCX];
  return c & (i.size === 8 ? 63 : 31);
}

/** Group 2: rol/ror/rcl/rcr/shl/shr/sal/sar r/m by 1, imm8 or CL. */
export function grp2(cpu: CPU, i: Insn): void {
  const n = shiftCount(cpu, i);
  const lo = cpu.readRM(i);
  const hi = cpu.hi;
  if (n === 0) {
    if (i.size === 4 && i.rm >= 0) cpu.rh[i.rm] = 0; // a 32-bit destination is written (zero-extended) even by a count of 0
    return;
  }
  const r = shiftOp(cpu, i.sub, i.size, lo, hi, n);
  cpu.writeRM(i, r, cpu.hi);
}

/** shld/shrd r/m, reg, imm8|CL (sub 0 = shld, 1 = shrd; imm2 1 = imm, 2 = CL). */
export function shxd(cpu: CPU, i: Insn): void {
  const size = i.size;
  const n = (i.imm2 === 1 ? i.imm : cpu.rl[RCX]) & (size === 8 ? 63 : 31);
  const d = cpu.readRM(i);
  const dh = cpu.hi;
  if (n === 0) {
    if (size === 4 && i.rm >= 0) cpu.rh[i.rm] = 0;
    return;
  }
  const s = cpu.getReg(i.reg, size);
  const sh = size === 8 ? cpu.rh[i.reg] : 0;
  let r: number, rh = 0, cf: number;
  if (size === 8) {
    if (i.sub === 0) {
      cf = bit64(d, dh, 64 - n);
      r = shl64(d, dh, n);
      rh = H;
      r |= shr64(s, sh, 64 - n);
      rh |= H;
    } else {
      cf = bit64(d, dh, n - 1);
      r = shr64(d, dh, n);
      rh = H;
      r |= shl64(s, sh, 64 - n);
      rh |= H;
    }
  } else if (size === 4) {
    if (i.sub === 0) {
      cf = (d >>> (32 - n)) & 1;
      r = (d << n) | (s >>> (32 - n));
    } else {
      cf = (d >>> (n - 1)) & 1;
      r = (d >>> n) | (s << (32 - n));
    }
  } else {
    // 16-bit: shift the 32-bit concatenation (counts > 16 are undefined)
    if (i.sub === 0) {
      const x = ((d & 0xffff) << 16) | (s & 0xffff);
      const y = n < 32 ? x << n : 0;
      cf = (x >>> (32 - n)) & 1;
      r = (y >>> 16) & 0xffff;
      if (n > 16) r = ((((d & 0xffff) << 16) | (s & 0xffff)) >>> (32 - n)) & 0xffff;
    } else {
      const x = ((s & 0xffff) << 16) | (d & 0xffff);
      cf = (x >>> (n - 1)) & 1;
      r = (x >>> n) & 0xffff;
    }
  }
  const of = msb(size, r, rh) ^ msb(size, d, dh);
  cpu.writeRM(i, r, rh);
  cpu.setResult(size, r, rh, cf | (of << 11));
}

/**
 * bt/bts/btr/btc (sub 4..7 as in group 8). With a register bit offset and a
 * memory operand, the offset is signed and selects a word beyond the operand.
 */
export function bitTest(cpu: CPU, i: Insn): void {
  const size = i.size;
  const bits = size * 8;
  let off: number;
  let addr = 0;
  const isImm = i.opc === 0x1ba;
  if (isImm) off = i.imm & (bits - 1);
  else if (i.rm >= 0) off = cpu.rl[i.reg] & (bits - 1);
  else {
    // signed offset: whole register
    const full = size === 8 ? cpu.getNum(i.reg) : size === 4 ? cpu.rl[i.reg] : (cpu.rl[i.reg] << 16) >> 16;
    const word = Math.floor(full / bits);
    off = full - word * bits;
    addr = cpu.ea(i) + word * size;
  }
  let v: number, vh: number;
  if (i.rm >= 0) {
    v = cpu.getReg(i.rm, size);
    vh = size === 8 ? cpu.hi : 0;
  } else {
    if (isImm) addr = cpu.ea(i);
    v = cpu.readMem(addr, size);
    vh = size === 8 ? cpu.hi : 0;
  }
  const cf = off < 32 ? (v >>> off) & 1 : (vh >>> (off - 32)) & 1;
  const op = i.sub;
  if (op !== 4) {
    const m = off < 32 ? 1 << off : 0;
    const mh = off >= 32 ? 1 << (off - 32) : 0;
    if (op === 5) {
      v |= m;
      vh |= mh;
    } else if (op === 6) {
      v &= ~m;
      vh &= ~mh;
    } else {
      v ^= m;
      vh ^= mh;
    }
    if (i.rm >= 0) cpu.setReg(i.rm, size, v, vh);
    else cpu.writeMem(addr, size, v, vh);
  }
  cpu.setArith(CF, cf);
}

/** bsf (sub 0) / bsr (sub 1). A zero source sets ZF and leaves the destination unchanged. */
export function bsfr(cpu: CPU, i: Insn): void {
  const size = i.size;
  const v = cpu.readRM(i);
  const vh = size === 8 ? cpu.hi : 0;
  const lo = size === 1 ? v & 0xff : size === 2 ? v & 0xffff : v;
  if ((lo | vh) === 0) {
    cpu.setArith(ZF, ZF);
    return;
  }
  let idx: number;
  if (i.sub === 0) {
    idx = lo !== 0 ? 31 - Math.clz32(lo & -lo) : 32 + 31 - Math.clz32(vh & -vh);
  } else {
    idx = vh !== 0 ? 63 - Math.clz32(vh) : 31 - Math.clz32(lo);
  }
  cpu.setReg(i.reg, size, idx, 0);
  cpu.setArith(ZF, 0);
}
