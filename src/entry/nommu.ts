/**
 * UML without an MMU: the program and the kernel share one address space and
 * one privilege level. A user `syscall` reaches __kernel_vsyscall by one of
 * three hooks:
 *   zpoline  every site rewritten to `call *%rax` at exec; the call lands in
 *            the nop sled at address 0 (zpoline.S) and slides to the trampoline
 *   lazy     a site traps the first time it runs, is rewritten, then as zpoline
 *   seccomp  each `syscall` traps into __kernel_vsyscall with RCX = the next
 *            instruction (the SIGSYS handler's edit), nothing pushed
 * __kernel_vsyscall builds pt_regs in the task's image, do_syscall_64 runs on
 * the kernel stack, and `userspace` returns with `jmp *%rcx` (entry_nommu.S).
 */
import { RSP, type CPU, type TrapSite } from '../cpu/cpu.js';
import { CpuFault, PF_FETCH, PF_PRESENT, PF_USER, Vector } from '../cpu/fault.js';
import { PAGE_SIZE, type Memory } from '../cpu/memory.js';
import type { LoadedImage } from '../kernel/loader.js';
import type { SigInfo } from '../kernel/signal.js';
import { ENOSYS } from '../kernel/errno.js';
import { HC, NR_SYSCALLS, SIGALRM, SIZEOF_PTREGS, THREAD_SIZE } from '../guest/generated/abi.js';
import { GuestKernelEntry, type GuestTask, type Trip } from './guest-kernel.js';
import { rebuiltHooks, type CpuHooks, type EntryTask } from './model.js';
import type { BlockCache } from '../cpu/run.js';
import { PT_OF_REG, PT_REGS, field, peekWord, pokeWord, readPtRegs, saveUserRegs, setField, writePtRegs } from './ptregs.js';
import { CALL_RAX, rewriteSyscallSites } from './zpoline.js';

export type NommuHook = 'zpoline' | 'lazy' | 'seccomp';
export const NOMMU_HOOKS: readonly NommuHook[] = ['zpoline', 'lazy', 'seccomp'];

const HOW: Record<NommuHook, string> = {
  zpoline: 'syscall sites rewritten to `call *%rax` at exec; the sled at address 0 leads to __kernel_vsyscall',
  lazy: 'each syscall site rewritten to `call *%rax` when it first runs; then as zpoline',
  seccomp: 'each syscall traps to __kernel_vsyscall with RCX = the next instruction',
};

/** What the hook knows of one address space (fork's child starts with a copy of its parent's; exec, with none). */
interface Space {
  /** Sites rewritten to `call *%rax` (at exec, or lazily). */
  rewritten: Set<number>;
  /** zpoline: `syscall` sites the exec-time sweep could not see (code written at run time), which bypass the guest kernel. */
  missed: Set<number>;
}

export class NommuEntry extends GuestKernelEntry {
  readonly label: string;
  private readonly spaces = new WeakMap<Memory, Space>();
  /** Sites rewritten, in every program the machine ran (for --stats), and how many of them lazily. */
  rewrites = 0;
  lazyRewrites = 0;
  missedCount = 0;
  /** zpoline_trampoline, the end of its code, and the second sled's jump back (zpoline.S). */
  private tail = 0;
  private tailEnd = 0;
  private back = 0;

  constructor(
    port: ConstructorParameters<typeof GuestKernelEntry>[0],
    readonly hook: NommuHook,
  ) {
    super(port, 'nommu', true);
    this.label = `nommu/${hook}`;
  }

  /** The running program's address space, as the hook knows it. */
  private get space(): Space {
    const mem = this.port.mem;
    let s = this.spaces.get(mem);
    if (!s) {
      s = { rewritten: new Set(), missed: new Set() };
      this.spaces.set(mem, s);
    }
    return s;
  }

  /** Sites rewritten to `call *%rax` in the running program. */
  get rewritten(): Set<number> {
    return this.space.rewritten;
  }

  /** zpoline: sites of the running program the exec-time sweep could not see. */
  get missed(): Set<number> {
    return this.space.missed;
  }

  override newTask(task: EntryTask, parent: EntryTask | null, stack: number): void {
    super.newTask(task, parent, stack);
    const from = parent ? this.spaces.get(parent.cpu.mem) : undefined;
    if (from && task.cpu.mem !== parent!.cpu.mem) this.spaces.set(task.cpu.mem, { rewritten: new Set(from.rewritten), missed: new Set(from.missed) });
  }

  protected initTask(): { stackTop: number; ptregs: number } {
    const k = this.kernel;
    return { stackTop: k.sym('task_stack') + THREAD_SIZE, ptregs: k.sym('task_regs') };
  }

  /** UML keeps pt_regs in the task (current_ptregs): here in the page right above its kernel stack, as the image's task_regs. */
  protected ptregsFor(_top: number, page: number): number {
    return page;
  }

