/**
 * gdb following what processes load and become: the dynamic linker's link
 * map served as qXfer:libraries-svr4 (so `info sharedlibrary` lists ld.so,
 * libc.so and a dlopened library beside the guest kernel image, and a
 * breakpoint in a library needs no setup). The oracle is gdb 13 itself:
 * the libraries and addresses it prints are the ones the program's own
 * /proc/self/maps gives (the loader places them as Linux does, with
 * randomization off).
 */
import { describe, expect, it } from 'vitest';
import { need } from '../helpers/tools.js';
import { BIN, gdbBatch, startStub } from './helpers.js';

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
