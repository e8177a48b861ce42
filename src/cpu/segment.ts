/**
 * The segments a compat-mode (32-bit) program sees: Linux's x86-64 GDT
 * layout (arch/x86/include/asm/segment.h) and the three TLS descriptors each
 * thread owns (GDT_ENTRY_TLS_MIN..MAX), which set_thread_area fills and a
 * `mov %ax,%gs` loads. In 64-bit mode only the fs/gs bases matter (set
 * through MSRs or arch_prctl); in compat mode a segment's base comes from its
 * descriptor, so glibc's i386 TLS (`%gs:0x10`, `%gs:-4`) needs these.
 */
import { CpuFault, Vector } from './fault.js';

/** Selectors of Linux's x86-64 GDT (GDT_ENTRY_* * 8 + RPL). */
export const __KERNEL_CS = 0x10;
export const __KERNEL_DS = 0x18;
export const __USER32_CS = 0x23;
export const __USER_DS = 0x2b;
export const __USER_CS = 0x33;
/** The thread's TLS descriptors: GDT entries 12, 13 and 14 (GDT_ENTRY_TLS_ENTRIES). */
export const GDT_ENTRY_TLS_MIN = 12;
export const GDT_ENTRY_TLS_ENTRIES = 3;

/** Segment registers in the order of ModRM.reg for mov Sreg (and Insn seg numbering of cpu.seg). */
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;

/** One TLS descriptor as struct user_desc describes it (the fields a data segment uses). */
export interface TlsDesc {
  base: number;
  /** Limit in bytes - 1 (limit_in_pages already applied). */
  limit: number;
  /** seg_32bit, contents, read_exec_only, limit_in_pages, seg_not_present, useable (user_desc's bits). */
  flags: number;
}

/** GDT_ENTRY_TSS: the descriptor `ltr` loads. */
export const GDT_ENTRY_TSS = 8;

/** The GDT entries a user program can load: the flat user segments and the thread's TLS descriptors. */
export class Gdt {
  /**
   * The base of the TSS descriptor (GDT_ENTRY_TSS): Linux's set_tss_desc
   * writes it; here the GDT is the host's, which points it at the guest
   * kernel's cpu_tss_rw when it maps the image (0: none).
   */
  tssBase = 0;

  /** TLS descriptors by entry - GDT_ENTRY_TLS_MIN; null = empty (not present). */
  readonly tls: (TlsDesc | null)[] = [null, null, null];

  /**
   * The base a data segment register gets for `sel` at CPL 3: 0 for the null
   * selector and the flat user segments, the TLS descriptor's base for its
   * entries. Anything else is #GP(selector), as the CPU raises for a
   * descriptor a user program may not load (SIGSEGV in Linux).
   */
  dataBase(sel: number): number {
    sel &= 0xffff;
    if ((sel & ~3) === 0) return 0; // the null selector (any RPL)
    if ((sel & 4) !== 0 || (sel & 3) !== 3) throw new CpuFault(Vector.GP, 0, sel & ~3); // LDT, or RPL below CPL
    const idx = sel >> 3;
    if (sel === __USER_DS || sel === __USER32_CS || sel === __USER_CS) return 0;
    const k = idx - GDT_ENTRY_TLS_MIN;
    if (k >= 0 && k < GDT_ENTRY_TLS_ENTRIES) {
      const d = this.tls[k];
      // seg_not_present: #NP in hardware, SIGBUS... Linux gives SIGSEGV for both; #GP is what is modelled
      if (d !== null && (d.flags & SEG_NOT_PRESENT) === 0) return d.base;
    }
    throw new CpuFault(Vector.GP, 0, sel & ~3);
  }
}

/** user_desc flag bits (asm/ldt.h: after base_addr and limit, a bitfield from bit 0). */
export const SEG_32BIT = 1 << 0;
export const READ_EXEC_ONLY = 1 << 3;
export const LIMIT_IN_PAGES = 1 << 4;
export const SEG_NOT_PRESENT = 1 << 5;
export const USEABLE = 1 << 6;

/**
 * The descriptor-table registers of the one physical CPU (every task's CPU
 * shares them, as the MSRs): IDTR from `lidt`, and TR from `ltr` (the base
 * of the GDT's TSS descriptor: Gdt.tssBase; only RSP0 is read).
 */
export class DescriptorTables {
  idtBase = 0;
  /** IDTR.limit; 0: no IDT loaded, nothing can be delivered. */
  idtLimit = 0;
  /** TR: address of the 64-bit TSS (struct x86_hw_tss), RSP0 at +4; 0: none loaded. */
  tss = 0;
}
