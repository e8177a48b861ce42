/**
 * The real gdb through the guest kernel's compat entries (a 32-bit program
 * under the native model): stopped in do_fast_syscall_32's exit work with
 * `p *regs`, a debugger's change of regs->ip, regs->cs, regs->ss or of TF/RF
 * in regs->flags sends the return to IRET (the SYSRETL check that failed is
 * the one `monitor trip` names at native_irq_return_iret), a plain call
 * returns by sysretl to int80_landing_pad, and int $0x80 always by IRET.
 *
 * gdb 13 debugs one architecture per connection: the stub's target
 * description is i386:x86-64 (the kernel half's 64-bit addresses and
 * registers), so gdb is told so before it reads the 32-bit program (else it
 * takes i386 from the file and rejects the description).
 */
import { describe, it, expect } from 'vitest';
import { BIN, gdbBatch, startStub } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb') !== null;
const PROG = BIN('hello-i386');

async function session(compatEntry: string, ex: string[]): Promise<string> {
  const stub = await startStub(['--entry', 'native', '--compat-entry', compatEntry, PROG]);
  try {
    return await gdbBatch(stub.port, { before: ['set architecture i386:x86-64', `file ${PROG}`], ex, timeout: 120_000 });
  } finally {
    await stub.stop();
  }
}

/** Stop in the exit work of the first call through the vDSO, apply `change` to *regs, and run to the return instruction. */
function changed(change: string[]): string[] {
  return [
    'break entry_SYSENTER_compat',
    'continue',
    'delete',
    'break syscall_return_slowpath',
    'continue',
    'p/x regs->ip',
    'p/x regs->cs',
    'p/x regs->ss',
    ...change,
    'delete',
    'break native_irq_return_iret',
    'break entry_SYSRETL_compat_unsafe_stack',
    'continue',
    'monitor trip',
    'kill',
  ];
}

describe.skipIf(!HAVE_GDB)('gdb through the compat entries (native, a 32-bit program)', () => {
  it('a plain call through the vDSO: entry_SYSENTER_compat, pt_regs of the 32-bit caller, sysretl to int80_landing_pad', async () => {
    const out = await session('sysenter', [
      'break entry_SYSENTER_compat',
      'continue',
      'p/x $eflags & 0x200',
      'break syscall_return_slowpath',
      'continue',
      'p regs->cs == 0x23 && regs->ss == 0x2b',
      'p/x regs->ip',
      'delete',
      'break entry_SYSRETL_compat_unsafe_stack',
      'break native_irq_return_iret',
      'continue',
      'x/i $pc',
      'stepi',
      'p/x $pc',
      'p/x $cs',
    ]);
    expect(out).toMatch(/Breakpoint 1, entry_SYSENTER_compat \(\) at src\/guest\/entry_64_compat\.S:\d+/);
    expect(out).toMatch(/\$1 = 0x0\n/); // SYSENTER cleared IF
    expect(out).toMatch(/\$2 = 1\n/);
    const pad = /\$3 = (0x[0-9a-f]+)\n/.exec(out)![1];
    expect(out).toMatch(/<entry_SYSCALL_compat\+\d+>:\s+sysretl\n/); // the label is inside entry_SYSCALL_compat
    expect(out).toContain(`$4 = ${pad}\n`);
    expect(out).toMatch(/\$5 = 0x23\n/);
  });

  const cases: [string, string[], RegExp][] = [
    ['regs->ip moved off the landing pad', ['set var regs->ip = regs->ip + 1'], /check 3 of 4, sysretl_check_ip: IP == the landing pad/],
    ['regs->cs set to __USER_CS', ['set var regs->cs = 0x33'], /check 1 of 4, sysretl_check_cs: CS == __USER32_CS/],
    ['regs->ss set to __KERNEL_DS', ['set var regs->ss = 0x18'], /check 2 of 4, sysretl_check_ss: SS == __USER_DS/],
    ['TF set in regs->flags', ['set var regs->flags |= 0x100'], /check 4 of 4, sysretl_check_flags: neither RF, TF nor VM/],
    ['RF set in regs->flags', ['set var regs->flags |= 0x10000'], /check 4 of 4, sysretl_check_flags: neither RF, TF nor VM/],
  ];
  for (const [what, change, check] of cases)
    it(`IRET when gdb changes the return: ${what}`, async () => {
      const out = await session('sysenter', changed(change));
      expect(out).toMatch(/Breakpoint \d+, swapgs_restore_regs_and_return_to_usermode \(\) at src\/guest\/entry_64\.S:\d+\n\d+\s+iretq/);
      expect(out).toMatch(/entered by: sysenter at 0x[0-9a-f]+ → CPL 3 → 0 through MSR_IA32_SYSENTER_EIP/);
      expect(out).toMatch(check);
    });

  it('SYSCALL from compat mode (an AMD CPU) returns by sysretl too', async () => {
    const out = await session('syscall', ['break entry_SYSCALL_compat', 'continue', 'delete', 'break entry_SYSRETL_compat_unsafe_stack', 'break native_irq_return_iret', 'continue', 'monitor trip']);
    expect(out).toMatch(/Breakpoint 1, entry_SYSCALL_compat \(\) at src\/guest\/entry_64_compat\.S:\d+/);
    expect(out).toMatch(/Breakpoint \d+, entry_SYSCALL_compat \(\) at src\/guest\/entry_64_compat\.S:\d+\n\d+\s+sysretl/);
    expect(out).toMatch(/entered by: syscall at 0x[0-9a-f]+ \(compat mode\) → CPL 3 → 0 through MSR_CSTAR/);
  });

  it("plain gdb's catch syscall: an i386 call stops under its x86-64 counterpart's number (write: 1), or under its own after `monitor syscall-numbers32 i386`", async () => {
    const out = await session('sysenter', [
      'monitor syscall-numbers32',
      'catch syscall write',
      'continue',
      'p $orig_rax',
      'delete',
      'monitor syscall-numbers32 i386',
      // gdb names 4 from its x86-64 table (stat): the stub now takes it as i386's write, whose return is next
      'catch syscall 4',
      'continue',
      'p $orig_rax',
      'monitor syscall-numbers32 x86',
      'kill',
    ]);
    expect(out).toMatch(/^syscall-numbers32: x86-64$/m);
    expect(out).toMatch(/^Catchpoint 1 \(syscall 'write' \[1\]\)$/m);
    expect(out).toMatch(/^Catchpoint 1 \(call to syscall write\), entry_SYSENTER_compat \(\)/m);
    expect(out).toMatch(/^\$1 = 4$/m);
    expect(out).toMatch(/^syscall-numbers32: i386$/m);
    expect(out).toMatch(/^Catchpoint 2 \(returned from syscall stat\), 0x0*[0-9a-f]+ in \?\? \(\)$/m);
    expect(out).toMatch(/^\$2 = 4$/m);
    expect(out).toMatch(/^usage: monitor syscall-numbers32 \[i386\|x86-64\]$/m);
  });

  it('int $0x80 always returns by IRET', async () => {
    const out = await session('int80', ['break entry_INT80_compat', 'continue', 'p/x $eflags & 0x200', 'delete', 'break entry_SYSRETL_compat_unsafe_stack', 'break native_irq_return_iret', 'continue', 'monitor trip']);
    expect(out).toMatch(/Breakpoint 1, entry_INT80_compat \(\) at src\/guest\/entry_64_compat\.S:\d+/);
    expect(out).toMatch(/\$1 = 0x0\n/); // an interrupt gate
    expect(out).toMatch(/Breakpoint \d+, swapgs_restore_regs_and_return_to_usermode \(\) at src\/guest\/entry_64\.S:\d+\n\d+\s+iretq/);
    expect(out).toMatch(/entered by: int \$0x80 at 0x[0-9a-f]+ → CPL 3 → 0 through IDT gate 0x80/);
    expect(out).not.toMatch(/SYSRETL check/);
  });
});

