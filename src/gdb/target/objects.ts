/**
 * The objects gdb reads with qXfer and friends: the program's path
 * (exec-file), its auxiliary vector, the loaded images besides it
 * (libraries-svr4: the guest kernel image, linked at its run address, so
 * its symbols, types and line tables load with no command from the user,
 * and every object ld.so has loaded, read from its link map as gdbserver
 * reads it),
 * the thread list, and the load bias (qOffsets). Each reads the current
 * process; the dispatcher makes sure there is one.
 */
import type { AuxvOps, ExecFileOps, Library, LibrariesOps, SectionOffsetsOps, ThreadInfo, ThreadsOps } from '../target.js';
import type { GuestProcess } from './port.js';

export class ExecFile implements ExecFileOps {
  constructor(private readonly proc: () => GuestProcess) {}
  execFile(pid?: number): string | null {
    const p = this.proc();
    return pid === undefined ? p.image.exePath : p.exePathOf(pid);
  }
}

export class Auxv implements AuxvOps {
  constructor(private readonly proc: () => GuestProcess) {}
  auxv(): Uint8Array {
    return this.proc().image.auxv;
  }
}

/**
 * Offsets in glibc's struct r_debug and struct link_map (<link.h>): the ABI
 * every debugger reads. Every field before them is an int or a pointer, so
 * they are in pointer-sized words: 8 bytes for x86-64, 4 for i386.
 */
const R_MAP = 1;
const LM = { addr: 0, name: 1, ld: 2, next: 3 } as const;
/** Bounds on what a corrupt or hostile link map can make us read. */
const MAX_OBJECTS = 4096;
const PATH_MAX = 4096;

export class Libraries implements LibrariesOps {
  constructor(private readonly current: () => GuestProcess | null) {}

  libraries(): { libraries: Library[]; mainLm: number | null } {
    const p = this.current();
    const k = p?.image.kernelImage;
    const list: Library[] = k ? [{ name: k.name, lAddr: 0 }] : [];
    if (!p) return { libraries: list, mainLm: null };
    const lm = this.linkMap(p);
    return { libraries: [...list, ...lm.objects], mainLm: lm.main };
  }

  /**
   * r_debug.r_map's list after its head (the program): the objects with a
   * name (ld.so, libc.so, what dlopen loaded); before ld.so has filled
   * DT_DEBUG, the interpreter alone.
   */
  private linkMap(p: GuestProcess): { main: number | null; objects: Library[] } {
    const rDebug = p.image.rDebug();
    const objects: Library[] = [];
    if (rDebug === null) {
      // before ld.so has run, the interpreter exec mapped is the one object loaded (what gdb shows natively at
      // the first instruction, and after an exec)
      const i = p.image.interpLoad;
      if (i && p.image.interp) objects.push({ name: p.image.interp, lm: 0, lAddr: i.bias, lLd: i.dynamic });
      return { main: null, objects };
    }
    const w = p.image.compat ? 4 : 8;
    const word = (addr: number): number | null => this.word(p, addr, w);
    const main = word(rDebug + R_MAP * w);
    if (main === null || main === 0) return { main: null, objects };
    const seen = new Set([main]);
    for (let lm = word(main + LM.next * w); lm !== null && lm !== 0 && !seen.has(lm) && seen.size < MAX_OBJECTS; lm = word(lm + LM.next * w)) {
      seen.add(lm);
      const name = this.string(p, word(lm + LM.name * w));
      if (name === null || name === '') continue;
      objects.push({ name, lm, lAddr: word(lm + LM.addr * w) ?? 0, lLd: word(lm + LM.ld * w) ?? 0 });
    }
    return { main, objects };
  }

  /** The pointer of `size` bytes at addr, or null if it is not mapped. */
  private word(p: GuestProcess, addr: number, size: 4 | 8): number | null {
    const b = new Uint8Array(size);
    if (p.mem.peek(addr, b) !== size) return null;
    const dv = new DataView(b.buffer);
    if (size === 4) return dv.getUint32(0, true);
    const lo = dv.getUint32(0, true), hi = dv.getInt32(4, true); // as src/cpu numbers a 64-bit address: its signed value
    return hi * 4294967296 + lo;
  }

  private string(p: GuestProcess, addr: number | null): string | null {
    if (addr === null || addr === 0) return null;
    const b = new Uint8Array(PATH_MAX);
    const n = p.mem.peek(addr, b);
    const end = b.subarray(0, n).indexOf(0);
    return end < 0 ? null : new TextDecoder().decode(b.subarray(0, end));
  }
}

export class Threads implements ThreadsOps {
  constructor(private readonly current: () => GuestProcess | null) {}
  list(): ThreadInfo[] {
    return this.current()?.tasks() ?? [];
  }
  setEvents(on: boolean): void {
    this.current()?.exec.threadEvents(on);
  }
}

export class SectionOffsets implements SectionOffsetsOps {
  constructor(private readonly proc: () => GuestProcess) {}
  offsets(): { text: number; data: number; bss: number } {
    const bias = this.proc().image.loadBias;
    return { text: bias, data: bias, bss: bias };
  }
}
