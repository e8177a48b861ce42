/**
 * The target's `monitor` commands: the entry model, the registers in
 * struct pt_regs order beside the guest kernel's saved pt_regs, and the
 * syscall counts. The stub adds `help` and `exit` (commands/monitor.ts).
 */
import { addrHex } from '../hex.js';
import type { MonitorCommand, MonitorOps } from '../target.js';
import { USER_REGS_SIZE, type GuestProcess, type SyscallNumbers32 } from './port.js';
import { disassemble32 } from './disassemble32.js';

const hex16 = (b: Uint8Array, off: number): string => {
  let s = '';
  for (let k = 7; k >= 0; k--) s += b[off + k].toString(16).padStart(2, '0');
  return s;
};

export class Monitor implements MonitorOps {
  constructor(
    private readonly proc: () => GuestProcess,
    /** The debugger's setting (execution.ts keeps it for every process of the session). */
    private readonly numbering: { syscallNumbers32: SyscallNumbers32 },
  ) {}

  readonly commands: readonly MonitorCommand[] = [
    {
      name: 'ptregs',
      help: "the CPU's registers in struct pt_regs order, and the guest kernel's saved pt_regs",
      needsProcess: true,
      run: () => this.ptregs(),
    },
    { name: 'mode', help: 'the syscall entry model and hook', needsProcess: true, run: () => this.mode() },
    { name: 'stats', help: 'instructions executed and syscalls made', needsProcess: true, run: () => this.stats() },
    {
      name: 'history',
      help: 'what is recorded for reverse execution (reverse-stepi, reverse-continue)',
      needsProcess: true,
      run: () => this.proc().reverse?.describe() ?? 'history: not recorded (the stub was started with --no-history)\n',
    },
    {
      name: 'interrupts',
      help: 'timer interrupts delivered (in user and in kernel mode) and the tick period',
      needsProcess: true,
      run: () => this.interrupts(),
    },
    {
      name: 'step-interrupts',
      help: 'step-interrupts on|off: may a stepi be interrupted (it then stops at the handler); off by default',
      needsProcess: true,
      run: (args) => this.stepInterrupts(args),
    },
    {
      name: 'timer-next',
      help: "timer-next N: the running task's next timer tick falls due N instructions from now",
      needsProcess: true,
      run: (args) => this.timerNext(args),
    },
    {
      name: 'disassemble32',
      help: 'disassemble32 ADDR [att|intel]: the instruction at ADDR decoded as 32-bit (compat mode) code, its length first (entrystub.py shows a 32-bit program\'s code with it)',
      needsProcess: true,
      run: (args) => disassemble32(this.proc(), args),
    },
    {
      name: 'syscall-numbers32',
      help: "syscall-numbers32 [i386|x86-64]: how catch syscall numbers a 32-bit task's calls: by the x86-64 counterpart (the default: gdb names calls from its x86-64 table) or by the task's own i386 number (entrystub.py asks for it, and gives gdb the i386 table for a 32-bit process)",
      needsProcess: false,
      run: (args) => this.syscallNumbers32(args),
    },
    {
      name: 'trip',
      help: 'the syscall in progress on the entry path: how it entered, the last SYSRET check reached',
      needsProcess: true,
      run: () => this.proc().kernel.trip(),
    },
  ];

  private interrupts(): string {
    const k = this.proc().kernel;
    return `${k.interrupts()}\nstep-interrupts: ${k.stepInterrupts ? 'on (a stepi may stop at an interrupt handler)' : 'off (a stepi is never interrupted; a due tick waits for the next resume)'}\n`;
  }

  private stepInterrupts(args: string): string {
    const k = this.proc().kernel;
    const a = args.trim();
    if (a === 'on' || a === 'off') k.stepInterrupts = a === 'on';
    else if (a !== '') return 'usage: monitor step-interrupts on|off\n';
    return `step-interrupts: ${k.stepInterrupts ? 'on' : 'off'}\n`;
  }

  private timerNext(args: string): string {
    const n = Number(args.trim());
    if (args.trim() === '' || !Number.isInteger(n) || n < 0) return 'usage: monitor timer-next N (instructions from now)\n';
    if (!this.proc().kernel.armTimer(n)) return 'no timer: it is off (--timer-hz 0), or the entry model has no guest kernel\n';
    return `the next timer tick falls due in ${n} instructions\n`;
  }

  private syscallNumbers32(args: string): string {
    const a = args.trim();
    if (a === 'i386' || a === 'x86-64') this.numbering.syscallNumbers32 = a;
    else if (a !== '') return 'usage: monitor syscall-numbers32 [i386|x86-64]\n';
    return `syscall-numbers32: ${this.numbering.syscallNumbers32}\n`;
  }

  private mode(): string {
    return this.proc().kernel.mode();
  }

  private ptregs(): string {
    const p = this.proc();
    const regs = new Uint8Array(USER_REGS_SIZE);
    p.regs.getRegs(regs);
    const where = p.kernel.inUserCode() ? 'in user code' : 'in the guest kernel path: these are not the user registers';
    let s = `the CPU's registers now, in struct pt_regs order (${where}):\n`;
    const layout = p.kernel.ptregsLayout;
    for (const f of layout) s += `  ${f.field.padEnd(8)} 0x${hex16(regs, f.slot * 8)}\n`;
    // the task's pt_regs image in the guest kernel (written by the last entry)
    const at = p.kernel.ptregsAddr();
    if (at === null) return s + 'no kernel entry frame: in the direct entry model a syscall is handled by the host in place\n';
    const b = new Uint8Array(8);
    s += `guest kernel pt_regs at 0x${addrHex(at)} (${p.kernel.modelLabel}; the user state the last syscall entry saved):\n`;
    for (const f of layout) {
      p.mem.peek(at + f.offset, b);
      s += `  ${f.field.padEnd(8)} 0x${hex16(b, 0)}\n`;
    }
    return s;
  }

  private stats(): string {
    const p = this.proc();
    const counts = p.kernel.syscallCounts();
    let total = 0;
    for (const n of counts.values()) total += n;
    let s = `instructions: ${p.exec.icount()}\nsyscalls: ${total}\n`;
    const rows = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    for (const [nr, n] of rows) s += `  ${p.kernel.syscallName(nr).padEnd(20)} ${String(nr).padStart(4)}  ${n}\n`;
    return s;
  }
}
