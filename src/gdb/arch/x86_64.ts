/**
 * The amd64 GNU/Linux register layout gdbserver uses (gdb/arch/amd64.c order:
 * core, sse, linux, segments) and its target description: `g` = 560 bytes,
 * an explicit regnum on every register (lldb and gdb both rely on them), the
 * org.gnu.gdb.i386.linux feature with orig_rax (without it gdb refuses
 * `catch syscall`) and osabi GNU/Linux. One inline document, no xi:include
 * (lldb reorders mixed documents).
 */
import type { Arch, RegInfo } from '../target.js';

interface RegDef {
  name: string;
  bits: number;
  type: string;
  group?: string;
}

const EFLAGS_FIELDS: [string, number][] = [
  ['CF', 0], ['', 1], ['PF', 2], ['AF', 4], ['ZF', 6], ['SF', 7], ['TF', 8], ['IF', 9], ['DF', 10], ['OF', 11],
  ['NT', 14], ['RF', 16], ['VM', 17], ['AC', 18], ['VIF', 19], ['VIP', 20], ['ID', 21],
];
const MXCSR_FIELDS: [string, number][] = [
  ['IE', 0], ['DE', 1], ['ZE', 2], ['OE', 3], ['UE', 4], ['PE', 5], ['DAZ', 6], ['IM', 7], ['DM', 8], ['ZM', 9],
  ['OM', 10], ['UM', 11], ['PM', 12], ['FZ', 15],
];

const flags = (id: string, fields: [string, number][]) =>
  `  <flags id="${id}" size="4">\n` +
  fields.map(([n, b]) => `    <field name="${n}" start="${b}" end="${b}"/>\n`).join('') +
  '  </flags>\n';

const GPR = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

const FEATURES: { name: string; preamble: string; regs: RegDef[] }[] = [
  {
    name: 'org.gnu.gdb.i386.core',
    preamble: flags('i386_eflags', EFLAGS_FIELDS),
    regs: [
      ...GPR.map((n) => ({ name: n, bits: 64, type: n === 'rbp' || n === 'rsp' ? 'data_ptr' : 'int64' })),
      { name: 'rip', bits: 64, type: 'code_ptr' },
      { name: 'eflags', bits: 32, type: 'i386_eflags' },
      ...['cs', 'ss', 'ds', 'es', 'fs', 'gs'].map((n) => ({ name: n, bits: 32, type: 'int32' })),
      ...[0, 1, 2, 3, 4, 5, 6, 7].map((k) => ({ name: `st${k}`, bits: 80, type: 'i387_ext' })),
      ...['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop'].map((n) => ({ name: n, bits: 32, type: 'int', group: 'float' })),
    ],
  },
  {
    name: 'org.gnu.gdb.i386.sse',
    preamble:
      '  <vector id="v4f" type="ieee_single" count="4"/>\n' +
      '  <vector id="v2d" type="ieee_double" count="2"/>\n' +
      '  <vector id="v16i8" type="int8" count="16"/>\n' +
      '  <vector id="v8i16" type="int16" count="8"/>\n' +
      '  <vector id="v4i32" type="int32" count="4"/>\n' +
      '  <vector id="v2i64" type="int64" count="2"/>\n' +
      '  <union id="vec128">\n' +
      [['v4_float', 'v4f'], ['v2_double', 'v2d'], ['v16_int8', 'v16i8'], ['v8_int16', 'v8i16'], ['v4_int32', 'v4i32'], ['v2_int64', 'v2i64'], ['uint128', 'uint128']]
        .map(([n, t]) => `    <field name="${n}" type="${t}"/>\n`)
        .join('') +
      '  </union>\n' +
      flags('i386_mxcsr', MXCSR_FIELDS),
    regs: [
      ...Array.from({ length: 16 }, (_, k) => ({ name: `xmm${k}`, bits: 128, type: 'vec128' })),
      { name: 'mxcsr', bits: 32, type: 'i386_mxcsr', group: 'vector' },
    ],
  },
  { name: 'org.gnu.gdb.i386.linux', preamble: '', regs: [{ name: 'orig_rax', bits: 64, type: 'int' }] },
  {
    name: 'org.gnu.gdb.i386.segments',
    preamble: '',
    regs: [
      { name: 'fs_base', bits: 64, type: 'int' },
      { name: 'gs_base', bits: 64, type: 'int' },
    ],
  },
];

/** Regnums by name, for the Machine adapter. */
export const REG = {
  rax: 0, rbx: 1, rcx: 2, rdx: 3, rsi: 4, rdi: 5, rbp: 6, rsp: 7, r8: 8, r15: 15,
  rip: 16, eflags: 17, cs: 18, ss: 19, ds: 20, es: 21, fs: 22, gs: 23,
  st0: 24, fctrl: 32, fstat: 33, ftag: 34, fiseg: 35, fioff: 36, foseg: 37, fooff: 38, fop: 39,
  xmm0: 40, mxcsr: 56, orig_rax: 57, fs_base: 58, gs_base: 59,
} as const;

function build(): Arch {
  const regs: RegInfo[] = [];
  let xml =
    '<?xml version="1.0"?>\n<!DOCTYPE target SYSTEM "gdb-target.dtd">\n<target version="1.0">\n' +
    '  <architecture>i386:x86-64</architecture>\n  <osabi>GNU/Linux</osabi>\n';
  let offset = 0;
  for (const f of FEATURES) {
    xml += `<feature name="${f.name}">\n${f.preamble}`;
    for (const r of f.regs) {
      const regnum = regs.length;
      regs.push({ name: r.name, size: r.bits / 8, regnum, offset });
      offset += r.bits / 8;
      xml += `  <reg name="${r.name}" bitsize="${r.bits}" type="${r.type}"${r.group ? ` group="${r.group}"` : ''} regnum="${regnum}"/>\n`;
    }
    xml += '</feature>\n';
  }
  xml += '</target>\n';
  return {
    regs,
    gSize: offset,
    features: new Map([['target.xml', xml]]),
    expedited: [REG.rbp, REG.rsp, REG.rip],
  };
}

export const X86_64_LINUX: Arch = build();
