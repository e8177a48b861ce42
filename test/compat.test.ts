/**
 * 32-bit (i386) programs in compat mode, each against the oracle (the same
 * program run by this machine: natively if the host kernel runs i386 code,
 * else under qemu-i386; helpers/i386.ts): the static i386 fixtures built with
 * gcc -m32 -static (test/fixtures/i386-cases.json) and Debian's
 * busybox-static:i386 applets (every case of test/fixtures/busybox-cases.json:
 * pipelines, fork, exec, wait, signals), stdout and exit status byte for byte, in the native
 * entry model (the guest kernel's compat entries: entry_SYSENTER_compat,
 * entry_SYSCALL_compat, entry_INT80_compat) and the direct one (handled in
 * place), with each vDSO entry. UML nommu has none: a 32-bit program runs
 * through the native ones, with a one-line message if nommu was asked for.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, ROOT, busyboxPath, expectedOf, loadCases, runGuest, type Case } from './helpers/cases.js';
import { BUSYBOX32, busybox32, oracleKind, runOracle } from './helpers/i386.js';
import { need } from './helpers/tools.js';
import { COMPAT_ENTRIES, DEFAULT_COMPAT_ENTRY } from '../src/entry/vdso32.js';

interface I386Case extends Case {
  /** Why only a native oracle fits this case (qemu-user differs from an x86-64 kernel there). */
  nativeOnly?: string;
  /**
   * Where qemu-user departs from Linux in this case: with a qemu oracle it
   * compares with the recorded native run (test/fixtures/expected) of the
   * x86-64 build of the same source, whose output does not depend on the ABI,
   * or (expected/i386/) of this very program, recorded on a machine whose
   * kernel runs i386 code (record-native.sh).
   */
  qemuDeparts?: { why: string; expected: string };
}

const fixtures = loadCases('test/fixtures/i386-cases.json') as I386Case[];
/** Built with gcc -m32 (-no-pie, and -fPIE -pie): run with this machine's i386 ld.so and libraries (libc6-i386, from gcc-multilib), as the oracle runs them. */
const dynFixtures = need('ldso32') ? (loadCases('test/fixtures/i386-dynamic-cases.json') as I386Case[]) : [];
const applets = loadCases('test/fixtures/busybox-cases.json');
/**
 * Cases where qemu-user, the oracle on a host that runs no i386 code,
 * departs from Linux: with it they compare with the native run of the x86-64
 * busybox of the same version (test/fixtures/expected/busybox), whose output
 * here does not depend on the ABI.
 */
const QEMU_DEPARTS: Record<string, string> = {
  'sh-gzip-big': "the shell's gzip, exec'd through /proc/self/exe, writes another mtime into the gzip header under qemu-user",
  'sh-timeout': "timeout's exec of sleep through /proc/self/exe under qemu-user leaves timeout's watcher to report 124 where Linux's sleep dies of SIGTERM (143)",
};
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

