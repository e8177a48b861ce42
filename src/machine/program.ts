/**
 * The program file as the machine sees it before loading it: its path in
 * the guest's file system (under --root), and whether it is a 32-bit one
 * (which decides the entry model before the kernel image is chosen).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Guest path of a host path under root (the host path itself when root is '/'). */
export function guestPathOf(root: string, hostPath: string): string {
  if (root === '/') return hostPath;
  const rel = path.relative(root, hostPath);
  if (rel.startsWith('..')) return '/';
  return '/' + rel;
}

/** Is the file an ELF32 (i386) program? Read before the kernel image is chosen; anything unreadable is left to exec to report. */
export function isElf32(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(5);
      return fs.readSync(fd, b, 0, 5, 0) === 5 && b.readUInt32BE(0) === 0x7f454c46 && b[4] === 1;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}
