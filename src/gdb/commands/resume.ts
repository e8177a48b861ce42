/**
 * Resuming: vCont (c, C, s, S, r range stepping, t), and the older c/s/C/S
 * with an optional address. Every resume ends in a stop reply sent by the
 * session when the target stops.
 */
import { parseAddr, parseNum } from '../hex.js';
import type { Session } from '../session.js';
import { fromGdbSignal } from '../signals.js';
import type { ResumeAction } from '../target.js';
import { E_INVAL, OK, type Command, type Reply } from './command.js';

function vContQuery(s: Session): string {
  return s.target?.rangeStep || !s.target ? 'vCont;c;C;s;S;t;r' : 'vCont;c;C;s;S;t';
}

/** vCont;action[:thread];... — the first action naming our thread (or all threads) applies. */
function vCont(s: Session, args: string): Reply {
  for (const part of args.split(';')) {
    if (part === '') continue;
    const colon = part.indexOf(':');
    const act = colon < 0 ? part : part.slice(0, colon);
    if (colon >= 0 && !s.isOurThread(part.slice(colon + 1))) continue;
    const a = parseAction(act);
    if (a === null) return E_INVAL;
    if (a === 'stop') return OK; // all-stop: the thread is already stopped
    if (a.kind === 'range' && !s.target!.rangeStep) return E_INVAL;
    return s.resume(a);
  }
  return OK; // no action for our thread: it stays stopped
}

function parseAction(act: string): ResumeAction | 'stop' | null {
  const sigOf = (h: string): number | null => {
    const n = parseNum(h);
    return n === null || n > 255 ? null : fromGdbSignal(n);
  };
  switch (act[0]) {
    case 'c':
      return act.length === 1 ? { kind: 'continue', signal: 0 } : null;
    case 's':
      return act.length === 1 ? { kind: 'step', signal: 0 } : null;
    case 'C':
    case 'S': {
      const sig = sigOf(act.slice(1));
      if (sig === null) return null;
      return { kind: act[0] === 'C' ? 'continue' : 'step', signal: sig };
    }
    case 'r': {
      const [a, b] = act.slice(1).split(',');
      const start = parseAddr(a ?? ''), end = parseAddr(b ?? '');
      if (start === null || end === null) return null;
      return { kind: 'range', signal: 0, start, end };
    }
    case 't':
      return act.length === 1 ? 'stop' : null;
  }
  return null;
}

/** c [addr] / s [addr]. */
function legacy(kind: 'continue' | 'step') {
  return (s: Session, args: string): Reply => {
    const a: ResumeAction = { kind, signal: 0 };
    if (args !== '') {
      const addr = parseAddr(args);
      if (addr === null) return E_INVAL;
      a.addr = addr;
    }
    return s.resume(a);
  };
}

/** C sig[;addr] / S sig[;addr]. */
function legacySig(kind: 'continue' | 'step') {
  return (s: Session, args: string): Reply => {
    const [sh, ah] = args.split(';');
    const n = parseNum(sh ?? '');
    if (n === null) return E_INVAL;
    const a: ResumeAction = { kind, signal: fromGdbSignal(n) };
    if (ah !== undefined) {
      const addr = parseAddr(ah);
      if (addr === null) return E_INVAL;
      a.addr = addr;
    }
    return s.resume(a);
  };
}

export const resumeCommands: Command[] = [
  { name: 'vCont?', exact: true, needsTarget: false, handler: vContQuery },
  { name: 'vCont;', handler: vCont },
  { name: 'c', handler: legacy('continue') },
  { name: 's', handler: legacy('step') },
  { name: 'C', handler: legacySig('continue') },
  { name: 'S', handler: legacySig('step') },
];
