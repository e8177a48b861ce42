/**
 * Snapshots of the whole machine (src/machine/snapshot.ts), the ground
 * reverse execution stands on. The oracle is the machine's own original run,
 * itself checked against the native one: a fixture runs to its end in
 * chunks, its output the native run's byte for byte, with a snapshot before
 * each chunk; a machine restored from a snapshot then runs the same chunks
 * and must reach the same state at every chunk's end (every task's
 * registers, instruction counts, the schedule) and end the same way, without
 * writing its output again (the host log answers it). Threads (a futex, a
 * condition variable), processes (fork, vfork, wait) and files are among
 * the fixtures, in both entry models with a guest kernel; a restored
 * machine is snapshotted and restored again; and a closure stored as state
 * makes the clone fail loudly.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../src/machine/machine.js';
import { HostLog } from '../src/kernel/hostlog.js';
import { restoreSnapshot, takeSnapshot, type Snapshot } from '../src/machine/snapshot.js';
import { Cloner, SnapshotError } from '../src/cpu/clone.js';
import { ROOT } from './helpers/cases.js';

const BIN = (n: string) => path.join(ROOT, 'test/fixtures/bin', n);
const EXPECTED = (n: string) => fs.readFileSync(path.join(ROOT, 'test/fixtures/expected', n + '.stdout'), 'utf8');

/** Every task's state: what must be equal between a restored run and the original at the same instant. */
function stateOf(m: Machine): string {
  const tasks = m.ended ? [] : m.os.tasks.map((t) => `${t.tid}:${t.state}:${t.cpu.icount}:${t.cpu.rip}:${[...t.cpu.rl, ...t.cpu.rh].join(',')}:${t.cpu.getFlags()}`);
  return `${m.icount} ${m.task.tid} ${m.schedule.hash} ${JSON.stringify(m.ended)} ${tasks.join(' ')}`;
}

const CASES: [string, string, number][] = [
  ['threads-musl', 'native', 40_000],
  ['threads-glibc', 'nommu', 40_000],
  ['procs-musl', 'native', 20_000],
  ['futex-musl', 'nommu', 20_000],
  ['fileio-musl', 'native', 20_000],
  // System V IPC: a shm segment attached across a fork, semaphores and queues with waiters
  ['sysvipc-musl', 'native', 20_000],
];

