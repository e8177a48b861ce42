/**
 * The socket syscalls (net/socket.c): socket, socketpair, bind, listen,
 * accept, accept4, connect, shutdown, getsockname, getpeername, setsockopt,
 * getsockopt, sendto, recvfrom, sendmsg, recvmsg, sendmmsg, recvmmsg. They
 * copy addresses, iovecs and control messages between the guest and the
 * socket objects of net/ (net/unix.ts: AF_UNIX; net/inet.ts: AF_INET and
 * AF_INET6 through the host).
 *
 * Every call that names a descriptor answers as Linux does for descriptors
 * that are no sockets: EBADF for one that is not open, ENOTSOCK for a file,
 * pipe, tty or directory. Programs rely on that: bash calls getpeername on
 * its stdin and takes any other error for a network connection (it then
 * sources ~/.bashrc). A descriptor that is a host socket the emulator
 * inherited (an stdin, say) is not one it can work with: ENOSYS, reported.
 *
 * The checks come in the order of net/socket.c (checked against Linux 6.18 by
 * test/fixtures/src/notsock.c): what is validated before the descriptor is
 * looked up (compat flags, the user buffer of sendto and recvfrom, recvmmsg's
 * timeout) fails first.
 */
import {
  EAFNOSUPPORT, EBADF, EFAULT, EINVAL, EMSGSIZE, ENOSYS, ENOTSOCK, EOPNOTSUPP, EPERM, EPROTONOSUPPORT, ESOCKTNOSUPPORT, SysError, WouldBlock,
} from '../errno.js';
import type { OpenFile } from '../fdtable.js';
import { AF_INET, AF_INET6, AF_UNIX, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM, SOL_SOCKET, SO_RCVTIMEO, SO_SNDTIMEO, type Sock, type Ucred, dropRights, socketFile, sockOf } from '../net/socket.js';
import { UnixSocket } from '../net/unix.js';
import { createInet } from '../net/inet.js';
import type { Process } from '../process.js';
import type { HandlerTable } from './table.js';
import { Struct, type SyscallArgs, accessOk, read32, readMem, readTimespec, readU64, readView, write32, writeMem } from './util.js';

const SOCK_NONBLOCK = 0o4000, SOCK_CLOEXEC = 0o2000000;
const MSG_CMSG_COMPAT = 0x80000000, MSG_WAITFORONE = 0x10000;
/** Linux's MAX_RW_COUNT: import_ubuf clamps larger lengths to it. */
const MAX_RW_COUNT = 0x7ffff000;
/** sizeof(struct sockaddr_storage): the longest address a call takes. */
const SOCKADDR_MAX = 128;
const UIO_MAXIOV = 1024;
const SCM_RIGHTS = 1, SCM_CREDENTIALS = 2;
/** SCM_MAX_FD: descriptors in one SCM_RIGHTS message. */
const SCM_MAX_FD = 253;
/**
 * The message structures have one layout per ABI, every pointer and size_t
 * field w bytes wide: x86-64's msghdr, iovec, cmsghdr and mmsghdr (w 8), or
 * an i386 program's compat_msghdr, compat_iovec, compat_cmsghdr and
 * compat_mmsghdr (w 4). msghdr: name, namelen, iov, iovlen, control,
 * controllen, flags, one word each.
 */
export type Word = 4 | 8;
const msghdrSize = (w: Word) => 7 * w;
const mmsghdrSize = (w: Word) => (w === 8 ? 64 : 32);
const cmsgHdr = (w: Word) => w + 8;
const cmsgAlign = (n: number, w: Word) => (n + w - 1) & ~(w - 1);
/** A pointer or size_t of the ABI, from a view or from guest memory. */
const wordAt = (v: DataView, o: number, w: Word) => (w === 8 ? Number(v.getBigUint64(o, true)) : v.getUint32(o, true));
const wordIn = (p: Process, a: number, w: Word) => (w === 8 ? readU64(p.mem, a) : read32(p.mem, a) >>> 0);

