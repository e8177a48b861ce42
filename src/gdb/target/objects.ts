/**
 * The objects gdb reads with qXfer and friends: the program's path
 * (exec-file), its auxiliary vector, the loaded images besides it
 * (libraries-svr4: the dynamic linker's link map, then the guest kernel
 * image, linked at its run address, so its symbols, types and line tables
 * load with no command from the user),
 * the thread list, and the load bias (qOffsets). Each reads the current
 * process; the dispatcher makes sure there is one.
 */
import type { AuxvOps, ExecFileOps, Library, LibrariesOps, SectionOffsetsOps, ThreadInfo, ThreadsOps } from '../target.js';
import type { GuestProcess } from './port.js';

export class ExecFile implements ExecFileOps {
  constructor(private readonly proc: () => GuestProcess) {}
  execFile(): string {
    return this.proc().image.exePath;
  }
}

export class Auxv implements AuxvOps {
  constructor(private readonly proc: () => GuestProcess) {}
  auxv(): Uint8Array {
    return this.proc().image.auxv;
  }
}

export class Libraries implements LibrariesOps {
  constructor(private readonly current: () => GuestProcess | null) {}
  libraries(): Library[] {
    const p = this.current();
    if (!p) return [];
    const k = p.image.kernelImage;
    return [...p.image.linkMap(), ...(k ? [{ name: k.name, lAddr: 0 }] : [])];
  }
}

export class Threads implements ThreadsOps {
  constructor(private readonly current: () => GuestProcess | null) {}
  list(): ThreadInfo[] {
    return this.current()?.tasks() ?? [];
  }
}

export class SectionOffsets implements SectionOffsetsOps {
  constructor(private readonly proc: () => GuestProcess) {}
  offsets(): { text: number; data: number; bss: number } {
    const bias = this.proc().image.loadBias;
    return { text: bias, data: bias, bss: bias };
  }
}
