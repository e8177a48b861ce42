/**
 * The timer interrupt seen from the real gdb: a breakpoint on the handler
 * hits in user code and inside a syscall, and `bt` reaches the interrupted
 * code; `monitor interrupts` counts; stepi and catch syscall are not
 * diverted by interrupts unless `monitor step-interrupts on`; clearing IF
 * from gdb in a syscall body gets the guest kernel's warning, and the
 * program still completes.
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BIN, ROOT, gdbBatch, startStub } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb') !== null;
const READ_LOOP = [BIN('read-loop-musl'), 'test/fixtures/src/read-loop.c'];
const NATIVE_OUT = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'expected', 'read-loop.stdout'), 'utf8');

async function session(serve: string[], ex: string[]): Promise<{ out: string; stdout: string; stderr: string }> {
  const stub = await startStub([...serve, ...READ_LOOP]);
  try {
    const out = await gdbBatch(stub.port, { ex });
    await stub.exited;
    return { out, stdout: stub.stdout(), stderr: stub.stderr() };
  } finally {
    await stub.stop();
  }
}

describe.skipIf(!HAVE_GDB)('the timer interrupt from gdb', () => {
  it('native: break asm_sysvec_apic_timer_interrupt hits in user code and in a syscall; bt reaches the interrupted frames', async () => {
    const { out, stdout } = await session(['--entry', 'native', '--timer-insns', '1013'], [
      'break asm_sysvec_apic_timer_interrupt',
      'continue',
      'p/x ((unsigned long *)$rsp)[1]',
      'bt',
      'delete',
      'break __x64_sys_read',
      'continue',
      'monitor timer-next 2',
      'break asm_sysvec_apic_timer_interrupt',
      'continue',
      'p/x ((unsigned long *)$rsp)[1]',
      'bt',
      'monitor interrupts',
      'delete',
      'continue',
    ]);
    // the first: in user mode (CS 0x33 pushed); its bt goes on into the program
    expect(out).toMatch(/Breakpoint \d+, asm_sysvec_apic_timer_interrupt \(\) at src\/guest\/entry_irq\.S:\d+/);
    expect(out).toMatch(/\$1 = 0x33\n#0  asm_sysvec_apic_timer_interrupt \(\) at src\/guest\/entry_irq\.S:\d+\n#1  0x0000000000[0-9a-f]+ in \w+ \(\)/);
    // the second: in the read's body (CS 0x10), bt through the body, do_syscall_64, the entry, into read()
    expect(out).toMatch(
      /\$2 = 0x10\n#0  asm_sysvec_apic_timer_interrupt \(\) at src\/guest\/entry_irq\.S:\d+\n#1  0xffffffff[0-9a-f]+ in __x64_sys_read \(\) at src\/guest\/generated\/syscall_table\.S:\d+\n#2  0x[0-9a-f]+ in do_syscall_64 \(nr=[^)]*\) at src\/guest\/syscall\.c:\d+\n#3  <signal handler called>\n#4  0x0000000000[0-9a-f]+ in __syscall_cp_c \(\)\n#5  0x0000000000[0-9a-f]+ in read \(\)/,
    );
    expect(out).toMatch(/timer interrupts: \d+ \(\d+ in user mode, [1-9]\d* in kernel mode\); a tick every 1013 instructions/);
    expect(out).toMatch(/\[Inferior 1 \(process \d+\) exited normally\]/);
    expect(stdout).toBe(NATIVE_OUT);
  });

  it('nommu: break hard_handler in a read body; bt goes through the host signal frame into the body and the program', async () => {
    const { out } = await session(['--entry', 'nommu'], [
      'break __x64_sys_read',
      'continue',
      'monitor timer-next 2',
      'break hard_handler',
      'continue',
      'bt',
      'delete',
      'continue',
    ]);
    expect(out).toMatch(
      /#0  hard_handler \(sig=14, [^)]*\) at src\/guest\/um_irq\.c:\d+\n#1  <signal handler called>\n#2  __x64_sys_read \(\) at src\/guest\/generated\/syscall_table\.S:\d+\n#3  0x[0-9a-f]+ in do_syscall_64 \(regs=[^)]*\) at src\/guest\/syscall\.c:\d+\n#4  <signal handler called>\n#5  0x0000000000[0-9a-f]+ in __syscall_cp_c \(\)/,
    );
    expect(out).toMatch(/exited normally/);
  });

  for (const entry of ['native', 'nommu']) {
    it(`${entry}: stepi is not interrupted, unless step-interrupts is on; catch syscall sees the same stops`, async () => {
      // ticks at the shortest period, and one due at each stepi (timer-next 0)
      const { out, stdout } = await session(['--entry', entry, '--timer-insns', '1000'], [
        'break main',
        'continue',
        'set $a = $pc',
        'monitor timer-next 0',
        'stepi',
        'p $pc > $a && $pc < $a + 16',
        'monitor timer-next 0',
        'stepi',
        'p $pc < 0x800000',
        'monitor step-interrupts on',
        'stepi',
        'info symbol $pc',
        'monitor step-interrupts off',
        'delete',
        'catch syscall read',
        'continue',
        'p $orig_rax',
        'continue',
        'p $rax',
        'x/i $pc',
        'delete',
        'continue',
      ]);
      expect(out).toMatch(/\$1 = 1\n/);
      expect(out).toMatch(/\$2 = 1\n/);
      expect(out).toContain(entry === 'native' ? 'asm_sysvec_apic_timer_interrupt in section .text' : 'hard_handler in section .text');
      expect(out).toMatch(/Catchpoint 2 \(call to syscall read\)/);
      expect(out).toMatch(/\$3 = 0\n/);
      expect(out).toMatch(/Catchpoint 2 \(returned from syscall read\)/);
      expect(out).toMatch(/\$4 = 64\n/);
      expect(out).toMatch(/exited normally/);
      expect(stdout).toBe(NATIVE_OUT);
    });
  }

  it('native: clearing IF from gdb inside a syscall body gets the warning in --kernel-log, and the program completes', async () => {
    const { out, stdout, stderr } = await session(['--entry', 'native', '--kernel-log'], [
      'break __x64_sys_read',
      'continue',
      'set $eflags = $eflags & ~0x200',
      'delete',
      'continue',
    ]);
    expect(stderr).toContain('[kernel] WARNING: syscall 0 left IRQs disabled');
    expect(stderr.match(/WARNING/g)?.length).toBe(1);
    expect(out).toMatch(/exited normally/);
    expect(stdout).toBe(NATIVE_OUT);
  });
});
