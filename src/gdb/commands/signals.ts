/**
 * Settings gdb makes once and the target keeps for every process:
 * QPassSignals:sig;sig... (signals delivered without a stop: `handle SIG
 * nostop noprint pass`), QProgramSignals (accepted: the target delivers
 * every signal gdb resumes with), and QCatchSyscalls:1[;nr...] / :0, which
 * gdb sends before every resume and clears after every stop; those stops
 * are reported as `T05syscall_entry:NR;` and `T05syscall_return:NR;`.
 */
import { fromGdbSignal } from '../signals.js';
import { command, E_INVAL, OK, type Command } from './command.js';

export const signalCommands: Command[] = [
  command({
    name: 'QPassSignals:',
    schema: 'l*;',
    cap: (t) => t.passSignals,
    process: false,
    handler: ([sigs], _cx, ps) => {
      ps.setPass(new Set(sigs.map(fromGdbSignal).filter((s) => s !== 0)));
      return OK;
    },
  }),
  command({ name: 'QProgramSignals:', schema: 'l*;', cap: (t) => t.passSignals, process: false, handler: () => OK }),
  command({
    name: 'QCatchSyscalls:',
    schema: 'l*;',
    cap: (t) => t.catchSyscalls,
    process: false,
    handler: ([[on, ...nrs]], _cx, cs) => {
      if (on === 0 && nrs.length === 0) cs.setCatch(null);
      else if (on === 1) cs.setCatch(nrs.length === 0 ? 'all' : new Set(nrs));
      else return E_INVAL;
      return OK;
    },
  }),
];
