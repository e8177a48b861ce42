/**
 * A decoded instruction. The decoder fills every field once; the instruction
 * is then cached in its basic block and executed many times by calling
 * `op(cpu, insn)`. Handlers are chosen at decode time (group opcodes are
 * resolved by their ModRM.reg field), so they carry no opcode dispatch.
 */
import type { CPU } from './cpu.js';

export type Handler = (cpu: CPU, i: Insn) => void;

/**
 * One instruction form the decoder can choose for an opcode: its name and
 * operands, and the handler that executes it. Forms are made once, by the
 * opcode tables (src/cpu/opcodes/), and shared by every Insn that decodes to them.
 */
export interface Form {
  /** Intel mnemonic in lower case, spelled as iced-x86 spells it ('movsd' for both the string and the SSE move). */
  readonly mnemonic: string;
  /** Where the handler finds its operands, in Intel order (see opcodes/operands.ts). */
  readonly operands: string;
  readonly op: Handler;
  /** I_BRANCH if this form ends a basic block (for group members; a whole opcode says so in its row). */
  readonly flags: number;
}

/** Instruction ends a basic block (it may change RIP or the machine's mode). */
export const I_BRANCH = 1;

export class Insn {
  /** Address of the instruction and of the next one. */
  addr = 0;
  next = 0;
  len = 0;
  op: Handler = null as unknown as Handler;
  /** The form the decoder chose (op is its handler, kept here too so that executing costs no extra load). */
  form: Form | null = null;
  /** Opcode: map * 256 + byte (map 0 = one-byte, 1 = 0F, 2 = 0F38, 3 = 0F3A). */
  opc = 0;
  /** Group sub-operation (ModRM.reg for group opcodes, ALU op index, condition code). */
  sub = 0;
  /** Operand size in bytes: 1, 2, 4 or 8. */
  size = 4;
  /** Address size: 8, or 4 with a 0x67 prefix. */
  asize = 8;
  /** ModRM.reg with REX.R (byte registers: 16..19 are AH, CH, DH, BH). */
  reg = 0;
  /** Register r/m operand (with REX.B), or -1 for a memory operand. */
  rm = -1;
  /** Memory operand: base register or -1, index register or -1, scale 1/2/4/8, displacement. */
  base = -1;
  index = -1;
  scale = 1;
  /** Displacement (RIP-relative operands have it resolved to an absolute address). */
  disp = 0;
  /** Segment override: 0 none, 1 fs, 2 gs. */
  seg = 0;
  /** Immediate (sign-extended to 32 bits where the encoding says so) and its high half. */
  imm = 0;
  immHi = 0;
  /** Second immediate (enter). */
  imm2 = 0;
  /** Mandatory-prefix selector for SSE: 0, 0x66, 0xf3 or 0xf2. */
  pfx = 0;
  /** Repeat prefix: 0, 0xf3 (rep/repe) or 0xf2 (repne). */
  rep = 0;
  /** REX byte, 0 if absent. */
  rex = 0;
  /** I_* flags. */
  flags = 0;
  /** Raw bytes, for reports and disassembly (the decoder gives each instruction its own). */
  bytes: readonly number[] = NO_BYTES;
}

const NO_BYTES: readonly number[] = Object.freeze([]);
