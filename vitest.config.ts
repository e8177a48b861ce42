import * as os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // vitest's default leaves a core idle (CPUs - 1: one worker on 2 cores); a test here mostly waits
    // for the emulator or gdb it spawned, so a worker per core keeps both busy
    maxWorkers: Math.max(2, os.availableParallelism()),
  },
});