  /** ret_from_fork loads RSP from current_top_of_stack itself. */
  protected forkEntry(st: GuestTask): { rsp: number; flags: number } {
    return { rsp: st.stackTop, flags: 0x202 };
  }

  protected setCurrent(st: GuestTask): void {
    const kp = this.port.kernelPages, k = this.kernel;
    pokeWord(kp, k.sym('current_ptregs'), st.ptregs);
    pokeWord(kp, k.sym('current_top_of_stack'), st.stackTop);
  }

  /** UML's signals_enabled is the CPU's "interrupt flag": each task has its own, as each has its own RFLAGS. */
  protected override percpu(): number[] {
    return [this.kernel.sym('signals_enabled')];
  }

  /** The host is running hard_handler for the last SIGALRM (the signal is masked until its rt_sigreturn). */
  private inHostSignal = false;

  /**
   * The timer, as the host kernel delivers SIGALRM to UML: on the
   * alternate signal stack, a ucontext with the interrupted registers and
   * the return address __restore_rt, then hard_handler(SIGALRM, NULL, uc)
   * -- wherever the CPU is, the program or the guest kernel: the guest's
   * handler decides (signals_enabled) whether it runs the tick now or
   * leaves it pending for unblock_signals().
   */
  timerInterrupt(): 'user' | 'kernel' | null {
    if (this.inHostSignal) return null;
    const { cpu, mem } = this.port;
    const k = this.kernel;
    const rip = cpu.rip;
    const mode = k.contains(rip) || (this.hook !== 'seccomp' && rip >= 0 && rip < PAGE_SIZE) ? 'kernel' : 'user';
    const top = peekWord(this.port.kernelPages, k.sym('signal_stack_top'));
    const uc = Math.floor((top - SIZEOF_PTREGS) / 16) * 16;
    const pt = readPtRegs(mem, uc);
    saveUserRegs(cpu, pt);
    setField(pt, 'orig_ax', -1);
    setField(pt, 'cs', 0);
    setField(pt, 'ss', 0);
    writePtRegs(mem, uc, pt);
    pokeWord(mem, uc - 8, k.sym('__restore_rt'));
    cpu.setNum(RSP, uc - 8);
    cpu.setNum(7, SIGALRM); // rdi
    cpu.setNum(6, 0); // rsi: no siginfo is read
    cpu.setNum(2, uc); // rdx
    cpu.setFlags(cpu.getFlags() & ~0x400); // DF clear, as the ABI wants at a handler's entry
    cpu.rip = cpu.nextRip = k.sym('hard_handler');
    this.inHostSignal = true;
    return mode;
  }

  /** HC_HOST_SIGRETURN: the host's rt_sigreturn restores the registers hard_handler may have changed (the exit work's). */
  protected override otherHypercall(cpu: CPU, nr: number): boolean {
    if (nr !== HC.HOST_SIGRETURN) return false;
    const pt = readPtRegs(this.port.mem, cpu.getNum(7));
    for (let r = 0; r < 16; r++) cpu.set64(r, pt.getInt32(PT_OF_REG[r], true), pt.getInt32(PT_OF_REG[r] + 4, true));
    cpu.setFlags(pt.getUint32(PT_REGS.flags, true));
    cpu.nextRip = field(pt, 'ip');
    this.inHostSignal = false;
    return true;
  }

  override reserved(): [number, number][] {
    return this.hook === 'seccomp' ? [] : [[0, PAGE_SIZE]];
  }

  exec(_img: LoadedImage): void {
    const { cpu, blocks } = this.port;
    const k = this.kernel;
    Object.assign(cpu, this.cpuHooks());
    this.installProbes(blocks);
    if (this.hook === 'seccomp') return; // no trampoline (mapKernel left it out): a NULL call faults as it would natively
    this.tail = k.sym('zpoline_trampoline');
    this.tailEnd = k.sym('zpoline_beyond_table');
    this.back = k.sym('zpoline_back');
    // (zpoline rewrote the program's and the interpreter's sites as exec mapped them: executableMapped)
  }

  protected cpuHooks(): CpuHooks {
    return rebuiltHooks({
      onSyscall: (c, i) => this.syscallTrap(c, i),
      onTrap: (c, kind, i) => {
        if (kind === 'vmcall') this.hypercall(c, i);
      },
    });
  }

  installProbes(blocks: BlockCache): void {
    const k = this.kernel;
    this.markKernelCode(blocks);
    blocks.setProbe(k.sym('userspace_return'), (c) => this.userspaceReturn(c));
    const ipWord = k.sym('userspace_ip');
    blocks.setProbe(k.sym('userspace_interrupted_return'), (c) => this.userspaceReturn(c, ipWord));
    // the trampoline's guard (zpoline's check that a call into the page came from a rewritten site)
    if (this.hook !== 'seccomp') blocks.pageProbe = (rip) => (rip >= 0 && rip < PAGE_SIZE ? (c) => this.guard(c) : null);
    this.probePending(blocks);
  }

