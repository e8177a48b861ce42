/**
 * The instructions whose behaviour in compat mode (a 32-bit code segment)
 * differs from 64-bit mode: the stack moves by 4 bytes through ESP, near
 * branches and returns carry a 32-bit EIP, pusha/popa exist, segment
 * registers load their bases from descriptors (segment.ts), and `int $0x80`
 * is the i386 system call gate. The decoder picks these forms through
 * opcodes/compat.ts; everything else runs the 64-bit handlers, which read the
 * operand and address sizes from the decoded instruction.
 */
import { CPU, RAX, RBP, RSP, CF, PF, AF, ZF, SF, TF, DF, OF, NT, AC, ID, IF, IOPL } from '../cpu.js';
import { CpuFault, Vector } from '../fault.js';
import type { Insn } from '../insn.js';
import { CS, FS, GS, SS } from '../segment.js';
import { softInterrupt } from '../interrupt.js';
import { sysenterArch, syscallArch } from './system.js';

const TWO32 = 4294967296;

function esp(cpu: CPU): number {
  return cpu.rl[RSP] >>> 0;
}

function setEsp(cpu: CPU, v: number): void {
  cpu.rl[RSP] = v | 0;
  cpu.rh[RSP] = 0;
}

/** push a dword (or a word for size 2): the store first, so a fault leaves ESP as it was. */
function pushSized(cpu: CPU, size: number, v: number): void {
  const sp = (esp(cpu) - size) >>> 0;
  if (size === 2) cpu.mem.write16(sp, v);
  else cpu.mem.write32(sp, v);
  setEsp(cpu, sp);
}

export function push32(cpu: CPU, v: number): void {
  pushSized(cpu, 4, v);
}

function popSized(cpu: CPU, size: number): number {
  const sp = esp(cpu);
  const v = size === 2 ? cpu.mem.read16(sp) : cpu.mem.read32(sp);
  setEsp(cpu, sp + size);
  return v;
}

export function pop32(cpu: CPU): number {
  return popSized(cpu, 4);
}

/** push r32 (50+r) */
export function pushR(cpu: CPU, i: Insn): void {
  pushSized(cpu, i.size, cpu.rl[i.reg]);
}

/** pop r32 (58+r): ESP moves first, so `pop %esp` loads the popped value. */
export function popR(cpu: CPU, i: Insn): void {
  const v = popSized(cpu, i.size);
  cpu.setReg(i.reg, i.size, v, 0);
}

/** push imm (68, 6A) */
export function pushI(cpu: CPU, i: Insn): void {
  pushSized(cpu, i.size, i.imm);
}

/** push r/m (FF /6) */
export function pushE(cpu: CPU, i: Insn): void {
  pushSized(cpu, i.size, cpu.readRMsize(i, i.size));
}

/** pop r/m (8F /0): the address is computed after ESP is incremented, as on hardware. */
export function popE(cpu: CPU, i: Insn): void {
  const sp = esp(cpu);
  const v = i.size === 2 ? cpu.mem.read16(sp) : cpu.mem.read32(sp);
  setEsp(cpu, sp + i.size);
  try {
    if (i.rm >= 0) cpu.setReg(i.rm, i.size, v, 0);
    else cpu.writeMem(cpu.ea(i), i.size, v, 0);
  } catch (e) {
    setEsp(cpu, sp);
    throw e;
  }
}

/** pushfd: RF and VM read as 0. */
export function pushf(cpu: CPU, i: Insn): void {
  pushSized(cpu, i.size, cpu.getFlags() & ~0x30000);
}

/** popfd: at CPL 3, IF and IOPL keep their values (a 16-bit popf keeps the upper half). */
export function popf(cpu: CPU, i: Insn): void {
  const v = popSized(cpu, i.size);
  let mask = CF | PF | AF | ZF | SF | TF | DF | OF | NT | AC | ID;
  if (cpu.cpl === 0) mask |= IF | IOPL;
  if (i.size === 2) mask &= 0xffff;
  cpu.setFlags((cpu.getFlags() & ~mask) | (v & mask));
}

/** pushad (pushaw with 66): EAX, ECX, EDX, EBX, the original ESP, EBP, ESI, EDI. */
export function pusha(cpu: CPU, i: Insn): void {
  const size = i.size, sp = esp(cpu);
  const top = (sp - 8 * size) >>> 0;
  for (let r = 0; r < 8; r++) {
    const v = r === RSP ? sp : cpu.rl[r];
    const a = (top + (7 - r) * size) >>> 0;
    if (size === 2) cpu.mem.write16(a, v);
    else cpu.mem.write32(a, v);
  }
  setEsp(cpu, top);
}

/** popad: the reverse, skipping the saved ESP. */
export function popa(cpu: CPU, i: Insn): void {
  const size = i.size, sp = esp(cpu);
  const vals: number[] = [];
  for (let r = 0; r < 8; r++) {
    const a = (sp + (7 - r) * size) >>> 0;
    vals.push(size === 2 ? cpu.mem.read16(a) : cpu.mem.read32(a));
  }
  for (let r = 0; r < 8; r++) if (r !== RSP) cpu.setReg(r, size, vals[r], 0);
  setEsp(cpu, sp + 8 * size);
}

