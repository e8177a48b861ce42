/**
 * File-system and descriptor syscalls.
 */
import { dateNow, hostFs as fs, hostOs as os, randomBytes, spawnSync } from '../hostlog.js';
import type * as nodefs from 'node:fs';
import * as path from 'node:path';
import {
  EAGAIN, EBADF, EEXIST, EFAULT, EINVAL, EISDIR, ENODEV, ENOENT, ENOTDIR, EOPNOTSUPP, EPERM, ERANGE, ESPIPE, SysError, WouldBlock,
} from '../errno.js';
import { CAP_CHOWN, capable, inGroup } from '../cred.js';
import { RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT } from '../vfs.js';
import {
  type DirEntry, type OpenFile, O_APPEND, O_ASYNC, O_CLOEXEC, O_CREAT, O_DIRECT, O_NOATIME, O_NONBLOCK, O_PATH, O_RDWR, O_TRUNC, O_WRONLY, O_LARGEFILE,
} from '../fdtable.js';
import type { Process } from '../process.js';
import type { HandlerTable } from './table.js';
import { forgetInode } from '../net/sockinode.js';
import { registerFcntl } from './fcntl.js';
import { registerIoctl } from './ioctl.js';
import { registerPoll } from './poll.js';
import {
  AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_REMOVEDIR, AT_STATX_SYNC_TYPE, AT_SYMLINK_FOLLOW, AT_SYMLINK_NOFOLLOW, MAX_RW, fileRead, fileSize, fileStat, fileWrite, hostOffset, hostStat, lookup, openFile, packStat, packStatx, pathStat, resolveAt, sameInodePath, specialStat, wrapHostFd, type KStat,
} from './files.js';
import {
  Struct, type SyscallArgs, accessOk, readI64, readMem, readPath, readTimespec, readView, utf8, write64, writeMem,
} from './util.js';

const SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;

const DT_UNKNOWN = 0, DT_FIFO = 1, DT_CHR = 2, DT_DIR = 4, DT_BLK = 6, DT_REG = 8, DT_LNK = 10, DT_SOCK = 12;

/** Wanted creation mode after the guest umask, fixed up when the host umask stripped bits. */
function fixMode(p: Process, host: string, mode: number): void {
  if (mode & p.hostUmask) {
    try {
      fs.chmodSync(host, mode);
    } catch {
      /* best effort */
    }
  }
}

// ---------------------------------------------------------------- open/close

function doOpen(p: Process, dirfd: number, pathAddr: number, flags: number, mode: number, resolveFlags = 0): number {
  const pth = readPath(p.mem, pathAddr);
  const f = openFile(p, dirfd, pth, flags, mode, resolveFlags);
  try {
    return p.fds.alloc(f, (flags & O_CLOEXEC) !== 0);
  } catch (e) {
    if (f.refs === 0) f.release();
    throw e;
  }
}

function sysClose(p: Process, a: SyscallArgs): number {
  if (!p.fds.close(a.int(0))) throw new SysError(EBADF);
  return 0;
}

function sysCloseRange(p: Process, a: SyscallArgs): number {
  const first = a.u32(0), last = a.u32(1), flags = a.u32(2);
  const CLOSE_RANGE_UNSHARE = 2, CLOSE_RANGE_CLOEXEC = 4;
  if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) || first > last) throw new SysError(EINVAL);
  for (const fd of p.fds.list()) {
    if (fd < first || fd > last) continue;
    if (flags & CLOSE_RANGE_CLOEXEC) p.fds.get(fd)!.cloexec = true;
    else p.fds.close(fd);
  }
  return 0;
}

// ---------------------------------------------------------------- read/write

/**
 * Host buffers for one call are at most this big: a read or write of a
 * regular file goes through it chunk by chunk, so a 2 GiB read costs the host
 * the guest's pages, not a second copy of them.
 */
const IO_CHUNK = 1 << 20;

/** read/pread on a file with positioned host I/O, chunk by chunk into guest memory. */
function readChunked(p: Process, f: OpenFile, buf: number, count: number, pos: number | null): number {
  count = Math.min(count, MAX_RW);
  let done = 0;
  while (done < count) {
    const n = Math.min(count - done, IO_CHUNK);
    const before = f.pos;
    const data = fileRead(p, f, n, pos === null ? null : pos + done);
    try {
      writeMem(p.mem, buf + done, data);
    } catch (e) {
      if (pos === null) f.pos = before;
      if (done > 0) return done;
      throw e;
    }
    done += data.length;
    if (data.length < n) break;
  }
  return done;
}

/** write/pwrite on a file with positioned host I/O, chunk by chunk from guest memory. */
function writeChunked(p: Process, f: OpenFile, buf: number, count: number, pos: number | null): number {
  count = Math.min(count, MAX_RW);
  let done = 0;
  while (done < count) {
    const n = Math.min(count - done, IO_CHUNK);
    let data: Uint8Array;
    try {
      data = readMem(p.mem, buf + done, n);
    } catch (e) {
      if (done > 0) return done;
      throw e;
    }
    const w = fileWrite(p, f, data, pos === null ? null : pos + done);
    done += w;
    if (w < n) break;
  }
  return done;
}

function sysRead(p: Process, a: SyscallArgs): number {
  const f = p.fds.file(a.int(0));
  const buf = a.num(1), count = a.unum(2);
  if (!f.readable) throw new SysError(EBADF);
  if (!accessOk(buf, Math.min(count, 4096))) throw new SysError(EFAULT);
  if (f.positioned && f.kind !== 'dir') return readChunked(p, f, buf, count, null);
  const before = f.pos;
  const data = fileRead(p, f, count, null);
  try {
    writeMem(p.mem, buf, data);
  } catch (e) {
    if (f.positioned || f.kind === 'synth') f.pos = before;
    throw e;
  }
  return data.length;
}

function sysWrite(p: Process, a: SyscallArgs): number {
  const f = p.fds.file(a.int(0));
  if (!f.writable) throw new SysError(EBADF);
  if (f.positioned) return writeChunked(p, f, a.num(1), a.unum(2), null);
  const count = Math.min(a.unum(2), 0x7ffff000);
  const data = readMem(p.mem, a.num(1), count);
  return fileWrite(p, f, data, null);
}

function checkOffset(off: number): number {
  if (off < 0) throw new SysError(EINVAL);
  return off;
}

function sysPread(p: Process, a: SyscallArgs): number {
  const f = p.fds.file(a.int(0));
  const buf = a.num(1);
  if (!f.readable) throw new SysError(EBADF);
  if (f.kind === 'pipe' || f.kind === 'fifo' || f.kind === 'sock' || f.isTty) throw new SysError(ESPIPE);
  const off = checkOffset(a.num(3));
  if (f.positioned && f.kind !== 'dir') return readChunked(p, f, buf, a.unum(2), off);
  const data = fileRead(p, f, a.unum(2), off);
  writeMem(p.mem, buf, data);
  return data.length;
}

function sysPwrite(p: Process, a: SyscallArgs): number {
  const f = p.fds.file(a.int(0));
  if (!f.writable) throw new SysError(EBADF);
  if (f.kind === 'pipe' || f.kind === 'fifo' || f.kind === 'sock' || f.isTty) throw new SysError(ESPIPE);
  const off = checkOffset(a.num(3));
  if (f.positioned) return writeChunked(p, f, a.num(1), a.unum(2), off);
  const data = readMem(p.mem, a.num(1), Math.min(a.unum(2), 0x7ffff000));
  return fileWrite(p, f, data, off);
}

