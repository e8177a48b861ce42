/**
 * Linux 5.8's native entry (entry_64.S): SYSCALL enters at CPL 0 through
 * MSR_LSTAR, which the guest's own syscall_init() programmed at boot;
 * entry_SYSCALL_64 swaps GS, switches to the task's kernel stack and builds
 * pt_regs at its top; do_syscall_64 dispatches; the six opportunistic-SYSRET
 * checks choose `sysretq` or the IRET path.
 *
 * Which check sent a return to IRET is not computed here: a probe on each
 * check's label records the last one the guest code reached.
 */
import { RSP, type CPU } from '../cpu/cpu.js';
import { CpuFault, Vector } from '../cpu/fault.js';
import { deliverInterrupt, interruptsEnabled } from '../cpu/interrupt.js';
import { setPrivilege } from '../cpu/ops/system.js';
import { runBlocks, type BlockCache } from '../cpu/run.js';
import type { LoadedImage } from '../kernel/loader.js';
import type { SigInfo } from '../kernel/signal.js';
import { CPU_ENTRY_AREA, HC, LOCAL_TIMER_VECTOR, SEL, SIZEOF_PTREGS, SYSRETL_CHECKS, SYSRET_CHECKS, THREAD_SIZE } from '../guest/generated/abi.js';
import { GuestKernelEntry, compatTrip, type CompatHow, type GuestTask, type Trip } from './guest-kernel.js';
import { rebuiltHooks, type CpuHooks, type EntryPort } from './model.js';
import { peekWord, pokeWord } from './ptregs.js';
import { DEFAULT_COMPAT_ENTRY, compatVendor, vdso32, type CompatEntry, type Vdso32 } from './vdso32.js';

const SIGSEGV = 11, SI_KERNEL = 0x80;

const COMPAT_ENTRY_NAMES: Record<CompatHow, string> = { sysenter: 'entry_SYSENTER_compat', cstar: 'entry_SYSCALL_compat', int80: 'entry_INT80_compat' };

export class NativeEntry extends GuestKernelEntry {
  readonly label = 'native';
  /** A 32-bit program enters through the compat entries (entry_64_compat.S). */
  override readonly compat = true;
  private booted = false;

  constructor(
    port: EntryPort,
    /** What __kernel_vsyscall uses: what Linux's vDSO would on the emulated CPU's vendor (vdso32.ts). */
    private readonly compatEntry: CompatEntry = DEFAULT_COMPAT_ENTRY,
  ) {
    super(port, 'native', false);
  }

  override vdso32(): Vdso32 {
    return vdso32(this.compatEntry);
  }

  /** The GDT's TSS descriptor points at the image's cpu_tss_rw (the GDT is the host's: segment.ts), for the guest's ltr. */
  override mapKernel(): void {
    super.mapKernel();
    this.port.cpu.gdt.tssBase = this.kernel.sym('cpu_tss_rw');
    const kp = this.port.kernelPages;
    for (let a = this.kernel.sym('__start___ex_table'); a < this.kernel.sym('__stop___ex_table'); a += 16) this.exTable.set(peekWord(kp, a), peekWord(kp, a + 8));
  }

  /** __ex_table: the kernel instructions that may fault on a user address, and where each goes then. */
  private readonly exTable = new Map<number, number>();

  exec(_img: LoadedImage, vdso: number | null = null): void {
    const { cpu, blocks } = this.port;
    cpu.vendor = compatVendor(this.compatEntry);
    this.t.vdso = vdso ?? 0;
    this.setCurrent(this.t);
    Object.assign(cpu, this.cpuHooks());
    // the machine boots once, with its first program; an execve finds the MSRs set
    if (!this.booted) this.boot();
    this.installProbes(blocks);
  }

  protected cpuHooks(): CpuHooks {
    const k = this.kernel;
    const cstar = k.sym('entry_SYSCALL_compat'), int80 = k.sym('entry_INT80_compat');
    return rebuiltHooks({
      onTrap: (c, kind, i) => {
        // the compat entries take the i386 number: EAX, zero-extended (movl %eax, %eax)
        if (kind === 'syscall-entry') {
          if (c.nextRip === cstar) this.enter(c.icount, c.rl[0] >>> 0, 'cstar', i.addr);
          else this.enter(c.icount, c.rl[0], 'lstar', i.addr);
        } else if (kind === 'sysenter-entry') this.enter(c.icount, c.rl[0] >>> 0, 'sysenter', i.addr);
        else if (kind === 'interrupt') {
          if (c.nextRip === int80) this.enter(c.icount, c.rl[0] >>> 0, 'int80', i.addr);
        } else if (kind === 'return-to-user') this.returnStop();
        else if (kind === 'vmcall') {
          if (c.cpl !== 0) throw new CpuFault(Vector.UD); // a hypercall is the guest kernel's, not the program's
          this.hypercall(c, i);
        }
      },
    });
  }

