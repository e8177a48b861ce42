/**
 * The timer interrupt through the guest kernels (issue 15): interrupt points
 * that depend only on the instruction count, an interrupt nested in a
 * syscall body whose task_pt_regs are still the syscall's user frame, the
 * IRQ discipline of syscall_return_slowpath, and native output with the
 * timer ticking fast. The machine is driven directly here; test/gdb/timer
 * .test.ts drives it from gdb.
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Machine, type MachineOptions } from '../src/machine/machine.js';
import { PT_REGS, SIZEOF_PTREGS, peekWord } from '../src/entry/ptregs.js';
import { CPU_ENTRY_AREA, SEL, SIGALRM } from '../src/guest/generated/abi.js';
import { RDI, RDX } from '../src/cpu/cpu.js';
import { ROOT } from './helpers/cases.js';

const BIN = (name: string) => path.join(ROOT, 'test', 'fixtures', 'bin', name);
const READ_LOOP = [BIN('read-loop-musl'), 'test/fixtures/src/read-loop.c'] as const;
const NATIVE_READ_LOOP = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'expected', 'read-loop.stdout'), 'utf8');

/** A loaded machine whose program writes its stdout to a file; out() reads it. */
function machine(prog: string, args: string[], opts: Partial<MachineOptions>): { m: Machine; out: () => string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-timer-'));
  const file = path.join(dir, 'out');
  const fd = fs.openSync(file, 'w');
  const m = new Machine({ program: prog, argv: ['prog', ...args], env: [], cwd: ROOT, stdout: fd, warn: () => {}, ...opts });
  m.load();
  return {
    m,
    out: () => {
      fs.closeSync(fd);
      const s = fs.readFileSync(file, 'utf8');
      fs.rmSync(dir, { recursive: true, force: true });
      return s;
    },
  };
}

/** Run to a breakpoint at addr (the first time execution reaches it). */
function runTo(m: Machine, addr: number): void {
  m.setBreakpoints([addr], []);
  const ev = m.run(50_000_000);
  expect(ev).toMatchObject({ kind: 'breakpoint', addr });
  m.setBreakpoints([], []);
}

