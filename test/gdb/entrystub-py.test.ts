/**
 * gdb-scripts/entrystub.py in the real gdb: `ptregs` (the guest kernel's
 * struct pt_regs, fields changed since entry marked), `entry-path` (the
 * stage of the stop, and what comes next) and `syscall-table`, through
 * nommu/zpoline, nommu/seccomp and native with the bundled example (write,
 * getpid, kill(getpid(), SIGUSR1) with the signal delivered on the way out);
 * and the guest image's .debug_gdb_scripts loader, with what gdb 13 needs
 * before it runs it.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { BIN, ROOT, gdbBatch, startStub, EXAMPLE } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb', 'nm') !== null;

const SCRIPT = ['entrystub.py'];
const IMAGES = path.join(ROOT, 'src', 'guest', 'image');

/** A guest kernel symbol's address as the image's own symbol table (nm) gives it, as gdb prints addresses. */
function sym(image: 'nommu' | 'native', name: string): string {
  const nm = execFileSync('nm', [path.join(IMAGES, `kernel-${image}.elf`)], { encoding: 'utf8' });
  const m = new RegExp(`^0*([0-9a-f]+) [A-Za-z] ${name}$`, 'm').exec(nm);
  if (!m) throw new Error(`${name} is not in kernel-${image}.elf`);
  return '0x' + m[1];
}

/** serve the example, run gdb with -ex commands (sourcing entrystub.py after connecting unless told otherwise). */
async function session(serveArgs: string[], ex: string[], opts: { scripts?: string[]; before?: string[]; program?: string } = {}) {
  const stub = await startStub([...serveArgs, opts.program ? BIN(opts.program) : EXAMPLE]);
  try {
    const out = await gdbBatch(stub.port, { scripts: opts.scripts ?? SCRIPT, before: opts.before, ex });
    await Promise.race([stub.exited, new Promise((r) => setTimeout(r, 5_000))]);
    return { out, progOut: stub.stdout() };
  } finally {
    await stub.stop();
  }
}

/** The part of gdb's output between two `echo` markers. */
function part(out: string, name: string): string {
  const start = out.indexOf(`<<${name}>>\n`);
  expect(start, `marker ${name} in:\n${out}`).toBeGreaterThanOrEqual(0);
  const rest = out.slice(start + name.length + 5);
  const end = rest.indexOf('<<');
  return end < 0 ? rest : rest.slice(0, end);
}
const mark = (name: string) => `echo <<${name}>>\\n`;

/** One row of the ptregs table: marker, field, value, notes. */
function row(table: string, field: string): { mark: string; value: string; notes: string } {
  const m = new RegExp(`^  ([ *+]) ${field.padEnd(8)} (0x[0-9a-f]{16})(?:  (.*))?$`, 'm').exec(table);
  expect(m, `row ${field} in:\n${table}`).not.toBeNull();
  return { mark: m![1], value: m![2], notes: m![3] ?? '' };
}

/** The step marked => in entry-path's list. */
const current = (s: string) => /^=> ?(\s*\d+)\. (.*?)\s{2,}/m.exec(s)?.slice(1, 3).map((x) => x.trim());

