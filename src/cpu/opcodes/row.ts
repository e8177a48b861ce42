/**
 * The shape of the opcode tables: one-byte.ts, two-byte.ts (0F),
 * three-byte-38.ts (0F 38), three-byte-3a.ts (0F 3A), and x87.ts for the
 * escape opcodes D8-DF keyed by opcode and ModRM as the SDM lays them out.
 * Each map is one Row per opcode, declared in opcode order, holding
 * everything the CPU knows about the opcode; the decoder (decode.ts) reads
 * nothing about an opcode from anywhere else.
 *
 * A row's attributes say how long the instruction is before anything else is
 * known (ModRM, immediate kind, byte operand size, default 64-bit operand
 * size) and whether it ends a basic block. Its resolver then picks the Form
 * (mnemonic, operand layout and handler) from the decoded fields: ModRM.reg
 * for group opcodes, the mandatory prefix for SSE forms, register or memory
 * operand, and operand size where a hot form has a handler of its own
 * (mov r64, r64; the zeroing xor ...). A resolver may also set the Insn fields
 * its handler reads: the ALU operation or condition in `sub`, the register
 * encoded in the opcode byte in `reg`, the accumulator as `rm`. It runs once,
 * when the instruction is decoded; executing it calls form.op directly.
 *
 * Two coming capabilities fit this shape without rework:
 * - Compat (32-bit) mode decoding. A row gets mode-validity bits beside V
 *   (valid in 64-bit mode only / in compat mode only) and the decoder a mode
 *   that it checks them against. In compat mode the prefix loop does not take
 *   40-4F as REX, and their rows are inc/dec r32 (valid in compat mode only);
 *   the default operand and address size is 32 and D64 is ignored. Opcodes
 *   whose meaning differs by mode (63: movsxd or arpl, C4/C5: VEX or les/lds)
 *   get a resolver that looks at the mode as group resolvers look at ModRM.reg.
 * - A block compiler that emits JavaScript per basic block. A Form may carry a
 *   code template, `emit(i: Insn): string`, the handler's body specialised to
 *   the decoded fields; the compiler joins the templates of a block's
 *   instructions and calls form.op where a form has none, so the interpreter
 *   stays the reference it is checked against.
 */
import { I_BRANCH, type Form, type Handler, type Insn } from '../insn.js';

// Attribute bits. The low 4 bits are the immediate kind.
/** has a ModRM byte (and SIB/displacement as it says) */
export const M = 0x100;
/** byte operand size (and AH..BH for registers 4-7 without REX) */
export const BY = 0x200;
/** default operand size 64 in 64-bit mode (stack operations, near branches) */
export const D64 = 0x400;
/** the opcode is defined */
export const V = 0x800;
/** every form of the opcode ends a basic block (it may change RIP, privilege, or stop the slice) */
export const B = 0x1000;

// Immediate kinds
/** imm8, sign-extended */
export const IB = 1;
/** imm16, zero-extended */
export const IW = 2;
/** imm16 or imm32 by operand size, sign-extended to 64 */
export const IZ = 3;
/** imm16, imm32 or imm64 by operand size (mov r, imm) */
export const IV = 4;
/** enter: imm16 then imm8 */
export const ENTER = 5;
/** a full-width absolute address (mov al/ax/eax/rax <-> moffs) */
export const MOFFS = 6;
/** rel8 branch displacement */
export const REL8 = 7;
/** rel32 branch displacement */
export const REL32 = 8;
/** imm8, zero-extended */
export const IBU = 9;
/** group 3 (F6): imm8 for test (ModRM.reg 0 and 1) only */
export const IB_TEST = 10;
/** group 3 (F7): imm16/32 for test (ModRM.reg 0 and 1) only */
export const IZ_TEST = 11;

/** Picks the form of a decoded instruction, or null where the encoding is undefined (#UD). */
export type Resolve = (i: Insn) => Form | null;

export interface Row {
  readonly attr: number;
  readonly resolve: Resolve;
}

