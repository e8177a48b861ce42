/**
 * The host tools the tests drive (real gdb, lldb, qemu, busybox, the
 * compiler...). A test that cannot run is not a test that passed: a missing
 * tool fails the test file that needs it, with the Debian package to install,
 * unless the user opts out with ENTRYSTUB_SKIP_MISSING_TOOLS=1 (the README
 * names it), in which case the tests that need it are skipped and say why.
 * .ci/run installs every package named here.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/** The opt-out: set to 1 to skip, rather than fail, the tests whose tools are missing. */
export const SKIP_MISSING_ENV = 'ENTRYSTUB_SKIP_MISSING_TOOLS';

interface Tool {
  /** The command, looked up on PATH... */
  cmd: string;
  /** ...or, first, one of these files. */
  paths?: string[];
  /** The Debian 12 package that provides it. */
  pkg: string;
}

export const TOOLS = {
  gdb: { cmd: 'gdb', pkg: 'gdb' },
  lldb: { cmd: 'lldb', pkg: 'lldb' },
  qemu: { cmd: 'qemu-x86_64', pkg: 'qemu-user' },
  busybox: { cmd: 'busybox', paths: ['/bin/busybox', '/usr/bin/busybox'], pkg: 'busybox-static' },
  gcc: { cmd: 'gcc', pkg: 'gcc' },
  nm: { cmd: 'nm', pkg: 'binutils' },
  addr2line: { cmd: 'addr2line', pkg: 'binutils' },
  objcopy: { cmd: 'objcopy', pkg: 'binutils' },
  readelf: { cmd: 'readelf', pkg: 'binutils' },
  script: { cmd: 'script', pkg: 'bsdutils' },
  setpriv: { cmd: 'setpriv', pkg: 'util-linux' },
  taskset: { cmd: 'taskset', pkg: 'util-linux' },
  setarch: { cmd: 'setarch', pkg: 'util-linux' },
  chroot: { cmd: 'chroot', paths: ['/usr/sbin/chroot', '/sbin/chroot'], pkg: 'coreutils' },
  bash: { cmd: 'bash', pkg: 'bash' },
  python3: { cmd: 'python3', paths: ['/usr/bin/python3'], pkg: 'python3' },
  go: { cmd: 'go', paths: ['/usr/bin/go', '/usr/lib/go/bin/go'], pkg: 'golang-go' },
  // this machine's i386 ld.so and libraries (libc6-i386, with gcc -m32's), for the dynamically linked i386 programs
  ldso32: { cmd: 'ld-linux.so.2', paths: ['/lib/ld-linux.so.2'], pkg: 'gcc-multilib' },
  // the fixtures' musl builds (test/fixtures/Makefile)
  muslgcc: { cmd: 'musl-gcc', pkg: 'musl-tools' },
} satisfies Record<string, Tool>;

export type ToolName = keyof typeof TOOLS;

const found = new Map<ToolName, string | null>();

function lookup(name: ToolName): string | null {
  if (!found.has(name)) {
    const t: Tool = TOOLS[name];
    let at = t.paths?.find((p) => fs.existsSync(p)) ?? null;
    if (at === null) {
      const r = spawnSync('sh', ['-c', `command -v ${t.cmd}`], { encoding: 'utf8' });
      at = r.status === 0 ? r.stdout.trim() : null;
    }
    found.set(name, at);
  }
  return found.get(name)!;
}

function optedOut(): boolean {
  const v = process.env[SKIP_MISSING_ENV];
  return v !== undefined && v !== '' && v !== '0';
}

/**
 * The path of each tool, for the tests that need them: null only when one is
 * missing and the user opted out (skip the tests); a missing tool otherwise
 * throws, which fails the test file with what to install.
 */
export function need(...names: ToolName[]): string | null {
  const missing = names.filter((n) => lookup(n) === null);
  if (missing.length === 0) return lookup(names[0]);
  const pkgs = [...new Set(missing.map((n) => TOOLS[n].pkg))];
  const what = `${missing.map((n) => TOOLS[n].cmd).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not installed`;
  if (optedOut()) {
    process.stderr.write(`entrystub tests: skipping what needs ${missing.join(', ')}: ${what} (${SKIP_MISSING_ENV} is set)\n`);
    return null;
  }
  throw new Error(`${what}: apt-get install ${pkgs.join(' ')} (or set ${SKIP_MISSING_ENV}=1 to skip the tests that need it)`);
}

/** Like need(), for a privilege: chroot(8) needs root. */
export function needRoot(why: string): boolean {
  if (process.getuid?.() === 0) return true;
  if (optedOut()) {
    process.stderr.write(`entrystub tests: skipping ${why}: not running as root (${SKIP_MISSING_ENV} is set)\n`);
    return false;
  }
  throw new Error(`${why} needs root: run the tests as root (as .ci/run does), or set ${SKIP_MISSING_ENV}=1 to skip them`);
}
