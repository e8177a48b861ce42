/**
 * What every emulated socket shares (net/socket.c, net/core/sock.c): the
 * open file a socket is, its type, the socket-level options (SOL_SOCKET)
 * stored and answered as Linux answers them, and the operations the
 * syscalls of sys/net.ts call (proto_ops). unix.ts (AF_UNIX, both ends in
 * the emulator) and inet.ts (AF_INET, AF_INET6 through the host) implement
 * them.
 */
import { hostFs as fs } from '../hostlog.js';
import { EINVAL, ENOPROTOOPT, EOPNOTSUPP, SysError } from '../errno.js';
import { type FileOps, OpenFile, O_NONBLOCK, O_RDWR } from '../fdtable.js';
import type { Process } from '../process.js';
import { Struct } from '../sys/util.js';

export const AF_UNSPEC = 0, AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10;
export const SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_RAW = 3, SOCK_SEQPACKET = 5;
export const SOL_SOCKET = 1;
export const MSG_OOB = 1, MSG_PEEK = 2, MSG_CTRUNC = 8, MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, MSG_EOR = 0x80, MSG_WAITALL = 0x100;
export const MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
export const SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;

const SO_DEBUG = 1, SO_REUSEADDR = 2, SO_TYPE = 3, SO_ERROR = 4, SO_DONTROUTE = 5, SO_BROADCAST = 6, SO_SNDBUF = 7, SO_RCVBUF = 8;
const SO_KEEPALIVE = 9, SO_OOBINLINE = 10, SO_PRIORITY = 12, SO_LINGER = 13, SO_REUSEPORT = 15, SO_PASSCRED = 16, SO_PEERCRED = 17;
const SO_RCVLOWAT = 18, SO_SNDLOWAT = 19, SO_ACCEPTCONN = 30, SO_PROTOCOL = 38, SO_DOMAIN = 39;
/** SO_RCVTIMEO_OLD and SO_SNDTIMEO_OLD: a struct timeval (a 32-bit program's is an old_timeval32: sys/net.ts's compat calls). */
export const SO_RCVTIMEO = 20, SO_SNDTIMEO = 21;
/** SO_RCVTIMEO_NEW and SO_SNDTIMEO_NEW: a struct __kernel_sock_timeval (64-bit seconds and microseconds) in every ABI. */
const SO_RCVTIMEO_NEW = 66, SO_SNDTIMEO_NEW = 67;

/** The _NEW timeouts are the _OLD ones of x86-64, whose timeval has the same layout. */
function timeoName(name: number): number {
  return name === SO_RCVTIMEO_NEW ? SO_RCVTIMEO : name === SO_SNDTIMEO_NEW ? SO_SNDTIMEO : name;
}

/** A sysctl of the host (the machine's defaults for buffer sizes), or the Linux default. */
export function sysctl(path: string, field = 0, fallback: number): number {
  try {
    const v = Number(fs.readFileSync(`/proc/sys/${path}`, 'utf8').trim().split(/\s+/)[field]);
    return Number.isFinite(v) && v > 0 ? v : fallback;
  } catch {
    return fallback;
  }
}

const WMEM_MAX = sysctl('net/core/wmem_max', 0, 212992);
const RMEM_MAX = sysctl('net/core/rmem_max', 0, 212992);
/** SOCK_MIN_SNDBUF, SOCK_MIN_RCVBUF (x86-64: 2 * (2048 + sizeof(struct sk_buff)) and 2048 + sizeof(struct sk_buff), sk_buff aligned: 256 bytes). */
const SOCK_MIN_SNDBUF = 4608, SOCK_MIN_RCVBUF = 2304;

/** struct ucred: the credentials SO_PEERCRED and SCM_CREDENTIALS carry. */
export interface Ucred {
  pid: number;
  uid: number;
  gid: number;
}

export function credOf(p: Process): Ucred {
  return { pid: p.pid, uid: p.euid, gid: p.egid };
}

/** What a recvmsg gives back. */
export interface Received {
  data: Uint8Array;
  /** The sender's address (recvfrom's src_addr), or null (none: a connected stream). */
  addr: Uint8Array | null;
  /** Descriptors passed with SCM_RIGHTS (open files, each holding one reference for the message). */
  rights: OpenFile[] | null;
  /** The sender's credentials when the receiver asked for them (SO_PASSCRED). */
  cred: Ucred | null;
  /** MSG_TRUNC, MSG_EOR ... for msg_flags. */
  flags: number;
  /** The length to return: the datagram's full length with MSG_TRUNC in the call's flags. */
  length: number;
}

