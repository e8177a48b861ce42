/**
 * The walk-throughs (gdb-scripts/walk-*.gdb): each is run with the real gdb
 * against `entrystub serve`, with the serve options its header comment
 * gives, and what gdb prints is compared with test/gdb/expected/walk-*.out.
 *
 * Only what legitimately varies is normalized: the checkout directory, user
 * stack addresses (they depend on the environment and the program's path),
 * gdb's separate-debug-file lookup, and the process id in gdb's inferior
 * lines. Code addresses, symbols, source lines and register values are
 * compared exactly.
 *
 * Regenerate the expected files (then read them: they are what users see):
 *   UPDATE_EXPECTED=1 npx vitest run test/gdb/walkthroughs.test.ts
 *
 * An expected file is only what the tool once printed, so each walk-through
 * is also held to facts from outside the tool (issue 18): every symbol gdb
 * names for an address is the one the ELF files' own symbol tables (nm) give
 * for it, and the values the programs' sources and the system's headers
 * determine (the syscall numbers, a write's arguments and result, SIGUSR1,
 * -ENOSYS, where the code returns) are what gdb prints.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, SCRIPTS, gdbBatch, startStub } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb', 'nm') !== null;

const EXPECTED = path.join(ROOT, 'test', 'gdb', 'expected');
const UPDATE = process.env.UPDATE_EXPECTED === '1';

/** Each walk-through and the `entrystub serve` arguments it is written for (program paths relative to the project). */
const WALKS: [script: string, serve: string[]][] = [
  ['walk-zpoline.gdb', ['--entry', 'nommu', '--hook', 'zpoline', 'test/fixtures/bin/entry-probe']],
  ['walk-seccomp.gdb', ['--entry', 'nommu', '--hook', 'seccomp', 'test/fixtures/bin/entry-probe']],
  ['walk-native-sysret.gdb', ['--entry', 'native', 'test/fixtures/bin/entry-probe']],
  ['walk-native-iret.gdb', ['--entry', 'native']],
  ['walk-catch-syscall.gdb', ['--entry', 'native', 'test/fixtures/bin/entry-probe']],
  ['walk-signal.gdb', ['--entry', 'nommu', '--hook', 'zpoline']],
  ['walk-orig-rax.gdb', ['--entry', 'nommu', '--hook', 'zpoline']],
  ['walk-reverse.gdb', ['--entry', 'native', 'test/fixtures/bin/entry-probe']],
  ['walk-timer.gdb', ['--entry', 'native', 'test/fixtures/bin/read-loop-musl', 'test/fixtures/src/read-loop.c']],
  ['walk-compat-sysenter.gdb', ['--entry', 'native', 'test/fixtures/bin/hello-i386']],
];

/** The serve options a walk-through's header gives (`entrystub serve ...`), with the defaults spelled out. */
function headerServeArgs(script: string): string[] {
  const text = fs.readFileSync(path.join(SCRIPTS, script), 'utf8');
  const m = /^#\s+entrystub serve(.*?)\s*&?\s*$/m.exec(text);
  if (!m) throw new Error(`${script}: no "entrystub serve" line in its header`);
  const args = m[1].trim().split(/\s+/).filter(Boolean);
  if (!args.includes('--entry')) args.unshift('--entry', 'nommu');
  if (args[args.indexOf('--entry') + 1] === 'nommu' && !args.includes('--hook')) args.splice(args.indexOf('--entry') + 2, 0, '--hook', 'zpoline');
  return args;
}

function normalize(out: string): string {
  return (
    out
      .split(ROOT + '/')
      .join('<ROOT>/')
      // user stack addresses (and values pointing into the stack): 0x7fff........, with or without gdb's zero padding
      .replace(/\b0x(0000)?7fff[0-9a-f]{8}\b/g, (_m, pad: string | undefined) => `0x${pad ?? ''}7fffXXXXXXXX`)
      // gdb looking for a separate debug file: depends on gdb's debug-file-directory
      .replace(/^Reading \/\S+\/\.build-id\/\S+\.debug from remote target\.\.\.\n/gm, '')
      .replace(/\(process \d+\)/g, '(process N)')
  );
}

