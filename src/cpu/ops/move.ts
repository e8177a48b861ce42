/**
 * Data movement: mov forms, movzx/movsx/movsxd, lea, xchg, cmpxchg, xadd,
 * bswap, movbe, cmovcc, setcc, push/pop, flags transfer, enter/leave.
 */
import { CPU, FlOp, RAX, RBP, RSP, CF, PF, AF, ZF, SF, TF, DF, OF, NT, AC, ID, IF, IOPL } from '../cpu.js';
import type { Insn } from '../insn.js';
import { alu, Alu } from './alu.js';

/** mov r/m, reg */
export function movEG(cpu: CPU, i: Insn): void {
  const v = cpu.getReg(i.reg, i.size);
  cpu.storeRM(i, v, i.size === 8 ? cpu.rh[i.reg] : 0);
}

/** mov reg, r/m */
export function movGE(cpu: CPU, i: Insn): void {
  const v = cpu.readRM(i);
  cpu.setReg(i.reg, i.size, v, cpu.hi);
}

/** mov reg64, reg64 (the most common instruction; no size dispatch) */
export function movRR64(cpu: CPU, i: Insn): void {
  cpu.rl[i.reg] = cpu.rl[i.rm];
  cpu.rh[i.reg] = cpu.rh[i.rm];
}

/** mov r/m64, reg64 with a register r/m (89 register form) */
export function movRR64toRM(cpu: CPU, i: Insn): void {
  cpu.rl[i.rm] = cpu.rl[i.reg];
  cpu.rh[i.rm] = cpu.rh[i.reg];
}

/** mov r/m, Sreg (8C; sub = the segment register): a register destination is zero-extended. */
export function movFromSreg(cpu: CPU, i: Insn): void {
  const s = i.sub < 6 ? cpu.seg[i.sub] : 0;
  if (i.rm >= 0) cpu.setReg(i.rm, i.size === 2 ? 2 : 4, s, 0);
  else cpu.writeMem(cpu.ea(i), 2, s, 0);
}

/** mov reg64, [mem] */
export function movRM64(cpu: CPU, i: Insn): void {
  const lo = cpu.mem.read64(cpu.ea(i));
  cpu.rl[i.reg] = lo;
  cpu.rh[i.reg] = cpu.mem.hi;
}

/** mov [mem], reg64 */
export function movMR64(cpu: CPU, i: Insn): void {
  cpu.mem.write64(cpu.ea(i), cpu.rl[i.reg], cpu.rh[i.reg]);
}

/** mov reg32, [mem] */
export function movRM32(cpu: CPU, i: Insn): void {
  cpu.rl[i.reg] = cpu.mem.read32(cpu.ea(i));
  cpu.rh[i.reg] = 0;
}

/** mov r/m, imm (C6/C7; imm sign-extended for 64-bit) */
export function movEI(cpu: CPU, i: Insn): void {
  cpu.storeRM(i, i.imm, i.immHi);
}

/** mov reg, imm (B0-BF): i.reg holds the register */
export function movRI(cpu: CPU, i: Insn): void {
  cpu.setReg(i.reg, i.size, i.imm, i.immHi);
}

/** movzx reg, r/m8|16 (sub = source size) */
export function movzx(cpu: CPU, i: Insn): void {
  const v = cpu.readRMsize(i, i.sub);
  cpu.setReg(i.reg, i.size, v, 0);
}

/** movsx reg, r/m8|16 and movsxd reg, r/m32 (sub = source size) */
export function movsx(cpu: CPU, i: Insn): void {
  let v = cpu.readRMsize(i, i.sub);
  if (i.sub === 1) v = (v << 24) >> 24;
  else if (i.sub === 2) v = (v << 16) >> 16;
  cpu.setReg(i.reg, i.size, v, v >> 31);
}

