/**
 * A CPU's whole architectural state copied into a new CPU: the context a
 * child of fork starts from (Linux's copy_thread copies the parent's
 * registers, FPU state included). Each task has a CPU object of its own, so
 * a task switch is the choice of which CPU runs; the MSRs are the one
 * physical CPU's, shared by every task's.
 */
import { CPU } from './cpu.js';
import { fxrstorFrom, fxsaveTo } from './fpu-state.js';
import type { Memory } from './memory.js';

/** A new CPU in `mem` holding a copy of `from`'s registers, flags, segments, FPU/SSE state and hooks; its instruction count starts at 0. */
export function cloneCpu(from: CPU, mem: Memory): CPU {
  const c = new CPU(mem);
  c.rl.set(from.rl);
  c.rh.set(from.rh);
  c.rip = from.rip;
  c.nextRip = from.nextRip;
  c.lf.set(from.lf);
  c.flags = from.flags;
  c.fsBase = from.fsBase;
  c.gsBase = from.gsBase;
  c.kernelGsBase = from.kernelGsBase;
  c.seg.set(from.seg);
  c.cpl = from.cpl;
  c.compat = from.compat;
  // the thread's TLS descriptors are copied (copy_thread); the GDT's TSS descriptor is the one physical CPU's (IDTR and TR: tables, below)
  from.gdt.tls.forEach((d, k) => (c.gdt.tls[k] = d === null ? null : { ...d }));
  c.gdt.tssBase = from.gdt.tssBase;
  c.vendor = from.vendor;
  mem.setCpl(from.cpl);
  // the x87 stack, MXCSR and the XMM registers, as fxsave/fxrstor carry them
  const img = new Uint8Array(512);
  fxsaveTo(from, img);
  fxrstorFrom(c, img);
  c.archSyscall = from.archSyscall;
  c.onSyscall = from.onSyscall;
  c.onInt80 = from.onInt80;
  c.onSysenter = from.onSysenter;
  c.onTrap = from.onTrap;
  // the MSRs are the machine's (syscall_init wrote them once): one map for every task's CPU
  c.msr = from.msr;
  c.tables = from.tables;
  return c;
}

/** The FPU/SSE state a new program starts with (Linux's fpu__clear: FCW 0x37f, MXCSR 0x1f80, every register empty or zero). */
export function resetFpu(cpu: CPU): void {
  const img = new Uint8Array(512);
  const dv = new DataView(img.buffer);
  dv.setUint16(0, 0x37f, true);
  dv.setUint32(24, 0x1f80, true);
  fxrstorFrom(cpu, img);
}
