/**
 * File descriptors and open file descriptions.
 *
 * An OpenFile is Linux's `struct file`: the offset, the status flags
 * (O_APPEND, O_NONBLOCK ...) and what it refers to. dup/dup2/fcntl(F_DUPFD)
 * make several descriptors share one OpenFile (and so its offset); the
 * close-on-exec flag belongs to the descriptor. The host file is closed when
 * the last descriptor referring to it goes.
 *
 * Kinds:
 * - host files opened by the guest ('reg', 'dir', 'chr', 'fifo', 'sock', 'blk'):
 *   a Node fd we own. Regular files use our own offset and positioned I/O;
 *   others (ttys, devices, fifos) use sequential host I/O.
 * - inherited host fds (stdin/stdout/stderr): sequential host I/O on the
 *   host's own offset; never closed on the host.
 * - 'pipe': pipe(2) ends, a buffer in the emulator, shared by every process holding an end.
 * - 'synth': generated read-only contents (/proc/self/maps ...).
 * - 'path': O_PATH descriptors (no host fd needed beyond the path).
 * - 'sock' without a host fd, and 'anon' (eventfd, timerfd, epoll: Linux's
 *   anon_inode files): objects of the emulator, reached through `ops`.
 */
import { hostFs as fs } from './hostlog.js';
import { EBADF, EMFILE, SysError } from './errno.js';
import type { FlockTable } from './locks.js';

export const O_ACCMODE = 3;
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const O_ASYNC = 0o20000;
export const O_DIRECT = 0o40000;
export const O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000;
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20200000;

export type FileKind = 'reg' | 'dir' | 'chr' | 'blk' | 'fifo' | 'sock' | 'lnk' | 'pipe' | 'synth' | 'path' | 'anon';

/**
 * A file the emulator implements itself (a socket, an eventfd, a timerfd, an
 * epoll instance): Linux's file_operations for it. `P` is the process type
 * (process.ts imports this module, so it cannot be named here).
 */
export interface FileOps<P = any> {
  /** The anon_inode name ("[eventfd]", "[timerfd]", "[eventpoll]") or "socket:[ino]": what /proc/self/fd shows. */
  readonly name: string;
  /** POLL* bits the file is ready for now (f_op->poll without a wait queue). */
  poll(): number;
  /**
   * The host can make the file ready (a socket served by the host-sockets
   * worker): a wait on it must look again within a few milliseconds rather
   * than wait for another task.
   */
  readonly hostBacked?: boolean;
  /** Counts arrivals (data, a count added): an edge-triggered epoll item reports each one, even on a file readable already. */
  readonly seq?: number;
  /** The monotonic time (ns) at which readiness changes by itself (a timerfd's next expiry), or null. */
  wakeAt?(): bigint | null;
  /** FIONREAD: bytes ready to be read. */
  nread?(): number;
  read?(p: P, f: OpenFile, len: number): Uint8Array;
  write?(p: P, f: OpenFile, data: Uint8Array): number;
  /** The last descriptor went. */
  release(f: OpenFile): void;
}

const PIPE_PAGE = 4096;

/**
 * In-process pipe buffer shared by the two ends of a pipe(2), kept as Linux
 * keeps it (fs/pipe.c): a ring of page-sized buffers, `slots` of them
 * (capacity = slots * 4 KiB). A write first tops up the last buffer with the
 * sub-page remainder of its length when that fits, then fills new pages while
 * slots are free; a buffer's slot is freed when it has been read empty. So
 * what fits, and when a write is EAGAIN, is what it is on Linux.
 */
export class Pipe {
  private bufs: { page: Uint8Array; off: number; len: number }[] = [];
  /** Bytes buffered. */
  size = 0;
  readers = 0;
  writers = 0;
  /** Ring size in pages (F_GETPIPE_SZ / 4096). */
  slots = 16;
  /** Owner set by fchown (the pipe inode's; null: its creator's effective ids). */
  owner: { uid: number; gid: number } | null = null;
  /** Unique inode number for fstat. */
  constructor(readonly ino: number) {}

  /** Capacity in bytes (F_GETPIPE_SZ). */
  get capacity(): number {
    return this.slots * PIPE_PAGE;
  }

  /** Every slot holds a buffer: a write must wait (pipe_full). */
  get full(): boolean {
    return this.bufs.length >= this.slots;
  }

  /** Slots in use (what F_SETPIPE_SZ may not go below). */
  get occupancy(): number {
    return this.bufs.length;
  }

  /**
   * Write what fits now, as one round of pipe_write: `first` is the call's
   * first round (only it may merge into the last buffer). Returns bytes taken.
   */
  write(data: Uint8Array, first: boolean): number {
    let done = 0;
    const chars = data.length % PIPE_PAGE;
    const last = this.bufs[this.bufs.length - 1];
    if (first && chars > 0 && last && last.off + last.len + chars <= PIPE_PAGE) {
      last.page.set(data.subarray(0, chars), last.off + last.len);
      last.len += chars;
      done = chars;
    }
    while (done < data.length && !this.full) {
      const n = Math.min(PIPE_PAGE, data.length - done);
      const page = new Uint8Array(PIPE_PAGE);
      page.set(data.subarray(done, done + n));
      this.bufs.push({ page, off: 0, len: n });
      done += n;
    }
    this.size += done;
    return done;
  }

  read(max: number): Uint8Array {
    const n = Math.min(max, this.size);
    const out = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const b = this.bufs[0];
      const k = Math.min(b.len, n - done);
      out.set(b.page.subarray(b.off, b.off + k), done);
      done += k;
      b.off += k;
      b.len -= k;
      if (b.len === 0) this.bufs.shift();
    }
    this.size -= n;
    return out;
  }
}

