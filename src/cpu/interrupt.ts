/**
 * External interrupts as the CPU takes them in 64-bit mode: through the
 * IDT the guest kernel loaded with `lidt`, a 64-bit interrupt gate, IST 0.
 *
 * From CPL 3 the CPU switches to RSP0 of the TSS; from CPL 0 it stays on the
 * current stack (so an interrupt in a syscall body nests below the syscall's
 * frames). Either way it aligns RSP down to 16, pushes SS, RSP, RFLAGS, CS,
 * RIP, clears IF, TF, NT and RF, and loads CS:RIP from the gate.
 */
import { RSP, type CPU, IF } from './cpu.js';
import { CpuFault, Vector } from './fault.js';
import { setPrivilege } from './ops/system.js';

export { DescriptorTables } from './segment.js';

const TF = 1 << 8, NT = 1 << 14, RF = 1 << 16;
const GATE_INTR = 0xe;
const TWO32 = 4294967296;

const SCRATCH = new DataView(new ArrayBuffer(16));

/** n bytes at addr, read as the CPU reads its tables (no user/supervisor check); a hole is a #PF. */
function sysRead(cpu: CPU, addr: number, n: number): DataView {
  const b = new Uint8Array(SCRATCH.buffer, 0, n);
  if (cpu.mem.peek(addr, b) !== n) throw new CpuFault(Vector.PF, addr, 0);
  return SCRATCH;
}

/** The CPU can take an external interrupt now: an IDT is loaded and RFLAGS.IF is set. */
export function interruptsEnabled(cpu: CPU): boolean {
  return cpu.tables.idtLimit !== 0 && (cpu.flags & IF) !== 0;
}

/**
 * Deliver `vector` at the current instruction boundary (cpu.rip is the
 * instruction to resume). A gate that is not a present 64-bit interrupt
 * gate is a #GP of the delivery, as the CPU's (the caller treats it as a
 * fault of the guest kernel).
 */
export function deliverInterrupt(cpu: CPU, vector: number): void {
  const t = cpu.tables;
  if (vector * 16 + 15 > t.idtLimit) throw new CpuFault(Vector.GP, 0, vector * 8 + 2);
  // the CPU reads the IDT and the TSS as the supervisor, whatever the CPL
  const gate = sysRead(cpu, t.idtBase + vector * 16, 16);
  const sel = gate.getUint16(2, true), bits = gate.getUint16(4, true);
  const type = (bits >>> 8) & 0x1f, present = bits >>> 15, ist = bits & 7;
  if (!present || type !== GATE_INTR || ist !== 0 || (sel & 3) !== 0) throw new CpuFault(Vector.GP, 0, vector * 8 + 2);
  const target = gate.getInt32(8, true) * TWO32 + (((gate.getUint16(6, true) << 16) | gate.getUint16(0, true)) >>> 0);
  const fromUser = cpu.cpl !== 0;
  const oldSp = cpu.getNum(RSP);
  const flags = cpu.getFlags();
  const cs = cpu.seg[1], ss = cpu.seg[2];
  let sp = oldSp;
  if (fromUser) {
    const tss = sysRead(cpu, t.tss + 4, 8);
    sp = tss.getInt32(4, true) * TWO32 + tss.getUint32(0, true);
  }
  sp -= ((sp % 16) + 16) % 16;
  // the pushes are the CPU's at CPL 0: the kernel's stack
  if (fromUser) setPrivilege(cpu, 0, sel, 0);
  const push = (v: number) => {
    sp -= 8;
    cpu.mem.write64(sp, v % TWO32 | 0, Math.floor(v / TWO32) | 0);
  };
  push(ss);
  push(oldSp);
  push(flags);
  push(cs);
  push(cpu.rip);
  cpu.setNum(RSP, sp);
  cpu.setFlags(flags & ~(IF | TF | NT | RF));
  if (!fromUser) setPrivilege(cpu, 0, sel, ss);
  cpu.rip = cpu.nextRip = target;
}