  /**
   * zpoline rewrites every executable mapping before the program can run it:
   * the program and its interpreter at exec, each library ld.so maps, code
   * an mprotect makes executable (JIT), refilled or moved code. Sites known
   * in the range whose bytes are no longer `call *%rax` belonged to what was
   * mapped there before and are forgotten; sites moved by mremap move.
   */
  override executableMapped(start: number, end: number, movedFrom?: number): void {
    if (this.hook !== 'zpoline') return; // lazy and seccomp catch every `syscall` as it runs
    const mem = this.port.mem;
    if (movedFrom !== undefined && movedFrom !== start) {
      for (const a of [...this.rewritten])
        if (a >= movedFrom && a < movedFrom + (end - start)) {
          this.rewritten.delete(a);
          this.rewritten.add(a - movedFrom + start);
        }
    }
    const b = new Uint8Array(2);
    for (const a of this.rewritten)
      if (a >= start && a < end && (mem.peek(a, b) !== 2 || b[0] !== CALL_RAX[0] || b[1] !== CALL_RAX[1])) this.rewritten.delete(a);
    for (const a of rewriteSyscallSites(mem, [[start, end]]))
      if (!this.rewritten.has(a)) {
        this.rewritten.add(a);
        this.rewrites++;
      }
  }

  describe(): string {
    return `entry model: nommu\nhook: ${this.hook} (${HOW[this.hook]}; return by jmp *%rcx)\n`;
  }

  ptregsAddr(): number {
    return this.t.ptregs;
  }

  override inUserCode(): boolean {
    const rip = this.port.cpu.rip;
    return super.inUserCode() && !(this.hook !== 'seccomp' && rip >= 0 && rip < PAGE_SIZE);
  }

  override statsLines(): string[] {
    if (this.hook === 'seccomp') return [];
    let s = `  zpoline: ${this.rewrites} sites rewritten (${this.lazyRewrites} lazily)`;
    if (this.missedCount > 0) s += `; ${this.missedCount} not rewritten (code written at run time): their syscalls bypassed the guest kernel`;
    return [s];
  }

  /**
   * The address where a program's `call *%rax` of a syscall lands: the sled
   * entry of the trip, or a number beyond the table sent to the trampoline.
   */
  private guard(cpu: CPU): void {
    if (this.trip !== null) return; // a later block of the same slide
    const ret = peekWord(this.port.mem, cpu.getNum(RSP));
    if (!this.rewritten.has(ret - 2)) throw new CpuFault(Vector.PF, cpu.rip, PF_PRESENT | PF_FETCH | PF_USER);
    const landed = cpu.rip;
    this.enter(cpu.icount - 1, cpu.rl[0], 'call', ret - 2, landed);
    // where no sled byte is (inside the trampoline's code, or mid-way through the
    // final jump): go to the trampoline's first instruction, as the sled would
    const sled = landed < NR_SYSCALLS || landed === this.tail || (landed >= this.tailEnd && landed <= this.back);
    if (!sled) cpu.rip = this.tail;
  }

  /**
   * A syscall number whose `call *%rax` lands where no instruction of the
   * page starts (inside zpoline_trampoline's own bytes: #UD) or beyond the
   * page (#PF on fetch at the number itself): do what the second sled does
   * for the numbers in between, and go to the trampoline.
   */
  override claimUserFault(vector: number, addr: number): boolean {
    if (this.hook === 'seccomp') return false;
    const cpu = this.port.cpu;
    const rip = cpu.rip;
    if (vector === Vector.PF && this.rewritten.has(rip) && addr === cpu.getNum(RSP) - 8) {
      // the rewritten site's `call *%rax` cannot push its return address: the thread's stack is gone
      // (musl's __unmapself unmaps it, then calls exit with no stack). A `syscall` needs no stack, so
      // the program is right and only the rewrite is wrong: enter as the seccomp hook does (RCX = the
      // next instruction, nothing pushed), where zpoline on Linux would crash.
      this.enter(cpu.icount, cpu.rl[0], 'trap', rip);
      cpu.setNum(1, rip + 2);
      cpu.rip = this.kernel.sym('__kernel_vsyscall');
      return true;
    }
    if (rip !== cpu.getNum(0) || !(vector === Vector.UD || vector === Vector.PF)) return false;
    const ret = peekWord(this.port.mem, cpu.getNum(RSP));
    if (!this.rewritten.has(ret - 2)) return false;
    this.enter(cpu.icount, cpu.rl[0], 'call', ret - 2, rip);
    cpu.rip = this.tail;
    return true;
  }