/** A directory entry as getdents64 reports it. */
export interface DirEntry {
  name: string;
  ino: bigint;
  /** DT_* type. */
  type: number;
}

let nextSynthIno = 0x10000000;

export class OpenFile {
  /** Descriptors referring to this description. */
  refs = 0;
  /** File offset (regular files opened by the guest, directories: entry index, synth files). */
  pos = 0;
  /** Host fd, or -1. */
  hostFd = -1;
  /** Whether the host fd is ours to close (false for inherited stdin/stdout/stderr). */
  ownsHostFd = true;
  /** Reads and writes go through `pos` with positioned host I/O. */
  positioned = false;
  /** The host fd is a terminal. */
  isTty = false;
  /**
   * A second, non-blocking open of the same host pipe/tty/fifo (through
   * /proc/self/fd), for reads that must not block the host thread while a
   * debugger is attached: -1 not opened yet, -2 cannot be opened (a socket).
   */
  nbHostFd = -1;
  /** Host path (for fstat fallbacks, *at calls, /proc/self/fd) and the guest path it was opened by. */
  hostPath = '';
  guestPath = '';
  pipe: Pipe | null = null;
  /** Contents of a 'synth' file. */
  data: Uint8Array | null = null;
  /** Directory listing snapshot, taken at the first getdents64 after open or rewind. */
  dirEntries: DirEntry[] | null = null;
  /** A directory of the emulated procfs (/proc/PID/task): its entries, made when it was opened (no host directory behind it). */
  synthDir: DirEntry[] | null = null;
  /** Inode number of synth/pipe files. */
  readonly synthIno = nextSynthIno++;
  /** The table holding this description's flock, if it took one: the lock goes when the description does. */
  flocks: FlockTable | null = null;
  /** An object of the emulator's own (socket, eventfd, timerfd, epoll), or null. */
  ops: FileOps | null = null;

  constructor(
    public kind: FileKind,
    /** Status flags as F_GETFL shows them: access mode, O_APPEND, O_NONBLOCK, O_PATH ... */
    public flags: number,
  ) {}

  get readable(): boolean {
    if (this.flags & O_PATH) return false;
    const m = this.flags & O_ACCMODE;
    return m === O_RDONLY || m === O_RDWR;
  }

  get writable(): boolean {
    if (this.flags & O_PATH) return false;
    const m = this.flags & O_ACCMODE;
    return m === O_WRONLY || m === O_RDWR;
  }

  /** Release host resources and the flock (called when the last descriptor goes). */
  release(): void {
    this.flocks?.unlock(this);
    this.flocks = null;
    if (this.ops) {
      const ops = this.ops;
      this.ops = null;
      ops.release(this);
    }
    if (this.pipe) {
      if (this.readable) this.pipe.readers--;
      else this.pipe.writers--;
    }
    if (this.hostFd >= 0 && this.ownsHostFd) {
      try {
        fs.closeSync(this.hostFd);
      } catch {
        /* already gone */
      }
    }
    this.hostFd = -1;
    if (this.nbHostFd >= 0) {
      try {
        fs.closeSync(this.nbHostFd);
      } catch {
        /* already gone */
      }
    }
    this.nbHostFd = -1;
  }
}

export interface FdEntry {
  file: OpenFile;
  cloexec: boolean;
}

export class FdTable {
  private readonly fds: (FdEntry | undefined)[] = [];
  /** RLIMIT_NOFILE soft limit: descriptors must be below it (EMFILE). */
  limit = 1024;

  /** The entry for fd, or undefined. */
  get(fd: number): FdEntry | undefined {
    if (!Number.isInteger(fd) || fd < 0) return undefined;
    return this.fds[fd];
  }

  /** The open file for fd; throws SysError(EBADF). */
  file(fd: number): OpenFile {
    const e = this.get(fd);
    if (!e) throw new SysError(EBADF);
    return e.file;
  }

  /** Install `file` at the lowest free descriptor >= min. Throws EMFILE. */
  alloc(file: OpenFile, cloexec: boolean, min = 0): number {
    let fd = Math.max(0, min);
    while (fd < this.fds.length && this.fds[fd] !== undefined) fd++;
    if (fd >= this.limit) throw new SysError(EMFILE);
    this.fds[fd] = { file, cloexec };
    file.refs++;
    return fd;
  }

  /** Put `file` at exactly `fd`, closing what was there (dup2/dup3). */
  install(fd: number, file: OpenFile, cloexec: boolean): void {
    file.refs++; // before closing: fd may already hold the same file
    this.close(fd);
    this.fds[fd] = { file, cloexec };
  }

  /** Close fd; false if it was not open. */
  close(fd: number): boolean {
    const e = this.get(fd);
    if (!e) return false;
    this.fds[fd] = undefined;
    while (this.fds.length > 0 && this.fds[this.fds.length - 1] === undefined) this.fds.length--;
    if (--e.file.refs === 0) e.file.release();
    return true;
  }

  /** Open descriptors in ascending order. */
  list(): number[] {
    const out: number[] = [];
    this.fds.forEach((e, fd) => {
      if (e) out.push(fd);
    });
    return out;
  }

  /** fork: the child's table, every descriptor referring to the same open file description, close-on-exec flags kept. */
  fork(): FdTable {
    const t = new FdTable();
    t.limit = this.limit;
    this.fds.forEach((e, fd) => {
      if (!e) return;
      t.fds[fd] = { file: e.file, cloexec: e.cloexec };
      e.file.refs++;
    });
    return t;
  }

  /** Close every descriptor (process exit). */
  closeAll(): void {
    for (const fd of this.list()) this.close(fd);
  }

  /** Close the descriptors marked close-on-exec (execve). */
  closeOnExec(): void {
    for (const fd of this.list()) if (this.fds[fd]?.cloexec) this.close(fd);
  }
}
