/**
 * x87 control: the control and status words, the environment and full state
 * (fnstenv/fldenv/fnsave/frstor), stack pointer and tag manipulation, fninit,
 * fnclex, fnop. FIP/FDP/FOP are not tracked (stored as 0).
 */
import type { CPU } from '../../cpu.js';
import type { Handler, Insn } from '../../insn.js';
import { C1, ENV_SIZE, fninitState, loadEnv, phys, readStack80, setTop, storeEnv, top, writeStack80, x87State } from '../../fpu-state.js';
import { pop } from './stack.js';

export function fldcw(cpu: CPU, i: Insn): void {
  cpu.fcw = cpu.mem.read16(cpu.ea(i));
}

export function fnstcw(cpu: CPU, i: Insn): void {
  cpu.mem.write16(cpu.ea(i), cpu.fcw);
}

export function fnstswM(cpu: CPU, i: Insn): void {
  cpu.mem.write16(cpu.ea(i), cpu.fsw);
}

export function fnstswAX(cpu: CPU, _i: Insn): void {
  cpu.setReg(0, 2, cpu.fsw, 0);
}

export function fnstenv(cpu: CPU, i: Insn): void {
  storeEnv(cpu, cpu.ea(i));
  cpu.fcw |= 0x3f;
}

export function fldenv(cpu: CPU, i: Insn): void {
  loadEnv(cpu, cpu.ea(i));
}

/** fnsave: the environment, then ST0-7 as 10-byte images (108 bytes); then fninit. */
export function fnsave(cpu: CPU, i: Insn): void {
  const a = cpu.ea(i);
  cpu.mem.wpage(a + ENV_SIZE + 79);
  storeEnv(cpu, a);
  const buf = new Uint8Array(80);
  writeStack80(cpu, buf, 0, 10);
  cpu.mem.writeBytes(a + ENV_SIZE, buf);
  fninitState(cpu);
}

export function frstor(cpu: CPU, i: Insn): void {
  const a = cpu.ea(i);
  const buf = cpu.mem.readBytes(a + ENV_SIZE, 80);
  loadEnv(cpu, a);
  readStack80(cpu, buf, 0, 10);
}

export function ffree(sti: number, popAfter: boolean): Handler {
  return (cpu, _i) => {
    const st = x87State(cpu);
    st.empty |= 1 << phys(cpu, sti);
    if (popAfter) pop(cpu, st);
  };
}

export function fincstp(cpu: CPU, _i: Insn): void {
  setTop(cpu, top(cpu) + 1);
  cpu.fsw &= ~C1;
}

export function fdecstp(cpu: CPU, _i: Insn): void {
  setTop(cpu, top(cpu) - 1);
  cpu.fsw &= ~C1;
}

export function fninit(cpu: CPU, _i: Insn): void {
  fninitState(cpu);
}

export function fnclex(cpu: CPU, _i: Insn): void {
  cpu.fsw &= ~0x80ff;
}

export function fnop(_cpu: CPU, _i: Insn): void {}
