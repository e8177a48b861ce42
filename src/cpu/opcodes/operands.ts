/**
 * Operand layouts of the forms (Form.operands) and the disassembly they give,
 * for traces, debuggers and the decoder's test against iced-x86. Nothing here
 * runs when an instruction executes.
 *
 * A layout lists, in Intel order and separated by commas, where the form's
 * handler finds each operand in the decoded Insn:
 *   E<s>      the r/m operand: register i.rm, or memory [base + index*scale + disp]
 *   G<s>      the register i.reg (ModRM.reg, or the register a resolver took from the opcode byte)
 *   M         a memory operand (the form has no register variant)
 *   O         memory at the absolute address i.disp (moffs)
 *   X, Y      the string source [rsi] (segment override allowed) and destination es:[rdi]
 *   Mdi       [rdi] with the segment override allowed (maskmovdqu)
 *   A         the accumulator of the operand size
 *   Sw        the segment register ModRM.reg (i.sub)
 *   V, U, W   xmm i.reg; xmm i.rm; xmm i.rm or memory
 *   I         the immediate at the operand size (i.imm, with i.immHi above 32 bits)
 *   Ib, Iw    an 8- or 16-bit immediate (i.imm); Ib2 the second immediate (i.imm2, enter's level)
 *   J         the branch target (i.disp, resolved by the decoder)
 *   st0, sti  ST(0) and ST(i) with i = ModRM.rm
 * with sizes b, w, d, q, v (the operand size, i.size) and y (d, or q with REX.W).
 * Any other token is a fixed operand written as it is (cl, dx, ax, 1).
 * Register names are those of the SDM and iced-x86 (r8l, not r8b).
 */
import type { Insn } from '../insn.js';

const R64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'];
const R8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8l', 'r9l', 'r10l', 'r11l', 'r12l', 'r13l', 'r14l', 'r15l', 'ah', 'ch', 'dh', 'bh'];
const SREG = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];

/** Name of general register r (byte registers 16-19 are AH, CH, DH, BH) at size 1, 2, 4 or 8 bytes. */
export function regName(r: number, size: number): string {
  const names = size === 8 ? R64 : size === 4 ? R32 : size === 2 ? R16 : R8;
  return names[r] ?? `r?${r}`;
}

/** A 64-bit value given as two 32-bit halves, in hex. */
export function hex64(lo: number, hi: number): string {
  const h = hi >>> 0;
  return '0x' + (h === 0 ? (lo >>> 0).toString(16) : h.toString(16) + (lo >>> 0).toString(16).padStart(8, '0'));
}

/** A signed number below 2^64 in magnitude (an address, possibly negative canonical) as 64-bit hex. */
export function hexNum(v: number): string {
  const hi = Math.floor(v / 4294967296);
  return hex64((v - hi * 4294967296) | 0, hi | 0);
}

/**
 * A memory operand as text: seg ('' or 'fs'/'gs'), base and index register
 * names or '', scale, and the displacement (absolute when there is neither base
 * nor index, as for RIP-relative operands once resolved).
 */
export function memText(seg: string, base: string, index: string, scale: number, disp: number): string {
  let s = base;
  if (index !== '') s += (s === '' ? '' : '+') + index + (scale === 1 ? '' : `*${scale}`);
  if (s === '') s = hexNum(disp);
  else if (disp !== 0) s += (disp < 0 ? '-' : '+') + '0x' + Math.abs(disp).toString(16);
  return `${seg === '' ? '' : seg + ':'}[${s}]`;
}

function segOf(i: Insn): string {
  return i.seg === 1 ? 'fs' : i.seg === 2 ? 'gs' : '';
}

function mem(i: Insn): string {
  const a = i.asize;
  return memText(segOf(i), i.base >= 0 ? regName(i.base, a) : '', i.index >= 0 ? regName(i.index, a) : '', i.scale, i.disp);
}

function sizeOf(i: Insn, s: string): number {
  switch (s) {
    case 'b':
      return 1;
    case 'w':
      return 2;
    case 'd':
      return 4;
    case 'q':
      return 8;
    case 'y':
      return i.rex & 8 ? 8 : 4;
    default:
      return i.size;
  }
}

/** The immediate at `bits` width. */
function imm(i: Insn, bytes: number): string {
  if (bytes === 8) return hex64(i.imm, i.immHi);
  const mask = bytes === 4 ? 0xffffffff : bytes === 2 ? 0xffff : 0xff;
  return '0x' + ((i.imm & mask) >>> 0).toString(16);
}

function operand(i: Insn, t: string): string {
  switch (t) {
    case 'M':
    case 'O':
      return mem(i);
    case 'X':
      return memText(segOf(i), i.asize === 4 ? 'esi' : 'rsi', '', 1, 0);
    case 'Y':
      return memText('', i.asize === 4 ? 'edi' : 'rdi', '', 1, 0);
    case 'Mdi':
      return memText(segOf(i), i.asize === 4 ? 'edi' : 'rdi', '', 1, 0);
    case 'A':
      return regName(0, i.size);
    case 'Sw':
      return SREG[i.sub] ?? `sreg?${i.sub}`;
    case 'V':
      return `xmm${i.reg}`;
    case 'U':
      return `xmm${i.rm}`;
    case 'W':
      return i.rm >= 0 ? `xmm${i.rm}` : mem(i);
    case 'I':
      return imm(i, i.size);
    case 'Ib':
      return imm(i, 1);
    case 'Iw':
      return imm(i, 2);
    case 'Ib2':
      return '0x' + (i.imm2 & 0xff).toString(16);
    case 'J':
      return hexNum(i.disp);
    case 'st0':
      return 'st0';
    case 'sti':
      return `st${i.rm & 7}`;
    case '1':
      return '0x1';
  }
  if (t[0] === 'E') return i.rm >= 0 ? regName(i.rm, sizeOf(i, t.slice(1))) : mem(i);
  if (t[0] === 'G') return regName(i.reg, sizeOf(i, t.slice(1)));
  return t;
}

/** The operands of a decoded instruction, as text, in Intel order. */
export function operands(i: Insn): string[] {
  const layout = i.form?.operands ?? '';
  return layout === '' ? [] : layout.split(',').map((t) => operand(i, t));
}

/** Intel-syntax text of a decoded instruction ('add rax, [rbx+rcx*8+0x10]'). */
export function disassemble(i: Insn): string {
  const ops = operands(i);
  const m = i.form?.mnemonic ?? '(bad)';
  return ops.length === 0 ? m : `${m} ${ops.join(', ')}`;
}
