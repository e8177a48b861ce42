/**
 * Dynamically linked programs: this machine's own (coreutils, python3 with
 * extension modules and ctypes) against their native runs, in every entry
 * configuration; the addresses exec gives (the program, the interpreter, the
 * heap, the stack, the auxiliary vector) against the native run under
 * `setarch -R`; a dynamic program in a --root against chroot(8); and the
 * syscalls made from inside libc.so and from a dlopened library, followed
 * through __kernel_vsyscall. The oracle is the native run, at test time.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Machine } from '../src/machine/machine.js';
import type { NommuEntry } from '../src/entry/nommu.js';
import { CLI, ROOT, runGuest } from './helpers/cases.js';
import { CONFIGS } from './helpers/configs.js';
import { need, needRoot } from './helpers/tools.js';

const BIN = (n: string) => path.join(ROOT, 'test/fixtures/bin', n);
// python3 and its extension modules, setarch(8) for the addresses, chroot(8) (as root) for --root
const HAVE_TOOLS = need('python3', 'gcc', 'setarch', 'chroot') !== null;
const CHROOT = need('chroot') ?? 'chroot';
const IS_ROOT = HAVE_TOOLS && needRoot('chroot(8)');
const DATA = (n: string) => path.join('test/fixtures/data', n);

interface Run {
  stdout: string;
  stderr: string;
  status: number | null;
}

function native(argv: string[], env: Record<string, string> = {}, cwd = ROOT): Run {
  const r = spawnSync(argv[0], argv.slice(1), { env, cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** entrystub's arguments that run argv as this machine would (argv[0] as given). */
const runArgs = (argv: string[], opts: string[]): string[] => ['run', '--quiet', ...opts, '--argv0', argv[0], ...argv];