describe('snapshots of the machine', () => {
  for (const [name, entry, chunk] of CASES) {
    it(`${name} (${entry}): a restored snapshot runs to the same state at every instant, and its output is not written again`, { timeout: 240_000 }, () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-snap-'));
      const outPath = path.join(dir, 'out');
      const fd = fs.openSync(outPath, 'w');
      try {
        // fileio works in a directory of its own (as test/fixtures/cases.json runs it)
        const cwd = path.join(dir, 'cwd');
        fs.mkdirSync(cwd);
        const log = new HostLog();
        const m = new Machine({ program: BIN(name), argv: ['prog'], env: [], stdout: fd, warn: () => {}, entry, cwd: name.startsWith('fileio') ? cwd : ROOT, hostLog: log });
        m.load();
        const snaps: Snapshot[] = [];
        const states: string[] = [];
        for (let k = 0; k < 2000 && !m.ended; k++) {
          snaps.push(takeSnapshot(m));
          states.push(stateOf(m));
          m.run(chunk);
        }
        states.push(stateOf(m));
        expect(m.ended).not.toBeNull();
        const out = fs.readFileSync(outPath, 'utf8');
        expect(out).toBe(EXPECTED(name));
        expect(snaps.length).toBeGreaterThan(3);
        const picks = [0, 1, Math.floor(snaps.length / 3), Math.floor((2 * snaps.length) / 3), snaps.length - 1];
        for (const i of new Set(picks)) {
          const r = restoreSnapshot(snaps[i], log.replayFrom(snaps[i].hostCursor));
          expect(stateOf(r), `restored at chunk ${i}`).toBe(states[i]);
          for (let k = i; k < snaps.length; k++) {
            r.run(chunk);
            expect(stateOf(r), `from chunk ${i}, at chunk ${k + 1}`).toBe(states[k + 1]);
          }
        }
        // a snapshot of a restored machine, restored in turn
        const mid = Math.floor(snaps.length / 2);
        const r1 = restoreSnapshot(snaps[mid], log.replayFrom(snaps[mid].hostCursor));
        r1.run(chunk);
        const s2 = takeSnapshot(r1);
        const r2 = restoreSnapshot(s2, log.replayFrom(s2.hostCursor));
        expect(stateOf(r2)).toBe(states[mid + 1]);
        // (the same chunks: how often the run stops decides how often the clock is read, so a run is repeated with its own budgets, as history.ts replays them)
        for (let k = mid + 1; k < snaps.length; k++) r2.run(chunk);
        expect(stateOf(r2)).toBe(states[states.length - 1]);
        // nothing was written twice: the restored runs' output came from the log
        expect(fs.readFileSync(outPath, 'utf8')).toBe(out);
      } finally {
        fs.closeSync(fd);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  for (const entry of ['nommu', 'native'] as const) {
    it(`${entry}: a snapshot carries what a run left pending in the block caches: an exec catch waiting for the new program, a result written at a syscall-entry stop`, { timeout: 120_000 }, () => {
      const hello = BIN('hello-musl');
      // an exec catch: sh execs hello in place; the stop comes at hello's first instruction, well after the exec itself
      // (the guest kernel's exit path runs in between), so snapshots fall in between
      const log = new HostLog();
      const null_ = fs.openSync('/dev/null', 'w');
      try {
        const m = new Machine({ program: '/bin/busybox', argv: ['sh', '-c', `exec ${hello}`], env: [], stdout: null_, warn: () => {}, entry, cwd: ROOT, hostLog: log });
        m.load();
        m.catchEvents.exec = true;
        // up to the execve, then a snapshot every few instructions
        m.catchSyscalls = new Set([59]);
        let stop = null;
        for (let k = 0; k < 1000 && stop?.kind !== 'syscall-entry'; k++) stop = m.run(100_000);
        expect(stop?.kind).toBe('syscall-entry');
        m.catchSyscalls = null;
        stop = null;
        const snaps: { s: Snapshot; execd: boolean }[] = [];
        for (let k = 0; k < 100_000 && !stop; k++) {
          snaps.push({ s: takeSnapshot(m), execd: m.proc.exePath === hello });
          stop = m.run(10);
        }
        expect(stop?.kind).toBe('exec');
        const at = stateOf(m);
        const between = snaps.filter((x) => x.execd);
        expect(between.length).toBeGreaterThan(0);
        for (const { s } of between) {
          const r = restoreSnapshot(s, log.replayFrom(s.hostCursor));
          let rs = null;
          for (let k = 0; k < 1000 && !rs; k++) rs = r.run(200);
          expect(rs?.kind).toBe('exec');
          expect(stateOf(r)).toBe(at);
        }
      } finally {
        fs.closeSync(null_);
      }

      // a result written at writev's syscall-entry stop, the call skipped: a step later (before do_syscall_64 puts the
      // result in pt_regs) a snapshot; the restored machine returns the same result
      const log2 = new HostLog();
      const fd = fs.openSync('/dev/null', 'w');
      try {
        const m = new Machine({ program: hello, argv: ['hello'], env: [], stdout: fd, warn: () => {}, entry, cwd: ROOT, hostLog: log2 });
        m.load();
        m.catchSyscalls = new Set([20]);
        let st = null;
        for (let k = 0; k < 1000 && st?.kind !== 'syscall-entry'; k++) st = m.run(100_000);
        expect(st?.kind).toBe('syscall-entry');
        m.origRax = -1;
        expect(m.setEntryStopRax(1234)).toBe(true);
        expect(m.run(1)).toBeNull();
        const s = takeSnapshot(m);
        // (a skipped call has no exit stop, as with ptrace: back in the program, its result is in RAX)
        const toReturn = (x: Machine) => {
          x.catchSyscalls = null;
          for (let k = 0; k < 10_000 && !x.inUserCode(); k++) x.run(1);
          return `${stateOf(x)} rax=${x.cpu.getNum(0)}`;
        };
        const want = toReturn(m);
        expect(want).toMatch(/ rax=1234$/);
        expect(toReturn(restoreSnapshot(s, log2.replayFrom(s.hostCursor)))).toBe(want);
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  it("a stretch's notes hold every syscall a stop was looked for and every page read in it, and leave the others out", { timeout: 120_000 }, () => {
    // the oracle is the machine's own stops: the same run again (from the host's logged answers) with every syscall caught
    // and a read watchpoint set stops only in stretches whose notes name the call and the page
    const prog = path.join(ROOT, 'test/gdb/fixtures/bin/gdbdemo');
    const sym = (name: string) => Number.parseInt(/^([0-9a-f]+) [a-zA-Z] (\S+)$/m.exec(spawnSync('nm', [prog], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.endsWith(' ' + name)).join('\n'))![1], 16);
    const msg = sym('msg'), counter = sym('counter');
    const log = new HostLog();
    const fd = fs.openSync('/dev/null', 'w');
    try {
      const make = (l: HostLog) => {
        const m = new Machine({ program: prog, argv: ['gdbdemo', '20000'], env: [], stdout: fd, warn: () => {}, entry: 'native', cwd: ROOT, hostLog: l });
        m.load();
        return m;
      };
      const a = make(log);
      expect(a.takeRan()).toBeNull();
      const notes: { from: number; to: number; syscalls: Set<number>; reads: Set<number> }[] = [];
      while (!a.ended) {
        const from = a.icount;
        a.run(20_000);
        const n = a.takeRan()!;
        notes.push({ from, to: a.icount, syscalls: new Set(n.syscalls), reads: new Set(n.reads) });
      }
      expect(notes.length).toBeGreaterThan(4);
      const noteAt = (icount: number) => notes.find((n) => n.from < icount && icount <= n.to)!;
      for (const [addr, what] of [[msg, 'msg'], [counter, 'counter']] as const) {
        const b = make(log.replay());
        b.catchSyscalls = 'all';
        b.watchpoints.add('rwatch', addr, 8);
        const stops: { kind: string; icount: number; nr?: number }[] = [];
        for (let k = 0; k < 100_000 && !b.ended; k++) {
          const st = b.run(20_000, b.cpu.rip);
          if (st && (st.kind === 'syscall-entry' || st.kind === 'syscall-return' || st.kind === 'watch')) stops.push({ kind: st.kind, icount: b.icount, nr: 'nr' in st ? st.nr : undefined });
        }
        const pn = Math.floor(addr / 4096);
        const watched = stops.filter((x) => x.kind === 'watch');
        expect(watched.length, what).toBeGreaterThan(0);
        for (const x of watched) expect(noteAt(x.icount).reads.has(pn), `${what} read at ${x.icount}`).toBe(true);
        const calls = stops.filter((x) => x.kind !== 'watch');
        expect(calls.length).toBeGreaterThan(3);
        for (const x of calls) expect(noteAt(x.icount).syscalls.has(x.nr!), `${x.kind} ${x.nr} at ${x.icount}`).toBe(true);
      }
      // and the notes say no where nothing happened: the loop's stretches made no syscall and did not read msg
      expect(notes.filter((n) => n.syscalls.size === 0).length).toBeGreaterThan(2);
      expect(notes.filter((n) => !n.reads.has(Math.floor(msg / 4096))).length).toBeGreaterThan(2);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('a closure stored as state makes the clone fail loudly, naming where it is', () => {
    const m = new Machine({ program: BIN('hello-musl'), argv: ['prog'], env: [], warn: () => {}, entry: 'native', cwd: ROOT });
    m.load();
    m.leader.afterSyscall = () => {};
    expect(() => new Cloner('snapshot').clone(m)).toThrow(SnapshotError);
    expect(() => new Cloner('snapshot').clone(m)).toThrow(/afterSyscall/);
  });
});
