/**
 * SYSEXIT against the SDM's definition (Vol. 2B, "SYSEXIT—Fast Return from
 * Fast System Call", 64-bit mode): #GP(0) at CPL > 0 or with
 * IA32_SYSENTER_CS[15:2] = 0; else CPL 3 with CS = IA32_SYSENTER_CS + 16
 * (+ 32 with REX.W) and RPL 3, SS = CS + 8, RSP from RCX and RIP from RDX
 * (their low halves, zero-extended, without REX.W: compat mode; #GP(0) for
 * non-canonical ones with REX.W), RFLAGS untouched. AMD CPUs have no
 * SYSENTER/SYSEXIT in long mode (#UD). Linux 5.8 returns from SYSENTER by
 * SYSRETL, so no guest kernel here uses it: these are the instruction's
 * only checks.
 */
import { describe, expect, it } from 'vitest';
import { CPU } from '../src/cpu/cpu.js';
import { CpuFault, Vector } from '../src/cpu/fault.js';
import { Memory, PROT_EXEC, PROT_READ, PROT_USER } from '../src/cpu/memory.js';
import { BlockCache, runBlocks } from '../src/cpu/run.js';
import { MSR_IA32_SYSENTER_CS, setPrivilege } from '../src/cpu/ops/system.js';

const KERNEL_CODE = 0x400000;
const RCX = 1, RDX = 2, RSP = 4;

/** A CPU in 64-bit mode at `cpl` about to execute `code`, IA32_SYSENTER_CS = sysenterCs. */
function at(code: number[], cpl: number, sysenterCs: number): CPU {
  const mem = new Memory();
  // a user page for the CPL 3 case: the fetch succeeds and the instruction itself faults
  mem.map(KERNEL_CODE, 0x1000, PROT_READ | PROT_EXEC | (cpl === 3 ? PROT_USER : 0));
  mem.poke(KERNEL_CODE, Uint8Array.from(code));
  const cpu = new CPU(mem);
  cpu.msr.set(MSR_IA32_SYSENTER_CS, sysenterCs);
  setPrivilege(cpu, cpl, cpl === 0 ? 0x10 : 0x33, cpl === 0 ? 0x18 : 0x2b);
  cpu.rip = KERNEL_CODE;
  // garbage in the upper halves: the 32-bit form must drop it
  cpu.rl[RCX] = 0x0804f000;
  cpu.rh[RCX] = 0x12345678;
  cpu.rl[RDX] = 0x08049000;
  cpu.rh[RDX] = 0x00007fff;
  cpu.setFlags(0x246 | 0x400 | 0x100);
  return cpu;
}

function step(cpu: CPU): CpuFault | null {
  try {
    runBlocks(cpu, new BlockCache(cpu.mem), 1);
    return null;
  } catch (e) {
    if (e instanceof CpuFault) return e;
    throw e;
  }
}

const SYSEXIT = [0x0f, 0x35], SYSEXITQ = [0x48, 0x0f, 0x35];

describe('SYSEXIT as the SDM defines it', () => {
  it('returns to compat mode: CS = SYSENTER_CS + 16 | 3, SS = CS + 8, ESP = ECX, EIP = EDX, RFLAGS kept', () => {
    const cpu = at(SYSEXIT, 0, 0x10);
    const flags = cpu.getFlags();
    expect(step(cpu)).toBeNull();
    expect([cpu.seg[1], cpu.seg[2], cpu.cpl, cpu.compat]).toEqual([0x23, 0x2b, 3, true]);
    expect(cpu.getNum(RSP)).toBe(0x0804f000);
    expect(cpu.rip).toBe(0x08049000);
    expect(cpu.getFlags()).toBe(flags);
  });

  it('with REX.W returns to 64-bit mode: CS = SYSENTER_CS + 32 | 3, SS = CS + 8, RSP = RCX, RIP = RDX', () => {
    const cpu = at(SYSEXITQ, 0, 0x10);
    cpu.rh[RCX] = 0x00007ffe;
    expect(step(cpu)).toBeNull();
    expect([cpu.seg[1], cpu.seg[2], cpu.cpl, cpu.compat]).toEqual([0x33, 0x3b, 3, false]);
    expect(cpu.getNum(RSP)).toBe(0x7ffe0804f000);
    expect(cpu.rip).toBe(0x7fff08049000);
  });

  it('#GP(0) with REX.W when RDX or RCX is not canonical', () => {
    const cpu = at(SYSEXITQ, 0, 0x10);
    cpu.rh[RDX] = 0x00008000;
    cpu.rh[RCX] = 0;
    expect(step(cpu)).toMatchObject({ vector: Vector.GP, errorCode: 0 });
    expect(cpu.cpl).toBe(0);
    const c2 = at(SYSEXITQ, 0, 0x10);
    c2.rh[RCX] = 0x00010000;
    c2.rh[RDX] = 0;
    expect(step(c2)).toMatchObject({ vector: Vector.GP, errorCode: 0 });
  });

  it('#GP(0) at CPL 3, and with IA32_SYSENTER_CS[15:2] = 0', () => {
    const user = at(SYSEXIT, 3, 0x10);
    expect(step(user)).toMatchObject({ vector: Vector.GP, errorCode: 0 });
    const unset = at(SYSEXIT, 0, 0x3); // RPL bits only: [15:2] is 0
    expect(step(unset)).toMatchObject({ vector: Vector.GP, errorCode: 0 });
    expect([unset.seg[1], unset.cpl]).toEqual([0x10, 0]);
  });

  it('#UD on an AMD CPU (no SYSENTER/SYSEXIT in long mode)', () => {
    const cpu = at(SYSEXIT, 0, 0x10);
    cpu.vendor = 'AuthenticAMD';
    expect(step(cpu)).toMatchObject({ vector: Vector.UD });
  });
});
