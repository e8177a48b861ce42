/**
 * Our decoder compared with iced-x86, instruction by instruction: what the
 * decoder tests (test/decode.test.ts for 64-bit code, test/compat-decode.test.ts
 * for 32-bit code) share. See decode.test.ts for what is compared and why.
 */
import iced from 'iced-x86';
import * as fs from 'node:fs';
import { decode } from '../../src/cpu/decode.js';
import { Memory, PROT_EXEC, PROT_READ, PROT_USER } from '../../src/cpu/memory.js';
import { parseElf } from '../../src/kernel/loader.js';
import { CpuFault, UndefinedOpcode } from '../../src/cpu/fault.js';
import type { Insn } from '../../src/cpu/insn.js';
import { disassemble, memText, operands } from '../../src/cpu/opcodes/operands.js';

export const { Decoder, DecoderOptions, CpuidFeature, Formatter, FormatterSyntax, Mnemonic, OpKind, Register } = iced;
export type IcedInsn = ReturnType<InstanceType<typeof Decoder>['decode']>;

/** ISA classes the CPU implements (CPUID baseline + what libc may use unconditionally). */
const SUPPORTED = new Set(['INTEL8086', 'INTEL186', 'INTEL286', 'INTEL386', 'INTEL486', 'X64', 'CMOV', 'SSE', 'SSE2', 'CX8', 'CMPXCHG16B', 'MULTIBYTENOP', 'PAUSE', 'RDTSC', 'CPUID', 'FXSR', 'CET_IBT', 'SSE3', 'SSSE3', 'SSE4_1', 'FPU', 'FPU287', 'FPU387', 'CLFSH', 'SYSCALL']);
/**
 * Instructions of those classes (iced's mnemonics) that a user program cannot
 * execute or that we leave out on purpose: I/O, descriptor tables and
 * segmentation, far transfers and 32-bit returns, BCD, xlat, ud0/ud1, the x87
 * BCD loads/stores, mpsadbw, the MMX conversions cvtpi2ps/pd (whose memory
 * forms use no MMX register); and (see leftOut) MMX, control/debug registers
 * and segment register push/pop.
 */
const EXEMPT = new Set(
  'in out insb insw insd outsb outsw outsd hlt cli sti lgdt lidt sgdt sidt lldt sldt ltr str lmsw smsw clts invd wbinvd invlpg rsm rdmsr wrmsr swapgs sysenter sysexitd sysexitq sysret iret iretd monitor mwait lar lsl verr verw arpl bound les lds lss lfs lgs retf into int1 aaa aad aam aas daa das salc xlatb ud0 ud1 fbld fbstp mpsadbw cvtpi2ps cvtpi2pd'.split(' '),
);

/** Left out on purpose whatever the mnemonic: MMX registers, control and debug registers, segment registers pushed or popped, far branches. */
function leftOut(ins: IcedInsn): boolean {
  if (ins.isCallFar || ins.isCallFarIndirect || ins.isJmpFar || ins.isJmpFarIndirect) return true;
  for (let k = 0; k < ins.opCount; k++) {
    if (ins.opKind(k) !== OpKind.Register) continue;
    const r = Register[ins.opRegister(k)];
    if (/^(MM\d|CR\d+|DR\d+)$/.test(r)) return true;
    if (/^(ES|CS|SS|DS|FS|GS)$/.test(r) && /^(push|pop)/i.test(Mnemonic[ins.mnemonic])) return true;
  }
  return false;
}

/**
 * Where iced names an encoding after an extension our CPUID does not
 * advertise, the name the instruction has on our CPU: without BMI1/LZCNT an
 * F3 prefix on bsf/bsr is ignored.
 */
const OUR_NAME: Record<string, string> = { tzcnt: 'bsf', lzcnt: 'bsr' };

const IMM_BITS = new Map<number, number>([
  [OpKind.Immediate8, 8],
  [OpKind.Immediate8_2nd, 8],
  [OpKind.Immediate16, 16],
  [OpKind.Immediate32, 32],
  [OpKind.Immediate64, 64],
  [OpKind.Immediate8to16, 16],
  [OpKind.Immediate8to32, 32],
  [OpKind.Immediate8to64, 64],
  [OpKind.Immediate32to64, 64],
]);

function hexBig(v: bigint, bits: number): string {
  return '0x' + BigInt.asUintN(bits, v).toString(16);
}

function regText(r: number): string {
  return r === Register.None ? '' : Register[r].toLowerCase();
}

/** iced's operand k in the text operands.ts gives ours. */
function icedOperand(ins: IcedInsn, k: number): string {
  const kind = ins.opKind(k);
  const seg = ins.segmentPrefix === Register.FS ? 'fs' : ins.segmentPrefix === Register.GS ? 'gs' : '';
  switch (kind) {
    case OpKind.Register:
      return regText(ins.opRegister(k));
    case OpKind.NearBranch16:
    case OpKind.NearBranch32:
    case OpKind.NearBranch64:
      return hexBig(ins.nearBranchTarget, 64);
    case OpKind.Memory: {
      // a RIP-relative displacement is the absolute address, which is how our decoder resolves it
      const base = ins.memoryBase === Register.RIP || ins.memoryBase === Register.EIP ? '' : regText(ins.memoryBase);
      const index = regText(ins.memoryIndex);
      // with a 32-bit address size iced gives the displacement zero-extended; ours is sign-extended, the same address mod 2^32
      const a32 = /^e..$|^r\d+d$/.test(base) || /^e..$|^r\d+d$/.test(index);
      const disp = a32 ? Number(BigInt.asIntN(32, ins.memoryDisplacement)) : Number(ins.memoryDisplacement);
      return memText(seg, base, index, ins.memoryIndexScale, disp);
    }
    case OpKind.MemorySegRSI:
      return memText(seg, 'rsi', '', 1, 0);
    case OpKind.MemorySegESI:
      return memText(seg, 'esi', '', 1, 0);
    case OpKind.MemorySegRDI:
      return memText(seg, 'rdi', '', 1, 0);
    case OpKind.MemorySegEDI:
      return memText(seg, 'edi', '', 1, 0);
    case OpKind.MemoryESRDI:
      return memText('', 'rdi', '', 1, 0);
    case OpKind.MemoryESEDI:
      return memText('', 'edi', '', 1, 0);
  }
  const bits = IMM_BITS.get(kind);
  if (bits !== undefined) return hexBig(ins.immediate(k), bits);
  return `?${OpKind[kind]}`;
}

