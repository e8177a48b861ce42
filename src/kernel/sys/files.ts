/**
 * Core file operations shared by the fs syscalls: path lookup through the
 * Vfs (with the /proc/self and /dev/fd specials), opening, reading and
 * writing open file descriptions, and stat structures.
 */
import { dateNow, hostFs as fs, hostOs as os } from '../hostlog.js';
import * as net from 'node:net';
import * as tty from 'node:tty';
import {
  EAGAIN, EBADF, EINTR, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, EPIPE, ESPIPE, EXDEV, SysError,
} from '../errno.js';
import {
  OpenFile, Pipe, O_ACCMODE, O_APPEND, O_ASYNC, O_CLOEXEC, O_CREAT, O_DIRECT, O_DIRECTORY, O_DSYNC, O_EXCL, O_LARGEFILE,
  O_NOATIME, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR, O_SYNC, O_TRUNC, O_WRONLY,
} from '../fdtable.js';
import type { Process } from '../process.js';
import { isSocketInode } from '../net/sockinode.js';
import { RESOLVE_BENEATH, RESOLVE_IN_ROOT, joinGuest, type Magic, type Resolved } from '../vfs.js';
import { SI_USER, kindOf, monoNs, utf8 } from './util.js';

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_EACCESS = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_NO_AUTOMOUNT = 0x800;
export const AT_EMPTY_PATH = 0x1000;
export const AT_STATX_SYNC_TYPE = 0x6000;
export const AT_STATX_FORCE_SYNC = 0x2000;
export const AT_STATX_DONT_SYNC = 0x4000;

/** Linux's MAX_RW_COUNT: larger reads and writes are shortened. */
export const MAX_RW = 0x7ffff000;

export const S_IFMT = 0o170000;
export const S_IFIFO = 0o010000;
export const S_IFSOCK = 0o140000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/** stat data as bigints (the fields of Node's BigIntStats we use). */
export interface KStat {
  dev: bigint;
  ino: bigint;
  mode: bigint;
  nlink: bigint;
  uid: bigint;
  gid: bigint;
  rdev: bigint;
  size: bigint;
  blksize: bigint;
  blocks: bigint;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  birthtimeNs: bigint;
}

// ---- special paths ----

/** A node of the emulated procfs or /dev/fd; `proc` is the process it belongs to (/proc/PID's, or the caller's). */
export type Special = (
  | { type: 'exe' }
  | { type: 'cwd' }
  | { type: 'root' }
  | { type: 'fd'; fd: number }
  | { type: 'synth'; name: string; make: () => Uint8Array }
  | { type: 'fddir' }
  | { type: 'taskdir' }
) & { proc: Process };

