/**
 * String instructions: movs, stos, lods, cmps, scas with rep/repe/repne.
 * A repeated instruction runs to completion in one call; registers are
 * written back after every completed iteration (in a finally block), so a
 * fault in iteration k leaves RSI/RDI/RCX as the hardware would, with RIP
 * still at the instruction; a fault in the first leaves them untouched (with
 * a 32-bit address size, not even their high halves cleared).
 */
import { CPU, FlOp, RAX, RCX, RDI, RSI, SIZE_MASK } from '../cpu.js';
import type { Insn } from '../insn.js';
import { PAGE_MASK, PAGE_SIZE } from '../memory.js';

function srcBase(cpu: CPU, i: Insn): number {
  return i.seg === 0 ? 0 : i.seg === 1 ? cpu.fsBase : cpu.gsBase;
}

/**
 * RCX as an iteration count. Counts of 2^53 and more (repne scasb with
 * RCX = -1 is the classic strlen) are capped: memory ends long before.
 */
function count(cpu: CPU, i: Insn): number {
  const n = i.asize === 4 ? cpu.rl[RCX] >>> 0 : (cpu.rh[RCX] >>> 0) * 4294967296 + (cpu.rl[RCX] >>> 0);
  return n > 2 ** 52 ? 2 ** 52 : n;
}

/** RCX -= done, exactly in 64 (or 32) bits. */
function subCount(cpu: CPU, i: Insn, done: number): void {
  if (i.asize === 4) {
    cpu.setReg(RCX, 4, (cpu.rl[RCX] - done) | 0, 0);
    return;
  }
  const dh = Math.floor(done / 4294967296);
  const l = (cpu.rl[RCX] >>> 0) - (done - dh * 4294967296);
  cpu.rh[RCX] = (cpu.rh[RCX] - dh - (l < 0 ? 1 : 0)) | 0;
  cpu.rl[RCX] = l | 0;
}

function reg(cpu: CPU, r: number, i: Insn): number {
  return i.asize === 4 ? cpu.rl[r] >>> 0 : cpu.getNum(r);
}

function setReg(cpu: CPU, r: number, v: number, i: Insn): void {
  if (i.asize === 4) cpu.setReg(r, 4, v | 0, 0);
  else cpu.setNum(r, v);
}

export function movs(cpu: CPU, i: Insn): void {
  const size = i.size;
  const step = cpu.getDF() ? -size : size;
  const base = srcBase(cpu, i);
  let si = reg(cpu, RSI, i), di = reg(cpu, RDI, i);
  if (i.rep === 0) {
    const v = cpu.readMem(base + si, size);
    cpu.writeMem(di, size, v, cpu.hi);
    setReg(cpu, RSI, si + step, i);
    setReg(cpu, RDI, di + step, i);
    return;
  }
  const n0 = count(cpu, i);
  let n = n0;
  const mem = cpu.mem;
  let ok = false;
  try {
    while (n > 0) {
      // fast path: forward copy within one page each side, no harmful overlap
      if (step > 0 && base === 0) {
        const so = si & PAGE_MASK, dof = di & PAGE_MASK;
        let k = Math.min(n * size, PAGE_SIZE - so, PAGE_SIZE - dof);
        k -= k % size;
        if (k >= 16 && (di >= si + k || di + k <= si || di <= si)) {
          const sp = mem.rpage(si), dp = mem.wpage(di);
          if (sp === dp) dp.u8.copyWithin(dof, so, so + k);
          else dp.u8.set(sp.u8.subarray(so, so + k), dof);
          si += k;
          di += k;
          n -= k / size;
          continue;
        }
      }
      const v = cpu.readMem(base + si, size);
      cpu.writeMem(di, size, v, cpu.hi);
      si += step;
      di += step;
      n--;
    }
    ok = true;
  } finally {
    // a fault in the first iteration leaves the registers as they were (the fault is precise)
    if (ok || n !== n0) {
      setReg(cpu, RSI, si, i);
      setReg(cpu, RDI, di, i);
      subCount(cpu, i, n0 - n);

    }
  }
}