/** What a sendmsg carries besides the bytes. */
export interface SendExtra {
  addr: Uint8Array | null;
  rights: OpenFile[] | null;
  cred: Ucred | null;
}

let nextSockIno = 0x200000;

export abstract class Sock implements FileOps<Process> {
  readonly ino = nextSockIno++;
  readonly name = `socket:[${this.ino}]`;
  abstract readonly family: number;
  /** Counts arrivals, for edge-triggered epoll (FileOps.seq). */
  seq = 0;
  /** SO_ERROR: a pending error, cleared when read. */
  err = 0;
  sndbuf: number;
  rcvbuf: number;
  /** SO_RCVTIMEO and SO_SNDTIMEO in ns (0: none). */
  rcvtimeo = 0n;
  sndtimeo = 0n;
  /** Boolean and integer options stored as set (SO_REUSEADDR, SO_KEEPALIVE ...), by level and name. */
  readonly opts = new Map<string, number>();
  linger: [number, number] = [0, 0];

  constructor(
    readonly type: number,
    readonly protocol: number,
    defaults: { sndbuf: number; rcvbuf: number },
  ) {
    this.sndbuf = defaults.sndbuf;
    this.rcvbuf = defaults.rcvbuf;
  }

  abstract poll(): number;
  abstract release(f: OpenFile): void;
  abstract bind(p: Process, addr: Uint8Array): void;
  abstract listen(p: Process, backlog: number): void;
  /** A connection from the queue: the new socket and its peer's address. */
  abstract accept(p: Process, f: OpenFile): { sock: Sock; addr: Uint8Array };
  abstract connect(p: Process, f: OpenFile, addr: Uint8Array): void;
  abstract send(p: Process, f: OpenFile, data: Uint8Array, flags: number, x: SendExtra): number;
  abstract recv(p: Process, f: OpenFile, len: number, flags: number): Received;
  abstract shutdown(p: Process, how: number): void;
  abstract sockname(): Uint8Array;
  abstract nread(): number;
  abstract peername(): Uint8Array;

  /** SO_PEERCRED's answer. */
  peerCred(): Ucred {
    return { pid: 0, uid: -1, gid: -1 };
  }

  /** SO_ACCEPTCONN. */
  abstract get listening(): boolean;

  read(p: Process, f: OpenFile, len: number): Uint8Array {
    if (len === 0) return new Uint8Array(0); // sock_read_iter: nothing asked, nothing waited for
    const r = this.recv(p, f, len, 0);
    dropRights(r);
    return r.data;
  }

  write(p: Process, f: OpenFile, data: Uint8Array): number {
    return this.send(p, f, data, 0, { addr: null, rights: null, cred: null });
  }

  /** A protocol's own option (IPPROTO_TCP, IPPROTO_IPV6 ...): null if the level is not the protocol's. */
  protected protoGetopt(_level: number, _name: number): Uint8Array | null {
    return null;
  }
  protected protoSetopt(_level: number, _name: number, _val: Uint8Array): boolean {
    return false;
  }
  /** An option was set that the host side may apply (inet.ts). */
  protected optionChanged(_level: number, _name: number, _value: number): void {}

  getsockopt(p: Process, level: number, name: number): Uint8Array {
    if (level !== SOL_SOCKET) {
      const v = this.protoGetopt(level, name);
      if (v === null) throw new SysError(level === 0 || level === 6 || level === 17 || level === 41 ? ENOPROTOOPT : EOPNOTSUPP);
      return v;
    }
    const int = (v: number) => new Struct(4).u32(0, v).bytes;
    name = timeoName(name);
    switch (name) {
      case SO_TYPE:
        return int(this.type);
      case SO_PROTOCOL:
        return int(this.protocol);
      case SO_DOMAIN:
        return int(this.family);
      case SO_ERROR: {
        const e = this.err;
        this.err = 0;
        return int(e);
      }
      case SO_SNDBUF:
        return int(this.sndbuf);
      case SO_RCVBUF:
        return int(this.rcvbuf);
      case SO_ACCEPTCONN:
        return int(this.listening ? 1 : 0);
      case SO_LINGER:
        return new Struct(8).u32(0, this.linger[0]).u32(4, this.linger[1]).bytes;
      case SO_PEERCRED: {
        const c = this.peerCred();
        return new Struct(12).u32(0, c.pid).u32(4, c.uid).u32(8, c.gid).bytes;
      }
      case SO_RCVTIMEO:
      case SO_SNDTIMEO: {
        const ns = name === SO_RCVTIMEO ? this.rcvtimeo : this.sndtimeo;
        return new Struct(16).u64(0, ns / 1000000000n).u64(8, (ns % 1000000000n) / 1000n).bytes;
      }
      case SO_RCVLOWAT:
      case SO_SNDLOWAT:
        return int(this.opts.get(`1:${name}`) ?? 1);
      case SO_DEBUG:
      case SO_REUSEADDR:
      case SO_DONTROUTE:
      case SO_BROADCAST:
      case SO_KEEPALIVE:
      case SO_OOBINLINE:
      case SO_PRIORITY:
      case SO_REUSEPORT:
      case SO_PASSCRED:
        return int(this.opts.get(`1:${name}`) ?? 0);
    }
    throw new SysError(ENOPROTOOPT);
  }

