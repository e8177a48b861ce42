/**
 * A 32-bit program's half in the real gdb 13, with gdb-scripts/entrystub.py
 * (gdb-scripts/entrystub_compat32.py): the stub's target description stays
 * i386:x86-64 (the guest kernel's), and the script shows the user half as
 * 32-bit code and loads the 32-bit vDSO's symbols from memory.
 *
 * The oracle for the instructions is binutils' objdump on the same bytes
 * (the program file; the vDSO's bytes as gdb dumps them from the process,
 * its entry sequence being chosen when it is mapped): gdb prints what
 * objdump prints for them, the way gdb prints it (branch targets with 0x
 * and their symbol).
 */
import { describe, it, expect, onTestFinished } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, ROOT, freePort, gdbBatch, startStub } from './helpers.js';
import { need } from '../helpers/tools.js';
import { busyboxPath } from '../helpers/cases.js';
import { busybox32 } from '../helpers/i386.js';

const HAVE_GDB = need('gdb') !== null;
const HAVE_QEMU = need('qemu') !== null;
const PROG = BIN('hello-i386');

/** objdump's listing of N instructions from a symbol: `addr text` lines, branch targets as gdb writes them. */
function objdump(file: string, sym: string, n: number, machine = 'i386'): string[] {
  const nm = spawnSync('nm', ['-D', '--defined-only', file], { encoding: 'utf8' }).stdout + spawnSync('nm', [file], { encoding: 'utf8' }).stdout;
  const m = new RegExp(`^([0-9a-f]+) \\w ${sym}(@\\S*)?$`, 'm').exec(nm);
  if (!m) throw new Error(`${sym} not in ${file}`);
  const start = parseInt(m[1], 16);
  const out = spawnSync('objdump', ['-d', '-m', machine, '--no-show-raw-insn', `--start-address=0x${start.toString(16)}`, file], { encoding: 'utf8' }).stdout;
  const lines: string[] = [];
  for (const l of out.split('\n')) {
    const x = /^\s*([0-9a-f]+):\s+(.*?)\s*$/.exec(l);
    if (!x) continue;
    lines.push(`${parseInt(x[1], 16).toString(16)} ${norm(x[2])}`);
    if (lines.length === n) break;
  }
  return lines;
}

/** objdump's listing of the first N instructions of raw bytes (a dump of memory) at vma. */
function objdumpRaw(file: string, vma: number, n: number): string[] {
  const out = spawnSync('objdump', ['-D', '-b', 'binary', '-m', 'i386', '--no-show-raw-insn', `--adjust-vma=0x${vma.toString(16)}`, file], { encoding: 'utf8' }).stdout;
  const lines: string[] = [];
  for (const l of out.split('\n')) {
    const x = /^\s*([0-9a-f]+):\s+(.*?)\s*$/.exec(l);
    if (x && lines.length < n) lines.push(`${parseInt(x[1], 16).toString(16)} ${norm(x[2])}`);
  }
  return lines;
}

