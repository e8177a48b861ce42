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
import { namesThread, threadsOf } from './threads.js';

const exec = (t: Target) => t.execution;
const reverse = (t: Target) => (t.execution?.reverse ? t.execution : undefined);

/**
 * vCont;action[:thread];... — each thread takes the leftmost action that
 * names it (or all threads); a thread no action names, or named by `t`,
 * stays stopped (gdb resumes only the current inferior's threads unless
 * `set schedule-multiple on`). The resume is the step's when a thread
 * steps (it runs first), else the continue's.
 */
function vCont(actions: VContAction[], cx: PacketContext): Reply {
  if (cx.target.pid === null) return E_INVAL;
  let primary: { a: VContAction; tid: number; specific: boolean } | null = null;
  const running = new Set<number>();
  const threads = threadsOf(cx.target);
  for (const th of threads) {
    const a = actions.find((x) => !x.thread || namesThread(x.thread, th.pid, th.tid, true));
    if (!a || a.op === 't') continue;
    running.add(th.tid);
    const specific = a.thread !== undefined && a.thread.tid > 0;
    const steps = a.op !== 'c' && a.op !== 'C';
    if (!primary || (steps && (primary.a.op === 'c' || primary.a.op === 'C')) || (specific && !primary.specific)) primary = { a, tid: th.tid, specific };
  }
  if (!primary) return OK; // no action for a live thread: they stay stopped
  const a = primary.a;
  const which = { threads: running.size === threads.length ? ('all' as const) : running, ...(primary.specific ? { thread: primary.tid } : {}) };
  switch (a.op) {
    case 'c':
    case 's':
      return { resume: { kind: a.op === 'c' ? 'continue' : 'step', signal: 0, ...which } };
    case 'C':
    case 'S':
      return { resume: { kind: a.op === 'C' ? 'continue' : 'step', signal: fromGdbSignal(a.signal), ...which } };
    case 'r':
      if (!cx.target.execution.rangeStep) return E_INVAL;
      return { resume: { kind: 'range', signal: 0, start: a.start, end: a.end, ...which } };
  }
  return OK;
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
  // backwards through recorded history: gdb's reverse-stepi and reverse-continue (and reverse-step, -next, -finish built on them)
  command({ name: 'bs', schema: '', cap: reverse, handler: () => ({ resume: { kind: 'reverse-step', signal: 0 } }) }),
  command({ name: 'bc', schema: '', cap: reverse, handler: () => ({ resume: { kind: 'reverse-continue', signal: 0 } }) }),
];