/** Read an iovec array: [base, len][] (EINVAL for a bad count or a total over ssize_t). */
/** struct iovec arrays: 16-byte entries, or a 32-bit program's compat_iovec (8 bytes: two u32). */
function readIov(p: Process, addr: number, cnt: number, compat = false): [number, number][] {
  if (cnt < 0 || cnt > 1024) throw new SysError(EINVAL);
  if (cnt === 0) return [];
  const sz = compat ? 8 : 16;
  const v = readView(p.mem, addr, cnt * sz);
  const out: [number, number][] = [];
  let total = 0;
  for (let k = 0; k < cnt; k++) {
    const base = compat ? v.getUint32(k * 8, true) : v.getInt32(k * 16 + 4, true) * 4294967296 + v.getUint32(k * 16, true);
    const len = compat ? v.getUint32(k * 8 + 4, true) : v.getUint32(k * 16 + 12, true) * 4294967296 + v.getUint32(k * 16 + 8, true);
    if (len > 0x7fffffffffffffff) throw new SysError(EINVAL);
    total += len;
    if (total > 0x7fffffffffffffff) throw new SysError(EINVAL);
    out.push([base, len]);
  }
  return out;
}

export function doReadv(p: Process, fd: number, iovAddr: number, cnt: number, pos: number | null, compat = false): number {
  const f = p.fds.file(fd);
  if (!f.readable) throw new SysError(EBADF);
  const iov = readIov(p, iovAddr, cnt, compat);
  for (const [b, l] of iov) if (l > 0 && !accessOk(b, l)) throw new SysError(EFAULT);
  const total = iov.reduce((s, [, l]) => s + l, 0);
  const before = f.pos;
  const data = fileRead(p, f, total, pos);
  let o = 0;
  try {
    for (const [b, l] of iov) {
      if (o >= data.length) break;
      const n = Math.min(l, data.length - o);
      writeMem(p.mem, b, data.subarray(o, o + n));
      o += n;
    }
  } catch (e) {
    if (pos === null && (f.positioned || f.kind === 'synth')) f.pos = before + o;
    if (o > 0) return o;
    throw e;
  }
  return data.length;
}

export function doWritev(p: Process, fd: number, iovAddr: number, cnt: number, pos: number | null, compat = false): number {
  const f = p.fds.file(fd);
  if (!f.writable) throw new SysError(EBADF);
  const iov = readIov(p, iovAddr, cnt, compat);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const [b, l] of iov) {
    if (l === 0) continue;
    const n = Math.min(l, 0x7ffff000 - total);
    if (n <= 0) break;
    parts.push(readMem(p.mem, b, n));
    total += n;
  }
  const data = new Uint8Array(total);
  let o = 0;
  for (const x of parts) {
    data.set(x, o);
    o += x.length;
  }
  return fileWrite(p, f, data, pos);
}

/** preadv/pwritev offset (-1 means the file offset for the *v2 forms). */
function vOffset(a: SyscallArgs, k: number, v2: boolean): number | null {
  const off = a.num(k);
  if (v2 && off === -1) return null;
  return checkOffset(off);
}

function seekable(f: OpenFile): void {
  if (f.kind === 'pipe' || f.kind === 'fifo' || f.kind === 'sock' || f.isTty) throw new SysError(ESPIPE);
}

// ---------------------------------------------------------------- lseek

function sysLseek(p: Process, a: SyscallArgs): number {
  const f = p.fds.file(a.int(0));
  const off = a.num(1), whence = a.u32(2);
  if (f.flags & O_PATH) throw new SysError(EBADF);
  if (whence > SEEK_HOLE) throw new SysError(EINVAL);
  seekable(f);
  if (f.kind === 'chr') return 0; // /dev/null, /dev/zero ...: always 0
  if (f.kind === 'dir') {
    if (whence === SEEK_SET && off >= 0) {
      if (off === 0) f.dirEntries = null;
      f.pos = off;
      return off;
    }
    if (whence === SEEK_CUR && off === 0) return f.pos;
    throw new SysError(EINVAL);
  }
  if (!f.positioned && f.kind !== 'synth') {
    // inherited descriptor on a regular file: the host owns the offset
    const cur = f.hostFd >= 0 ? hostOffset(f.hostFd) : null;
    if (whence === SEEK_CUR && off === 0 && cur !== null) return cur;
    // switch to our own offset from here on
    f.pos = cur ?? 0;
    f.positioned = true;
  }
  let base: number;
  switch (whence) {
    case SEEK_SET:
      base = 0;
      break;
    case SEEK_CUR:
      base = f.pos;
      break;
    case SEEK_END:
      base = fileSize(p, f);
      break;
    case SEEK_DATA: {
      const size = fileSize(p, f);
      if (off >= size) throw new SysError(6 /* ENXIO */);
      f.pos = off;
      return off;
    }
    default: {
      const size = fileSize(p, f);
      if (off >= size) throw new SysError(6 /* ENXIO */);
      f.pos = size;
      return size;
    }
  }
  const n = base + off;
  if (n < 0) throw new SysError(EINVAL);
  f.pos = n;
  return n;
}

// ---------------------------------------------------------------- stat

function sysStat(follow: boolean) {
  return (p: Process, a: SyscallArgs): number => {
    const st = pathStat(p, AT_FDCWD, readPath(p.mem, a.num(0)), follow);
    writeMem(p.mem, a.num(1), packStat(st));
    return 0;
  };
}

function sysFstat(p: Process, a: SyscallArgs): number {
  const st = fileStat(p, p.fds.file(a.int(0)));
  writeMem(p.mem, a.num(1), packStat(st));
  return 0;
}

/** stat for the *at calls: AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW. */
export function statAt(p: Process, dirfd: number, pathAddr: number, flags: number): KStat {
  let pth = '';
  if (pathAddr !== 0 || !(flags & AT_EMPTY_PATH)) pth = readPath(p.mem, pathAddr);
  if (pth === '') {
    if (!(flags & AT_EMPTY_PATH)) throw new SysError(ENOENT);
    if (dirfd === AT_FDCWD) return pathStat(p, AT_FDCWD, '.', true);
    return fileStat(p, p.fds.file(dirfd));
  }
  return pathStat(p, dirfd, pth, !(flags & AT_SYMLINK_NOFOLLOW));
}

function sysNewfstatat(p: Process, a: SyscallArgs): number {
  const flags = a.int(3);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) throw new SysError(EINVAL);
  const st = statAt(p, a.int(0), a.num(1), flags);
  writeMem(p.mem, a.num(2), packStat(st));
  return 0;
}

function sysStatx(p: Process, a: SyscallArgs): number {
  const flags = a.int(2), mask = a.u32(3);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE)) throw new SysError(EINVAL);
  if ((flags & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE) throw new SysError(EINVAL);
  if (mask & 0x80000000) throw new SysError(EINVAL);
  const st = statAt(p, a.int(0), a.num(1), flags);
  writeMem(p.mem, a.num(4), packStatx(st));
  return 0;
}

// ---------------------------------------------------------------- access