/**
 * Near branches: EIP wraps at 4 GiB; with a 16-bit operand size (66) the
 * return address pushed or popped is a word and the target is truncated to 16
 * bits (the decoder already truncated relative targets).
 */
export function callRel(cpu: CPU, i: Insn): void {
  pushSized(cpu, i.size, i.next);
  cpu.nextRip = i.disp >>> 0;
}

export function jmpRel(cpu: CPU, i: Insn): void {
  cpu.nextRip = i.disp >>> 0;
}

/** call r/m32 (FF /2) */
export function callE(cpu: CPU, i: Insn): void {
  const t = cpu.readRMsize(i, i.size) >>> 0;
  pushSized(cpu, i.size, i.next);
  cpu.nextRip = t;
}

/** jmp r/m32 (FF /4) */
export function jmpE(cpu: CPU, i: Insn): void {
  cpu.nextRip = cpu.readRMsize(i, i.size) >>> 0;
}

/** ret and ret imm16 */
export function ret(cpu: CPU, i: Insn): void {
  const sp = esp(cpu);
  const t = i.size === 2 ? cpu.mem.read16(sp) : cpu.mem.read32(sp) >>> 0;
  setEsp(cpu, sp + i.size + (i.imm & 0xffff));
  cpu.nextRip = t;
}

/** leave: ESP = EBP; pop EBP */
export function leave(cpu: CPU, _i: Insn): void {
  const bp = cpu.rl[RBP] >>> 0;
  const v = cpu.mem.read32(bp);
  setEsp(cpu, bp + 4);
  cpu.setReg(RBP, 4, v, 0);
}

/** enter imm16, imm8 with 32-bit frames. */
export function enter(cpu: CPU, i: Insn): void {
  const size = i.imm & 0xffff;
  const level = i.imm2 & 31;
  let sp = (esp(cpu) - 4) >>> 0;
  cpu.mem.write32(sp, cpu.rl[RBP]);
  const frame = sp;
  let bp = cpu.rl[RBP] >>> 0;
  for (let k = 1; k < level; k++) {
    bp = (bp - 4) >>> 0;
    sp = (sp - 4) >>> 0;
    cpu.mem.write32(sp, cpu.mem.read32(bp));
  }
  if (level > 0) {
    sp = (sp - 4) >>> 0;
    cpu.mem.write32(sp, frame);
  }
  cpu.setReg(RBP, 4, frame, 0);
  setEsp(cpu, sp - size);
}

/** mov eax, [moffs] (A0/A1) and the store form (A2/A3; sub = 1): the linear address wraps at 4 GiB. */
export function movMoffs(cpu: CPU, i: Insn): void {
  let a = i.disp;
  if (i.seg !== 0) a = (a + (i.seg === 1 ? cpu.fsBase : cpu.gsBase)) % TWO32;
  if (i.sub === 0) cpu.setReg(RAX, i.size, cpu.readMem(a, i.size), 0);
  else cpu.writeMem(a, i.size, cpu.getReg(RAX, i.size), 0);
}

/**
 * Load data segment register `sreg` with selector `sel`: the base from the
 * descriptor (fs and gs keep theirs in fsBase/gsBase, the only ones an
 * address uses in this flat model). SS may not be null; CS is not loaded by mov.
 */
export function loadSeg(cpu: CPU, sreg: number, sel: number): void {
  sel &= 0xffff;
  if (sreg === CS || sreg > GS) throw new CpuFault(Vector.UD);
  if (sreg === SS && (sel & ~3) === 0) throw new CpuFault(Vector.GP, 0, 0);
  const base = cpu.gdt.dataBase(sel);
  if (sreg === FS) cpu.fsBase = base;
  else if (sreg === GS) cpu.gsBase = base;
  cpu.seg[sreg] = sel;
}

/** mov Sreg, r/m16 (8E) */
export function movToSreg(cpu: CPU, i: Insn): void {
  loadSeg(cpu, i.sub, cpu.readRMsize(i, 2));
}

/** push es/cs/ss/ds (06 0E 16 1E): the selector, zero-extended. */
export function pushSreg(cpu: CPU, i: Insn): void {
  pushSized(cpu, i.size, cpu.seg[i.sub]);
}

/** pop es/ss/ds (07 17 1F): the load checks the selector before ESP moves. */
export function popSreg(cpu: CPU, i: Insn): void {
  const sp = esp(cpu);
  const sel = i.size === 2 ? cpu.mem.read16(sp) : cpu.mem.read32(sp);
  loadSeg(cpu, i.sub, sel);
  setEsp(cpu, sp + i.size);
}

/**
 * int imm8 in compat mode: vector 0x80 is the i386 system call gate (DPL 3),
 * taken by the CPU's environment (the direct entry model) where it handles
 * it, else through the IDT a guest kernel loaded; int3 is #BP; any other
 * vector without a DPL 3 gate is #GP(vector << 3 | 2), which Linux turns
 * into SIGSEGV.
 */