/** fdget: the open file of fd (EBADF). */
function fileOf(p: Process, fd: number): OpenFile {
  const e = p.fds.get(fd);
  if (!e) throw new SysError(EBADF);
  return e.file;
}

/** sock_from_file: the file must be a socket (ENOTSOCK); a host socket the emulator inherited is where it stops (ENOSYS). */
function socketOf(p: Process, nr: number, f: OpenFile): Sock {
  if (f.kind !== 'sock') throw new SysError(ENOTSOCK);
  const s = sockOf(f);
  if (s) return s;
  p.unimplemented(nr, 'on a host socket the emulator inherited');
  throw new SysError(ENOSYS);
}

/** sockfd_lookup_light: the descriptor must be open and a socket. */
function sockfd(p: Process, nr: number, fd: number): [Sock, OpenFile] {
  const f = fileOf(p, fd);
  return [socketOf(p, nr, f), f];
}

/** import_ubuf: a user buffer the call would copy through must lie in the user half. */
function userBuffer(a: SyscallArgs, buf: number, len: number): void {
  const n = Math.min(a.unum(len), MAX_RW_COUNT);
  if (!accessOk(a.num(buf), n)) throw new SysError(EFAULT);
}

/** move_addr_to_kernel: an address of at most sizeof(sockaddr_storage). */
function readAddr(p: Process, addr: number, len: number): Uint8Array {
  if (len < 0 || len > SOCKADDR_MAX) throw new SysError(EINVAL);
  return readMem(p.mem, addr, len).slice();
}

/** move_addr_to_user: as much of the address as *lenAddr allows, and its whole length into *lenAddr. */
function writeAddr(p: Process, addr: number, lenAddr: number, a: Uint8Array): void {
  if (addr === 0) return;
  const len = read32(p.mem, lenAddr);
  if (len < 0) throw new SysError(EINVAL);
  writeMem(p.mem, addr, a.subarray(0, Math.min(len, a.length)));
  write32(p.mem, lenAddr, a.length);
}

function newSocket(p: Process, domain: number, type: number, protocol: number): Sock {
  const base = type & 0xf;
  switch (domain) {
    case AF_UNIX:
      if (protocol !== 0 && protocol !== AF_UNIX) throw new SysError(EPROTONOSUPPORT);
      if (base === SOCK_STREAM || base === SOCK_DGRAM || base === SOCK_SEQPACKET) return new UnixSocket(base, 0);
      if (base === SOCK_RAW) return new UnixSocket(SOCK_DGRAM, 0); // unix_create: SOCK_RAW is a datagram socket
      throw new SysError(ESOCKTNOSUPPORT);
    case AF_INET:
    case AF_INET6:
      return createInet(p, domain, base, protocol);
  }
  throw new SysError(EAFNOSUPPORT);
}

function sysSocket(p: Process, a: SyscallArgs): number {
  const domain = a.int(0), type = a.int(1), protocol = a.int(2);
  if (type & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC)) throw new SysError(EINVAL);
  if (domain < 0 || domain >= 46) throw new SysError(EAFNOSUPPORT);
  const s = newSocket(p, domain, type, protocol);
  const f = socketFile(s, (type & SOCK_NONBLOCK) !== 0);
  try {
    return p.fds.alloc(f, (type & SOCK_CLOEXEC) !== 0);
  } catch (e) {
    f.release();
    throw e;
  }
}

