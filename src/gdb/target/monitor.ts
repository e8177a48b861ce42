/**
 * The target's `monitor` commands: the entry model, the registers in
 * struct pt_regs order beside the guest kernel's saved pt_regs, and the
 * syscall counts. The stub adds `help` and `exit` (commands/monitor.ts).
 */
import { addrHex } from '../hex.js';
import type { MonitorCommand, MonitorOps } from '../target.js';
import { USER_REGS, USER_REGS_SIZE, type GuestProcess } from './port.js';

/** struct pt_regs, in order (src/guest/pt_regs.h), and the user_regs_struct slot of each field. */
const PT_REGS: [string, number][] = [
  ['r15', USER_REGS.r15], ['r14', USER_REGS.r14], ['r13', USER_REGS.r13], ['r12', USER_REGS.r12], ['bp', USER_REGS.rbp],
  ['bx', USER_REGS.rbx], ['r11', USER_REGS.r11], ['r10', USER_REGS.r10], ['r9', USER_REGS.r9], ['r8', USER_REGS.r8],
  ['ax', USER_REGS.rax], ['cx', USER_REGS.rcx], ['dx', USER_REGS.rdx], ['si', USER_REGS.rsi], ['di', USER_REGS.rdi],
  ['orig_ax', USER_REGS.orig_rax], ['ip', USER_REGS.rip], ['cs', USER_REGS.cs], ['flags', USER_REGS.eflags], ['sp', USER_REGS.rsp],
  ['ss', USER_REGS.ss],
];

const hex16 = (b: Uint8Array, off: number): string => {
  let s = '';
  for (let k = 7; k >= 0; k--) s += b[off + k].toString(16).padStart(2, '0');
  return s;
};

export class Monitor implements MonitorOps {
  constructor(private readonly proc: () => GuestProcess) {}

  readonly commands: readonly MonitorCommand[] = [
    {
      name: 'ptregs',
      help: "the CPU's registers in struct pt_regs order, and the guest kernel's saved pt_regs",
      needsProcess: true,
      run: () => this.ptregs(),
    },
    { name: 'mode', help: 'the syscall entry model and hook', needsProcess: true, run: () => this.mode() },
    { name: 'stats', help: 'instructions executed and syscalls made', needsProcess: true, run: () => this.stats() },
  ];

  private mode(): string {
    const k = this.proc().kernel;
    switch (k.entry) {
      case 'direct':
        return 'entry model: direct (a syscall instruction is handled by the host in place; no guest kernel)\n';
      case 'native':
        return 'entry model: native (syscall -> entry_SYSCALL_64 at CPL 0 through MSR_LSTAR; return by sysretq or iretq)\n';
      case 'nommu': {
        const how = {
          zpoline: 'syscall sites rewritten to `call *%rax` at exec; the sled at address 0 leads to __kernel_vsyscall',
          lazy: 'each syscall site rewritten to `call *%rax` when it first runs; then as zpoline',
          seccomp: 'each syscall traps to __kernel_vsyscall with RCX = the next instruction',
        }[k.hook];
        return `entry model: nommu\nhook: ${k.hook} (${how}; return by jmp *%rcx)\n`;
      }
    }
  }

  private ptregs(): string {
    const p = this.proc();
    const regs = new Uint8Array(USER_REGS_SIZE);
    p.regs.getRegs(regs);
    const where = p.kernel.inUserCode() ? 'in user code' : 'in the guest kernel path: these are not the user registers';
    let s = `the CPU's registers now, in struct pt_regs order (${where}):\n`;
    for (const [n, slot] of PT_REGS) s += `  ${n.padEnd(8)} 0x${hex16(regs, slot * 8)}\n`;
    if (p.kernel.entry === 'direct') return s + 'no kernel entry frame: in the direct entry model a syscall is handled by the host in place\n';
    // the task's pt_regs image in the guest kernel (written by the last entry)
    const at = p.kernel.ptregsAddr();
    const b = new Uint8Array(PT_REGS.length * 8);
    p.mem.peek(at, b);
    s += `guest kernel pt_regs at 0x${addrHex(at)} (${p.kernel.entry}; the user state the last syscall entry saved):\n`;
    PT_REGS.forEach(([n], k) => (s += `  ${n.padEnd(8)} 0x${hex16(b, k * 8)}\n`));
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