/** lea: exact 64-bit arithmetic on the halves (compilers use it for multiplication). */
export function lea(cpu: CPU, i: Insn): void {
  let lo: number, hi: number;
  if (i.base < 0 && i.index < 0) {
    const v = i.disp;
    hi = Math.floor(v / 4294967296);
    lo = (v - hi * 4294967296) | 0;
  } else {
    let l = i.disp >>> 0;
    hi = i.disp >> 31;
    if (i.base >= 0) {
      l += cpu.rl[i.base] >>> 0;
      hi += cpu.rh[i.base];
    }
    if (i.index >= 0) {
      const s = i.scale === 1 ? 0 : i.scale === 2 ? 1 : i.scale === 4 ? 2 : 3;
      const xl = cpu.rl[i.index], xh = cpu.rh[i.index];
      l += (xl << s) >>> 0;
      hi += s === 0 ? xh : (xh << s) | (xl >>> (32 - s));
    }
    hi = (hi + Math.floor(l / 4294967296)) | 0;
    lo = l | 0;
  }
  if (i.asize === 4) hi = 0;
  cpu.setReg(i.reg, i.size, lo, hi);
}

/** xchg r/m, reg (and 90+r with rm = RAX) */
export function xchg(cpu: CPU, i: Insn): void {
  const size = i.size;
  const a = cpu.readRM(i);
  const ah = cpu.hi;
  const b = cpu.getReg(i.reg, size);
  const bh = size === 8 ? cpu.rh[i.reg] : 0;
  cpu.writeRM(i, b, bh);
  cpu.setReg(i.reg, size, a, ah);
}

/** cmpxchg r/m, reg: compare with rAX; equal: r/m = reg, else rAX = r/m. */
export function cmpxchg(cpu: CPU, i: Insn): void {
  const size = i.size;
  const d = cpu.readRM(i);
  const dh = size === 8 ? cpu.hi : 0;
  const a = cpu.getReg(RAX, size);
  const ah = size === 8 ? cpu.rh[RAX] : 0;
  alu(cpu, Alu.CMP, size, a, ah, d, dh);
  if (cpu.getZF()) cpu.writeRM(i, cpu.getReg(i.reg, size), size === 8 ? cpu.rh[i.reg] : 0);
  else {
    if (i.rm < 0) cpu.writeRM(i, d, dh); // the locked cycle writes back
    cpu.setReg(RAX, size, d, dh);
  }
}

/** cmpxchg16b m128 (0F C7 /1 with REX.W) and cmpxchg8b m64. */
export function cmpxchg8b16b(cpu: CPU, i: Insn): void {
  const a = cpu.ea(i);
  if (i.size === 8) {
    const l0 = cpu.mem.read64(a), h0 = cpu.mem.hi;
    const l1 = cpu.mem.read64(a + 8), h1 = cpu.mem.hi;
    if (l0 === cpu.rl[0] && h0 === cpu.rh[0] && l1 === cpu.rl[2] && h1 === cpu.rh[2]) {
      cpu.mem.write64(a, cpu.rl[3], cpu.rh[3]);
      cpu.mem.write64(a + 8, cpu.rl[1], cpu.rh[1]);
      cpu.setArith(ZF, ZF);
    } else {
      cpu.mem.write64(a, l0, h0);
      cpu.set64(0, l0, h0);
      cpu.set64(2, l1, h1);
      cpu.setArith(ZF, 0);
    }
  } else {
    const lo = cpu.mem.read32(a), hi = cpu.mem.read32(a + 4);
    if (lo === cpu.rl[0] && hi === cpu.rl[2]) {
      cpu.mem.write32(a, cpu.rl[3]);
      cpu.mem.write32(a + 4, cpu.rl[1]);
      cpu.setArith(ZF, ZF);
    } else {
      cpu.setReg(0, 4, lo, 0);
      cpu.setReg(2, 4, hi, 0);
      cpu.setArith(ZF, 0);
    }
  }
}

/** xadd r/m, reg */
export function xadd(cpu: CPU, i: Insn): void {
  const size = i.size;
  const d = cpu.readRM(i);
  const dh = size === 8 ? cpu.hi : 0;
  const s = cpu.getReg(i.reg, size);
  const sh = size === 8 ? cpu.rh[i.reg] : 0;
  const r = alu(cpu, Alu.ADD, size, d, dh, s, sh);
  const rh = cpu.hi;
  cpu.writeRM(i, r, rh);
  cpu.setReg(i.reg, size, d, dh);
}

