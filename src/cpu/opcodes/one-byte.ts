/**
 * The one-byte opcode map (SDM Vol. 2 Table A-2) in 64-bit mode. Prefix bytes
 * (26 2E 36 3E 40-4F 64-67 F0 F2 F3) and the 0F escape are consumed by the
 * decoder and have no row; opcodes invalid in 64-bit mode and the ones this
 * CPU leaves out (far transfers, BCD, xlat, VEX/EVEX) are undefined (#UD).
 * See row.ts for the shape of a row and operands.ts for the operand layouts.
 */
import type { Form, Insn } from '../insn.js';
import * as alu from '../ops/alu.js';
import * as sh from '../ops/shift.js';
import * as mv from '../ops/move.js';
import * as ctl from '../ops/control.js';
import * as str from '../ops/string.js';
import * as sys from '../ops/system.js';
import { x87 } from './x87.js';
import { B, BY, CC, D64, ENTER, IB, IB_TEST, IBU, IV, IW, IZ, IZ_TEST, M, MOFFS, REL32, REL8, branch, byReg, bySize, form, memOnly, opcodeMap, row, type Row } from './row.js';

type Entry = readonly [number, number, Row];

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];

/**
 * 00-05, 08-0D ... 38-3D: op Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / rAX,Iz.
 * The ALU operation goes to i.sub; the 64-bit register-register forms and the
 * zeroing idiom (xor/sub of a register with itself) have handlers of their own.
 */
function aluRows(base: number): Entry[] {
  const sub = base >> 3, name = ALU[sub];
  const zeroable = name === 'xor' || name === 'sub';
  const egb = form(name, 'Eb,Gb', alu.aluEG), egv = form(name, 'Ev,Gv', alu.aluEG);
  const geb = form(name, 'Gb,Eb', alu.aluGE), gev = form(name, 'Gv,Ev', alu.aluGE);
  const rr = form(name, 'Ev,Gv', alu.aluRR64), rrg = form(name, 'Gv,Ev', alu.aluRR64G);
  const zeroE = form(name, 'Ev,Gv', alu.zeroIdiom), zeroG = form(name, 'Gv,Ev', alu.zeroIdiom);
  const accb = form(name, 'Eb,I', alu.aluEI), accv = form(name, 'Ev,I', alu.aluEI);
  const regForm = (i: Insn, rr64: Form, zero: Form, other: Form): Form => {
    i.sub = sub;
    if (i.rm >= 0) {
      if (zeroable && i.rm === i.reg && i.size >= 4) return zero;
      if (i.size === 8) return rr64;
    }
    return other;
  };
  return [
    [base, base, row(M | BY, (i) => ((i.sub = sub), egb))],
    [base + 1, base + 1, row(M, (i) => regForm(i, rr, zeroE, egv))],
    [base + 2, base + 2, row(M | BY, (i) => ((i.sub = sub), geb))],
    [base + 3, base + 3, row(M, (i) => regForm(i, rrg, zeroG, gev))],
    // the accumulator forms are the r/m forms with rm = rAX
    [base + 4, base + 4, row(BY | IB, (i) => ((i.sub = sub), (i.rm = 0), accb))],
    [base + 5, base + 5, row(IZ, (i) => ((i.sub = sub), (i.rm = 0), accv))],
  ];
}

/** 70-7F jcc rel8 (and 0F 80-8F with rel32): the condition goes to i.sub. */
export function jccRows(base: number, attr: number): Entry[] {
  return CC.map((cc, k) => {
    const f = form('j' + cc, 'J', ctl.jcc);
    return [base + k, base + k, row(attr, (i) => ((i.sub = k), f))] as const;
  });
}

/** The register in the low three opcode bits (with REX.B) goes to i.reg. */
function opReg(i: Insn): number {
  return (i.opc & 7) | (i.rex & 1 ? 8 : 0);
}

const push = form('push', 'Gv', mv.pushR);
const pop = form('pop', 'Gv', mv.popR);
const xchgAcc = form('xchg', 'Gv,Ev', mv.xchg);
const nop = form('nop', '', mv.nop);
const pause = form('pause', '', mv.nop);
const movRIb = form('mov', 'Gb,I', mv.movRI);
const movRIv = form('mov', 'Gv,I', mv.movRI);

/** Group 1 (80, 81, 83): op r/m, imm. */
function group1(e: string): Form[] {
  return ALU.map((n) => form(n, e + ',I', alu.aluEI));
}

/** Group 2 (C0 C1 D0-D3): shifts and rotates by imm8 (imm2 = 1), by 1 (imm2 = 0) or by CL (imm2 = 2). */
function group2(e: string, count: string, by: number): (i: Insn) => Form | null {
  const forms = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'].map((n) => form(n, `${e},${count}`, sh.grp2));
  return (i) => ((i.imm2 = by), forms[i.sub]);
}