describe('the timer interrupt', () => {
  for (const entry of [{ entry: 'native' }, { entry: 'nommu', hook: 'zpoline' }, { entry: 'nommu', hook: 'seccomp' }]) {
    it(`${entry.entry}${entry.hook ? '/' + entry.hook : ''}: interrupts fall on the same instructions every run, and the output is the native one`, () => {
      const runOnce = () => {
        const { m, out } = machine(READ_LOOP[0], [READ_LOOP[1]], { ...entry, timerInsns: 1009 });
        const points: string[] = [];
        m.onInterrupt = (mode, rip) => points.push(`${mode} ${rip.toString(16)} @${m.cpu.icount}`);
        const ev = m.runToEnd();
        return { ev, points, out: out(), taken: { ...m.timer.taken } };
      };
      const a = runOnce(), b = runOnce();
      expect(a.ev).toMatchObject({ kind: 'exited', code: 0 });
      expect(a.out).toBe(NATIVE_READ_LOOP);
      expect(b.points).toEqual(a.points);
      // both kinds: the program's own code, and the guest kernel (the syscall path, the body)
      expect(a.taken.user).toBeGreaterThan(5);
      expect(a.taken.kernel).toBeGreaterThan(0);
      expect(a.points.length).toBe(a.taken.user + a.taken.kernel);
    });
  }

  it('--timer-insns 0: no timer', () => {
    const { m, out } = machine(READ_LOOP[0], [READ_LOOP[1]], { entry: 'native', timerInsns: 0 });
    m.runToEnd();
    expect(out()).toBe(NATIVE_READ_LOOP);
    expect(m.timer.taken).toEqual({ user: 0, kernel: 0 });
  });

  it('native: an interrupt in a read body nests below the syscall, and task_pt_regs(current) is still the read\'s user frame', () => {
    const { m, out } = machine(READ_LOOP[0], [READ_LOOP[1]], { entry: 'native' });
    const k = m.kernel!;
    runTo(m, k.sym('__x64_sys_read'));
    // the body: the hypercall (the host reads), then ret; the tick falls due after the hypercall
    m.timer.armIn(m.cpu, 2);
    runTo(m, k.sym('sysvec_apic_timer_interrupt'));
    const mem = m.mem;
    const regs = m.cpu.getNum(RDI);
    expect(peekWord(mem, regs + PT_REGS.cs)).toBe(SEL.KERNEL_CS);
    expect(peekWord(mem, regs + PT_REGS.ip)).toBe(k.sym('__x64_sys_read') + 8); // the ret after vmcall
    expect(peekWord(mem, regs + PT_REGS.orig_ax)).toBe(-1);
    // task_pt_regs(current), as the guest computes it (current_pt_regs: the top of the task's stack)
    const top = peekWord(mem, k.sym('cpu_entry_area') + CPU_ENTRY_AREA.top_of_stack);
    const task = top - SIZEOF_PTREGS;
    expect(regs + SIZEOF_PTREGS).toBeLessThanOrEqual(task); // nested below it, on the same stack
    expect(top - regs).toBeLessThan(16 * 1024);
    expect(peekWord(mem, task + PT_REGS.orig_ax)).toBe(0); // read
    expect(peekWord(mem, task + PT_REGS.cs)).toBe(SEL.USER_CS);
    const ip = peekWord(mem, task + PT_REGS.ip);
    expect(k.contains(ip)).toBe(false);
    expect(m.timer.taken).toEqual({ user: 0, kernel: 1 });
    // the return is straight back into the body; the program completes as natively
    m.runToEnd();
    expect(out()).toBe(NATIVE_READ_LOOP);
  });

  it('nommu: SIGALRM in a read body: hard_handler on the signal stack, current_ptregs still the read\'s', () => {
    const { m, out } = machine(READ_LOOP[0], [READ_LOOP[1]], { entry: 'nommu' });
    const k = m.kernel!;
    runTo(m, k.sym('__x64_sys_read'));
    m.timer.armIn(m.cpu, 2);
    runTo(m, k.sym('hard_handler'));
    const mem = m.mem;
    expect(m.cpu.getNum(RDI)).toBe(SIGALRM);
    const mc = m.cpu.getNum(RDX); // uc: its uc_mcontext, the interrupted registers
    expect(peekWord(mem, mc + PT_REGS.ip)).toBe(k.sym('__x64_sys_read') + 8);
    const task = peekWord(mem, k.sym('current_ptregs'));
    expect(task).not.toBe(mc);
    expect(peekWord(mem, task + PT_REGS.orig_ax)).toBe(0);
    expect(k.contains(peekWord(mem, task + PT_REGS.ip))).toBe(false);
    m.runToEnd();
    expect(out()).toBe(NATIVE_READ_LOOP);
  });

  it('nommu: a tick while signals_enabled is clear is deferred, and taken by unblock_signals', () => {
    const { m, out } = machine(READ_LOOP[0], [READ_LOOP[1]], { entry: 'nommu' });
    const k = m.kernel!;
    // syscall_return_slowpath disables interrupts; the tick falls due right there
    runTo(m, k.sym('syscall_return_slowpath'));
    runTo(m, k.sym('interrupt_end'));
    const enabled = new Uint8Array(4);
    m.mem.peek(k.sym('signals_enabled'), enabled);
    expect(enabled[0]).toBe(0);
    m.timer.armIn(m.cpu, 1);
    let ticks = 0;
    m.blocks.setProbe(k.sym('tick_periodic'), () => ticks++);
    runTo(m, k.sym('hard_handler')); // the host's signal lands: the guest only marks it pending
    runTo(m, k.sym('unblock_signals'));
    expect(ticks).toBe(0);
    runTo(m, k.sym('timer_handler')); // from unblock_signals, through timer_real_alarm_handler(NULL)
    m.runToEnd();
    expect(ticks).toBe(1);
    expect(out()).toBe(NATIVE_READ_LOOP);
  });

  for (const entry of ['native', 'nommu']) {
    it(`${entry}: a syscall that leaves IRQs disabled is reported with its number, and the program completes`, () => {
      const lines: string[] = [];
      const { m, out } = machine(READ_LOOP[0], [READ_LOOP[1]], { entry, kernelLog: (l) => lines.push(l) });
      const k = m.kernel!;
      runTo(m, k.sym('__x64_sys_read'));
      // as a debugger's `set $eflags &= ~0x200` (native) or clearing signals_enabled (UML) in the body
      if (entry === 'native') m.cpu.setFlags(m.cpu.getFlags() & ~0x200);
      else m.mem.poke(k.sym('signals_enabled'), new Uint8Array(4));
      m.runToEnd();
      expect(lines).toEqual(['WARNING: syscall 0 left IRQs disabled']);
      expect(out()).toBe(NATIVE_READ_LOOP);
    });
  }
});
