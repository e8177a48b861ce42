/**
 * Z/z: software (0) and hardware (1) breakpoints, write (2), read (3) and
 * access (4) watchpoints. Breakpoints never write guest memory: a read of
 * the address shows the original bytes.
 */
import { parse } from '../schema.js';
import type { Session } from '../session.js';
import type { WatchType } from '../target.js';
import { E_GENERIC, E_INVAL, OK, type Command, type Reply } from './command.js';

const WATCH: Record<number, WatchType> = { 2: 'watch', 3: 'rwatch', 4: 'awatch' };

function z(insert: boolean) {
  return (s: Session, args: string): Reply => {
    // Z type,addr,kind[;cond...]: conditions and commands are not supported (not advertised)
    const p = parse('l,L,l', args.split(';')[0]);
    if (!p) return E_INVAL;
    const [type, addr, kind] = p as number[];
    const bp = s.target!.breakpoints;
    if (!bp) return '';
    let ok: boolean;
    switch (type) {
      case 0:
        ok = insert ? bp.addSw(addr) : bp.removeSw(addr);
        break;
      case 1:
        if (!bp.addHw || !bp.removeHw) return '';
        ok = insert ? bp.addHw(addr) : bp.removeHw(addr);
        break;
      case 2:
      case 3:
      case 4:
        if (!bp.addWatch || !bp.removeWatch) return '';
        if (kind <= 0) return E_INVAL;
        ok = insert ? bp.addWatch(WATCH[type], addr, kind) : bp.removeWatch(WATCH[type], addr, kind);
        break;
      default:
        return '';
    }
    return ok ? OK : E_GENERIC;
  };
}

export const breakpointCommands: Command[] = [
  { name: 'Z', handler: z(true) },
  { name: 'z', handler: z(false) },
];