export function intN(cpu: CPU, i: Insn): void {
  const v = i.imm & 0xff;
  if (v === 3) throw new CpuFault(Vector.BP);
  if (v === 0x80 && cpu.onInt80 !== null) {
    cpu.onInt80(cpu, i);
    return;
  }
  softInterrupt(cpu, v, i);
}

/**
 * sysenter (Intel CPUs): to CPL 0 at IA32_SYSENTER_EIP with nothing saved,
 * taken by the CPU's environment (the direct entry model) where it handles
 * it, else architecturally (system.ts: #GP(0) when IA32_SYSENTER_CS is 0).
 */
export function sysenter(cpu: CPU, i: Insn): void {
  if (cpu.onSysenter !== null) {
    cpu.onSysenter(cpu, i);
    return;
  }
  sysenterArch(cpu, i);
}

/**
 * syscall in compat mode: #UD on an Intel CPU; on an AMD one SYSCALL through
 * MSR_CSTAR where a guest kernel runs (archSyscall), else the environment's
 * hook (the direct model, which handles it in place).
 */
export function syscall32(cpu: CPU, i: Insn): void {
  if (cpu.vendor === 'GenuineIntel') throw new CpuFault(Vector.UD);
  if (cpu.archSyscall) {
    syscallArch(cpu, i);
    return;
  }
  if (cpu.onSyscall === null) throw new CpuFault(Vector.UD);
  cpu.onSyscall(cpu, i);
}

// ---- BCD arithmetic (valid only outside 64-bit mode) ----

/**
 * daa (sub 0) and das (sub 1): adjust AL after a packed-BCD add or subtract,
 * as the SDM gives them: CF from the low-digit step (the old CF or its
 * carry/borrow), set by the high-digit step.
 */
export function daaDas(cpu: CPU, i: Insn): void {
  const oldAl = cpu.rl[RAX] & 0xff, oldCf = cpu.getCF();
  const sub = i.sub === 1;
  let al = oldAl, cf = 0, af = 0;
  if ((al & 0x0f) > 9 || cpu.getAF()) {
    const t = sub ? al - 6 : al + 6;
    cf = oldCf | (t < 0 || t > 0xff ? 1 : 0);
    al = t & 0xff;
    af = 1;
  }
  if (oldAl > 0x99 || oldCf) {
    al = (sub ? al - 0x60 : al + 0x60) & 0xff;
    cf = 1;
  }
  cpu.setReg(RAX, 1, al, 0);
  // OF is undefined: this CPU reports 0
  cpu.setArith(CF | PF | AF | ZF | SF | OF, cf | (parity(al) << 2) | (af << 4) | (al === 0 ? ZF : 0) | (al & 0x80 ? SF : 0));
}

/** aaa (sub 0) and aas (sub 1): adjust AL/AH after an unpacked-BCD add or subtract. */
export function aaaAas(cpu: CPU, i: Insn): void {
  let ax = cpu.rl[RAX] & 0xffff;
  let cfaf = 0;
  if ((ax & 0x0f) > 9 || cpu.getAF()) {
    if (i.sub === 0) ax = (ax + 0x106) & 0xffff;
    else ax = (ax - 6 - 0x100) & 0xffff; // AX <- AX - 6; AH <- AH - 1 (the borrow reaches AH)
    cfaf = CF | AF;
  }
  ax &= 0xff0f;
  cpu.setReg(RAX, 2, ax, 0);
  // SF, ZF, PF and OF are undefined: this CPU computes them from AL
  const al = ax & 0xff;
  cpu.setArith(CF | PF | AF | ZF | SF | OF, cfaf | (parity(al) << 2) | (al === 0 ? ZF : 0));
}

/** aam imm8: AH = AL / imm, AL = AL % imm (#DE for 0). */
export function aam(cpu: CPU, i: Insn): void {
  const base = i.imm & 0xff;
  if (base === 0) throw new CpuFault(Vector.DE);
  const al0 = cpu.rl[RAX] & 0xff;
  const ah = Math.floor(al0 / base), al = al0 % base;
  cpu.setReg(RAX, 2, (ah << 8) | al, 0);
  cpu.setArith(CF | PF | AF | ZF | SF | OF, (parity(al) << 2) | (al === 0 ? ZF : 0) | (al & 0x80 ? SF : 0));
}

/** aad imm8: AL = AL + AH * imm, AH = 0. */
export function aad(cpu: CPU, i: Insn): void {
  const ax = cpu.rl[RAX] & 0xffff;
  const al = ((ax & 0xff) + (ax >> 8) * (i.imm & 0xff)) & 0xff;
  cpu.setReg(RAX, 2, al, 0);
  cpu.setArith(CF | PF | AF | ZF | SF | OF, (parity(al) << 2) | (al === 0 ? ZF : 0) | (al & 0x80 ? SF : 0));
}

function parity(b: number): number {
  b &= 0xff;
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  return (~b) & 1;
}