/** A form; `flags` is I_BRANCH for a group member that ends a basic block when its row does not. */
export function form(mnemonic: string, operands: string, op: Handler, flags = 0): Form {
  return { mnemonic, operands, op, flags };
}

/** A form that ends a basic block (call and jmp through a register or memory). */
export function branch(mnemonic: string, operands: string, op: Handler): Form {
  return form(mnemonic, operands, op, I_BRANCH);
}

/** What a table entry gives: one form, a resolver, or nothing (undefined encoding). */
export type Choice = Form | Resolve | null;

function toResolve(c: Choice): Resolve {
  if (c === null) return none;
  if (typeof c === 'function') return c;
  return () => c;
}

function none(): null {
  return null;
}

/** A defined opcode. */
export function row(attr: number, c: Choice): Row {
  return { attr: attr | V, resolve: toResolve(c) };
}

/** An opcode with no instruction in 64-bit mode (or none this CPU implements). */
export const UNDEFINED: Row = { attr: 0, resolve: none };

/** A group opcode: the form by ModRM.reg (decoded into i.sub), from 0 up; the ones not given are undefined. */
export function byReg(forms: readonly Choice[]): Resolve {
  const rs: Resolve[] = [];
  for (let r = 0; r < 8; r++) rs.push(toResolve(forms[r] ?? null));
  return (i) => rs[i.sub](i);
}

/** The form by mandatory prefix (none, 66, F3, F2; an F2/F3 prefix takes precedence over 66). */
export function byPrefix(np: Choice, p66: Choice, f3: Choice, f2: Choice): Resolve {
  const a = toResolve(np), b = toResolve(p66), c = toResolve(f3), d = toResolve(f2);
  return (i) => (i.pfx === 0 ? a(i) : i.pfx === 0x66 ? b(i) : i.pfx === 0xf3 ? c(i) : d(i));
}

/** The form by the kind of the r/m operand. */
export function memOrReg(mem: Choice, reg: Choice): Resolve {
  const m = toResolve(mem), r = toResolve(reg);
  return (i) => (i.rm < 0 ? m(i) : r(i));
}

/** Only the memory form is defined. */
export function memOnly(c: Choice): Resolve {
  return memOrReg(c, null);
}

/** Only the register form is defined. */
export function regOnly(c: Choice): Resolve {
  return memOrReg(null, c);
}

/** The form by operand size (1, 2, 4 or 8 bytes), for mnemonics that name the size (movsb ... movsq, cbw/cwde/cdqe). */
export function bySize(s2: Choice, s4: Choice, s8: Choice, s1: Choice = null): Resolve {
  const r1 = toResolve(s1), r2 = toResolve(s2), r4 = toResolve(s4), r8 = toResolve(s8);
  return (i) => (i.size === 8 ? r8(i) : i.size === 4 ? r4(i) : i.size === 2 ? r2(i) : r1(i));
}

/** The form by REX.W, for mnemonics that name it (movd/movq, pextrd/pextrq, cmpxchg8b/16b). */
export function byRexW(w0: Choice, w1: Choice): Resolve {
  const a = toResolve(w0), b = toResolve(w1);
  return (i) => (i.rex & 8 ? b(i) : a(i));
}

/** Condition-code suffixes in the order of the low opcode nibble (Jcc, SETcc, CMOVcc), as iced-x86 spells them. */
export const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/**
 * A map of 256 rows from entries [first opcode, last opcode, row], which must
 * come in opcode order without overlap; opcodes not listed are undefined.
 */
export function opcodeMap(name: string, entries: readonly (readonly [number, number, Row])[]): readonly Row[] {
  const map: Row[] = new Array<Row>(256).fill(UNDEFINED);
  let next = 0;
  for (const [from, to, r] of entries) {
    if (from < next || to < from || to > 0xff) throw new Error(`${name}: opcode ${from.toString(16)} out of order`);
    for (let op = from; op <= to; op++) map[op] = r;
    next = to + 1;
  }
  return map;
}