describe.skipIf(!HAVE_GDB)('gdb-scripts/entrystub.py', () => {
  it('nommu/zpoline: syscall-table, ptregs at do_syscall_64 for write, ax and ip changed since entry', async () => {
    const { out, progOut } = await session(['--entry', 'nommu', '--hook', 'zpoline'], [
      'handle SIGUSR1 nostop noprint pass',
      mark('table'), 'syscall-table 1', 'syscall-table 39', 'syscall-table getpid', 'syscall-table 1000', 'syscall-table',
      'break do_syscall_64 if regs->orig_ax == 1',
      'continue',
      mark('dispatch'), 'entry-path', 'ptregs',
      'finish',
      mark('returned'), 'entry-path',
      'delete', 'break userspace', 'continue',
      mark('userspace'), 'entry-path', 'ptregs',
      'delete', 'break __x64_sys_kill', 'continue', 'delete', 'break userspace_return', 'continue',
      mark('signal'), 'entry-path', 'ptregs',
      'delete', 'continue',
    ]);
    const table = part(out, 'table');
    expect(table).toContain(`sys_call_table[1] = ${sym('nommu', '__x64_sys_write')} <__x64_sys_write>\n`);
    expect(table).toContain(`sys_call_table[39] = ${sym('nommu', '__x64_sys_getpid')} <__x64_sys_getpid>\n`.repeat(2));
    expect(table).toContain('1000: beyond sys_call_table (NR_syscalls = 462)');
    expect(table).toMatch(new RegExp(`^sys_call_table at ${sym('nommu', 'sys_call_table')}: 462 entries`, 'm'));
    expect(table).toMatch(/^ +0 read +1 write +2 open +3 close/m);
    expect(table).toContain('  335-423: sys_ni_syscall (-ENOSYS), 89 entries\n');
    expect(table).toMatch(/ 461 lsm_list_modules\n/);

    // at do_syscall_64 for write: pt_regs complete, nothing changed yet
    const d = part(out, 'dispatch');
    expect(current(d)).toEqual(['6', 'do_syscall_64']);
    expect(d).toContain('entry path: nommu, hook zpoline (call *%rax into the trampoline at 0); syscall 1 (write)\n');
    expect(d).toContain('next: sys_call_table[1] -> __x64_sys_write\n');
    expect(d).toMatch(/^ {4}7\. __x64_sys_write +vmcall/m);
    expect(d).toContain(`struct pt_regs at ${sym('nommu', 'task_regs')} <task_regs> (nommu, hook zpoline)\nsyscall 1 (write), in progress: do_syscall_64\n`);
    expect(row(d, 'orig_ax')).toEqual({ mark: ' ', value: '0x0000000000000001', notes: 'write' });
    expect(row(d, 'ax')).toEqual({ mark: ' ', value: '0xffffffffffffffda', notes: '-38 = -ENOSYS' });
    expect(row(d, 'ip')).toEqual({ mark: ' ', value: '0x0000000000404c49', notes: '__syscall_cp_c+25' });
    expect(row(d, 'cs')).toEqual({ mark: ' ', value: '0x0000000000000000', notes: '0 (UML: no selectors)' });
    expect(d).not.toMatch(/^  \* /m);

    // back in __kernel_vsyscall, at the nop after the call (gdb: "<signal handler called>"): do_syscall_64 has returned
    const ret = part(out, 'returned');
    expect(current(ret)).toEqual(['8', 'do_syscall_64 -> syscall_return_slowpath']);
    expect(ret).toMatch(/^now: {2}__kernel_vsyscall\+\d+: nop \(do_syscall_64 returned; regs->ax = 21\)$/m);
    expect(ret).toContain('next: jmp userspace\n');

    // at userspace: the handler ran, ax holds the result; the call into interrupt_end is next
    const u = part(out, 'userspace');
    expect(current(u)).toEqual(['9', 'userspace']);
    expect(u).toContain('next: interrupt_end (pending signals rewrite pt_regs), then POP_REGS\n');
    expect(row(u, 'ax')).toEqual({ mark: '*', value: '0x0000000000000015', notes: '21; at entry 0xffffffffffffffda -38 = -ENOSYS' });
    expect(u.match(/^  \* /gm)).toHaveLength(1);

    // kill(getpid(), SIGUSR1): interrupt_end delivered the signal by rewriting pt_regs
    const s = part(out, 'signal');
    expect(current(s)).toEqual(['10', 'userspace_return: jmp *%rcx']);
    expect(s).toContain('next: rip = rcx = 0x4011d0 <on_usr1> in the program\n');
    expect(s).toContain('syscall 62 (kill), in progress: userspace_return: jmp *%rcx\n');
    expect(row(s, 'ip')).toEqual({ mark: '*', value: '0x00000000004011d0', notes: 'on_usr1; at entry 0x0000000000401551 kill+17' });
    expect(row(s, 'sp').mark).toBe('*');
    expect(row(s, 'di')).toEqual({ mark: '*', value: '0x000000000000000a', notes: 'at entry 0x00000000000003e8' }); // the handler's argument: SIGUSR1
    expect(row(s, 'ax')).toEqual({ mark: '*', value: '0x0000000000000000', notes: '0; at entry 0xffffffffffffffda -38 = -ENOSYS' });
    expect(row(s, 'orig_ax')).toEqual({ mark: ' ', value: '0x000000000000003e', notes: 'kill' });
    expect(row(s, 'cx').mark).toBe(' ');
    expect(out).toMatch(/\[Inferior 1 \(process \d+\) exited normally\]/);
    expect(progOut).toContain('SIGUSR1 (10) handled: yes');
  });

  it('nommu/zpoline: catch syscall write stops in the sled at offset 1; zpoline_trampoline; __kernel_vsyscall builds pt_regs', async () => {
    const { out } = await session(['--entry', 'nommu', '--hook', 'zpoline'], [
      'catch syscall write',
      'continue',
      mark('sled'), 'entry-path', 'ptregs',
      'break zpoline_trampoline',
      'continue',
      'stepi',
      mark('tail'), 'entry-path',
      'break __kernel_vsyscall',
      'continue',
      'stepi 4',
      mark('build'), 'entry-path', 'ptregs',
    ]);
    const s = part(out, 'sled');
    expect(out).toMatch(/^Catchpoint 1 \(call to syscall write\), 0x0000000000000001 in zpoline_sled \(\) at src\/guest\/zpoline\.S:\d+\n.*\n<<sled>>/m);
    expect(current(s)).toEqual(['2', 'trampoline: nop sled at address 0']);
    // the short jmp, where it lands and the trampoline are found in the image (zpoline.S), not known beforehand
    expect(s).toMatch(/^=> {2}2\. trampoline: nop sled at address 0 +entered at offset nr; EB 7F at 214 skips 127 nops$/m);
    expect(s).toContain('now:  offset 1 of the sled (entered at offset rax = 1: write)\n');
    expect(s).toContain('next: 213 nops to the EB 7F at 214 (jumps to 343), then 119 more to zpoline_trampoline at 0x1ce\n');
    // pt_regs still holds rt_sigaction's (the syscall before write)
    expect(s).toContain('the last syscall, 13 (rt_sigaction), has returned; 1 (write) is entering and has not written pt_regs yet\n');
    expect(row(s, 'orig_ax')).toEqual({ mark: ' ', value: '0x000000000000000d', notes: 'rt_sigaction' });

    const t = part(out, 'tail');
    expect(current(t)).toEqual(['3', 'zpoline_trampoline']);
    expect(t).toContain('now:  zpoline_trampoline+10: pop    %rcx (the return address `call *%rax` pushed, where `syscall` would have put it)\n');
    expect(t).toContain('next: the rest of zpoline_trampoline, then __kernel_vsyscall\n');

    const b = part(out, 'build');
    expect(current(b)).toEqual(['4', '__kernel_vsyscall']);
    expect(b).toMatch(/^now: {2}__kernel_vsyscall\+\d+: push +%r11\n/m);
    expect(b).toContain('being built for syscall 1 (write): + = pushed by this entry so far');
    // ss is pushed, sp is next: only the ss slot is this entry's
    expect(row(b, 'ss')).toEqual({ mark: '+', value: '0x0000000000000000', notes: '0 (UML: no selectors)' });
    expect(row(b, 'sp').mark).toBe(' ');
    expect(row(b, 'orig_ax').notes).toBe('rt_sigaction');
  });

  it('nommu/zpoline: a number beyond the table slides down the second sled to zpoline_back', async () => {
    const { out } = await session(['--entry', 'nommu', '--hook', 'zpoline'], [
      'break *after_write', 'continue', 'stepi', // at the rewritten `call *%rax` with rax = 1000
      mark('call'), 'entry-path',
      'stepi',
      mark('landed'), 'entry-path',
      'break zpoline_back', 'continue',
      mark('back'), 'entry-path',
      'delete', 'continue',
    ], { program: 'entry-probe' });
    const c = part(out, 'call');
    expect(current(c)).toEqual(['1', 'user: call *%rax']);
    expect(c).toContain('next: the trampoline page at offset 1000, beyond the table: on to zpoline_trampoline\n');
    const l = part(out, 'landed');
    expect(current(l)).toEqual(['2', 'trampoline: nop sled at address 0']);
    expect(l).toContain('now:  offset 1000, the second sled past zpoline_trampoline (rax = 1000 is beyond the table)\n');
    expect(l).toContain('next: nops to zpoline_back at 0xffb, which jumps to zpoline_trampoline at 0x1ce\n');
    const b = part(out, 'back');
    expect(b).toContain('next: zpoline_back: jmp to zpoline_trampoline at 0x1ce\n');
    // entry-probe exits 0 only if syscall 1000 returned -ENOSYS
    expect(out).toMatch(/\[Inferior 1 \(process \d+\) exited normally\]/);
  });

  it('nommu/seccomp: the trap enters at __kernel_vsyscall; ptregs at do_syscall_64', async () => {
    const { out } = await session(['--entry', 'nommu', '--hook', 'seccomp'], [
      'catch syscall write',
      'continue',
      mark('entry'), 'entry-path',
      'delete', 'break do_syscall_64', 'continue',
      mark('dispatch'), 'entry-path', 'ptregs', 'syscall-table 39',
    ]);
    const e = part(out, 'entry');
    expect(out).toMatch(/^Catchpoint 1 \(call to syscall write\), __kernel_vsyscall \(\) at src\/guest\/entry_nommu\.S:\d+\n.*\n<<entry>>/m);
    expect(e).toContain('entry path: nommu, hook seccomp (syscall traps); syscall 1 (write)\n');
    expect(current(e)).toEqual(['2', '__kernel_vsyscall']);
    expect(e).toMatch(/^ {4}1\. user: syscall \(trapped\) +the seccomp hook/m);
    expect(e).not.toContain('trampoline');
    const d = part(out, 'dispatch');
    expect(current(d)).toEqual(['4', 'do_syscall_64']);
    expect(d).toContain(`struct pt_regs at ${sym('nommu', 'task_regs')} <task_regs> (nommu, hook seccomp)\nsyscall 1 (write), in progress: do_syscall_64\n`);
    expect(row(d, 'orig_ax')).toEqual({ mark: ' ', value: '0x0000000000000001', notes: 'write' });
    expect(row(d, 'ip')).toEqual({ mark: ' ', value: '0x0000000000404c49', notes: '__syscall_cp_c+25' });
    expect(d).toContain(`sys_call_table[39] = ${sym('nommu', '__x64_sys_getpid')} <__x64_sys_getpid>\n`);
  });

  it('native: entry_SYSCALL_64, sysretq for write, the checks send kill to iretq with ip rewritten (the stub says which)', async () => {
    const { out, progOut } = await session(['--entry', 'native'], [
      'handle SIGUSR1 nostop noprint pass',
      'catch syscall write',
      'continue',
      mark('entry'), 'entry-path', 'ptregs',
      'delete', 'break do_syscall_64', 'continue', 'finish',
      mark('returned'), 'entry-path',
      'delete', 'break entry_SYSRETQ_unsafe_stack', 'continue',
      mark('sysretq'), 'entry-path', 'ptregs', 'syscall-table 1', 'syscall-table 39',
      'delete', 'break __x64_sys_kill', 'continue', 'delete', 'break sysret_check_rcx_eq_rip', 'continue',
      mark('checks'), 'entry-path',
      'delete', 'break swapgs_restore_regs_and_return_to_usermode', 'continue',
      mark('iret'), 'entry-path',
      'delete', 'break native_irq_return_iret', 'continue',
      mark('iretq'), 'entry-path', 'ptregs',
      'delete', 'continue',
    ]);
    const e = part(out, 'entry');
    expect(out).toMatch(/^Catchpoint 1 \(call to syscall write\), entry_SYSCALL_64 \(\) at src\/guest\/entry_64\.S:\d+\n.*\n<<entry>>/m);
    expect(e).toContain('entry path: native: SYSCALL through MSR_LSTAR, SYSRET or IRET; syscall 1 (write)\n');
    expect(current(e)).toEqual(['2', 'entry_SYSCALL_64']);
    expect(e).toContain('now:  entry_SYSCALL_64: swapgs\n');
    expect(e).toMatch(/^struct pt_regs at 0xffffffff81014f58 <task_stack\+16216> \(native\)\nbeing built for syscall 1 \(write\)/m);
    expect(e).not.toMatch(/^  \+ /m); // nothing pushed yet

    // the nop after the call into do_syscall_64 (gdb: "<signal handler called>"): the checks are next
    const ret = part(out, 'returned');
    expect(current(ret)).toEqual(['6', 'do_syscall_64 -> syscall_return_slowpath']);
    expect(ret).toMatch(/^now: {2}entry_SYSCALL_64\+\d+: nop \(do_syscall_64 returned; regs->ax = 21\)$/m);
    expect(ret).toContain('next: the SYSRET checks\n');

    const r = part(out, 'sysretq');
    expect(current(r)).toEqual(['9', 'entry_SYSRETQ_unsafe_stack: sysretq']);
    expect(r).toMatch(/^ {3}10\. swapgs_restore_regs_and_return_to_usermode .*\(not taken\)$/m);
    expect(r).toContain('next: CPL 3 at rip = rcx = 0x404c49 <__syscall_cp_c+25>, rflags = r11 = 0x');
    expect(r).toContain('syscall 1 (write), in progress: entry_SYSRETQ_unsafe_stack: sysretq\n');
    expect(row(r, 'ax')).toEqual({ mark: '*', value: '0x0000000000000015', notes: '21; at entry 0xffffffffffffffda -38 = -ENOSYS' });
    expect(row(r, 'cs')).toEqual({ mark: ' ', value: '0x0000000000000033', notes: '__USER_CS' });
    expect(row(r, 'ss')).toEqual({ mark: ' ', value: '0x000000000000002b', notes: '__USER_DS' });
    expect(r.match(/^  \* /gm)).toHaveLength(1);
    expect(r).toContain(`sys_call_table[1] = ${sym('native', '__x64_sys_write')} <__x64_sys_write>\n`);
    expect(r).toContain(`sys_call_table[39] = ${sym('native', '__x64_sys_getpid')} <__x64_sys_getpid>\n`);

    const c = part(out, 'checks');
    expect(current(c)).toEqual(['7', 'sysret_check_rcx_eq_rip .. sysret_check_ss']);
    expect(c).toMatch(/^now: {2}check 1 of 6, sysret_check_rcx_eq_rip: RCX slot == RIP slot; /m);
    // the outcome is the guest code's: the script does not work it out from pt_regs
    expect(c).toContain('next: if it holds, check 2, sysret_check_canonical_rip; if not, swapgs_restore_regs_and_return_to_usermode, iretq\n');
    expect(c).not.toContain('(not taken)');

    // which check failed, as `monitor trip` reports the labels the path reached
    const f = part(out, 'iret');
    expect(current(f)).toEqual(['10', 'swapgs_restore_regs_and_return_to_usermode']);
    expect(f).toMatch(/^now: {2}swapgs_restore_regs_and_return_to_usermode: .* \(check 1 failed: RCX slot == RIP slot\)$/m);
    expect(f).toMatch(/^ {4}9\. entry_SYSRETQ_unsafe_stack: sysretq .*\(not taken\)$/m);

    const i = part(out, 'iretq');
    expect(current(i)).toEqual(['11', 'native_irq_return_iret: iretq']);
    expect(i).toContain('next: CPL 3 from the IRET frame: rip = 0x4011d0 <on_usr1>\n');
    expect(row(i, 'ip')).toEqual({ mark: '*', value: '0x00000000004011d0', notes: 'on_usr1; at entry 0x0000000000401551 kill+17' });
    expect(row(i, 'sp').mark).toBe('*');
    expect(row(i, 'cx')).toEqual({ mark: ' ', value: '0x0000000000401551', notes: '' }); // RCX != RIP: why SYSRET is refused
    expect(row(i, 'orig_ax').notes).toBe('kill');
    expect(out).toMatch(/\[Inferior 1 \(process \d+\) exited normally\]/);
    expect(progOut).toContain('SIGUSR1 (10) handled: yes');
  });

  it('direct: no guest kernel, so no pt_regs, entry path or sys_call_table', async () => {
    const { out } = await session(['--entry', 'direct'], ['ptregs', 'entry-path', 'syscall-table 1']);
    expect(out).toContain('entry model direct: no guest kernel, so there is no struct pt_regs: the host handles each `syscall`\n');
    expect(out).toContain('entry model direct: no guest kernel, so there is no entry path: ');
    expect(out).toContain('entry model direct: no guest kernel, so there is no sys_call_table: ');
    expect(out).not.toMatch(/Traceback|Python Exception|Undefined command/);
  });

  it('auto-load: the image runs its .debug_gdb_scripts loader when read locally from a safe path, never as target:', async () => {
    const local = ['set sysroot', `set solib-search-path ${IMAGES}`];
    const ex = ['info auto-load python-scripts', 'syscall-table 39'];
    const [safe, unsafe, remote] = await Promise.all([
      session(['--entry', 'nommu'], ex, { scripts: [], before: [...local, `add-auto-load-safe-path ${IMAGES}`] }),
      session(['--entry', 'native'], ex, { scripts: [], before: local }),
      session(['--entry', 'nommu'], ex, { scripts: [], before: ['set auto-load safe-path /'] }),
    ]);
    expect(safe.out).toMatch(/^Yes +gdb\.inlined-script\.entrystub/m);
    expect(safe.out).toContain(`sys_call_table[39] = ${sym('nommu', '__x64_sys_getpid')} <__x64_sys_getpid>\n`);
    expect(safe.out).not.toMatch(/Traceback|Python Exception/);
    // outside the safe path gdb declines it, naming the file
    expect(unsafe.out).toContain(`warning: File "${path.join(IMAGES, 'kernel-native.elf')}" auto-loading has been declined by your \`auto-load safe-path'`);
    expect(unsafe.out).toMatch(/^No +gdb\.inlined-script\.entrystub/m);
    expect(unsafe.out).toContain('Undefined command: "syscall-table"');
    // read over the remote (the default sysroot, target:), gdb 13 never looks at the section
    expect(remote.out).toContain('No auto-load scripts.');
    expect(remote.out).toContain('Undefined command: "syscall-table"');
  });
});
