/**
 * gdb sessions end to end, the rough edges of issue 13: extended-remote
 * from a fresh connection (monitor before `run`, the guest kernel's symbols
 * after it, no ghost thread after the exit, `monitor exit`), gdb/MI quitting
 * while the program runs, and what the stub's log says about how a session
 * ended.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { BIN, GDBDEMO, GdbMI, ROOT, gdbBatch, startStub, EXAMPLE } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb', 'nm', 'addr2line') !== null;

const exited = (s: { exited: Promise<number | null> }, ms: number) =>
  Promise.race([s.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms))]);

describe.skipIf(!HAVE_GDB)('gdb sessions', () => {
  /** `target extended-remote` to a stub with no program, the commands, and the stub's exit status if it ended. */
  async function extended(ex: string[]): Promise<{ out: string; status: number | null | 'still running'; log: string }> {
    const s = await startStub(['--entry', 'nommu'], { multi: true });
    try {
      const out = await gdbBatch(s.port, { extended: true, ex });
      return { out, status: await exited(s, ex.includes('monitor exit') ? 10_000 : 0), log: s.stderr() };
    } finally {
      await s.stop();
    }
  }
  const runExample = [`set remote exec-file ${EXAMPLE}`, `file ${EXAMPLE}`, 'break main', 'run'];

  it('extended-remote, no process yet: monitor answers (its own commands work, the process\'s say there is none)', async () => {
    const { out } = await extended(['monitor help', 'monitor stats', 'monitor mode']);
    expect(out).toMatch(/entrystub monitor commands:\n {2}monitor help {5}this list\n/);
    expect(out).toMatch(/monitor exit {5}end the program and the stub\n/);
    expect(out).toMatch(/entrystub: monitor stats: there is no process \(start one with `run`\)\n/);
    expect(out).toMatch(/entrystub: monitor mode: there is no process/);
    expect(out).not.toMatch(/Protocol error/);
  });

  it('extended-remote: after `run` from a fresh connection the guest kernel\'s symbols are loaded', async () => {
    const { out } = await extended([...runExample, 'break do_syscall_64', 'info sharedlibrary']);
    // the address and line of do_syscall_64 as the image's own symbol table and line table give them
    const nm = spawnSync('nm', [path.join(ROOT, 'src/guest/image/kernel-nommu.elf')], { encoding: 'utf8' }).stdout;
    const addr = /^0*([0-9a-f]+) T do_syscall_64$/m.exec(nm)![1];
    const line = /:(\d+)/.exec(spawnSync('addr2line', ['-e', path.join(ROOT, 'src/guest/image/kernel-nommu.elf'), addr], { encoding: 'utf8' }).stdout)![1];
    expect(out).toContain(`Breakpoint 2 at 0x${addr}: file src/guest/syscall.c, line ${line}.`);
    expect(out).toMatch(/Yes {9}target:\/entrystub\/guest\/kernel-nommu\.elf/);
  });

  it('extended-remote: after the program exits, no thread is left over', async () => {
    const { out } = await extended([...runExample, 'delete', 'handle SIGUSR1 nostop noprint', 'continue', 'info threads']);
    expect(out).toMatch(/\[Inferior 1 \(process 1000\) exited normally\]\nNo threads\./);
    expect(out).not.toMatch(/New Thread|__x64_sys_exit_group/);
  });

  it('monitor exit: the stub ends, as gdbserver\'s', async () => {
    const { out, status, log } = await extended([...runExample, 'monitor exit']);
    expect(out).toMatch(/entrystub: exiting/);
    expect(status).toBe(0);
    expect(log).toMatch(/entrystub: monitor exit: ending/);
  });

  it('monitor exit without --multi, the program running free: killed, and the stub ends', async () => {
    const s = await startStub([GDBDEMO, '1000', 'forever']);
    try {
      const out = await gdbBatch(s.port, { ex: ['detach'] });
      expect(out).toMatch(/\[Inferior 1 \(process 1000\) detached\]/);
      const again = await gdbBatch(s.port, { ex: ['monitor exit'] });
      expect(again).toMatch(/entrystub: exiting/);
      expect(await exited(s, 10_000)).toBe(0);
      expect(s.stderr()).toMatch(/the debugger detached; the program runs on/);
    } finally {
      await s.stop();
    }
  });

  it('gdb/MI -gdb-exit while the program runs: it runs on to its end (not frozen), then the stub ends', async () => {
    // about 100 M instructions: a few seconds
    const s = await startStub([GDBDEMO, '20000000']);
    const mi = new GdbMI();
    try {
      await mi.wait(/\(gdb\)/);
      expect(await mi.cmd('-gdb-set mi-async on')).toBe('done');
      expect(await mi.cmd(`-target-select remote 127.0.0.1:${s.port}`)).toBe('connected');
      expect(await mi.cmd('-exec-continue')).toBe('running');
      await new Promise((r) => setTimeout(r, 300));
      await mi.quit();
      expect(await exited(s, 90_000)).toBe(0);
      expect(s.stderr()).toMatch(/entrystub: debugger gone \(127\.0\.0\.1:\d+\) while the program ran; it runs on until it ends or a debugger attaches\n/);
      expect(s.stderr()).toMatch(/entrystub: the program exited with status 3\n/);
      expect(s.stdout()).toBe('gdbdemo: hello\n');
    } finally {
      await s.stop();
    }
  });

  it("the log says what ended the session: gdb's kill, or a disconnect that leaves the program stopped", async () => {
    const s = await startStub([GDBDEMO]);
    try {
      await gdbBatch(s.port, { ex: ['stepi', 'disconnect'] });
      await gdbBatch(s.port, { ex: ['kill'] });
      expect(await exited(s, 10_000)).toBe(0);
      const log = s.stderr();
      expect(log).toMatch(/entrystub: debugger disconnected \(127\.0\.0\.1:\d+\); the program stays stopped for the next one\n/);
      expect(log).toMatch(/entrystub: the debugger killed the program\nentrystub: debugger disconnected/);
      expect(log).not.toMatch(/detached/);
    } finally {
      await s.stop();
    }
  });
});
