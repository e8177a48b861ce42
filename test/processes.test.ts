/**
 * Processes as a whole machine runs them (fork, exec, wait, pipes): what
 * the fixtures' byte-for-byte comparisons cannot show. The oracles: a run
 * is a function of its input (the same output and the same instruction
 * count every time), and fork(2)'s copy on write (a forked 256 MiB heap
 * costs the machine's memory once, so it runs under a limit that two
 * copies would cross; --mem-limit kills as Linux's OOM killer does).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../src/machine/machine.js';
import { CLI, ROOT } from './helpers/cases.js';

const BIN = (n: string) => path.join(ROOT, 'test/fixtures/bin', n);

/** Run a fixture in-process to its end: its output, its end, and every task's guest instructions. */
function runOnce(prog: string, entry: string, hook?: string): { out: string; end: unknown; icount: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-det-'));
  const outPath = path.join(dir, 'out');
  const fd = fs.openSync(outPath, 'w');
  try {
    const m = new Machine({ program: BIN(prog), argv: ['prog'], env: [], stdout: fd, warn: () => {}, entry, hook, cwd: ROOT });
    m.load();
    const end = m.runToEnd();
    return { out: fs.readFileSync(outPath, 'utf8'), end, icount: m.icount };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('a forking program runs the same schedule every time', () => {
  for (const [entry, hook] of [['nommu', 'zpoline'], ['native', undefined], ['direct', undefined]] as const) {
    it(`execs-musl three times (${entry}${hook ? '/' + hook : ''}): the same output and instruction count`, () => {
      const runs = [0, 1, 2].map(() => runOnce('execs-musl', entry, hook));
      const expected = fs.readFileSync(path.join(ROOT, 'test/fixtures/expected/execs-musl.stdout'), 'utf8');
      for (const r of runs) {
        expect(r.out).toBe(expected);
        expect(r.end).toMatchObject({ kind: 'exited', code: 0 });
        expect(r.icount).toBe(runs[0].icount);
      }
      expect(runs[0].icount).toBeGreaterThan(1_000_000);
    });
  }
});

describe('fork copies on write', () => {
  it('a 256 MiB heap, every page written, forked 100 times, runs within a 300 MiB memory limit', () => {
    const native = spawnSync(BIN('execs-musl'), ['heap'], { encoding: 'utf8' });
    const args = ['run', '--mem-limit', '300M', '--entry', 'nommu', '--hook', 'zpoline', BIN('execs-musl'), 'heap'];
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT });
    expect(r.stdout).toBe(native.stdout);
    expect(r.status).toBe(0);
    // and the limit is one copy: less than that kills it, as an eager copy under 300 MiB would be
    const small = spawnSync(process.execPath, [CLI, ...args.map((a) => (a === '300M' ? '200M' : a))], { encoding: 'utf8', cwd: ROOT });
    expect(small.status).toBe(137);
    
  });
});
