/**
 * vFile host I/O, so gdb's default sysroot `target:` reads the program (and
 * later the guest kernel image) from the stub: setfs, open, pread, close,
 * fstat, readlink. Paths are the guest's, resolved by the target (confined
 * to --root). Replies are `F result[,errno][;attachment]`.
 */
import { hexToText } from '../hex.js';
import { escapeBinary } from '../packet.js';
import { parse } from '../schema.js';
import type { Session } from '../session.js';
import { type Command, type Reply } from './command.js';
import { fitEscaped } from './xfer.js';

/** Linux errno -> gdb's File-I/O errno (EUNKNOWN 9999 otherwise). */
const FILEIO_ERRNO = new Map<number, number>([
  [1, 1], [2, 2], [4, 4], [9, 9], [13, 13], [14, 14], [16, 16], [17, 17], [19, 19], [20, 20], [21, 21], [22, 22],
  [23, 23], [24, 24], [27, 27], [28, 28], [29, 29], [30, 30], [36, 91],
]);

function fail(errno: number): string {
  return `F-1,${(FILEIO_ERRNO.get(errno) ?? 9999).toString(16)}`;
}

function vFile(s: Session, args: string): Reply {
  const io = s.target!.hostIo!;
  const colon = args.indexOf(':');
  const op = colon < 0 ? args : args.slice(0, colon);
  const rest = colon < 0 ? '' : args.slice(colon + 1);
  switch (op) {
    case 'setfs': {
      // only our own (the one program's) file system: pid 0 = the stub's = the program's
      const p = parse('l', rest);
      if (!p) return fail(22);
      return p[0] === 0 || p[0] === s.target!.pid ? 'F0' : fail(22);
    }
    case 'open': {
      const p = parse('s,l,l', rest);
      const path = p ? hexToText(p[0] as string) : null;
      if (!p || path === null) return fail(22);
      const f = io.open(path, p[1] as number, p[2] as number);
      if (typeof f === 'number') return fail(-f);
      const fd = s.stub.nextFd++;
      s.stub.files.set(fd, f);
      return `F${fd.toString(16)}`;
    }
    case 'close': {
      const p = parse('l', rest);
      const f = p ? s.stub.files.get(p[0] as number) : undefined;
      if (!f) return fail(9);
      s.stub.files.delete(p![0] as number);
      f.close();
      return 'F0';
    }
    case 'pread': {
      const p = parse('l,l,l', rest);
      if (!p) return fail(22);
      const [fd, count, offset] = p as number[];
      const f = s.stub.files.get(fd);
      if (!f) return fail(9);
      // cut to what fits in one packet, escapes included: gdb reads on from where we stopped
      const want = Math.min(count, s.packetSize);
      const r = f.pread(want, offset);
      if (typeof r === 'number') return fail(-r);
      const room = s.packetSize - 1 - 2 - want.toString(16).length;
      const n = fitEscaped(r, 0, r.length, room);
      return `F${n.toString(16)};${escapeBinary(r.subarray(0, n))}`;
    }
    case 'fstat': {
      const p = parse('l', rest);
      const f = p ? s.stub.files.get(p[0] as number) : undefined;
      if (!f) return fail(9);
      const r = f.fstat();
      if (typeof r === 'number') return fail(-r);
      return `F${r.length.toString(16)};${escapeBinary(r)}`;
    }
    case 'readlink': {
      const path = hexToText(rest);
      if (path === null) return fail(22);
      const r = io.readlink(path);
      if (typeof r === 'number') return fail(-r);
      const b = new TextEncoder().encode(r);
      return `F${b.length.toString(16)};${escapeBinary(b)}`;
    }
  }
  return ''; // pwrite, unlink: not supported
}

export const hostIoCommands: Command[] = [{ name: 'vFile:', when: (s) => !!s.target?.hostIo, handler: vFile }];
