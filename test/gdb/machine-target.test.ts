/**
 * The Machine adapter alone (no sockets, no gdb): debugger memory access
 * through page permissions, registers in the amd64-linux layout, orig_rax,
 * watchpoint hits after their instruction, breakpoints that stop before it,
 * and the libraries document the guest kernel image will be listed in.
 */
import { describe, it, expect } from 'vitest';
import { MachineTarget } from '../../dist/gdb/machine-target.js';
import { librariesSvr4Xml } from '../../dist/gdb/commands/xfer.js';
import { PROT_EXEC, PROT_READ } from '../../dist/cpu/memory.js';
import { BIN, GDBDEMO } from './helpers.js';

const launch = (...args: string[]) =>
  MachineTarget.launch({ program: GDBDEMO, argv: ['gdbdemo', ...args], env: [], stdout: 2, warn: () => {} });

const COUNTER = 0x404028; // nm gdbdemo: counter
const ADD = 0x401139; // nm gdbdemo: add

function runToStop(t: MachineTarget, kind: 'continue' | 'step' = 'continue') {
  t.resume({ kind, signal: 0 });
  for (;;) {
    const r = t.poll(100_000);
    if (r) return r;
  }
}

describe('MachineTarget', () => {
  it('reads and writes supervisor and execute-only pages the guest cannot touch', () => {
    const t = launch();
    const mem = t.m.mem;
    mem.map(0x10000000, 0x1000, PROT_EXEC); // execute-only, supervisor (no PROT_USER)
    mem.map(0x10001000, 0x1000, PROT_READ); // supervisor read-only
    expect(t.writeMemory(0x10000ffc, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]))).toBe(true);
    expect([...t.readMemory(0x10000ffc, 8)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // the guest's own access still faults
    expect(() => mem.read8(0x10000ffc)).toThrow();
    // unmapped: partial read, all-or-nothing write
    expect(t.readMemory(0x10001ffc, 8)).toHaveLength(4);
    expect(t.writeMemory(0x10001ffc, new Uint8Array(8))).toBe(false);
    expect([...t.readMemory(0x10001ffc, 4)]).toEqual([0, 0, 0, 0]);
  });

  it('registers: g layout of 560 bytes, round trip, orig_rax -1 outside a syscall', () => {
    const t = launch();
    const g = t.readRegisters();
    expect(g).toHaveLength(560);
    expect(Buffer.from(g.subarray(128, 136)).readBigUInt64LE()).toBe(0x40102bn); // rip
    expect(Buffer.from(g.subarray(536, 544)).readBigInt64LE()).toBe(-1n); // orig_rax
    g[8] = 0x77; // rbx
    g.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 544); // fs_base = -1 (kernel-style address)
    t.writeRegisters(g);
    expect(t.m.cpu.rl[3]).toBe(0x77);
    expect(t.m.cpu.fsBase).toBe(-1);
    expect(Buffer.from(t.readRegister(58)!).readBigInt64LE()).toBe(-1n);
    expect(t.writeRegister(16, new Uint8Array(4))).toBe(false); // wrong size
    expect(t.readRegister(60)).toBeNull();
  });

  it('catch syscall: orig_rax is the number from entry to return, then -1', () => {
    const t = launch();
    t.catchSyscalls.setCatch(new Set([1]));
    expect(runToStop(t)).toEqual({ kind: 'syscall-entry', nr: 1 });
    expect(Buffer.from(t.readRegister(57)!).readBigInt64LE()).toBe(1n);
    expect(runToStop(t)).toEqual({ kind: 'syscall-return', nr: 1 });
    expect(Buffer.from(t.readRegister(57)!).readBigInt64LE()).toBe(1n);
    t.catchSyscalls.setCatch(null);
    t.breakpoints.addSw(ADD);
    expect(runToStop(t)).toEqual({ kind: 'swbreak', addr: ADD });
    expect(Buffer.from(t.readRegister(57)!).readBigInt64LE()).toBe(-1n);
  });

  it('a write watchpoint stops right after the writing instruction; neighbours do not trigger it', () => {
    const t = launch('3');
    t.breakpoints.addWatch!('watch', COUNTER, 8);
    t.breakpoints.addWatch!('rwatch', COUNTER + 8, 8); // result, next to counter: written once, never read
    const r = runToStop(t);
    expect(r).toEqual({ kind: 'watch', type: 'watch', addr: COUNTER });
    // rip is after the store (mov %rax,counter(%rip)), at the i++ of the loop
    expect(t.m.cpu.rip).toBe(0x4011c7);
    expect(t.readMemory(COUNTER, 8)[0]).toBe(2);
    t.breakpoints.removeWatch!('watch', COUNTER, 8);
    t.breakpoints.removeWatch!('rwatch', COUNTER + 8, 8);
    expect(runToStop(t)).toEqual({ kind: 'exited', code: 3 });
  });

  it('hardware and software breakpoints stop before the instruction; the stopped-at one is stepped over', () => {
    const t = launch();
    t.breakpoints.addHw!(ADD);
    expect(runToStop(t)).toEqual({ kind: 'hwbreak', addr: ADD });
    expect(t.m.cpu.rip).toBe(ADD);
    expect(runToStop(t, 'step')).toEqual({ kind: 'step' });
    expect(t.m.cpu.rip).toBe(ADD + 1);
  });

  it('monitor trip: the syscall in progress, how it entered, the SYSRET check that sent it to IRET', () => {
    const example = (entry: string) =>
      MachineTarget.launch({ program: BIN('example-musl'), argv: ['example-musl'], env: [], stdout: 2, warn: () => {}, entry });
    const trip = (t: MachineTarget) => t.monitor.command('trip');

    expect(trip(example('direct'))).toMatch(/^no entry path: in the direct entry model/);

    // nommu/zpoline: the write's `call *%rax` at 0x404c47 lands at offset 1 of the sled
    const z = example('nommu');
    expect(trip(z)).toMatch(/^no trip in progress/);
    z.catchSyscalls.setCatch(new Set([1]));
    expect(runToStop(z)).toEqual({ kind: 'syscall-entry', nr: 1 });
    expect(trip(z)).toBe('trip in progress: syscall 1 (write)\n  entered by: call *%rax at 0x404c47 → sled +1\n  instructions since: 1\n');
    expect(runToStop(z)).toEqual({ kind: 'syscall-return', nr: 1 });
    expect(trip(z)).toMatch(/^no trip in progress/);

    // native: kill's signal rewrites pt_regs->ip, so check 1 is the last reached before the IRET path
    const n = example('native');
    const iret = n.m.kernel!.sym('swapgs_restore_regs_and_return_to_usermode');
    n.breakpoints.addSw(iret);
    // SIGUSR1 stops the program where the guest kernel delivers it; pass it on, as gdb does
    n.resume({ kind: 'continue', signal: 0 });
    let r = n.poll(100_000);
    while (r === null || r.kind === 'signal') {
      if (r !== null) n.resume({ kind: 'continue', signal: r.signal });
      r = n.poll(100_000);
    }
    expect(r).toEqual({ kind: 'swbreak', addr: iret });
    expect(trip(n)).toMatch(/^trip in progress: syscall 62 \(kill\)\n  entered by: syscall at 0x40154f → CPL 3 → 0 through MSR_LSTAR\n/);
    expect(trip(n)).toMatch(/\n  last SYSRET check reached: check 1 of 6, sysret_check_rcx_eq_rip: RCX slot == RIP slot\n$/);
  });

  it('auxv is the vector the program received', () => {
    const t = launch();
    const a = Buffer.from(t.auxv.auxv());
    const pairs = new Map<bigint, bigint>();
    for (let o = 0; o < a.length; o += 16) pairs.set(a.readBigUInt64LE(o), a.readBigUInt64LE(o + 8));
    expect(pairs.get(9n)).toBe(0x40102bn); // AT_ENTRY
    expect(pairs.get(6n)).toBe(4096n); // AT_PAGESZ
    expect(pairs.has(0n)).toBe(true); // AT_NULL ends it
  });

  it('the library list gdb 13 accepts (for the guest kernel image)', () => {
    expect(librariesSvr4Xml([{ name: '/boot/entrystub-kernel.elf', lAddr: 0 }])).toBe(
      '<library-list-svr4 version="1.0"><library name="/boot/entrystub-kernel.elf" lm="0x0" l_addr="0x0" l_ld="0x0" lmid="0x0"/></library-list-svr4>',
    );
  });
});
