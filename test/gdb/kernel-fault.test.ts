/**
 * Faults in guest kernel code, as gdb sees them (issues 13 and 17).
 *
 * A bad IRET frame (native model: a non-canonical regs->ip, a wrong
 * regs->ss, set from gdb in do_syscall_64) goes where Linux sends it: the
 * #GP of `iretq` at native_irq_return_iret is fixed up (fixup_bad_iret) into
 * a fault of the user context the frame describes, a SIGSEGV to the program,
 * which gdb shows as a stop with the program's registers; no oops.
 *
 * Any other fault in guest kernel code (gdb writes garbage over an
 * instruction of do_syscall_64, with `set` or a raw `X` packet) is an oops:
 * `Oops: ... in <symbol>` in the kernel log, a SIGSEGV stop in gdb at the
 * faulting kernel instruction, and the task dies of SIGSEGV when resumed,
 * whatever signal the debugger resumes with (Linux's oops_end).
 *
 * The oracles are independent of the stub: addresses from the images' own
 * symbol tables (nm), the user ip and sp the kernel saved (read in gdb before
 * the frame is spoiled), and the instruction bytes gdb wrote.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { EXAMPLE, ROOT, RawClient, gdbBatch, startStub } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb', 'nm') !== null;

/** A symbol's address in a guest kernel image, from its own symbol table. */
function sym(model: 'nommu' | 'native', name: string): bigint {
  const nm = spawnSync('nm', [path.join(ROOT, 'src', 'guest', 'image', `kernel-${model}.elf`)], { encoding: 'utf8' }).stdout;
  const m = new RegExp(`^([0-9a-f]+) [tT] ${name}$`, 'm').exec(nm);
  if (!m) throw new Error(`kernel-${model}.elf: no symbol ${name}`);
  return BigInt('0x' + m[1]);
}

const hex = (v: bigint) => '0x' + v.toString(16);

/** `serve --kernel-log` for the bundled example, one gdb session; the stub's log comes back too. */
async function session(entry: string, ex: string[]): Promise<{ out: string; log: string; code: number | null }> {
  const stub = await startStub(['--entry', entry, '--kernel-log', EXAMPLE]);
  try {
    const out = await gdbBatch(stub.port, { ex });
    const code = await stub.exited;
    return { out, log: stub.stderr(), code };
  } finally {
    await stub.stop();
  }
}

/** The values `p/x EXPR` printed, in order ($N = 0x...). */
const values = (out: string) => [...out.matchAll(/^\$\d+ = (0x[0-9a-f]+)$/gm)].map((m) => BigInt(m[1]));

