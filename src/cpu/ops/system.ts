/**
 * System instructions: syscall, cpuid, rdtsc, hlt, int3/int, ud2, fences,
 * and the privileged ones that fault at CPL 3.
 *
 * CPUID describes a consistent baseline x86-64 CPU: SSE/SSE2 (no SSE3+, no
 * AVX, no OSXSAVE, no BMI), CX8/CX16, CMOV, FXSR, SYSCALL, NX, LM, LAHF, and
 * ERMS (a hint only: rep movsb is baseline, and glibc then copies large blocks
 * with it, which the interpreter does a page at a time). Intel's cache leaves
 * 2 and 4 describe a plausible cache hierarchy, because glibc sizes its
 * memcpy thresholds from them.
 */
import { CPU, RAX, RBX, RCX, RDX } from '../cpu.js';
import { CpuFault, Vector } from '../fault.js';
import type { Insn } from '../insn.js';

function str4(s: string, k: number): number {
  let v = 0;
  for (let j = 0; j < 4; j++) v |= (s.charCodeAt(k + j) || 0) << (8 * j);
  return v;
}

const BRAND = 'entrystub virtual x86-64 CPU'.padEnd(48, '\0');

/** [eax, ebx, ecx, edx] for a leaf and subleaf. */
export function cpuidLeaf(leaf: number, sub: number): [number, number, number, number] {
  switch (leaf >>> 0) {
    case 0:
      return [0xb, str4('GenuineIntel', 0), str4('GenuineIntel', 8), str4('GenuineIntel', 4)];
    case 1: {
      const eax = 0x000206a7; // family 6, model 0x2a, stepping 7
      const ebx = (1 << 16) | (8 << 8); // 1 logical CPU, clflush 64 bytes
      const ecx = (1 << 13) | (1 << 31); // CX16, hypervisor
      const edx =
        (1 << 0) | // FPU
        (1 << 4) | // TSC
        (1 << 5) | // MSR
        (1 << 8) | // CX8
        (1 << 11) | // SEP
        (1 << 13) | // PGE
        (1 << 15) | // CMOV
        (1 << 19) | // CLFSH
        (1 << 23) | // MMX
        (1 << 24) | // FXSR
        (1 << 25) | // SSE
        (1 << 26); // SSE2
      return [eax, ebx, ecx, edx];
    }
    case 2:
      // one descriptor byte 0xff: "use leaf 4 for cache parameters"
      return [0x00ff0001, 0, 0, 0];
    case 4: {
      // type (1 data, 2 instr, 3 unified) | level << 5 | self-init; ebx: ways-1<<22 | parts-1<<12 | line-1
      const caches = [
        [1, 1, 8, 64, 64], // L1d 32K: 8 ways, 64 sets
        [2, 1, 8, 64, 64], // L1i 32K
        [3, 2, 8, 64, 512], // L2 256K
        [3, 3, 16, 64, 8192], // L3 8M
      ];
      const c = caches[sub];
      if (!c) return [0, 0, 0, 0];
      const [type, level, ways, line, sets] = c;
      return [type | (level << 5) | (1 << 8), ((ways - 1) << 22) | (line - 1), sets - 1, 0];
    }
    case 7:
      return sub === 0 ? [0, 1 << 9 /* ERMS */, 0, 0] : [0, 0, 0, 0];
    case 0xb:
      if (sub === 0) return [0, 1, 0x100, 0];
      if (sub === 1) return [0, 1, 0x201, 0];
      return [0, 0, sub & 0xff, 0];
    case 0x80000000:
      return [0x80000008, 0, 0, 0];
    case 0x80000001:
      return [0, 0, 1 /* LAHF */, (1 << 11) | (1 << 20) | (1 << 29)];
    case 0x80000002:
    case 0x80000003:
    case 0x80000004: {
      const k = ((leaf >>> 0) - 0x80000002) * 16;
      return [str4(BRAND, k), str4(BRAND, k + 4), str4(BRAND, k + 8), str4(BRAND, k + 12)];
    }
    case 0x80000006:
      return [0, 0, (256 << 16) | (6 << 12) | 64, 0];
    case 0x80000008:
      return [0x3027, 0, 0, 0];
    default:
      return [0, 0, 0, 0];
  }
}

export function cpuid(cpu: CPU, _i: Insn): void {
  const [a, b, c, d] = cpuidLeaf(cpu.rl[RAX], cpu.rl[RCX]);
  cpu.setReg(RAX, 4, a, 0);
  cpu.setReg(RBX, 4, b, 0);
  cpu.setReg(RCX, 4, c, 0);
  cpu.setReg(RDX, 4, d, 0);
}

/** rdtsc: a deterministic time stamp derived from retired instructions. */
export function rdtsc(cpu: CPU, _i: Insn): void {
  const t = cpu.icount * 3;
  cpu.setReg(RAX, 4, t % 4294967296 | 0, 0);
  cpu.setReg(RDX, 4, Math.floor(t / 4294967296) | 0, 0);
}

/** syscall in the direct entry model: the host kernel handles it in place. */
export function syscall(cpu: CPU, i: Insn): void {
  if (cpu.onSyscall === null) throw new CpuFault(Vector.UD);
  cpu.onSyscall(cpu, i);
}

export function ud(_cpu: CPU, _i: Insn): void {
  throw new CpuFault(Vector.UD);
}

/** Privileged at CPL 3: hlt, cli, sti, in, out, wrmsr, rdmsr ... */
export function privileged(cpu: CPU, i: Insn): void {
  if (cpu.cpl !== 0) throw new CpuFault(Vector.GP);
  cpu.onTrap?.(cpu, 'privileged', i);
}

export function int3(_cpu: CPU, _i: Insn): void {
  throw new CpuFault(Vector.BP);
}

/** int imm8: no user-accessible gates besides int3/into in this model (Linux gives SIGSEGV). */
export function intN(_cpu: CPU, i: Insn): void {
  if ((i.imm & 0xff) === 3) throw new CpuFault(Vector.BP);
  throw new CpuFault(Vector.GP, 0, ((i.imm & 0xff) << 3) | 2);
}
