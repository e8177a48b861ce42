/**
 * Where the dynamic linker's view of the program starts, for a debugger's
 * link map (gdb's svr4 solib support): the program's and the interpreter's
 * load addresses and, once ld.so has filled the program's DT_DEBUG, the
 * address of its struct r_debug (whose r_map lists every loaded object).
 * rDebug is null for a static program, or before ld.so has run. compat: an
 * i386 program, whose dynamic array, r_debug and link_map have 4-byte words.
 */
import type { Memory } from '../cpu/memory.js';
import type { Exec } from '../kernel/exec.js';

export interface LinkMap {
  program: { path: string; bias: number; dynamic: number };
  interp: { path: string; base: number } | null;
  rDebug: number | null;
  compat: boolean;
}

/** The link map of the process whose last execve was x, its memory mem. */
export function linkMapOf(x: Exec, mem: Memory): LinkMap {
  const program = { path: x.program.path, bias: x.program.bias, dynamic: x.program.dynamic };
  const interp = x.interp ? { path: x.interp.path, base: x.interp.bias } : null;
  return { program, interp, rDebug: x.program.dynamic ? dtDebug(mem, x.program.dynamic, x.compat ? 4 : 8) : null, compat: x.compat };
}

/** The DT_DEBUG value in the dynamic array at addr (non-zero), or null; its entries are Elf64_Dyn, or Elf32_Dyn (word 4). */
function dtDebug(mem: Memory, addr: number, word: 4 | 8): number | null {
  const DT_NULL = 0, DT_DEBUG = 21;
  const size = 2 * word;
  const e = new Uint8Array(size);
  const dv = new DataView(e.buffer);
  const at = (o: number): number => (word === 4 ? dv.getUint32(o, true) : dv.getUint32(o + 4, true) * 4294967296 + dv.getUint32(o, true));
  // bounded: a corrupt or overwritten array must not loop for ever
  for (let k = 0; k < 4096; k++, addr += size) {
    if (mem.peek(addr, e) !== size) return null;
    const tag = at(0);
    if (tag === DT_NULL) return null;
    if (tag === DT_DEBUG) {
      const v = at(word);
      return v === 0 ? null : v;
    }
  }
  return null;
}
