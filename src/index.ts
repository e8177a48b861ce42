/**
 * entrystub as a library (package.json's `main`): what the CLI is built
 * from, for a program of your own. Run a program to its end:
 *
 *     import { Machine, EXAMPLE } from 'entrystub';
 *     const m = new Machine({ program: EXAMPLE, argv: ['example'], env: [] });
 *     m.load();                 // throws ExecError for a file it cannot run
 *     const end = m.runToEnd(); // { kind: 'exited', code } or { kind: 'killed', signal, message }
 *
 * or in slices (`m.run(budget)` returns a Stop, or null when the budget ran
 * out), with `m.onPath` and `attachTrace` for what `entrystub trace` shows;
 * or serve it to gdb as `entrystub serve` does:
 *
 *     await serve({ prog: EXAMPLE, args: [], host: '127.0.0.1', port: 1234, stdio: false, multi: false });
 */
import { hostPhysmem } from './kernel/kernel.js';
import { defaultMemLimit } from './kernel/physmem.js';

export { Machine, type MachineOptions, type PathInfo, type Stop } from './machine/machine.js';
export { formatStats } from './machine/stats.js';
export { serve, type ServeOptions } from './gdb/serve.js';
export { attachTrace, type TraceOptions } from './trace.js';
export { ExecError, explainExecError } from './kernel/loader.js';
export { DEFAULT_ENTRY, ENTRY_MODELS } from './entry/index.js';
export { EXAMPLE } from './example.js';

/**
 * The machine's memory, shared by every Machine of this process (the CLI's
 * --mem-limit): bytes of guest pages the programs may touch before the one
 * that crosses it is killed, as by Linux's OOM killer. Importing the library
 * sets the CLI's default (2 GiB, less under a host `ulimit -v`).
 */
export function setMemLimit(bytes: number = defaultMemLimit()): void {
  hostPhysmem.limit = bytes;
}

setMemLimit();