  installProbes(blocks: BlockCache): void {
    const k = this.kernel;
    this.markKernelCode(blocks);
    blocks.setProbe(k.sym('entry_SYSRETQ_unsafe_stack'), (c) => this.leave(c.icount + 1, 'sysretq'));
    blocks.setProbe(k.sym('entry_SYSRETL_compat_unsafe_stack'), (c) => {
      this.countCompat('sysretl');
      this.leave(c.icount + 1, 'sysretl');
    });
    for (const check of SYSRETL_CHECKS)
      blocks.setProbe(k.sym(check.label), () => {
        if (this.trip) this.trip.check = check.n + 1;
      });
    blocks.setProbe(k.sym('native_irq_return_iret'), (c) => {
      this.countCompat('iretq');
      this.leave(c.icount + 1, () => this.iretRoute());
    });
    for (const check of SYSRET_CHECKS)
      blocks.setProbe(k.sym(check.label), () => {
        if (this.trip) this.trip.check = check.n;
      });
    this.probePending(blocks);
  }

  /** Run the guest's boot code at CPL 0 (syscall_init programs the MSRs), then drop to the program in user mode. */
  private boot(): void {
    const { cpu, blocks } = this.port;
    const user = { rip: cpu.rip, rsp: cpu.getNum(RSP), flags: cpu.getFlags(), cs: cpu.seg[1] };
    setPrivilege(cpu, 0, SEL.KERNEL_CS, SEL.KERNEL_DS);
    cpu.setFlags(2);
    cpu.rip = this.kernel.sym('start_kernel_entry');
    for (let n = 0; n < 100 && !this.booted; n++) {
      cpu.stopRequested = false;
      runBlocks(cpu, blocks, 100_000);
    }
    if (!this.booted) throw new Error('guest kernel did not finish booting');
    setPrivilege(cpu, 3, user.cs, SEL.USER_DS);
    cpu.rl.fill(0);
    cpu.rh.fill(0);
    cpu.setNum(RSP, user.rsp);
    cpu.rip = user.rip;
    cpu.setFlags(user.flags);
    cpu.archSyscall = true;
    cpu.stopRequested = false;
  }

  protected override otherHypercall(cpu: CPU, nr: number): boolean {
    if (nr !== HC.BOOT_DONE) return false;
    this.booted = true;
    cpu.stopRequested = true;
    return true;
  }

  /** Compat trips by entry and return (--stats): 'sysenter -> sysretl' ... */
  private readonly compatRoutes = new Map<string, number>();

  private countCompat(ret: 'sysretl' | 'iretq'): void {
    const t = this.trip;
    if (t === null || !compatTrip(t)) return;
    const key = `${COMPAT_ENTRY_NAMES[t.how as CompatHow]} → ${ret}`;
    this.compatRoutes.set(key, (this.compatRoutes.get(key) ?? 0) + 1);
  }

  override statsLines(): string[] {
    if (this.compatRoutes.size === 0) return [];
    return ['  compat entries (a 32-bit program\'s syscalls), by entry and return:', ...[...this.compatRoutes].map(([k, n]) => `    ${k.padEnd(36)} ${String(n).padStart(8)}`)];
  }

  /** The IRET path, and which check sent the return there (the last the guest code reached). */
  private iretRoute(): string {
    const t = this.trip;
    if (t !== null && compatTrip(t)) {
      if (t.how === 'int80') return 'iretq (int $0x80: always IRET)';
      // check is the SYSRETL_CHECKS index + 1 (0: none reached)
      const c = SYSRETL_CHECKS.find((x) => x.n === t.check - 1);
      if (c && c.n === 0) return 'iretq (do_fast_syscall_32: the user stack did not hold ebp: -EFAULT)';
      return c ? `iretq (SYSRETL check ${c.n} failed: ${c.what})` : 'iretq';
    }
    const n = t?.check ?? 0;
    const c = SYSRET_CHECKS.find((x) => x.n === n);
    return c ? `iretq (check ${c.n} failed: ${c.what})` : 'iretq';
  }

  /**
   * A fault of `iretq` at native_irq_return_iret: the IRET frame was bad (a
   * debugger set a non-canonical regs->ip, a wrong regs->ss...). As Linux's
   * fixup_bad_iret, the fault becomes one of the user context the frame
   * describes: SIGSEGV to the program, not an oops.
   */
  override fixupKernelFault(vector: number): SigInfo | 'fixed' | null {
    const { cpu, mem } = this.port;
    // a uaccess instruction (__get_user_4): on to its fixup, as Linux's fixup_exception
    const fixup = cpu.cpl === 0 ? this.exTable.get(cpu.rip) : undefined;
    if (fixup !== undefined) {
      cpu.rip = cpu.nextRip = fixup;
      return 'fixed';
    }
    if (vector !== Vector.GP || cpu.cpl !== 0 || cpu.rip !== this.kernel.sym('native_irq_return_iret')) return null;
    const sp = cpu.getNum(RSP);
    const ip = peekWord(mem, sp), flags = peekWord(mem, sp + 16), usp = peekWord(mem, sp + 24);
    this.leave(cpu.icount, 'iretq faulted: bad IRET frame, SIGSEGV');
    setPrivilege(cpu, 3, SEL.USER_CS, SEL.USER_DS);
    cpu.setNum(RSP, usp);
    cpu.setFlags(flags);
    cpu.rip = ip;
    return { signo: SIGSEGV, code: SI_KERNEL, addr: 0 };
  }