/** Device nodes reached on the host even when the root is confined and lacks them. */
const HOST_DEVICES = new Set(['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);

/** The process a /proc component names: self, thread-self, or the pid of a process of the machine (zombies too). */
function procNamed(p: Process, c: string): Process | null {
  if (c === 'self' || c === 'thread-self') return p;
  if (!/^\d+$/.test(c)) return null;
  const pid = Number(c);
  if (pid === p.pid) return p;
  return p.kernel.procs.get(pid) ?? null;
}

/** The special meaning of a (lexically normalized) guest path, if any. */
export function specialPath(p: Process, norm: string): Special | null {
  if (norm === '/dev/stdin') return { type: 'fd', fd: 0, proc: p };
  if (norm === '/dev/stdout') return { type: 'fd', fd: 1, proc: p };
  if (norm === '/dev/stderr') return { type: 'fd', fd: 2, proc: p };
  let m = /^\/dev\/fd\/(\d+)$/.exec(norm);
  if (m) return { type: 'fd', fd: Number(m[1]), proc: p };
  if (norm === '/dev/fd') return { type: 'fddir', proc: p };
  m = /^\/proc\/(self|thread-self|\d+)(\/.*)?$/.exec(norm);
  if (!m) return null;
  const q = procNamed(p, m[1]);
  if (q === null) return null;
  const rest = m[2] ?? '';
  if (rest === '/exe') return { type: 'exe', proc: q };
  if (rest === '/cwd') return { type: 'cwd', proc: q };
  if (rest === '/root') return { type: 'root', proc: q };
  if (rest === '/fd') return { type: 'fddir', proc: q };
  if (rest === '/task') return { type: 'taskdir', proc: q };
  const fdm = /^\/fd\/(\d+)$/.exec(rest);
  if (fdm) return { type: 'fd', fd: Number(fdm[1]), proc: q };
  const synth = (make: () => string): Special => ({ type: 'synth', name: norm, make: () => utf8(make()), proc: q });
  if (rest === '/maps') return synth(() => (q.ended ? '' : q.mm.procMaps()));
  if (rest === '/cmdline') return synth(() => (q.ended ? '' : q.argv.map((a) => a + '\0').join('')));
  if (rest === '/comm') return synth(() => (m[1] === 'thread-self' ? q.comm : q.leaderComm) + '\n');
  // a thread of the process: its name and state (no directory listing of /proc/PID/task yet)
  const tm = /^\/task\/(\d+)\/(comm|stat)$/.exec(rest);
  if (tm) {
    const t = q.threads.find((x) => x.tid === Number(tm[1]));
    if (!t) return null;
    return tm[2] === 'comm' ? synth(() => t.comm + '\n') : synth(() => procStat(q, t));
  }
  if (rest === '/stat') return synth(() => procStat(q));
  if (rest === '/status') return synth(() => procStatus(q));
  return null;
}

/** The state letter of a process and its name in /proc/PID/status. */
const STATE_NAMES = { R: 'R (running)', S: 'S (sleeping)', Z: 'Z (zombie)' } as const;

/** Clock ticks (USER_HZ, 100 a second) since the host booted, at monotonic time ns. */
function ticksSinceBoot(ns: bigint): number {
  const sinceNow = Number((monoNs() - ns) / 10000000n);
  return Math.max(0, Math.round(os.uptime() * 100) - sinceNow);
}

/** A signal set as /proc/PID/stat writes the obsolete masks: a decimal of the low 64 bits. */
function maskOf(sigs: (sig: number) => boolean): string {
  let m = 0n;
  for (let s = 1; s <= 64; s++) if (sigs(s)) m |= 1n << BigInt(s - 1);
  return m.toString();
}

/** /proc/PID/stat, the fields ps and shells read: ids, state, sizes, start time, signal masks; no CPU times (0). */
function procStat(p: Process, t = p.threads.find((x) => x.tid === p.pid) ?? p.current): string {
  const f = new Array(52).fill('0');
  const live = !p.ended;
  f[0] = String(t.tid);
  f[1] = `(${t.comm})`;
  f[2] = p.threads.length === 0 ? 'Z' : t.state;
  f[3] = String(p.ppid);
  f[4] = String(p.pgid);
  f[5] = String(p.sid);
  f[7] = '-1'; // tpgid: no controlling terminal's foreground group is kept
  f[17] = '20'; // priority
  f[19] = '1'; // threads
  f[21] = String(ticksSinceBoot(p.startMono));
  if (live) {
    f[22] = String(p.mm.totalVm());
    f[23] = String(p.mem.pageCount);
    f[24] = String(p.rlimits[9][0] > 0xffffffffffffffffn - 1n ? 0xffffffffffffffffn : p.rlimits[9][0]);
    const img = p.image;
    if (img) {
      const text = img.segments.filter((s) => s.prot & 4);
      if (text.length > 0) {
        f[25] = String(Math.min(...text.map((s) => s.start)));
        f[26] = String(Math.max(...text.map((s) => s.end)));
      }
    }
    f[27] = '140737488351232'; // startstack (0x7ffffffff000)
    f[46] = String(p.mm.brkStart);
  }
  f[30] = maskOf((s) => p.pending.has(s));
  f[31] = maskOf((s) => ((s <= 32 ? p.blockedLo >>> (s - 1) : p.blockedHi >>> (s - 33)) & 1) === 1);
  f[32] = maskOf((s) => p.sigactions[s]?.handler === 1);
  f[33] = maskOf((s) => (p.sigactions[s]?.handler ?? 0) > 1);
  f[37] = String(p.exitSignal);
  if (p.ended) f[51] = String(p.termSignal !== null ? p.termSignal : (p.exitCode! & 0xff) << 8);
  return f.join(' ') + '\n';
}

function procStatus(p: Process): string {
  const mask = (hi: number, lo: number) => `${(hi >>> 0).toString(16).padStart(8, '0')}${(lo >>> 0).toString(16).padStart(8, '0')}`;
  let s =
    `Name:\t${p.leaderComm}\nUmask:\t${p.umask.toString(8).padStart(4, '0')}\nState:\t${STATE_NAMES[p.task.state]}\nTgid:\t${p.pid}\nNgid:\t0\nPid:\t${p.pid}\nPPid:\t${p.ppid}\n` +
    `TracerPid:\t0\nUid:\t${p.uid}\t${p.euid}\t${p.suid}\t${p.euid}\nGid:\t${p.gid}\t${p.egid}\t${p.sgid}\t${p.egid}\n` +
    `FDSize:\t64\nGroups:\t${p.groups.join(' ')}\n`;
  if (!p.ended) s += `VmSize:\t${String(Math.floor(p.mm.totalVm() / 1024)).padStart(8)} kB\nVmRSS:\t${String(p.mem.pageCount * 4).padStart(8)} kB\n`;
  return (
    s +
    `Threads:\t${Math.max(p.threads.length, 1)}\n` +
    `SigPnd:\t0000000000000000\nShdPnd:\t${mask(0, [...p.pending].reduce((m, x) => (x <= 32 ? m | (1 << (x - 1)) : m), 0))}\n` +
    `SigBlk:\t${mask(p.blockedHi, p.blockedLo)}\n`
  );
}

// ---- lookup ----

/** Guest directory a relative path starts from (cwd, or the dirfd's directory). */
export function baseDir(p: Process, dirfd: number, path: string, scoped = false): string {
  // a scoped lookup (RESOLVE_BENEATH, RESOLVE_IN_ROOT) is relative to dirfd even for an absolute path
  if (path.startsWith('/') && !scoped) return '/';
  if (dirfd === AT_FDCWD) return p.cwd;
  const e = p.fds.get(dirfd);
  if (!e) throw new SysError(EBADF);
  if (e.file.kind !== 'dir') throw new SysError(ENOTDIR);
  return e.file.guestPath;
}

/** Lexically normalized guest path of (dirfd, path). */
export function guestNorm(p: Process, dirfd: number, path: string): string {
  return joinGuest(baseDir(p, dirfd, path), path);
}

/** The components of an open file's guest path, for a magic link through it. */
function fdTarget(p: Process, fd: string): string[] {
  const e = p.fds.get(Number(fd));
  if (!e) throw new SysError(ENOENT);
  if (e.file.kind === 'pipe' || e.file.kind === 'synth' || e.file.guestPath === '') throw new SysError(ENOTDIR); // nothing to walk into
  return e.file.guestPath.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * The emulated procfs and /dev/fd for the path walk (vfs.ts): /proc and
 * /proc/self are the emulated kernel's, never the host's (whose self is the
 * emulator); /proc/self/{fd/N,cwd,root,exe}, /dev/fd/N and /dev/std* are
 * magic links to the guest path they stand for; /dev is provided when the
 * root has none.
 */
function procMagic(p: Process, st: readonly string[]): Magic {
  if (st[0] === 'proc') {
    if (st.length === 1) return 'virtual';
    const q = procNamed(p, st[1]);
    if (q === null) return null;
    if (st.length === 2) return 'virtual';
    if (st.length === 3) {
      if (st[2] === 'fd' || st[2] === 'task') return 'virtual';
      if (st[2] === 'root') return { jump: [] };
      if (st[2] === 'cwd') return { jump: parts(q.cwd) };
      if (st[2] === 'exe') return { jump: parts(q.exePath) };
      return null;
    }
    if (st.length === 4 && st[2] === 'fd' && /^\d+$/.test(st[3])) return { jump: fdTarget(q, st[3]) };
    // a thread's directory: its comm and stat are served by specialPath
    if (st[2] === 'task' && st.length >= 4 && q.threads.some((t) => String(t.tid) === st[3])) return 'virtual';
    return null;
  }
  if (st[0] === 'dev') {
    if (st.length === 1) return fs.existsSync(p.vfs.resolve('/dev', '/', { followFinal: false })) ? null : 'virtual';
    if (st.length === 2 && st[1] === 'fd') return 'virtual';
    if (st.length === 2 && /^std(in|out|err)$/.test(st[1])) return { jump: fdTarget(p, String(['stdin', 'stdout', 'stderr'].indexOf(st[1]))) };
    if (st.length === 3 && st[1] === 'fd' && /^\d+$/.test(st[2])) return { jump: fdTarget(p, st[2]) };
  }
  return null;
}

function parts(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * Resolve (dirfd, path) to a host path, through the emulated procfs's magic
 * links; `resolveFlags` are openat2's RESOLVE_*. A final magic link or
 * procfs file is not followed: `lookup` turns it into a Special.
 */
export function resolveAt(p: Process, dirfd: number, path: string, follow: boolean, resolveFlags = 0): Resolved {
  if (path === '') throw new SysError(ENOENT);
  const base = baseDir(p, dirfd, path, (resolveFlags & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) !== 0);
  if (p.vfs.confined && resolveFlags === 0) {
    const norm = joinGuest(base, path);
    if (HOST_DEVICES.has(norm)) {
      // the root's own device node if it has one, else the host's
      try {
        const r = p.vfs.resolveFull(path, base, { followFinal: follow });
        if (fs.existsSync(r.host)) return r;
      } catch {
        /* no /dev in the root */
      }
      return { host: norm, guest: norm };
    }
  }
  return p.vfs.resolveFull(path, base, { followFinal: follow, magic: (st) => procMagic(p, st), resolve: resolveFlags });
}

/** A path looked up: the emulated kernel's own node it names (sp), else the host path (r). */
export interface Lookup {
  sp: Special | null;
  r: Resolved;
}

/** Look (dirfd, path) up: resolved in the root, then checked against the emulated kernel's nodes by its canonical guest path. */
export function lookup(p: Process, dirfd: number, path: string, follow: boolean, resolveFlags = 0): Lookup {
  const r = resolveAt(p, dirfd, path, follow, resolveFlags);
  return { sp: specialPath(p, r.guest), r };
}

// ---- stat ----

export function hostStat(path: string, follow: boolean): KStat {
  const st = follow ? fs.statSync(path, { bigint: true }) : fs.lstatSync(path, { bigint: true });
  // the placeholder of an AF_UNIX socket's inode (net/sockinode.ts) is a socket to the guest
  if (isSocketInode(st.dev, st.ino)) return { ...st, mode: BigInt(S_IFSOCK) | (st.mode & 0o7777n) };
  return st;
}

function syntheticStat(p: Process, mode: number, ino: number, dev: number, owner: { uid: number; gid: number } | null = null): KStat {
  const t = BigInt(dateNow()) * 1000000n;
  return {
    dev: BigInt(dev), ino: BigInt(ino), mode: BigInt(mode), nlink: 1n, uid: BigInt(owner?.uid ?? p.euid), gid: BigInt(owner?.gid ?? p.egid), rdev: 0n,
    size: 0n, blksize: 4096n, blocks: 0n, atimeNs: t, mtimeNs: t, ctimeNs: t, birthtimeNs: 0n,
  };
}

/**
 * A host path that names the very inode open file f refers to, for host
 * calls that take a path only (link, readlink). The path f was opened by may
 * since lead elsewhere (a directory on it swapped for a symlink to a host
 * directory): it is used only if it still reaches the same inode, without
 * following a final symlink, else the call cannot be done here (EXDEV).
 */
export function sameInodePath(f: OpenFile): string {
  if (f.hostFd < 0 || f.hostPath === '') throw new SysError(EXDEV);
  const want = fs.fstatSync(f.hostFd, { bigint: true });
  const now = fs.lstatSync(f.hostPath, { bigint: true, throwIfNoEntry: false });
  if (!now || now.dev !== want.dev || now.ino !== want.ino) throw new SysError(EXDEV);
  return f.hostPath;
}

/** fstat of an open file. */
export function fileStat(p: Process, f: OpenFile): KStat {
  if (f.kind === 'pipe') return syntheticStat(p, S_IFIFO | 0o600, f.pipe!.ino, 0xe, f.pipe!.owner);
  if (f.kind === 'synth') return syntheticStat(p, S_IFREG | 0o444, f.synthIno, 0x16);
  if (f.synthDir) return syntheticStat(p, 0o040555, f.synthIno, 0x16);
  // anon_inode files share one inode with no type bits; sockets are sockfs inodes of their own
  if (f.kind === 'anon') return syntheticStat(p, 0o600, 1, 0xf);
  if (f.ops) return syntheticStat(p, S_IFSOCK | 0o777, f.synthIno, 0x8);
  if (f.hostFd >= 0) return fs.fstatSync(f.hostFd, { bigint: true });
  return hostStat(f.hostPath, false);
}

/** stat of an emulated kernel node. */
export function specialStat(p: Process, sp: Special): KStat {
  const q = sp.proc;
  switch (sp.type) {
    case 'exe':
      return hostStat(q.vfs.resolve(q.exePath, '/'), true);
    case 'cwd':
      return hostStat(q.vfs.resolve(q.cwd, '/'), true);
    case 'root':
      return hostStat(q.vfs.resolve('/', '/'), true);
    case 'fd':
      return fileStat(q, q.fds.file(sp.fd));
    case 'synth':
      return syntheticStat(p, S_IFREG | 0o444, 0x20000 + sp.name.length, 0x16);
    case 'fddir':
      return syntheticStat(p, 0o040500, 0x30000, 0x16);
    case 'taskdir':
      return syntheticStat(p, 0o040555, 0x40000 + q.pid, 0x16);
  }
}

/** stat of a path (with the specials). */
export function pathStat(p: Process, dirfd: number, path: string, follow: boolean): KStat {
  if (path === '') throw new SysError(ENOENT);
  const { sp, r } = lookup(p, dirfd, path, follow);
  if (sp) return specialStat(p, sp);
  return hostStat(r.host, follow);
}

function split(ns: bigint): [bigint, bigint] {
  let s = ns / 1000000000n;
  let n = ns % 1000000000n;
  if (n < 0n) {
    n += 1000000000n;
    s -= 1n;
  }
  return [s, n];
}

/** struct stat (x86-64, 144 bytes). */
export function packStat(st: KStat): Uint8Array {
  const b = new Uint8Array(144);
  const dv = new DataView(b.buffer);
  const u = (o: number, v: bigint) => dv.setBigUint64(o, BigInt.asUintN(64, v), true);
  u(0, st.dev);
  u(8, st.ino);
  u(16, st.nlink);
  dv.setUint32(24, Number(st.mode), true);
  dv.setUint32(28, Number(st.uid), true);
  dv.setUint32(32, Number(st.gid), true);
  u(40, st.rdev);
  u(48, st.size);
  u(56, st.blksize);
  u(64, st.blocks);
  const times = [st.atimeNs, st.mtimeNs, st.ctimeNs];
  times.forEach((t, k) => {
    const [s, n] = split(t);
    u(72 + k * 16, s);
    u(80 + k * 16, n);
  });
  return b;
}

export const STATX_BASIC_STATS = 0x7ff;
export const STATX_BTIME = 0x800;

/** struct statx (256 bytes). */
export function packStatx(st: KStat): Uint8Array {
  const b = new Uint8Array(256);
  const dv = new DataView(b.buffer);
  const u64 = (o: number, v: bigint) => dv.setBigUint64(o, BigInt.asUintN(64, v), true);
  const hasBtime = st.birthtimeNs !== 0n;
  dv.setUint32(0, STATX_BASIC_STATS | (hasBtime ? STATX_BTIME : 0), true);
  dv.setUint32(4, Number(st.blksize), true);
  u64(8, 0n); // attributes
  dv.setUint32(16, Number(st.nlink), true);
  dv.setUint32(20, Number(st.uid), true);
  dv.setUint32(24, Number(st.gid), true);
  dv.setUint16(28, Number(st.mode), true);
  u64(32, st.ino);
  u64(40, st.size);
  u64(48, st.blocks);
  u64(56, 0n); // attributes_mask
  const ts = (o: number, ns: bigint) => {
    const [s, n] = split(ns);
    dv.setBigInt64(o, s, true);
    dv.setUint32(o + 8, Number(n), true);
  };
  ts(0x40, st.atimeNs);
  if (hasBtime) ts(0x50, st.birthtimeNs);
  ts(0x60, st.ctimeNs);
  ts(0x70, st.mtimeNs);
  const major = (d: bigint) => Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn & 0xffffffffn));
  const minor = (d: bigint) => Number((d & 0xffn) | ((d >> 12n) & ~0xffn & 0xffffffffn));
  dv.setUint32(0x80, major(st.rdev), true);
  dv.setUint32(0x84, minor(st.rdev), true);
  dv.setUint32(0x88, major(st.dev), true);
  dv.setUint32(0x8c, minor(st.dev), true);
  return b;
}

// ---- opening ----

/** Status flags an open file description keeps (F_GETFL). */
const KEEP_FLAGS = O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT | O_LARGEFILE | O_NOATIME | O_PATH | O_SYNC;

/** Wrap a freshly opened host fd. */
export function wrapHostFd(hostFd: number, flags: number, hostPath: string, guestPath: string): OpenFile {
  const st = fs.fstatSync(hostFd);
  const kind = kindOf(st);
  const f = new OpenFile(kind, (flags & KEEP_FLAGS) | O_LARGEFILE);
  f.hostFd = hostFd;
  f.hostPath = hostPath;
  f.guestPath = guestPath;
  f.positioned = kind === 'reg' || kind === 'blk';
  f.isTty = kind === 'chr' && tty.isatty(hostFd);
  return f;
}

/**
 * open(2) core: returns a new OpenFile (not yet in the fd table).
 * `flags` are Linux open flags; `mode` the creation mode before umask.
 */
export function openFile(p: Process, dirfd: number, path: string, flags: number, mode: number, resolveFlags = 0): OpenFile {
  if (path === '') throw new SysError(ENOENT);
  const creat = (flags & O_CREAT) !== 0;
  const follow = !(flags & O_NOFOLLOW) && !(creat && flags & O_EXCL);
  const { sp, r } = lookup(p, dirfd, path, follow, resolveFlags);
  if (sp) return openSpecial(p, sp, flags, mode);
  if (flags & O_PATH) flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  const wanted = mode & 0o7777 & ~p.umask;
  let existed = true;
  if (creat || (flags & 0o20000000) !== 0) {
    try {
      fs.lstatSync(r.host);
    } catch {
      existed = false;
    }
  }
  // O_APPEND is emulated (positioned writes at the end), O_CLOEXEC is per descriptor
  const hostFlags = flags & ~(O_CLOEXEC | O_APPEND);
  const fd = fs.openSync(r.host, hostFlags, wanted);
  try {
    if (!existed && wanted & p.hostUmask) fs.fchmodSync(fd, wanted);
  } catch {
    /* best effort */
  }
  let guest = r.guest;
  let f: OpenFile;
  try {
    f = wrapHostFd(fd, flags, r.host, guest);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  if (f.kind === 'dir' && !p.vfs.confined) {
    try {
      guest = fs.realpathSync(r.host);
    } catch {
      /* keep the lexical path */
    }
    f.guestPath = guest;
  }
  if (f.kind === 'lnk') {
    // O_PATH|O_NOFOLLOW on a symlink: the link itself
    f.positioned = false;
  }
  return f;
}

function openSpecial(p: Process, sp: Special, flags: number, mode: number): OpenFile {
  const q = sp.proc;
  switch (sp.type) {
    case 'exe': {
      const host = q.vfs.resolve(q.exePath, '/');
      const fd = fs.openSync(host, flags & ~(O_CLOEXEC | O_APPEND | O_CREAT), mode);
      return wrapHostFd(fd, flags, host, q.exePath);
    }
    case 'cwd':
    case 'root': {
      const guest = sp.type === 'cwd' ? q.cwd : '/';
      const host = q.vfs.resolve(guest, '/');
      const fd = fs.openSync(host, flags & ~(O_CLOEXEC | O_APPEND | O_CREAT), mode);
      return wrapHostFd(fd, flags, host, guest);
    }
    case 'fddir': {
      if ((flags & O_ACCMODE) !== O_RDONLY) throw new SysError(EISDIR);
      const f = new OpenFile('synth', O_RDONLY | O_LARGEFILE);
      f.data = new Uint8Array(0);
      return f;
    }
    case 'taskdir': {
      // a directory per live thread, named by its tid (the entries as of the open, as a procfs readdir's snapshot)
      if ((flags & O_ACCMODE) !== O_RDONLY) throw new SysError(EISDIR);
      const f = new OpenFile('dir', (flags & KEEP_FLAGS) | O_LARGEFILE);
      const DT_DIR = 4;
      const ino = (n: number) => BigInt(0x40000 + n);
      f.synthDir = [
        { name: '.', ino: ino(q.pid), type: DT_DIR },
        { name: '..', ino: ino(0), type: DT_DIR },
        ...q.threads.map((t) => ({ name: String(t.tid), ino: ino(t.tid), type: DT_DIR })),
      ];
      f.guestPath = `/proc/${q.pid}/task`;
      return f;
    }
    case 'synth': {
      if ((flags & O_ACCMODE) !== O_RDONLY) throw new SysError(13 /* EACCES */);
      if (flags & O_DIRECTORY) throw new SysError(ENOTDIR);
      const f = new OpenFile('synth', (flags & KEEP_FLAGS) | O_LARGEFILE);
      f.data = sp.make();
      f.guestPath = sp.name;
      return f;
    }
    case 'fd': {
      const t = q.fds.file(sp.fd);
      if (t.kind === 'pipe') {
        const acc = flags & O_ACCMODE;
        if (acc === O_RDWR) throw new SysError(EINVAL);
        const f = new OpenFile('pipe', (flags & (O_ACCMODE | O_NONBLOCK)));
        f.pipe = t.pipe;
        if (acc === O_RDONLY) t.pipe!.readers++;
        else t.pipe!.writers++;
        return f;
      }
      if (t.kind === 'synth') {
        const f = new OpenFile('synth', t.flags);
        f.data = t.data;
        f.guestPath = t.guestPath;
        return f;
      }
      if (t.hostFd < 0) throw new SysError(ENOENT);
      const hp = `/proc/self/fd/${t.hostFd}`;
      if (flags & O_NOFOLLOW) throw new SysError(ELOOP);
      const fd = fs.openSync(hp, flags & ~(O_CLOEXEC | O_APPEND | O_CREAT | O_EXCL), mode);
      const f = wrapHostFd(fd, flags, t.hostPath, t.guestPath);
      return f;
    }
  }
}

/** Install a new pipe; returns [readFile, writeFile]. */
export function makePipe(p: Process, flags: number): [OpenFile, OpenFile] {
  const pipe = new Pipe(p.allocPipeIno());
  const r = new OpenFile('pipe', O_RDONLY | (flags & O_NONBLOCK));
  const w = new OpenFile('pipe', O_WRONLY | (flags & O_NONBLOCK));
  r.pipe = w.pipe = pipe;
  pipe.readers = 1;
  pipe.writers = 1;
  r.guestPath = w.guestPath = `pipe:[${pipe.ino}]`;
  return [r, w];
}

// ---- reading and writing ----

/** Wait between retries of a would-block host operation; throws EINTR if a signal arrives. */
function retryWait(p: Process): void {
  p.pollTimers();
  if (p.hasInterruptingSignal()) {
    p.interrupted = 'sys';
    throw new SysError(EINTR);
  }
  p.sleep(5);
}

/**
 * The fd to read a sequential host file through: the file's own, or with a
 * debugger attached (p.cooperative) a non-blocking twin, so an empty tty or
 * pipe gives EAGAIN (retried by the machine) rather than blocking the stub.
 */
function readFdOf(p: Process, f: OpenFile): number {
  if (p.cooperative && f.kind === 'sock' && !(f.flags & O_NONBLOCK)) return nonblockingSocket(f.hostFd);
  // only where an open file offset means nothing: a twin of a file would start at 0
  if (!p.cooperative || f.flags & O_NONBLOCK || (f.kind !== 'fifo' && f.kind !== 'chr')) return f.hostFd;
  if (f.nbHostFd === -1) {
    try {
      f.nbHostFd = fs.openSync(`/proc/self/fd/${f.hostFd}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
    } catch {
      f.nbHostFd = -2;
    }
  }
  return f.nbHostFd >= 0 ? f.nbHostFd : f.hostFd;
}

/**
 * Host sockets (an inherited stdio socket: what Node's `stdio: 'pipe'` gives
 * a child) made non-blocking, with the handle that did it: held, so that it
 * is never collected (and the fd closed with it).
 */
const nonblockingSockets = new Map<number, net.Socket | null>();

/**
 * A host socket fd that a read cannot block on: /proc/self/fd of a socket
 * cannot be opened again, so the fd itself is made non-blocking, through a
 * libuv handle that never reads (the way Node opens process.stdin: manualStart).
 * The flag is the open file's, shared with whoever else holds the socket, as
 * it is when Node itself reads stdin.
 */
function nonblockingSocket(fd: number): number {
  if (!nonblockingSockets.has(fd)) {
    let handle: net.Socket | null = null;
    try {
      handle = new net.Socket({ fd, readable: true, writable: false, manualStart: true } as net.SocketConstructorOpts & { manualStart: boolean });
    } catch {
      // not a stream socket libuv can open: the read may block, as before
    }
    nonblockingSockets.set(fd, handle);
  }
  return fd;
}

function isAgain(e: unknown): boolean {
  const c = (e as { code?: string }).code;
  return c === 'EAGAIN' || c === 'EWOULDBLOCK';
}

/**
 * Read up to len bytes. pos null: at (and advancing) the file offset; a
 * number: pread at that offset. For positioned files the caller may roll
 * back `f.pos` if copying to the guest fails.
 */
export function fileRead(p: Process, f: OpenFile, len: number, pos: number | null): Uint8Array {
  if (!f.readable) throw new SysError(EBADF);
  if (f.kind === 'dir') throw new SysError(EISDIR);
  len = Math.min(len, MAX_RW);
  if (pos !== null && !f.positioned && f.kind !== 'synth' && f.kind !== 'reg') throw new SysError(ESPIPE);
  if (f.ops) {
    if (!f.ops.read) throw new SysError(EINVAL);
    return f.ops.read(p, f, len);
  }
  if (len === 0) return new Uint8Array(0);
  switch (f.kind) {
    case 'pipe': {
      const pipe = f.pipe!;
      for (;;) {
        if (pipe.size > 0) return pipe.read(len);
        if (pipe.writers === 0) return new Uint8Array(0);
        if (f.flags & O_NONBLOCK) throw new SysError(EAGAIN);
        const w = p.waitForSignal(null);
        if (w === 'signal') {
          p.interrupted = 'sys';
          throw new SysError(EINTR);
        }
        p.warnOnce('entrystub: read from an empty pipe that no process can write would block forever; returning EOF');
        return new Uint8Array(0);
      }
    }
    case 'synth': {
      const data = f.data!;
      const at = pos ?? f.pos;
      const out = data.slice(Math.min(at, data.length), Math.min(at + len, data.length));
      if (pos === null) f.pos += out.length;
      return out;
    }
  }
  if (f.hostFd < 0) throw new SysError(EBADF);
  if (f.positioned || pos !== null) {
    let at = pos ?? f.pos;
    // what shared mappings of the file hold is what the read must see
    p.kernel.pageCache.ofFd(f.hostFd)?.writeBack(at, len);
    const chunks: Uint8Array[] = [];
    let total = 0;
    while (total < len) {
      const n0 = Math.min(len - total, 1 << 20);
      const buf = new Uint8Array(n0);
      const n = fs.readSync(f.hostFd, buf, 0, n0, at);
      chunks.push(buf.subarray(0, n));
      total += n;
      at += n;
      if (n < n0) break;
    }
    if (pos === null) f.pos = at;
    return concat(chunks, total);
  }
  // sequential host I/O: ttys, devices, fifos, inherited stdio
  const buf = new Uint8Array(Math.min(len, 1 << 20));
  for (;;) {
    try {
      const n = fs.readSync(readFdOf(p, f), buf, 0, buf.length, null);
      return buf.subarray(0, n);
    } catch (e) {
      if (isAgain(e) && !(f.flags & O_NONBLOCK)) {
        retryWait(p);
        continue;
      }
      if ((e as { code?: string }).code === 'EOF') return new Uint8Array(0);
      throw e;
    }
  }
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** SIGPIPE for a write to a pipe without readers. */
function sigpipe(p: Process): never {
  p.raise(13, { signo: 13, code: SI_USER, pid: p.pid, uid: p.uid });
  throw new SysError(EPIPE);
}

/** Write data. pos null: at the file offset (or the end with O_APPEND); a number: pwrite. Returns bytes written. */
export function fileWrite(p: Process, f: OpenFile, data: Uint8Array, pos: number | null): number {
  if (!f.writable) throw new SysError(EBADF);
  if (data.length > MAX_RW) data = data.subarray(0, MAX_RW);
  if (pos !== null && !f.positioned && f.kind !== 'reg') throw new SysError(ESPIPE);
  if (f.ops) {
    if (!f.ops.write) throw new SysError(EINVAL);
    return f.ops.write(p, f, data);
  }
  switch (f.kind) {
    case 'pipe': {
      // Linux's pipe_write (see Pipe): what fits goes in; a full pipe waits for a reader (only a
      // signal can end that wait here) or, O_NONBLOCK, answers what fit or EAGAIN
      const pipe = f.pipe!;
      // a retry of a write that parked on a full pipe goes on from what it had written
      let done = Math.min(p.retryProgress, data.length);
      for (let first = done === 0; ; first = false) {
        if (pipe.readers === 0) {
          if (done > 0) return done;
          sigpipe(p);
        }
        done += pipe.write(data.subarray(done), first);
        if (done === data.length) return done;
        if (f.flags & O_NONBLOCK) {
          if (done > 0) return done;
          throw new SysError(EAGAIN);
        }
        p.retryProgress = done;
        const w = p.waitForSignal(null);
        if (w === 'signal') {
          if (done > 0) return done;
          p.interrupted = 'sys';
          throw new SysError(EINTR);
        }
        p.warnOnce('entrystub: write to a full pipe that no process can read would block forever; returning what fit');
        if (done > 0) return done;
        throw new SysError(EAGAIN);
      }
    }
    case 'synth':
    case 'dir':
      throw new SysError(EBADF);
  }
  if (f.hostFd < 0) throw new SysError(EBADF);
  if (data.length === 0) return 0;
  if (f.positioned || pos !== null) {
    let at: number;
    if (f.flags & O_APPEND) at = Number(fs.fstatSync(f.hostFd).size);
    else at = pos ?? f.pos;
    let done = 0;
    while (done < data.length) done += fs.writeSync(f.hostFd, data, done, data.length - done, at + done);
    // and every shared mapping of the file shows what was written
    p.kernel.pageCache.ofFd(f.hostFd)?.wrote(at, data.subarray(0, done));
    if (pos === null) f.pos = at + done;
    return done;
  }
  let done = 0;
  while (done < data.length) {
    try {
      done += fs.writeSync(f.hostFd, data, done, data.length - done, null);
    } catch (e) {
      if (isAgain(e)) {
        if (f.flags & O_NONBLOCK) {
          if (done > 0) return done;
          throw new SysError(EAGAIN);
        }
        try {
          retryWait(p);
        } catch (intr) {
          if (done > 0) return done;
          throw intr;
        }
        continue;
      }
      if ((e as { code?: string }).code === 'EPIPE') {
        if (done > 0) return done;
        sigpipe(p);
      }
      throw e;
    }
  }
  return done;
}

/** The file's current size for SEEK_END. */
export function fileSize(p: Process, f: OpenFile): number {
  if (f.kind === 'synth') return f.data!.length;
  return Number(fileStat(p, f).size);
}

/** Host offset of an inherited descriptor (from /proc/self/fdinfo), or null. */
export function hostOffset(hostFd: number): number | null {
  try {
    const m = /^pos:\s*(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${hostFd}`, 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    /* unavailable */
  }
  return null;
}

export { O_CREAT, O_EXCL, O_TRUNC, O_WRONLY, O_RDWR, O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_CLOEXEC, O_NONBLOCK, O_APPEND };
