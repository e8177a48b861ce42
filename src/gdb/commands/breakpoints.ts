/**
 * Z/z: software (0) and hardware (1) breakpoints, write (2), read (3) and
 * access (4) watchpoints. Conditions and commands (`;cond`) are not
 * advertised, so gdb never sends them.
 */
import type { BreakpointOps, WatchType } from '../target.js';
import { command, E_GENERIC, E_INVAL, OK, type Command } from './command.js';
import type { PacketContext, Reply } from './context.js';

const WATCH: Record<number, WatchType> = { 2: 'watch', 3: 'rwatch', 4: 'awatch' };

function z(insert: boolean, type: number, addr: number, kind: number, bp: BreakpointOps): Reply {
  let ok: boolean;
  switch (type) {
    case 0:
      ok = insert ? bp.addSw(addr) : bp.removeSw(addr);
      break;
    case 1:
      if (!bp.hw) return '';
      ok = insert ? bp.hw.add(addr) : bp.hw.remove(addr);
      break;
    case 2:
    case 3:
    case 4:
      if (!bp.watch) return '';
      if (kind <= 0) return E_INVAL;
      ok = insert ? bp.watch.add(WATCH[type], addr, kind) : bp.watch.remove(WATCH[type], addr, kind);
      break;
    default:
      return ''; // a kind of breakpoint we do not know: unsupported
  }
  return ok ? OK : E_GENERIC;
}

/**
 * With a held child selected (Hg), gdb is taking the breakpoints it thinks
 * the child inherited out of it before detaching it: ours live in the
 * debugged tasks' decoded blocks, never in memory, and the child loses them
 * when it is let go, so there is nothing to do (and the parent keeps its own).
 */
const childSelected = (cx: PacketContext): boolean => cx.generalChild !== null;

export const breakpointCommands: Command[] = [
  command({
    name: 'Z',
    schema: 'l,L,l',
    cap: (t) => t.breakpoints,
    handler: ([type, addr, kind], cx, bp) => (childSelected(cx) ? OK : z(true, type, addr, kind, bp)),
  }),
  command({
    name: 'z',
    schema: 'l,L,l',
    cap: (t) => t.breakpoints,
    handler: ([type, addr, kind], cx, bp) => (childSelected(cx) ? OK : z(false, type, addr, kind, bp)),
  }),
];
