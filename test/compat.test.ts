/**
 * 32-bit (i386) programs in compat mode, each against the oracle (the same
 * program run by this machine: natively if the host kernel runs i386 code,
 * else under qemu-i386; helpers/i386.ts): the static i386 fixtures built with
 * gcc -m32 -static (test/fixtures/i386-cases.json) and Debian's
 * busybox-static:i386 applets (the cases of test/fixtures/busybox-cases.json
 * that need no fork), stdout and exit status byte for byte, in the direct
 * entry model (the one with compat entries so far: SYSENTER from the vDSO and
 * int $0x80, handled in place). The guest-kernel models refuse a 32-bit
 * program with a one-line message.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, ROOT, loadCases, type Case } from './helpers/cases.js';
import { BUSYBOX32, busybox32, oracleKind, runOracle } from './helpers/i386.js';
import { COMPAT_ENTRIES } from '../src/entry/vdso32.js';

interface I386Case extends Case {
  /** Why only a native oracle fits this case (qemu-user differs from an x86-64 kernel there). */
  nativeOnly?: string;
}

const fixtures = loadCases('test/fixtures/i386-cases.json') as I386Case[];
// (fork and exec of 32-bit programs are not implemented yet: the cases that run processes are the 64-bit tests')
const applets = loadCases('test/fixtures/busybox-cases.json').filter((c) => !(c.tags ?? []).includes('processes'));
const BIN = (n: string) => path.join(ROOT, 'test/fixtures/bin', n);

function inDir<T>(c: Case, fn: (cwd: string) => T): T {
  if (c.cwd !== 'tmp') return fn(ROOT);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-i386-'));
  try {
    return fn(tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function emulate(prog: string, argv0: string, c: Case, extra: string[]) {
  const input = c.stdin ? fs.readFileSync(path.join(ROOT, 'test/fixtures/data', c.stdin)) : Buffer.alloc(0);
  return inDir(c, (cwd) => {
    const r = spawnSync(process.execPath, [CLI, 'run', ...extra, '--argv0', argv0, prog, ...c.args], { cwd, env: c.env ?? {}, input, maxBuffer: 1 << 26, timeout: 300_000 });
    if (r.error) throw r.error;
    return { stdout: r.stdout, stderr: r.stderr.toString(), status: r.status };
  });
}

function oracle(prog: string, argv0: string, c: Case) {
  const input = c.stdin ? fs.readFileSync(path.join(ROOT, 'test/fixtures/data', c.stdin)) : undefined;
  return inDir(c, (cwd) => runOracle(prog, argv0, c.args, { cwd, input, env: c.env ?? {} }));
}

describe('the oracle for i386 programs', () => {
  it('is this machine, natively or under qemu-i386 (which one is printed)', () => {
    const how = oracleKind(busybox32());
    console.log(`i386 oracle on this machine: ${how}`);
    expect(['native', 'qemu-i386']).toContain(how);
  });
});

// each vDSO entry: SYSENTER (the default, as Linux on an Intel CPU) and int $0x80
for (const ce of COMPAT_ENTRIES) {
  describe.concurrent(`static i386 fixtures match their runs on this machine (direct, --compat-entry ${ce})`, () => {
    for (const c of fixtures) {
      it.skipIf(c.nativeOnly !== undefined && oracleKind(busybox32()) !== 'native')(c.name, () => {
        const want = oracle(BIN(c.bin!), 'prog', c);
        const got = emulate(BIN(c.bin!), 'prog', c, ['--entry', 'direct', '--compat-entry', ce]);
        expect(got.stderr).toBe('');
        expect(got.stdout.toString('latin1')).toBe(want.stdout.toString('latin1'));
        expect(got.status).toBe(want.status);
      });
    }
  });
}

describe.concurrent('busybox-static:i386 applets match their runs on this machine (direct, the default --compat-entry)', () => {
  for (const c of applets) {
    it(c.name, () => {
      const want = oracle(busybox32(), 'busybox', c);
      const got = emulate(BUSYBOX32, 'busybox', c, ['--entry', 'direct']);
      expect(got.stdout.toString('latin1')).toBe(want.stdout.toString('latin1'));
      expect(got.status).toBe(want.status);
    });
  }
});

describe("the 32-bit vDSO (Linux's interface: AT_SYSINFO_EHDR, AT_SYSINFO = __kernel_vsyscall, glibc's %gs:0x10)", () => {
  it('is an i386 shared object named linux-gate.so.1 whose __kernel_vsyscall glibc calls', () => {
    const r = emulate(BIN('vsyscall32-i386'), 'prog', { name: 'vdso', args: ['vdso'] }, ['--entry', 'direct']);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe(
      'AT_SYSINFO_EHDR present, AT_SYSINFO present\n' +
        'ELF 1, class 1, type 3, machine 3\n' +
        'soname linux-gate.so.1\n' +
        'AT_SYSINFO is __kernel_vsyscall: 1, %gs:0x10 is AT_SYSINFO: 1\n',
    );
  });
});

describe('the committed vDSO image', () => {
  it('is what its sources build, byte for byte, wherever they are built', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-vdso32-'));
    try {
      fs.cpSync(path.join(ROOT, 'src', 'guest'), path.join(tmp, 'guest'), { recursive: true });
      const r = spawnSync(process.execPath, [path.join(tmp, 'guest', 'vdso32', 'build.mjs')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      for (const f of ['image/vdso32.so', 'generated/vdso32.ts'])
        expect(Buffer.compare(fs.readFileSync(path.join(tmp, 'guest', f)), fs.readFileSync(path.join(ROOT, 'src', 'guest', f))), f).toBe(0);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('entry models without a compat entry', () => {
  for (const entry of ['native', 'nommu']) {
    it(`--entry ${entry} refuses a 32-bit program with one line`, () => {
      const r = spawnSync(process.execPath, [CLI, 'run', '--entry', entry, BIN('hello-i386')], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stdout).toBe('');
      expect(r.status).not.toBe(0);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/32-bit program.*--entry direct/);
    });
  }
});