/** Group 3 (F6, F7). */
function group3(e: string): (i: Insn) => Form | null {
  return byReg([
    form('test', e + ',I', alu.testEI),
    form('test', e + ',I', alu.testEI),
    form('not', e, alu.not),
    form('neg', e, alu.neg),
    form('mul', e, alu.mul1),
    form('imul', e, alu.mul1),
    form('div', e, alu.div1),
    form('idiv', e, alu.div1),
  ]);
}

/** String instructions: one mnemonic per operand size, as iced-x86 names them. */
function strRows(op: number, name: string, operands: string, h: (typeof str)['movs']): Entry[] {
  const f = (s: string): Form => form(name + s, operands, h);
  return [
    [op, op, row(BY, f('b'))],
    [op + 1, op + 1, row(0, bySize(f('w'), f('d'), f('q')))],
  ];
}

/** in/out move 8, 16 or 32 bits: REX.W does not widen them. */
function io(f: Form): (i: Insn) => Form {
  return (i) => {
    if (i.size === 8) i.size = 4;
    return f;
  };
}

const LOOP = [form('loopne', 'J', ctl.loop), form('loope', 'J', ctl.loop), form('loop', 'J', ctl.loop)];
const jrcxz = form('jrcxz', 'J', ctl.loop), jecxz = form('jecxz', 'J', ctl.loop);

/** A byte register encoded in the opcode: without REX, 4-7 are AH, CH, DH, BH (16-19). */
function byteReg(i: Insn, r: number): number {
  return i.rex === 0 && r >= 4 && r < 8 ? r + 12 : r;
}

// movsxd sign-extends a dword, except with a 16-bit operand size, where it moves a word
const movsxd = form('movsxd', 'Gv,Ed', mv.movsx);
const movsxd16 = form('movsxd', 'Gv,Ew', mv.movsx);
const movEG = form('mov', 'Ev,Gv', mv.movEG);
const movRR64toRM = form('mov', 'Ev,Gv', mv.movRR64toRM);
const movMR64 = form('mov', 'Ev,Gv', mv.movMR64);
const movGE = form('mov', 'Gv,Ev', mv.movGE);
const movRR64 = form('mov', 'Gv,Ev', mv.movRR64);
const movRM64 = form('mov', 'Gv,Ev', mv.movRM64);
const movRM32 = form('mov', 'Gv,Ev', mv.movRM32);
const movAO = form('mov', 'A,O', mv.movMoffs);
const movOA = form('mov', 'O,A', mv.movMoffs);
const testAb = form('test', 'Eb,I', alu.testEI);
const testAv = form('test', 'Ev,I', alu.testEI);
const ret = form('ret', '', ctl.ret);

/** Group 5 (FF): inc, dec, and the near call, jmp and push through r/m, whose operand size is 64 (push: or 16). */
const GROUP5 = [
  form('inc', 'Ev', alu.incdec),
  form('dec', 'Ev', alu.incdec),
  branch('call', 'Eq', ctl.callE),
  null,
  branch('jmp', 'Eq', ctl.jmpE),
  null,
  form('push', 'Ev', mv.pushE),
  null,
];
function group5(i: Insn): Form | null {
  // a 66 prefix makes push a 16-bit push; the near branches ignore it
  if (i.sub === 2 || i.sub === 4 || (i.sub === 6 && i.size !== 2)) i.size = 8;
  return GROUP5[i.sub];
}

