/**
 * A `syscall` in code written at run time, under the default nommu/zpoline
 * model (issue 18): zpoline rewrites the sites it finds at exec, so such a
 * site still holds `syscall`, which reaches the host in place and bypasses
 * the guest kernel. That must be visible: one line per new site on the log
 * stream (stderr, or --log FILE; --quiet drops it), a count in --stats, and
 * a mark under each such call in `trace`. The hooks that cover such code
 * (lazy, seccomp) send the same calls through __kernel_vsyscall.
 *
 * The program is test/fixtures/src/jit.c: two sites in an RWX page, at
 * offsets 5 and 69 (from its source), each run three times; its native run
 * (test/fixtures/expected/jit-musl.stdout) is the oracle for what it prints.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from './helpers/cases.js';

const JIT = path.join(ROOT, 'test', 'fixtures', 'bin', 'jit-musl');
const NATIVE = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'expected', 'jit-musl.stdout'), 'utf8');
/** The `syscall` instructions' offsets in their page, from jit.c: `mov $imm32,%eax` is 5 bytes. */
const SITE_OFFSETS = [5, 69];

function entrystub(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const WARNING = /^entrystub: zpoline: the syscall at 0x([0-9a-f]+) was not rewritten at exec \(code written at run time\): it bypasses the guest kernel; --hook lazy or --hook seccomp send such code through __kernel_vsyscall$/;

/** The sites the warning lines name, as offsets in their page; every line must be one. */
function warnedSites(log: string): number[] {
  const lines = log.split('\n').filter(Boolean);
  return lines.map((l) => {
    const m = WARNING.exec(l);
    expect(m, `not a bypass warning: ${l}`).not.toBeNull();
    return Number(BigInt('0x' + m![1]) % 4096n);
  });
}

describe('zpoline and code written at run time', () => {
  it('the program gets the kernel\'s answers (its native output), and the log says once per site that it bypassed the guest kernel', () => {
    const r = entrystub(['run', JIT]);
    expect(r.stdout).toBe(NATIVE);
    expect(r.code).toBe(0);
    // two sites, each run three times: two lines, in the order they first ran
    expect(warnedSites(r.stderr)).toEqual(SITE_OFFSETS);
  });

  it('--log FILE takes the lines (the program\'s stderr stays its own); --quiet drops them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-jit-'));
    try {
      const log = path.join(dir, 'stub.log');
      const r = entrystub(['run', '--log', log, JIT]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(NATIVE);
      expect(warnedSites(fs.readFileSync(log, 'utf8'))).toEqual(SITE_OFFSETS);
      const q = entrystub(['run', '--quiet', JIT]);
      expect(q.stderr).toBe('');
      expect(q.stdout).toBe(NATIVE);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--stats counts the sites, and does not count their calls as trips through the entry path', () => {
    const r = entrystub(['run', '--quiet', '--stats', JIT]);
    expect(r.stderr).toMatch(/\n  zpoline: \d+ sites rewritten \(0 lazily\); 2 not rewritten \(code written at run time\): their syscalls bypassed the guest kernel\n/);
    // getpid: the three of libc's comparisons went through the path; the three of the JIT's site did not
    expect(r.stderr).toMatch(/\n\s+39\s+getpid\s+3\s+\d+\.\d\n/);
    expect(r.stderr).toMatch(/\n\s+102\s+getuid\s+3\s+\d+\.\d\n/);
  });

  it('trace marks each call that bypassed the guest kernel, with --path or without; with the result the host gave', () => {
    const uid = String(process.getuid!());
    for (const args of [[], ['--path']]) {
      const r = entrystub(['trace', '--quiet', '--no-color', ...args, JIT]);
      expect(r.stdout).toBe(NATIVE);
      const marks = [...r.stderr.matchAll(/^(getpid|getuid)\(\) = (\d+)\n {2}↳ syscall at 0x([0-9a-f]+), not rewritten by zpoline → handled by the host in place, bypassing the guest kernel; .*; return: in place; 1 instructions$/gm)];
      expect(marks.map((m) => [m[1], Number(BigInt('0x' + m[3]) % 4096n)])).toEqual([0, 1, 2].flatMap(() => [['getpid', 5], ['getuid', 69]]));
      expect(marks.map((m) => m[2])).toEqual([0, 1, 2].flatMap(() => ['1000', uid]));
      // libc's own getpid and getuid went through the path: no mark under them
      const plain = [...r.stderr.matchAll(/^(getpid|getuid)\(\) = \d+\n(?! {2}↳ syscall at 0x[0-9a-f]+, not rewritten)/gm)];
      expect(plain).toHaveLength(6);
    }
  });

  for (const hook of ['lazy', 'seccomp']) {
    it(`--hook ${hook} sends the same calls through __kernel_vsyscall: no warning, no bypass`, () => {
      const r = entrystub(['trace', '--no-color', '--path', '--hook', hook, JIT]);
      expect(r.stdout).toBe(NATIVE);
      expect(r.stderr).not.toMatch(/not rewritten|bypass/);
      const paths = [...r.stderr.matchAll(/^(getpid|getuid)\(\) = \d+\n {2}↳ (.*)$/gm)];
      expect(paths).toHaveLength(12);
      for (const p of paths) expect(p[2]).toMatch(/→ __kernel_vsyscall → do_syscall_64 → __x64_sys_(getpid|getuid) → userspace/);
    });
  }
});