function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

/** bswap reg (reg in i.reg) */
export function bswap(cpu: CPU, i: Insn): void {
  const r = i.reg;
  if (i.size === 8) cpu.set64(r, bswap32(cpu.rh[r]), bswap32(cpu.rl[r]));
  else if (i.size === 4) cpu.setReg(r, 4, bswap32(cpu.rl[r]), 0);
  else cpu.setReg(r, 2, 0, 0); // 16-bit bswap is undefined; hardware gives 0
}

/** cmovcc reg, r/m (sub = condition). The source is always read; a 32-bit destination is always zero-extended. */
export function cmov(cpu: CPU, i: Insn): void {
  const v = cpu.readRM(i);
  const vh = cpu.hi;
  if (cpu.cond(i.sub)) cpu.setReg(i.reg, i.size, v, vh);
  else if (i.size === 4) cpu.rh[i.reg] = 0;
}

/** setcc r/m8 */
export function setcc(cpu: CPU, i: Insn): void {
  cpu.storeRM(i, cpu.cond(i.sub) ? 1 : 0, 0);
}

/** push reg (i.reg) */
export function pushR(cpu: CPU, i: Insn): void {
  if (i.size === 2) {
    const sp = cpu.getNum(RSP) - 2;
    cpu.mem.write16(sp, cpu.rl[i.reg]);
    cpu.setNum(RSP, sp);
    return;
  }
  cpu.push64(cpu.rl[i.reg], cpu.rh[i.reg]);
}

/** pop reg (i.reg) */
export function popR(cpu: CPU, i: Insn): void {
  if (i.size === 2) {
    const sp = cpu.getNum(RSP);
    const v = cpu.mem.read16(sp);
    cpu.setNum(RSP, sp + 2);
    cpu.setReg(i.reg, 2, v, 0);
    return;
  }
  const lo = cpu.pop64();
  cpu.set64(i.reg, lo, cpu.hi);
}

/** push imm (pushw with a 0x66 prefix) */
export function pushI(cpu: CPU, i: Insn): void {
  if (i.size === 2) {
    const sp = cpu.getNum(RSP) - 2;
    cpu.mem.write16(sp, i.imm);
    cpu.setNum(RSP, sp);
    return;
  }
  cpu.push64(i.imm, i.immHi);
}

/** push r/m64 (FF /6) */
export function pushE(cpu: CPU, i: Insn): void {
  if (i.size === 2) {
    const v = cpu.readRMsize(i, 2);
    const sp = cpu.getNum(RSP) - 2;
    cpu.mem.write16(sp, v);
    cpu.setNum(RSP, sp);
    return;
  }
  const lo = cpu.readRMsize(i, 8);
  cpu.push64(lo, cpu.hi);
}

/** pop r/m64 (8F /0): the address is computed after RSP is incremented, as on hardware. */
export function popE(cpu: CPU, i: Insn): void {
  const sp = cpu.getNum(RSP);
  const size = i.size === 2 ? 2 : 8;
  const lo = cpu.readMem(sp, size);
  const hi = size === 8 ? cpu.hi : 0;
  cpu.setNum(RSP, sp + size);
  try {
    if (i.rm >= 0) cpu.setReg(i.rm, size, lo, hi);
    else cpu.writeMem(cpu.ea(i), size, lo, hi);
  } catch (e) {
    cpu.setNum(RSP, sp);
    throw e;
  }
}

/** pushfq: RF and VM read as 0. */
export function pushf(cpu: CPU, i: Insn): void {
  if (i.size === 2) {
    // pushfw (66 9C): FLAGS, the low 16 bits, in 2 bytes
    const sp = cpu.getNum(RSP) - 2;
    cpu.mem.write16(sp, cpu.getFlags());
    cpu.setNum(RSP, sp);
    return;
  }
  cpu.push64(cpu.getFlags() & ~0x30000, 0);
}

