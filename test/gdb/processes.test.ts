/**
 * gdb following what processes load and become: the dynamic linker's link
 * map served as qXfer:libraries-svr4 (so `info sharedlibrary` lists ld.so,
 * libc.so and a dlopened library beside the guest kernel image, and a
 * breakpoint in a library needs no setup), and fork, vfork and exec events
 * (catch fork, catch exec, the children detached as gdb's detach-on-fork
 * does, the new program's symbols after an exec). The oracle is gdb 13
 * itself, on the native run of the same program with the same commands.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { need } from '../helpers/tools.js';
import { BIN, ROOT, gdbBatch, startStub } from './helpers.js';

const HAVE_GDB = need('gdb') !== null;

describe.skipIf(!HAVE_GDB)('gdb and a dynamically linked program', () => {
  for (const entry of [['--entry', 'nommu', '--hook', 'zpoline'], ['--entry', 'native'], ['--entry', 'direct']]) {
    it(`info sharedlibrary lists the link map and the guest kernel; break in a dlopened library (${entry.slice(1).join(' ')})`, async () => {
      const s = await startStub([...entry, BIN('dlopen-gcc')]);
      try {
        const out = await gdbBatch(s.port, {
          ex: ['info sharedlibrary', 'set breakpoint pending on', 'break plug_write', 'continue', 'bt 2', 'info sharedlibrary', 'kill'],
        });
        const [before, after] = out.split(/Breakpoint 1, /);
        // at the first instruction (ld.so's): ld.so has not listed anything yet
        expect(before).not.toMatch(/Yes .*libc\.so\.6/);
        // stopped in the library dlopen loaded (its constructor's first write)
        expect(after).toMatch(/^0x[0-9a-f]+ in plug_write \(\) from target:\S*libdlplug\.so/);
        const libs = after.slice(after.indexOf('Shared Object Library'));
        for (const so of [/target:\/lib64\/ld-linux-x86-64\.so\.2/, /target:\S*\/libc\.so\.6/, /target:\S*\/libdlplug\.so/]) expect(libs).toMatch(new RegExp(`Yes( \\(\\*\\))?\\s+${so.source}`));
        if (entry[1] !== 'direct') expect(libs).toMatch(/Yes {9}target:\/entrystub\/guest\/kernel-(nommu|native)\.elf/);
        expect(out).not.toMatch(/warning: Unable to find dynamic linker breakpoint|Protocol error|Remote failure/);
      } finally {
        await s.stop();
      }
    });
  }
});

/** The lines gdb prints about processes, with pids (native ones differ from entrystub's 1000 on) made N. */
function processLines(out: string, withPlace: boolean): string[] {
  return out
    .split('\n')
    .filter((l) => /^(Catchpoint \d+ \(|\[Detaching after|process \d+ is executing new program|Breakpoint \d+, |\[Inferior 1 )/.test(l))
    .map((l) => l.replace(/process \d+/g, 'process N'))
    .map((l) => (withPlace ? l : l.replace(/^(Catchpoint \d+ \((?:v?forked process N|exec'd [^)]*)\)),.*$/, '$1')));
}

/** gdb running the program natively with the same commands: the oracle. */
function nativeGdb(argv: string[], ex: string[]): string {
  const args = ['-nx', '-batch', '-iex', 'set pagination off', '-iex', 'set width 0'];
  for (const e of ex) args.push('-ex', e === 'continue' && !args.includes('run') ? 'run' : e);
  const r = spawnSync('gdb', [...args, '--args', ...argv], { encoding: 'utf8', cwd: ROOT });
  return r.stdout + r.stderr;
}

describe.skipIf(!HAVE_GDB)('gdb following a shell: fork, vfork and exec events', () => {
  const SH = ['/bin/busybox', 'sh', '-c', 'echo a | tr a b; exec /bin/busybox echo done'];
  const ex = ['catch fork', 'catch exec', 'continue', 'continue', 'continue', 'info registers rip', 'continue'];
  const native = () => nativeGdb(SH, ex);
  for (const entry of [['--entry', 'nommu', '--hook', 'zpoline'], ['--entry', 'native'], ['--entry', 'direct']]) {
    it(`catch fork and catch exec, the children detached (${entry.slice(1).join(' ')})`, async () => {
      const s = await startStub([...entry, ...SH]);
      try {
        const out = await gdbBatch(s.port, { ex });
        const n = native();
        // the guest kernel models stop for a fork in the guest kernel, where the child was made; direct at the user instruction, as natively
        const direct = entry[1] === 'direct';
        expect(processLines(out, direct)).toEqual(processLines(n, direct));
        if (!direct) expect(out).toMatch(/Catchpoint 1 \(forked process 1001\), __x64_sys_clone \(\) at src\/guest\/generated\/syscall_table\.S:\d+/);
        // the exec stop: the new program's first instruction, as natively
        expect(/^rip +0x[0-9a-f]+/m.exec(out)?.[0]).toBe(/^rip +0x[0-9a-f]+/m.exec(n)?.[0]);
        expect(s.stdout()).toBe('b\ndone\n');
      } finally {
        await s.stop();
      }
    });
  }

  it('after exec, the new program\'s symbols and libraries: break main in a dynamically linked program the shell exec\'d', async () => {
    const argv = ['/bin/busybox', 'sh', '-c', `exec ${BIN('hello-gcc')}`];
    const ex2 = ['catch exec', 'continue', 'break main', 'continue', 'info sharedlibrary', 'continue'];
    const s = await startStub(['--entry', 'nommu', ...argv]);
    try {
      const out = await gdbBatch(s.port, { ex: ex2 });
      const n = nativeGdb(argv, ex2);
      expect(processLines(out, true).map((l) => l.replace(/target:/g, ''))).toEqual(processLines(n, true));
      expect(out).toMatch(/Breakpoint 2, 0x[0-9a-f]+ in main \(\)/);
      expect(out).toMatch(/Yes( \(\*\))?\s+target:\S*\/libc\.so\.6/);
    } finally {
      await s.stop();
    }
  });
});
