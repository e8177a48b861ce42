/**
 * entrystub installed as a user installs it, used where a user uses it: the
 * package `npm pack` makes (from a copy of the checkout, so that packing's
 * rebuild of dist/ leaves the other tests' alone) is installed into a
 * scratch prefix, and everything below runs in a scratch directory outside
 * the checkout: the installed `entrystub` runs the bundled example (whose
 * native run is the oracle), gdb connected to the installed stub lists the
 * guest kernel's source with nothing typed but `list` (the file gdb reads
 * is the installed package's), and the library API (package.json's `main`)
 * runs a program and serves one to gdb.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE, ROOT } from './gdb/helpers.js';
import { need } from './helpers/tools.js';

const HAVE_GDB = need('gdb') !== null;

/** What the package must hold (package.json `files`) to run, to be debugged from source, and to show its example. */
const SHIPPED = [
  'dist/bin/entrystub.cjs',
  'dist/cli.js',
  'dist/index.js',
  'dist/index.d.ts',
  'src/guest/entry_nommu.S',
  'src/guest/entry_64.S',
  'src/guest/zpoline.S',
  'src/guest/syscall.c',
  'src/guest/image/kernel-nommu.elf',
  'src/guest/image/kernel-native.elf',
  'gdb-scripts/entrystub.py',
  'examples/example-musl',
  'examples/example.c',
  'examples/Makefile',
];

let tmp = '';
let prefix = '';
let pkgDir = '';
let bin = '';
let scratch = '';
let packed: string[] = [];

function sh(cmd: string, args: string[], cwd: string, timeout = 300_000): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-install-')));
  // the checkout's files as git has them (no dist/, no node_modules), and its dev tools
  const copy = path.join(tmp, 'checkout');
  fs.mkdirSync(copy);
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'src', 'scripts', 'gdb-scripts', 'examples', 'docs'])
    fs.cpSync(path.join(ROOT, f), path.join(copy, f), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  const out = sh('npm', ['pack', '--json', '--pack-destination', tmp], copy);
  const info = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  packed = info[0].files.map((f) => f.path);
  prefix = path.join(tmp, 'prefix');
  // the dependencies come from npm's cache when `npm ci` filled it (CI), else from the registry
  sh('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', path.join(tmp, info[0].filename)], tmp);
  pkgDir = path.join(prefix, 'lib', 'node_modules', 'entrystub');
  bin = path.join(prefix, 'bin', 'entrystub');
  scratch = path.join(tmp, 'scratch');
  fs.mkdirSync(scratch);
}, 600_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the package', () => {
  it('holds what runs, the guest kernel sources and images, the gdb scripts and the example; not the tests', () => {
    for (const f of SHIPPED) expect(packed, f).toContain(f);
    expect(packed.filter((f) => f.startsWith('test/'))).toEqual([]);
    expect(packed.filter((f) => f.endsWith('.map'))).toEqual([]);
    // what is installed is what was packed
    for (const f of SHIPPED) expect(fs.existsSync(path.join(pkgDir, f)), f).toBe(true);
    expect(fs.realpathSync(bin)).toBe(path.join(pkgDir, 'dist', 'bin', 'entrystub.cjs'));
  });

  it('the installed entrystub runs the bundled example from a directory outside the checkout, as the real machine does', () => {
    const native = spawnSync(EXAMPLE, [], { encoding: 'utf8', cwd: scratch });
    const r = spawnSync(bin, ['run'], { encoding: 'utf8', cwd: scratch });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(native.stdout);
    expect(r.status).toBe(native.status);
    // the example it ran is the installed one
    const t = spawnSync(bin, ['trace'], { encoding: 'utf8', cwd: scratch });
    expect(t.stderr).toMatch(/^kill\(1000, 10\) = 0$/m);
    expect(fs.readFileSync(path.join(pkgDir, 'examples', 'example-musl')).equals(fs.readFileSync(EXAMPLE))).toBe(true);
  });
});

