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
import { CPU, RAX, RBX, RCX, RDX, RSP, IF, RF, type CpuVendor } from '../cpu.js';
import { GDT_ENTRY_TSS, __USER32_CS } from '../segment.js';
import { CpuFault, Vector } from '../fault.js';
import type { Insn } from '../insn.js';

function str4(s: string, k: number): number {
  let v = 0;
  for (let j = 0; j < 4; j++) v |= (s.charCodeAt(k + j) || 0) << (8 * j);
  return v;
}

const BRAND = 'entrystub virtual x86-64 CPU'.padEnd(48, '\0');

/** [eax, ebx, ecx, edx] for a leaf and subleaf, on a CPU of `vendor` (only leaf 0 differs). */
export function cpuidLeaf(leaf: number, sub: number, vendor: CpuVendor = 'GenuineIntel'): [number, number, number, number] {
  switch (leaf >>> 0) {
    case 0:
      return [0xb, str4(vendor, 0), str4(vendor, 8), str4(vendor, 4)];
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
  const [a, b, c, d] = cpuidLeaf(cpu.rl[RAX], cpu.rl[RCX], cpu.vendor);
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

/**
 * syscall: in the native entry model the architectural SYSCALL; otherwise the
 * host's hook decides (direct handling, the seccomp-style trap, lazy rewriting).
 */
export function syscall(cpu: CPU, i: Insn): void {
  if (cpu.archSyscall) {
    syscallArch(cpu, i);
    return;
  }
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

// ---- privilege transitions and model-specific registers ----

export const MSR_EFER = 0xc0000080;
export const MSR_STAR = 0xc0000081;
export const MSR_LSTAR = 0xc0000082;
export const MSR_CSTAR = 0xc0000083;
export const MSR_SYSCALL_MASK = 0xc0000084;
export const MSR_FS_BASE = 0xc0000100;
export const MSR_GS_BASE = 0xc0000101;
export const MSR_KERNEL_GS_BASE = 0xc0000102;
export const MSR_IA32_SYSENTER_CS = 0x174;
export const MSR_IA32_SYSENTER_ESP = 0x175;
export const MSR_IA32_SYSENTER_EIP = 0x176;
const EFER_SCE = 1;
const TWO32 = 4294967296;

function canonical(v: number): boolean {
  return v >= -0x800000000000 && v < 0x800000000000;
}

/** Read an MSR as a signed number (exact for addresses and the small values Linux uses). */
export function readMsr(cpu: CPU, msr: number): number {
  switch (msr) {
    case MSR_FS_BASE:
      return cpu.fsBase;
    case MSR_GS_BASE:
      return cpu.gsBase;
    case MSR_KERNEL_GS_BASE:
      return cpu.kernelGsBase;
    default:
      return cpu.msr.get(msr) ?? 0;
  }
}

export function writeMsr(cpu: CPU, msr: number, v: number): void {
  switch (msr) {
    case MSR_FS_BASE:
      cpu.fsBase = v;
      return;
    case MSR_GS_BASE:
      cpu.gsBase = v;
      return;
    case MSR_KERNEL_GS_BASE:
      cpu.kernelGsBase = v;
      return;
    case MSR_EFER:
    case MSR_STAR:
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_SYSCALL_MASK:
    case MSR_IA32_SYSENTER_CS:
    case MSR_IA32_SYSENTER_ESP:
    case MSR_IA32_SYSENTER_EIP:
      cpu.msr.set(msr, v);
      return;
    default:
      throw new CpuFault(Vector.GP);
  }
}

/** Enter privilege level `cpl` with code/stack selectors cs/ss; CS decides the mode (__USER32_CS: compat). */
export function setPrivilege(cpu: CPU, cpl: number, cs: number, ss: number): void {
  cpu.cpl = cpl;
  cpu.compat = cs === __USER32_CS;
  cpu.seg[1] = cs;
  cpu.seg[2] = ss;
  cpu.mem.setCpl(cpl);
}

/**
 * SYSCALL as the architecture defines it (the native entry model): RCX = next
 * RIP, R11 = RFLAGS (RF cleared), RFLAGS &= ~FMASK, CS/SS from STAR[47:32],
 * CPL 0, RIP = LSTAR (from compat mode: CSTAR, with RCX the zero-extended
 * EIP; only AMD CPUs get here, compat.ts). RSP is not changed and nothing is
 * pushed.
 */
export function syscallArch(cpu: CPU, i: Insn): void {
  if (((cpu.msr.get(MSR_EFER) ?? 0) & EFER_SCE) === 0) throw new CpuFault(Vector.UD);
  const flags = cpu.getFlags() & ~RF_BIT;
  cpu.setNum(RCX, i.next);
  cpu.set64(11, flags, 0);
  cpu.setFlags(flags & ~(cpu.msr.get(MSR_SYSCALL_MASK) ?? 0));
  const star = cpu.msr.get(MSR_STAR) ?? 0;
  const sel = Math.floor(star / TWO32) & 0xffff;
  cpu.nextRip = cpu.msr.get(cpu.compat ? MSR_CSTAR : MSR_LSTAR) ?? 0;
  setPrivilege(cpu, 0, sel & 0xfffc, (sel + 8) & 0xffff);
  cpu.onTrap?.(cpu, 'syscall-entry', i);
}

const RF_BIT = 1 << 16;

/**
 * SYSRETQ: #GP(0) at CPL 0 if RCX is not canonical (Intel: the fault is taken
 * in kernel mode, on the user stack), else RIP = RCX, RFLAGS = (R11 & 0x3C7FD7) | 2,
 * CS = STAR[63:48] + 16 | 3, SS = STAR[63:48] + 8 | 3, CPL 3.
 * SYSRETL (no REX.W): to compat mode, EIP = ECX, CS = STAR[63:48] | 3
 * (Linux puts __USER32_CS there), SS as SYSRETQ's.
 */
export function sysret(cpu: CPU, i: Insn): void {
  if (cpu.cpl !== 0) throw new CpuFault(Vector.GP);
  const wide = (i.rex & 8) !== 0;
  const rip = wide ? cpu.getNum(RCX) : cpu.rl[RCX] >>> 0;
  if (!canonical(rip)) throw new CpuFault(Vector.GP);
  const star = cpu.msr.get(MSR_STAR) ?? 0;
  const sel = Math.floor(star / TWO32 / 65536) & 0xffff;
  cpu.setFlags((cpu.rl[11] & 0x3c7fd7) | 2);
  setPrivilege(cpu, 3, ((wide ? sel + 16 : sel) | 3) & 0xffff, ((sel + 8) | 3) & 0xffff);
  cpu.nextRip = rip;
  cpu.onTrap?.(cpu, 'return-to-user', i);
}

/** IRETQ: pop RIP, CS, RFLAGS, RSP, SS; the new CPL is CS's RPL, and CS the mode (__USER32_CS: compat). */
export function iretq(cpu: CPU, i: Insn): void {
  const sp = cpu.getNum(RSP);
  const mem = cpu.mem;
  const ripLo = mem.read64(sp), ripHi = mem.hi;
  const cs = mem.read64(sp + 8) & 0xffff;
  const flags = mem.read64(sp + 16);
  const spLo = mem.read64(sp + 24), spHi = mem.hi;
  const ss = mem.read64(sp + 32) & 0xffff;
  const rip = ripHi * TWO32 + (ripLo >>> 0);
  const newCpl = cs & 3;
  if (!canonical(rip) || newCpl < cpu.cpl || (newCpl === 3 && ((cs !== 0x33 && cs !== __USER32_CS) || ss !== 0x2b)) || (cs === __USER32_CS && rip >= TWO32) || (newCpl === 0 && cs !== 0x10))
    throw new CpuFault(Vector.GP);
  const keep = cpu.cpl === 0 ? 0 : IF | IOPL_BITS;
  cpu.setFlags((cpu.getFlags() & keep) | (flags & ~keep & 0x3f7fd7) | 2);
  cpu.set64(RSP, spLo, spHi);
  setPrivilege(cpu, newCpl, cs, ss);
  cpu.nextRip = rip;
  if (newCpl === 3) cpu.onTrap?.(cpu, 'return-to-user', i);
}

const IOPL_BITS = 3 << 12;

/**
 * SYSENTER from compat mode (Intel; AMD CPUs raise #UD in long mode): CPL 0
 * in 64-bit mode with CS = IA32_SYSENTER_CS, SS = CS + 8, RSP =
 * IA32_SYSENTER_ESP, RIP = IA32_SYSENTER_EIP; VM, IF and RF clear (TF, NT and
 * AC are kept: the kernel's entry fixes them). Nothing is saved.
 * #GP(0) if IA32_SYSENTER_CS is 0 (no kernel set it up).
 */
export function sysenterArch(cpu: CPU, i: Insn): void {
  if (cpu.vendor !== 'GenuineIntel') throw new CpuFault(Vector.UD);
  const cs = (cpu.msr.get(MSR_IA32_SYSENTER_CS) ?? 0) & 0xfffc;
  if (cs === 0) throw new CpuFault(Vector.GP, 0, 0);
  cpu.setFlags(cpu.getFlags() & ~(VM_BIT | IF | RF));
  setPrivilege(cpu, 0, cs, cs + 8);
  cpu.setNum(RSP, cpu.msr.get(MSR_IA32_SYSENTER_ESP) ?? 0);
  cpu.nextRip = cpu.msr.get(MSR_IA32_SYSENTER_EIP) ?? 0;
  cpu.onTrap?.(cpu, 'sysenter-entry', i);
}

const VM_BIT = 1 << 17;

/**
 * SYSEXIT (Intel; AMD CPUs raise #UD in long mode), as the SDM defines it:
 * #GP(0) unless CPL is 0 and IA32_SYSENTER_CS[15:2] is not 0; then CPL 3
 * with, for the 32-bit form (no REX.W), CS = IA32_SYSENTER_CS + 16 | 3 (a
 * compat-mode segment: __USER32_CS for Linux's __KERNEL_CS), SS = CS + 8,
 * ESP = ECX and EIP = EDX, zero-extended; SYSEXITQ: CS = IA32_SYSENTER_CS +
 * 32 | 3, RSP = RCX and RIP = RDX, #GP(0) if either is not canonical.
 * RFLAGS is left as it is. (Linux 5.8 returns from SYSENTER by SYSRETL, so
 * no kernel here executes it; it is an instruction to get right.)
 */
export function sysexit(cpu: CPU, i: Insn): void {
  if (cpu.vendor !== 'GenuineIntel') throw new CpuFault(Vector.UD);
  const base = cpu.msr.get(MSR_IA32_SYSENTER_CS) ?? 0;
  if (cpu.cpl !== 0 || (base & 0xfffc) === 0) throw new CpuFault(Vector.GP, 0, 0);
  const wide = (i.rex & 8) !== 0;
  const sp = wide ? cpu.getNum(RCX) : cpu.rl[RCX] >>> 0;
  const ip = wide ? cpu.getNum(RDX) : cpu.rl[RDX] >>> 0;
  if (!canonical(sp) || !canonical(ip)) throw new CpuFault(Vector.GP, 0, 0);
  const cs = ((base & 0xffff) + (wide ? 32 : 16)) | 3;
  if (wide) cpu.set64(RSP, cpu.rl[RCX], cpu.rh[RCX]);
  else cpu.setNum(RSP, sp);
  setPrivilege(cpu, 3, cs & 0xffff, (cs + 8) & 0xffff);
  cpu.nextRip = ip;
  cpu.onTrap?.(cpu, 'return-to-user', i);
}

/**
 * ltr r/m16: TR from the GDT's TSS descriptor (the only one this GDT has:
 * GDT_ENTRY_TSS); an interrupt from user mode reads RSP0 there (interrupt.ts).
 */
export function ltr(cpu: CPU, i: Insn): void {
  if (cpu.cpl !== 0) throw new CpuFault(Vector.GP, 0, 0);
  const sel = cpu.readRMsize(i, 2) & 0xffff;
  if (sel >> 3 !== GDT_ENTRY_TSS || (sel & 4) !== 0 || cpu.gdt.tssBase === 0) throw new CpuFault(Vector.GP, 0, sel & 0xfffc);
  cpu.tables.tss = cpu.gdt.tssBase;
}

export function swapgs(cpu: CPU, _i: Insn): void {
  if (cpu.cpl !== 0) throw new CpuFault(Vector.GP);
  const t = cpu.gsBase;
  cpu.gsBase = cpu.kernelGsBase;
  cpu.kernelGsBase = t;
}

export function rdmsr(cpu: CPU, _i: Insn): void {
  if (cpu.cpl !== 0) throw new CpuFault(Vector.GP);
  const v = readMsr(cpu, cpu.rl[RCX] >>> 0);
  const hi = Math.floor(v / TWO32);
  cpu.setReg(RAX, 4, (v - hi * TWO32) | 0, 0);
  cpu.setReg(RDX, 4, hi | 0, 0);
}

export function wrmsr(cpu: CPU, _i: Insn): void {
  if (cpu.cpl !== 0) throw new CpuFault(Vector.GP);
  writeMsr(cpu, cpu.rl[RCX] >>> 0, cpu.rl[RDX] * TWO32 + (cpu.rl[RAX] >>> 0));
}

/** LIDT m16&64: IDTR.limit and IDTR.base from memory (the guest kernel's idt_descr). */
export function lidt(cpu: CPU, i: Insn): void {
  if (cpu.cpl !== 0) throw new CpuFault(Vector.GP);
  const a = cpu.ea(i);
  const limit = cpu.mem.read16(a);
  const lo = cpu.mem.read64(a + 2);
  cpu.tables.idtBase = cpu.mem.hi * TWO32 + (lo >>> 0);
  cpu.tables.idtLimit = limit;
}

export function cli(cpu: CPU, _i: Insn): void {
  if (cpu.cpl !== 0) throw new CpuFault(Vector.GP);
  cpu.flags &= ~IF;
}

export function sti(cpu: CPU, _i: Insn): void {
  if (cpu.cpl !== 0) throw new CpuFault(Vector.GP);
  cpu.flags |= IF;
}

/** vmcall: the guest kernel's hypercall to the host (service number in EAX). */
export function vmcall(cpu: CPU, i: Insn): void {
  if (cpu.onTrap === null) throw new CpuFault(Vector.UD);
  cpu.onTrap(cpu, 'vmcall', i);
}

export function hlt(cpu: CPU, i: Insn): void {
  if (cpu.cpl !== 0) throw new CpuFault(Vector.GP);
  cpu.onTrap?.(cpu, 'hlt', i);
  cpu.stopRequested = true;
}
