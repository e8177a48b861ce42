/**
 * Interrupts as the CPU takes them in 64-bit mode: an external one (the
 * local APIC timer) at an instruction boundary, and a software one (`int n`)
 * as that instruction's effect, both through the gate n of the IDT the guest
 * kernel loaded with `lidt` (a 64-bit interrupt or trap gate, IST 0).
 *
 * From CPL 3 the CPU switches to RSP0 of the TSS (TR, which the guest's
 * `ltr` loads) with SS null; from CPL 0 it stays on the current stack (so an
 * interrupt in a syscall body nests below the syscall's frames). Either way
 * it aligns RSP down to 16, pushes SS, RSP, RFLAGS, CS, RIP, clears TF, NT,
 * RF and VM (and IF through an interrupt gate), and loads CS:RIP from the
 * gate at CPL 0.
 */
import { RSP, type CPU, IF, TF, NT, RF } from './cpu.js';
import { CpuFault, Vector } from './fault.js';
import type { Insn } from './insn.js';
import { setPrivilege } from './ops/system.js';

export { DescriptorTables } from './segment.js';

const VM = 1 << 17;
const GATE_INTR = 0xe, GATE_TRAP = 0xf;
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
 * Enter gate `vector` with `ret` as the RIP to push. A gate beyond the IDT,
 * not present, not a 64-bit interrupt or trap gate, or (for `int n` from
 * user mode: `soft`) of DPL below the CPL is #GP(vector << 3 | 2), as the
 * CPU's. The gate's CS:RIP is left in cpu.nextRip.
 */
function enterGate(cpu: CPU, vector: number, ret: number, soft: boolean): void {
  const t = cpu.tables;
  const err = (vector << 3) | 2;
  if (t.idtLimit === 0 || vector * 16 + 15 > t.idtLimit) throw new CpuFault(Vector.GP, 0, err);
  // the CPU reads the IDT and the TSS as the supervisor, whatever the CPL
  const gate = sysRead(cpu, t.idtBase + vector * 16, 16);
  const sel = gate.getUint16(2, true), bits = gate.getUint16(4, true);
  const type = (bits >>> 8) & 0x1f, dpl = (bits >>> 13) & 3, present = bits >>> 15, ist = bits & 7;
  if (!present || (type !== GATE_INTR && type !== GATE_TRAP) || ist !== 0 || (sel & 3) !== 0 || (soft && dpl < cpu.cpl))
    throw new CpuFault(Vector.GP, 0, err);
  const target = gate.getInt32(8, true) * TWO32 + (((gate.getUint16(6, true) << 16) | gate.getUint16(0, true)) >>> 0);
  const fromUser = cpu.cpl !== 0;
  if (fromUser && t.tss === 0) throw new CpuFault(Vector.GP, 0, 0); // no TR loaded: nowhere to switch stacks
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
  setPrivilege(cpu, 0, sel, fromUser ? 0 : ss);
  const push = (v: number) => {
    sp -= 8;
    cpu.mem.write64(sp, v % TWO32 | 0, Math.floor(v / TWO32) | 0);
  };
  push(ss);
  push(oldSp);
  push(flags);
  push(cs);
  push(ret);
  cpu.setNum(RSP, sp);
  cpu.setFlags(flags & ~(TF | NT | RF | VM | (type === GATE_INTR ? IF : 0)));
  cpu.nextRip = target;
}

/**
 * Deliver the external interrupt `vector` at the current instruction
 * boundary (cpu.rip is the instruction to resume). A bad gate is a fault of
 * the delivery (the caller treats it as a fault of the guest kernel).
 */
export function deliverInterrupt(cpu: CPU, vector: number): void {
  enterGate(cpu, vector, cpu.rip, false);
  cpu.rip = cpu.nextRip;
}

/**
 * `int n` (n = `vector`): the same gate, which a user program may use only
 * if its DPL is 3; the pushed RIP is the next instruction's. The CPU's
 * environment hears of the entry ('interrupt': the native model names the
 * int $0x80 entry).
 */
export function softInterrupt(cpu: CPU, vector: number, i: Insn): void {
  enterGate(cpu, vector, i.next, true);
  cpu.onTrap?.(cpu, 'interrupt', i);
}
