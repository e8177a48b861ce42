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
import { runBlocks } from '../cpu/run.js';
import type { LoadedImage } from '../kernel/loader.js';
import type { SigInfo } from '../kernel/signal.js';
import { CPU_ENTRY_AREA, HC, LOCAL_TIMER_VECTOR, SEL, SIZEOF_PTREGS, SYSRET_CHECKS, THREAD_SIZE } from '../guest/generated/abi.js';
import { GuestKernelEntry, type GuestTask, type Trip } from './guest-kernel.js';
import type { EntryPort } from './model.js';
import { peekWord, pokeWord } from './ptregs.js';

const SIGSEGV = 11, SI_KERNEL = 0x80;

export class NativeEntry extends GuestKernelEntry {
  readonly label = 'native';
  private booted = false;

  constructor(port: EntryPort) {
    super(port, 'native', false);
  }

  exec(_img: LoadedImage): void {
    const { cpu, blocks } = this.port;
    const k = this.kernel;
    cpu.onTrap = (c, kind, i) => {
      if (kind === 'syscall-entry') this.enter(c.icount, c.rl[0], 'lstar', i.addr);
      else if (kind === 'return-to-user') this.returnStop();
      else if (kind === 'vmcall') {
        if (c.cpl !== 0) throw new CpuFault(Vector.UD); // a hypercall is the guest kernel's, not the program's
        this.hypercall(c, i);
      }
    };
    // the machine boots once, with its first program; an execve finds the MSRs set
    if (!this.booted) this.boot();
    blocks.setProbe(k.sym('entry_SYSRETQ_unsafe_stack'), (c) => this.leave(c.icount + 1, () => 'sysretq'));
    blocks.setProbe(k.sym('native_irq_return_iret'), (c) => this.leave(c.icount + 1, () => this.iretRoute()));
    for (const check of SYSRET_CHECKS)
      blocks.setProbe(k.sym(check.label), () => {
        if (this.trip) this.trip.check = check.n;
      });
  }

  /** Run the guest's boot code at CPL 0 (syscall_init programs the MSRs), then drop to the program in user mode. */
  private boot(): void {
    const { cpu, blocks } = this.port;
    const user = { rip: cpu.rip, rsp: cpu.getNum(RSP), flags: cpu.getFlags() };
    setPrivilege(cpu, 0, SEL.KERNEL_CS, SEL.KERNEL_DS);
    cpu.setFlags(2);
    // TR: the 64-bit TSS (RSP0 for interrupts from user mode), as the boot loader's GDT gives it; trap_init fills it
    cpu.tables.tss = this.kernel.sym('cpu_tss_rw');
    cpu.rip = this.kernel.sym('start_kernel_entry');
    for (let n = 0; n < 100 && !this.booted; n++) {
      cpu.stopRequested = false;
      runBlocks(cpu, blocks, 100_000);
    }
    if (!this.booted) throw new Error('guest kernel did not finish booting');
    setPrivilege(cpu, 3, SEL.USER_CS, SEL.USER_DS);
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

  /** The IRET path, and which check sent the return there (the last the guest code reached). */
  private iretRoute(): string {
    const n = this.trip?.check ?? 0;
    const c = SYSRET_CHECKS.find((x) => x.n === n);
    return c ? `iretq (check ${c.n} failed: ${c.what})` : 'iretq';
  }

  /**
   * A fault of `iretq` at native_irq_return_iret: the IRET frame was bad (a
   * debugger set a non-canonical regs->ip, a wrong regs->ss...). As Linux's
   * fixup_bad_iret, the fault becomes one of the user context the frame
   * describes: SIGSEGV to the program, not an oops.
   */
  override fixupKernelFault(vector: number): SigInfo | null {
    const { cpu, mem } = this.port;
    if (vector !== Vector.GP || cpu.cpl !== 0 || cpu.rip !== this.kernel.sym('native_irq_return_iret')) return null;
    const sp = cpu.getNum(RSP);
    const ip = peekWord(mem, sp), flags = peekWord(mem, sp + 16), usp = peekWord(mem, sp + 24);
    this.leave(cpu.icount, () => 'iretq faulted: bad IRET frame, SIGSEGV');
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
    return 'entry model: native (syscall -> entry_SYSCALL_64 at CPL 0 through MSR_LSTAR; return by sysretq or iretq)\n';
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
  }

  /** While the kernel runs, the user's GS base is in KERNEL_GS_BASE (swapgs swaps it back on the way out). */
  protected override clearUserGs(cpu: CPU): void {
    cpu.kernelGsBase = 0;
  }

  protected via(t: Trip): string {
    return `syscall at 0x${t.at.toString(16)} → CPL 3 → 0 through MSR_LSTAR`;
  }

  protected steps(_t: Trip, sys: string): string[] {
    return ['entry_SYSCALL_64', 'do_syscall_64', sys, 'syscall_return_slowpath', 'SYSRET checks'];
  }
}
