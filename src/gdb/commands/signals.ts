/**
 * QPassSignals:sig;sig... — signals delivered to the program without a stop
 * (gdb's `handle SIG nostop noprint pass`). QProgramSignals is accepted: the
 * target delivers every signal gdb resumes with.
 */
import { parseNum } from '../hex.js';
import type { Session } from '../session.js';
import { fromGdbSignal } from '../signals.js';
import { E_INVAL, OK, type Command } from './command.js';

function passSignals(s: Session, args: string): string {
  const set = new Set<number>();
  for (const h of args.split(';')) {
    if (h === '') continue;
    const n = parseNum(h);
    if (n === null) return E_INVAL;
    const l = fromGdbSignal(n);
    if (l) set.add(l);
  }
  s.stub.passSignals = set;
  s.target?.passSignals?.setPass(set);
  return OK;
}

// with no program yet (extended mode) the setting is kept for the next one
const supported = (s: Session) => !s.target || !!s.target.passSignals;

export const signalCommands: Command[] = [
  { name: 'QPassSignals:', needsTarget: false, when: supported, handler: passSignals },
  { name: 'QProgramSignals:', needsTarget: false, when: supported, handler: () => OK },
];
