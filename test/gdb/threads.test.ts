/**
 * gdb seeing every thread of a threaded program (the threads-glibc
 * fixture: static glibc, symbols, no debug info): a breakpoint hit in a
 * worker reports that worker, `info threads` lists every thread with its
 * name, `thread N` and `bt` show another thread's own frames (through the
 * guest kernel and its own pt_regs when it waits in a syscall), `thread
 * apply all bt`, `set scheduler-locking step` keeps the others stopped
 * while one thread is stepped, `catch syscall write` stops in the thread
 * that writes with that thread's pt_regs, and the workers are gone once
 * they ended. Where the shapes can be compared, the oracle is gdb 13 on
 * the native run with the same commands.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { need } from '../helpers/tools.js';
import { BIN, ROOT, RawClient, gdbBatch, startStub } from './helpers.js';

const HAVE_GDB = need('gdb') !== null;
const PROG = BIN('threads-glibc');
const CONFIGS = [['--entry', 'nommu', '--hook', 'zpoline'], ['--entry', 'native'], ['--entry', 'direct']];

/** gdb running the program natively with the same commands (continue becomes run the first time). */
function nativeGdb(ex: string[]): string {
  const args = ['-nx', '-batch', '-iex', 'set pagination off', '-iex', 'set width 0'];
  let ran = false;
  for (const e of ex) {
    args.push('-ex', e === 'continue' && !ran ? 'run' : e);
    if (e === 'continue') ran = true;
  }
  const r = spawnSync('gdb', [...args, PROG], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
  return r.stdout + r.stderr;
}

/** The function names of a backtrace's user frames (the guest kernel's frames and `<signal handler called>` left out). */
function userFrames(bt: string): string[] {
  return [...bt.matchAll(/^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+) \(/gm)].map((m) => m[1]).filter((f) => !/^(__x64_sys_|do_syscall_64|ret_from_fork|entry_|syscall_|__kernel_vsyscall|zpoline)/.test(f));
}

/** The text between two marker lines echoed into gdb's output. */
function between(out: string, a: string, b: string): string {
  const i = out.indexOf(a), j = out.indexOf(b, i + a.length);
  expect(i, `${a} in:\n${out}`).toBeGreaterThanOrEqual(0);
  expect(j, `${b} in:\n${out}`).toBeGreaterThan(i);
  return out.slice(i + a.length, j);
}

describe.skipIf(!HAVE_GDB)('gdb and the threads of one process', () => {
  for (const entry of CONFIGS) {
    const label = entry.slice(1).join(' ');
    it(`a breakpoint in a worker, info threads, thread 1 and bt, thread apply all bt (${label})`, async () => {
      const ex = ['break count_up', 'continue', 'echo @@stop\\n', 'info threads', 'echo @@bt\\n', 'bt', 'echo @@main\\n', 'thread 1', 'bt', 'echo @@all\\n', 'thread apply all bt', 'echo @@end\\n', 'kill'];
      const s = await startStub([...entry, PROG]);
      try {
        const out = await gdbBatch(s.port, { ex, file: PROG });
        const native = nativeGdb(ex);
        // the stop names a worker (not thread 1), as natively
        for (const o of [out, native]) expect(o).toMatch(/Thread [2-9]\d* "threads-glibc" hit Breakpoint 1, (0x[0-9a-f]+ in )?count_up \(\)/);
        // every thread listed with its id and name: the main one and the workers made so far (natively: at least the one that stopped)
        const threads = between(out, '@@stop', '@@bt');
        expect(threads).toMatch(/^ {2}1 {4}Thread 1000\.1000 "threads-glibc" /m);
        expect(threads).toMatch(/^\* [2-9] +Thread 1000\.100[1-9] "threads-glibc" (0x[0-9a-f]+ in )?count_up \(\)/m);
        expect(threads.match(/Thread 1000\.\d+/g)!.length).toBeGreaterThanOrEqual(2);
        // the worker's frames and main's are what they are natively
        expect(userFrames(between(out, '@@bt', '@@main'))).toEqual(userFrames(between(native, '@@bt', '@@main')));
        expect(userFrames(between(out, '@@bt', '@@main'))).toEqual(['count_up', 'start_thread', 'clone3']);
        const mainBt = between(out, '@@main', '@@all');
        expect(mainBt).toMatch(/Switching to thread 1 \(Thread 1000\.1000\)/);
        expect(userFrames(mainBt).at(-1)).toBe('main');
        expect(userFrames(between(native, '@@main', '@@all')).at(-1)).toBe('main');
        // thread apply all bt: each thread's frames end where the thread began (main, or clone3 for a worker)
        const all = between(out, '@@all', '@@end');
        const blocks = all.split(/^Thread \d+ /m).slice(1);
        expect(blocks.length).toBe(threads.match(/Thread 1000\.\d+/g)!.length);
        for (const b of blocks) expect(['main', 'clone3']).toContain(userFrames(b).at(-1));
        expect(out).not.toMatch(/Protocol error|Remote failure|Remote connection closed/);
      } finally {
        await s.stop();
      }
    });
  }

  it('set scheduler-locking step: nexti in one worker runs it alone; the others stay where they were', async () => {
    // (no line information: `next` would step the whole of count_up one instruction at a time; nexti 400 is a few of its loops)
    const ex = [
      'break count_up', 'continue', 'delete', 'set scheduler-locking step',
      'echo @@before\\n', 'p (long)counter', 'info threads', 'echo @@next\\n', 'nexti 400', 'echo @@after\\n', 'p (long)counter', 'info threads', 'echo @@end\\n', 'kill',
    ];
    const s = await startStub(['--entry', 'native', PROG]);
    try {
      const out = await gdbBatch(s.port, { ex, file: PROG });
      const before = between(out, '@@before', '@@next'), after = between(out, '@@after', '@@end');
      const counter = (t: string) => Number(/^\$\d+ = (\d+)/m.exec(t)![1]);
      // the stepped worker went round its loop, still in count_up
      expect(counter(after)).toBeGreaterThan(counter(before));
      expect(after).toMatch(/^\* \d+ +Thread 1000\.\d+ "threads-glibc" (0x[0-9a-f]+ in )?(count_up|__pthread_mutex_(un)?lock\w*|__lll_lock_wait\w*) \(\)/m);
      // the other threads' frames are unchanged
      const others = (t: string) => t.split('\n').filter((l) => /^ {2}\d+ +Thread/.test(l));
      expect(others(after)).toEqual(others(before));
      expect(others(before).length).toBeGreaterThanOrEqual(1);
      // natively too: the counter moved, the other threads did not
      const native = nativeGdb(ex);
      const nb = between(native, '@@before', '@@next'), na = between(native, '@@after', '@@end');
      expect(counter(na)).toBeGreaterThan(counter(nb));
      expect(others(na)).toEqual(others(nb));
    } finally {
      await s.stop();
    }
  });

  for (const entry of [['--entry', 'nommu', '--hook', 'zpoline'], ['--entry', 'native']]) {
    it(`catch syscall write stops in the worker that writes, with its own pt_regs; the workers that ended are gone (${entry.slice(1).join(' ')})`, async () => {
      const ex = [
        'handle SIGUSR1 nostop noprint pass', 'catch syscall write', 'continue', 'continue', 'continue', 'echo @@caught\\n', 'info threads', 'set scheduler-locking on',
        'delete', 'break do_syscall_64', 'continue', 'echo @@regs\\n', 'p regs->di', 'p regs->dx', 'p $_thread', 'echo @@end\\n', 'kill',
      ];
      const s = await startStub([...entry, PROG]);
      try {
        const out = await gdbBatch(s.port, { ex, file: PROG });
        const caught = between(out, '@@caught', '@@regs');
        // (the first two stops are main's own write, its fflush: entry and return)
        // the current thread is the named worker; the four counters, the barrier's threads and the others have ended
        const cur = /^\* (\d+) +Thread 1000\.(\d+) "worker-named"/m.exec(caught);
        expect(cur, caught).not.toBeNull();
        expect(caught.split('\n').filter((l) => /Thread 1000\./.test(l)).length).toBe(2); // main and the writer
        const regs = between(out, '@@regs', '@@end').trim().split('\n');
        // its pt_regs: write(1, line, 19)
        expect(regs[0]).toMatch(/^\$\d+ = 1$/);
        expect(regs[1]).toMatch(/^\$\d+ = 19$/);
        expect(regs[2]).toBe(regs[2].replace(/= \d+$/, `= ${cur![1]}`));
        expect(out).toMatch(/Catchpoint 1 \(call to syscall write\)/);
      } finally {
        await s.stop();
      }
    });
  }

  it('QThreadEvents: T05create names each new thread, w reports a thread that ended; vCont;s:thread steps that thread alone', async () => {
    const s = await startStub(['--entry', 'nommu', '--hook', 'zpoline', BIN('threads-musl')]);
    const c = await RawClient.attach(s.port);
    try {
      expect(await c.request('qSupported:multiprocess+;swbreak+;vContSupported+')).toMatch(/;QThreadEvents\+/);
      expect(await c.request('QThreadEvents:1')).toBe('OK');
      const created: string[] = [];
      let reply = '';
      // the four counting threads are made, then end; nothing else stops the program before them
      while (created.length < 4) {
        reply = await c.request('vCont;c', 30_000);
        const m = /thread:(p3e8\.[0-9a-f]+);create:;/.exec(reply);
        expect(m, reply).not.toBeNull();
        created.push(m![1]);
        // the new thread is listed, stopped with the others
        expect(await c.request('qfThreadInfo')).toContain(m![1]);
      }
      expect(created).toEqual(['p3e8.3e9', 'p3e8.3ea', 'p3e8.3eb', 'p3e8.3ec']);
      // one step of one thread: it moves, main does not
      const pc = async (t: string) => {
        expect(await c.request('Hg' + t)).toBe('OK');
        return c.request('p10');
      };
      const main0 = await pc('p3e8.3e8');
      const t0 = await pc('p3e8.3e9');
      expect(await c.request('vCont;s:p3e8.3e9', 30_000)).toMatch(/^T05.*thread:p3e8\.3e9;/);
      expect(await pc('p3e8.3e9')).not.toBe(t0);
      expect(await pc('p3e8.3e8')).toBe(main0);
      // each ends while the process lives on: w00 naming it
      const ended = new Set<string>();
      while (ended.size < 4) {
        reply = await c.request('vCont;c', 30_000);
        const m = /^w00;(p3e8\.[0-9a-f]+)$/.exec(reply);
        expect(m, reply).not.toBeNull();
        ended.add(m![1]);
        expect(await c.request('qfThreadInfo')).not.toContain(m![1]);
      }
      expect([...ended].sort()).toEqual(created);
      expect(await c.request('QThreadEvents:0')).toBe('OK');
    } finally {
      c.close();
      await s.stop();
    }
  });
});
