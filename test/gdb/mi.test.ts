/**
 * gdb's machine interface (gdb --interpreter=mi2), as IDE adapters (VS Code
 * cppdbg, Eclipse CDT) drive it: connect, break, continue, read registers
 * and variables, pause a running program (the interrupt byte), run to exit.
 */
import { describe, it, expect } from 'vitest';
import { GDBDEMO, GdbMI, startStub } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb') !== null;

describe.skipIf(!HAVE_GDB)('gdb/MI against entrystub serve', () => {
  it('breakpoint, registers, variables, pause (-exec-interrupt) and exit', async () => {
    const stub = await startStub([GDBDEMO, '1000', 'forever']);
    const mi = new GdbMI();
    try {
      await mi.wait(/\(gdb\)/);
      // as VS Code's and CDT's adapters do: commands are accepted while the program runs
      expect(await mi.cmd('-gdb-set mi-async on')).toBe('done');
      expect(await mi.cmd(`-target-select remote 127.0.0.1:${stub.port}`)).toBe('connected');
      // stopped at the first instruction, in _start, symbols loaded from the stub
      const bp = await mi.cmd('-break-insert add');
      expect(bp).toMatch(/bkpt=\{number="1",type="breakpoint".*func="add",file="gdbdemo\.c".*line="20"/);
      expect(await mi.cmd('-exec-continue')).toBe('running');
      let stop = await mi.wait(/\*stopped,([^\n]*)\n/);
      expect(stop[1]).toMatch(/reason="breakpoint-hit".*bkptno="1".*frame=\{addr="0x[0-9a-f]+",func="add",args=\[\{name="a",value="1"\},\{name="b",value="2"\}\],file="gdbdemo\.c".*line="20"/);
      // registers: gdb numbers them its own way; find ours by name
      const names = JSON.parse(/register-names=(\[.*\])/.exec(await mi.cmd('-data-list-register-names'))![1]) as string[];
      for (const n of ['rax', 'rip', 'eflags', 'fs_base', 'gs_base', 'orig_rax', 'xmm15', 'mxcsr', 'st7', 'fop']) expect(names).toContain(n);
      const rip = names.indexOf('rip'), orig = names.indexOf('orig_rax');
      const regs = await mi.cmd(`-data-list-register-values x ${rip} ${orig}`);
      expect(regs).toMatch(new RegExp(`\\{number="${rip}",value="0x[0-9a-f]+"\\},\\{number="${orig}",value="0xffffffffffffffff"\\}`));
      expect(await mi.cmd('-data-evaluate-expression a+b')).toMatch(/value="3"/);
      const frames = await mi.cmd('-stack-list-frames');
      expect(frames).toMatch(/frame=\{level="0",addr="0x[0-9a-f]+",func="add".*frame=\{level="1",addr="0x[0-9a-f]+",func="main"/);
      await mi.cmd('-break-delete 1');
      // run into the endless loop, then pause it as an IDE's pause button does
      expect(await mi.cmd('-exec-continue')).toBe('running');
      await new Promise((r) => setTimeout(r, 500));
      await mi.cmd('-exec-interrupt');
      stop = await mi.wait(/\*stopped,([^\n]*)\n/, 10_000);
      expect(stop[1]).toMatch(/reason="signal-received",signal-name="SIGINT".*func="main".*file="gdbdemo\.c"/);
      const c1 = await mi.cmd('-data-evaluate-expression counter');
      // and once more: the program ran on between the pauses
      expect(await mi.cmd('-exec-continue')).toBe('running');
      await new Promise((r) => setTimeout(r, 300));
      await mi.cmd('-exec-interrupt');
      await mi.wait(/\*stopped,reason="signal-received",signal-name="SIGINT"/, 10_000);
      const c2 = await mi.cmd('-data-evaluate-expression counter');
      const val = (s: string) => Number(/value="(\d+)"/.exec(s)![1]);
      expect(val(c2)).toBeGreaterThan(val(c1));
      expect(val(c1)).toBeGreaterThan(2000);
      // leave the loop: jump to the end of main, run to the exit
      await mi.cmd('-data-evaluate-expression argc=1');
      await mi.cmd('-exec-jump 34');
      stop = await mi.wait(/\*stopped,([^\n]*)\n/, 10_000);
      expect(stop[1]).toMatch(/reason="exited",exit-code="03"/);
    } finally {
      await mi.quit();
      await stub.stop();
    }
  });
});