function sysSocketpair(p: Process, a: SyscallArgs): number {
  const domain = a.int(0), type = a.int(1), protocol = a.int(2);
  if (type & ~(0xf | SOCK_NONBLOCK | SOCK_CLOEXEC)) throw new SysError(EINVAL);
  // sock_no_socketpair
  if (domain === AF_INET || domain === AF_INET6) throw new SysError(EOPNOTSUPP);
  if (domain !== AF_UNIX) throw new SysError(EAFNOSUPPORT);
  const probe = newSocket(p, domain, type, protocol); // the checks of socket()
  const [x, y] = UnixSocket.pair(p, probe.type, 0);
  const nb = (type & SOCK_NONBLOCK) !== 0, ce = (type & SOCK_CLOEXEC) !== 0;
  const fx = socketFile(x, nb), fy = socketFile(y, nb);
  let dx = -1, dy = -1;
  try {
    dx = p.fds.alloc(fx, ce);
    dy = p.fds.alloc(fy, ce);
    writeMem(p.mem, a.num(3), new Struct(8).u32(0, dx).u32(4, dy).bytes);
  } catch (e) {
    if (dx >= 0) p.fds.close(dx);
    else fx.release();
    if (dy >= 0) p.fds.close(dy);
    else fy.release();
    throw e;
  }
  return 0;
}

function doAccept(p: Process, nr: number, a: SyscallArgs, flags: number): number {
  const [s, f] = sockfd(p, nr, a.int(0));
  const { sock, addr } = s.accept(p, f);
  const nf = socketFile(sock, (flags & SOCK_NONBLOCK) !== 0);
  const fd = p.fds.alloc(nf, (flags & SOCK_CLOEXEC) !== 0);
  try {
    if (a.num(1) !== 0) writeAddr(p, a.num(1), a.num(2), addr);
  } catch (e) {
    p.fds.close(fd);
    throw e;
  }
  return fd;
}

/** The descriptors of an SCM_RIGHTS message, as open files (EBADF for one not open). */
function rightsOf(p: Process, data: Uint8Array): OpenFile[] {
  const n = data.length >> 2;
  if (n === 0 || n > SCM_MAX_FD) throw new SysError(EINVAL);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return Array.from({ length: n }, (_, k) => fileOf(p, dv.getInt32(k * 4, true)));
}

/** A parsed msghdr for sendmsg. */
interface OutMsg {
  data: Uint8Array;
  addr: Uint8Array | null;
  rights: OpenFile[] | null;
  cred: Ucred | null;
}

/** The iovecs of a msghdr gathered (EMSGSIZE for too many, EFAULT for a bad one). */
function gather(p: Process, iov: number, iovlen: number, w: Word): Uint8Array {
  if (iovlen > UIO_MAXIOV) throw new SysError(EMSGSIZE);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let k = 0; k < iovlen; k++) {
    const base = wordIn(p, iov + k * 2 * w, w), len = Math.min(wordIn(p, iov + k * 2 * w + w, w), MAX_RW_COUNT - total);
    if (!accessOk(base, len)) throw new SysError(EFAULT);
    const b = readMem(p.mem, base, len);
    parts.push(b);
    total += b.length;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of parts) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

function readMsghdr(p: Process, s: Sock, msg: number, w: Word): OutMsg {
  const v = readView(p.mem, msg, msghdrSize(w));
  const name = wordAt(v, 0, w), namelen = v.getInt32(w, true);
  const iov = wordAt(v, 2 * w, w), iovlen = wordAt(v, 3 * w, w);
  const control = wordAt(v, 4 * w, w), controllen = wordAt(v, 5 * w, w);
  const addr = name !== 0 && namelen !== 0 ? readAddr(p, name, namelen) : null;
  if (controllen > 0x7fffffff) throw new SysError(ENOBUFS);
  const out: OutMsg = { data: gather(p, iov, iovlen, w), addr, rights: null, cred: null };
  if (controllen === 0) return out;
  const hdr = cmsgHdr(w);
  if (controllen < hdr) throw new SysError(EINVAL);
  const cbuf = readMem(p.mem, control, controllen);
  const cv = new DataView(cbuf.buffer, cbuf.byteOffset, cbuf.byteLength);
  for (let o = 0; o + hdr <= controllen; ) {
    const len = wordAt(cv, o, w), level = cv.getInt32(o + w, true), type = cv.getInt32(o + w + 4, true);
    if (len < hdr || o + len > controllen) throw new SysError(EINVAL);
    const data = cbuf.subarray(o + hdr, o + len);
    if (level === SOL_SOCKET) {
      if (type === SCM_RIGHTS && s.family === AF_UNIX) {
        if (out.rights) throw new SysError(EINVAL);
        out.rights = rightsOf(p, data);
      } else if (type === SCM_CREDENTIALS && s.family === AF_UNIX) {
        if (data.length !== 12) throw new SysError(EINVAL);
        const dv = new DataView(data.buffer, data.byteOffset, 12);
        const c = { pid: dv.getInt32(0, true), uid: dv.getInt32(4, true), gid: dv.getInt32(8, true) };
        // scm_check_creds: one's own ids only (no CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID checked here beyond root)
        const root = p.euid === 0;
        if ((c.pid !== p.pid && !root) || (![p.uid, p.euid, p.suid].includes(c.uid) && !root) || (![p.gid, p.egid, p.sgid].includes(c.gid) && !root)) throw new SysError(EPERM);
        out.cred = c;
      } else throw new SysError(EINVAL);
    }
    o += cmsgAlign(len, w);
  }
  return out;
}
const ENOBUFS = 105;

