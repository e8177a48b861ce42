/**
 * Registers (g, G, p, P) and memory (m, M, X). Memory reads see through
 * page permissions and may come back shorter than asked (an unmapped page
 * follows); a length longer than a reply can carry is cut to fit, as
 * gdbserver caps it, and gdb reads on from there. Writes are all or nothing.
 */
import { hexRle } from '../packet.js';
import { command, E_FAULT, E_INVAL, OK, type Command } from './command.js';

export const registerCommands: Command[] = [
  command({ name: 'g', schema: '', cap: (t) => t.registers, handler: (_a, _cx, r) => hexRle(r.readAll()) }),
  command({
    name: 'G',
    schema: 'x',
    cap: (t) => t.registers,
    handler: ([data], cx, r) => {
      if (data.length > cx.target.arch.gSize) return E_INVAL;
      r.writeAll(data);
      return OK;
    },
  }),
  command({
    name: 'p',
    schema: 'l',
    cap: (t) => t.registers,
    handler: ([n], _cx, r) => {
      const v = r.read(n);
      return v ? hexRle(v) : E_INVAL;
    },
  }),
  command({ name: 'P', schema: 'l=x', cap: (t) => t.registers, handler: ([n, data], _cx, r) => (r.write(n, data) ? OK : E_INVAL) }),
];

export const memoryCommands: Command[] = [
  command({
    name: 'm',
    schema: 'L,n',
    cap: (t) => t.memory,
    handler: ([addr, len], cx, mem) => {
      const n = Math.min(len, Math.floor((cx.packetSize - 4) / 2));
      if (n === 0) return '';
      const b = mem.read(addr, n);
      return b.length === 0 ? E_FAULT : hexRle(b);
    },
  }),
  command({
    name: 'M',
    schema: 'L,n:x',
    cap: (t) => t.memory,
    handler: ([addr, len, data], _cx, mem) => {
      if (data.length !== len) return E_INVAL;
      return mem.write(addr, data) ? OK : E_FAULT;
    },
  }),
  command({
    name: 'X',
    schema: 'L,n:B',
    cap: (t) => t.memory,
    handler: ([addr, len, data], _cx, mem) => {
      if (data.length !== len) return E_INVAL;
      if (len === 0) return OK; // gdb's probe for X support
      return mem.write(addr, data) ? OK : E_FAULT;
    },
  }),
];
