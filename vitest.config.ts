import * as os from 'node:os';
import { defineConfig } from 'vitest/config';

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
  },
});