/**
 * access, faccessat, faccessat2. With AT_SYMLINK_NOFOLLOW a final symlink is
 * checked itself (a symlink's permissions are rwxrwxrwx): the host's access(2)
 * would follow it, to wherever its target names on the host.
 */
function doAccess(p: Process, dirfd: number, pathAddr: number, mode: number, flags: number): number {
  if (mode & ~7) throw new SysError(EINVAL);
  if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw new SysError(EINVAL);
  let pth = '';
  if (pathAddr !== 0 || !(flags & AT_EMPTY_PATH)) pth = readPath(p.mem, pathAddr);
  let host: string;
  if (pth === '') {
    if (!(flags & AT_EMPTY_PATH)) throw new SysError(ENOENT);
    const f = dirfd === AT_FDCWD ? null : p.fds.file(dirfd);
    if (f && f.hostFd < 0) return 0;
    host = f ? `/proc/self/fd/${f.hostFd}` : p.vfs.resolve(p.cwd, '/');
  } else {
    const follow = !(flags & AT_SYMLINK_NOFOLLOW);
    const { sp, r } = lookup(p, dirfd, pth, follow);
    if (sp) {
      specialStat(p, sp); // existence
      return 0;
    }
    host = r.host;
    if (!follow && fs.lstatSync(host).isSymbolicLink()) return 0;
  }
  fs.accessSync(host, mode);
  return 0;
}

// ---------------------------------------------------------------- dirs

function sysGetcwd(p: Process, a: SyscallArgs): number {
  const b = utf8(p.cwd + '\0');
  if (a.unum(1) < b.length) throw new SysError(ERANGE);
  writeMem(p.mem, a.num(0), b);
  return b.length;
}

/** Make the directory at host path `host` (guest path `guest`, canonical) the cwd. */
function changeDir(p: Process, host: string, guest: string): void {
  const st = fs.statSync(host);
  if (!st.isDirectory()) throw new SysError(ENOTDIR);
  fs.accessSync(host, fs.constants.X_OK);
  p.cwd = p.vfs.confined ? guest : (p.vfs.toGuest(fs.realpathSync(host)) ?? guest);
}

function sysChdir(p: Process, a: SyscallArgs): number {
  const pth = readPath(p.mem, a.num(0));
  if (pth === '') throw new SysError(ENOENT);
  const { sp, r } = lookup(p, AT_FDCWD, pth, true);
  if (sp) {
    if (sp.type === 'cwd') return changeDir(p, sp.proc.vfs.resolve(sp.proc.cwd, '/'), sp.proc.cwd), 0;
    if (sp.type === 'root') return changeDir(p, p.vfs.resolve('/', '/'), '/'), 0;
    if (sp.type === 'fd') return sysFchdirFile(p, sp.proc.fds.file(sp.fd));
    throw new SysError(ENOTDIR);
  }
  changeDir(p, r.host, r.guest);
  return 0;
}

function sysFchdirFile(p: Process, f: OpenFile): number {
  if (f.kind !== 'dir') throw new SysError(ENOTDIR);
  const r = resolveAt(p, AT_FDCWD, f.guestPath, true);
  changeDir(p, r.host, r.guest);
  return 0;
}

function sysFchdir(p: Process, a: SyscallArgs): number {
  return sysFchdirFile(p, p.fds.file(a.int(0)));
}

function direntType(d: nodefs.Dirent): number {
  if (d.isFile()) return DT_REG;
  if (d.isDirectory()) return DT_DIR;
  if (d.isSymbolicLink()) return DT_LNK;
  if (d.isFIFO()) return DT_FIFO;
  if (d.isSocket()) return DT_SOCK;
  if (d.isCharacterDevice()) return DT_CHR;
  if (d.isBlockDevice()) return DT_BLK;
  return DT_UNKNOWN;
}

/**
 * Snapshot a directory's entries in the order the file system returns them
 * (readdir(3) through fs.opendirSync: fs.readdirSync sorts by name, which no
 * Linux file system does). Node's reader leaves out '.' and '..' and so hides
 * where the file system puts them: they come first here, as on tmpfs, btrfs
 * and xfs; ext4 with dir_index mixes them into its hash order.
 */
function loadDir(p: Process, f: OpenFile): void {
  if (f.dirEntries) return;
  if (f.synthDir) {
    f.dirEntries = f.synthDir;
    return;
  }
  const dirHost = f.hostFd >= 0 ? `/proc/self/fd/${f.hostFd}` : f.hostPath;
  const self = fileStat(p, f);
  let parentIno = self.ino;
  if (!(p.vfs.confined && f.guestPath === '/')) {
    try {
      parentIno = fs.statSync(path.join(dirHost, '..'), { bigint: true }).ino;
    } catch {
      /* keep self */
    }
  }
  const entries: DirEntry[] = [
    { name: '.', ino: self.ino, type: DT_DIR },
    { name: '..', ino: parentIno, type: DT_DIR },
  ];
  // names as bytes (not every name is UTF-8); Node accepts 'buffer' here though its types list text encodings only
  const dir = fs.opendirSync(dirHost, { encoding: 'buffer' as BufferEncoding });
  try {
    for (let d = dir.readSync(); d !== null; d = dir.readSync()) {
      const nameBuf = d.name as unknown as Buffer;
      let ino: bigint;
      try {
        ino = fs.lstatSync(Buffer.concat([Buffer.from(dirHost + '/'), nameBuf]), { bigint: true }).ino;
      } catch {
        continue; // vanished meanwhile
      }
      entries.push({ name: nameBuf.toString('latin1'), ino, type: direntType(d as unknown as nodefs.Dirent) });
    }
  } finally {
    dir.closeSync();
  }
  f.dirEntries = entries;
}

/** getdents64 (v64) or the old getdents layout. */
function doGetdents(p: Process, a: SyscallArgs, v64: boolean): number {
  const f = p.fds.file(a.int(0));
  if (f.flags & O_PATH) throw new SysError(EBADF);
  if (f.kind !== 'dir') throw new SysError(ENOTDIR);
  const buf = a.num(1);
  const count = Math.min(a.unum(2), 1 << 20);
  loadDir(p, f);
  const ents = f.dirEntries!;
  const out = new Uint8Array(count);
  const dv = new DataView(out.buffer);
  let o = 0;
  while (f.pos < ents.length) {
    const e = ents[f.pos];
    const name = Buffer.from(e.name, 'latin1');
    const reclen = v64 ? (19 + name.length + 1 + 7) & ~7 : (18 + name.length + 2 + 7) & ~7;
    if (o + reclen > count) {
      if (o === 0) throw new SysError(EINVAL);
      break;
    }
    dv.setBigUint64(o, e.ino, true);
    dv.setBigUint64(o + 8, BigInt(f.pos + 1), true);
    dv.setUint16(o + 16, reclen, true);
    if (v64) {
      dv.setUint8(o + 18, e.type);
      out.set(name, o + 19);
    } else {
      out.set(name, o + 18);
      dv.setUint8(o + reclen - 1, e.type);
    }
    o += reclen;
    f.pos++;
  }
  writeMem(p.mem, buf, out.subarray(0, o));
  return o;
}

