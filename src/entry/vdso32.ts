/**
 * The 32-bit vDSO a compat program gets (src/guest/vdso32, built into
 * generated/vdso32.ts), with the entry sequence of __kernel_vsyscall chosen
 * as Linux's ALTERNATIVE_2 patches it at boot: `movl %esp, %ebp; sysenter`,
 * `movl %ecx, %ebp; syscall`, or the nops that fall through to int $0x80.
 */
import type { CpuVendor } from '../cpu/cpu.js';
import { VDSO32_IMAGE, VDSO32_SYM } from '../guest/generated/vdso32.js';

export type CompatEntry = 'sysenter' | 'syscall' | 'int80';

/** The entries --compat-entry offers. */
export const COMPAT_ENTRIES: readonly CompatEntry[] = ['sysenter', 'syscall', 'int80'];
/**
 * What Linux's vDSO uses on the CPU emulated by default, a GenuineIntel one:
 * X86_FEATURE_SYSENTER32 (an AMD CPU gets X86_FEATURE_SYSCALL32: syscall).
 */
export const DEFAULT_COMPAT_ENTRY: CompatEntry = 'sysenter';

/**
 * The CPU vendor an entry implies: SYSCALL from compat mode exists only on
 * AMD CPUs (Intel's raise #UD), SYSENTER in long mode only on Intel's (AMD's
 * raise #UD), so choosing the vDSO's entry chooses the CPU that CPUID reports;
 * int $0x80 works on both (Intel, the default, is kept).
 */
export function compatVendor(entry: CompatEntry): CpuVendor {
  return entry === 'syscall' ? 'AuthenticAMD' : 'GenuineIntel';
}

const SEQUENCE: Record<CompatEntry, number[] | null> = {
  sysenter: [0x89, 0xe5, 0x0f, 0x34],
  syscall: [0x89, 0xcd, 0x0f, 0x05],
  int80: null,
};

export interface Vdso32 {
  image: Uint8Array;
  /** Offsets of __kernel_vsyscall and int80_landing_pad in the image. */
  vsyscall: number;
  landingPad: number;
}

export function vdso32(entry: CompatEntry): Vdso32 {
  const image = new Uint8Array(Buffer.from(VDSO32_IMAGE, 'base64'));
  const seq = SEQUENCE[entry];
  if (seq !== null) image.set(seq, VDSO32_SYM.vsyscall_alt);
  return { image, vsyscall: VDSO32_SYM.__kernel_vsyscall, landingPad: VDSO32_SYM.int80_landing_pad };
}
