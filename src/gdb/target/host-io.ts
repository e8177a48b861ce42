/**
 * vFile host I/O, so gdb's default sysroot `target:` reads the program, the
 * guest kernel image and their debug files from the stub. Files are opened
 * as the program would open them (its root, its cwd, its own /proc), read
 * only, and only those gdb needs, because the stub may run with more rights
 * than the person connecting to it:
 *   - the program, its interpreter (PT_INTERP) and the libraries listed to gdb;
 *   - the guest kernel image (a name only vFile serves);
 *   - the separate debug files of those (debug-files.ts);
 *   - the process's own synthesized /proc entries (`info proc`).
 * Anything else is EACCES, unless the user confined the program with --root
 * DIR: then its whole file system is DIR, chosen to be served.
 */
import type { HostFile, HostIoOps, Library } from '../target.js';
import { debugIdsOf, debugPathsFor } from './debug-files.js';
import type { GuestProcess } from './port.js';

const EACCES = 13, ESRCH = 3;
/** O_WRONLY, O_RDWR (the access mode) and O_CREAT, O_TRUNC, O_APPEND of gdb's File-I/O flags: gdb only reads. */
const WRITE_FLAGS = 0x3 | 0x200 | 0x400 | 0x8;

export class HostIo implements HostIoOps {
  /** Per process: object path -> it and its debug file paths (read once per object). */
  private allowed = new Map<string, string[]>();
  private owner: GuestProcess | null = null;

  constructor(
    private readonly current: () => GuestProcess | null,
    private readonly libraries: () => Library[],
  ) {}

  open(path: string, flags: number, mode: number): HostFile | number {
    void mode; // nothing is created
    if (flags & WRITE_FLAGS) return -EACCES;
    const p = this.current();
    if (!p) return -ESRCH;
    const k = p.image.kernelImage;
    if (k && path === k.name) return k.open();
    if (!this.mayOpen(p, path)) return -EACCES;
    return p.files.open(path);
  }

  readlink(path: string): string | number {
    const p = this.current();
    if (!p) return -ESRCH;
    const norm = p.files.normalize(path);
    const own = new RegExp(`^/proc/(self|${p.pid})/(exe|cwd)$`).test(norm);
    if (!own && !this.mayOpen(p, path)) return -EACCES;
    return p.files.readlink(path);
  }

  private mayOpen(p: GuestProcess, path: string): boolean {
    if (p.files.confined || p.files.isOwnProc(path)) return true;
    const norm = p.files.normalize(path);
    if (this.owner !== p) {
      this.owner = p;
      this.allowed = new Map();
    }
    const objects = [p.image.exePath, p.image.interp, ...this.libraries().map((l) => l.name)];
    for (const obj of objects) {
      if (obj === null) continue;
      let paths = this.allowed.get(obj);
      if (!paths) {
        paths = [obj, ...this.debugPaths(p, obj)];
        this.allowed.set(obj, paths);
      }
      if (paths.includes(norm)) return true;
    }
    return false;
  }

  private debugPaths(p: GuestProcess, obj: string): string[] {
    const k = p.image.kernelImage;
    const f = k && obj === k.name ? k.open() : p.files.open(obj);
    if (typeof f === 'number') return [];
    try {
      return debugPathsFor(k && obj === k.name ? obj : p.files.normalize(obj), debugIdsOf(f));
    } finally {
      f.close();
    }
  }
}