  /** A user `syscall` that was not rewritten. */
  private syscallTrap(cpu: CPU, i: TrapSite): void {
    if (this.hook === 'seccomp') {
      this.enter(cpu.icount, cpu.rl[0], 'trap', i.addr);
      // the SIGSYS handler's edit: RCX = next instruction, RIP = __kernel_vsyscall, nothing pushed
      cpu.setNum(1, i.next);
      cpu.nextRip = this.kernel.sym('__kernel_vsyscall');
      return;
    }
    if (this.hook === 'lazy') {
      this.enter(cpu.icount, cpu.rl[0], 'trap', i.addr);
      // rewrite this site, then do what the new `call *%rax` does
      this.port.mem.poke(i.addr, CALL_RAX);
      this.rewritten.add(i.addr);
      this.rewrites++;
      this.lazyRewrites++;
      cpu.push64(i.next % 4294967296 | 0, Math.floor(i.next / 4294967296));
      cpu.nextRip = cpu.getNum(0);
      return;
    }
    // zpoline: a site the exec-time sweep could not see (code written at run time) reaches the host directly
    if (!this.missed.has(i.addr)) {
      this.missed.add(i.addr);
      this.missedCount++;
      this.port.warn(
        `entrystub: zpoline: the syscall at 0x${i.addr.toString(16)} was not rewritten at exec (code written at run time): ` +
          'it bypasses the guest kernel; --hook lazy or --hook seccomp send such code through __kernel_vsyscall',
      );
    }
    const nr = cpu.rh[0] === 0 && cpu.rl[0] >= 0 ? cpu.rl[0] : cpu.getNum(0);
    // reported when it has run; --stats counts it with the sites above, not as a trip through the path
    this.bypass.syscall(cpu, i, false, {
      nr,
      via: `syscall at 0x${i.addr.toString(16)}, not rewritten by zpoline`,
      steps: ['handled by the host in place, bypassing the guest kernel'],
      ptregs: { orig_ax: nr, ax: -ENOSYS, ip: i.next, sp: cpu.getNum(RSP), flags: cpu.getFlags() },
      args: [7, 6, 2, 10, 8, 9].map((r) => cpu.getNum(r)),
      route: 'in place',
      insns: 1,
      bypassed: true,
    });
  }

  /** At `jmp *%rcx`: the trip ends; a caught syscall's return stop is taken at the user instruction. */
  /** The return to the program: `jmp *%rcx`, or (ipWord) back from rt_sigreturn through the kernel's word, every register restored. */
  private userspaceReturn(cpu: CPU, ipWord?: number): void {
    const due = this.returnStopDue();
    this.leave(cpu.icount + 1, ipWord === undefined ? 'jmp *%rcx' : 'jmp *userspace_ip (every register restored)');
    if (due) {
      // do the jump here so the stop is at the user instruction
      cpu.rip = ipWord === undefined ? cpu.getNum(1) : userIp(this.port.mem, ipWord);
      cpu.icount++;
      this.returnStop();
    }
  }

  /**
   * UML nommu relays a fault in user code: the user registers go to pt_regs,
   * the signal is queued, and the CPU resumes in `userspace` on the kernel
   * stack, whose interrupt_end() delivers it on the way back.
   */
  override relayUserFault(info: SigInfo): boolean {
    const { cpu, mem } = this.port;
    const regs = this.ptregsAddr();
    const pt = readPtRegs(mem, regs);
    saveUserRegs(cpu, pt);
    setField(pt, 'orig_ax', -1);
    writePtRegs(mem, regs, pt);
    this.port.queueSignal(info);
    cpu.setNum(RSP, this.t.stackTop);
    cpu.rip = this.kernel.sym('userspace');
    return true;
  }

  protected via(t: Trip): string {
    const at = `0x${t.at.toString(16)}`;
    const landing = t.sled < NR_SYSCALLS ? `sled +${t.sled}` : `+${t.sled}, beyond the table`;
    switch (t.how) {
      case 'call':
        return `call *%rax at ${at} → ${landing}`;
      case 'trap':
        return this.hook === 'seccomp' ? `syscall at ${at} trapped` : `syscall at ${at} trapped, rewritten to call *%rax → ${landing}`;
      default:
        return at;
    }
  }

  protected steps(_t: Trip, sys: string): string[] {
    return [...(this.hook === 'seccomp' ? [] : ['trampoline']), '__kernel_vsyscall', 'do_syscall_64', sys, 'userspace'];
  }
}

/** The user address in the 64-bit word at addr (canonical user addresses fit a double exactly). */
function userIp(mem: Memory, addr: number): number {
  const lo = mem.read64(addr) >>> 0;
  return mem.hi * 0x100000000 + lo;
}