  /**
   * The local APIC timer: vector LOCAL_TIMER_VECTOR through the IDT the
   * guest loaded (trap_init), when RFLAGS.IF is set. From user mode the
   * CPU switches to TSS.sp0; in a syscall body (IF on since do_syscall_64)
   * it pushes its frame on the task's kernel stack, below the syscall's.
   */
  timerInterrupt(): 'user' | 'kernel' | null {
    const cpu = this.port.cpu;
    if (!this.booted || !interruptsEnabled(cpu)) return null;
    const mode = cpu.cpl === 3 ? 'user' : 'kernel';
    deliverInterrupt(cpu, LOCAL_TIMER_VECTOR);
    return mode;
  }

  describe(): string {
    let s = 'entry model: native (syscall -> entry_SYSCALL_64 at CPL 0 through MSR_LSTAR; return by sysretq or iretq)\n';
    // a 32-bit program (its vDSO mapped): the compat entry its __kernel_vsyscall uses
    if (this.t.vdso !== 0) {
      const how = { sysenter: 'sysenter -> entry_SYSENTER_compat', syscall: 'syscall -> entry_SYSCALL_compat', int80: 'int $0x80 -> entry_INT80_compat' }[this.compatEntry];
      s += `  32-bit program: __kernel_vsyscall uses ${how} (${compatVendor(this.compatEntry)} CPU); int $0x80 -> entry_INT80_compat; return by sysretl or iretq\n`;
    }
    return s;
  }

  /** pt_regs at the top of the task's kernel stack (task_pt_regs). */
  ptregsAddr(): number {
    return peekWord(this.port.kernelPages, this.kernel.sym('current_top_of_stack')) - SIZEOF_PTREGS;
  }

  protected initTask(): { stackTop: number; ptregs: number } {
    const top = this.kernel.sym('task_stack') + THREAD_SIZE;
    return { stackTop: top, ptregs: top - SIZEOF_PTREGS };
  }

  /** task_pt_regs: at the top of the kernel stack. */
  protected ptregsFor(top: number): number {
    return top - SIZEOF_PTREGS;
  }

  /** ret_from_fork starts with RSP at the task's pt_regs, IRQs on (as schedule_tail leaves them). */
  protected forkEntry(st: GuestTask): { rsp: number; flags: number } {
    return { rsp: st.ptregs, flags: 0x202 };
  }

  /** The task's kernel stack: current_top_of_stack, and the per-CPU copy entry_SYSCALL_64 switches to. */
  protected setCurrent(st: GuestTask): void {
    const kp = this.port.kernelPages, k = this.kernel;
    pokeWord(kp, k.sym('current_top_of_stack'), st.stackTop);
    pokeWord(kp, k.sym('cpu_entry_area') + CPU_ENTRY_AREA.top_of_stack, st.stackTop);
    pokeWord(kp, k.sym('current_mm_context_vdso'), st.vdso);
  }

  /** While the kernel runs, the user's GS base is in KERNEL_GS_BASE (swapgs swaps it back on the way out). */
  protected override clearUserGs(cpu: CPU): void {
    cpu.kernelGsBase = 0;
  }

  protected via(t: Trip): string {
    const at = `0x${t.at.toString(16)}`;
    switch (t.how) {
      case 'sysenter':
        return `sysenter at ${at} → CPL 3 → 0 through MSR_IA32_SYSENTER_EIP`;
      case 'cstar':
        return `syscall at ${at} (compat mode) → CPL 3 → 0 through MSR_CSTAR`;
      case 'int80':
        return `int $0x80 at ${at} → CPL 3 → 0 through IDT gate 0x80`;
      default:
        return `syscall at ${at} → CPL 3 → 0 through MSR_LSTAR`;
    }
  }

  protected steps(t: Trip, sys: string): string[] {
    // do_fast_syscall_32 could not fetch ebp from the user stack: no call, -EFAULT (check is SYSRETL_CHECKS' index + 1)
    if ((t.how === 'sysenter' || t.how === 'cstar') && t.check === 1)
      return [t.how === 'sysenter' ? 'entry_SYSENTER_compat' : 'entry_SYSCALL_compat', 'do_fast_syscall_32', '__get_user_4 faulted (bad_get_user: -EFAULT)'];
    switch (t.how) {
      case 'sysenter':
        return ['entry_SYSENTER_compat', 'do_fast_syscall_32', sys, 'syscall_return_slowpath', 'SYSRETL checks'];
      case 'cstar':
        return ['entry_SYSCALL_compat', 'do_fast_syscall_32', sys, 'syscall_return_slowpath', 'SYSRETL checks'];
      case 'int80':
        return ['entry_INT80_compat', 'do_int80_syscall_32', sys, 'syscall_return_slowpath'];
      default:
        return ['entry_SYSCALL_64', 'do_syscall_64', sys, 'syscall_return_slowpath', 'SYSRET checks'];
    }
  }
}
