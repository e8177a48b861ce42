/**
 * Extended remote (`target extended-remote`, `entrystub serve --multi`):
 * ! enables it; vRun starts a program (killing the current one), R
 * restarts the last one, vAttach takes over the program when it was
 * detached. Without --multi these get an empty reply. vKill ends the
 * program in plain remote mode too (gdb kills with it when multiprocess
 * was negotiated); a pid that is not the program's is an error.
 */
import type { Target } from '../target.js';
import { command, E_GENERIC, OK, type Command } from './command.js';
import { NO_REPLY } from './context.js';

const extended = (t: Target) => t.extended;

export const extendedCommands: Command[] = [
  command({ name: '!', schema: '', cap: extended, process: false, handler: () => OK }),
  command({ name: 'vRun;', schema: 'h*;', cap: extended, process: false, handler: ([argv], cx) => cx.program.run(argv) }),
  command({
    name: 'R',
    schema: 'S',
    cap: extended,
    process: false,
    handler: (_a, cx) => {
      cx.program.restart();
      return NO_REPLY;
    },
  }),
  command({
    name: 'vAttach;',
    schema: 'l',
    cap: extended,
    handler: ([pid], cx) => {
      if (pid !== cx.target.pid) return E_GENERIC;
      cx.program.attach();
      return cx.stopReply(cx.program.lastStop);
    },
  }),
  command({
    name: 'vKill;',
    schema: 'l',
    cap: (t: Target) => t,
    handler: ([pid], cx) => {
      const procs = cx.target.processes;
      if (procs && procs.count() > 1) return procs.kill(pid) ? OK : E_GENERIC;
      if (pid !== cx.target.pid && !cx.target.threads?.list().some((t) => t.pid === pid)) return E_GENERIC;
      cx.program.kill();
      return OK;
    },
  }),
];
