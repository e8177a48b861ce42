/**
 * gdb unwinds from every instruction of every entry path into the program's
 * own frames (issue: `bt` inside the native kernel stopped at "previous frame
 * inner to this frame"). The whole path of a write(2) is single-stepped in
 * real gdb with `bt` at each instruction; every backtrace must reach the user
 * frames the program's own code gives natively (__syscall_cp_c, then write),
 * with the function names of the guest kernel's ELF symbol table.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gdbBatch, GDBDEMO, startStub } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb') !== null;

const MODELS = [['--entry', 'native'], ['--entry', 'nommu', '--hook', 'zpoline'], ['--entry', 'nommu', '--hook', 'seccomp'], ['--entry', 'nommu', '--hook', 'lazy']];

/** The user frames natively, at the same place: gdb on the real process, stopped where the syscall returns. */
function nativeUserFrames(): string[] {
  const out = spawnSync('gdb', ['-nx', '-batch', '-ex', 'catch syscall write', '-ex', 'run', '-ex', 'bt', GDBDEMO], { encoding: 'utf8' }).stdout;
  return [...out.matchAll(/^#\d+\s+(?:0x[0-9a-f]+ in )?(\w+) \(/gm)].map((m) => m[1]);
}

describe.skipIf(!HAVE_GDB)('gdb unwinds from every instruction of the entry path into the program', () => {
  const userFrames = HAVE_GDB ? nativeUserFrames() : [];

  for (const model of MODELS) {
    it(model.join(' '), async () => {
      expect(userFrames.slice(0, 2)).toEqual(['__syscall_cp_c', 'write']);
      const stub = await startStub([...model, GDBDEMO]);
      try {
        // step until back in user code (pc above the zpoline page, below the kernel), bt at each instruction
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-unwind-')), 'walk.gdb');
        fs.writeFileSync(
          file,
          ['catch syscall write', 'continue', 'set $n = 0', 'while $n < 600 && ($n == 0 || $pc < 0x400000 || $pc > 0x7fffffffffff)', '  echo ===\\n', '  bt', '  stepi', '  set $n = $n + 1', 'end', ''].join('\n'),
        );
        const out = await gdbBatch(stub.port, { before: ['set confirm off'], ex: [`source ${file}`], timeout: 240_000 });
        fs.rmSync(path.dirname(file), { recursive: true, force: true });
        const steps = out.split('===\n').slice(1);
        expect(steps.length).toBeGreaterThan(model.includes('native') ? 90 : 80);
        expect(out).not.toMatch(/Backtrace stopped|corrupt stack/);
        for (const s of steps) {
          const frames = [...s.matchAll(/^#(\d+)\s+(?:0x[0-9a-f]+ in )?(<signal handler called>|\w+)/gm)].map((m) => m[2]);
          // the kernel frames, then the program's: its first two as gdb names them natively
          const u = frames.indexOf(userFrames[0]);
          expect(u, s).toBeGreaterThanOrEqual(0);
          expect(frames.slice(u, u + 2), s).toEqual(userFrames.slice(0, 2));
        }
        // the kernel frames carry the image's own names (the signal frame only at a call into C)
        expect(out).toMatch(model.includes('native') ? /#0 {2}entry_SYSCALL_64 \(\)/ : /#0 {2}(0x[0-9a-f]+ in )?__kernel_vsyscall \(\)/);
        expect(out).toMatch(/#0 {2}0x[0-9a-f]+ in do_syscall_64 \(.*\n#1 {2}<signal handler called>\n#2 {2}0x[0-9a-f]+ in __syscall_cp_c/);
      } finally {
        await stub.stop();
      }
    });
  }
});