/** One instruction's text with blanks collapsed, a branch target without its 0x and <symbol>. */
function norm(text: string): string {
  return text.replace(/\s+#.*$/, '').replace(/\s+/g, ' ').replace(/^((?:call|j\w+|loop\w*) )(?:0x)?([0-9a-f]+)(?: <[^>]*>)?$/, '$1$2');
}

/** gdb's x/Ni lines (`   0xADDR <sym+off>:\tTEXT`, or `=> ...` at pc) as `addr text`. */
function gdbInsns(out: string, from: number, n: number): string[] {
  const lines: string[] = [];
  for (const l of out.split('\n')) {
    const x = /^(?:=>)?\s*0x([0-9a-f]+)(?: <[^>]*>)?:\t(.*)$/.exec(l);
    if (x && (lines.length > 0 || parseInt(x[1], 16) === from)) lines.push(`${x[1]} ${norm(x[2])}`);
    if (lines.length === n) break;
  }
  return lines;
}

async function session(ex: string[], entry: string[] = ['--entry', 'native']): Promise<string> {
  const stub = await startStub([...entry, PROG]);
  try {
    return await gdbBatch(stub.port, { scripts: ['entrystub.py'], ex, timeout: 120_000 });
  } finally {
    await stub.stop();
  }
}

describe.skipIf(!HAVE_GDB || !HAVE_QEMU)('gdb and a 32-bit program: the user half as 32-bit code (entrystub.py)', () => {
  it('break __kernel_vsyscall resolves in the vDSO read from memory; x/i there and in main is the 32-bit code objdump shows; the kernel stays 64-bit', async () => {
    const main = parseInt(/^([0-9a-f]+) T main$/m.exec(spawnSync('nm', [PROG], { encoding: 'utf8' }).stdout)![1], 16);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-vdso-'));
    onTestFinished(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const dump = path.join(tmp, 'vsyscall.bin');
    const out = await session([
      'break __kernel_vsyscall',
      'continue',
      // the vDSO's bytes as the process has them (the entry sequence is chosen when it is mapped)
      `dump binary memory ${dump} $pc $pc+32`,
      'info symbol $pc',
      'x/7i $pc',
      `x/12i 0x${main.toString(16)}`,
      'x/2i entry_SYSENTER_compat',
      'set disassembly-flavor intel',
      'x/2i $pc',
      'set disassembly-flavor att',
      'stepi 5',
      'info symbol $pc',
      'monitor disassemble32 0x10',
      'monitor disassemble32 main',
      'kill',
    ]);
    expect(out).toMatch(/^Breakpoint 1, 0x0*([0-9a-f]+) in __kernel_vsyscall \(\)$/m);
    expect(out).toMatch(/^__kernel_vsyscall in section \.text of shared object read from target memory$/m);
    const pc = parseInt(/^Breakpoint 1, 0x0*([0-9a-f]+) in __kernel_vsyscall/m.exec(out)![1], 16);
    expect(gdbInsns(out, pc, 7)).toEqual(objdumpRaw(dump, pc, 7));
    expect(gdbInsns(out, main, 12)).toEqual(objdump(PROG, 'main', 12));
    expect(out).toMatch(/^ {3}0xffffffff[0-9a-f]+ <entry_SYSENTER_compat>:\tswapgs$/m);
    expect(out).toMatch(/^ {3}0xffffffff[0-9a-f]+ <entry_SYSENTER_compat\+3>:\tmov {4}%gs:0x[0-9a-f]+,%rsp$/m);
    expect(out).toMatch(/^ {3}0x[0-9a-f]+ <main\+7>:\tpush {3}-0x4\(%ecx\)$/m);
    expect(out).toMatch(/^=> 0x[0-9a-f]+ <__kernel_vsyscall>:\tpush {3}ecx$/m);
    expect(out).toMatch(/<__kernel_vsyscall\+1>:\tpush {3}edx$/m);
    // four instructions and SYSENTER: the first of entry_SYSENTER_compat
    expect(out).toMatch(/^entry_SYSENTER_compat in section \.text/m);
    // what the stub answers a bad or unmapped address (no exception, the session goes on)
    expect(out).toMatch(/^cannot access memory at 0x10$/m);
    expect(out).toMatch(/^usage: monitor disassemble32 ADDR \[att\|intel\]$/m);
  });

  it("backtraces through 32-bit code: from __kernel_vsyscall in a write, the caller's frames are the ones gdb shows under qemu-i386 -g at the same call", async () => {
    // qemu-i386 maps no vDSO: glibc's `call *%gs:0x10` reaches its own _dl_sysinfo_int80 there, our
    // __kernel_vsyscall here; every frame above is the same code, and gdb (i386) unwinds it natively
    const frames = (out: string) => [...out.matchAll(/^#(\d+) +0x0*([0-9a-f]+) in (\S+) \(/gm)].map((m) => `#${m[1]} ${m[2]} ${m[3]}`);
    const ours = await session(['break __kernel_vsyscall if $eax == 4', 'continue', 'bt', 'finish', 'bt 1', 'kill']);
    const port = await freePort();
    const qemu = spawn('qemu-i386', ['-g', String(port), PROG], { cwd: ROOT, stdio: 'ignore' });
    let theirs: string;
    try {
      theirs = await gdbBatch(port, { file: PROG, ex: ['break _dl_sysinfo_int80 if $eax == 4', 'continue', 'bt', 'finish', 'bt 1', 'kill'], timeout: 120_000 });
    } finally {
      qemu.kill();
    }
    const a = frames(ours), b = frames(theirs);
    expect(a[0]).toMatch(/^#0 [0-9a-f]+ __kernel_vsyscall$/);
    expect(b[0]).toMatch(/^#0 [0-9a-f]+ _dl_sysinfo_int80$/);
    // write's callers: glibc's __libc_write, the stdio chain, puts, main, __libc_start_call_main...
    expect(a.length).toBeGreaterThan(5);
    expect(a.slice(1)).toEqual(b.slice(1));
    // finish: out of the vDSO into its caller (write), as out of _dl_sysinfo_int80 under qemu
    expect(a.at(-1)).toMatch(/^#0 [0-9a-f]+ write$/);
    expect(a.at(-1)).toBe(b.at(-1));
  });

  // the frames gdb shows under qemu-i386 -g from glibc's _dl_sysinfo_int80 in the first write, above it: `pc name`
  let qemuWriteFrames: Promise<string[]> | null = null;
  const qemuCallers = () =>
    (qemuWriteFrames ??= (async () => {
      const port = await freePort();
      const qemu = spawn('qemu-i386', ['-g', String(port), PROG], { cwd: ROOT, stdio: 'ignore' });
      try {
        const out = await gdbBatch(port, { file: PROG, ex: ['break _dl_sysinfo_int80 if $eax == 4', 'continue', 'bt', 'kill'], timeout: 120_000 });
        const frames = [...out.matchAll(/^#(\d+) +0x0*([0-9a-f]+) in (\S+) \(/gm)].map((m) => `${m[2]} ${m[3]}`);
        expect(frames[0]).toMatch(/ _dl_sysinfo_int80$/);
        return frames.slice(1);
      } finally {
        qemu.kill();
      }
    })());

  for (const entry of ['sysenter', 'syscall', 'int80'])
    it(`bt at every instruction of a write's trip through the compat entry (--compat-entry ${entry}): the kernel frames, __kernel_vsyscall, then the frames qemu-i386 -g shows`, async () => {
      const callers = await qemuCallers();
      expect(callers.length).toBeGreaterThan(5);
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-compat-bt-'));
      onTestFinished(() => fs.rmSync(tmp, { recursive: true, force: true }));
      const walk = path.join(tmp, 'walk.gdb');
      // from __kernel_vsyscall into the kernel and back out to the landing pad, bt at each instruction
      fs.writeFileSync(
        walk,
        ['break __kernel_vsyscall if $eax == 4', 'continue', 'delete', 'set $n = 0', 'set $phase = 0', 'while $n < 400 && $phase < 2', '  echo ===\\n', '  bt', '  stepi',
          '  if $pc > 0xffffffff00000000', '    set $phase = 1', '  end', '  if $phase == 1 && $pc < 0x100000000', '    set $phase = 2', '  end', '  set $n = $n + 1', 'end', 'echo ===\\n', 'bt', 'kill', ''].join('\n'),
      );
      const out = await session([`source ${walk}`], ['--entry', 'native', '--compat-entry', entry]);
      const steps = out.split('===\n').slice(1);
      expect(steps.length).toBeGreaterThan(100);
      expect(out).not.toMatch(/Backtrace stopped|corrupt stack/);
      const kernelEntry = { sysenter: 'entry_SYSENTER_compat', syscall: 'entry_SYSCALL_compat', int80: 'entry_INT80_compat' }[entry];
      const seen = new Set<string>();
      for (const st of steps) {
        const frames = [...st.matchAll(/^#(\d+)\s+(?:0x0*([0-9a-f]+) in )?(<signal handler called>|\w+)/gm)].map((m) => ({ pc: m[2], fn: m[3] }));
        const v = frames.findIndex((f) => f.fn === '__kernel_vsyscall');
        expect(v, st).toBeGreaterThanOrEqual(0);
        // below it the guest kernel's frames (its names, or the entry's call into C as a signal frame)
        for (const f of frames.slice(0, v)) expect(f.fn === '<signal handler called>' || f.pc === undefined || BigInt('0x' + f.pc) >= 0xffffffff80000000n, st).toBe(true);
        for (const f of frames.slice(0, v)) seen.add(f.fn);
        expect(frames.slice(v + 1).map((f) => `${f.pc} ${f.fn}`), st).toEqual(callers);
      }
      // the whole path: the entry, the C it calls, the syscall's own hypercall entry
      for (const fn of [kernelEntry, entry === 'int80' ? 'do_int80_syscall_32' : 'do_fast_syscall_32', 'do_syscall_32_irqs_on', '__ia32_sys_write', 'syscall_return_slowpath'])
        expect(seen, fn).toContain(fn);
    });

  it("registers in both halves: p *regs in do_fast_syscall_32 holds the caller's 32-bit registers, and info registers32 shows a 32-bit frame's, the same through the kernel as from user mode", async () => {
    const mark = (k: string) => `echo ---${k}\\n`;
    const out = await session([
      'break __kernel_vsyscall if $eax == 4',
      'continue',
      mark('A'),
      'info registers32',
      'up',
      mark('B'),
      'info registers32',
      'break sysretl_check_cs',
      'continue',
      mark('C'),
      'p/x *regs',
      'info registers32',
      'frame 2',
      mark('D'),
      'info registers32',
      'frame 3',
      mark('E'),
      'info registers32',
      'kill',
    ]);
    const block = (k: string) => out.split(`---${k}\n`)[1].split('---')[0];
    const regs = (k: string) => new Map([...block(k).matchAll(/^(\w+) +0x([0-9a-f]+) +(.*)$/gm)].map((m) => [m[1], { v: BigInt('0x' + m[2]), text: m[3] }]));
    const [a, b, d, e] = ['A', 'B', 'D', 'E'].map(regs);
    expect([...a.keys()]).toEqual(['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs']);
    expect(a.get('eax')!.v).toBe(4n);
    expect(a.get('cs')!.v).toBe(0x23n);
    expect(a.get('eip')!.text).toMatch(/<__kernel_vsyscall>$/);
    expect(b.get('eip')!.text).toMatch(/<write\+\d+>$/);
    // struct pt_regs of the call: the caller's registers as SYSENTER found them, zero-extended
    const c = new Map([...block('C').matchAll(/(\w+) = 0x([0-9a-f]+)/g)].map((m) => [m[1], BigInt('0x' + m[2])]));
    for (const [field, reg] of [['bx', 'ebx'], ['cx', 'ecx'], ['dx', 'edx'], ['si', 'esi'], ['di', 'edi'], ['bp', 'ebp']] as const) expect(c.get(field), field).toBe(a.get(reg)!.v);
    expect(c.get('orig_ax')).toBe(4n);
    expect(c.get('sp')).toBe(a.get('esp')!.v - 12n); // __kernel_vsyscall pushed ecx, edx and ebp
    expect(c.get('cs')).toBe(0x23n);
    expect(c.get('ss')).toBe(0x2bn);
    expect(block('C')).toMatch(/info registers32: frame #0 is not 32-bit code \(cs 0x10, a 32-bit program's is 0x23\); `info registers` shows it/);
    // __kernel_vsyscall's frame from inside the kernel: pt_regs through the entry's CFI, at the landing pad
    expect(d.get('eip')!.v).toBe(c.get('ip'));
    expect(d.get('eip')!.text).toMatch(/<__kernel_vsyscall\+\d+>$/);
    expect(d.get('esp')!.v).toBe(c.get('sp'));
    expect(d.get('eax')!.v).toBe(14n); // the result so far: "Hello, world!\n"
    // write's frame: what the unwinder finds from user mode, for every register the call preserves
    for (const r of ['ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'cs', 'ss', 'ds', 'es', 'fs', 'gs']) expect(e.get(r), r).toEqual(b.get(r));
  });

  it("glibc reads the clock through the vDSO's __vdso_clock_gettime64, and the backtrace from it is gdb's under qemu-i386 -g from glibc's caller", async () => {
    const prog = BIN('clock32-i386');
    const frames = (out: string) => [...out.matchAll(/^#(\d+) +0x0*([0-9a-f]+) in (\S+) \(/gm)].map((m) => `${m[2]} ${m[3]}`);
    const stub = await startStub(['--entry', 'native', prog]);
    let ours: string;
    try {
      ours = await gdbBatch(stub.port, { scripts: ['entrystub.py'], ex: ['break __vdso_clock_gettime64', 'continue', 'bt', 'kill'], timeout: 120_000 });
    } finally {
      await stub.stop();
    }
    // qemu-i386 maps no vDSO, so glibc's __clock_gettime64 makes the call itself: the frames from its caller up are the same
    const port = await freePort();
    const qemu = spawn('qemu-i386', ['-g', String(port), prog], { cwd: ROOT, stdio: 'ignore' });
    let theirs: string;
    try {
      theirs = await gdbBatch(port, { file: prog, ex: ['break __clock_gettime64', 'continue', 'bt', 'kill'], timeout: 120_000 });
    } finally {
      qemu.kill();
    }
    const a = frames(ours), b = frames(theirs);
    expect(a[0]).toMatch(/ __vdso_clock_gettime64$/);
    expect(a[1]).toMatch(/ __clock_gettime64$/);
    expect(b[0]).toMatch(/ __clock_gettime64$/);
    // clock_gettime, then main (main's CFA is a DWARF expression: its stack is realigned), where gdb stops
    expect(a.slice(2)).toEqual(b.slice(1));
    expect(a.at(-1)).toMatch(/ main$/);
  });

  it("catch syscall uses the i386 numbers for a 32-bit process: write is 4, _llseek (140) and socketcall (102) have no x86-64 counterpart", async () => {
    const out = await session(['catch syscall write', 'catch syscall socketcall', 'catch syscall 140', 'monitor syscall-numbers32', 'continue', 'p $orig_rax', 'continue', 'p $rax', 'bt 2', 'continue']);
    // gdb's own i386 table names them (asm/unistd_32.h: __NR_write 4, __NR_socketcall 102, __NR__llseek 140)
    expect(out).toMatch(/^Catchpoint 1 \(syscall 'write' \[4\]\)$/m);
    expect(out).toMatch(/^Catchpoint 2 \(syscall 'socketcall' \[102\]\)$/m);
    expect(out).toMatch(/^Catchpoint 3 \(syscall '_llseek' \[140\]\)$/m);
    expect(out).toMatch(/^syscall-numbers32: i386$/m);
    expect(out).toMatch(/^Catchpoint 1 \(call to syscall write\), entry_SYSENTER_compat \(\)/m);
    expect(out).toMatch(/^\$1 = 4$/m);
    expect(out).toMatch(/^Catchpoint 1 \(returned from syscall write\), 0x0*[0-9a-f]+ in __kernel_vsyscall \(\)$/m);
    expect(out).toMatch(/^\$2 = 14$/m); // "Hello, world!\n" (hello.c)
    expect(out).toMatch(/^#1 +0x0*[0-9a-f]+ in write \(\)$/m);
    expect(out).toMatch(/exited normally/);
  });

  for (const compatEntry of ['sysenter', 'int80'])
    it(`catch syscall in the direct model (--compat-entry ${compatEntry}): a 32-bit call stops at entry, as ptrace shows it, and at its return; orig_rax = -1 cancels it`, async () => {
      const run = async (ex: string[]) => {
        const stub = await startStub(['--entry', 'direct', '--compat-entry', compatEntry, PROG]);
        try {
          const out = await gdbBatch(stub.port, { scripts: ['entrystub.py'], ex, timeout: 120_000 });
          return { out, stdout: stub.stdout() };
        } finally {
          await stub.stop();
        }
      };
      const ran = await run(['catch syscall write', 'continue', 'p $orig_rax', 'p $eax', 'continue', 'p $eax', 'bt 2', 'continue']);
      expect(ran.out).toMatch(/^Catchpoint 1 \(syscall 'write' \[4\]\)$/m);
      // the return is set up: EIP at int80_landing_pad (where do_fast_syscall_32 puts regs->ip, or past int $0x80)
      expect(ran.out).toMatch(/^Catchpoint 1 \(call to syscall write\), 0x0*[0-9a-f]+ in __kernel_vsyscall \(\)$/m);
      expect(ran.out).toMatch(/^\$1 = 4\n\$2 = -38$/m);
      expect(ran.out).toMatch(/^Catchpoint 1 \(returned from syscall write\), 0x0*[0-9a-f]+ in __kernel_vsyscall \(\)$/m);
      expect(ran.out).toMatch(/^\$3 = 14$/m);
      expect(ran.out).toMatch(/^#1 +0x0*[0-9a-f]+ in write \(\)$/m);
      expect(ran.out).toMatch(/exited normally/);
      expect(ran.stdout).toBe('Hello, world!\n');
      const cancelled = await run(['catch syscall write', 'continue', 'set var $orig_rax = -1', 'continue', 'p $eax', 'continue']);
      expect(cancelled.out).toMatch(/^Catchpoint 1 \(call to syscall write\)/m);
      expect(cancelled.out).not.toMatch(/returned from syscall/);
      expect(cancelled.stdout).toBe('');
    });

  it('catch syscall _llseek stops on the i386 call that has no x86-64 counterpart, entry and return', async () => {
    const prog = BIN('syscalls32-i386');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-llseek-'));
    onTestFinished(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const stub = await startStub(['--entry', 'native', prog], { cwd: tmp });
    let out: string;
    try {
      out = await gdbBatch(stub.port, { scripts: ['entrystub.py'], ex: ['catch syscall _llseek', 'continue', 'p $orig_rax', 'continue', 'p $rax', 'kill'], timeout: 120_000 });
    } finally {
      await stub.stop();
    }
    expect(out).toMatch(/^Catchpoint 1 \(syscall '_llseek' \[140\]\)$/m);
    expect(out).toMatch(/^Catchpoint 1 \(call to syscall _llseek\), entry_SYSENTER_compat \(\)/m);
    expect(out).toMatch(/^\$1 = 140$/m);
    expect(out).toMatch(/^Catchpoint 1 \(returned from syscall _llseek\), 0x0*[0-9a-f]+ in __kernel_vsyscall \(\)$/m);
    expect(out).toMatch(/^\$2 = 0$/m); // syscalls32.c: _llseek(fd, 0, 6, &pos, SEEK_SET) returns 0
  });

  it('an exec across the ABIs (x86-64 busybox -> i386 busybox -> x86-64): gdb\'s syscall table and the numbers follow the process', async () => {
    const b64 = busyboxPath()!;
    const b32 = busybox32();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-abis-'));
    onTestFinished(() => fs.rmSync(tmp, { recursive: true, force: true }));
    fs.writeFileSync(path.join(tmp, 'to32.sh'), `echo 64\nexec ${b32} sh ${path.join(tmp, 'to64.sh')}\n`);
    fs.writeFileSync(path.join(tmp, 'to64.sh'), `echo 32\nexec ${b64} echo 64 again\n`);
    const stub = await startStub(['--entry', 'native', b64, 'sh', path.join(tmp, 'to32.sh')]);
    let out: string;
    try {
      const step = (n: number) => ['catch syscall write', 'continue', `p $orig_rax`, `delete ${n}`, 'continue'];
      out = await gdbBatch(stub.port, { scripts: ['entrystub.py'], ex: ['catch exec', ...step(2), ...step(3), ...step(4)], timeout: 120_000 });
    } finally {
      await stub.stop();
    }
    // each catchpoint is made while its program is the process: write is 1, then 4, then 1 again
    expect(out).toMatch(/^Catchpoint 2 \(syscall 'write' \[1\]\)\n\nCatchpoint 2 \(call to syscall write\), entry_SYSCALL_64 \(\)/m);
    expect(out).toMatch(/^Catchpoint 3 \(syscall 'write' \[4\]\)\n\nCatchpoint 3 \(call to syscall write\), entry_SYSENTER_compat \(\)/m);
    expect(out).toMatch(/^Catchpoint 4 \(syscall 'write' \[1\]\)\n\nCatchpoint 4 \(call to syscall write\), entry_SYSCALL_64 \(\)/m);
    expect([...out.matchAll(/^\$(\d+) = (\d+)$/gm)].map((m) => m[2])).toEqual(['1', '4', '1']);
    expect(out).toMatch(/exited normally/);
  });

  it("a dynamically linked 32-bit program: its libraries' symbols at their load bias, and bt from the vDSO through libc.so.6 to _start", async () => {
    const prog = BIN('hello-i386dyn');
    const stub = await startStub(['--entry', 'native', prog]);
    let out: string;
    try {
      out = await gdbBatch(stub.port, {
        scripts: ['entrystub.py'],
        ex: ['tbreak __kernel_vsyscall if $eax == 4', 'continue', 'bt', 'maint packet qXfer:libraries-svr4:read::0,ffff', 'info symbol puts', 'kill'],
        timeout: 120_000,
      });
    } finally {
      await stub.stop();
    }
    const libc = /<library name="([^"]+libc\.so\.6)" lm="0x[0-9a-f]+" l_addr="(0x[0-9a-f]+)"/.exec(out);
    expect(libc).not.toBeNull();
    const bias = parseInt(libc![2], 16);
    expect(out).toMatch(/^puts in section \.text of target:\S+libc\.so\.6$/m);
    // each frame gdb names in libc is named as gdb names a stripped object's code, by the nearest
    // function of libc's own dynamic symbol table (nm -D) at or below the call, at the bias
    const dyn = [...spawnSync('nm', ['-D', '--defined-only', libc![1]], { encoding: 'utf8' }).stdout.matchAll(/^([0-9a-f]+) [TtWi] (\S+?)(@@?\S+)?$/gm)].map((m) => ({
      at: parseInt(m[1], 16) + bias,
      name: m[2],
    }));
    const nearest = (a: number) => {
      const below = dyn.filter((d) => d.at <= a);
      const top = Math.max(...below.map((d) => d.at));
      return below.filter((d) => d.at === top).map((d) => d.name);
    };
    const frames = [...out.matchAll(/^#(\d+) +0x0*([0-9a-f]+) in (\S+) \(/gm)].map((m) => ({ pc: parseInt(m[2], 16), fn: m[3] }));
    expect(frames[0].fn).toBe('__kernel_vsyscall');
    const inLibc = frames.filter((f) => dyn.some((d) => d.name === f.fn));
    expect(inLibc.map((f) => f.fn)).toEqual(expect.arrayContaining(['exit', '__libc_start_main']));
    for (const f of inLibc) expect(nearest(f.pc - 1), `${f.fn} at 0x${f.pc.toString(16)}`).toContain(f.fn);
    // the chain ends in the program's _start (nm of the program), where gdb stops
    const start = parseInt(/^([0-9a-f]+) T _start$/m.exec(spawnSync('nm', [prog], { encoding: 'utf8' }).stdout)![1], 16);
    expect(frames.at(-1)!.fn).toBe('_start');
    expect(frames.at(-1)!.pc).toBeGreaterThan(start);
  });

  it('a 64-bit program is left to gdb: no 32-bit vDSO, its code disassembled as 64-bit', async () => {
    const prog = BIN('hello-musl');
    const start = parseInt(/^([0-9a-f]+) T _start$/m.exec(spawnSync('nm', [prog], { encoding: 'utf8' }).stdout)![1], 16);
    const stub = await startStub(['--entry', 'native', prog]);
    let out: string;
    try {
      out = await gdbBatch(stub.port, { scripts: ['entrystub.py'], ex: [`x/6i 0x${start.toString(16)}`, 'info files', 'kill'] });
    } finally {
      await stub.stop();
    }
    expect(out).not.toMatch(/read from target memory/);
    expect(gdbInsns(out, start, 6)).toEqual(objdump(prog, '_start', 6, 'i386:x86-64'));
  });
});