function doSendmsg(p: Process, s: Sock, f: OpenFile, msg: number, flags: number, w: Word = 8): number {
  const m = readMsghdr(p, s, msg, w);
  return s.send(p, f, m.data, flags, m);
}

/** recvmsg's msghdr filled in: the name, the control messages (credentials, then descriptors), msg_flags. */
function doRecvmsg(p: Process, s: Sock, f: OpenFile, msg: number, flags: number, w: Word = 8): number {
  const size = msghdrSize(w), hdr = cmsgHdr(w);
  const v = readView(p.mem, msg, size);
  const name = wordAt(v, 0, w), namelen = v.getInt32(w, true);
  const iov = wordAt(v, 2 * w, w), iovlen = wordAt(v, 3 * w, w);
  const control = wordAt(v, 4 * w, w);
  let controllen = wordAt(v, 5 * w, w);
  if (iovlen > UIO_MAXIOV) throw new SysError(EMSGSIZE);
  const iovs: [number, number][] = [];
  let want = 0;
  for (let k = 0; k < iovlen; k++) {
    const base = wordIn(p, iov + k * 2 * w, w), len = Math.min(wordIn(p, iov + k * 2 * w + w, w), MAX_RW_COUNT - want);
    if (!accessOk(base, len)) throw new SysError(EFAULT);
    iovs.push([base, len]);
    want += len;
  }
  const r = s.recv(p, f, want, flags);
  let o = 0;
  for (const [base, len] of iovs) {
    if (o >= r.data.length) break;
    const n = Math.min(len, r.data.length - o);
    writeMem(p.mem, base, r.data.subarray(o, o + n));
    o += n;
  }
  let mflags = r.flags;
  let at = control;
  const put = (level: number, type: number, data: Uint8Array): boolean => {
    if (controllen < hdr) {
      mflags |= MSG_CTRUNC;
      return false;
    }
    let cmlen = hdr + data.length;
    if (controllen < cmlen) {
      mflags |= MSG_CTRUNC;
      cmlen = controllen;
    }
    const b = new Struct(cmlen);
    cmsgHeader(b, w, cmlen, level, type);
    b.bytes.set(data.subarray(0, cmlen - hdr), hdr);
    writeMem(p.mem, at, b.bytes);
    const adv = Math.min(cmsgAlign(cmlen, w), controllen);
    at += adv;
    controllen -= adv;
    return true;
  };
  if (r.cred) put(SOL_SOCKET, SCM_CREDENTIALS, new Struct(12).u32(0, r.cred.pid).u32(4, r.cred.uid).u32(8, r.cred.gid).bytes);
  if (r.rights) {
    // scm_detach_fds: as many as fit, the others closed
    const fit = controllen > hdr ? Math.min(Math.floor((controllen - hdr) / 4), r.rights.length) : 0;
    const fds: number[] = [];
    for (let k = 0; k < r.rights.length; k++) {
      const rf = r.rights[k];
      if (k < fit) fds.push(p.fds.alloc(rf, (flags & MSG_CMSG_CLOEXEC) !== 0));
      if (--rf.refs === 0) rf.release();
    }
    if (fit < r.rights.length) mflags |= MSG_CTRUNC;
    if (fit > 0) {
      const b = new Struct(hdr + fit * 4);
      cmsgHeader(b, w, hdr + fit * 4, SOL_SOCKET, SCM_RIGHTS);
      fds.forEach((fd, k) => b.u32(hdr + k * 4, fd));
      writeMem(p.mem, at, b.bytes);
      const adv = Math.min(cmsgAlign(hdr + fit * 4, w), controllen);
      at += adv;
      controllen -= adv;
    }
  }
  const out = new Struct(size);
  out.bytes.set(readMem(p.mem, msg, size));
  if (name !== 0 && r.addr) {
    if (namelen < 0) throw new SysError(EINVAL);
    writeMem(p.mem, name, r.addr.subarray(0, Math.min(namelen, r.addr.length)));
    out.u32(w, r.addr.length);
  } else out.u32(w, 0);
  if (w === 8) out.u64(5 * w, at - control);
  else out.u32(5 * w, at - control);
  out.u32(6 * w, mflags);
  writeMem(p.mem, msg, out.bytes);
  return r.length;
}

