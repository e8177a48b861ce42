import * as os from 'node:os';
import * as path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest (2026-12-06, the whole suite on 2 cores, 445 s: jit 209 s, dynamic 135, compat 131,
 * fixtures 113, busybox 74, gdb/compat-view 57, gdb/reverse 54, install 44, memory 33, threads 32), in that order.
 * vitest starts the longest files first only once it has timed them; a fresh clone (CI) has no timings, and vitest
 * then starts the largest files first, where busybox.test.ts and fixtures.test.ts, short files that run hundreds of
 * programs, came 63rd and 64th of 64: the suite ended on them.
 */
const HEAVY = [
  'test/jit.test.ts',
  'test/dynamic.test.ts',
  'test/compat.test.ts',
  'test/fixtures.test.ts',
  'test/busybox.test.ts',
  'test/gdb/compat-view.test.ts',
  'test/gdb/reverse.test.ts',
  'test/install.test.ts',
  'test/memory.test.ts',
  'test/threads.test.ts',
  'test/go.test.ts',
];

/** vitest's order (timed files longest first, untimed by size), with the heavy files ahead of it. */
class HeavyFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const k = HEAVY.indexOf(path.relative(this.ctx.config.root, f.moduleId).split(path.sep).join('/'));
      return k < 0 ? HEAVY.length : k;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b)); // stable: vitest's order within a rank
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // vitest's default leaves a core idle (CPUs - 1: one worker on 2 cores). A test here mostly waits for
    // the emulator or gdb it spawned, and the gdb sessions wait on gdb and on timers: with a worker per
    // core the suite used 1.67 of 2 cores (1,650 s of CPU in 987 s); one worker more fills those waits
    maxWorkers: os.availableParallelism() + 1,
    sequence: { sequencer: HeavyFirst },
  },
});
