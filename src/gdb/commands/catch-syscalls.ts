/**
 * QCatchSyscalls:1[;nr...] / QCatchSyscalls:0. gdb sends it before every
 * resume and clears it after every stop; stops are reported as
 * `T05syscall_entry:NR;` and `T05syscall_return:NR;`.
 */
import { parseNum } from '../hex.js';
import type { Session } from '../session.js';
import { E_INVAL, OK, type Command } from './command.js';

function catchSyscalls(s: Session, args: string): string {
  const set = (which: null | 'all' | Set<number>) => {
    s.stub.catchSyscalls = which;
    s.target?.catchSyscalls?.setCatch(which);
    return OK;
  };
  if (args === '0') return set(null);
  if (args === '1') return set('all');
  if (!args.startsWith('1;')) return E_INVAL;
  const nrs = new Set<number>();
  for (const h of args.slice(2).split(';')) {
    const n = parseNum(h);
    if (n === null) return E_INVAL;
    nrs.add(n);
  }
  return set(nrs);
}

export const catchSyscallCommands: Command[] = [
  { name: 'QCatchSyscalls:', needsTarget: false, when: (s) => !s.target || !!s.target.catchSyscalls, handler: catchSyscalls },
];