/** What differs between iced's decoding and ours, or null. */
function compare(ins: IcedInsn, ours: Insn): string | null {
  if (ours.len !== ins.length) return `length iced ${ins.length} ours ${ours.len}`;
  const name = Mnemonic[ins.mnemonic].toLowerCase();
  const want = OUR_NAME[name] ?? name;
  if (ours.form?.mnemonic !== want) return `mnemonic iced ${name} ours ${ours.form?.mnemonic}`;
  const theirs: string[] = [];
  for (let k = 0; k < ins.opCount; k++) theirs.push(icedOperand(ins, k));
  const mine = operands(ours);
  if (theirs.join(', ') !== mine.join(', ')) return `operands iced ${theirs.join(', ')} ours ${mine.join(', ')}`;
  return null;
}

export interface Sweep {
  checked: number;
  mismatches: string[];
  /** rejected with something other than #UD */
  notUD: string[];
  /** instructions of supported classes we reject, by mnemonic */
  missing: Map<string, number>;
}

export const intel = new Formatter(FormatterSyntax.Intel);

/** Check our decoding of the instruction iced decoded at its address in mem. */
export function check(r: Sweep, ins: IcedInsn, mem: Memory, compat = false): void {
  const at = Number(ins.ip);
  let ours: Insn | null = null;
  try {
    ours = decode(mem, at, compat);
  } catch (e) {
    if (!(e instanceof CpuFault)) throw e;
    if (!(e instanceof UndefinedOpcode) && r.notUD.length < 20) r.notUD.push(`${at.toString(16)}: ${intel.format(ins)}: vector ${e.vector}`);
  }
  if (ours !== null) {
    r.checked++;
    const diff = compare(ins, ours);
    if (diff !== null && r.mismatches.length < 30) r.mismatches.push(`${at.toString(16)}: ${intel.format(ins)} / ${disassemble(ours)}: ${diff}`);
  } else {
    const features = [...ins.cpuidFeatures()].map((f) => CpuidFeature[f]);
    const name = Mnemonic[ins.mnemonic].toLowerCase();
    if (features.every((f) => SUPPORTED.has(f)) && !EXEMPT.has(name) && !leftOut(ins)) r.missing.set(name, (r.missing.get(name) ?? 0) + 1);
  }
}

export function newSweep(): Sweep {
  return { checked: 0, mismatches: [], notUD: [], missing: new Map() };
}

/**
 * Each encoding in a slot of its own (SLOT bytes, the longest instruction
 * fits), decoded by iced-x86 at `bitness` and by ours (compat: as 32-bit
 * code); the encodings iced calls invalid are left out.
 */
export function sweepEncodings(encodings: number[][], bitness: 32 | 64): Sweep {
  const SLOT = 16, BASE = 0x10000;
  const bytes = new Uint8Array(encodings.length * SLOT);
  encodings.forEach((e, k) => bytes.set(e.slice(0, SLOT), k * SLOT));
  const mem = new Memory();
  mem.map(BASE, bytes.length + 16, PROT_READ | PROT_EXEC | PROT_USER);
  mem.poke(BASE, bytes);
  const r = newSweep();
  const d = new Decoder(bitness, bytes, DecoderOptions.None);
  for (let k = 0; k < encodings.length; k++) {
    d.position = k * SLOT;
    d.ip = BigInt(BASE + k * SLOT);
    const ins = d.decode();
    if (!ins.isInvalid) check(r, ins, mem, bitness === 32);
    ins.free();
  }
  d.free();
  return r;
}


/**
 * Every instruction of a file's executable segments, by a linear sweep: an
 * ELF32 i386 file as 32-bit (compat-mode) code, an ELF64 one as 64-bit code.
 */
export function sweepFile(file: string): Sweep & { is32: boolean } {
  const data = new Uint8Array(fs.readFileSync(file));
  const elf = parseElf(data, file);
  const r = newSweep();
  for (const p of elf.phdrs.filter((p) => p.type === 1 && p.flags & 1)) {
    const bytes = data.subarray(p.offset, p.offset + p.filesz);
    const mem = new Memory();
    mem.map(p.vaddr, bytes.length + 16, PROT_READ | PROT_EXEC | PROT_USER);
    mem.poke(p.vaddr, bytes);
    const d = new Decoder(elf.is32 ? 32 : 64, bytes, DecoderOptions.None);
    d.ip = BigInt(p.vaddr);
    while (d.canDecode) {
      const ins = d.decode();
      if (!ins.isInvalid) check(r, ins, mem, elf.is32);
      ins.free();
    }
    d.free();
  }
  return { ...r, is32: elf.is32 };
}