function emulated(argv: string[], opts: string[] = [], env: Record<string, string> = {}, cwd = ROOT): Run {
  const r = spawnSync(process.execPath, [CLI, ...runArgs(argv, opts)], {
    env,
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 300_000,
  });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

// ls -l of files whose dates (and sizes, modes, a symlink) are fixed, so that the listing is the same on every run
let lsDir: string;
beforeAll(() => {
  lsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-ls-'));
  fs.writeFileSync(path.join(lsDir, 'notes.txt'), 'some notes\n');
  fs.writeFileSync(path.join(lsDir, 'empty'), '');
  fs.writeFileSync(path.join(lsDir, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  fs.mkdirSync(path.join(lsDir, 'sub'));
  fs.symlinkSync('notes.txt', path.join(lsDir, 'link'));
  const touch = (f: string, when: string) => {
    const r = spawnSync('touch', ['-h', '-d', when, path.join(lsDir, f)]);
    expect(r.status).toBe(0);
  };
  touch('notes.txt', '2021-03-04 05:06:07');
  touch('empty', '1999-12-31 23:59:59');
  touch('run.sh', '2024-02-29 12:00:00');
  touch('sub', '2010-07-01 00:00:00');
  touch('link', '2015-05-05 05:05:05');
});
afterAll(() => fs.rmSync(lsDir, { recursive: true, force: true }));

const PY_HASH_JSON =
  'import hashlib, json\n' +
  'print(hashlib.sha256(b"entrystub").hexdigest())\n' +
  'print(hashlib.md5(b"abc").hexdigest(), hashlib.sha1(b"").hexdigest())\n' +
  'print(json.dumps({"b": [1, 2.5, None, True], "a": "x\\u00e9", "n": {"k": -1}}, sort_keys=True))\n' +
  'print(json.loads(\'{"z": [1, {"y": 2}]}\')["z"][1]["y"])';
const PY_CTYPES =
  'import ctypes\n' +
  'libc = ctypes.CDLL("libc.so.6")\n' +
  'print(libc.strlen(b"hello, world"), libc.abs(-42))\n' +
  'buf = ctypes.create_string_buffer(32)\n' +
  'libc.snprintf(buf, 32, b"%d-%s", 7, b"seven")\n' +
  'print(buf.value)\n' +
  'CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))\n' +
  'a = (ctypes.c_int * 5)(5, 1, 4, 2, 3)\n' +
  'libc.qsort(a, 5, 4, CMP(lambda x, y: x[0] - y[0]))\n' +
  'print(list(a))';

/** Programs of this machine, their arguments (paths relative to the repository root), and the environment. */
const PROGRAMS: { name: string; argv: () => string[]; env?: Record<string, string> }[] = [
  { name: 'true', argv: () => ['/bin/true'] },
  { name: 'env', argv: () => ['/usr/bin/env'], env: { A: '1', B: 'two words', EMPTY: '' } },
  { name: 'cat', argv: () => ['/bin/cat', DATA('a.txt'), DATA('b.txt')] },
  { name: 'sort', argv: () => ['/usr/bin/sort', '-u', DATA('dups.txt')] },
  { name: 'sha256sum', argv: () => ['/usr/bin/sha256sum', DATA('words.txt'), DATA('small.bin')] },
  { name: 'ls', argv: () => ['/bin/ls', '--color=never', DATA('')] },
  { name: 'ls -l', argv: () => ['/bin/ls', '-l', '--color=never', '--time-style=long-iso', lsDir] },
  { name: 'ls -la --full-time', argv: () => ['/bin/ls', '-la', '--color=never', '--full-time', path.join(lsDir, 'sub'), path.join(lsDir, 'notes.txt')] },
  { name: 'python3 hashlib, json', argv: () => ['/usr/bin/python3', '-c', PY_HASH_JSON] },
  { name: 'python3 ctypes', argv: () => ['/usr/bin/python3', '-c', PY_CTYPES] },
  // the gcc driver: it forks and execs cc1 (a large dynamic program) and reads its output back
  { name: 'gcc -S (the driver running cc1)', argv: () => ['/usr/bin/gcc', '-O2', '-S', '-o', '-', 'test/fixtures/src/hello.c'] },
  // fork, exec of dynamic programs, pipes: bash's $(...) and a pipeline into coreutils' cat
  { name: 'bash pipeline and $(...)', argv: () => ['/bin/bash', '-c', 'a=$(echo x); echo $a | cat; b=$(ls ' + DATA('') + ' | sort -r | head -n 2); echo "$b"; echo ${PIPESTATUS[@]}'] },
];

for (const cfg of CONFIGS) {
  describe.concurrent(`dynamically linked programs of this machine match their native runs (${cfg.name})`, () => {
    for (const p of PROGRAMS) {
      it(p.name, async () => {
        const argv = p.argv();
        const n = native(argv, p.env);
        expect(n.status).toBe(0);
        // asynchronous, so that the concurrent cases' runs overlap (python3 and the gcc driver take seconds each)
        const e = await runGuest(runArgs(argv, cfg.args), { cwd: ROOT, env: p.env ?? {}, input: Buffer.alloc(0) });
        expect(e.stdout.toString('utf8')).toBe(n.stdout);
        expect(e.code).toBe(n.status);
      }, 300_000); // the gcc driver and python3, five at once on a loaded machine
    }
  });
}

/** The auxv block LD_SHOW_AUXV prints for the program (the last one: setarch and node print their own first). */
function shownAuxv(out: string): Map<string, string> {
  const blocks = out.split(/(?=^AT_SYSINFO_EHDR:|^AT_MINSIGSTKSZ:)/m).filter((b) => b.includes('AT_ENTRY'));
  const last = blocks[blocks.length - 1] ?? '';
  return new Map(last.split('\n').filter(Boolean).map((l) => [l.split(':')[0], l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
}

/** The auxv of /bin/true run natively without randomization. */
const nativeAuxv = () => shownAuxv(native(['setarch', '-R', '/bin/true'], { LD_SHOW_AUXV: '1' }).stdout);

describe('addresses as Linux gives them without randomization (setarch -R)', () => {
  it('the auxiliary vector: the program, the interpreter, the strings on the stack', () => {
    const env = { LD_SHOW_AUXV: '1' };
    const n = nativeAuxv();
    const e = shownAuxv(emulated(['/bin/true'], [], env).stdout);
    for (const k of ['AT_PHDR', 'AT_PHENT', 'AT_PHNUM', 'AT_PAGESZ', 'AT_CLKTCK', 'AT_BASE', 'AT_FLAGS', 'AT_ENTRY', 'AT_UID', 'AT_EUID', 'AT_GID', 'AT_EGID', 'AT_SECURE', 'AT_RANDOM', 'AT_EXECFN', 'AT_PLATFORM'])
      expect([k, e.get(k)]).toEqual([k, n.get(k)]);
    expect(e.get('AT_PHDR')).toBe('0x555555554040'); // a PIE at ELF_ET_DYN_BASE, as natively
    // entrystub's own: no vDSO for 64-bit programs, AT_HWCAP and AT_HWCAP2 from the emulated CPUID (which has no
    // FSGSBASE: no HWCAP2_FSGSBASE, which this machine's kernel gives where its CPU has it), the frame of its fxsave-only FPU
    expect(e.has('AT_SYSINFO_EHDR')).toBe(false);
    expect(e.get('AT_HWCAP')).toBe('788a931');
    expect(e.get('AT_HWCAP2')).toBe('0x0');
    expect(e.get('AT_MINSIGSTKSZ')).toBe('1040');
  });

  /** The lines of /proc/self/maps that do not depend on the CPU's features or on the vDSO: the program, ld.so, the heap, the stack. */
  const stable = (maps: string, prog: string) =>
    maps
      .split('\n')
      .filter((l) => l.endsWith(prog) || l.includes('/ld-linux-x86-64.so.2') || l.endsWith('[heap]') || l.endsWith('[stack]'));

  it('/proc/self/maps: a PIE at 0x555555554000, ld.so under mmap_base, the heap after the bss', () => {
    const n = stable(native(['setarch', '-R', '/bin/cat', '/proc/self/maps']).stdout, '/usr/bin/cat');
    const e = stable(emulated(['/bin/cat', '/proc/self/maps']).stdout, '/usr/bin/cat');
    expect(n.length).toBe(12);
    expect(e).toEqual(n);
  });

  it('ld.so run as the program (ET_DYN without an interpreter): mapped top-down, its brk at ELF_ET_DYN_BASE', () => {
    const argv = ['/lib64/ld-linux-x86-64.so.2', '/bin/cat', '/proc/self/maps'];
    const n = native(['setarch', '-R', ...argv]).stdout;
    const e = emulated(argv).stdout;
    const ldso = (maps: string) => maps.split('\n').filter((l) => l.includes('/ld-linux-x86-64.so.2') || l.endsWith('[heap]'));
    expect(ldso(n).length).toBe(6);
    expect(ldso(e)).toEqual(ldso(n));
    // ld.so mapped cat itself (mmap of a file at offsets): the same segments, 32 KiB higher where Linux put the vDSO
    const cat = (maps: string) => maps.split('\n').filter((l) => l.endsWith('/usr/bin/cat')).map((l) => l.replace(/^\S+ /, ''));
    expect(cat(e)).toEqual(cat(n));
  });
});

describe.skipIf(!IS_ROOT)('a dynamic program in a --root: its interpreter and libraries come from there', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-dynroot-'));
    const copy = (from: string, to: string) => {
      fs.mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
      fs.copyFileSync(fs.realpathSync(from), path.join(root, to));
      fs.chmodSync(path.join(root, to), 0o755);
    };
    copy('/lib64/ld-linux-x86-64.so.2', 'lib64/ld-linux-x86-64.so.2');
    copy('/lib/x86_64-linux-gnu/libc.so.6', 'lib/x86_64-linux-gnu/libc.so.6');
    copy(BIN('hello-gcc'), 'bin/hello-gcc');
    copy(BIN('dlopen-gcc'), 'bin/dlopen-gcc');
    copy(BIN('libdlplug.so'), 'bin/libdlplug.so');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  // (LD_LIBRARY_PATH, not its RUNPATH $ORIGIN: under chroot(8) there is no /proc for ld.so to find its directory in)
  for (const [prog, env] of [['hello-gcc', {}], ['dlopen-gcc', { LD_LIBRARY_PATH: '/bin' }]] as const) {
    it(`${prog} under --root as under chroot(8)`, () => {
      const n = spawnSync(CHROOT, [root, `/bin/${prog}`], { encoding: 'utf8', env, cwd: '/' });
      expect(n.status).toBe(0);
      const e = spawnSync(process.execPath, [CLI, 'run', '--quiet', '--root', root, '--argv0', `/bin/${prog}`, path.join(root, 'bin', prog)], { encoding: 'utf8', env, cwd: '/' });
      expect(e.stdout).toBe(n.stdout);
      expect(e.status).toBe(0);
    });
  }
});

describe('syscalls from libc.so and from a dlopened library go through __kernel_vsyscall', () => {
  /** Run dlopen-gcc in-process; for each trip, the object (by the mapping's file name) whose instruction entered. */
  function trips(hook: string) {
    const devnull = fs.openSync('/dev/null', 'w');
    const m = new Machine({ program: BIN('dlopen-gcc'), argv: ['prog'], env: [], stdout: devnull, warn: () => {}, entry: 'nommu', hook, cwd: ROOT });
    m.load();
    const seen: { nr: number; object: string; via: string; steps: string[] }[] = [];
    m.onPath = (p) => {
      const at = Number(/ at (0x[0-9a-f]+)/.exec(p.via)?.[1]);
      const object = path.basename(m.proc.mm.vmaAt(at)?.name ?? '?');
      seen.push({ nr: p.nr, object, via: p.via, steps: p.steps });
    };
    const end = m.runToEnd();
    fs.closeSync(devnull);
    expect(end).toEqual({ kind: 'exited', code: 0, tid: m.leader.pid });
    return { m, seen };
  }

  for (const hook of ['zpoline', 'lazy', 'seccomp']) {
    it(hook, () => {
      const { m, seen } = trips(hook);
      // dlplug.c: constructor, report and destructor, twice: 6 writes with the library's own `syscall`
      const fromPlug = seen.filter((t) => t.object === 'libdlplug.so');
      expect(fromPlug.map((t) => t.nr)).toEqual([1, 1, 1, 1, 1, 1]);
      // the program's printf: writes from libc.so; ld.so's loading of the library: openat and mmap from ld.so
      expect(seen.filter((t) => t.object === 'libc.so.6' && t.nr === 1).length).toBe(7);
      expect(seen.some((t) => t.object === 'ld-linux-x86-64.so.2' && t.nr === 257)).toBe(true);
      expect(seen.some((t) => t.object === 'ld-linux-x86-64.so.2' && t.nr === 9)).toBe(true);
      for (const t of [...fromPlug, ...seen.filter((x) => x.object === 'libc.so.6')]) {
        expect(t.steps).toContain('__kernel_vsyscall');
        expect(t.steps).toContain('do_syscall_64');
      }
      if (hook === 'zpoline') {
        // rewritten as ld.so mapped the library, before it ran: every trip came by call *%rax, none bypassed
        for (const t of fromPlug) expect(t.via).toMatch(/^call \*%rax at 0x[0-9a-f]+ → sled \+1$/);
        expect((m.model as NommuEntry).missed.size).toBe(0);
      }
      if (hook === 'lazy') expect(fromPlug.some((t) => /trapped, rewritten/.test(t.via))).toBe(true);
    });
  }
});

describe('the link map a debugger starts from', () => {
  it('the program and ld.so where exec put them, and r_debug once ld.so has run', () => {
    const devnull = fs.openSync('/dev/null', 'w');
    const m = new Machine({ program: BIN('dlopen-gcc'), argv: ['prog'], env: [], stdout: devnull, warn: () => {}, cwd: ROOT });
    m.load();
    const before = m.linkMap();
    expect(before.program.bias).toBe(0x555555554000);
    expect(before.interp?.path).toBe(fs.realpathSync('/lib64/ld-linux-x86-64.so.2'));
    const ldsoBase = Number(nativeAuxv().get('AT_BASE'));
    expect(before.interp?.base).toBe(ldsoBase);
    expect(before.rDebug).toBeNull(); // ld.so has not run yet
    // stopped at exit_group, while the process and its address space still are
    m.catchSyscalls = new Set([231]);
    let stop = null;
    while (stop === null || stop.kind === 'blocked') stop = m.run(1_000_000);
    expect(stop).toMatchObject({ kind: 'syscall-entry', nr: 231 });
    fs.closeSync(devnull);
    const after = m.linkMap();
    expect(after.rDebug).not.toBeNull();
    // struct r_debug { int r_version; struct link_map *r_map; ... }; link_map { l_addr, l_name, l_ld, l_next, l_prev }
    const word = (a: number) => {
      const b = new Uint8Array(8);
      m.mem.peek(a, b);
      return Number(new DataView(b.buffer).getBigUint64(0, true));
    };
    const str = (a: number) => {
      const b = new Uint8Array(256);
      m.mem.peek(a, b);
      return new TextDecoder().decode(b.subarray(0, b.indexOf(0)));
    };
    expect(word(after.rDebug!) & 0xffffffff).toBe(1);
    const names: string[] = [];
    const bases: number[] = [];
    for (let lm = word(after.rDebug! + 8), k = 0; lm !== 0 && k < 20; lm = word(lm + 24), k++) {
      bases.push(word(lm));
      names.push(str(word(lm + 8)));
    }
    expect(names[0]).toBe(''); // the program
    expect(bases[0]).toBe(0x555555554000);
    expect(names).toContain('/lib/x86_64-linux-gnu/libc.so.6');
    expect(bases[names.indexOf('/lib64/ld-linux-x86-64.so.2')]).toBe(ldsoBase);
  });
});