describe.skipIf(!HAVE_GDB)('a bad IRET frame set from gdb (native): fixup_bad_iret, SIGSEGV to the program', () => {
  it('non-canonical regs->ip (and cx, so that the SYSRET checks send it to IRET): a stop at that ip', async () => {
    const bad = 0x8000000000000000n;
    const { out, log } = await session('native', [
      'break do_syscall_64 if nr == 39',
      'continue',
      'p/x regs->sp',
      `set var regs->ip = ${hex(bad)}`,
      `set var regs->cx = ${hex(bad)}`,
      'continue',
      'p/x $pc',
      'p/x $sp',
      'p/x $cs',
      'continue',
    ]);
    expect(out).toMatch(/Breakpoint 1, do_syscall_64 \(nr=39, /);
    expect(out).toMatch(/\nProgram received signal SIGSEGV, Segmentation fault\.\n0x8000000000000000 in \?\? \(\)\n/);
    const [sp, pc, spAt, cs] = values(out);
    expect(pc).toBe(bad);
    expect(spAt).toBe(sp); // the user stack pointer the frame restores
    expect(cs).toBe(0x33n); // user mode: the fault is the program's
    expect(out).toMatch(/\nProgram terminated with signal SIGSEGV, Segmentation fault\.\n/);
    // fixed up, not an oops
    expect(log).not.toMatch(/Oops/);
    expect(log).toMatch(/the program was terminated by signal 11/);
  });

  it('a wrong regs->ss (the user code selector): a stop at the user instruction after the syscall', async () => {
    const { out, log } = await session('native', [
      'break do_syscall_64 if nr == 39',
      'continue',
      'p/x regs->ip',
      'p/x regs->sp',
      'set var regs->ss = 0x33',
      'break native_irq_return_iret',
      'continue',
      'x/i $pc',
      'continue',
      'p/x $pc',
      'p/x $sp',
      'p/x $cs',
      'continue',
    ]);
    // check 6 of the SYSRET checks (ss) sends the return to iretq, which faults on the selector
    expect(out).toMatch(new RegExp(`=> ${hex(sym('native', 'native_irq_return_iret'))} <[^>]+>:\\s+iretq`));
    expect(out).toMatch(/\nProgram received signal SIGSEGV, Segmentation fault\.\n0x[0-9a-f]+ in getpid \(\)\n/);
    const [ip, sp, pc, spAt, cs] = values(out);
    expect(pc).toBe(ip);
    expect(spAt).toBe(sp);
    expect(cs).toBe(0x33n);
    expect(out).toMatch(/\nProgram terminated with signal SIGSEGV, Segmentation fault\.\n/);
    expect(log).not.toMatch(/Oops/);
  });
});

describe.skipIf(!HAVE_GDB)('any other fault in guest kernel code is an oops: a log line, a stop where it faulted, the task dies', () => {
  for (const entry of ['nommu', 'native'] as const) {
    it(`${entry}: garbage written over do_syscall_64 with \`set\``, async () => {
      const at = sym(entry, 'do_syscall_64');
      const { out, log } = await session(entry, [
        // ff ff: an undefined opcode (ff /7)
        'set {unsigned short}do_syscall_64 = 0xffff',
        'continue',
        'p/x $pc',
        'x/2xb $pc',
        'bt 2',
        // a debugger cannot save the task: resuming without the signal still ends it
        'signal 0',
      ]);
      expect(out).toMatch(/\nProgram received signal SIGSEGV, Segmentation fault\.\ndo_syscall_64 \(/);
      expect(values(out)[0]).toBe(at);
      expect(out).toMatch(/:\s+0xff\s+0xff\n/);
      expect(out).toMatch(/\n#1  <signal handler called>\n/); // the program's frames are still there, below the kernel's
      expect(out).toMatch(/\nProgram terminated with signal SIGSEGV, Segmentation fault\.\n/);
      expect(log).toContain(`[kernel] Oops: illegal instruction at ${hex(at)}: ff ff in do_syscall_64\n`);
      expect(log).toMatch(/the program was terminated by signal 11/);
    });
  }

  it('nommu: a non-canonical regs->ip faults on the return jump (no IRET to fix up): an oops at userspace_return', async () => {
    const at = sym('nommu', 'userspace_return');
    const { out, log } = await session('nommu', [
      'break do_syscall_64 if regs->orig_ax == 39',
      'continue',
      'set var regs->ip = 0x8000000000000000',
      'continue',
      'p/x $pc',
      'x/i $pc',
      'continue',
    ]);
    expect(out).toMatch(/\nProgram received signal SIGSEGV, Segmentation fault\.\nuserspace \(\) at src\/guest\/entry_nommu\.S:\d+\n/);
    expect(values(out)[0]).toBe(at);
    expect(out).toMatch(/=> 0x[0-9a-f]+ <userspace\+\d+>:\s+jmp\s+\*%rcx/);
    expect(out).toMatch(/\nProgram terminated with signal SIGSEGV, Segmentation fault\.\n/);
    expect(log).toContain(`[kernel] Oops: general protection fault at ${hex(at)} in userspace_return\n`);
  });

  it('native: an X packet of garbage, continue: a T stop for SIGSEGV at that instruction, then the task is gone', async () => {
    const at = sym('native', 'do_syscall_64');
    const stub = await startStub(['--entry', 'native', '--kernel-log', EXAMPLE]);
    const c = await RawClient.attach(stub.port);
    try {
      // \x06 (push %es) is undefined in 64-bit mode
      expect(await c.request(`X${at.toString(16)},2:\x06\x06`)).toBe('OK');
      const stop = await c.request('vCont;c', 30_000);
      expect(stop).toMatch(/^T0b/);
      const pc = /(?:^|;)10:([0-9a-f]{16});/.exec(stop);
      const rip = pc ? BigInt.asUintN(64, Buffer.from(pc[1], 'hex').readBigUInt64LE()) : BigInt.asUintN(64, Buffer.from(await c.request('p10'), 'hex').readBigUInt64LE());
      expect(rip).toBe(at);
      // resumed with the signal or without it, the task dies of it
      expect(await c.request('vCont;c', 30_000)).toBe('X0b');
      // the line names the bytes the decoder read: the one-byte 06
      expect(stub.stderr()).toContain(`[kernel] Oops: illegal instruction at ${hex(at)}: 06 in do_syscall_64\n`);
    } finally {
      c.close();
      await stub.stop();
    }
  });
});