function sysMkdirat(p: Process, dirfd: number, pathAddr: number, mode: number): number {
  const pth = readPath(p.mem, pathAddr);
  const r = resolveAt(p, dirfd, pth, false);
  const wanted = mode & 0o7777 & ~p.umask;
  fs.mkdirSync(r.host, { mode: wanted });
  fixMode(p, r.host, wanted);
  return 0;
}

function doUnlinkat(p: Process, dirfd: number, pathAddr: number, flags: number): number {
  if (flags & ~AT_REMOVEDIR) throw new SysError(EINVAL);
  const pth = readPath(p.mem, pathAddr);
  if (flags & AT_REMOVEDIR) {
    if (/(^|\/)\.$/.test(pth.replace(/\/+$/, ''))) throw new SysError(EINVAL);
    if (/(^|\/)\.\.$/.test(pth.replace(/\/+$/, ''))) throw new SysError(39 /* ENOTEMPTY */);
    const r = resolveAt(p, dirfd, pth, false);
    if (p.vfs.confined && r.guest === '/') throw new SysError(16 /* EBUSY */);
    fs.rmdirSync(r.host);
  } else {
    const r = resolveAt(p, dirfd, pth, false);
    const st = fs.lstatSync(r.host, { bigint: true, throwIfNoEntry: false });
    fs.unlinkSync(r.host);
    // the last link of a socket's inode went: its number may come back as another file's
    if (st && st.nlink <= 1n) forgetInode(st.dev, st.ino);
  }
  return 0;
}

function doRenameat(p: Process, od: number, oa: number, nd: number, na: number, flags: number): number {
  const RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2, RENAME_WHITEOUT = 4;
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) throw new SysError(EINVAL);
  if (flags & RENAME_NOREPLACE && flags & (RENAME_EXCHANGE | RENAME_WHITEOUT)) throw new SysError(EINVAL);
  if (flags & RENAME_WHITEOUT) throw new SysError(EPERM);
  const op = readPath(p.mem, oa), np = readPath(p.mem, na);
  const o = resolveAt(p, od, op, false), n = resolveAt(p, nd, np, false);
  if (flags & RENAME_EXCHANGE) {
    fs.lstatSync(o.host);
    fs.lstatSync(n.host);
    const tmp = `${n.host.replace(/\/+$/, '')}.entrystub-xchg-${process.pid}`;
    fs.renameSync(o.host, tmp);
    fs.renameSync(n.host, o.host);
    fs.renameSync(tmp, n.host);
    return 0;
  }
  if (flags & RENAME_NOREPLACE) {
    fs.lstatSync(o.host);
    if (fs.lstatSync(n.host, { throwIfNoEntry: false })) throw new SysError(EEXIST);
  }
  fs.renameSync(o.host, n.host);
  return 0;
}

function doLinkat(p: Process, od: number, oa: number, nd: number, na: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) throw new SysError(EINVAL);
  const op = readPath(p.mem, oa), np = readPath(p.mem, na);
  let oh: string;
  if (op === '' && flags & AT_EMPTY_PATH) {
    const f = p.fds.file(od);
    if (f.kind === 'dir') throw new SysError(EPERM);
    oh = sameInodePath(f);
  } else {
    const follow = (flags & AT_SYMLINK_FOLLOW) !== 0;
    oh = resolveAt(p, od, op, follow).host;
    if (follow && !p.vfs.confined) oh = fs.realpathSync(oh);
  }
  const n = resolveAt(p, nd, np, false);
  fs.linkSync(oh, n.host);
  return 0;
}

function doSymlinkat(p: Process, ta: number, nd: number, na: number): number {
  const target = readPath(p.mem, ta);
  const np = readPath(p.mem, na);
  if (target === '') throw new SysError(ENOENT);
  const n = resolveAt(p, nd, np, false);
  fs.symlinkSync(target, n.host);
  return 0;
}

function doReadlinkat(p: Process, dirfd: number, pathAddr: number, buf: number, size: number): number {
  if (size <= 0 || size > 0x7fffffff) throw new SysError(EINVAL);
  const pth = readPath(p.mem, pathAddr);
  let target: Uint8Array;
  if (pth === '') {
    // readlinkat(fd, "") on an O_PATH|O_NOFOLLOW symlink
    const f = p.fds.file(dirfd);
    if (f.kind !== 'lnk') throw new SysError(ENOENT);
    target = new Uint8Array(fs.readlinkSync(sameInodePath(f), { encoding: 'buffer' }));
  } else {
    const { sp, r } = lookup(p, dirfd, pth, false);
    if (sp && sp.type === 'exe') target = utf8(sp.proc.exePath);
    else if (sp && sp.type === 'cwd') target = utf8(sp.proc.cwd);
    else if (sp && sp.type === 'root') target = utf8('/');
    else if (sp && sp.type === 'fd') {
      const f = sp.proc.fds.file(sp.fd);
      target = utf8(f.kind === 'pipe' ? `pipe:[${f.pipe!.ino}]` : f.guestPath);
    } else if (sp) throw new SysError(EINVAL);
    else target = new Uint8Array(fs.readlinkSync(r.host, { encoding: 'buffer' }));
  }
  const out = target.subarray(0, Math.min(size, target.length));
  writeMem(p.mem, buf, out);
  return out.length;
}

function doChmodat(p: Process, dirfd: number, pathAddr: number, mode: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw new SysError(EINVAL);
  const pth = readPath(p.mem, pathAddr);
  if (pth === '' && flags & AT_EMPTY_PATH) {
    const f = p.fds.file(dirfd);
    if (f.hostFd >= 0) fs.fchmodSync(f.hostFd, mode & 0o7777);
    return 0;
  }
  const nofollow = (flags & AT_SYMLINK_NOFOLLOW) !== 0;
  const r = resolveAt(p, dirfd, pth, !nofollow);
  if (nofollow && fs.lstatSync(r.host).isSymbolicLink()) throw new SysError(EOPNOTSUPP);
  fs.chmodSync(r.host, mode & 0o7777);
  return 0;
}

/** A uid_t/gid_t argument: -1 (leave it) or the unsigned id. */
const idArg = (v: number): number => (v === -1 ? -1 : v >>> 0);

/**
 * chown_ok and chgrp_ok (fs/attr.c): without CAP_CHOWN, only the owner may
 * act, may "change" the owner only to itself, and the group only to one it is
 * in. The host then makes the change (and clears set-id bits as Linux does).
 */
function checkChown(p: Process, st: KStat, uid: number, gid: number): void {
  if (capable(p, CAP_CHOWN)) return;
  const owner = Number(st.uid);
  const isOwner = owner === p.euid;
  if (uid !== -1 && !(isOwner && uid === owner)) throw new SysError(EPERM);
  if (gid !== -1 && !(isOwner && (gid === Number(st.gid) || inGroup(p, gid)))) throw new SysError(EPERM);
}

/** chown an open file (fchown, fchownat with AT_EMPTY_PATH). */
function chownFile(p: Process, f: OpenFile, uid: number, gid: number): void {
  checkChown(p, fileStat(p, f), uid, gid);
  if (f.kind === 'pipe') {
    const cur = f.pipe!.owner ?? { uid: p.euid, gid: p.egid };
    f.pipe!.owner = { uid: uid === -1 ? cur.uid : uid, gid: gid === -1 ? cur.gid : gid };
    return;
  }
  if (f.kind === 'synth') throw new SysError(EPERM); // procfs refuses
  // through /proc/self/fd: an O_PATH host descriptor cannot be fchown'ed, the file it names can
  if (f.hostFd >= 0) fs.chownSync(`/proc/self/fd/${f.hostFd}`, uid, gid);
  else fs.lchownSync(f.hostPath, uid, gid);
}

