/**
 * vFile host I/O: setfs, open, pread, close, fstat, readlink (pwrite and
 * unlink are not supported: gdb only reads). Paths are the program's,
 * resolved and allowed or refused by the target. Replies are
 * `F result[,errno][;attachment]`, errnos in gdb's File-I/O numbering. The
 * descriptors belong to the connection (closed when it ends).
 */
import { escapeBinary, escapedLength } from '../packet.js';
import type { HostStat } from '../target.js';
import { command, type Command } from './command.js';

/** Linux errno -> gdb's File-I/O errno (EUNKNOWN 9999 otherwise). */
const FILEIO_ERRNO = new Map<number, number>([
  [1, 1], [2, 2], [4, 4], [9, 9], [13, 13], [14, 14], [16, 16], [17, 17], [19, 19], [20, 20], [21, 21], [22, 22],
  [23, 23], [24, 24], [27, 27], [28, 28], [29, 29], [30, 30], [36, 91],
]);
const EBADF = 9, EINVAL = 22, EMFILE = 24;

function fail(errno: number): string {
  return `F-1,${(FILEIO_ERRNO.get(errno) ?? 9999).toString(16)}`;
}

/** gdb's File-I/O struct stat: big-endian, 64 bytes. */
function fileioStat(st: HostStat): Uint8Array {
  const b = new Uint8Array(64);
  const dv = new DataView(b.buffer);
  const u32 = (off: number, v: number) => dv.setUint32(off, v >>> 0);
  const u64 = (off: number, v: number) => {
    dv.setUint32(off, Math.floor(v / 4294967296) >>> 0);
    dv.setUint32(off + 4, v >>> 0);
  };
  u32(0, st.dev);
  u32(4, st.ino);
  u32(8, st.mode);
  u32(12, st.nlink);
  u32(16, st.uid);
  u32(20, st.gid);
  u32(24, st.rdev);
  u64(28, st.size);
  u64(36, st.blksize);
  u64(44, st.blocks);
  u32(52, st.atime);
  u32(56, st.mtime);
  u32(60, st.ctime);
  return b;
}

const attach = (data: Uint8Array) => `F${data.length.toString(16)};${escapeBinary(data)}`;

export const hostIoCommands: Command[] = [
  // only the program's file system: pid 0 (the stub's) is the program's
  command({
    name: 'vFile:setfs:',
    schema: 'l',
    cap: (t) => t.hostIo,
    process: false,
    // every process followed sees the same file system (the guest's root)
    handler: ([pid], cx) => (pid === 0 || pid === cx.target.pid || cx.target.threads?.list().some((t) => t.pid === pid) ? 'F0' : fail(EINVAL)),
  }),
  command({
    name: 'vFile:open:',
    schema: 'h,l,l',
    cap: (t) => t.hostIo,
    process: false,
    handler: ([path, flags, mode], cx, io) => {
      const f = io.open(path, flags, mode);
      if (typeof f === 'number') return fail(-f);
      const fd = cx.files.add(f);
      if (fd === null) {
        f.close();
        return fail(EMFILE);
      }
      return `F${fd.toString(16)}`;
    },
  }),
  command({
    name: 'vFile:close:',
    schema: 'l',
    cap: (t) => t.hostIo,
    process: false,
    handler: ([fd], cx) => (cx.files.close(fd) ? 'F0' : fail(EBADF)),
  }),
  command({
    name: 'vFile:pread:',
    schema: 'l,n,n',
    cap: (t) => t.hostIo,
    process: false,
    handler: ([fd, count, offset], cx) => {
      const f = cx.files.get(fd);
      if (!f) return fail(EBADF);
      // cut to what fits in one packet, escapes included: gdb reads on from where we stopped
      const want = Math.min(count, cx.packetSize);
      const r = f.pread(want, offset);
      if (typeof r === 'number') return fail(-r);
      const n = escapedLength(r, 0, r.length, cx.packetSize - 1 - 2 - want.toString(16).length);
      return `F${n.toString(16)};${escapeBinary(r.subarray(0, n))}`;
    },
  }),
  command({
    name: 'vFile:fstat:',
    schema: 'l',
    cap: (t) => t.hostIo,
    process: false,
    handler: ([fd], cx) => {
      const f = cx.files.get(fd);
      if (!f) return fail(EBADF);
      const r = f.fstat();
      return typeof r === 'number' ? fail(-r) : attach(fileioStat(r));
    },
  }),
  command({
    name: 'vFile:readlink:',
    schema: 'h',
    cap: (t) => t.hostIo,
    process: false,
    handler: ([path], _cx, io) => {
      const r = io.readlink(path);
      return typeof r === 'number' ? fail(-r) : attach(new TextEncoder().encode(r));
    },
  }),
];