export function stos(cpu: CPU, i: Insn): void {
  const size = i.size;
  const step = cpu.getDF() ? -size : size;
  const v = cpu.getReg(RAX, size);
  const vh = size === 8 ? cpu.rh[RAX] : 0;
  let di = reg(cpu, RDI, i);
  if (i.rep === 0) {
    cpu.writeMem(di, size, v, vh);
    setReg(cpu, RDI, di + step, i);
    return;
  }
  const n0 = count(cpu, i);
  let n = n0;
  const mem = cpu.mem;
  let ok = false;
  try {
    while (n > 0) {
      if (step > 0) {
        const dof = di & PAGE_MASK;
        let k = Math.min(n * size, PAGE_SIZE - dof);
        k -= k % size;
        if (k >= 16 && (size === 1 || (v === 0 && (size !== 8 || vh === 0)))) {
          mem.wpage(di).u8.fill(v & 0xff, dof, dof + k);
          di += k;
          n -= k / size;
          continue;
        }
        if (k >= 16 && size === 8) {
          const p = mem.wpage(di);
          for (let o = dof; o < dof + k; o += 8) {
            p.dv.setInt32(o, v, true);
            p.dv.setInt32(o + 4, vh, true);
          }
          di += k;
          n -= k / 8;
          continue;
        }
        if (k >= 16 && size === 4) {
          const p = mem.wpage(di);
          for (let o = dof; o < dof + k; o += 4) p.dv.setInt32(o, v, true);
          di += k;
          n -= k / 4;
          continue;
        }
      }
      cpu.writeMem(di, size, v, vh);
      di += step;
      n--;
    }
    ok = true;
  } finally {
    // a fault in the first iteration leaves the registers as they were (the fault is precise)
    if (ok || n !== n0) {
      setReg(cpu, RDI, di, i);
      subCount(cpu, i, n0 - n);

    }
  }
}

export function lods(cpu: CPU, i: Insn): void {
  const size = i.size;
  const step = cpu.getDF() ? -size : size;
  const base = srcBase(cpu, i);
  let si = reg(cpu, RSI, i);
  const n0 = i.rep === 0 ? 1 : count(cpu, i);
  let n = n0;
  let ok = false;
  try {
    while (n > 0) {
      const v = cpu.readMem(base + si, size);
      cpu.setReg(RAX, size, v, cpu.hi);
      si += step;
      n--;
    }
    ok = true;
  } finally {
    // a fault in the first iteration leaves the registers as they were (the fault is precise)
    if (ok || n !== n0) {
      setReg(cpu, RSI, si, i);
      if (i.rep !== 0) subCount(cpu, i, n0 - n);

    }
  }
}

function cmpFlags(cpu: CPU, size: number, a: number, ah: number, b: number, bh: number): boolean {
  let r: number, rh = 0;
  if (size === 8) {
    const lo = (a >>> 0) - (b >>> 0);
    rh = (ah - bh - (lo < 0 ? 1 : 0)) | 0;
    r = lo | 0;
  } else if (size === 4) r = (a - b) | 0;
  else r = (a - b) & SIZE_MASK[size];
  cpu.setLazy(FlOp.SUB, size, a, ah, b, bh, r, rh, 0);
  return (r | rh) === 0;
}

/** cmps: compare [rsi] with [rdi] */
export function cmps(cpu: CPU, i: Insn): void {
  const size = i.size;
  const step = cpu.getDF() ? -size : size;
  const base = srcBase(cpu, i);
  let si = reg(cpu, RSI, i), di = reg(cpu, RDI, i);
  const n0 = i.rep === 0 ? 1 : count(cpu, i);
  let n = n0;
  let ok = false;
  try {
    while (n > 0) {
      const a = cpu.readMem(base + si, size);
      const ah = size === 8 ? cpu.hi : 0;
      const b = cpu.readMem(di, size);
      const bh = size === 8 ? cpu.hi : 0;
      const eq = cmpFlags(cpu, size, a, ah, b, bh);
      si += step;
      di += step;
      n--;
      if (i.rep === 0xf3 && !eq) break;
      if (i.rep === 0xf2 && eq) break;
    }
    ok = true;
  } finally {
    // a fault in the first iteration leaves the registers as they were (the fault is precise)
    if (ok || n !== n0) {
      setReg(cpu, RSI, si, i);
      setReg(cpu, RDI, di, i);
      if (i.rep !== 0) subCount(cpu, i, n0 - n);

    }
  }
}

/** scas: compare rAX with [rdi] */
export function scas(cpu: CPU, i: Insn): void {
  const size = i.size;
  const step = cpu.getDF() ? -size : size;
  const a = cpu.getReg(RAX, size);
  const ah = size === 8 ? cpu.rh[RAX] : 0;
  let di = reg(cpu, RDI, i);
  const n0 = i.rep === 0 ? 1 : count(cpu, i);
  let n = n0;
  let ok = false;
  try {
    while (n > 0) {
      const b = cpu.readMem(di, size);
      const bh = size === 8 ? cpu.hi : 0;
      const eq = cmpFlags(cpu, size, a, ah, b, bh);
      di += step;
      n--;
      if (i.rep === 0xf3 && !eq) break;
      if (i.rep === 0xf2 && eq) break;
    }
    ok = true;
  } finally {
    // a fault in the first iteration leaves the registers as they were (the fault is precise)
    if (ok || n !== n0) {
      setReg(cpu, RDI, di, i);
      if (i.rep !== 0) subCount(cpu, i, n0 - n);

    }
  }
}
