/**
 * Where the dynamic linker's view of the program starts, for a debugger's
 * link map (gdb's svr4 solib support): the program's and the interpreter's
 * load addresses and, once ld.so has filled the program's DT_DEBUG, the
 * address of its struct r_debug (whose r_map lists every loaded object).
 * rDebug is null for a static program, or before ld.so has run.
 */
import type { Memory } from '../cpu/memory.js';
import type { Exec } from '../kernel/exec.js';

export interface LinkMap {
  program: { path: string; bias: number; dynamic: number };
  interp: { path: string; base: number } | null;
  rDebug: number | null;
}

/** The link map of the process whose last execve was x, its memory mem. */
export function linkMapOf(x: Exec, mem: Memory): LinkMap {
  const program = { path: x.program.path, bias: x.program.bias, dynamic: x.program.dynamic };
  const interp = x.interp ? { path: x.interp.path, base: x.interp.bias } : null;
  return { program, interp, rDebug: x.program.dynamic ? dtDebug(mem, x.program.dynamic) : null };
}

/** The DT_DEBUG value in the dynamic array at addr (non-zero), or null. */
function dtDebug(mem: Memory, addr: number): number | null {
  const DT_NULL = 0, DT_DEBUG = 21;
  const e = new Uint8Array(16);
  const dv = new DataView(e.buffer);
  // bounded: a corrupt or overwritten array must not loop for ever
  for (let k = 0; k < 4096; k++, addr += 16) {
    if (mem.peek(addr, e) !== 16) return null;
    const tagLo = dv.getUint32(0, true), tagHi = dv.getUint32(4, true);
    if (tagLo === DT_NULL && tagHi === 0) return null;
    if (tagLo === DT_DEBUG && tagHi === 0) {
      const v = dv.getUint32(12, true) * 4294967296 + dv.getUint32(8, true);
      return v === 0 ? null : v;
    }
  }
  return null;
}