function doChownat(p: Process, dirfd: number, pathAddr: number, uidArg: number, gidArg: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw new SysError(EINVAL);
  const uid = idArg(uidArg), gid = idArg(gidArg);
  const pth = readPath(p.mem, pathAddr);
  if (pth === '' && flags & AT_EMPTY_PATH) {
    if (dirfd === AT_FDCWD) {
      const host = p.vfs.resolve(p.cwd, '/');
      checkChown(p, hostStat(host, true), uid, gid);
      fs.chownSync(host, uid, gid);
    } else chownFile(p, p.fds.file(dirfd), uid, gid);
    return 0;
  }
  const follow = !(flags & AT_SYMLINK_NOFOLLOW);
  const { sp, r } = lookup(p, dirfd, pth, follow);
  if (sp && sp.type === 'fd') {
    chownFile(p, sp.proc.fds.file(sp.fd), uid, gid);
    return 0;
  }
  if (sp && (sp.type === 'synth' || sp.type === 'fddir' || sp.type === 'taskdir')) throw new SysError(EPERM);
  const host = sp?.type === 'exe' ? p.vfs.resolve(sp.proc.exePath, '/') : sp?.type === 'cwd' ? p.vfs.resolve(sp.proc.cwd, '/') : sp?.type === 'root' ? p.vfs.resolve('/', '/') : r.host;
  checkChown(p, hostStat(host, follow), uid, gid);
  if (follow) fs.chownSync(host, uid, gid);
  else fs.lchownSync(host, uid, gid);
  return 0;
}

function sysFchown(p: Process, a: SyscallArgs): number {
  const f = p.fds.file(a.int(0));
  if (f.flags & O_PATH) throw new SysError(EBADF);
  chownFile(p, f, idArg(a.int(1)), idArg(a.int(2)));
  return 0;
}

// ---------------------------------------------------------------- utimes

const UTIME_NOW = (1 << 30) - 1, UTIME_OMIT = (1 << 30) - 2;

/** Apply [atime, mtime] (seconds as numbers, or null = leave) to a host path or fd. */
function setTimes(target: { host?: string; fd?: number; nofollow?: boolean }, at: number | null, mt: number | null): void {
  if (at === null && mt === null) {
    // still checks existence
    if (target.fd !== undefined) fs.fstatSync(target.fd);
    else fs.lstatSync(target.host!);
    return;
  }
  const st = target.fd !== undefined ? fs.fstatSync(target.fd) : target.nofollow ? fs.lstatSync(target.host!) : fs.statSync(target.host!);
  const a = at ?? st.atimeMs / 1000;
  const m = mt ?? st.mtimeMs / 1000;
  if (target.fd !== undefined) fs.futimesSync(target.fd, a, m);
  else if (target.nofollow) fs.lutimesSync(target.host!, a, m);
  else fs.utimesSync(target.host!, a, m);
}

function sysUtimensat(p: Process, a: SyscallArgs): number {
  const dirfd = a.int(0), pathAddr = a.num(1), times = a.num(2), flags = a.int(3);
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw new SysError(EINVAL);
  let at: number | null = dateNow() / 1000, mt: number | null = at;
  if (times !== 0) {
    const ts = [readTimespec(p.mem, times), readTimespec(p.mem, times + 16)];
    const conv = ([s, n]: [bigint, bigint]): number | null => {
      if (n === BigInt(UTIME_OMIT)) return null;
      if (n === BigInt(UTIME_NOW)) return dateNow() / 1000;
      if (n < 0n || n > 999999999n) throw new SysError(EINVAL);
      return Number(s) + Number(n) / 1e9;
    };
    at = conv(ts[0]);
    mt = conv(ts[1]);
  }
  if (pathAddr === 0) {
    if (dirfd === AT_FDCWD) throw new SysError(EFAULT);
    const f = p.fds.file(dirfd);
    if (f.hostFd < 0) throw new SysError(EBADF);
    setTimes({ fd: f.hostFd }, at, mt);
    return 0;
  }
  const pth = readPath(p.mem, pathAddr);
  if (pth === '' && flags & AT_EMPTY_PATH) {
    const f = p.fds.file(dirfd);
    setTimes({ fd: f.hostFd }, at, mt);
    return 0;
  }
  const nofollow = (flags & AT_SYMLINK_NOFOLLOW) !== 0;
  setTimes({ host: resolveAt(p, dirfd, pth, !nofollow).host, nofollow }, at, mt);
  return 0;
}

function sysUtimes(p: Process, dirfd: number, pathAddr: number, tv: number): number {
  const pth = readPath(p.mem, pathAddr);
  let at: number | null = dateNow() / 1000, mt: number | null = at;
  if (tv !== 0) {
    const v = readView(p.mem, tv, 32);
    const us = [Number(v.getBigInt64(8, true)), Number(v.getBigInt64(24, true))];
    if (us.some((u) => u < 0 || u > 999999)) throw new SysError(EINVAL);
    at = Number(v.getBigInt64(0, true)) + us[0] / 1e6;
    mt = Number(v.getBigInt64(16, true)) + us[1] / 1e6;
  }
  setTimes({ host: resolveAt(p, dirfd, pth, true).host }, at, mt);
  return 0;
}

// ---------------------------------------------------------------- truncate

function sysTruncate(p: Process, a: SyscallArgs): number {
  const len = a.num(1);
  if (len < 0) throw new SysError(EINVAL);
  const r = resolveAt(p, AT_FDCWD, readPath(p.mem, a.num(0)), true);
  if (fs.statSync(r.host).isDirectory()) throw new SysError(EISDIR);
  fs.truncateSync(r.host, len);
  if (!p.kernel.pageCache.empty) {
    const fd = fs.openSync(r.host, fs.constants.O_RDONLY);
    try {
      p.kernel.pageCache.ofFd(fd)?.truncated(len);
    } finally {
      fs.closeSync(fd);
    }
  }
  return 0;
}

/** The largest size of a file not opened O_LARGEFILE (MAX_NON_LFS: 2^31 - 1). */
const MAX_NON_LFS = 0x7fffffff;

function sysFtruncate(p: Process, a: SyscallArgs): number {
  const f = p.fds.file(a.int(0));
  const len = a.num(1);
  if (f.flags & O_PATH) throw new SysError(EBADF);
  if (len < 0) throw new SysError(EINVAL);
  if (f.kind !== 'reg' || !f.writable || f.hostFd < 0) throw new SysError(f.kind === 'dir' ? EISDIR : EINVAL);
  // do_sys_ftruncate's `small`: past 2 GiB only for a file opened large (every x86-64 one; a 32-bit program's that asked)
  if (len > MAX_NON_LFS && !(f.flags & O_LARGEFILE)) throw new SysError(EINVAL);
  fs.ftruncateSync(f.hostFd, len);
  p.kernel.pageCache.ofFd(f.hostFd)?.truncated(len);
  return 0;
}

