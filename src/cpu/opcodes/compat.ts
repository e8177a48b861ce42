/**
 * The opcodes whose row differs in compat mode (a 32-bit code segment), as
 * overlays on the 64-bit maps: where an overlay has a row, the decoder uses
 * it in compat mode, and the 64-bit row everywhere else. In 32-bit code
 * 40-4F are inc/dec (no REX), the stack operations and near branches are 32
 * bits wide (D64 means nothing), pusha/popa, push/pop of segment registers
 * and BCD arithmetic exist, mov Sreg loads a descriptor, movsxd is arpl (left
 * out: #UD), int $0x80 is the system call gate, `sysenter` enters the
 * kernel on an Intel CPU and `syscall` on an AMD one (the other is #UD:
 * CPU.vendor; Linux's i386 programs enter through int $0x80 or the vDSO).
 */
import type { Insn } from '../insn.js';
import * as alu from '../ops/alu.js';
import * as c from '../ops/compat.js';
import { ONE_BYTE } from './one-byte.js';
import { B, IB, IBU, IW, IZ, M, MOFFS, REL32, REL8, BY, ENTER, UNDEFINED, branch, bySize, byReg, form, row, type Row } from './row.js';

function overlay(entries: readonly (readonly [number, number, Row])[]): readonly (Row | undefined)[] {
  const map = new Array<Row | undefined>(256).fill(undefined);
  for (const [from, to, r] of entries) for (let op = from; op <= to; op++) map[op] = r;
  return map;
}

const inc = form('inc', 'Ev', alu.incdec), dec = form('dec', 'Ev', alu.incdec);
const push = form('push', 'Gv', c.pushR), pop = form('pop', 'Gv', c.popR);
const ret = form('ret', '', c.ret);
const movAO = form('mov', 'A,O', c.movMoffs), movOA = form('mov', 'O,A', c.movMoffs);

/** 06 0E 16 1E push es/cs/ss/ds, 07 17 1F pop es/ss/ds: the segment register (ES..DS) in sub. */
function segRows(): (readonly [number, number, Row])[] {
  const out: (readonly [number, number, Row])[] = [];
  ['es', 'cs', 'ss', 'ds'].forEach((name, s) => {
    const pushF = form('push', name, c.pushSreg), popF = form('pop', name, c.popSreg);
    out.push([0x06 + s * 8, 0x06 + s * 8, row(0, (i) => ((i.sub = s), pushF))]);
    // pop cs does not exist (0F is the escape); pop ss inhibits interrupts: the block ends
    if (s !== 1) out.push([0x07 + s * 8, 0x07 + s * 8, row(s === 2 ? B : 0, (i) => ((i.sub = s), popF))]);
  });
  return out;
}

const daa = form('daa', '', c.daaDas), das = form('das', '', c.daaDas);
const aaa = form('aaa', '', c.aaaAas), aas = form('aas', '', c.aaaAas);

/** Group 5 (FF) in 32-bit code: call, jmp and push through r/m are 32 bits (16 with 66). */
const GROUP5 = [inc, dec, branch('call', 'Ev', c.callE), null, branch('jmp', 'Ev', c.jmpE), null, form('push', 'Ev', c.pushE), null];
function group5(i: Insn) {
  return GROUP5[i.sub];
}

const ONE_BYTE_COMPAT = overlay([
  ...segRows().sort((a, b) => a[0] - b[0]),
  [0x27, 0x27, row(0, (i) => ((i.sub = 0), daa))],
  [0x2f, 0x2f, row(0, (i) => ((i.sub = 1), das))],
  [0x37, 0x37, row(0, (i) => ((i.sub = 0), aaa))],
  [0x3f, 0x3f, row(0, (i) => ((i.sub = 1), aas))],
  // inc/dec r32: the register in the low opcode bits, as the r/m operand incdec reads
  [0x40, 0x47, row(0, (i) => ((i.rm = i.opc & 7), (i.sub = 0), inc))],
  [0x48, 0x4f, row(0, (i) => ((i.rm = i.opc & 7), (i.sub = 1), dec))],
  [0x50, 0x57, row(0, (i) => ((i.reg = i.opc & 7), push))],
  [0x58, 0x5f, row(0, (i) => ((i.reg = i.opc & 7), pop))],
  [0x60, 0x60, row(0, bySize(form('pusha', '', c.pusha), form('pushad', '', c.pusha), null))],
  [0x61, 0x61, row(0, bySize(form('popa', '', c.popa), form('popad', '', c.popa), null))],
  [0x63, 0x63, UNDEFINED],
  [0x68, 0x68, row(IZ, form('push', 'I', c.pushI))],
  [0x6a, 0x6a, row(IB, form('push', 'I', c.pushI))],
  // 82 is 80 (group 1, r/m8, imm8) outside 64-bit mode
  [0x82, 0x82, ONE_BYTE[0x80]],
  [0x8e, 0x8e, row(M, form('mov', 'Sw,Ev', c.movToSreg))],
  [0x8f, 0x8f, row(M, byReg([form('pop', 'Ev', c.popE)]))],
  [0x9c, 0x9c, row(0, bySize(form('pushf', '', c.pushf), form('pushfd', '', c.pushf), null))],
  [0x9d, 0x9d, row(B, bySize(form('popf', '', c.popf), form('popfd', '', c.popf), null))],
  [0xa0, 0xa0, row(MOFFS | BY, (i) => ((i.sub = 0), movAO))],
  [0xa1, 0xa1, row(MOFFS, (i) => ((i.sub = 0), movAO))],
  [0xa2, 0xa2, row(MOFFS | BY, (i) => ((i.sub = 1), movOA))],
  [0xa3, 0xa3, row(MOFFS, (i) => ((i.sub = 1), movOA))],
  [0xc2, 0xc2, row(IW | B, form('ret', 'Iw', c.ret))],
  [0xc3, 0xc3, row(B, (i) => ((i.imm = 0), ret))],
  [0xc8, 0xc8, row(ENTER, form('enter', 'Iw,Ib2', c.enter))],
  [0xc9, 0xc9, row(0, form('leave', '', c.leave))],
  [0xcd, 0xcd, row(IBU | B, form('int', 'Ib', c.intN))],
  [0xd4, 0xd4, row(IBU, form('aam', 'Ib', c.aam))],
  [0xd5, 0xd5, row(IBU, form('aad', 'Ib', c.aad))],
  [0xe8, 0xe8, row(REL32 | B, form('call', 'J', c.callRel))],
  [0xe9, 0xe9, row(REL32 | B, form('jmp', 'J', c.jmpRel))],
  [0xeb, 0xeb, row(REL8 | B, form('jmp', 'J', c.jmpRel))],
  [0xff, 0xff, row(M, group5)],
]);

const TWO_BYTE_COMPAT = overlay([
  // Intel CPUs raise #UD for syscall outside 64-bit mode; AMD's enter through MSR_CSTAR
  [0x05, 0x05, row(B, form('syscall', '', c.syscall32))],
  [0x34, 0x34, row(B, form('sysenter', '', c.sysenter))],
]);

/** Compat-mode overlays by map number, as decode.ts's MAPS (the three-byte maps do not differ). */
export const COMPAT_MAPS: readonly (readonly (Row | undefined)[])[] = [ONE_BYTE_COMPAT, TWO_BYTE_COMPAT, [], []];
