/**
 * The child processes a test file's worker started (runners, spawned
 * commands, gdb stubs), killed when the worker ends: vitest ends it with
 * SIGTERM (raised again here once they are killed) or it exits. A run that
 * outlived its test (a timeout) holds its runner's thread, which then never
 * sees its parent go; a spawned command outlives its timeout's timer; a stub
 * left by a test that threw before stopping it waits on: each would spin or
 * sit on for the rest of the suite (four hung inetsock runs once spun for 45
 * minutes, through a suite and a bench).
 */
import type { ChildProcess } from 'node:child_process';

const alive = new Set<ChildProcess>();

function killAlive(): void {
  for (const c of alive) c.kill('SIGKILL');
}
process.on('exit', killAlive);
process.once('SIGTERM', () => {
  killAlive();
  process.kill(process.pid, 'SIGTERM');
});

/** Kill c with this worker, unless it has ended by then. */
export function killedWithWorker<C extends ChildProcess>(c: C): C {
  alive.add(c);
  c.on('exit', () => alive.delete(c));
  return c;
}