// ---------------------------------------------------------------- facts from outside the tool

interface Sym {
  name: string;
  value: bigint;
  /** st_size: 0 for a label (or a symbol whose size was not given). */
  size: bigint;
}

/** A file's symbol table as nm reads it (defined symbols with an address; no absolute ones). */
function nmSymbols(file: string): Sym[] {
  const out = execFileSync('nm', ['-S', '-n', '--defined-only', file], { encoding: 'utf8' });
  const syms: Sym[] = [];
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]+)(?: ([0-9a-f]+))? ([A-Za-z]) (\S+)$/.exec(line);
    if (m && !'aAN'.includes(m[3])) syms.push({ name: m[4], value: BigInt('0x' + m[1]), size: m[2] ? BigInt('0x' + m[2]) : 0n });
  }
  return syms;
}

/** Does sym extend over addr: within its size, or, for a label, is it the nearest symbol at or below addr? */
function covers(syms: Sym[], sym: Sym, addr: bigint): boolean {
  if (addr < sym.value) return false;
  if (sym.size > 0n) return addr < sym.value + sym.size;
  return !syms.some((o) => o.value > sym.value && o.value <= addr);
}

/** Why gdb's `name+off` for addr disagrees with the symbol tables, or null if it agrees. */
function misnamed(syms: Sym[], addr: bigint, name: string, off: bigint | null): string | null {
  if (name === '??') {
    const s = syms.find((x) => x.size > 0n && covers(syms, x, addr));
    return s ? `0x${addr.toString(16)} is in ${s.name} by nm, gdb says ??` : null;
  }
  const cands = syms.filter((x) => x.name === name);
  if (cands.length === 0) return `${name}: no such symbol in the ELF files`;
  if (cands.some((x) => (off === null || x.value + off === addr) && covers(syms, x, addr))) return null;
  return `0x${addr.toString(16)} is not ${name}${off ? `+${off}` : ''} by nm (${name} = ${cands.map((x) => `0x${x.value.toString(16)}, size ${x.size}`).join('; ')})`;
}

/**
 * Every place gdb names the code or data at an address: `0xADDR <sym+off>`
 * (x/i, p, x/a), `0xADDR in sym (` (stops and backtrace frames; a caller's
 * frame is named by its pc - 1, the call, as gdb does, except the caller of
 * a signal frame, which gdb names by its pc: it was interrupted there, not
 * called), and `Breakpoint N, sym (` for the address gdb gave breakpoint N.
 */
