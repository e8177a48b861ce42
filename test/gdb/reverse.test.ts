/**
 * Reverse execution (history.ts): gdb 13 drives the stub's bs and bc
 * packets. The oracle is the same session run forwards: every state a
 * reverse step lands on must be the one the forward steps went through
 * (pc, stack pointer, rax), across the whole entry path in the nommu and
 * native models; a watchpoint going backwards stops at each earlier write
 * with the values gdb printed forwards, swapped; reverse-finish leaves
 * do_syscall_64 for its call site in the entry code; the start of history
 * is reported as gdb's "No more reverse-execution history"; and running
 * forwards again over a read of stdin gives the same bytes without reading
 * stdin again.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BIN, gdbBatch, GDBDEMO, GdbMI, ROOT, startStub } from './helpers.js';

const REVREAD = path.join(ROOT, 'test', 'gdb', 'fixtures', 'bin', 'revread');
const T = 240_000;

/** A gdb script (a file to source) that steps n instructions forwards, then n backwards, printing the state at each instant. */
function forwardThenBack(n: number): string {
  const state = (tag: string) => `printf "${tag} %d %#lx %#lx %#lx\\n", $i, $pc, $sp, $rax`;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-rev-')), 'walk.gdb');
  const lines = ['set $i = 0', state('F'), `while $i < ${n}`, 'stepi', 'set $i = $i + 1', state('F'), 'end', 'while $i > 0', 'reverse-stepi', 'set $i = $i - 1', state('R'), 'end'];
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function states(out: string, tag: 'F' | 'R'): Map<number, string> {
  const m = new Map<number, string>();
  for (const l of out.split('\n')) {
    const x = new RegExp(`^${tag} (\\d+) (.*)$`).exec(l);
    if (x) m.set(Number(x[1]), x[2]);
  }
  return m;
}

describe('reverse execution', () => {
  for (const entry of ['nommu', 'native']) {
    it(`reverse-stepi walks back through the ${entry} entry path to the call site, every state as it was`, { timeout: T }, async () => {
      const stub = await startStub(['--entry', entry, GDBDEMO, '10']);
      try {
        // from write()'s first instruction: into the kernel, the syscall body, the return, back in write()
        const n = entry === 'native' ? 140 : 420;
        const out = await gdbBatch(stub.port, { file: GDBDEMO, ex: ['break write', 'continue', `source ${forwardThenBack(n)}`, 'info symbol $pc'], timeout: T });
        const f = states(out, 'F');
        const r = states(out, 'R');
        expect(f.size).toBe(n + 1);
        expect(r.size).toBe(n);
        for (let k = 0; k < n; k++) expect(r.get(k), `instant ${k}`).toBe(f.get(k));
        // the walk went through the guest kernel and came back to user code
        const pcs = [...f.values()].map((s) => BigInt(s.split(' ')[0]));
        expect(pcs.some((pc) => pc >= 0xffffffff80000000n || pc < 0x1000n)).toBe(true);
        expect(out).toMatch(/write in section \.text/);
      } finally {
        await stub.stop();
      }
    });
  }

  it('after a long forward run, reverse-stepi restores a snapshot and lands on the states going forwards went through', { timeout: T }, async () => {
    // bench-crc: millions of instructions before its first printf, so history holds several snapshots
    const stub = await startStub(['--entry', 'native', BIN('bench-crc-musl'), '4']);
    try {
      const n = 40;
      const out = await gdbBatch(stub.port, {
        file: BIN('bench-crc-musl'),
        ex: ['break printf', 'continue', `source ${forwardThenBack(n)}`, 'monitor history', 'delete', 'reverse-continue', 'continue'],
        timeout: T,
      });
      const f = states(out, 'F');
      const r = states(out, 'R');
      expect(f.size).toBe(n + 1);
      for (let k = 0; k < n; k++) expect(r.get(k), `instant ${k}`).toBe(f.get(k));
      const snaps = [...out.matchAll(/snapshots: (\d+)/g)].map((m) => Number(m[1]));
      expect(snaps[0]).toBeGreaterThan(2);
      // going back replayed from a snapshot, not from the start: far fewer instructions than history holds
      const hist = /history: (\d+) guest instructions since the start[^]*?: (\d+) replays so far, (\d+) instructions replayed/.exec(out)!;
      expect(Number(hist[3]) / Number(hist[2])).toBeLessThan(Number(hist[1]) / 2);
      expect(out).toMatch(/Breakpoint 1, .*printf/);
      // back to the start segment by segment, then forwards to the end: the output as the native run's
      expect(out).toMatch(/No more reverse-execution history/);
      expect(out).toMatch(/exited normally/);
    } finally {
      await stub.stop();
    }
  });

  it('reverse-continue across a fork restores every task from a snapshot; forwards again, the output appears once, as natively', { timeout: T }, async () => {
    const FORKER = path.join(ROOT, 'test', 'gdb', 'fixtures', 'bin', 'forker');
    const native = spawnSync(FORKER, [], { encoding: 'utf8' }).stdout;
    // snapshots at every run's end: the fork's child and its end are inside the history gone back over
    const stub = await startStub(['--entry', 'native', '--snapshot-interval', '1000', FORKER]);
    try {
      const out = await gdbBatch(stub.port, {
        file: FORKER,
        ex: ['break report', 'continue', 'monitor history', 'break waitpid', 'reverse-continue', 'break fork', 'reverse-continue', 'monitor history', 'delete', 'continue'],
        timeout: T,
      });
      // back to the parent's wait for its child (restored from the snapshot taken at the fork: two tasks), then before the fork
      expect(out).toMatch(/Breakpoint 2, [^\n]*waitpid[^]*Breakpoint 3, [^\n]*fork/);
      const snaps = [...out.matchAll(/snapshots: (\d+)/g)].map((m) => Number(m[1]));
      expect(snaps[0]).toBeGreaterThan(1);
      expect(out).toMatch(/exited with code 01|exited normally/);
      await stub.exited.catch(() => {});
      expect(stub.stdout()).toBe(native);
    } finally {
      await stub.stop();
    }
  });

  it('a bound on history drops its oldest part: going back stops at the new start, which gdb is told', { timeout: T }, async () => {
    // snapshots every 1M: the start of history can move only to a snapshot, and this run is a few million long
    const stub = await startStub(['--entry', 'native', '--history', '2M', '--snapshot-interval', '1000000', BIN('bench-crc-musl'), '4']);
    try {
      const out = await gdbBatch(stub.port, { file: BIN('bench-crc-musl'), ex: ['break printf', 'continue', 'monitor history', 'delete', 'reverse-continue', 'monitor history', 'reverse-stepi'], timeout: T });
      const from = [...out.matchAll(/recorded from instant (\d+) \((\d+) instructions back; bound: the last 2000000\)/g)].map((m) => [Number(m[1]), Number(m[2])]);
      // the start moved forward, keeping at least the last 2M instructions
      expect(from[0][0]).toBeGreaterThan(0);
      expect(from[0][1]).toBeGreaterThanOrEqual(2_000_000);
      // reverse-continue ends at the new start (not the program's first instruction), and there is nothing before it
      expect(out.match(/No more reverse-execution history/g)?.length).toBe(2);
      expect(from[1]).toEqual([from[0][0], 0]);
    } finally {
      await stub.stop();
    }
  });

  it('reverse-continue to a watchpoint stops at each earlier write, with the values swapped', { timeout: T }, async () => {
    const stub = await startStub(['--entry', 'native', GDBDEMO, '10']);
    try {
      const out = await gdbBatch(stub.port, {
        file: GDBDEMO,
        ex: ['break add', 'continue', 'watch counter', 'continue', 'continue', 'continue', 'reverse-continue', 'reverse-continue', 'p counter'],
        timeout: T,
      });
      const pairs = [...out.matchAll(/Old value = (-?\d+)\s+New value = (-?\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
      expect(pairs).toEqual([
        [0, 2],
        [2, 4],
        [4, 6],
        [6, 4],
        [4, 2],
      ]);
      expect(out).toMatch(/\$1 = 2\b/);
    } finally {
      await stub.stop();
    }
  });

  it('catch syscall in reverse stops at the last syscall before now, return then entry, as the native run made them; stretches without one are not replayed', { timeout: T }, async () => {
    const prog = BIN('bench-crc-musl');
    // the oracle: native gdb catching every syscall on the way to the first printf
    const native = await gdbBatch(null, { file: prog, ex: ['catch syscall', 'break printf', 'run 4 > /dev/null', ...Array(6).fill('continue')], timeout: T });
    const before = native.slice(0, native.search(/Breakpoint 2, /));
    const calls = [...before.matchAll(/Catchpoint 1 \((call to|returned from) syscall (\w+)\), (0x[0-9a-f]+)/g)].map((m) => ({ how: m[1], name: m[2], pc: m[3] }));
    expect(calls.length).toBeGreaterThan(1);
    // snapshots 100,000 instructions apart: the CRC rounds before printf are dozens of stretches without a syscall
    const stub = await startStub(['--entry', 'native', '--snapshot-interval', '100000', prog, '4']);
    try {
      const out = await gdbBatch(stub.port, {
        file: prog,
        ex: ['break printf', 'continue', 'delete', 'catch syscall', ...Array(calls.length + 1).fill('reverse-continue'), 'monitor history'],
        timeout: T,
      });
      const back = [...out.matchAll(/Catchpoint 2 \((call to|returned from) syscall (\w+)\), (0x[0-9a-f]+)?/g)].map((m) => ({ how: m[1], name: m[2], pc: m[3] }));
      expect(back.map((c) => `${c.how} ${c.name}`)).toEqual(calls.map((c) => `${c.how} ${c.name}`).reverse());
      // back from a syscall, the program's instruction after it, as natively (an entry stops on the entry path's first instruction)
      const returns = (l: typeof calls) => l.filter((c) => c.how === 'returned from').map((c) => c.pc);
      expect(returns(back)).toEqual(returns(calls).reverse());
      expect(out).toMatch(/No more reverse-execution history/);
      expect(Number(/reverse-continue skipped (\d+) stretches/.exec(out)![1])).toBeGreaterThan(20);
    } finally {
      await stub.stop();
    }
  });

  it('rwatch in reverse stops at the last read of the watched bytes, where a forward run stopped; stretches that did not read the page are not replayed', { timeout: T }, async () => {
    const args = ['--entry', 'native', '--snapshot-interval', '100000', GDBDEMO, '300000'];
    // forwards: every read of msg (write(2) copies it), with the address of the instruction after it
    const pc = 'printf "PC %#lx\\n", $pc';
    const pcs = (out: string) => [...out.matchAll(/^PC (0x[0-9a-f]+)$/gm)].map((m) => m[1]);
    const fwd = await startStub(args);
    let reads: string[];
    try {
      const out = await gdbBatch(fwd.port, { file: GDBDEMO, ex: ['break main', 'continue', 'rwatch msg', ...Array(4).fill(['continue', pc]).flat()], timeout: T });
      reads = pcs(out);
      expect(out).toMatch(/Hardware read watchpoint 2: msg/);
      expect(reads.length).toBeGreaterThan(0);
      expect(out).toMatch(/exited with code 03/);
    } finally {
      await fwd.stop();
    }
    // backwards from the end of main: the last of those reads; a step forwards from it stops where the forward run stopped
    const stub = await startStub(args);
    try {
      const out = await gdbBatch(stub.port, { file: GDBDEMO, ex: ['break gdbdemo.c:34', 'continue', 'delete', 'rwatch msg', 'reverse-continue', 'stepi', pc, 'monitor history'], timeout: T });
      // (gdb names it when it is set, at the stop going back, and at the step forwards over the read)
      expect(out.match(/Hardware read watchpoint 2: msg/g)?.length).toBe(3);
      expect(pcs(out)).toEqual([reads[reads.length - 1]]);
      expect(Number(/reverse-continue skipped (\d+) stretches/.exec(out)![1])).toBeGreaterThan(10);
    } finally {
      await stub.stop();
    }
  });

  it('watch on a page written in every stretch: reverse-continue replays stretch after stretch, in batches, to the write a forward run stopped at', { timeout: T }, async () => {
    // bench-crc's buffer (the 64 KiB one: musl has a `buf` of its own): each round writes one of its first bytes, so with a
    // round about a million instructions long, every stretch writes its first page; buf[0] itself only at the start and in round 0
    const prog = BIN('bench-crc-musl');
    const buf = /^([0-9a-f]+) 0*10000 b buf$/m.exec(spawnSync('nm', ['-S', prog], { encoding: 'utf8' }).stdout)![1];
    const watch = `watch *(unsigned char *)0x${buf}`;
    const pc = 'printf "PC %#lx\\n", $pc';
    const pcs = (out: string) => [...out.matchAll(/^PC (0x[0-9a-f]+)$/gm)].map((m) => m[1]);
    const session = async (ex: string[]) => {
      const stub = await startStub(['--entry', 'native', prog, '12']);
      try {
        return await gdbBatch(stub.port, { file: prog, ex, timeout: T });
      } finally {
        await stub.stop();
      }
    };
    // forwards from the first instruction: every write to it before printf, with the address of the instruction after it
    const fwd = await session([watch, 'break printf', ...Array(4).fill(['continue', pc]).flat()]);
    const writes = pcs(fwd.slice(0, fwd.search(/Breakpoint \d+, .*printf/)));
    expect(writes.length).toBe(2);
    const out = await session(['break printf', 'continue', 'delete', watch, 'reverse-continue', 'stepi', pc, 'monitor history']);
    expect(pcs(out)).toEqual([writes[1]]);
    // every stretch back to round 0 was replayed, in a few runs rather than one per stretch
    const h = /: (\d+) replays so far, (\d+) instructions replayed; reverse-continue skipped (\d+) stretches/.exec(out)!;
    expect(Number(h[2])).toBeGreaterThan(9_000_000);
    expect(Number(h[1])).toBeLessThan(8);
  });

  it('reverse-finish out of do_syscall_64 lands on its call in entry_SYSCALL_64; reverse-next and reverse-step in C', { timeout: T }, async () => {
    const stub = await startStub(['--entry', 'native', GDBDEMO, '10']);
    try {
      const out = await gdbBatch(stub.port, {
        file: GDBDEMO,
        ex: ['break do_syscall_64', 'continue', 'reverse-finish', 'info symbol $pc', 'x/i $pc', 'delete', 'break gdbdemo.c:27', 'continue', 'next', 'next', 'reverse-next', 'info line *$pc', 'reverse-step', 'bt 1'],
        timeout: T,
      });
      expect(out).toMatch(/entry_SYSCALL_64 \+ \d+ in section \.text/);
      expect(out).toMatch(/=> 0x[0-9a-f]+ <entry_SYSCALL_64\+\d+>:\s+call/);
      // line 27 `int s = add(1, 2);` then 28 the loop; back over the loop to 28, then into add from its last line
      expect(out).toMatch(/Line 28 of "[^"]*gdbdemo\.c"/);
      expect(out).toMatch(/#0 {2}.*add \(a=1, b=2\) at .*gdbdemo\.c:2[01]/);
    } finally {
      await stub.stop();
    }
  });

  it('reverse-continue with nothing to stop at reaches the start of history; forwards again resumes', { timeout: T }, async () => {
    const stub = await startStub(['--entry', 'nommu', GDBDEMO, '10']);
    try {
      const out = await gdbBatch(stub.port, { file: GDBDEMO, ex: ['break add', 'continue', 'delete', 'reverse-continue', 'p $pc', 'break add', 'continue', 'p a + b'], timeout: T });
      expect(out).toMatch(/No more reverse-execution history\./);
      expect(out).toMatch(/\$1 = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <_start>/);
      expect(out).toMatch(/\$2 = 3/);
    } finally {
      await stub.stop();
    }
  });

  it('forwards again over a read of stdin gives the same bytes without reading stdin again', { timeout: T }, async () => {
    const stub = await startStub(['--entry', 'nommu', REVREAD], { stdin: 'pipe' });
    try {
      stub.proc.stdin!.end('abc\n');
      const out = await gdbBatch(stub.port, { file: REVREAD, ex: ['break main', 'continue', 'watch got', 'continue', 'p got', 'reverse-continue', 'reverse-continue', 'p got', 'delete', 'continue'], timeout: T });
      expect(out).toMatch(/\$1 = 4/);
      expect(out).toMatch(/\$2 = 0/);
      expect(out).toMatch(/exited normally/);
      // the program's output, written once: the run forwards over history wrote nothing again
      expect(stub.stdout()).toBe('read: abc\ndone\n');
    } finally {
      await stub.stop();
    }
  });

  it('with sockets on the host: back across a recv and a send, forwards again from the log, then live on the real sockets to the end', { timeout: T }, async () => {
    const prog = BIN('inetsock-musl');
    const stub = await startStub(['--entry', 'nommu', prog]);
    try {
      // the first waitpid comes after the first TCP exchange (the forked child's connect, send and recv); going back
      // to the server's last recv restores a machine whose sockets are copies: the host's answers must reach them
      const out = await gdbBatch(stub.port, {
        file: prog,
        ex: ['break waitpid', 'continue', 'break recv', 'reverse-continue', 'info symbol $pc', 'reverse-stepi', 'reverse-stepi', 'break send', 'reverse-continue', 'info symbol $pc', 'delete', 'continue'],
        timeout: T,
      });
      expect(out).toMatch(/Breakpoint 1, [^\n]*waitpid/);
      expect(out).toMatch(/recv in section \.text/);
      expect(out).toMatch(/send in section \.text/);
      expect(out).toMatch(/exited normally/);
      // everything the program printed, once, as natively: the exchange went back and forth through history without
      // being repeated on the host, and the rest of the program ran live on the worker's sockets
      expect(stub.stdout()).toBe(fs.readFileSync(path.join(ROOT, 'test/fixtures/expected/inetsock-musl.stdout'), 'utf8'));
    } finally {
      await stub.stop();
    }
  });

  it('MI: -exec-step-instruction --reverse and -exec-continue --reverse', { timeout: T }, async () => {
    const stub = await startStub(['--entry', 'native', GDBDEMO, '10']);
    const mi = new GdbMI();
    try {
      const pc = async () => {
        mi.send('-data-evaluate-expression $pc');
        return (await mi.wait(/\^done,value="([^"]*)"/))[1];
      };
      expect(await mi.cmd(`-file-exec-and-symbols ${GDBDEMO}`)).toBe('done');
      expect(await mi.cmd(`-target-select remote 127.0.0.1:${stub.port}`)).toBe('connected');
      expect(await mi.cmd('-break-insert add')).toMatch(/^done/);
      mi.send('-exec-continue');
      await mi.wait(/\*stopped,reason="breakpoint-hit"/, T);
      const fwd = await pc();
      mi.send('-exec-step-instruction');
      await mi.wait(/\*stopped,reason="end-stepping-range"/, T);
      expect(await pc()).not.toBe(fwd);
      mi.send('-exec-step-instruction --reverse');
      // back on add's breakpoint: gdb reports it as hit, as it does going forwards
      await mi.wait(/\*stopped,reason="(end-stepping-range|breakpoint-hit)"/, T);
      expect(await pc()).toBe(fwd);
      expect(await mi.cmd('-break-delete')).toBe('done');
      mi.send('-exec-continue --reverse');
      // gdb 13 says it on the console stream, and the *stopped record has no reason
      await mi.wait(/No more reverse-execution history\.[^]*\*stopped,frame=\{addr="0x[0-9a-f]+",func="_start"/, T);
    } finally {
      await mi.quit();
      await stub.stop();
    }
  });
});
