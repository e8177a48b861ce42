/**
 * The real gdb (batch mode) against `entrystub serve`: each script in
 * gdb-scripts/ is run and what gdb prints is checked. No `file` command is
 * given anywhere: gdb gets the program from the stub.
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, CLI, GDBDEMO, ROOT, gdbBatch, startStub } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb') !== null;

/** Serve args, run a script (and -ex commands) with gdb, wait for the stub to end; gdb's output and the stub's. */
async function session(serveArgs: string[], scripts: string[], ex: string[] = []) {
  const stub = await startStub(serveArgs);
  try {
    const out = await gdbBatch(stub.port, { scripts, ex });
    // gdb kills the program on exit (qAttached: 0); the stub then ends on its own
    const code = await Promise.race([stub.exited, new Promise<string>((r) => setTimeout(() => r('running'), 15_000))]);
    return { out, code, progOut: stub.stdout(), stubErr: stub.stderr() };
  } finally {
    await stub.stop();
  }
}

const count = (s: string, re: RegExp) => (s.match(new RegExp(re.source, 'g')) ?? []).length;

describe.skipIf(!HAVE_GDB)('gdb batch sessions (gdb-scripts/*.gdb)', () => {
  it('symbols.gdb: symbols with no setup, stopped before the first instruction', async () => {
    const { out, code } = await session([GDBDEMO], ['symbols.gdb']);
    expect(out).not.toMatch(/No symbol table|No executable/);
    expect(out).toMatch(/Reading symbols from target:.*gdbdemo/);
    expect(out).toMatch(/0x000000000040102b in _start \(\)/);
    expect(out).toMatch(/_start in section \.text/);
    expect(out).toMatch(/\$1 = 1\n/);
    expect(out).toMatch(/Line 19 of "gdbdemo\.c" starts at address 0x[0-9a-f]+ <add>/);
    expect(out).toMatch(/\$2 = \(volatile long \*\) 0x[0-9a-f]+ <counter>/);
    expect(out).toMatch(/Symbol "main" is a function at address 0x[0-9a-f]+\./);
    expect(code).toBe(0);
  });

  it('registers.gdb: the amd64-linux target description, reads and writes', async () => {
    const { out } = await session([GDBDEMO], ['registers.gdb']);
    expect(out).toMatch(/rip\s+0x40102b\s+0x40102b <_start>/);
    expect(out).toMatch(/eflags\s+0x202\s+\[ IF \]/);
    expect(out).toMatch(/cs\s+0x33\s+51/);
    expect(out).toMatch(/ss\s+0x2b\s+43/);
    expect(out).toMatch(/fs_base\s+0x0\s+0/);
    expect(out).toMatch(/gs_base\s+0x0\s+0/);
    expect(out).toMatch(/orig_rax\s+0xffffffffffffffff\s+-1/);
    expect(out).toMatch(/\$1 = 0\n\$2 = 1\n\$3 = 0x0\n/); // rsp aligned, argc 1, rax 0
    expect(out).toMatch(/\$4 = \[ IM DM ZM OM UM PM \]/);
    expect(out).toMatch(/fctrl\s+0x37f\s+895/);
    expect(out).toMatch(/\$6 = 0x1122334455667788/);
    expect(out).toMatch(/\$7 = \{0, -2\}/);
    expect(out).toMatch(/Breakpoint 1, main \(argc=1, argv=0x[0-9a-f]+\) at gdbdemo\.c:25/);
    expect(out).toMatch(/\$8 = 1\n\$9 = 1\n/); // TLS: fs_base set by libc, self pointer
  });

  it('memory.gdb: the debugger reads and writes read-only memory; unmapped is an error', async () => {
    const { out, progOut } = await session([GDBDEMO], ['memory.gdb']);
    expect(out).toMatch(/<msg>:\s+"gdbdemo: hello\\n"/);
    expect(out).toMatch(/\$1 = 0x55/); // push %rbp
    expect(out).toMatch(/<msg>:\s+"Gdbdemo: hello\\n"/);
    expect(out).toMatch(/Breakpoint 1, add \(a=1, b=2\)/);
    expect(out).toMatch(/Cannot access memory at address 0x10/);
    expect(progOut).toBe('Gdbdemo: hello\n'); // the program printed the debugger's byte
  });

  it('breakpoints.gdb: software and hardware breakpoints, backtrace, finish, exit code', async () => {
    const { out } = await session([GDBDEMO], ['breakpoints.gdb']);
    expect(out).toMatch(/Hardware assisted breakpoint 2 at 0x[0-9a-f]+: file gdbdemo\.c, line 20\./);
    expect(out).toMatch(/Breakpoint 1, main \(argc=1, argv=0x[0-9a-f]+\) at gdbdemo\.c:25/);
    expect(out).toMatch(/Breakpoint 2, add \(a=1, b=2\) at gdbdemo\.c:20/);
    expect(out).toMatch(/#1  0x[0-9a-f]+ in main \(argc=1, argv=0x[0-9a-f]+\) at gdbdemo\.c:27/);
    expect(out).toMatch(/Value returned is \$1 = 3/);
    expect(count(out, /breakpoint already hit 1 time/)).toBe(2);
    expect(out).toMatch(/\[Inferior 1 \(process 1000\) exited with code 03\]/);
  });

  it('stepping.gdb: stepi, next, step, finish', async () => {
    const { out } = await session([GDBDEMO], ['stepping.gdb']);
    expect(out).toMatch(/=> 0x[0-9a-f]+ <main\+\d+>:/);
    expect(out).toMatch(/Line 26 of "gdbdemo\.c"/);
    expect(out).toMatch(/\n27\t    int s = add\(1, 2\);/);
    expect(out).toMatch(/\nadd \(a=1, b=2\) at gdbdemo\.c:20/);
    expect(out).toMatch(/Value returned is \$1 = 3/);
    expect(out).toMatch(/\n28\t    for .*\n\$2 = 0\n29\t/);
  });

  it('next over a 1000-iteration loop line is one vCont;r, stepi needs no g', async () => {
    const { out } = await session(
      [GDBDEMO],
      [],
      ['break 28', 'continue', 'set debug remote 1', 'next', 'stepi 20', 'set debug remote 0', 'p counter', 'info line *$pc'],
    );
    expect(out).toMatch(/\$1 = 2000/);
    expect(count(out, /Sending packet: \$vCont;r/)).toBe(1);
    expect(count(out, /Sending packet: \$g#/)).toBe(0);
    // the stop replies carry rbp (06), rsp (07) and rip (10)
    expect(out).toMatch(/Packet received: T0506:[0-9a-f]{16};07:[0-9a-f]{16};10:[0-9a-f]{16};thread:p3e8\.3e8;/);
  });

  it('watchpoints.gdb: write, read and access watchpoints', async () => {
    const { out } = await session([GDBDEMO], ['watchpoints.gdb']);
    expect(out).toMatch(/Hardware watchpoint 2: counter\n\nOld value = 0\nNew value = 2\n/);
    expect(out).toMatch(/Hardware watchpoint 2: counter\n\nOld value = 2\nNew value = 4\n/);
    expect(out).toMatch(/Hardware read watchpoint 3: counter\n\nValue = 4\n/);
    expect(out).toMatch(/Hardware access \(read\/write\) watchpoint 4: result\n\nOld value = 0\nNew value = 2000\n/);
    expect(out).toMatch(/exited with code 03/);
  });

  it('catch-syscall.gdb: entry and return stops, orig_rax', async () => {
    const { out } = await session([GDBDEMO], ['catch-syscall.gdb']);
    expect(out).toMatch(/Catchpoint 1 \(syscall 'write' \[1\]\)/);
    // as Linux's syscall-entry-stop: pc past the syscall, rax -ENOSYS, orig_rax the number
    const entry = /Catchpoint 1 \(call to syscall write\), (0x[0-9a-f]+) in \w+ \(\)\n\$1 = 1\n\$2 = -38\n/.exec(out);
    expect(entry).not.toBeNull();
    const ret = /Catchpoint 1 \(returned from syscall write\), (0x[0-9a-f]+) in \w+ \(\)\n\$3 = 15\n\$4 = 1\n {3}0x[0-9a-f]+ <\w+\+\d+>:\tsyscall/.exec(out);
    expect(ret).not.toBeNull();
    expect(ret![1]).toBe(entry![1]); // the same pc: the syscall ran in between
    expect(out).toMatch(/\$5 = -1\n/);
    expect(out).toMatch(/exited with code 03/);
  });

  // the entry stop is the kernel path's first instruction, with the registers as at Linux's syscall-entry-stop
  // (rax -ENOSYS, orig_rax the number); the return stop is after the user instruction that entered it
  for (const [name, args, entryStop, insn] of [
    ['nommu/zpoline', ['--entry', 'nommu', '--hook', 'zpoline'], /0x0000000000000001 in zpoline_sled \(\) at src\/guest\/zpoline\.S:\d+/, 'call   \\*%rax'],
    ['nommu/seccomp', ['--entry', 'nommu', '--hook', 'seccomp'], /__kernel_vsyscall \(\) at src\/guest\/entry_nommu\.S:\d+/, 'syscall'],
    ['native', ['--entry', 'native'], /entry_SYSCALL_64 \(\) at src\/guest\/entry_64\.S:\d+/, 'syscall'],
  ] as const) {
    it(`catch-syscall.gdb under ${name}: the same stops, orig_rax, and the syscall before the return stop`, async () => {
      const { out, code } = await session([...args, GDBDEMO], ['catch-syscall.gdb']);
      expect(out).not.toMatch(/Error in sourced command file|Cannot access memory/);
      expect(out).toMatch(new RegExp(`Catchpoint 1 \\(call to syscall write\\), ${entryStop.source}\\n(?:.*\\n)?\\$1 = 1\\n\\$2 = -38\\n`));
      const ret = /Catchpoint 1 \(returned from syscall write\), 0x0*([0-9a-f]+) in \w+ \(\)\n\$3 = 15\n\$4 = 1\n {3}0x([0-9a-f]+) <\w+\+\d+>:\t(.*)\n/.exec(out);
      expect(ret, out).not.toBeNull();
      expect(BigInt('0x' + ret![2])).toBe(BigInt('0x' + ret![1]) - 2n);
      expect(ret![3]).toMatch(new RegExp(`^${insn}$`));
      expect(out).toMatch(/\$5 = -1\n/);
      expect(out).toMatch(/exited with code 03/);
      expect(code).toBe(0);
    });
  }

  it('signals.gdb: a SIGSEGV stop before delivery, siginfo, death by the signal', async () => {
    const { out } = await session([GDBDEMO, '10', 'segv'], ['signals.gdb']);
    expect(out).toMatch(/Program received signal SIGSEGV, Segmentation fault\.\n0x[0-9a-f]+ in main \(argc=3, argv=0x[0-9a-f]+\) at gdbdemo\.c:33/);
    expect(out).toMatch(/\$1 = 11\n\$2 = \(void \*\) 0x10\n/);
    expect(out).toMatch(/Program terminated with signal SIGSEGV, Segmentation fault\./);
  });

  it('signal handlers under gdb: every stop reported, output identical to the native run', async () => {
    const ex = ['handle SIGUSR1 SIGUSR2 SIGSEGV stop print pass'];
    for (let i = 0; i < 24; i++) ex.push('continue');
    const { out, progOut } = await session([BIN('signal-musl')], [], ex);
    expect(count(out, /Program received signal SIGUSR1/)).toBeGreaterThanOrEqual(10);
    expect(count(out, /Program received signal SIGSEGV/)).toBe(4);
    expect(out).toMatch(/exited normally/);
    expect(progOut).toBe(fs.readFileSync(`${ROOT}/test/fixtures/expected/signal-musl.stdout`, 'utf8'));
  });

  it('exit.gdb: the exit code', async () => {
    const { out, progOut } = await session([GDBDEMO], ['exit.gdb']);
    expect(out).toMatch(/\[Inferior 1 \(process 1000\) exited with code 03\]/);
    expect(progOut).toBe('gdbdemo: hello\n');
  });

  it('monitor.gdb: help, mode, ptregs, stats, trip', async () => {
    const { out } = await session([GDBDEMO], ['monitor.gdb']);
    expect(out).toMatch(/monitor ptregs/);
    expect(out).toMatch(/entry model: direct/);
    expect(out).toMatch(/r15\s+0x0{16}\n\s+r14/);
    expect(out).toMatch(/orig_ax\s+0xffffffffffffffff\n\s+ip\s+0x0+401[0-9a-f]{3}\n\s+cs\s+0x0+33\n/);
    expect(out).toMatch(/no kernel entry frame/);
    expect(out).toMatch(/instructions: \d+\nsyscalls: 3\n/);
    expect(out).toMatch(/write\s+1\s+1\n/);
    expect(out).toMatch(/^no entry path: in the direct entry model the host handles each syscall in place$/m);
    // an unknown command: our message, no protocol error, and the next command runs
    expect(out).toMatch(/entrystub: unknown monitor command 'frobnicate' \(try 'monitor help'\)\nentry model: direct/);
    expect(out).not.toMatch(/Protocol error/);
  });

  it('files.gdb: info proc (vFile on the emulated /proc), info auxv', async () => {
    const { out } = await session([GDBDEMO], ['files.gdb']);
    expect(out).toMatch(/process 1000\ncmdline = '.*gdbdemo'/);
    expect(out).toMatch(/exe = '.*\/test\/gdb\/fixtures\/bin\/gdbdemo'/);
    // the text segment is a mapping of the file at its page offset, as gdb shows it natively (`starti`, `info proc mappings`)
    expect(out).toMatch(/0x401000\s+0x402000\s+0x1000\s+0x1000\s+r-xp/);
    expect(out).toMatch(/\[stack\]/);
    expect(out).toMatch(/AT_ENTRY\s+Entry point of program\s+0x40102b/);
    expect(out).toMatch(/AT_NULL/);
  });

  it('extended.gdb: serve --multi, run, kill and run again', async () => {
    const stub = await startStub([GDBDEMO], { multi: true });
    try {
      const out = await gdbBatch(stub.port, { extended: true, scripts: ['extended.gdb'] });
      expect(count(out, /Breakpoint 1, add \(a=1, b=2\)/)).toBe(2);
      expect(out).toMatch(/\$1 = 1\n/);
      expect(out).toMatch(/\[Inferior 1 \(process 1000\) killed\]/);
      expect(count(out, /exited with code 03/)).toBe(2);
      // the stub outlives the programs and takes the next debugger
      const out2 = await gdbBatch(stub.port, { extended: true, ex: [`set remote exec-file ${BIN('hello-musl')}`, 'run'] });
      expect(out2).toMatch(/\[Inferior 1 \(process 1000\) exited normally\]/);
      expect(stub.stdout()).toContain('Hello, world!');
    } finally {
      await stub.stop();
    }
  });

  it('--stdio: target remote | entrystub serve --stdio, program output on stderr', async () => {
    const out = await gdbBatch(null, {
      // gdb sends qSupported as it starts the stub, and waits remotetimeout (2 s) for the reply: under a loaded
      // machine's start-up that was too short, and gdb took the late reply for the next packet's
      before: ['set remotetimeout 30', `target remote | ${process.execPath} ${CLI} serve --stdio ${GDBDEMO}`],
      ex: ['break add', 'continue', 'bt', 'continue'],
    });
    expect(out).toMatch(/Breakpoint 1, add \(a=1, b=2\) at gdbdemo\.c:20/);
    expect(out).toMatch(/gdbdemo: hello/);
    expect(out).toMatch(/\[Inferior 1 \(process 1000\) exited with code 03\]/);
    expect(out).not.toMatch(/Remote connection closed|Ignoring packet error|Bad remote/);
  });

  it('--root: gdb reads the program through vFile inside the root, and nothing outside it', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-root-'));
    const got = path.join(root, '..', path.basename(root) + '-got');
    try {
      fs.mkdirSync(path.join(root, 'bin'));
      fs.copyFileSync(GDBDEMO, path.join(root, 'bin', 'gdbdemo'));
      fs.writeFileSync(path.join(root, 'inside.txt'), 'inside\n');
      fs.symlinkSync('/etc/hostname', path.join(root, 'escape')); // absolute: resolved inside the root
      const { out } = await session(
        ['--root', root, path.join(root, 'bin', 'gdbdemo')],
        [],
        ['info proc', `remote get /inside.txt ${got}`, `remote get /escape ${got}-2`, `remote get /../../../etc/hostname ${got}-3`, 'break add', 'continue'],
      );
      expect(out).toMatch(/Reading symbols from target:\/bin\/gdbdemo\.\.\./);
      expect(out).toMatch(/exe = '\/bin\/gdbdemo'/);
      expect(fs.readFileSync(got, 'utf8')).toBe('inside\n');
      expect(out.match(/Remote I\/O error: No such file or directory/g)).toHaveLength(2);
      expect(fs.existsSync(`${got}-2`) || fs.existsSync(`${got}-3`)).toBe(false);
      expect(out).toMatch(/Breakpoint 1, add \(a=1, b=2\) at gdbdemo\.c:20/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(got, { force: true });
    }
  });

  it('detach lets the program run on; disconnect leaves it stopped for the next gdb', async () => {
    const stub = await startStub([GDBDEMO]);
    try {
      const a = await gdbBatch(stub.port, { ex: ['break add', 'continue', 'disconnect'] });
      expect(a).toMatch(/Breakpoint 1, add/);
      const b = await gdbBatch(stub.port, { ex: ['bt 1', 'detach'] });
      expect(b).toMatch(/#0  add \(a=1, b=2\) at gdbdemo\.c:20/); // still where the first gdb left it
      expect(b).toMatch(/\[Inferior 1 \(process 1000\) detached\]/);
      expect(await stub.exited).toBe(0); // ran to its end on its own
      expect(stub.stdout()).toBe('gdbdemo: hello\n');
    } finally {
      await stub.stop();
    }
  });
});