/** popfq: at CPL 3, IF and IOPL keep their values; popfw (66 9D) pops 2 bytes into FLAGS and keeps the upper half. */
export function popf(cpu: CPU, i: Insn): void {
  let v: number;
  let user = CF | PF | AF | ZF | SF | TF | DF | OF | NT | AC | ID;
  if (i.size === 2) {
    const sp = cpu.getNum(RSP);
    v = cpu.mem.read16(sp);
    cpu.setNum(RSP, sp + 2);
    user &= 0xffff;
  } else v = cpu.pop64();
  const mask = cpu.cpl === 0 ? (user | IF | IOPL) & (i.size === 2 ? 0xffff : -1) : user;
  cpu.setFlags((cpu.getFlags() & ~mask) | (v & mask));
}

export function lahf(cpu: CPU, _i: Insn): void {
  const f = cpu.getFlags();
  cpu.setReg(16 + RAX, 1, (f & (SF | ZF | AF | PF | CF)) | 2, 0);
}

export function sahf(cpu: CPU, _i: Insn): void {
  const ah = (cpu.rl[RAX] >> 8) & 0xff;
  cpu.setArith(SF | ZF | AF | PF | CF, ah);
}

/** leave: rsp = rbp; pop rbp */
export function leave(cpu: CPU, _i: Insn): void {
  const bp = cpu.getNum(RBP);
  const lo = cpu.mem.read64(bp);
  const hi = cpu.mem.hi;
  cpu.setNum(RSP, bp + 8);
  cpu.set64(RBP, lo, hi);
}

/** enter imm16, imm8 */
export function enter(cpu: CPU, i: Insn): void {
  const size = i.imm & 0xffff;
  const level = i.imm2 & 31;
  let sp = cpu.getNum(RSP) - 8;
  cpu.mem.write64(sp, cpu.rl[RBP], cpu.rh[RBP]);
  const frame = sp;
  let bp = cpu.getNum(RBP);
  for (let k = 1; k < level; k++) {
    bp -= 8;
    const lo = cpu.mem.read64(bp);
    sp -= 8;
    cpu.mem.write64(sp, lo, cpu.mem.hi);
  }
  if (level > 0) {
    sp -= 8;
    cpu.mem.write64(sp, frame % 4294967296 | 0, Math.floor(frame / 4294967296));
  }
  cpu.setNum(RBP, frame);
  cpu.setNum(RSP, sp - size);
}

/** mov al/ax/eax/rax, [moffs] (A0/A1) and the store form (A2/A3; sub = 1). */
export function movMoffs(cpu: CPU, i: Insn): void {
  let a = i.disp;
  if (i.seg !== 0) a += i.seg === 1 ? cpu.fsBase : cpu.gsBase;
  if (i.sub === 0) {
    const v = cpu.readMem(a, i.size);
    cpu.setReg(RAX, i.size, v, cpu.hi);
  } else cpu.writeMem(a, i.size, cpu.getReg(RAX, i.size), cpu.rh[RAX]);
}

export function clc(cpu: CPU, _i: Insn): void {
  cpu.setArith(CF, 0);
}
export function stc(cpu: CPU, _i: Insn): void {
  cpu.setArith(CF, CF);
}
export function cmc(cpu: CPU, _i: Insn): void {
  cpu.setArith(CF, cpu.getCF() ^ 1);
}
export function cld(cpu: CPU, _i: Insn): void {
  cpu.flags &= ~DF;
}
export function std(cpu: CPU, _i: Insn): void {
  cpu.flags |= DF;
}

export function nop(_cpu: CPU, _i: Insn): void {}

export { FlOp };

/** movbe reg, m (0F 38 F0): a load with the bytes reversed */
export function movbeLoad(cpu: CPU, i: Insn): void {
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

/** movbe m, reg (0F 38 F1) */
export function movbeStore(cpu: CPU, i: Insn): void {
  const a = cpu.ea(i);
  if (i.size === 2) {
    const v = cpu.rl[i.reg];
    cpu.mem.write16(a, ((v >> 8) & 0xff) | ((v & 0xff) << 8));
  } else if (i.size === 8) cpu.mem.write64(a, bswap32(cpu.rh[i.reg]), bswap32(cpu.rl[i.reg]));
  else cpu.mem.write32(a, bswap32(cpu.rl[i.reg]));
}