/** `entrystub serve --port 0 ARGS` from the installed package, in the scratch directory; resolves with its port. */
async function installedStub(args: string[], cmd = [bin]): Promise<{ port: number; proc: ChildProcess; exited: Promise<number | null> }> {
  const proc = spawn(cmd[0], [...cmd.slice(1), ...args], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the stub did not start: ${err}`)), 60_000);
    proc.stderr!.on('data', (d) => {
      err += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    proc.on('exit', (code) => reject(new Error(`the stub exited ${code}: ${err}`)));
  });
  return { port, proc, exited };
}

function gdb(port: number, ex: string[]): string {
  const args = ['-nx', '-batch', '-iex', 'set pagination off', '-ex', `target remote 127.0.0.1:${port}`, ...ex.flatMap((e) => ['-ex', e]), '-ex', 'kill'];
  const r = spawnSync('gdb', args, { cwd: scratch, encoding: 'utf8', timeout: 120_000 });
  return r.stdout + r.stderr;
}

/**
 * The `N<TAB>text` lines gdb's `list` printed of file, each against line N of
 * it. A name that is also declared elsewhere (syscall.c's extern
 * entry_SYSCALL_64, for the MSR) makes gdb list each place under a
 * `file: "...", line number: N` header: only file's block counts.
 */
function listedLines(out: string, file: string): [number, string][] {
  const blocks = out.split(/^file: "/m);
  const mine = blocks.length === 1 ? out : (blocks.find((b) => b.startsWith(`src/guest/${file}"`)) ?? '');
  return [...mine.matchAll(/^(\d+)\t(.*)$/gm)].map((m) => [Number(m[1]), m[2]]);
}

describe.skipIf(!HAVE_GDB)('gdb against the installed stub, from a directory outside the checkout', () => {
  for (const [entry, symbol, file] of [
    ['nommu', '__kernel_vsyscall', 'entry_nommu.S'],
    ['native', 'entry_SYSCALL_64', 'entry_64.S'],
  ] as const) {
    it(`${entry}: \`list ${symbol}\` prints src/guest/${file} from the installed package`, async () => {
      const stub = await installedStub(['serve', '--port', '0', '--entry', entry]);
      const out = gdb(stub.port, [`list ${symbol}`, 'info source']);
      await stub.exited;
      expect(out).not.toMatch(/No such file or directory|more recent than executable/);
      const lines = listedLines(out, file);
      expect(lines.length, out).toBeGreaterThanOrEqual(5);
      // the oracle: the source file itself, as the package ships it
      const source = fs.readFileSync(path.join(pkgDir, 'src', 'guest', file), 'utf8').split('\n');
      for (const [n, text] of lines) expect(text, `${file}:${n}`).toBe(source[n - 1]);
      // around the symbol's first instruction, a few lines below its label
      const label = source.indexOf(`${symbol}:`) + 1;
      expect(label, `${symbol}: in ${file}`).toBeGreaterThan(0);
      expect(lines.some(([n]) => n > label && n <= label + 10), `${symbol} is at ${file}:${label}`).toBe(true);
      // and gdb read it from where entrystub is installed, not from the checkout
      // (info source names the last file listed: syscall.c after an ambiguous list, from the package too)
      expect(out).toMatch(new RegExp(`Located in ${path.join(pkgDir, 'src', 'guest').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(${file}|syscall\\.c)\\n`));
    });
  }

  it('the library: Machine runs the bundled example, serve serves it to gdb', async () => {
    fs.mkdirSync(path.join(scratch, 'node_modules'), { recursive: true });
    fs.rmSync(path.join(scratch, 'node_modules', 'entrystub'), { force: true });
    fs.symlinkSync(pkgDir, path.join(scratch, 'node_modules', 'entrystub'));
    const run = path.join(scratch, 'run.mjs');
    fs.writeFileSync(
      run,
      [
        "import { Machine, EXAMPLE } from 'entrystub';",
        "const m = new Machine({ program: EXAMPLE, argv: ['example'], env: [] });",
        'm.load();',
        'const end = m.runToEnd();',
        "process.stderr.write(JSON.stringify({ kind: end.kind, code: end.code, example: EXAMPLE }) + '\\n');",
      ].join('\n'),
    );
    const native = spawnSync(EXAMPLE, [], { encoding: 'utf8' });
    const r = spawnSync(process.execPath, [run], { cwd: scratch, encoding: 'utf8' });
    expect(r.stdout).toBe(native.stdout);
    expect(JSON.parse(r.stderr)).toEqual({ kind: 'exited', code: 0, example: path.join(pkgDir, 'examples', 'example-musl') });

    const srv = path.join(scratch, 'serve.mjs');
    fs.writeFileSync(
      srv,
      [
        "import { serve, EXAMPLE } from 'entrystub';",
        "const code = await serve({ prog: EXAMPLE, args: [], host: '127.0.0.1', port: 0, stdio: false, multi: false, log: (m) => process.stderr.write(m + '\\n') });",
        'process.exit(code);',
      ].join('\n'),
    );
    const stub = await installedStub([srv], [process.execPath]);
    const out = gdb(stub.port, ['break __kernel_vsyscall', 'continue', 'info symbol $pc', 'delete', 'handle SIGUSR1 nostop noprint', 'continue']);
    expect(out).toMatch(/Breakpoint 1, __kernel_vsyscall \(\) at src\/guest\/entry_nommu\.S:\d+/);
    expect(out).toMatch(/__kernel_vsyscall in section \.text of target:\/entrystub\/guest\/kernel-nommu\.elf/);
    expect(out).toMatch(/\[Inferior 1 \(process 1000\) exited normally\]/);
    expect(await stub.exited).toBe(0);
  });
});