function sysFallocate(p: Process, a: SyscallArgs): number {
  const f = p.fds.file(a.int(0));
  const mode = a.int(1), off = a.num(2), len = a.num(3);
  if (off < 0 || len <= 0) throw new SysError(EINVAL);
  if (!f.writable) throw new SysError(EBADF);
  if (f.kind === 'pipe' || f.kind === 'fifo') throw new SysError(ESPIPE);
  if (f.kind !== 'reg') throw new SysError(ENODEV);
  if (mode !== 0 && mode !== 1 /* KEEP_SIZE */) throw new SysError(EOPNOTSUPP);
  if (mode === 0) {
    const size = Number(fs.fstatSync(f.hostFd).size);
    if (off + len > size) fs.ftruncateSync(f.hostFd, off + len);
  }
  return 0;
}

// ---------------------------------------------------------------- sendfile & co

function copyBetween(p: Process, inF: OpenFile, outF: OpenFile, count: number, inPos: number | null, outPos: number | null): [number, number] {
  if (!inF.readable || !outF.writable) throw new SysError(EBADF);
  let done = 0;
  let ip = inPos, op = outPos;
  while (done < count) {
    const data = fileRead(p, inF, Math.min(count - done, 1 << 20), ip);
    if (data.length === 0) break;
    let n: number;
    try {
      n = fileWrite(p, outF, data, op);
    } catch (e) {
      if (!(e instanceof WouldBlock)) throw e;
      // the output (a pipe) is full: what went out is a short count, and the rest is read again next time
      n = p.retryProgress;
      p.retryProgress = 0;
      if (done + n === 0) {
        if (ip === null && (inF.positioned || inF.kind === 'synth')) inF.pos -= data.length;
        throw e;
      }
    }
    done += n;
    if (ip !== null) ip += n;
    if (op !== null) op += n;
    if (n < data.length) {
      if (ip === null && (inF.positioned || inF.kind === 'synth')) inF.pos -= data.length - n;
      break;
    }
    if (data.length < Math.min(count - done + n, 1 << 20)) break;
  }
  return [done, ip ?? 0];
}

function sysSendfile(p: Process, a: SyscallArgs): number {
  const outF = p.fds.file(a.int(0)), inF = p.fds.file(a.int(1));
  const offAddr = a.num(2), count = Math.min(a.unum(3), 0x7ffff000);
  if (inF.kind !== 'reg' && inF.kind !== 'blk' && inF.kind !== 'synth' && inF.kind !== 'chr') throw new SysError(EINVAL);
  if (!inF.readable || !outF.writable) throw new SysError(EBADF);
  if (outF.flags & O_APPEND) throw new SysError(EINVAL);
  let pos: number | null = null;
  if (offAddr !== 0) pos = checkOffset(readI64(p.mem, offAddr));
  const [n, end] = copyBetween(p, inF, outF, count, pos, null);
  if (offAddr !== 0) write64(p.mem, offAddr, end);
  return n;
}

function sysCopyFileRange(p: Process, a: SyscallArgs): number {
  const inF = p.fds.file(a.int(0)), outF = p.fds.file(a.int(2));
  const inOff = a.num(1), outOff = a.num(3), len = Math.min(a.unum(4), 0x7ffff000);
  if (a.u32(5) !== 0) throw new SysError(EINVAL);
  if (!inF.readable || !outF.writable || outF.flags & O_APPEND) throw new SysError(EBADF);
  if (inF.kind === 'dir' || outF.kind === 'dir') throw new SysError(EISDIR);
  if (inF.kind !== 'reg' || outF.kind !== 'reg') throw new SysError(EINVAL);
  const ip = inOff !== 0 ? checkOffset(readI64(p.mem, inOff)) : null;
  const op = outOff !== 0 ? checkOffset(readI64(p.mem, outOff)) : null;
  const [n, endIn] = copyBetween(p, inF, outF, len, ip, op);
  if (inOff !== 0) write64(p.mem, inOff, endIn);
  if (outOff !== 0) write64(p.mem, outOff, (op ?? 0) + n);
  return n;
}

// ---------------------------------------------------------------- statfs

function packStatfs(st: nodefs.BigIntStatsFs): Uint8Array {
  const s = new Struct(120);
  s.u64(0, st.type).u64(8, st.bsize).u64(16, st.blocks).u64(24, st.bfree).u64(32, st.bavail).u64(40, st.files).u64(48, st.ffree);
  s.u64(64, 255n).u64(72, st.bsize).u64(80, 0x20n /* ST_RELATIME */ | 0x400n);
  return s.bytes;
}

function sysStatfs(p: Process, a: SyscallArgs): number {
  const r = resolveAt(p, AT_FDCWD, readPath(p.mem, a.num(0)), true);
  writeMem(p.mem, a.num(1), packStatfs(fs.statfsSync(r.host, { bigint: true })));
  return 0;
}

function sysFstatfs(p: Process, a: SyscallArgs): number {
  const f = p.fds.file(a.int(0));
  let st: nodefs.BigIntStatsFs;
  if (f.kind === 'pipe' || f.kind === 'synth') {
    st = { type: f.kind === 'pipe' ? 0x50495045n : 0x9fa0n, bsize: 4096n, blocks: 0n, bfree: 0n, bavail: 0n, files: 0n, ffree: 0n } as nodefs.BigIntStatsFs;
  } else st = fs.statfsSync(f.hostFd >= 0 ? `/proc/self/fd/${f.hostFd}` : f.hostPath, { bigint: true });
  writeMem(p.mem, a.num(1), packStatfs(st));
  return 0;
}

// ---------------------------------------------------------------- misc

