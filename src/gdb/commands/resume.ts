/**
 * Resuming: vCont (c, C, s, S, r range stepping, t), and the older c/s/C/S
 * with an optional address. Every resume ends in a stop reply sent by the
 * session when the target stops.
 */
import type { VContAction } from '../schema.js';
import { fromGdbSignal } from '../signals.js';
import type { ResumeAction, Target } from '../target.js';
import { command, E_INVAL, OK, type Command } from './command.js';
import type { PacketContext, Reply } from './context.js';
import { namesThread } from './threads.js';

const exec = (t: Target) => t.execution;

/** vCont;action[:thread];... — the first action naming our thread (or all threads) applies. */
function vCont(actions: VContAction[], cx: PacketContext): Reply {
  const pid = cx.target.pid;
  if (pid === null) return E_INVAL;
  for (const a of actions) {
    if (a.thread && !namesThread(a.thread, pid, pid, true)) continue;
    switch (a.op) {
      case 't':
        return OK; // all-stop: the thread is already stopped
      case 'c':
      case 's':
        return { resume: { kind: a.op === 'c' ? 'continue' : 'step', signal: 0 } };
      case 'C':
      case 'S':
        return { resume: { kind: a.op === 'C' ? 'continue' : 'step', signal: fromGdbSignal(a.signal) } };
      case 'r':
        if (!cx.target.execution.rangeStep) return E_INVAL;
        return { resume: { kind: 'range', signal: 0, start: a.start, end: a.end } };
    }
  }
  return OK; // no action for our thread: it stays stopped
}

const resume = (kind: 'continue' | 'step', signal = 0, addr?: number): Reply => {
  const a: ResumeAction = { kind, signal };
  if (addr !== undefined) a.addr = addr;
  return { resume: a };
};

export const resumeCommands: Command[] = [
  command({
    name: 'vCont?',
    schema: '',
    cap: exec,
    process: false,
    handler: (_a, _cx, e) => (e.rangeStep ? 'vCont;c;C;s;S;t;r' : 'vCont;c;C;s;S;t'),
  }),
  command({ name: 'vCont;', schema: 'A*;', cap: exec, handler: ([actions], cx) => vCont(actions, cx) }),
  command({ name: 'c', schema: '', cap: exec, handler: () => resume('continue') }),
  command({ name: 'c', schema: 'L', cap: exec, handler: ([addr]) => resume('continue', 0, addr) }),
  command({ name: 's', schema: '', cap: exec, handler: () => resume('step') }),
  command({ name: 's', schema: 'L', cap: exec, handler: ([addr]) => resume('step', 0, addr) }),
  command({ name: 'C', schema: 'l', cap: exec, handler: ([sig]) => resume('continue', fromGdbSignal(sig)) }),
  command({ name: 'C', schema: 'l;L', cap: exec, handler: ([sig, addr]) => resume('continue', fromGdbSignal(sig), addr) }),
  command({ name: 'S', schema: 'l', cap: exec, handler: ([sig]) => resume('step', fromGdbSignal(sig)) }),
  command({ name: 'S', schema: 'l;L', cap: exec, handler: ([sig, addr]) => resume('step', fromGdbSignal(sig), addr) }),
];
