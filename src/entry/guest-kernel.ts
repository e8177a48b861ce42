/**
 * What the models that run a guest kernel image (nommu, native) share: the
 * hypercalls the image makes, and the trip in progress, from the user
 * instruction that entered the path to the return instruction, which feeds
 * catch syscall, trace and --stats.
 */
import { RDI, type CPU, type TrapSite } from '../cpu/cpu.js';
import { CpuFault, Vector } from '../cpu/fault.js';
import { WouldBlock } from '../kernel/errno.js';
import type { LoadedImage } from '../kernel/loader.js';
import type { SigInfo } from '../kernel/signal.js';
import { SyscallArgs } from '../kernel/sys/util.js';
import { syscallName } from '../kernel/sysnames.js';
import { HC, NR_SYSCALLS, SYSCALL_NAMES, SYSRET_CHECKS } from '../guest/generated/abi.js';
import { imagePath, loadKernelImage, type KernelImage } from './kernel-image.js';
import type { EntryModel, EntryPort, PathInfo } from './model.js';
import { ARG_SLOTS, PT_REGS, field, peekPtRegs, peekWord, pokeWord, readPtRegs } from './ptregs.js';

const RT_SIGRETURN = 15;

/** The trip in progress: set when the program enters the path, cleared at the return instruction. */
export interface Trip {
  nr: number;
  /** icount at the user instruction that entered. */
  icount: number;
  /** Its address. */
  at: number;
  how: 'call' | 'trap' | 'lstar';
  /** zpoline: the offset the call landed at. */
  sled: number;
  /** native: the last SYSRET check the path reached (0: none yet). */
  check: number;
}

/** The trip in progress as a debugger is told of it (`monitor trip`). */
export interface TripView {
  nr: number;
  /** How it entered, as trace --path says it. */
  via: string;
  /** Guest instructions since the user instruction that entered. */
  insns: number;
  /** native: the last SYSRET check the path reached (0: none yet, or a model without them). */
  check: number;
}

export abstract class GuestKernelEntry implements EntryModel {
  abstract readonly label: string;
  kernel!: KernelImage;
  protected trip: Trip | null = null;
  /** A caught syscall's number, until its return stop (-1: none). */
  private returnStopNr = -1;

  constructor(
    protected readonly port: EntryPort,
    /** Which image: src/guest/image/kernel-NAME.elf. */
    private readonly image: string,
    /** Its pages are user-accessible (no privilege levels: UML nommu). */
    private readonly userPages: boolean,
  ) {}

  /** Map the guest kernel image (before the program, so their ranges cannot collide unnoticed). */
  mapKernel(): void {
    this.kernel = loadKernelImage(this.port.mem, imagePath(this.image), this.userPages);
  }

  reserved(): [number, number][] {
    return [];
  }

  abstract exec(img: LoadedImage): void;
  abstract describe(): string;

  /** Code the program maps runs as it is, unless a model rewrites it (nommu's zpoline). */
  executableMapped(_start: number, _end: number, _movedFrom?: number): void {}

  abstract ptregsAddr(): number;
  /** How the trip entered, for trace. */
  protected abstract via(t: Trip): string;
  /** The named steps of the path, for trace. */
  protected abstract steps(t: Trip, sys: string): string[];

  resume(): boolean {
    return false;
  }

  /** pt_regs->ax once do_syscall_64 has them complete (as a tracer's write at Linux's syscall-entry-stop). */
  overrideResult(value: number): void {
    const at = this.kernel.sym('do_syscall_64');
    this.port.blocks.setProbe(at, () => {
      pokeWord(this.port.mem, this.ptregsAddr() + PT_REGS.ax, value);
      this.port.blocks.setProbe(at, null);
    });
  }

  inTrip(): boolean {
    return this.trip !== null;
  }

  /**
   * The trip in progress (null: none), for a debugger: which SYSRET check a
   * return failed is known here, from the labels the guest code reached, and
   * must not be worked out again from pt_regs by a script.
   */
  /**
   * The trip in progress, as recorded. At the IRET path the last check
   * reached is the one that failed; stopped at a check's label, that check
   * has not run yet.
   */
  describeTrip(): string {
    const t = this.tripInProgress();
    if (t === null) return 'no trip in progress: no syscall is between its user instruction and the return to the program\n';
    let s = `trip in progress: syscall ${t.nr} (${syscallName(t.nr)})\n`;
    s += `  entered by: ${t.via}\n`;
    s += `  instructions since: ${t.insns}\n`;
    const c = SYSRET_CHECKS.find((x) => x.n === t.check);
    if (c) s += `  last SYSRET check reached: check ${c.n} of ${SYSRET_CHECKS.length}, ${c.label}: ${c.what}\n`;
    return s;
  }

  tripInProgress(): TripView | null {
    const t = this.trip;
    if (t === null) return null;
    return { nr: t.nr, via: this.via(t), insns: this.port.cpu.icount - t.icount, check: t.check };
  }

  inUserCode(): boolean {
    const cpu = this.port.cpu;
    return this.trip === null && cpu.cpl !== 0 && !this.kernel.contains(cpu.rip);
  }

  relayUserFault(_info: SigInfo): boolean {
    return false;
  }

  claimUserFault(_vector: number, _addr: number): boolean {
    return false;
  }

  fixupKernelFault(_vector: number): SigInfo | null {
    return null;
  }

