/**
 * i386 programs for the compat-mode tests, and their oracle. Debian's
 * busybox-static:i386 is fetched by test/fixtures/fetch-i386.sh (.ci/run runs
 * it); the expected output of a 32-bit program is its run on this machine:
 * natively where the host kernel runs i386 programs (IA32_EMULATION), else
 * under qemu-i386 (a sandbox without it says "Exec format error"), never
 * entrystub. `oracle` says which it used.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './cases.js';

export const BUSYBOX32 = path.join(ROOT, 'test/fixtures/i386/bin/busybox');

/** The i386 busybox, or an error saying how to get it. */
export function busybox32(): string {
  if (!fs.existsSync(BUSYBOX32)) throw new Error(`${BUSYBOX32} is missing: run test/fixtures/fetch-i386.sh (as root; .ci/run does)`);
  return BUSYBOX32;
}

let how: 'native' | 'qemu-i386' | null = null;

/**
 * How this machine runs i386 programs: checked once, with a static i386 program that exits 0.
 * ENTRYSTUB_I386_ORACLE=qemu-i386 takes qemu-i386 even where they run natively, to check the
 * cases where qemu-user departs from Linux (qemuDeparts) as a machine without IA32 emulation does.
 */
export function oracleKind(probe: string): 'native' | 'qemu-i386' {
  if (how === null && process.env.ENTRYSTUB_I386_ORACLE === 'qemu-i386') how = 'qemu-i386';
  if (how === null) {
    const r = spawnSync(probe, ['true'], { timeout: 30_000 });
    if (r.status === 0 && r.error === undefined) how = 'native';
    else {
      const q = spawnSync('qemu-i386', [probe, 'true'], { timeout: 30_000 });
      if (q.status !== 0) throw new Error(`this machine runs i386 programs neither natively (${r.error?.message ?? r.status}) nor under qemu-i386 (package qemu-user)`);
      how = 'qemu-i386';
    }
  }
  return how;
}

export interface OracleRun {
  stdout: Buffer;
  stderr: string;
  status: number | null;
  /** The signal that ended it (null: it exited). */
  signal: NodeJS.Signals | null;
  how: 'native' | 'qemu-i386';
}

/** Run an i386 program as this machine can: natively, or under qemu-i386. argv[0] is argv0. */
export function runOracle(prog: string, argv0: string, args: string[], opts: { cwd?: string; input?: Buffer; env?: Record<string, string> } = {}): OracleRun {
  const kind = oracleKind(BUSYBOX32);
  const r =
    kind === 'native'
      ? spawnSync(prog, args, { argv0, cwd: opts.cwd, input: opts.input, env: opts.env ?? {}, timeout: 60_000 })
      : // qemu-user builds the guest's environment by prepending each variable (its envlist): given in reverse, the program sees them in order
        spawnSync('qemu-i386', ['-0', argv0, prog, ...args], { cwd: opts.cwd, input: opts.input, env: Object.fromEntries(Object.entries(opts.env ?? {}).reverse()), timeout: 60_000 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr.toString(), status: r.status, signal: r.signal, how: kind };
}
