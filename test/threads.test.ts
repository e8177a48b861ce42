/**
 * Threads as the machine schedules them: what the fixtures' byte-for-byte
 * comparisons (threads, futex, spin in every entry configuration) cannot
 * show. The oracle: a run is a function of its input, so the threaded
 * fixture run five times ends with the same instruction count and the same
 * schedule (every task switch, the task and the instruction count there),
 * and --stats and --schedule-log say so from the command line.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../src/machine/machine.js';
import { CLI, ROOT } from './helpers/cases.js';

const BIN = (n: string) => path.join(ROOT, 'test/fixtures/bin', n);
const EXPECTED = (n: string) => fs.readFileSync(path.join(ROOT, 'test/fixtures/expected', n + '.stdout'), 'utf8');

/** Run a fixture in-process to its end: its output, its end, its instructions and its schedule. */
function runOnce(prog: string, entry: string, hook?: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-thr-'));
  const outPath = path.join(dir, 'out');
  const fd = fs.openSync(outPath, 'w');
  try {
    const m = new Machine({ program: BIN(prog), argv: ['prog'], env: [], stdout: fd, warn: () => {}, entry, hook, cwd: ROOT });
    const switches: string[] = [];
    m.onSwitch = (tid, icount) => switches.push(`${tid}@${icount}`);
    m.load();
    const end = m.runToEnd();
    return { out: fs.readFileSync(outPath, 'utf8'), end, icount: m.icount, schedule: { ...m.schedule }, switches };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('a threaded program runs the same schedule every time', () => {
  for (const [prog, entry, hook] of [
    ['threads-musl', 'nommu', 'zpoline'],
    ['threads-glibc', 'native', undefined],
    ['threads-gcc', 'direct', undefined],
  ] as const) {
    it(`${prog} five times (${entry}${hook ? '/' + hook : ''}): the same output, instruction count and schedule`, () => {
      const runs = [0, 1, 2, 3, 4].map(() => runOnce(prog, entry, hook));
      const expected = EXPECTED(prog);
      for (const r of runs) {
        expect(r.out).toBe(expected);
        expect(r.end).toMatchObject({ kind: 'exited', code: 0 });
        expect(r.icount).toBe(runs[0].icount);
        expect(r.schedule).toEqual(runs[0].schedule);
        expect(r.switches).toEqual(runs[0].switches);
      }
      // the threads really were interleaved: many switches, among several tids
      expect(runs[0].schedule.switches).toBeGreaterThan(50);
      expect(new Set(runs[0].switches.map((s) => s.split('@')[0])).size).toBeGreaterThan(5);
    });
  }
});

describe('the schedule from the command line', () => {
  it('--stats prints the switches and their hash, --schedule-log lists them; two runs agree', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-sched-'));
    try {
      const run = (k: number) => {
        const log = path.join(dir, `sched${k}`);
        const r = spawnSync(process.execPath, [CLI, 'run', '--stats', '--schedule-log', log, BIN('threads-musl')], { encoding: 'utf8', cwd: ROOT });
        expect(r.status).toBe(0);
        expect(r.stdout).toBe(EXPECTED('threads-musl'));
        const m = /schedule: (\d+) task switches, hash ([0-9a-f]{8})/.exec(r.stderr);
        expect(m).not.toBeNull();
        const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
        expect(lines.length).toBe(Number(m![1]));
        expect(lines[0]).toMatch(/^\d+ \d+$/);
        return { stats: m![0], lines };
      };
      const a = run(0), b = run(1);
      expect(b).toEqual(a);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a thread that never yields', () => {
  it('is preempted: the flag another thread sets after a sleep ends its spin, while a third is blocked on a pipe', () => {
    const r = spawnSync(process.execPath, [CLI, 'run', BIN('spin-musl')], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
    expect(r.stdout).toBe(EXPECTED('spin-musl'));
    expect(r.status).toBe(0);
  });
});

describe('threads that wait on each other for ever', () => {
  it('hang as on Linux (a lock-order deadlock), the emulator saying why once', () => {
    // natively: still waiting when the timeout kills it
    const native = spawnSync(BIN('deadlock-musl'), [], { encoding: 'utf8', timeout: 2_000 });
    expect(native.signal).toBe('SIGTERM');
    expect(native.stdout).toBe('both hold their first lock\n');
    const r = spawnSync(process.execPath, [CLI, 'run', BIN('deadlock-musl')], { encoding: 'utf8', cwd: ROOT, timeout: 10_000 });
    expect(r.signal).toBe('SIGTERM');
    expect(r.stdout).toBe(native.stdout);
    expect(r.stderr.match(/every thread waits on a futex .* the program hangs, as it would on Linux/g)).toHaveLength(1);
  });
});
