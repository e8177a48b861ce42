/**
 * `monitor disassemble32 ADDR [att|intel]`: one instruction of a 32-bit
 * program decoded as the CPU runs it, in compat mode. gdb 13 keeps one
 * architecture for the connection, and the stub's is i386:x86-64 (the guest
 * kernel's half), so gdb's own disassembler reads 32-bit code as 64-bit;
 * gdb-scripts/entrystub.py registers a disassembler (gdb 13's Python
 * disassembler API) that asks this command for the user half of a 32-bit
 * process. Decoding is iced-x86's, formatted as gdb prints AT&T or Intel
 * syntax (the mnemonic padded to seven columns, hex displacements).
 */
import { createRequire } from 'node:module';
import type { GuestProcess } from './port.js';

type Iced = typeof import('iced-x86');
let iced: Iced | null = null;
const formatters = new Map<string, InstanceType<Iced['Formatter']>>();

/** iced-x86 (a megabyte of wasm) is loaded the first time it is asked for: a plain run never is. */
function formatter(syntax: 'att' | 'intel'): { lib: Iced; fmt: InstanceType<Iced['Formatter']> } {
  iced ??= createRequire(import.meta.url)('iced-x86') as Iced;
  let fmt = formatters.get(syntax);
  if (!fmt) {
    fmt = new iced.Formatter(syntax === 'intel' ? iced.FormatterSyntax.Intel : iced.FormatterSyntax.Gas);
    fmt.firstOperandCharIndex = 7;
    fmt.smallHexNumbersInDecimal = false;
    fmt.branchLeadingZeros = false;
    fmt.displacementLeadingZeros = false;
    fmt.leadingZeros = false;
    fmt.uppercaseHex = false;
    if (syntax === 'att') fmt.memorySizeOptions = iced.MemorySizeOptions.Never;
    formatters.set(syntax, fmt);
  }
  return { lib: iced, fmt };
}

export const DISASSEMBLE32_USAGE = 'usage: monitor disassemble32 ADDR [att|intel]\n';

/** "LEN TEXT\n" for the instruction at ADDR, or why not. */
export function disassemble32(p: GuestProcess, args: string): string {
  const [addrText, syntaxText = 'att', extra] = args.trim().split(/\s+/);
  const addr = addrText ? Number(addrText) : NaN;
  if (extra !== undefined || !Number.isInteger(addr) || addr < 0 || addr > 0xffffffff || (syntaxText !== 'att' && syntaxText !== 'intel'))
    return DISASSEMBLE32_USAGE;
  const bytes = new Uint8Array(15);
  // an instruction may end where readable memory does: decode what is there
  const n = p.mem.peek(addr, bytes);
  if (n === 0) return `cannot access memory at 0x${addr.toString(16)}\n`;
  const { lib, fmt } = formatter(syntaxText);
  const d = new lib.Decoder(32, bytes.subarray(0, n), lib.DecoderOptions.None);
  d.ip = BigInt(addr);
  const insn = d.decode();
  try {
    if (insn.isInvalid) return `1 (bad)\n`;
    let text = fmt.format(insn);
    // a push, pop, call or jmp of a memory operand at the default size (32 bits here) needs no
    // suffix, and gdb (binutils) prints none: `push   -0x4(%ecx)`, where iced-x86 spells pushl
    // (the l becomes a blank: the operand stays in gdb's column)
    if (syntaxText === 'att') text = text.replace(/^(push|pop|call|jmp)l(?= )/, '$1 ');
    return `${insn.length} ${text}\n`;
  } finally {
    insn.free();
    d.free();
  }
}