  setsockopt(p: Process, level: number, name: number, val: Uint8Array): void {
    if (level !== SOL_SOCKET) {
      if (!this.protoSetopt(level, name, val)) throw new SysError(level === 0 || level === 6 || level === 17 || level === 41 ? ENOPROTOOPT : EOPNOTSUPP);
      return;
    }
    const dv = new DataView(val.buffer, val.byteOffset, val.byteLength);
    name = timeoName(name);
    if (name === SO_RCVTIMEO || name === SO_SNDTIMEO) {
      if (val.length < 16) throw new SysError(EINVAL);
      const s = dv.getBigInt64(0, true), us = dv.getBigInt64(8, true);
      if (us < 0n || us >= 1000000n) throw new SysError(33 /* EDOM */);
      const ns = s < 0n ? 0n : s * 1000000000n + us * 1000n;
      if (name === SO_RCVTIMEO) this.rcvtimeo = ns;
      else this.sndtimeo = ns;
      return;
    }
    if (name === SO_LINGER) {
      if (val.length < 8) throw new SysError(EINVAL);
      this.linger = [dv.getInt32(0, true) !== 0 ? 1 : 0, dv.getInt32(4, true)];
      this.optionChanged(level, name, this.linger[0] ? this.linger[1] : -1);
      return;
    }
    if (val.length < 4) throw new SysError(EINVAL);
    const v = dv.getInt32(0, true);
    switch (name) {
      case SO_SNDBUF:
        // sock_setsockopt: doubled (the kernel's bookkeeping overhead), within wmem_max and the minimum
        this.sndbuf = Math.max(Math.min(v >>> 0 > WMEM_MAX ? WMEM_MAX : v, WMEM_MAX) * 2, SOCK_MIN_SNDBUF);
        this.optionChanged(level, name, this.sndbuf);
        return;
      case SO_RCVBUF:
        this.rcvbuf = Math.max(Math.min(v >>> 0 > RMEM_MAX ? RMEM_MAX : v, RMEM_MAX) * 2, SOCK_MIN_RCVBUF);
        this.optionChanged(level, name, this.rcvbuf);
        return;
      case SO_RCVLOWAT:
        this.opts.set(`1:${name}`, v < 0 ? 0x7fffffff : v || 1);
        return;
      case SO_PRIORITY:
        this.opts.set(`1:${name}`, v);
        return;
      case SO_DEBUG:
      case SO_REUSEADDR:
      case SO_DONTROUTE:
      case SO_BROADCAST:
      case SO_KEEPALIVE:
      case SO_OOBINLINE:
      case SO_REUSEPORT:
      case SO_PASSCRED:
        this.opts.set(`1:${name}`, v !== 0 ? 1 : 0);
        this.optionChanged(level, name, v !== 0 ? 1 : 0);
        return;
      case SO_SNDLOWAT:
        throw new SysError(ENOPROTOOPT);
    }
    throw new SysError(ENOPROTOOPT);
  }

  /** An option's stored value (SOL_SOCKET names). */
  flag(name: number): boolean {
    return (this.opts.get(`1:${name}`) ?? 0) !== 0;
  }
}

export const SO = { SO_REUSEADDR, SO_KEEPALIVE, SO_REUSEPORT, SO_PASSCRED, SO_LINGER, SO_BROADCAST } as const;

/** Descriptors a read without a control buffer received are closed (scm_destroy). */
export function dropRights(r: Received): void {
  if (r.rights) for (const f of r.rights) if (--f.refs === 0) f.release();
  r.rights = null;
}

/** The open file of a new socket. */
export function socketFile(sock: Sock, nonblock: boolean): OpenFile {
  const f = new OpenFile('sock', O_RDWR | (nonblock ? O_NONBLOCK : 0));
  f.ops = sock;
  f.guestPath = sock.name;
  return f;
}

/** The socket of an open file, or null (not one of ours). */
export function sockOf(f: OpenFile): Sock | null {
  return f.ops instanceof Sock ? f.ops : null;
}