function sysSendto(p: Process, a: SyscallArgs): number {
  userBuffer(a, 1, 2);
  const [s, f] = sockfd(p, 44, a.int(0));
  const data = readMem(p.mem, a.num(1), Math.min(a.unum(2), MAX_RW_COUNT)).slice();
  const addr = a.num(4) !== 0 ? readAddr(p, a.num(4), a.int(5)) : null;
  return s.send(p, f, data, a.int(3), { addr, rights: null, cred: null });
}

function sysRecvfrom(p: Process, a: SyscallArgs): number {
  userBuffer(a, 1, 2);
  const [s, f] = sockfd(p, 45, a.int(0));
  const r = s.recv(p, f, Math.min(a.unum(2), MAX_RW_COUNT), a.int(3));
  dropRights(r);
  writeMem(p.mem, a.num(1), r.data);
  if (a.num(4) !== 0) {
    if (r.addr) writeAddr(p, a.num(4), a.num(5), r.addr);
    else write32(p.mem, a.num(5), 0);
  }
  return r.length;
}

function sysGetsockopt(p: Process, a: SyscallArgs): number {
  const [s] = sockfd(p, 55, a.int(0));
  const len = read32(p.mem, a.num(4));
  if (len < 0) throw new SysError(EINVAL);
  const v = s.getsockopt(p, a.int(1), a.int(2));
  const n = Math.min(len, v.length);
  writeMem(p.mem, a.num(3), v.subarray(0, n));
  write32(p.mem, a.num(4), n);
  return 0;
}

function sysSetsockopt(p: Process, a: SyscallArgs): number {
  const [s] = sockfd(p, 54, a.int(0));
  const len = a.int(4);
  if (len < 0) throw new SysError(EINVAL);
  s.setsockopt(p, a.int(1), a.int(2), readMem(p.mem, a.num(3), len).slice());
  return 0;
}

/** A control message's header: cmsg_len (a word of the ABI), cmsg_level, cmsg_type. */
function cmsgHeader(b: Struct, w: Word, len: number, level: number, type: number): void {
  if (w === 8) b.u64(0, len);
  else b.u32(0, len);
  b.u32(w, level).u32(w + 4, type);
}

