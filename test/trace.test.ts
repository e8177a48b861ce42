/**
 * `entrystub trace`: a line per syscall with decoded arguments and the
 * result, and with --path the entry path each call took; --json for tools.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { CLI, ROOT } from './helpers/cases.js';

const PROBE = path.join(ROOT, 'test/fixtures/bin/entry-probe');
function trace(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'trace', ...args, PROBE], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('entrystub trace', () => {
  it('prints each syscall with its arguments and result (the guest kernel answers -ENOSYS itself)', () => {
    const r = trace(['--no-color']);
    expect(r.stdout).toBe('hi\n');
    expect(r.stderr).toBe('write(1, "hi\\n", 3) = 3\nsyscall_1000(0x1, 0x402000, 0x3) = -1 ENOSYS\nexit_group(0) = ?\n+++ exited with 0 +++\n');
    expect(r.code).toBe(0);
  });

  it('--path: the nommu route through the zpoline trampoline', () => {
    const r = trace(['--no-color', '--path', '--entry', 'nommu']);
    expect(r.stderr).toMatch(/write\(1, "hi\\n", 3\) = 3\n  ↳ call \*%rax at 0x401016 → sled \+1 → trampoline → __kernel_vsyscall → do_syscall_64 → __x64_sys_write → userspace; pt_regs: orig_ax=1 ip=0x401018 sp=0x7fff[0-9a-f]+ flags=0x[0-9a-f]+; return: jmp \*%rcx; 4\d\d instructions/);
    expect(r.stderr).toMatch(/beyond sys_call_table \(-ENOSYS\)/);
  });

  it('--path: native SYSRET, and IRET with the check that failed after a signal', () => {
    expect(trace(['--no-color', '--path', '--entry', 'native']).stderr).toMatch(/→ SYSRET checks; pt_regs: orig_ax=1 ip=0x401018 .*; return: sysretq; 132 instructions/);
    const r = spawnSync(process.execPath, [CLI, 'trace', '--no-color', '--path', '--entry', 'native', path.join(ROOT, 'test/fixtures/bin/signal-musl')], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/kill\(1000, 10\) = 0\n  ↳ .*return: iretq \(check 1 failed: RCX slot == RIP slot\)/);
  });

  it('--disasm: every instruction of the kernel path, in AT&T or Intel syntax', () => {
    const native = trace(['--no-color', '--disasm', '--entry', 'native']).stderr;
    expect(native).toMatch(/0xffffffff8[0-9a-f]+ <entry_SYSCALL_64>  swapgs\n/);
    expect(native).toMatch(/<do_syscall_64\+0x[0-9a-f]+>/);
    expect(native).toMatch(/<entry_SYSRETQ_unsafe_stack>  sysretq\n/);
    const nommu = trace(['--no-color', '--disasm', '--syntax', 'intel', '--entry', 'nommu']).stderr;
    expect(nommu).toMatch(/^write \(1\): the nommu\/zpoline entry path, from 0x1\n +0x1 <zpoline_sled\+0x1>  nop\n/m); // each listing is headed by its syscall
    expect(nommu).toMatch(/<zpoline_sled\+0xd6>  jmp short 0000000000000157h\n/); // the EB 7F jump at 214
    expect(nommu).toMatch(/<zpoline_trampoline\+0xa>  pop rcx\n.*<zpoline_trampoline\+0xb>  jmp r11\n.*<__kernel_vsyscall>  mov r11,rsp\n/);
    expect(nommu).toMatch(/<userspace_return>  jmp rcx\n/);
  });

  it('--json: one object per event', () => {
    const r = trace(['--json', '--path', '--entry', 'nommu', '--hook', 'seccomp']);
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ event: 'syscall', nr: 1, name: 'write', ret: 3 });
    expect(events[1]).toMatchObject({ event: 'path', nr: 1, route: 'jmp *%rcx', insns: 124, steps: ['__kernel_vsyscall', 'do_syscall_64', '__x64_sys_write', 'userspace'] });
    expect(events[1].via).toBe('syscall at 0x401016 trapped'); // the steps name __kernel_vsyscall once
    expect(events.at(-2)).toMatchObject({ event: 'syscall', name: 'exit_group', ret: null, result: '?' });
    expect(events.at(-1)).toEqual({ event: 'exit', code: 0 });
  });
});