  statsLines(): string[] {
    return [];
  }

  // ---- the trip ----

  /**
   * The program entered the path (the sled, __kernel_vsyscall or
   * entry_SYSCALL_64 is next). A caught syscall stops here, at the first
   * instruction of the path, so a debugger can step on through it.
   */
  protected enter(icount: number, nr: number, how: Trip['how'], at: number, sled = nr): void {
    if (this.trip !== null) return;
    this.trip = { nr, icount, at, how, sled, check: 0 };
    this.port.origRax = nr;
    if (this.port.caught(nr)) {
      this.port.requestStop({ kind: 'syscall-entry', nr });
      this.returnStopNr = nr;
    }
  }

  /** The path is about to return to the program: the return instruction (`route`) is next. */
  protected leave(icountAfter: number, route: () => string): void {
    const t = this.trip;
    if (t === null) return;
    const insns = icountAfter - t.icount;
    this.port.tripDone(t.nr, insns, () => this.pathInfo(t, insns, route()));
    this.trip = null;
    if (this.returnStopNr < 0) this.port.origRax = -1;
  }

  /** Back at the user instruction after a caught syscall: stop again, unless it is no longer caught (deleted, or stepping). */
  protected returnStop(): void {
    if (this.returnStopNr < 0) return;
    this.returnStopNr = -1;
    // the exit stop names the call that ran, as ptrace's does (orig_ax then): none after a skip
    const nr = peekWord(this.port.mem, this.ptregsAddr() + PT_REGS.orig_ax);
    if (nr !== -1 && this.port.caught(nr)) this.port.requestStop({ kind: 'syscall-return', nr, ret: this.port.cpu.getNum(0) });
  }

  /** A return stop is due when the path gets back to the program. */
  protected returnStopDue(): boolean {
    if (this.returnStopNr >= 0 && !this.port.caught(this.returnStopNr)) this.returnStopNr = -1;
    return this.returnStopNr >= 0;
  }

  private pathInfo(t: Trip, insns: number, route: string): PathInfo {
    const pt = readPtRegs(this.port.mem, this.ptregsAddr());
    const nr = t.nr;
    const sys = nr >= 0 && nr < NR_SYSCALLS ? (SYSCALL_NAMES[nr] ? `__x64_sys_${syscallName(nr)}` : 'sys_ni_syscall') : 'beyond sys_call_table (-ENOSYS)';
    return {
      nr,
      via: this.via(t),
      steps: this.steps(t, sys),
      ptregs: { orig_ax: field(pt, 'orig_ax'), ax: field(pt, 'ax'), ip: field(pt, 'ip'), sp: field(pt, 'sp'), flags: field(pt, 'flags') },
      args: ARG_SLOTS.map((o) => pt.getInt32(o + 4, true) * 4294967296 + pt.getUint32(o, true)),
      route,
      insns,
    };
  }

  // ---- hypercalls ----

  /** `vmcall` from the guest kernel: %eax selects the service, %rdi is its argument. */
  protected hypercall(cpu: CPU, i: TrapSite): void {
    const arg = cpu.getNum(RDI);
    switch (cpu.rl[0]) {
      case HC.SYSCALL:
        this.hcSyscall(cpu, i, arg);
        return;
      case HC.EXIT_WORK:
        this.port.exitWork(arg);
        return;
      case HC.PRINTK:
        this.port.printk(cString(this.port, arg));
        return;
      default:
        if (!this.otherHypercall(cpu, cpu.rl[0])) throw new CpuFault(Vector.UD);
    }
  }

  /** A service only one model offers (native: HC_BOOT_DONE); false if unknown. */
  protected otherHypercall(_cpu: CPU, _nr: number): boolean {
    return false;
  }

  /** HC_SYSCALL: the host performs syscall regs->orig_ax with the arguments saved in pt_regs; the result in %rax. */
  private hcSyscall(cpu: CPU, i: TrapSite, regs: number): void {
    const port = this.port;
    const pt = peekPtRegs(port.mem, regs); // shared: everything is read from it before the call runs
    const nr = pt.getInt32(PT_REGS.orig_ax, true);
    port.origRax = nr;
    if (nr === RT_SIGRETURN) {
      cpu.setNum(0, port.sigreturn(regs));
      return;
    }
    const a = new SyscallArgs();
    for (let k = 0; k < 6; k++) {
      a.lo[k] = pt.getInt32(ARG_SLOTS[k], true);
      a.hi[k] = pt.getInt32(ARG_SLOTS[k] + 4, true);
    }
    const sp = field(pt, 'sp');
    try {
      cpu.setNum(0, port.hostSyscall(nr, a, sp));
    } catch (e) {
      if (!(e instanceof WouldBlock)) throw e;
      // sleeping in the syscall: this vmcall runs again when the machine is resumed (%eax still HC_SYSCALL)
      cpu.nextRip = i.addr;
      cpu.icount--;
      port.requestStop({ kind: 'blocked', ms: e.ms });
    }
  }
}

function cString(port: EntryPort, addr: number): string {
  const out: number[] = [];
  const b = new Uint8Array(1);
  while (out.length < 1024 && port.mem.peek(addr + out.length, b) === 1 && b[0] !== 0) out.push(b[0]);
  return new TextDecoder().decode(Uint8Array.from(out));
}