function namingErrors(out: string, syms: Sym[]): string[] {
  const errors: string[] = [];
  const bps = new Map<string, bigint>();
  const check = (line: string, addr: bigint, name: string, off: bigint | null) => {
    const e = misnamed(syms, addr, name, off);
    if (e) errors.push(`${e}\n    in: ${line}`);
  };
  let calleeIsSignalFrame = false;
  for (const line of out.split('\n')) {
    for (const m of line.matchAll(/\b0x([0-9a-f]+) <([^>\s+]+)(?:\+(\d+))?>/g)) check(line, BigInt('0x' + m[1]), m[2], BigInt(m[3] ?? 0));
    const frame = /^#(\d+) /.exec(line);
    const stop = /\b0x([0-9a-f]{16}) in (\S+) \(/.exec(line);
    const called = frame !== null && frame[1] !== '0' && !calleeIsSignalFrame;
    if (stop) check(line, BigInt('0x' + stop[1]) - (called ? 1n : 0n), stop[2], null);
    if (frame) calleeIsSignalFrame = /^#\d+\s+<signal handler called>/.test(line);
    const set = /^(?:Temporary b|B)reakpoint (\d+) at 0x([0-9a-f]+)/.exec(line);
    if (set) bps.set(set[1], BigInt('0x' + set[2]));
    const hit = /^(?:Temporary b|B)reakpoint (\d+), ([^\s(]+) \(/.exec(line);
    if (hit && !hit[2].startsWith('0x') && bps.has(hit[1])) check(line, bps.get(hit[1])!, hit[2], null);
  }
  return errors;
}

/** `#define NAME NUMBER` lines of a system header (a trailing comment allowed). */
function defines(header: string, prefix: string): Map<string, bigint> {
  const text = fs.readFileSync(header, 'utf8');
  const out = new Map<string, bigint>();
  for (const m of text.matchAll(new RegExp(`^#define\\s+${prefix}(\\w+)\\s+(\\d+)\\s*(?:/\\*.*\\*/\\s*)?$`, 'gm'))) out.set(m[1], BigInt(m[2]));
  return out;
}

/** A value the source determines: found once in `text`, or the test is wrong. */
function fromSource(file: string, re: RegExp): RegExpExecArray {
  const m = re.exec(fs.readFileSync(path.join(ROOT, file), 'utf8'));
  if (!m) throw new Error(`${file}: ${re} not found`);
  return m;
}

const NR = defines('/usr/include/x86_64-linux-gnu/asm/unistd_64.h', '__NR_');
const SIG = defines('/usr/include/x86_64-linux-gnu/asm/signal.h', 'SIG');
const ERRNO = defines('/usr/include/asm-generic/errno.h', '');
const nr = (name: string) => NR.get(name) ?? fail(`no __NR_${name}`);
const NR32 = defines('/usr/include/x86_64-linux-gnu/asm/unistd_32.h', '__NR_');
/** hello.c's message, and so its write's count. */
const HELLO = JSON.parse(`"${fromSource('test/fixtures/src/hello.c', /printf\("(.*)"\)/)[1]}"`) as string;
const fail = (msg: string): never => {
  throw new Error(msg);
};

/** entry-probe.S: write(1, msg, N) at write_site, then syscall 1000, then exit_group(0 if it returned -ENOSYS). */
const PROBE = {
  fd: BigInt(fromSource('test/fixtures/src/entry-probe.S', /movl\s+\$(\d+), %edi/)[1]),
  count: BigInt(fromSource('test/fixtures/src/entry-probe.S', /movl\s+\$(\d+), %edx/)[1]),
  beyond: BigInt(fromSource('test/fixtures/src/entry-probe.S', /movl\s+\$(\d+), %eax\s+\/\* no such syscall/)[1]),
};

/** Linux's x86-64 GDT (asm/segment.h): kernel code is entry 2, user 64-bit code entry 6, RPL 3. */
const KERNEL_CS = 2n * 8n, USER_CS = 6n * 8n + 3n;
/** read-loop.c: the size of its buffer, `unsigned char buf[N]`. */
const READ_PIECE = BigInt(fromSource('test/fixtures/src/read-loop.c', /unsigned char buf\[(\d+)\]/)[1]);

/** walk-orig-rax.gdb skips a getpid with this result (`set $rax = N`). */
const ORIG_RAX_RESULT = BigInt(fromSource('gdb-scripts/walk-orig-rax.gdb', /^set \$rax = (\d+)$/m)[1]);

/**
 * What the walk-throughs must print, from the sources: [the expression as the
 * script prints it (`p EXPR`, `p/x EXPR`), which of its prints (0 = the first),
 * the value, and where the value comes from]. A symbol's name stands for its
 * address in the program (nm).
 */
type Fact = [expr: string, nth: number, want: bigint | string, why: string];
const WRITE_ENTRY = 'write: the number (asm/unistd_64.h)';
const FACTS: Record<string, Fact[]> = {
  'walk-zpoline.gdb': [
    ['$rax', 0, nr('write'), WRITE_ENTRY],
    ['$rcx', 0, 'after_write', 'the return address the call pushed: the instruction after write_site'],
    ['current_ptregs->orig_ax', 0, nr('write'), WRITE_ENTRY],
    ['(long) current_ptregs->ax', 0, -ERRNO.get('ENOSYS')!, 'ax = -ENOSYS until the syscall returns (asm-generic/errno.h)'],
    ['regs->orig_ax', 0, nr('write'), WRITE_ENTRY],
    ['$rax', 1, PROBE.count, "the host's write returns the count (entry-probe.S)"],
    ['regs->ax', 0, PROBE.count, 'the result stored in pt_regs'],
    ['$rcx', 1, 'after_write', 'jmp *%rcx returns after write_site'],
    ['$rax', 2, PROBE.count, 'the result in the program'],
  ],
  'walk-seccomp.gdb': [
    ['$rax', 0, nr('write'), WRITE_ENTRY],
    ['$rcx', 1, 'after_write', 'the trap sets RCX to the instruction after the syscall'],
    ['$rax', 1, nr('write'), WRITE_ENTRY],
    ['$rcx', 2, 'after_write', 'jmp *%rcx returns after write_site'],
    ['$rax', 2, PROBE.count, 'the result in the program (entry-probe.S)'],
    ['regs->orig_ax', 0, PROBE.beyond, 'the next syscall number (entry-probe.S)'],
    ['(long) regs->ax', 0, -ERRNO.get('ENOSYS')!, '-ENOSYS (asm-generic/errno.h)'],
    ['$rax', 3, -ERRNO.get('ENOSYS')!, '-ENOSYS in the program'],
  ],
  'walk-native-sysret.gdb': [
    ['$rcx', 0, 'after_write', 'SYSCALL saves the address of the next instruction in RCX'],
    ['nr', 0, nr('write'), WRITE_ENTRY],
    ['$regs->ax', 0, PROBE.count, 'the result (entry-probe.S)'],
    ['$regs->cx', 0, 'after_write', 'the RCX slot'],
    ['$regs->ip', 0, 'after_write', 'the RIP slot'],
    ['$rcx', 1, 'after_write', 'sysretq returns to RCX'],
    ['$rax', 0, PROBE.count, 'the result in the program'],
  ],
  'walk-catch-syscall.gdb': [
    ['$orig_rax', 0, nr('write'), WRITE_ENTRY],
    ['$rax', 0, -ERRNO.get('ENOSYS')!, "-ENOSYS at a syscall-entry stop, as ptrace shows it (asm-generic/errno.h)"],
    ['$rcx', 0, 'after_write', 'SYSCALL saves the address of the next instruction in RCX'],
    ['$rdi', 0, PROBE.fd, "write's fd (entry-probe.S)"],
    ['$rdx', 0, PROBE.count, "write's count (entry-probe.S)"],
    ['$rax', 1, PROBE.count, "write's result"],
    ['$orig_rax', 1, nr('write'), WRITE_ENTRY],
    ['$orig_rax', 2, PROBE.beyond, 'the next syscall number (entry-probe.S)'],
    ['$rax', 2, -ERRNO.get('ENOSYS')!, '-ENOSYS (asm-generic/errno.h)'],
    ['$orig_rax', 3, nr('exit_group'), 'exit_group (asm/unistd_64.h)'],
    ['$rdi', 1, 0n, 'exit status 0: syscall 1000 returned -ENOSYS'],
  ],
  'walk-native-iret.gdb': [
    ['$orig_rax', 0, nr('kill'), 'kill (asm/unistd_64.h)'],
    ['$rsi', 0, SIG.get('USR1')!, "kill's signal, SIGUSR1 (example.c, asm/signal.h)"],
    ['$regs->ip', 0, 'on_usr1', 'the handler example.c installs'],
    ['$regs->di', 0, SIG.get('USR1')!, "the handler's argument"],
    ['$rdi', 1, SIG.get('USR1')!, "the handler's argument, after POP_REGS"],
    ['$rdi', 2, SIG.get('USR1')!, "the handler's argument, in on_usr1"],
    ['$orig_rax', 1, nr('rt_sigreturn'), 'rt_sigreturn (asm/unistd_64.h)'],
    ['$rax', 0, 0n, 'kill() returns 0'],
  ],
  'walk-signal.gdb': [
    ['$orig_rax', 0, nr('kill'), 'kill (asm/unistd_64.h)'],
    ['$rsi', 0, SIG.get('USR1')!, "kill's signal, SIGUSR1 (example.c, asm/signal.h)"],
    ['current_ptregs->ip', 0, 'on_usr1', 'the handler example.c installs'],
    ['$rcx', 0, 'on_usr1', 'jmp *%rcx goes to the handler'],
    ['$rdi', 1, SIG.get('USR1')!, "the handler's argument"],
    ['*(int *) $rsi', 0, SIG.get('USR1')!, 'siginfo.si_signo'],
    ['(long) current_ptregs->ax', 0, 0n, "kill's result, restored by rt_sigreturn"],
    ['$rax', 0, 0n, 'kill() returns 0'],
  ],
  'walk-timer.gdb': [
    ['$cs', 0, KERNEL_CS, 'inside the syscall body: CPL 0, __KERNEL_CS (asm/segment.h: GDT entry 2)'],
    ['($eflags & 0x200) != 0', 0, 1n, 'IF: do_syscall_64 enables interrupts before the body (the timer can land there)'],
    ['((unsigned long *)$rsp)[1]', 0, KERNEL_CS, 'the CS the CPU pushed: the interrupt came from kernel mode'],
    ['(((unsigned long *)$rsp)[2] & 0x200) != 0', 0, 1n, 'the RFLAGS the CPU pushed had IF set'],
    ['regs < $task', 0, 1n, "the interrupt's pt_regs lie below the task's on the same stack"],
    ['$task->orig_ax', 0, nr('read'), 'task_pt_regs(current) is still the read\'s: its number (asm/unistd_64.h)'],
    ['$task->cs', 0, USER_CS, "the read's user context: __USER_CS (asm/segment.h: GDT entry 6, RPL 3)"],
    ['($eflags & 0x200) != 0', 1, 1n, 'IRETQ restored the interrupted RFLAGS: IF on again'],
    ['$rax', 0, READ_PIECE, "the read's result: read-loop.c reads 64-byte pieces of a longer file"],
  ],
  'walk-compat-sysenter.gdb': [
    ['$eax', 0, NR32.get('write')!, 'write: the i386 number (asm/unistd_32.h)'],
    ['$ebx', 0, 1n, "printf's stdout, fd 1 (hello.c)"],
    ['$edx', 0, BigInt(HELLO.length), "the message's length (hello.c)"],
    ['$regs->orig_ax', 0, NR32.get('write')!, 'write: the i386 number (asm/unistd_32.h)'],
    ['$regs->ip', 0, 0n, 'the placeholder entry_SYSENTER_compat pushes (SYSENTER saves no EIP)'],
    ['$regs->ax', 0, BigInt(HELLO.length), "write's result: the message's length"],
    ['$eax', 1, BigInt(HELLO.length), 'the result, at the landing pad'],
    ['$eax', 2, BigInt(HELLO.length), 'the result, back in glibc'],
  ],
  'walk-orig-rax.gdb': [
    ['$orig_rax', 0, nr('getpid'), 'getpid (asm/unistd_64.h)'],
    ['$rax', 0, -ERRNO.get('ENOSYS')!, '-ENOSYS at a syscall-entry stop, as ptrace shows it (asm-generic/errno.h)'],
    ['$rdi', 0, ORIG_RAX_RESULT, "kill's pid: the result the script gave the skipped getpid"],
    ['$rsi', 0, SIG.get('USR1')!, "kill's signal, SIGUSR1 (example.c, asm/signal.h)"],
  ],
  'walk-reverse.gdb': [
    ['$rax', 0, PROBE.count, "write's result, forwards"],
    ['$cs', 0, 0x10n, 'back on sysretq: __KERNEL_CS (asm/segment.h)'],
    ['$rcx', 0, 'after_write', 'SYSRET returns to RCX'],
    ['$cs', 1, 0x33n, 'back at the syscall: __USER_CS'],
    ['$rax', 1, nr('write'), 'back before the syscall, RAX holds its number again (asm/unistd_64.h)'],
    ['$rsp == $user_sp', 0, 1n, 'the user stack pointer as it was'],
    ['$rax', 2, PROBE.count, "write's result, forwards again"],
  ],
};

/** What the program's pt_regs must hold at a write's entry (entry-probe.S and its symbols). */
function writeRegsErrors(out: string, addrOf: (name: string) => bigint): string[] {
  const errors: string[] = [];
  const want: Record<string, bigint> = { orig_ax: nr('write'), di: PROBE.fd, si: addrOf('msg'), dx: PROBE.count, ip: addrOf('after_write'), cx: addrOf('after_write') };
  for (const m of out.matchAll(/^\$\d+ = \{(r15 = .*?)\}$/gm)) {
    const f = new Map([...m[1].matchAll(/(\w+) = (0x[0-9a-f]+)/g)].map((x) => [x[1], BigInt(x[2])]));
    if (f.get('orig_ax') !== nr('write')) continue; // not (yet) the write's
    for (const [k, v] of Object.entries(want)) if (f.get(k) !== v) errors.push(`pt_regs->${k} = 0x${f.get(k)?.toString(16)}, the source says 0x${v.toString(16)}\n    in: ${m[0]}`);
  }
  return errors;
}

/** The 32-bit vDSO's symbols (its image's nm) where the walk found it mapped: breakpoint 1 is __kernel_vsyscall. */
function vdsoSymbols(out: string): Sym[] {
  const vdso = nmSymbols(path.join(ROOT, 'src/guest/image/vdso32.so'));
  const at = BigInt(/^Breakpoint 1 at (0x[0-9a-f]+)$/m.exec(out)?.[1] ?? fail('no breakpoint 1'));
  const base = at - (vdso.find((x) => x.name === '__kernel_vsyscall')?.value ?? fail('vdso32.so: no __kernel_vsyscall'));
  return vdso.map((x) => ({ ...x, value: x.value + base }));
}

/**
 * walk-compat-sysenter.gdb: the return goes to the vDSO's int80_landing_pad,
 * which lies as far past __kernel_vsyscall (breakpoint 1, AT_SYSINFO) as the
 * vDSO's own symbol table (nm) says.
 */
function landingPadErrors(out: string): string[] {
  const vdso = nmSymbols(path.join(ROOT, 'src/guest/image/vdso32.so'));
  const off = (n: string) => vdso.find((x) => x.name === n)?.value ?? fail(`vdso32.so: no ${n}`);
  const vsyscall = BigInt(/^Breakpoint 1 at (0x[0-9a-f]+)$/m.exec(out)?.[1] ?? fail('no breakpoint 1'));
  const pad = vsyscall + off('int80_landing_pad') - off('__kernel_vsyscall');
  // the second `p/x $regs->ip`: after do_fast_syscall_32 set it
  const k = prints('walk-compat-sysenter.gdb').map((e, i) => (e === '$regs->ip' ? i + 1 : -1)).filter((i) => i > 0)[1];
  const ip = new RegExp(`^\\$${k} = (0x[0-9a-f]+)$`, 'm').exec(out)?.[1];
  return ip !== undefined && BigInt(ip) === pad ? [] : [`regs->ip = ${ip}, int80_landing_pad is 0x${pad.toString(16)}`];
}

/** The script's `p` commands in order: gdb numbers their values $1, $2, ... */
function prints(script: string): string[] {
  const text = fs.readFileSync(path.join(SCRIPTS, script), 'utf8');
  return [...text.matchAll(/^\s*(?:p|print)(?:\/\w+)?\s+(.*?)\s*$/gm)].map((m) => m[1]);
}

/** The number at the start of a printed value (`0x401018`, `-38`, `(void *) 0x... <sym>`). */
function printedNumber(v: string): bigint | null {
  const m = /^(?:\([^)]*\) )?(-?(?:0x[0-9a-f]+|\d+))\b/.exec(v);
  if (!m) return null;
  return m[1].startsWith('-') ? -BigInt(m[1].slice(1)) : BigInt(m[1]);
}

function factErrors(script: string, out: string, addrOf: (name: string) => bigint): string[] {
  const exprs = prints(script);
  const values = new Map([...out.matchAll(/^\$(\d+) = (.*)$/gm)].map((m) => [Number(m[1]), m[2]]));
  // every print made one value, so $k is the script's k-th print
  expect(Math.max(...values.keys()), `${script}: one value per p command`).toBe(exprs.length);
  const errors: string[] = [];
  for (const [expr, nth, want, why] of FACTS[script] ?? []) {
    const k = exprs.map((e, i) => (e === expr ? i : -1)).filter((i) => i >= 0)[nth];
    if (k === undefined) {
      errors.push(`${script} has no print #${nth} of ${expr}`);
      continue;
    }
    const w = typeof want === 'string' ? addrOf(want) : want;
    const got = printedNumber(values.get(k + 1) ?? '');
    // p/x shows a negative value as its 64-bit two's complement
    if (got !== w && got !== BigInt.asUintN(64, w)) errors.push(`$${k + 1} (p ${expr}) = ${values.get(k + 1)}; ${why}: ${w < 0n ? w : '0x' + w.toString(16)}`);
  }
  return errors;
}

async function walk(script: string, serve: string[]): Promise<string> {
  const stub = await startStub(serve);
  try {
    return await gdbBatch(stub.port, { scripts: [script], timeout: 30_000 });
  } finally {
    await stub.stop();
  }
}

describe.skipIf(!HAVE_GDB)('walk-throughs (gdb-scripts/walk-*.gdb) against their expected output', () => {
  it('every walk-*.gdb is listed here, with the serve options its header gives', () => {
    const files = fs.readdirSync(SCRIPTS).filter((f) => /^walk-.*\.gdb$/.test(f));
    expect(files.sort()).toEqual(WALKS.map(([s]) => s).sort());
    for (const [script, serve] of WALKS) expect([script, headerServeArgs(script)]).toEqual([script, serve]);
  });

  it('the facts name every walk-through, and hold for what the expected files show', () => {
    expect(Object.keys(FACTS).sort()).toEqual(WALKS.map(([s]) => s).sort());
    for (const [script] of WALKS) expect(FACTS[script].length, script).toBeGreaterThan(0);
    // entry-probe's count is its message's length
    const msg = fromSource('test/fixtures/src/entry-probe.S', /^msg:\s+\.ascii\s+"(.*)"$/m)[1];
    expect(PROBE.count).toBe(BigInt(JSON.parse(`"${msg}"`).length));
    expect([NR.get('write'), SIG.get('USR1'), ERRNO.get('ENOSYS')]).toEqual([1n, 10n, 38n]);
  });

  for (const [script, serve] of WALKS) {
    it(script, async () => {
      const raw = await walk(script, serve);
      const out = normalize(raw);
      // a script that stopped half-way (an error, a hang killed by the timeout) is never a valid expectation
      expect(out).not.toMatch(/Error in sourced command file|Remote connection closed|KeyboardInterrupt/);
      expect(out).toMatch(/\[Inferior 1 \(process N\) exited normally\]\n$/);
      // facts from outside the tool, before comparing with what it printed last time
      const program = serve.find((a) => a.startsWith('test/fixtures/bin/')) ?? 'examples/example-musl';
      const kernel = `src/guest/image/kernel-${serve[serve.indexOf('--entry') + 1]}.elf`;
      const progSyms = nmSymbols(path.join(ROOT, program));
      const syms = [...progSyms, ...nmSymbols(path.join(ROOT, kernel)), ...(script === 'walk-compat-sysenter.gdb' ? vdsoSymbols(raw) : [])].sort((a, b) =>
        a.value < b.value ? -1 : a.value > b.value ? 1 : 0,
      );
      const addrOf = (name: string) => progSyms.find((x) => x.name === name)?.value ?? fail(`${program}: no symbol ${name}`);
      expect(namingErrors(raw, syms), 'gdb names an address otherwise than the ELF symbol tables').toEqual([]);
      expect(factErrors(script, raw, addrOf), 'gdb prints a value otherwise than the sources say').toEqual([]);
      if (program.endsWith('entry-probe')) expect(writeRegsErrors(raw, addrOf), "write's pt_regs").toEqual([]);
      if (script === 'walk-compat-sysenter.gdb') expect(landingPadErrors(raw), 'int80_landing_pad').toEqual([]);
      const file = path.join(EXPECTED, script.replace(/\.gdb$/, '.out'));
      if (UPDATE) {
        fs.mkdirSync(EXPECTED, { recursive: true });
        fs.writeFileSync(file, out);
        return;
      }
      if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run with UPDATE_EXPECTED=1 to create it`);
      expect(out).toBe(fs.readFileSync(file, 'utf8'));
    });
  }
});