async function inDirAsync<T>(c: Case, fn: (cwd: string) => Promise<T>): Promise<T> {
  if (c.cwd !== 'tmp') return fn(ROOT);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-i386-'));
  try {
    return await fn(tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The program under entrystub; asynchronous, so that the concurrent cases' runs overlap. */
function emulate(prog: string, argv0: string, c: Case, extra: string[]): Promise<{ stdout: Buffer; stderr: string; status: number | null }> {
  const input = c.stdin ? fs.readFileSync(path.join(ROOT, 'test/fixtures/data', c.stdin)) : Buffer.alloc(0);
  return inDirAsync(c, async (cwd) => {
    const r = await runGuest(['run', ...extra, '--argv0', argv0, prog, ...c.args], { cwd, env: c.env ?? {}, input });
    return { stdout: r.stdout, stderr: r.stderr.toString(), status: r.code };
  });
}

/** The exit status a run has as entrystub reports it: a death by signal N is 128 + N, as a shell shows it. */
function exitStatus(r: { status: number | null; signal?: NodeJS.Signals | null }): number | null {
  return r.status ?? (r.signal ? 128 + os.constants.signals[r.signal] : null);
}

/** The recorded native run of a case (test/fixtures/record-native.sh), in the form of an oracle's. */
function recorded(name: string, dir: string): { stdout: Buffer; status: number; signal: null } {
  const x = expectedOf({ name, args: [] }, dir);
  return { stdout: x.stdout, status: 'code' in x.status ? x.status.code : 128 + os.constants.signals[x.status.signal as NodeJS.Signals], signal: null };
}

/** The oracle's run of a case, once per program and case (every entry model and vDSO entry is compared with it). */
const oracleRuns = new Map<string, ReturnType<typeof runOracle>>();
function oracle(prog: string, argv0: string, c: Case) {
  const key = `${prog}\0${c.name}`;
  const had = oracleRuns.get(key);
  if (had) return had;
  const input = c.stdin ? fs.readFileSync(path.join(ROOT, 'test/fixtures/data', c.stdin)) : undefined;
  const r = inDir(c, (cwd) => runOracle(prog, argv0, c.args, { cwd, input, env: c.env ?? {} }));
  oracleRuns.set(key, r);
  return r;
}

describe('the oracle for i386 programs', () => {
  it('is this machine, natively or under qemu-i386 (which one is printed)', () => {
    const how = oracleKind(busybox32());
    console.log(`i386 oracle on this machine: ${how}`);
    expect(['native', 'qemu-i386']).toContain(how);
  });
});

// each vDSO entry: SYSENTER (the default, as Linux on an Intel CPU), SYSCALL (an AMD CPU's) and int $0x80
for (const [kind, cases] of [['static', fixtures], ['dynamically linked (this machine\'s ld-linux.so.2 and libc.so.6)', dynFixtures]] as const)
for (const entry of ['native', 'direct'])
  for (const ce of COMPAT_ENTRIES) {
    describe.concurrent(`${kind} i386 fixtures match their runs on this machine (${entry}, --compat-entry ${ce})`, () => {
      for (const c of cases) {
        it.skipIf(c.nativeOnly !== undefined && oracleKind(busybox32()) !== 'native')(c.name, async () => {
          const want = c.qemuDeparts && oracleKind(busybox32()) === 'qemu-i386' ? recorded(c.qemuDeparts.expected, 'test/fixtures/expected') : oracle(BIN(c.bin!), 'prog', c);
          const got = await emulate(BIN(c.bin!), 'prog', c, ['--entry', entry, '--compat-entry', ce]);
          // a program that dies of a signal has the one line that says so, and nothing else
          if (want.signal) expect(got.stderr).toMatch(new RegExp(`^entrystub: [^:\\n]+: killed by ${want.signal}\\b[^\\n]*\\n$`));
          else expect(got.stderr).toBe('');
          expect(got.stdout.toString('latin1')).toBe(want.stdout.toString('latin1'));
          expect(got.status).toBe(exitStatus(want));
        });
      }
    });
  }

// the guest kernel's compat entries with each vDSO entry; the direct model with the default one
for (const [entry, ce] of [...COMPAT_ENTRIES.map((e) => ['native', e]), ['direct', DEFAULT_COMPAT_ENTRY]])
  describe.concurrent(`busybox-static:i386 applets match their runs on this machine (${entry}, --compat-entry ${ce})`, () => {
    for (const c of applets) {
      it(c.name, async () => {
        let want: { stdout: Buffer; status: number | null };
        if (QEMU_DEPARTS[c.name] !== undefined && oracleKind(busybox32()) === 'qemu-i386') want = recorded(c.name, 'test/fixtures/expected/busybox');
        else {
          const o = oracle(busybox32(), 'busybox', c);
          want = { stdout: o.stdout, status: exitStatus(o) };
        }
        const got = await emulate(BUSYBOX32, 'busybox', c, ['--entry', entry, '--compat-entry', ce]);
        expect(got.stdout.toString('latin1')).toBe(want.stdout.toString('latin1'));
        expect(got.status).toBe(want.status);
      }, 300_000); // sh-gzip-big compresses 256 KiB twice: a minute when the configurations run at once on a loaded machine
    }
  });

/*
 * Where qemu-user, the oracle on a host that runs no i386 code, departs from
 * Linux, the lines signal32 prints are checked against what Linux 5.8's code
 * does (with a native oracle the case signal32-i386-linux compares them with
 * the machine instead): handle_signal clears DF for the handler; sigreturn
 * gives back the interrupted FPU state (fpu__restore_sig: the x87 stack, the
 * control word, MXCSR); sys_signal installs a one-shot handler
 * (SA_ONESHOT | SA_NOMASK) and returns the old one; the x86 sigsuspend takes
 * its mask in the third argument. qemu-i386 leaves DF set, loses the FPU
 * state, has no sys_signal and reads the first argument.
 */
describe.skipIf(oracleKind(busybox32()) === 'native')('signals of 32-bit programs where qemu-user departs from Linux', () => {
  const linux = [
    'ud2: DF clear in the handler: yes',
    'divide by zero: DF clear in the handler: yes',
    'store to 0x1230: DF clear in the handler: yes',
    'FPU after a handler: st(0) pi, control word 0x27f, MXCSR 0x3f80',
    'signal() returned the old handler: yes (SIG_DFL)',
    'signal(): handler ran 1 time(s), then SIG_DFL: yes',
    'sigsuspend = -1 (EINTR), handler ran 1',
    'mask after sigsuspend has USR1 again: yes',
    'done',
    '',
  ].join('\n');
  for (const entry of ['native', 'direct'])
    for (const ce of COMPAT_ENTRIES)
      it(`${entry}, --compat-entry ${ce}`, async () => {
        const got = await emulate(BIN('signal32-i386'), 'prog', { name: 'signal32-linux', args: ['linux'] }, ['--entry', entry, '--compat-entry', ce]);
        expect(got.stderr).toBe('');
        expect(got.stdout.toString()).toBe(linux);
        expect(got.status).toBe(0);
      });
});

describe('exec across the ABIs: the mode, the vDSO and the auxiliary vector follow the new program', () => {
  // x86-64 busybox runs i386 busybox, which runs x86-64 busybox: each shell waits for the next and reports its status
  const script = (b32: string) =>
    `echo 64; ${b32} sh -c 'echo 32; $B64 sh -c "echo 64 again; exit 3"; echo inner $?; exit 5'; echo outer $?`;
  // the host's busybox-static (tools.ts: a missing one fails the file unless the user opted out)
  const B64 = busyboxPath()!;
  it('x86-64 -> i386 -> x86-64, with exit statuses, against the same run on this machine', async () => {
    const native = spawnSync(B64, ['sh', '-c', script(oracleKind(busybox32()) === 'native' ? BUSYBOX32 : `qemu-i386 ${BUSYBOX32}`)], { env: { B64 }, encoding: 'utf8', timeout: 60_000 });
    expect(native.stdout).toBe('64\n32\n64 again\ninner 3\nouter 5\n');
    for (const entry of ['native', 'direct']) {
      const r = spawnSync(process.execPath, [CLI, 'run', '--entry', entry, B64, 'sh', '-c', script(BUSYBOX32)], { env: { B64 }, encoding: 'utf8', timeout: 120_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(native.stdout);
      expect(r.status).toBe(0);
    }
  });
});

describe("the 32-bit vDSO (Linux's interface: AT_SYSINFO_EHDR, AT_SYSINFO = __kernel_vsyscall, glibc's %gs:0x10)", () => {
  it('is an i386 shared object named linux-gate.so.1 whose __kernel_vsyscall glibc calls', async () => {
    const r = await emulate(BIN('vsyscall32-i386'), 'prog', { name: 'vdso', args: ['vdso'] }, ['--entry', 'direct']);
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

/*
 * This machine's own i386 programs (there are few: libc6-i386's ld.so and
 * libc.so.6, both runnable, and valgrind's getoff-x86-linux, an i386 PIE,
 * where valgrind is installed), against their runs here. ld.so run as the
 * program is an ET_DYN without an interpreter: mapped top-down, and it maps
 * the program it is given itself.
 */
const MACHINE32: { name: string; argv: string[] }[] = [
  { name: 'libc.so.6 run as a program (its banner)', argv: ['/lib32/libc.so.6'] },
  { name: 'ld-linux.so.2 --version', argv: ['/lib/ld-linux.so.2', '--version'] },
  { name: 'ld-linux.so.2 loading a program itself', argv: ['/lib/ld-linux.so.2', BIN('libcwork-i386dyn')] },
  { name: "valgrind's getoff-x86-linux (an i386 PIE)", argv: ['/usr/libexec/valgrind/getoff-x86-linux'] },
];
for (const ce of COMPAT_ENTRIES)
  describe.concurrent(`this machine's i386 programs match their runs here (native, --compat-entry ${ce})`, () => {
    for (const m of MACHINE32)
      it.skipIf(!fs.existsSync(m.argv[0]))(m.name, async () => {
        const c: Case = { name: m.name, args: m.argv.slice(1) };
        const want = oracle(m.argv[0], m.argv[0], c);
        expect(want.status).toBe(0);
        const got = await emulate(m.argv[0], m.argv[0], c, ['--compat-entry', ce]);
        expect(got.stderr).toBe('');
        expect(got.stdout.toString('latin1')).toBe(want.stdout.toString('latin1'));
        expect(got.status).toBe(0);
      });
  });

/*
 * --root for an i386 program: exec takes PT_INTERP's /lib/ld-linux.so.2 from
 * the root, and ld.so its libraries (/lib32, its default path on Debian's
 * multilib) and the program's plug-in ($ORIGIN/lib32: /proc/self/exe's
 * directory, a guest path) from there; the root holds copies of this
 * machine's, so the oracle is the program's own run here. A library missing
 * from the root (but not from this machine) is ld.so's error.
 */
describe('a dynamically linked i386 program in a --root: its interpreter and libraries come from there', () => {
  let root: string;
  const copy = (from: string, to: string) => {
    fs.mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
    fs.copyFileSync(fs.realpathSync(from), path.join(root, to));
  };
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-root32-'));
    copy('/lib/ld-linux.so.2', 'lib/ld-linux.so.2');
    for (const lib of ['libc.so.6', 'libm.so.6']) copy(path.join('/lib32', lib), path.join('lib32', lib));
    for (const prog of ['libcwork-i386dyn', 'libcwork-i386pie', 'dlopen-i386dyn']) copy(BIN(prog), path.join('bin', prog));
    copy(BIN('lib32/libdlplug.so'), 'bin/lib32/libdlplug.so');
    copy(path.join(ROOT, 'test/fixtures/data/words.txt'), 'test/fixtures/data/words.txt');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const inRoot = (prog: string, extra: string[] = []) =>
    spawnSync(process.execPath, [CLI, 'run', '--root', root, ...extra, '--argv0', `/bin/${prog}`, path.join(root, 'bin', prog)], { cwd: root, env: {}, timeout: 300_000 });

  for (const ce of COMPAT_ENTRIES)
    for (const prog of ['libcwork-i386dyn', 'libcwork-i386pie', 'dlopen-i386dyn'])
      it(`${prog} (--compat-entry ${ce})`, () => {
        const want = runOracle(BIN(prog), `/bin/${prog}`, [], { cwd: ROOT });
        expect(want.status).toBe(0);
        const got = inRoot(prog, ['--compat-entry', ce]);
        expect(got.stderr.toString()).toBe('');
        expect(got.stdout.toString('latin1')).toBe(want.stdout.toString('latin1'));
        expect(got.status).toBe(0);
      });

  it('without libm.so.6 in the root (this machine has one), ld.so cannot load the program', () => {
    fs.renameSync(path.join(root, 'lib32/libm.so.6'), path.join(root, 'libm.so.6.away'));
    try {
      const got = inRoot('libcwork-i386dyn');
      expect(got.stdout.toString()).toBe('');
      expect(got.stderr.toString()).toBe('/bin/libcwork-i386dyn: error while loading shared libraries: libm.so.6: cannot open shared object file: No such file or directory\n');
      expect(got.status).toBe(127);
    } finally {
      fs.renameSync(path.join(root, 'libm.so.6.away'), path.join(root, 'lib32/libm.so.6'));
    }
  });
});

describe('UML nommu, which has no compat entries', () => {
  it('--entry nommu says so in one line and runs a 32-bit program through the native compat entries', () => {
    const want = oracle(BIN('hello-i386'), 'prog', { name: 'hello', args: [] });
    const r = spawnSync(process.execPath, [CLI, 'run', '--entry', 'nommu', '--argv0', 'prog', BIN('hello-i386')], { timeout: 60_000 });
    expect(r.stdout.toString('latin1')).toBe(want.stdout.toString('latin1'));
    expect(r.status).toBe(want.status);
    const err = r.stderr.toString();
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/32-bit program.*64-bit only.*--entry native/);
  });

  it('the default entry model runs a 32-bit program without a word', () => {
    const want = oracle(BIN('hello-i386'), 'prog', { name: 'hello', args: [] });
    const r = spawnSync(process.execPath, [CLI, 'run', '--argv0', 'prog', BIN('hello-i386')], { timeout: 60_000 });
    expect(r.stderr.toString()).toBe('');
    expect(r.stdout.toString('latin1')).toBe(want.stdout.toString('latin1'));
    expect(r.status).toBe(want.status);
  });
});

describe('the return each compat entry takes, as trace --path names it (native)', () => {
  const tracePath = (ce: string, prog = BIN('hello-i386')) =>
    spawnSync(process.execPath, [CLI, 'trace', '--no-color', '--path', '--entry', 'native', '--compat-entry', ce, '--argv0', 'prog', prog], { encoding: 'utf8', timeout: 120_000 });

  it('a plain call through the vDSO: SYSENTER in, sysretl out to int80_landing_pad', () => {
    const r = tracePath('sysenter');
    expect(r.stderr).toMatch(/write\(1, "Hello, world!\\n", 14\) = 14\n  ↳ sysenter at 0x[0-9a-f]+ → CPL 3 → 0 through MSR_IA32_SYSENTER_EIP → entry_SYSENTER_compat → do_fast_syscall_32 → __ia32_sys_write → syscall_return_slowpath → SYSRETL checks; pt_regs: orig_ax=4 ip=0x[0-9a-f]+ sp=0x[0-9a-f]+ flags=0x[0-9a-f]+; return: sysretl; \d+ instructions\n/);
  });

  it('SYSCALL from compat mode (the vDSO on an AMD CPU): through MSR_CSTAR, sysretl out', () => {
    const r = tracePath('syscall');
    expect(r.stderr).toMatch(/write\(1, "Hello, world!\\n", 14\) = 14\n  ↳ syscall at 0x[0-9a-f]+ \(compat mode\) → CPL 3 → 0 through MSR_CSTAR → entry_SYSCALL_compat → do_fast_syscall_32 → __ia32_sys_write → .*; return: sysretl;/);
  });

  it('int $0x80: always IRET', () => {
    const r = tracePath('int80');
    expect(r.stderr).toMatch(/write\(1, "Hello, world!\\n", 14\) = 14\n  ↳ int \$0x80 at 0x[0-9a-f]+ → CPL 3 → 0 through IDT gate 0x80 → entry_INT80_compat → do_int80_syscall_32 → __ia32_sys_write → syscall_return_slowpath; .*return: iretq \(int \$0x80: always IRET\);/);
    // glibc's first calls, before its TLS holds AT_SYSINFO, are int $0x80 under every vDSO entry
    expect(tracePath('sysenter').stderr).toMatch(/return: iretq \(int \$0x80: always IRET\)/);
  });

  // Linux 5.8's do_fast_syscall_32 (qemu-i386 does not model a kernel entry, so only the way the program ends can be
  // compared with it): the sixth argument cannot be fetched from the user stack, so the call is not made, -EFAULT, and
  // IRET to int80_landing_pad with that stack pointer, whose first pop faults: SIGSEGV.
  it('SYSENTER with a bad user stack: -EFAULT without the call, IRET, and the landing pad faults (as on the oracle)', () => {
    const r = tracePath('sysenter', BIN('badstack32-i386'));
    expect(r.stderr).toMatch(/getpid\(\) = -1 EFAULT\n  ↳ sysenter at 0x[0-9a-f]+ → CPL 3 → 0 through MSR_IA32_SYSENTER_EIP → entry_SYSENTER_compat → do_fast_syscall_32 → __get_user_4 faulted \(bad_get_user: -EFAULT\); pt_regs: orig_ax=20 ip=0x[0-9a-f]+ sp=0x1000 .*return: iretq \(do_fast_syscall_32: the user stack did not hold ebp: -EFAULT\);/);
    expect(r.stderr).toMatch(/\+\+\+ killed by SIGSEGV: at 0x[0-9a-f]+: reading address 0x1000 \+\+\+/);
    const want = oracle(BIN('badstack32-i386'), 'prog', { name: 'badstack32', args: [] });
    expect(r.stdout).toBe(want.stdout.toString());
    // the oracle dies of SIGSEGV too, on an Intel CPU or under qemu-i386; SYSENTER from compat mode is Intel's, and an
    // AMD CPU answers it with #UD: natively there the oracle dies of SIGILL before any kernel entry
    const amd = oracleKind(busybox32()) === 'native' && /^vendor_id\s*:\s*AuthenticAMD$/m.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    expect(want.signal).toBe(amd ? 'SIGILL' : 'SIGSEGV');
  });
});