export const ONE_BYTE: readonly Row[] = opcodeMap('one-byte map', [
  ...aluRows(0x00),
  ...aluRows(0x08),
  ...aluRows(0x10),
  ...aluRows(0x18),
  ...aluRows(0x20),
  ...aluRows(0x28),
  ...aluRows(0x30),
  ...aluRows(0x38),
  [0x50, 0x57, row(D64, (i) => ((i.reg = opReg(i)), push))],
  [0x58, 0x5f, row(D64, (i) => ((i.reg = opReg(i)), pop))],
  [0x63, 0x63, row(M, (i) => (i.size === 2 ? ((i.sub = 2), movsxd16) : ((i.sub = 4), movsxd)))],
  [0x68, 0x68, row(D64 | IZ, form('push', 'I', mv.pushI))],
  [0x69, 0x69, row(M | IZ, form('imul', 'Gv,Ev,I', alu.imul2))],
  [0x6a, 0x6a, row(D64 | IB, form('push', 'I', mv.pushI))],
  [0x6b, 0x6b, row(M | IB, form('imul', 'Gv,Ev,I', alu.imul2))],
  [0x6c, 0x6c, row(BY | B, form('insb', 'Y,dx', sys.privileged))],
  [0x6d, 0x6d, row(B, bySize(form('insw', 'Y,dx', sys.privileged), form('insd', 'Y,dx', sys.privileged), form('insd', 'Y,dx', sys.privileged)))],
  [0x6e, 0x6e, row(BY | B, form('outsb', 'dx,X', sys.privileged))],
  [0x6f, 0x6f, row(B, bySize(form('outsw', 'dx,X', sys.privileged), form('outsd', 'dx,X', sys.privileged), form('outsd', 'dx,X', sys.privileged)))],
  ...jccRows(0x70, REL8 | B),
  [0x80, 0x80, row(M | BY | IB, byReg(group1('Eb')))],
  [0x81, 0x81, row(M | IZ, byReg(group1('Ev')))],
  [0x83, 0x83, row(M | IB, byReg(group1('Ev')))],
  [0x84, 0x84, row(M | BY, form('test', 'Eb,Gb', alu.testEG))],
  [0x85, 0x85, row(M, form('test', 'Ev,Gv', alu.testEG))],
  [0x86, 0x86, row(M | BY, form('xchg', 'Eb,Gb', mv.xchg))],
  [0x87, 0x87, row(M, form('xchg', 'Ev,Gv', mv.xchg))],
  [0x88, 0x88, row(M | BY, form('mov', 'Eb,Gb', mv.movEG))],
  [0x89, 0x89, row(M, (i) => (i.size === 8 ? (i.rm >= 0 ? movRR64toRM : movMR64) : movEG))],
  [0x8a, 0x8a, row(M | BY, form('mov', 'Gb,Eb', mv.movGE))],
  [0x8b, 0x8b, row(M, (i) => (i.size === 8 ? (i.rm >= 0 ? movRR64 : movRM64) : i.size === 4 && i.rm < 0 ? movRM32 : movGE))],
  [0x8c, 0x8c, row(M, form('mov', 'Ev,Sw', mv.movFromSreg))],
  [0x8d, 0x8d, row(M, memOnly(form('lea', 'Gv,M', mv.lea)))],
  // mov Sreg, r/m: segment registers other than fs/gs have no effect in 64-bit mode, and fs/gs bases are set through MSRs
  [0x8e, 0x8e, row(M, form('mov', 'Sw,Ev', mv.nop))],
  [0x8f, 0x8f, row(M | D64, byReg([form('pop', 'Ev', mv.popE)]))],
  // F3 90 is pause even with REX.B; 90 with REX.B is xchg r8, rAX
  [0x90, 0x90, row(0, (i) => (i.rep === 0xf3 ? pause : i.rex & 1 ? ((i.reg = 8), (i.rm = 0), xchgAcc) : nop))],
  [0x91, 0x97, row(0, (i) => ((i.reg = opReg(i)), (i.rm = 0), xchgAcc))],
  [0x98, 0x98, row(0, bySize(form('cbw', '', alu.cbw), form('cwde', '', alu.cbw), form('cdqe', '', alu.cbw)))],
  [0x99, 0x99, row(0, bySize(form('cwd', '', alu.cwd), form('cdq', '', alu.cwd), form('cqo', '', alu.cwd)))],
  [0x9b, 0x9b, row(0, form('wait', '', mv.nop))],
  [0x9c, 0x9c, row(D64, bySize(form('pushf', '', mv.pushf), null, form('pushfq', '', mv.pushf)))],
  // popf may set TF or clear IF: the block ends after it
  [0x9d, 0x9d, row(D64 | B, bySize(form('popf', '', mv.popf), null, form('popfq', '', mv.popf)))],
  [0x9e, 0x9e, row(0, form('sahf', '', mv.sahf))],
  [0x9f, 0x9f, row(0, form('lahf', '', mv.lahf))],
  [0xa0, 0xa0, row(MOFFS | BY, (i) => ((i.sub = 0), movAO))],
  [0xa1, 0xa1, row(MOFFS, (i) => ((i.sub = 0), movAO))],
  [0xa2, 0xa2, row(MOFFS | BY, (i) => ((i.sub = 1), movOA))],
  [0xa3, 0xa3, row(MOFFS, (i) => ((i.sub = 1), movOA))],
  ...strRows(0xa4, 'movs', 'Y,X', str.movs),
  ...strRows(0xa6, 'cmps', 'X,Y', str.cmps),
  [0xa8, 0xa8, row(BY | IB, (i) => ((i.rm = 0), testAb))],
  [0xa9, 0xa9, row(IZ, (i) => ((i.rm = 0), testAv))],
  ...strRows(0xaa, 'stos', 'Y,A', str.stos),
  ...strRows(0xac, 'lods', 'A,X', str.lods),
  ...strRows(0xae, 'scas', 'A,Y', str.scas),
  [0xb0, 0xb7, row(BY | IB, (i) => ((i.reg = byteReg(i, opReg(i))), movRIb))],
  [0xb8, 0xbf, row(IV, (i) => ((i.reg = opReg(i)), movRIv))],
  [0xc0, 0xc0, row(M | BY | IBU, group2('Eb', 'Ib', 1))],
  [0xc1, 0xc1, row(M | IBU, group2('Ev', 'Ib', 1))],
  [0xc2, 0xc2, row(D64 | IW | B, form('ret', 'Iw', ctl.ret))],
  [0xc3, 0xc3, row(D64 | B, (i) => ((i.imm = 0), ret))],
  [0xc6, 0xc6, row(M | BY | IB, byReg([form('mov', 'Eb,I', mv.movEI)]))],
  [0xc7, 0xc7, row(M | IZ, byReg([form('mov', 'Ev,I', mv.movEI)]))],
  [0xc8, 0xc8, row(D64 | ENTER, form('enter', 'Iw,Ib2', mv.enter))],
  [0xc9, 0xc9, row(D64, form('leave', '', mv.leave))],
  [0xcc, 0xcc, row(B, form('int3', '', sys.int3))],
  [0xcd, 0xcd, row(IBU | B, form('int', 'Ib', sys.intN))],
  // iret with a 32-bit operand size would return to a 32-bit frame, which this CPU does not model
  [0xcf, 0xcf, row(B, bySize(null, null, form('iretq', '', sys.iretq)))],
  [0xd0, 0xd0, row(M | BY, group2('Eb', '1', 0))],
  [0xd1, 0xd1, row(M, group2('Ev', '1', 0))],
  [0xd2, 0xd2, row(M | BY, group2('Eb', 'cl', 2))],
  [0xd3, 0xd3, row(M, group2('Ev', 'cl', 2))],
  [0xd8, 0xdf, row(M, x87)],
  [0xe0, 0xe2, row(REL8 | B, (i) => ((i.sub = i.opc - 0xe0), LOOP[i.sub]))],
  [0xe3, 0xe3, row(REL8 | B, (i) => ((i.sub = 3), i.asize === 4 ? jecxz : jrcxz))],
  [0xe4, 0xe4, row(IBU | BY | B, form('in', 'A,Ib', sys.privileged))],
  [0xe5, 0xe5, row(IBU | B, io(form('in', 'A,Ib', sys.privileged)))],
  [0xe6, 0xe6, row(IBU | BY | B, form('out', 'Ib,A', sys.privileged))],
  [0xe7, 0xe7, row(IBU | B, io(form('out', 'Ib,A', sys.privileged)))],
  [0xe8, 0xe8, row(REL32 | D64 | B, form('call', 'J', ctl.callRel))],
  [0xe9, 0xe9, row(REL32 | D64 | B, form('jmp', 'J', ctl.jmpRel))],
  [0xeb, 0xeb, row(REL8 | D64 | B, form('jmp', 'J', ctl.jmpRel))],
  [0xec, 0xec, row(BY | B, form('in', 'A,dx', sys.privileged))],
  [0xed, 0xed, row(B, io(form('in', 'A,dx', sys.privileged)))],
  [0xee, 0xee, row(BY | B, form('out', 'dx,A', sys.privileged))],
  [0xef, 0xef, row(B, io(form('out', 'dx,A', sys.privileged)))],
  [0xf4, 0xf4, row(B, form('hlt', '', sys.hlt))],
  [0xf5, 0xf5, row(0, form('cmc', '', mv.cmc))],
  [0xf6, 0xf6, row(M | BY | IB_TEST, group3('Eb'))],
  [0xf7, 0xf7, row(M | IZ_TEST, group3('Ev'))],
  [0xf8, 0xf8, row(0, form('clc', '', mv.clc))],
  [0xf9, 0xf9, row(0, form('stc', '', mv.stc))],
  [0xfa, 0xfa, row(B, form('cli', '', sys.cli))],
  [0xfb, 0xfb, row(B, form('sti', '', sys.sti))],
  [0xfc, 0xfc, row(0, form('cld', '', mv.cld))],
  [0xfd, 0xfd, row(0, form('std', '', mv.std))],
  [0xfe, 0xfe, row(M | BY, byReg([form('inc', 'Eb', alu.incdec), form('dec', 'Eb', alu.incdec)]))],
  [0xff, 0xff, row(M, group5)],
]);
