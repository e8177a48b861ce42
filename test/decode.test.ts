/**
 * The decoder checked against iced-x86 (a complete x86 decoder) over real
 * code: every instruction in the executable segments of busybox and of the
 * fixtures, decoded by a linear sweep. Wherever our decoder accepts an
 * instruction its length must match; and every instruction of the ISA
 * classes our CPUID advertises must be accepted.
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import iced from 'iced-x86';
import { decode } from '../src/cpu/decode.js';
import { Memory, PROT_EXEC, PROT_READ, PROT_USER } from '../src/cpu/memory.js';
import { CpuFault } from '../src/cpu/fault.js';
import { parseElf } from '../src/kernel/loader.js';
import { ROOT, busyboxPath } from './helpers/cases.js';

const { Decoder, DecoderOptions, CpuidFeature, Formatter, FormatterSyntax } = iced;

/** ISA classes the CPU implements (CPUID baseline + what libc may use unconditionally). */
const SUPPORTED = new Set(['INTEL8086', 'INTEL186', 'INTEL286', 'INTEL386', 'INTEL486', 'X64', 'CMOV', 'SSE', 'SSE2', 'CX8', 'CMPXCHG16B', 'MULTIBYTENOP', 'PAUSE', 'RDTSC', 'CPUID', 'FXSR', 'CET_IBT', 'SSE3', 'SSSE3', 'SSE4_1', 'FPU', 'FPU287', 'FPU387', 'CLFSH', 'SYSCALL']);
/** Instructions of those classes that a user program cannot execute or that we leave out on purpose. */
const EXEMPT = /^(in[bwl]?|out[bwl]?|ins[bwl]?|outs[bwl]?|iret[lqw]?|sysret[lq]?|lret[lqw]?|ljmp[lqw]?|lcall[lqw]?|sysexit[lq]?|hlt|cli|sti|lgdt|lidt|sgdt|sidt|lldt|sldt|ltr|str|lmsw|smsw|clts|invd|wbinvd|invlpg|sysret|iret|swapgs|rdmsr|wrmsr|rsm|lar|lsl|verr|verw|arpl|bound|into|int1|ud0|ud1|xlat|les|lds|lss|lfs|lgs|jmpf|callf|retf|lcall|ljmp|lret|sysexit|sysenter|fnsave|frstor|fldenv|fnstenv|fsave|fstenv|fbld|fbstp|fnclex|fclex|fdecstp|fincstp|ffree|ffreep|fsetpm|fnsetpm|feni|fdisi|emms|maskmovq|ud2|monitor|mwait|enter|syscall|int|int3|aa[adms]|da[as]|f[a-z0-9]*)(\s|$)/;

function execSegments(file: string): { addr: number; bytes: Uint8Array }[] {
  const data = new Uint8Array(fs.readFileSync(file));
  const elf = parseElf(data, file);
  return elf.phdrs
    .filter((p) => p.type === 1 && p.flags & 1)
    .map((p) => ({ addr: p.vaddr, bytes: data.subarray(p.offset, p.offset + p.filesz) }));
}

function sweep(file: string): { checked: number; mismatches: string[]; missing: Map<string, number> } {
  const mismatches: string[] = [];
  const missing = new Map<string, number>();
  let checked = 0;
  const fmt = new Formatter(FormatterSyntax.Gas);
  for (const seg of execSegments(file)) {
    const mem = new Memory();
    mem.map(seg.addr, seg.bytes.length + 16, PROT_READ | PROT_EXEC | PROT_USER);
    mem.poke(seg.addr, seg.bytes);
    const d = new Decoder(64, seg.bytes, DecoderOptions.None);
    d.ip = BigInt(seg.addr);
    while (d.canDecode) {
      const ins = d.decode();
      const at = Number(ins.ip);
      const len = ins.length;
      const features = [...ins.cpuidFeatures()].map((f) => CpuidFeature[f]);
      const invalid = ins.isInvalid;
      const text = invalid ? '' : fmt.format(ins);
      ins.free();
      if (invalid) continue;
      let ours: number | null = null;
      try {
        ours = decode(mem, at).len;
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
      }
      if (ours !== null) {
        checked++;
        if (ours !== len && mismatches.length < 20) mismatches.push(`${at.toString(16)}: ${text} iced ${len} ours ${ours}`);
      } else if (features.every((f) => SUPPORTED.has(f)) && !EXEMPT.test(text)) {
        const key = text.split(' ')[0];
        missing.set(key, (missing.get(key) ?? 0) + 1);
      }
    }
    d.free();
  }
  return { checked, mismatches, missing };
}

describe('decoder agrees with iced-x86', () => {
  const files = [busyboxPath(), ...fs.readdirSync(path.join(ROOT, 'test/fixtures/bin')).map((f) => path.join(ROOT, 'test/fixtures/bin', f))];
  for (const file of files) {
    it(path.basename(file), () => {
      const r = sweep(file);
      expect(r.mismatches).toEqual([]);
      expect(Object.fromEntries(r.missing)).toEqual({});
      expect(r.checked).toBeGreaterThan(10);
    });
  }
});