/** sendmmsg and recvmmsg: one message after another; an error after the first ends the batch with what was done. */
function doMmsg(p: Process, nr: number, a: SyscallArgs, one: (s: Sock, f: OpenFile, msg: number, flags: number) => number, w: Word = 8): number {
  const [s, f] = sockfd(p, nr, a.int(0));
  const vlen = Math.min(a.u32(2), UIO_MAXIOV);
  let flags = a.int(3);
  let done = 0;
  for (; done < vlen; done++) {
    const at = a.num(1) + done * mmsghdrSize(w);
    let n: number;
    try {
      n = one(s, f, at, flags & ~MSG_WAITFORONE);
    } catch (e) {
      if (done > 0 && !(e instanceof WouldBlock)) break;
      throw e;
    }
    write32(p.mem, at + msghdrSize(w), n);
    if (flags & MSG_WAITFORONE) flags |= MSG_DONTWAIT;
  }
  return done;
}

/**
 * sendmsg, recvmsg, sendmmsg and recvmmsg of an i386 program (compat_msghdr
 * and its iovecs and control messages; MSG_CMSG_COMPAT is what these calls
 * mean, not a flag to refuse). recvmmsg's timeout is an old_timespec32.
 */
/** SO_RCVTIMEO and SO_SNDTIMEO (_OLD), whose struct timeval is an old_timeval32 for a 32-bit program. */
function isTimeo32(level: number, name: number): boolean {
  return level === SOL_SOCKET && (name === SO_RCVTIMEO || name === SO_SNDTIMEO);
}

export const compatMsg = {
  /** sock_get_timeout under in_compat_syscall: the timeout as an old_timeval32 (32-bit seconds and microseconds). */
  getsockopt: (p: Process, a: SyscallArgs): number => {
    if (!isTimeo32(a.int(1), a.int(2))) return sysGetsockopt(p, a);
    const [s] = sockfd(p, 55, a.int(0));
    const len = read32(p.mem, a.num(4));
    if (len < 0) throw new SysError(EINVAL);
    const tv = new DataView(s.getsockopt(p, SOL_SOCKET, a.int(2)).buffer);
    const v = new Uint8Array(8);
    const dv = new DataView(v.buffer);
    dv.setInt32(0, Number(tv.getBigInt64(0, true)), true);
    dv.setInt32(4, Number(tv.getBigInt64(8, true)), true);
    const n = Math.min(len, v.length);
    writeMem(p.mem, a.num(3), v.subarray(0, n));
    write32(p.mem, a.num(4), n);
    return 0;
  },
  /** sock_set_timeout under in_compat_syscall: an old_timeval32 (EINVAL if shorter), then x86-64's checks. */
  setsockopt: (p: Process, a: SyscallArgs): number => {
    if (!isTimeo32(a.int(1), a.int(2))) return sysSetsockopt(p, a);
    const [s] = sockfd(p, 54, a.int(0));
    if (a.int(4) < 8) throw new SysError(EINVAL);
    const tv32 = readView(p.mem, a.num(3), 8);
    const tv = new Uint8Array(16);
    const dv = new DataView(tv.buffer);
    dv.setBigInt64(0, BigInt(tv32.getInt32(0, true)), true);
    dv.setBigInt64(8, BigInt(tv32.getInt32(4, true)), true);
    s.setsockopt(p, SOL_SOCKET, a.int(2), tv);
    return 0;
  },
  sendmsg: (p: Process, a: SyscallArgs): number => {
    const [s, f] = sockfd(p, 46, a.int(0));
    return doSendmsg(p, s, f, a.num(1), a.int(2) & ~MSG_CMSG_COMPAT, 4);
  },
  recvmsg: (p: Process, a: SyscallArgs): number => {
    const [s, f] = sockfd(p, 47, a.int(0));
    return doRecvmsg(p, s, f, a.num(1), a.int(2) & ~MSG_CMSG_COMPAT, 4);
  },
  sendmmsg: (p: Process, a: SyscallArgs): number => doMmsg(p, 307, a, (s, f, m, fl) => doSendmsg(p, s, f, m, fl & ~MSG_CMSG_COMPAT, 4), 4),
  recvmmsg: (p: Process, a: SyscallArgs): number => {
    if (a.num(4) !== 0) readView(p.mem, a.num(4), 8);
    return doMmsg(p, 299, a, (s, f, m, fl) => doRecvmsg(p, s, f, m, fl & ~MSG_CMSG_COMPAT, 4), 4);
  },
};

