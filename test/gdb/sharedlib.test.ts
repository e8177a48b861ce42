/**
 * gdb's view of a dynamically linked program: the objects ld.so loaded
 * (qXfer:libraries-svr4:read, from its link map), a library dlopened later,
 * and a pending breakpoint in it. The oracle is gdb on the real process: the
 * same session run natively must list the same objects in the same order,
 * each spanning the same .text, and stop in the same function with the same
 * backtrace. Addresses of objects that mmap placed may differ by the vDSO
 * Linux maps and entrystub does not; ld.so's, which exec places, must not.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BIN, gdbBatch, startStub, RawClient } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb') !== null;
const PROG = BIN('dlopen-gcc');

const SESSION = ['set breakpoint pending on', 'break main', 'continue', 'info sharedlibrary', 'break plug_apply', 'continue', 'bt', 'info sharedlibrary', 'kill'];

interface Solib {
  from: number;
  to: number;
  name: string;
}

/** The rows of each `info sharedlibrary` in order (gdb's `target:` prefix for files read through the stub dropped). */
function solibTables(out: string): Solib[][] {
  const tables: Solib[][] = [];
  let cur: Solib[] | null = null;
  for (const l of out.split('\n')) {
    if (/^From\s+To\s+Syms Read/.test(l)) tables.push((cur = []));
    else if (cur !== null) {
      const m = /^(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+\S+(?: \(\*\))?\s+(\S+)$/.exec(l);
      if (m) cur.push({ from: Number(m[1]), to: Number(m[2]), name: m[3].replace(/^target:/, '') });
      else cur = null;
    }
  }
  return tables;
}

const frames = (out: string) => out.split('\n').filter((l) => /^#\d/.test(l)).map((l) => l.replace(/0x[0-9a-f]+ in /, '').replace(/ from target:/, ' from '));

describe.skipIf(!HAVE_GDB)('shared libraries as gdb sees them', () => {
  const native = HAVE_GDB ? spawnSync('gdb', ['-nx', '-batch', '-iex', 'set width 0', ...SESSION.flatMap((c, i) => ['-ex', i === 2 ? 'run' : c]), PROG], { encoding: 'utf8' }).stdout : '';

  for (const entry of ['direct', 'nommu']) {
    it(`${entry}: ld.so and libc.so at main, the dlopened library at its breakpoint, as natively`, async () => {
      const stub = await startStub(['--entry', entry, PROG]);
      try {
        const out = await gdbBatch(stub.port, { file: PROG, ex: SESSION });
        const n = solibTables(native);
        const e = solibTables(out).map((t) => t.filter((s) => !s.name.startsWith('/entrystub/guest/'))); // the guest kernel image: entrystub's own
        expect(n.length).toBe(2);
        expect(e.map((t) => t.map((s) => s.name))).toEqual(n.map((t) => t.map((s) => s.name)));
        expect(e.map((t) => t.map((s) => s.to - s.from))).toEqual(n.map((t) => t.map((s) => s.to - s.from)));
        expect(e[0][0]).toEqual(n[0][0]); // ld.so, where exec put it (AT_BASE)
        expect(n[1].map((s) => s.name).at(-1)).toMatch(/libdlplug\.so$/);
        expect(out).toMatch(/Breakpoint 2, 0x[0-9a-f]+ in plug_apply \(\) from target:\S+libdlplug\.so/);
        expect(frames(out)).toEqual(frames(native));
        expect(frames(out)).toHaveLength(2);
      } finally {
        await stub.stop();
      }
    });
  }

  it('the list is the interpreter alone before ld.so has run, and at main names the program link_map as main-lm', async () => {
    const main = Number.parseInt(/^([0-9a-f]+) T main$/m.exec(spawnSync('nm', [PROG], { encoding: 'utf8' }).stdout)![1], 16) + 0x555555554000;
    const stub = await startStub(['--entry', 'direct', PROG]);
    const c = await RawClient.attach(stub.port);
    try {
      expect(await c.request('qSupported:multiprocess+;swbreak+')).toContain('qXfer:libraries-svr4:read+');
      // at exec ld.so has not filled DT_DEBUG: the one object loaded is ld.so, where exec mapped it (AT_BASE)
      expect(await c.request('qXfer:libraries-svr4:read::0,fff')).toMatch(
        /^l<library-list-svr4 version="1.0"><library name="\/lib64\/ld-linux-x86-64.so.2" lm="0x0" l_addr="0x7ffff7fca000" l_ld="0x[0-9a-f]+" lmid="0x0"\/><\/library-list-svr4>$/,
      );
      expect(await c.request(`Z0,${main.toString(16)},1`)).toBe('OK');
      expect(await c.request('c', 30_000)).toMatch(/^T05/);
      const list = await c.request('qXfer:libraries-svr4:read::0,fff');
      // r_map's order: the program (main-lm), then libc.so as DT_NEEDED names it, then ld.so, whose l_addr is AT_BASE
      expect(list).toMatch(
        /^l<library-list-svr4 version="1.0" main-lm="0x[0-9a-f]+"><library name="\/lib\/x86_64-linux-gnu\/libc.so.6" lm="0x[0-9a-f]+" l_addr="0x[0-9a-f]+" l_ld="0x[0-9a-f]+" lmid="0x0"\/><library name="\/lib64\/ld-linux-x86-64.so.2" lm="0x[0-9a-f]+" l_addr="0x7ffff7fca000" l_ld="0x[0-9a-f]+" lmid="0x0"\/><\/library-list-svr4>$/,
      );
    } finally {
      c.close();
      await stub.stop();
    }
  });
});
