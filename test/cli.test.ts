/**
 * Bad input to `entrystub run`: a one-line error naming the file and the
 * problem, exit status 2, never a stack trace; and guest faults reported as
 * the signal Linux would send.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, ROOT } from './helpers/cases.js';

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'run', ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const BIN = (n: string) => path.join(ROOT, 'test/fixtures/bin', n);
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-cli-'));
  const hello = fs.readFileSync(BIN('hello-musl'));
  fs.writeFileSync(path.join(tmp, 'truncated'), hello.subarray(0, 100));
  const corrupt = Buffer.from(hello);
  corrupt.writeUInt16LE(0x3e, 18); // fine machine
  corrupt.writeBigUInt64LE(0xffffffn, 32); // e_phoff far beyond the file
  fs.writeFileSync(path.join(tmp, 'corrupt'), corrupt);
  const arm = Buffer.from(hello);
  arm.writeUInt16LE(183, 18); // EM_AARCH64
  fs.writeFileSync(path.join(tmp, 'aarch64'), arm);
  const elf32 = Buffer.from(hello);
  elf32[4] = 1;
  fs.writeFileSync(path.join(tmp, 'elf32'), elf32);
  fs.writeFileSync(path.join(tmp, 'script.sh'), '#!/bin/sh\necho hi\n');
});

describe('entrystub run: bad programs', () => {
  const cases: [string, () => string, RegExp][] = [
    ['missing file', () => path.join(tmp, 'nope'), /nope: no such file/],
    ['directory', () => tmp, /is a directory/],
    ['truncated ELF', () => path.join(tmp, 'truncated'), /truncated or corrupt ELF/],
    ['corrupt program headers', () => path.join(tmp, 'corrupt'), /truncated or corrupt ELF/],
    ['non-x86-64 ELF', () => path.join(tmp, 'aarch64'), /not x86-64/],
    ['32-bit ELF', () => path.join(tmp, 'elf32'), /not a 64-bit ELF/],
    ['not an ELF', () => path.join(tmp, 'script.sh'), /not an ELF file/],
  ];
  for (const [name, file, msg] of cases) {
    it(name, () => {
      const r = run([file()]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(path.basename(file()));
    });
  }
});

describe('entrystub run: guest faults become signals', () => {
  it('an undecodable instruction is SIGILL with its address and bytes', () => {
    const r = run([BIN('faults-musl'), 'ud2']);
    expect(r.code).toBe(128 + 4);
    expect(r.stderr).toMatch(/SIGILL: illegal instruction at 0x[0-9a-f]+: 0f 0b/);
  });
  it('a NULL call is SIGSEGV at address 0', () => {
    const r = run([BIN('faults-musl'), 'null-call']);
    expect(r.code).toBe(128 + 11);
    expect(r.stderr).toMatch(/SIGSEGV: at 0x0: executing address 0x0/);
  });
  it('a divide by zero is SIGFPE', () => {
    const r = run([BIN('faults-musl'), 'div0']);
    expect(r.code).toBe(128 + 8);
    expect(r.stderr).toMatch(/SIGFPE/);
  });
  it('exit codes pass through', () => {
    expect(run([BIN('faults-musl'), 'exit42']).code).toBe(42);
  });
});