/*
 * qXfer:libraries-svr4 of an i386 program: the link map read with 4-byte
 * pointers (struct r_debug and struct link_map of i386, the dynamic array of
 * Elf32_Dyn), so `info sharedlibrary` lists what ld.so loaded, in its order.
 * gdb 13 reads no symbols from them: under the x86-64 description it refuses
 * an i386 shared object ("Shared library architecture i386 is not
 * compatible"), as it does the vDSO.
 */
describe.skipIf(!HAVE_GDB)('gdb and a dynamically linked 32-bit program', () => {
  it('info sharedlibrary lists ld-linux.so.2, the vDSO, libm.so.6 and libc.so.6 from the 32-bit link map', async () => {
    const prog = BIN('libcwork-i386dyn');
    const stub = await startStub(['--entry', 'native', prog]);
    let out: string;
    try {
      out = await gdbBatch(stub.port, { before: ['set architecture i386:x86-64', `file ${prog}`], ex: ['info sharedlibrary', 'break main', 'continue', 'info sharedlibrary', 'kill'], timeout: 120_000 });
    } finally {
      await stub.stop();
    }
    const [before, after] = out.split(/Breakpoint 1, /);
    // at ld.so's first instruction: the interpreter exec mapped, alone
    expect(before).toMatch(/No {10}\/lib\/ld-linux\.so\.2\n/);
    expect(before).not.toMatch(/libc\.so\.6\n/);
    expect(after).toMatch(/^0x0*[0-9a-f]+ in main \(\)/);
    const libs = after.slice(after.indexOf('Shared Object Library')).split('\n').filter((l) => /^\s+No\s/.test(l)).map((l) => l.trim().replace(/^No\s+/, ''));
    expect(libs).toEqual(['/lib/ld-linux.so.2', 'linux-gate.so.1', '/lib32/libm.so.6', '/lib32/libc.so.6']);
    expect(out).toMatch(/Shared library architecture i386 is not compatible with target architecture i386:x86-64/);
  });
});