function sysMemfdCreate(p: Process, a: SyscallArgs): number {
  const name = readPath(p.mem, a.num(0));
  const flags = a.u32(1);
  const MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2, MFD_HUGETLB = 4, MFD_NOEXEC_SEAL = 8, MFD_EXEC = 0x10;
  if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC | (0x3f << 26))) throw new SysError(EINVAL);
  if (utf8(name).length > 249) throw new SysError(EINVAL);
  const host = path.join(os.tmpdir(), `entrystub-memfd-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = fs.openSync(host, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  fs.unlinkSync(host);
  const f = wrapHostFd(fd, O_RDWR, host, `/memfd:${name} (deleted)`);
  return p.fds.alloc(f, (flags & MFD_CLOEXEC) !== 0);
}

/** fsync, fdatasync: the host's, on the host descriptor (which says EINVAL for what cannot be synced). */
function sysFsync(data: boolean) {
  return (p: Process, a: SyscallArgs): number => {
    const f = p.fds.file(a.int(0));
    if (f.flags & O_PATH) throw new SysError(EBADF);
    if (f.hostFd < 0) throw new SysError(EINVAL); // pipes and generated files have nothing to write back
    if (data) fs.fdatasyncSync(f.hostFd);
    else fs.fsyncSync(f.hostFd);
    return 0;
  };
}

/** sync(1) of the host: Node has no sync(2) or syncfs(2). `args` as for sync(1). */
function hostSync(p: Process, args: string[]): void {
  const r = spawnSync('sync', args, { stdio: 'ignore', timeout: 600_000 });
  if (r.error || r.status !== 0) p.warnOnce(`entrystub: sync ${args.join(' ')} failed on the host${r.error ? ': ' + r.error.message : ''}`);
}

/** syncfs: the file system of fd, through sync -f on the descriptor as another process sees it. */
function sysSyncfs(p: Process, a: SyscallArgs): number {
  const f = p.fds.file(a.int(0));
  if (f.hostFd >= 0) hostSync(p, ['-f', `/proc/${process.pid}/fd/${f.hostFd}`]);
  return 0;
}

/** sync_file_range: flags checked as Linux does; any write-out request is an fdatasync of the file (more than asked, never less). */
function sysSyncFileRange(p: Process, a: SyscallArgs): number {
  const f = p.fds.file(a.int(0));
  const off = a.num(1), n = a.num(2), flags = a.u32(3);
  if (flags & ~7 || off < 0 || n < 0 || off + n < 0) throw new SysError(EINVAL);
  if (f.kind === 'pipe' || f.kind === 'fifo' || f.kind === 'sock') throw new SysError(ESPIPE);
  if (flags !== 0 && f.hostFd >= 0 && (f.kind === 'reg' || f.kind === 'blk')) fs.fdatasyncSync(f.hostFd);
  return 0;
}

function sysFadvise(p: Process, a: SyscallArgs): number {
  const f = p.fds.file(a.int(0));
  if (f.kind === 'pipe' || f.kind === 'fifo') throw new SysError(ESPIPE);
  const advice = a.int(3);
  if (advice < 0 || advice > 5 || a.num(2) < 0) throw new SysError(EINVAL);
  return 0;
}


/** Open flags openat2 accepts (VALID_OPEN_FLAGS), and those O_PATH may come with. */
const VALID_OPEN_FLAGS = 0o3 | O_CREAT | 0o200 | 0o400 | O_TRUNC | O_APPEND | O_NONBLOCK | 0o10000 | O_ASYNC | O_DIRECT | 0o100000 | 0o200000 |
  0o400000 | O_NOATIME | O_CLOEXEC | 0o4000000 | O_PATH | 0o20000000;
const O_PATH_FLAGS = O_PATH | 0o200000 /* O_DIRECTORY */ | 0o400000 /* O_NOFOLLOW */ | O_CLOEXEC | 0o100000 /* O_LARGEFILE */;

/**
 * openat2: struct open_how { flags, mode, resolve }, checked as
 * build_open_flags does (openat2 refuses what open ignores), and resolved with
 * the RESOLVE_* scoping of vfs.ts.
 */
function sysOpenat2(p: Process, a: SyscallArgs): number {
  const size = a.unum(3);
  if (size < 24) throw new SysError(EINVAL);
  if (size > 4096) throw new SysError(7 /* E2BIG */);
  const raw = readMem(p.mem, a.num(2), size);
  if (raw.subarray(24).some((b) => b !== 0)) throw new SysError(7 /* E2BIG: fields this kernel does not know */);
  const v = new DataView(raw.buffer, raw.byteOffset, 24);
  const flags64 = v.getBigUint64(0, true), mode64 = v.getBigUint64(8, true), resolve64 = v.getBigUint64(16, true);
  const flags = Number(flags64 & 0xffffffffn);
  if (flags64 > 0xffffffffn || flags & ~VALID_OPEN_FLAGS) throw new SysError(EINVAL);
  if (mode64 & ~0o7777n || (mode64 !== 0n && !(flags & (O_CREAT | 0o20000000)))) throw new SysError(EINVAL);
  if (resolve64 & ~0x3fn) throw new SysError(EINVAL);
  const resolve = Number(resolve64);
  if (resolve & RESOLVE_BENEATH && resolve & RESOLVE_IN_ROOT) throw new SysError(EINVAL);
  if (flags & O_PATH && flags & ~O_PATH_FLAGS) throw new SysError(EINVAL);
  if (resolve & RESOLVE_CACHED && flags & (O_CREAT | O_TRUNC | 0o20000000)) throw new SysError(EAGAIN);
  return doOpen(p, a.int(0), a.num(1), flags, Number(mode64), resolve & ~RESOLVE_CACHED);
}

// ---------------------------------------------------------------- xattrs

/** Extended attributes: none exist and none can be set (like a file system without xattr support for the user namespace). */
function xattrTarget(p: Process, a: SyscallArgs, kind: 'path' | 'lpath' | 'fd'): void {
  if (kind === 'fd') {
    const f = p.fds.file(a.int(0));
    if (f.flags & O_PATH) throw new SysError(EBADF);
    return;
  }
  pathStat(p, AT_FDCWD, readPath(p.mem, a.num(0)), kind === 'path');
}

function registerXattr(t: HandlerTable): void {
  const ENODATA = 61;
  const kinds: ('path' | 'lpath' | 'fd')[] = ['path', 'lpath', 'fd'];
  kinds.forEach((kind, k) => {
    // setxattr 188.., getxattr 191.., listxattr 194.., removexattr 197..
    const none = 'no extended attributes (Node has no xattr calls): as a file system without them, set is EOPNOTSUPP, get and remove ENODATA, the list empty';
    t.on(188 + k, (p, a) => {
      xattrTarget(p, a, kind);
      throw new SysError(EOPNOTSUPP);
    }, none);
    t.on(191 + k, (p, a) => {
      xattrTarget(p, a, kind);
      throw new SysError(ENODATA);
    }, none);
    t.on(194 + k, (p, a) => {
      xattrTarget(p, a, kind);
      return 0;
    }, none);
    t.on(197 + k, (p, a) => {
      xattrTarget(p, a, kind);
      throw new SysError(ENODATA);
    }, none);
  });
}

export function registerFs(t: HandlerTable): void {
  registerXattr(t);
  registerFcntl(t);
  registerIoctl(t);
  registerPoll(t);
  t.on(0, sysRead);
  t.on(1, sysWrite);
  t.on(2, (p, a) => doOpen(p, AT_FDCWD, a.num(0), a.int(1), a.u32(2)));
  t.on(3, sysClose);
  t.on(4, sysStat(true));
  t.on(5, sysFstat);
  t.on(6, sysStat(false));
  t.on(8, sysLseek, 'SEEK_DATA and SEEK_HOLE see the file as one extent (no holes)');
  t.on(17, sysPread);
  t.on(18, sysPwrite);
  t.on(19, (p, a) => doReadv(p, a.int(0), a.num(1), a.int(2), null));
  t.on(20, (p, a) => doWritev(p, a.int(0), a.num(1), a.int(2), null));
  t.on(21, (p, a) => doAccess(p, AT_FDCWD, a.num(0), a.int(1), 0), 'checked with the host process\'s credentials, not the ones the program switched to');
  t.on(40, sysSendfile);
  t.on(74, sysFsync(false));
  t.on(75, sysFsync(true));
  t.on(76, sysTruncate);
  t.on(77, sysFtruncate);
  t.on(78, (p, a) => doGetdents(p, a, false), '\'.\' and \'..\' come first, wherever the file system keeps them; d_off is a position, not the file system\'s cookie');
  t.on(79, sysGetcwd);
  t.on(80, sysChdir);
  t.on(81, sysFchdir);
  t.on(82, (p, a) => doRenameat(p, AT_FDCWD, a.num(0), AT_FDCWD, a.num(1), 0));
  t.on(83, (p, a) => sysMkdirat(p, AT_FDCWD, a.num(0), a.u32(1)));
  t.on(84, (p, a) => doUnlinkat(p, AT_FDCWD, a.num(0), AT_REMOVEDIR));
  t.on(85, (p, a) => doOpen(p, AT_FDCWD, a.num(0), O_CREAT | O_WRONLY | O_TRUNC, a.u32(1)));
  t.on(86, (p, a) => doLinkat(p, AT_FDCWD, a.num(0), AT_FDCWD, a.num(1), 0));
  t.on(87, (p, a) => doUnlinkat(p, AT_FDCWD, a.num(0), 0));
  t.on(88, (p, a) => doSymlinkat(p, a.num(0), AT_FDCWD, a.num(1)));
  t.on(89, (p, a) => doReadlinkat(p, AT_FDCWD, a.num(0), a.num(1), a.int(2)));
  t.on(90, (p, a) => doChmodat(p, AT_FDCWD, a.num(0), a.u32(1), 0));
  t.on(91, (p, a) => {
    const f = p.fds.file(a.int(0));
    if (f.flags & O_PATH) throw new SysError(EBADF);
    if (f.hostFd >= 0) fs.fchmodSync(f.hostFd, a.u32(1) & 0o7777);
    return 0;
  });
  t.on(92, (p, a) => doChownat(p, AT_FDCWD, a.num(0), a.int(1), a.int(2), 0));
  t.on(93, sysFchown);
  t.on(94, (p, a) => doChownat(p, AT_FDCWD, a.num(0), a.int(1), a.int(2), AT_SYMLINK_NOFOLLOW));
  t.on(95, (p, a) => {
    const old = p.umask;
    p.umask = a.u32(0) & 0o777;
    return old;
  });
  t.on(132, (p, a) => {
    // utime(path, struct utimbuf {actime, modtime})
    const tb = a.num(1);
    let at = dateNow() / 1000, mt = at;
    if (tb !== 0) {
      at = readI64(p.mem, tb);
      mt = readI64(p.mem, tb + 8);
    }
    setTimes({ host: resolveAt(p, AT_FDCWD, readPath(p.mem, a.num(0)), true).host }, at, mt);
    return 0;
  });
  t.on(133, (p, a) => {
    // mknod: regular files only (FIFOs and devices need privileges we do not emulate)
    const mode = a.u32(1);
    const type = mode & 0o170000;
    if (type !== 0 && type !== 0o100000) throw new SysError(EPERM);
    const fd = doOpen(p, AT_FDCWD, a.num(0), O_CREAT | 0o200 | O_WRONLY, mode & 0o7777);
    p.fds.close(fd);
    return 0;
  }, 'regular files only: FIFOs, sockets and device nodes are EPERM');
  t.on(137, sysStatfs, 'f_fsid is 0 and f_flags a fixed ST_RELATIME');
  t.on(138, sysFstatfs, 'f_fsid is 0 and f_flags a fixed ST_RELATIME');
  t.on(162, (p) => {
    hostSync(p, []);
    return 0;
  });
  t.on(187, (p, a) => {
    const f = p.fds.file(a.int(0));
    if (f.kind !== 'reg') throw new SysError(EINVAL);
    return 0;
  }); // readahead
  t.on(217, (p, a) => doGetdents(p, a, true), '\'.\' and \'..\' come first, wherever the file system keeps them; d_off is a position, not the file system\'s cookie');
  t.on(221, sysFadvise);
  t.on(235, (p, a) => sysUtimes(p, AT_FDCWD, a.num(0), a.num(1)), 'times reach the host as a double of seconds: sub-microsecond digits are lost');
  t.on(257, (p, a) => doOpen(p, a.int(0), a.num(1), a.int(2), a.u32(3)));
  t.on(258, (p, a) => sysMkdirat(p, a.int(0), a.num(1), a.u32(2)));
  t.on(259, (p, a) => {
    const mode = a.u32(2);
    const type = mode & 0o170000;
    if (type !== 0 && type !== 0o100000) throw new SysError(EPERM);
    const fd = doOpen(p, a.int(0), a.num(1), O_CREAT | 0o200 | O_WRONLY, mode & 0o7777);
    p.fds.close(fd);
    return 0;
  }, 'regular files only: FIFOs, sockets and device nodes are EPERM');
  t.on(260, (p, a) => doChownat(p, a.int(0), a.num(1), a.int(2), a.int(3), a.int(4)));
  t.on(261, (p, a) => sysUtimes(p, a.int(0), a.num(1), a.num(2)), 'times reach the host as a double of seconds: sub-microsecond digits are lost');
  t.on(262, sysNewfstatat);
  t.on(263, (p, a) => doUnlinkat(p, a.int(0), a.num(1), a.int(2)));
  t.on(264, (p, a) => doRenameat(p, a.int(0), a.num(1), a.int(2), a.num(3), 0));
  t.on(265, (p, a) => doLinkat(p, a.int(0), a.num(1), a.int(2), a.num(3), a.int(4)));
  t.on(266, (p, a) => doSymlinkat(p, a.num(0), a.int(1), a.num(2)));
  t.on(267, (p, a) => doReadlinkat(p, a.int(0), a.num(1), a.num(2), a.int(3)));
  t.on(268, (p, a) => doChmodat(p, a.int(0), a.num(1), a.u32(2), 0));
  t.on(269, (p, a) => doAccess(p, a.int(0), a.num(1), a.int(2), 0), 'checked with the host process\'s credentials, not the ones the program switched to');
  t.on(277, sysSyncFileRange);
  t.on(280, sysUtimensat, 'times reach the host as a double of seconds: nanoseconds below a microsecond are lost');
  t.on(285, sysFallocate, 'modes 0 and FALLOC_FL_KEEP_SIZE only, and no blocks are reserved (a hole is made instead)');
  t.on(295, (p, a) => doReadv(p, a.int(0), a.num(1), a.int(2), vOffset(a, 3, false)));
  t.on(296, (p, a) => doWritev(p, a.int(0), a.num(1), a.int(2), vOffset(a, 3, false)));
  t.on(306, sysSyncfs);
  t.on(316, (p, a) => doRenameat(p, a.int(0), a.num(1), a.int(2), a.num(3), a.u32(4)), 'RENAME_EXCHANGE is three renames, not atomic; RENAME_WHITEOUT is EPERM');
  t.on(319, sysMemfdCreate, 'no file seals (F_ADD_SEALS is EINVAL)');
  t.on(326, sysCopyFileRange);
  t.on(327, (p, a) => doReadv(p, a.int(0), a.num(1), a.int(2), vOffset(a, 3, true)), 'RWF_* flags are ignored');
  t.on(328, (p, a) => doWritev(p, a.int(0), a.num(1), a.int(2), vOffset(a, 3, true)), 'RWF_* flags are ignored');
  t.on(332, sysStatx, 'no stx_attributes, stx_mnt_id or direct I/O alignment');
  t.on(436, sysCloseRange);
  t.on(437, sysOpenat2, 'RESOLVE_CACHED lookups are done in full rather than failing with EAGAIN when not cached');
  t.on(439, (p, a) => doAccess(p, a.int(0), a.num(1), a.int(2), a.int(3)), 'checked with the host process\'s credentials (AT_EACCESS changes nothing)');
  t.on(452, (p, a) => doChmodat(p, a.int(0), a.num(1), a.u32(2), a.int(3)));
}

