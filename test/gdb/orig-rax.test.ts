/**
 * Writing orig_rax (and rax) at a syscall-entry stop changes or skips the
 * call, as with ptrace. The oracle is gdb on the real process: the same
 * walk-through (gdb-scripts/walk-orig-rax.gdb) run natively must print the
 * same values, catchpoint events and program output as through the stub.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { BIN, gdbBatch, SCRIPTS, startStub, EXAMPLE } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb') !== null;

const SCRIPT = path.join(SCRIPTS, 'walk-orig-rax.gdb');

/** What both runs must agree on: printed values, catchpoint events (not their places), the program's lines, the end. */
function essence(out: string): string[] {
  return out
    .split('\n')
    .filter((l) => /^\$\d+ = |^Catchpoint \d+ \((call to|returned from)|^hello|^SIGUSR1|^\[Inferior 1 \(process \d+\) exited/.test(l))
    .map((l) => l.replace(/^(Catchpoint \d+ \([^)]*\)).*/, '$1').replace(/process \d+/, 'process N'));
}

describe.skipIf(!HAVE_GDB)('orig_rax at a syscall-entry stop, as with ptrace', () => {
  const native = HAVE_GDB ? essence(spawnSync('gdb', ['-nx', '-batch', '-ex', 'starti', '-x', SCRIPT, EXAMPLE], { encoding: 'utf8' }).stdout) : [];

  it('the native run shows the skip and the change', () => {
    // getpid skipped with 4242 as its result: the kill goes to pid 4242; the kill turned into a getpid sends nothing
    expect(native).toEqual([
      'hello from the guest',
      'Catchpoint 1 (call to syscall getpid)',
      '$1 = 39',
      '$2 = -38',
      'Catchpoint 2 (call to syscall kill)',
      '$3 = 4242',
      '$4 = 10',
      'SIGUSR1 (10) handled: no',
      '[Inferior 1 (process N) exited normally]',
    ]);
  });

  for (const model of [['--entry', 'native'], ['--entry', 'nommu', '--hook', 'zpoline'], ['--entry', 'nommu', '--hook', 'seccomp'], ['--entry', 'direct']]) {
    it(model.join(' '), async () => {
      const stub = await startStub([...model, EXAMPLE]);
      try {
        const out = await gdbBatch(stub.port, { ex: [`source ${SCRIPT}`] });
        await stub.exited;
        // the program's output goes to the stub's stdout, gdb's to gdb's: compare each stream
        const program = (l: string) => /^hello|^SIGUSR1/.test(l);
        expect(essence(out).filter((l) => !program(l))).toEqual(native.filter((l) => !program(l)));
        expect(essence(stub.stdout())).toEqual(native.filter(program));
      } finally {
        await stub.stop();
      }
    });
  }
});
