/**
 * The real gdb through the guest kernel's entry path, with no setup: the
 * kernel image's symbols, types and sources come over qXfer:libraries-svr4
 * and vFile; catch syscall stops at the first instruction of the path in
 * each entry model and at the user instruction after it on return.
 */
import { describe, it, expect } from 'vitest';
import { BIN, gdbBatch, startStub, EXAMPLE } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb') !== null;

async function session(serveArgs: string[], ex: string[]): Promise<string> {
  const stub = await startStub([...serveArgs, BIN('entry-probe')]);
  try {
    return await gdbBatch(stub.port, { ex });
  } finally {
    await stub.stop();
  }
}

describe.skipIf(!HAVE_GDB)('gdb through the guest kernel', () => {
  it('nommu: break __kernel_vsyscall and do_syscall_64, p *regs, list, bt, finish', async () => {
    const out = await session(['--entry', 'nommu'], [
      'info sharedlibrary',
      'break __kernel_vsyscall',
      'break do_syscall_64',
      'continue',
      'info symbol $pc',
      'continue',
      'p regs->orig_ax',
      'p/x regs->ip',
      'p regs->cs',
      'list',
      'bt 3',
      'finish',
      'x/i $pc',
    ]);
    expect(out).toMatch(/0xffffffffe0000000\s+0x[0-9a-f]+\s+Yes\s+target:\/entrystub\/guest\/kernel-nommu\.elf/);
    expect(out).toMatch(/Breakpoint 1, __kernel_vsyscall \(\) at src\/guest\/entry_nommu\.S:\d+/);
    expect(out).toMatch(/__kernel_vsyscall in section \.text of target:\/entrystub\/guest\/kernel-nommu\.elf/);
    expect(out).toMatch(/Breakpoint 2, do_syscall_64 \(regs=0x[0-9a-f]+ <task_regs>\) at src\/guest\/syscall\.c:\d+/);
    expect(out).toMatch(/\$1 = 1\n/); // write
    expect(out).toMatch(/\$2 = 0x401018\n/); // after_write
    expect(out).toMatch(/\$3 = 0\n/); // UML nommu: cs = 0
    expect(out).toContain('unsigned long nr = regs->orig_ax;');
    // the call into C is a signal frame (cfi.h), whose CFI reads the caller's ip and sp from pt_regs:
    // the program's frame follows, named by its pc as a signal frame's caller is
    expect(out).toMatch(/\n#0  do_syscall_64 \(regs=0x[0-9a-f]+ <task_regs>\) at src\/guest\/syscall\.c:\d+\n#1  <signal handler called>\n#2  0x0000000000401018 in after_write \(\)\n/);
    // finish: back in __kernel_vsyscall at the nop after the call, which gdb shows as that frame
    expect(out).toMatch(/\n<signal handler called>\n=> 0x[0-9a-f]+ <__kernel_vsyscall\+\d+>:\s+nop\n/);
  });

  for (const [name, args, entryStop] of [
    ['nommu/zpoline', ['--entry', 'nommu', '--hook', 'zpoline'], /Catchpoint 1 \(call to syscall write\), 0x0000000000000001 in zpoline_sled \(\) at src\/guest\/zpoline\.S:\d+/],
    ['nommu/seccomp', ['--entry', 'nommu', '--hook', 'seccomp'], /Catchpoint 1 \(call to syscall write\), __kernel_vsyscall \(\) at src\/guest\/entry_nommu\.S/],
    ['native', ['--entry', 'native'], /Catchpoint 1 \(call to syscall write\), entry_SYSCALL_64 \(\) at src\/guest\/entry_64\.S/],
  ] as const) {
    it(`${name}: catch syscall write stops where the kernel path starts, and after it`, async () => {
      const out = await session([...args], ['catch syscall write', 'continue', 'p $orig_rax', 'p/x $cs', 'continue', 'p $rax', 'p $orig_rax', 'x/i $pc', 'continue']);
      expect(out).toMatch(entryStop);
      expect(out).toMatch(/\$1 = 1\n/);
      expect(out).toMatch(name === 'native' ? /\$2 = 0x10\n/ : /\$2 = 0x33\n/); // CPL 0 in native mode
      expect(out).toMatch(/Catchpoint 1 \(returned from syscall write\), 0x0000000000401018 in after_write \(\)/);
      expect(out).toMatch(/\$3 = 3\n/);
      expect(out).toMatch(/\$4 = 1\n/);
      expect(out).toMatch(/\[Inferior 1 \(process \d+\) exited normally\]/);
    });
  }

  it('native: stepping from syscall through the checks to sysretq and back', async () => {
    const out = await session(['--entry', 'native'], [
      'break *write_site',
      'continue',
      'stepi',
      'info symbol $pc',
      'break sysret_check_ss',
      'break entry_SYSRETQ_unsafe_stack',
      'continue',
      'continue',
      'x/i $pc',
      'stepi',
      'info symbol $pc',
      'p/x $cs',
    ]);
    expect(out).toMatch(/entry_SYSCALL_64 in section \.text/);
    expect(out).toMatch(/Breakpoint \d+, entry_SYSCALL_64 \(\) at src\/guest\/entry_64\.S:\d+\n\d+\s+cmpq\s+\$__USER_DS, SS\(%rsp\)/);
    expect(out).toMatch(/=> 0xffffffff8[0-9a-f]+ <entry_SYSCALL_64\+\d+>:\s+sysretq/);
    expect(out).toMatch(/after_write in section \.text/);
    expect(out).toMatch(/\$1 = 0x33\n/);
  });

  for (const entry of ['nommu', 'native']) {
    it(`${entry}: a signal stop in the guest kernel's exit work resumes into the handler`, async () => {
      const stub = await startStub(['--entry', entry, EXAMPLE]);
      try {
        // gdb stops for SIGUSR1 (its default) where the guest kernel delivers it, then passes it on
        const out = await gdbBatch(stub.port, { ex: ['continue', 'p/x $cs', 'continue'] });
        expect(out).toMatch(/Program received signal SIGUSR1, User defined signal 1\.\n(interrupt_end|syscall_return_slowpath|exit_to_user_mode_work) \(/);
        expect(out).toMatch(entry === 'native' ? /\$1 = 0x10\n/ : /\$1 = 0x33\n/);
        expect(out).toMatch(/\[Inferior 1 \(process \d+\) exited normally\]/);
        expect(stub.stdout()).toBe('hello from the guest\nSIGUSR1 (10) handled: yes\n');
      } finally {
        await stub.stop();
      }
    });
  }

  it('native: no syscall stop for a step, nor after the catchpoint is deleted', async () => {
    const out = await session(['--entry', 'native'], [
      'catch syscall write',
      'continue',
      'break entry_SYSRETQ_unsafe_stack',
      'continue',
      'stepi',
      'info symbol $pc',
      'delete',
      'continue',
    ]);
    expect(out).toMatch(/Catchpoint 1 \(call to syscall write\)/);
    expect(out).toMatch(/Breakpoint 2, entry_SYSCALL_64 \(\) at src\/guest\/entry_64\.S:\d+\n\d+\s+sysretq\n/); // (the label is inside entry_SYSCALL_64's CFI)
    // the stepi over sysretq is one instruction, back in user space: not a syscall-return stop
    expect(out).toMatch(/\n0x0000000000401018 in after_write \(\)\nafter_write in section \.text/);
    expect(out).not.toMatch(/returned from syscall/);
    expect(out).toMatch(/\[Inferior 1 \(process \d+\) exited normally\]/);
  });

  it('nommu: a stepi over `jmp *%rcx` with the catchpoint set is a step, and gdb resumes', async () => {
    const out = await session(['--entry', 'nommu'], [
      'catch syscall write',
      'continue',
      'break userspace_return',
      'continue',
      'x/i $pc',
      'stepi',
      'info symbol $pc',
      'delete 2',
      'continue',
    ]);
    expect(out).toMatch(/Catchpoint 1 \(call to syscall write\)/);
    expect(out).toMatch(/=> 0x[0-9a-f]+ <userspace\+\d+>:\s+jmp\s+\*%rcx\n/);
    expect(out).toMatch(/\n0x0000000000401018 in after_write \(\)\nafter_write in section \.text/);
    expect(out).not.toMatch(/returned from syscall/);
    expect(out).toMatch(/\[Inferior 1 \(process \d+\) exited normally\]/);
  });

  it('nommu: a catchpoint deleted at the entry stop gives no return stop', async () => {
    const out = await session(['--entry', 'nommu'], ['catch syscall write', 'continue', 'delete', 'continue']);
    expect(out).toMatch(/Catchpoint 1 \(call to syscall write\)/);
    expect(out).not.toMatch(/returned from syscall/);
    expect(out).toMatch(/\[Inferior 1 \(process \d+\) exited normally\]/);
  });

  it('nommu: a signal raised in a syscall waits for the exit work, whatever gdb stops in between', async () => {
    const stub = await startStub(['--entry', 'nommu', EXAMPLE]);
    try {
      const out = await gdbBatch(stub.port, {
        // (not `finish` out of interrupt_end: gdb knows the caller's frame by the user stack pointer in
        // pt_regs, which the delivery rewrites, so finish would not stop on the way back)
        ex: ['handle SIGUSR1 nostop noprint pass', 'catch syscall kill', 'continue', 'delete', 'break interrupt_end', 'continue', 'p/a current_ptregs->ip', 'delete', 'advance userspace_return', 'p/a current_ptregs->ip', 'continue'],
      });
      // stopped after kill() raised it: still the user's return address, not delivered on the kernel's registers
      expect(out).toMatch(/\$1 = 0x401551 <kill\+17>\n/);
      // the exit work delivered it: pt_regs->ip is the handler
      expect(out).toMatch(/\$2 = 0x4011d0 <on_usr1>\n/);
      expect(out).toMatch(/\[Inferior 1 \(process \d+\) exited normally\]/);
      expect(stub.stdout()).toBe('hello from the guest\nSIGUSR1 (10) handled: yes\n');
    } finally {
      await stub.stop();
    }
  });
});