export function registerNet(t: HandlerTable): void {
  t.on(41, sysSocket, 'AF_UNIX, AF_INET and AF_INET6 (TCP and UDP through the host); other families EAFNOSUPPORT');
  t.on(53, sysSocketpair);
  t.on(49, (p, a) => {
    const [s] = sockfd(p, 49, a.int(0));
    s.bind(p, readAddr(p, a.num(1), a.int(2)));
    return 0;
  });
  t.on(50, (p, a) => {
    const [s] = sockfd(p, 50, a.int(0));
    s.listen(p, a.int(1));
    return 0;
  });
  t.on(42, (p, a) => {
    const addr = readAddr(p, a.num(1), a.int(2));
    const [s, f] = sockfd(p, 42, a.int(0));
    s.connect(p, f, addr);
    return 0;
  });
  t.on(43, (p, a) => doAccept(p, 43, a, 0));
  t.on(
    288, // accept4: the descriptor, then unknown flags, then whether it is a socket
    (p, a) => {
      const f = fileOf(p, a.int(0));
      if (a.int(3) & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) throw new SysError(EINVAL);
      socketOf(p, 288, f);
      return doAccept(p, 288, a, a.int(3));
    },
  );
  t.on(48, (p, a) => {
    const [s] = sockfd(p, 48, a.int(0));
    s.shutdown(p, a.int(1));
    return 0;
  });
  t.on(51, (p, a) => {
    const [s] = sockfd(p, 51, a.int(0));
    writeAddr(p, a.num(1), a.num(2), s.sockname());
    return 0;
  });
  t.on(52, (p, a) => {
    const [s] = sockfd(p, 52, a.int(0));
    writeAddr(p, a.num(1), a.num(2), s.peername());
    return 0;
  });
  t.on(54, sysSetsockopt, 'SOL_SOCKET options are stored and answered; of IPPROTO_TCP, IPPROTO_IP and IPPROTO_IPV6 the common ones (TCP_NODELAY, IPV6_V6ONLY ...)');
  t.on(55, sysGetsockopt);
  t.on(44, sysSendto, 'MSG_OOB is not supported');
  t.on(45, sysRecvfrom, 'MSG_OOB is not supported');
  // sendmsg, recvmsg: 32-bit compat flags are refused first
  t.on(46, (p, a) => {
    if (a.u32(2) & MSG_CMSG_COMPAT) throw new SysError(EINVAL);
    const [s, f] = sockfd(p, 46, a.int(0));
    return doSendmsg(p, s, f, a.num(1), a.int(2));
  }, 'control messages: SCM_RIGHTS and SCM_CREDENTIALS on AF_UNIX');
  t.on(47, (p, a) => {
    if (a.u32(2) & MSG_CMSG_COMPAT) throw new SysError(EINVAL);
    const [s, f] = sockfd(p, 47, a.int(0));
    return doRecvmsg(p, s, f, a.num(1), a.int(2));
  }, 'control messages: SCM_RIGHTS and SCM_CREDENTIALS on AF_UNIX');
  t.on(307, (p, a) => doMmsg(p, 307, a, (s, f, m, fl) => doSendmsg(p, s, f, m, fl)));
  t.on(
    299, // recvmmsg: compat flags, then the timeout is read, then the descriptor
    (p, a) => {
      if (a.u32(3) & MSG_CMSG_COMPAT) throw new SysError(EINVAL);
      if (a.num(4) !== 0) readTimespec(p.mem, a.num(4));
      return doMmsg(p, 299, a, (s, f, m, fl) => doRecvmsg(p, s, f, m, fl));
    },
    'the timeout is read but not applied',
  );
}
