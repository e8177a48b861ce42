/**
 * lldb (Debian 12: lldb 14) against entrystub serve: it connects with
 * gdb-remote, reads registers one by one (p packets) from the target
 * description, sets a breakpoint, continues, steps, reads memory.
 */
import { describe, it, expect } from 'vitest';
import { BIN, GDBDEMO, runMerged, startStub } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_LLDB = need('lldb') !== null;

describe.skipIf(!HAVE_LLDB)('lldb against entrystub serve', () => {
  it('connects, reads registers, breaks, continues, steps, sees the exit status', async () => {
    const stub = await startStub([GDBDEMO]);
    try {
      const out = await runMerged(
        'lldb',
        [
          '--no-lldbinit', '--batch', GDBDEMO,
          '-o', `gdb-remote 127.0.0.1:${stub.port}`,
          '-o', 'register read rip rsp eflags cs',
          '-o', 'register read orig_rax fs_base xmm0 mxcsr',
          '-o', 'breakpoint set -n add',
          '-o', 'continue',
          '-o', 'register read rdi rsi',
          '-o', 'bt',
          '-o', 'thread step-inst',
          '-o', 'register read rip',
          '-o', 'memory read -c 15 &msg',
          '-o', 'continue',
        ],
        60_000,
      );
      expect(out).toMatch(/rip = 0x000000000040102b\s+gdbdemo`_start/);
      expect(out).toMatch(/eflags = 0x00000202/);
      expect(out).toMatch(/cs = 0x00000033/);
      expect(out).toMatch(/orig_rax = 0xffffffffffffffff/);
      expect(out).toMatch(/fs_base = 0x0000000000000000/);
      expect(out).toMatch(/mxcsr = 0x00001f80/);
      expect(out).toMatch(/Breakpoint 1: where = gdbdemo`add \+ \d+ at gdbdemo\.c:20/);
      expect(out).toMatch(/stop reason = breakpoint 1\.1/);
      expect(out).toMatch(/rdi = 0x0000000000000001/);
      expect(out).toMatch(/rsi = 0x0000000000000002/);
      expect(out).toMatch(/frame #1: 0x[0-9a-f]+ gdbdemo`main\(argc=1, argv=0x[0-9a-f]+\) at gdbdemo\.c:27/);
      expect(out).toMatch(/stop reason = instruction step into/);
      expect(out).toMatch(/gdbdemo: hello/);
      expect(out).toMatch(/Process 1000 exited with status = 3 \(0x00000003\)/);
    } finally {
      await stub.stop();
    }
  });

  it('lists the threads of a threaded program, the one that hit the breakpoint selected', async () => {
    const prog = BIN('threads-glibc');
    const stub = await startStub(['--entry', 'native', prog]);
    try {
      const out = await runMerged(
        'lldb',
        ['--no-lldbinit', '--batch', prog, '-o', `gdb-remote 127.0.0.1:${stub.port}`, '-o', 'breakpoint set -n count_up', '-o', 'continue', '-o', 'thread list'],
        60_000,
      );
      const list = out.slice(out.lastIndexOf('(lldb) thread list'));
      expect(list).toMatch(/^ {2}thread #1: tid = 1000, /m);
      expect(list).toMatch(/^\* thread #\d+: tid = 100[1-9], 0x[0-9a-f]+ threads-glibc`count_up, stop reason = breakpoint 1\.1/m);
      expect(list.match(/thread #\d+: tid = \d+/g)!.length).toBeGreaterThanOrEqual(2);
    } finally {
      await stub.stop();
    }
  });
});
