/**
 * AF_UNIX sockets, both ends in the emulator (net/unix/af_unix.c): stream,
 * datagram and seqpacket; socketpair; names in the file system (an inode the
 * guest sees as a socket: sockinode.ts) and in the abstract namespace
 * (sun_path[0] == 0), autobind; listen, connect, accept; SCM_RIGHTS and
 * SCM_CREDENTIALS; shutdown; the poll masks of unix_poll and unix_dgram_poll.
 *
 * A message is an skb on the receiver's queue; the sender's sk_wmem_alloc
 * counts the bytes of its messages not yet read, which is what makes a
 * sender wait (and what POLLOUT says), as on Linux. A stream connect to a
 * listening socket makes the server's end at once and queues it for accept
 * (so connect returns before accept, as on Linux); a full queue makes
 * connect wait.
 */
import { hostFs as fs } from '../hostlog.js';
import {
  EADDRINUSE, ECONNREFUSED, ECONNRESET, EINVAL, EISCONN, EMSGSIZE, ENOENT, ENOTCONN, EOPNOTSUPP, EPIPE, EPROTOTYPE, SysError, WouldBlock,
} from '../errno.js';
import { type OpenFile, O_CREAT, O_EXCL, O_WRONLY } from '../fdtable.js';
import type { Process } from '../process.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM, waitFor } from '../ready.js';
import { AT_FDCWD, hostStat, lookup, openFile } from '../sys/files.js';
import { monoNs } from '../sys/util.js';
import { bindInode, inodeSocket, unbindInode } from './sockinode.js';
import {
  AF_UNIX, AF_UNSPEC, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, SHUT_RD, SHUT_RDWR, SHUT_WR, SO,
  SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM, Sock, type Received, type SendExtra, type Ucred, credOf, sysctl,
} from './socket.js';

const TCP_ESTABLISHED = 1, TCP_CLOSE = 7, TCP_LISTEN = 10;
const RCV_SHUTDOWN = 1, SEND_SHUTDOWN = 2, SHUTDOWN_MASK = 3;
/** sizeof(struct sockaddr_un) and the offset of sun_path. */
const SUN_LEN = 110, SUN_PATH = 2;
const MAX_DGRAM_QLEN = sysctl('net/unix/max_dgram_qlen', 0, 10);
const SOMAXCONN = sysctl('net/core/somaxconn', 0, 4096);
const UNIX_BUF = { sndbuf: sysctl('net/core/wmem_default', 0, 212992), rcvbuf: sysctl('net/core/rmem_default', 0, 212992) };

/** A message on a receive queue (an skb with its unix_skb_parms). */
interface Skb {
  data: Uint8Array;
  /** Bytes of data already read (streams read skbs in parts). */
  off: number;
  rights: OpenFile[] | null;
  cred: Ucred;
  /** The sending socket (its wmem is given back as the bytes are read) and its address then. */
  sender: UnixSocket;
  from: Uint8Array | null;
}

/** Abstract names (and autobind's) of the host process: the abstract namespace of one network namespace. */
const abstractNames = new Map<string, UnixSocket>();

function nameKey(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1');
}

let autobindNext = 1;

/** The pieces of a sockaddr_un: abstract (bytes after the NUL) or a path. */
function parseAddr(addr: Uint8Array): { abstract: Uint8Array | null; path: string | null } {
  if (addr.length < SUN_PATH || (addr[0] | (addr[1] << 8)) !== AF_UNIX) throw new SysError(EINVAL);
  if (addr.length > SUN_LEN) throw new SysError(EINVAL);
  if (addr.length === SUN_PATH) return { abstract: null, path: null };
  if (addr[SUN_PATH] === 0) return { abstract: addr.slice(SUN_PATH + 1), path: null };
  let end = SUN_PATH;
  while (end < addr.length && addr[end] !== 0) end++;
  return { abstract: null, path: Buffer.from(addr.subarray(SUN_PATH, end)).toString('utf8') };
}

export class UnixSocket extends Sock {
  readonly family = AF_UNIX;
  state = TCP_CLOSE;
  shut = 0;
  peer: UnixSocket | null = null;
  readonly rq: Skb[] = [];
  /** Bytes sent by this socket that wait unread in a receive queue (sk_wmem_alloc). */
  wmem = 0;
  /** The bound address as getsockname gives it (family and name), or null. */
  addr: Uint8Array | null = null;
  /** The inode of a path name (to mark it unbound when the socket goes). */
  private inode: { dev: bigint; ino: bigint } | null = null;
  /** Connections waiting for accept (listening sockets). */
  readonly backlog: UnixSocket[] = [];
  maxBacklog = 0;
  /** SO_PEERCRED: the peer's credentials at connect/listen time (sk_peer_cred). */
  peerCredentials: Ucred | null = null;
  /** The credentials this socket was listening or connecting with. */
  ownCred: Ucred | null = null;
  dead = false;

  constructor(type: number, protocol = 0) {
    super(type, protocol, UNIX_BUF);
  }

  get listening(): boolean {
    return this.state === TCP_LISTEN;
  }

  private get connectionOriented(): boolean {
    return this.type === SOCK_STREAM || this.type === SOCK_SEQPACKET;
  }

  /** unix_writable: not listening, and its unread bytes at most a quarter of the send buffer. */
  private get writable(): boolean {
    return this.state !== TCP_LISTEN && this.wmem << 2 <= this.sndbuf;
  }

  poll(): number {
    let m = 0;
    if (this.err) m |= POLLERR;
    if (this.type === SOCK_STREAM) {
      if (this.shut === SHUTDOWN_MASK) m |= POLLHUP;
      if (this.shut & RCV_SHUTDOWN) m |= POLLRDHUP | POLLIN | POLLRDNORM;
      if (this.rq.length > 0 || this.backlog.length > 0) m |= POLLIN | POLLRDNORM;
      if (this.state === TCP_CLOSE) m |= POLLHUP;
      if (this.writable) m |= POLLOUT | POLLWRNORM | POLLWRBAND;
      return m;
    }
    // unix_dgram_poll (datagram and seqpacket)
    if (this.shut & RCV_SHUTDOWN) m |= POLLRDHUP | POLLIN | POLLRDNORM;
    if (this.shut === SHUTDOWN_MASK) m |= POLLHUP;
    if (this.rq.length > 0 || this.backlog.length > 0) m |= POLLIN | POLLRDNORM;
    if (this.type === SOCK_SEQPACKET && this.state === TCP_CLOSE) m |= POLLHUP;
    let writable = this.writable;
    const other = this.peer;
    if (writable && other && other.peer !== this && other.rq.length > other.maxDgramQueue) writable = false;
    if (writable) m |= POLLOUT | POLLWRNORM | POLLWRBAND;
    return m;
  }

  private get maxDgramQueue(): number {
    return this.type === SOCK_STREAM ? Infinity : MAX_DGRAM_QLEN;
  }

  /** Take the name: a path (a new socket inode) or an abstract name; addrlen 2 autobinds. */
  bind(p: Process, addr: Uint8Array): void {
    const a = parseAddr(addr);
    if (this.addr) throw new SysError(EINVAL);
    if (a.path !== null) {
      let f: OpenFile;
      try {
        f = openFile(p, AT_FDCWD, a.path, O_CREAT | O_EXCL | O_WRONLY, 0o777);
      } catch (e) {
        if ((e as { code?: string }).code === 'EEXIST') throw new SysError(EADDRINUSE);
        throw e;
      }
      const st = fs.fstatSync(f.hostFd, { bigint: true });
      f.release();
      this.inode = { dev: st.dev, ino: st.ino };
      bindInode(st.dev, st.ino, this);
      const path = Buffer.from(a.path, 'utf8');
      this.addr = new Uint8Array(SUN_PATH + path.length + 1);
      this.addr.set(path, SUN_PATH);
    } else {
      const name = a.abstract ?? this.autobindName();
      if (abstractNames.has(nameKey(name))) throw new SysError(EADDRINUSE);
      abstractNames.set(nameKey(name), this);
      this.addr = new Uint8Array(SUN_PATH + 1 + name.length);
      this.addr.set(name, SUN_PATH + 1);
    }
    this.addr[0] = AF_UNIX;
  }

  /** unix_autobind: an abstract name of five hex digits. */
  private autobindName(): Uint8Array {
    for (;;) {
      const n = Buffer.from((autobindNext++ & 0xfffff).toString(16).padStart(5, '0'), 'latin1');
      if (!abstractNames.has(nameKey(n))) return n;
    }
  }

  private autobind(p: Process): void {
    if (!this.addr && this.flag(SO.SO_PASSCRED)) this.bind(p, new Uint8Array([AF_UNIX, 0]));
  }

  listen(p: Process, backlog: number): void {
    if (!this.connectionOriented) throw new SysError(EOPNOTSUPP);
    if (!this.addr || (this.state !== TCP_CLOSE && this.state !== TCP_LISTEN)) throw new SysError(EINVAL);
    this.maxBacklog = Math.min(backlog >>> 0 > SOMAXCONN ? SOMAXCONN : Math.max(backlog, 0), SOMAXCONN);
    this.state = TCP_LISTEN;
    this.ownCred = credOf(p);
  }

  accept(p: Process, f: OpenFile): { sock: Sock; addr: Uint8Array } {
    if (!this.connectionOriented) throw new SysError(EOPNOTSUPP);
    if (this.state !== TCP_LISTEN) throw new SysError(EINVAL);
    waitFor(p, f, () => this.backlog.length > 0, 'accept on a unix socket', false, this.deadline(this.rcvtimeo));
    const s = this.backlog.shift()!;
    return { sock: s, addr: s.peer?.addr ?? new Uint8Array([AF_UNIX, 0]) };
  }

  private deadline(timeo: bigint): bigint | null {
    return timeo > 0n ? monoNs() + timeo : null;
  }

  /** The socket a name leads to (unix_find_other): ENOENT, ECONNREFUSED (no socket there), EPROTOTYPE (another type). */
  private find(p: Process, addr: Uint8Array): UnixSocket {
    const a = parseAddr(addr);
    let other: unknown;
    if (a.path !== null) {
      const { r } = lookup(p, AT_FDCWD, a.path, true);
      let st;
      try {
        st = hostStat(r.host, true);
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') throw new SysError(ENOENT);
        throw e;
      }
      other = inodeSocket(st.dev, st.ino) ?? null;
    } else if (a.abstract !== null) other = abstractNames.get(nameKey(a.abstract)) ?? null;
    else throw new SysError(EINVAL);
    if (!(other instanceof UnixSocket) || other.dead) throw new SysError(ECONNREFUSED);
    if (other.type !== this.type) throw new SysError(EPROTOTYPE);
    return other;
  }

  connect(p: Process, f: OpenFile, addr: Uint8Array): void {
    if (!this.connectionOriented) {
      // a datagram socket's default destination (AF_UNSPEC: none)
      if (addr.length >= 2 && (addr[0] | (addr[1] << 8)) === AF_UNSPEC) {
        this.peer = null;
        this.state = TCP_CLOSE;
        return;
      }
      const other = this.find(p, addr);
      this.autobind(p);
      this.peer = other;
      this.state = TCP_ESTABLISHED;
      return;
    }
    parseAddr(addr);
    if (this.state === TCP_ESTABLISHED) throw new SysError(EISCONN);
    if (this.state === TCP_LISTEN) throw new SysError(EINVAL);
    const other = this.find(p, addr);
    if (other.state !== TCP_LISTEN || other.shut & RCV_SHUTDOWN) throw new SysError(ECONNREFUSED);
    this.autobind(p);
    waitFor(p, f, () => other.dead || other.state !== TCP_LISTEN || other.backlog.length <= other.maxBacklog, 'connect on a unix socket', false, this.deadline(this.sndtimeo));
    if (other.dead || other.state !== TCP_LISTEN) throw new SysError(ECONNREFUSED);
    // the server's end of the connection, queued for accept
    const server = new UnixSocket(this.type, this.protocol);
    server.state = TCP_ESTABLISHED;
    server.addr = other.addr;
    server.peer = this;
    server.peerCredentials = credOf(p);
    server.ownCred = other.ownCred;
    server.sndbuf = other.sndbuf;
    server.rcvbuf = other.rcvbuf;
    for (const [k, v] of other.opts) server.opts.set(k, v);
    this.peer = server;
    this.state = TCP_ESTABLISHED;
    this.peerCredentials = other.ownCred;
    this.ownCred = credOf(p);
    other.backlog.push(server);
    other.seq++;
  }

  /** socketpair: two sockets connected to each other. */
  static pair(p: Process, type: number, protocol: number): [UnixSocket, UnixSocket] {
    const a = new UnixSocket(type, protocol), b = new UnixSocket(type, protocol);
    a.peer = b;
    b.peer = a;
    a.state = b.state = TCP_ESTABLISHED;
    a.peerCredentials = b.peerCredentials = a.ownCred = b.ownCred = credOf(p);
    return [a, b];
  }

  override peerCred(): Ucred {
    return this.peerCredentials ?? { pid: 0, uid: -1, gid: -1 };
  }

  private pipeError(p: Process, flags: number): never {
    if (!(flags & MSG_NOSIGNAL)) p.raise(13, { signo: 13, code: 0, pid: p.pid, uid: p.uid });
    throw new SysError(EPIPE);
  }

  send(p: Process, f: OpenFile, data: Uint8Array, flags: number, x: SendExtra): number {
    const nonblock = (flags & MSG_DONTWAIT) !== 0;
    const deadline = this.deadline(this.sndtimeo);
    const cred = x.cred ?? credOf(p);
    if (this.type === SOCK_STREAM) {
      if (x.addr && x.addr.length > 0) throw new SysError(this.state === TCP_ESTABLISHED ? EISCONN : EOPNOTSUPP);
      if (this.state !== TCP_ESTABLISHED || !this.peer) throw new SysError(ENOTCONN);
      if (this.shut & SEND_SHUTDOWN) this.pipeError(p, flags);
      let done = Math.min(p.retryProgress, data.length);
      let rights = done === 0 ? x.rights : null;
      // a message of at most half the send buffer at a time (unix_stream_sendmsg), the sender waiting while its unread bytes fill it
      const most = Math.max((this.sndbuf >> 1) - 64, 1);
      do {
        const other = this.peer;
        if (!other || other.dead || other.shut & RCV_SHUTDOWN) {
          if (done > 0) return done;
          this.pipeError(p, flags);
        }
        try {
          p.retryProgress = done;
          waitFor(p, f, () => this.wmem < this.sndbuf || other.dead || (other.shut & RCV_SHUTDOWN) !== 0, 'send on a unix socket', nonblock, deadline);
        } catch (e) {
          if (done > 0 && !(e instanceof WouldBlock)) return done;
          throw e;
        }
        if (other.dead || other.shut & RCV_SHUTDOWN) continue;
        const n = Math.min(data.length - done, most);
        this.queue(other, data.slice(done, done + n), rights, cred);
        rights = null;
        done += n;
      } while (done < data.length);
      return done;
    }
    // datagram and seqpacket: one message
    if (this.type === SOCK_SEQPACKET) {
      if (this.state !== TCP_ESTABLISHED || !this.peer) throw new SysError(x.addr && x.addr.length > 0 ? EOPNOTSUPP : ENOTCONN);
      if (this.shut & SEND_SHUTDOWN || this.peer.dead || this.peer.shut & RCV_SHUTDOWN) this.pipeError(p, flags);
    }
    if (data.length > this.sndbuf - 32) throw new SysError(EMSGSIZE);
    let other: UnixSocket;
    if (x.addr && x.addr.length > 0 && this.type === SOCK_DGRAM) other = this.find(p, x.addr);
    else if (this.peer) other = this.peer;
    else throw new SysError(ENOTCONN);
    if (this.type === SOCK_DGRAM && this.shut & SEND_SHUTDOWN) this.pipeError(p, flags);
    this.autobind(p);
    if (other.dead) {
      if (this.peer === other) {
        this.peer = null;
        this.state = TCP_CLOSE;
      }
      throw new SysError(ECONNREFUSED);
    }
    // a receiver connected elsewhere takes nothing from us (unix_may_send)
    if (this.type === SOCK_DGRAM && other.peer && other.peer !== this) throw new SysError(1 /* EPERM */);
    waitFor(p, f, () => other.dead || other.rq.length <= other.maxDgramQueue || other.peer === this, 'send on a unix socket', nonblock, deadline);
    if (other.dead) throw new SysError(ECONNREFUSED);
    this.queue(other, data.slice(), x.rights, cred);
    return data.length;
  }

  private queue(other: UnixSocket, data: Uint8Array, rights: OpenFile[] | null, cred: Ucred): void {
    if (rights) for (const r of rights) r.refs++;
    other.rq.push({ data, off: 0, rights, cred, sender: this, from: this.addr });
    this.wmem += data.length;
    other.seq++;
  }

  /** A message read whole (or dropped): its sender may send again; its descriptors, if not taken, are closed. */
  private consumed(skb: Skb, n: number, rightsTaken: boolean): void {
    skb.sender.wmem -= n;
    if (!rightsTaken && skb.rights) for (const r of skb.rights) if (--r.refs === 0) r.release();
  }

  recv(p: Process, f: OpenFile, len: number, flags: number): Received {
    const nonblock = (flags & MSG_DONTWAIT) !== 0;
    const deadline = this.deadline(this.rcvtimeo);
    const peek = (flags & MSG_PEEK) !== 0;
    if (this.connectionOriented && this.state === TCP_LISTEN) throw new SysError(EINVAL);
    const wantCred = this.flag(SO.SO_PASSCRED);
    if (this.type !== SOCK_STREAM) {
      waitFor(p, f, () => this.rq.length > 0 || this.err !== 0 || (this.shut & RCV_SHUTDOWN) !== 0 || (this.type === SOCK_SEQPACKET && (this.state !== TCP_ESTABLISHED || !this.peer || this.peer.dead)), 'recv on a unix socket', nonblock, deadline);
      if (this.rq.length === 0) {
        if (this.err) {
          const e = this.err;
          this.err = 0;
          throw new SysError(e);
        }
        return { data: new Uint8Array(0), addr: null, rights: null, cred: null, flags: 0, length: 0 };
      }
      const skb = this.rq[0];
      const n = Math.min(len, skb.data.length);
      const out = skb.data.slice(0, n);
      const mflags = n < skb.data.length ? MSG_TRUNC : 0;
      if (!peek) {
        this.rq.shift();
        this.consumed(skb, skb.data.length, true);
      } else if (skb.rights) for (const r of skb.rights) r.refs++; // the peeked copies are installed as well
      return {
        data: out, addr: skb.from, rights: skb.rights, cred: wantCred ? skb.cred : null, flags: mflags,
        length: flags & MSG_TRUNC ? skb.data.length : n,
      };
    }
    if (this.state !== TCP_ESTABLISHED && this.rq.length === 0) throw new SysError(EINVAL);
    const target = flags & MSG_WAITALL ? len : 1;
    const chunks: Uint8Array[] = [];
    let copied = Math.min(p.retryProgress, len);
    let rights: OpenFile[] | null = null;
    let cred: Ucred | null = null;
    let skip = 0;
    for (;;) {
      let k = 0;
      while (copied < len && k < this.rq.length) {
        const skb = this.rq[k];
        // a message with descriptors is not merged with what comes before it; the one with them ends the read
        if (skb.rights && (copied > 0 || rights)) break;
        if (cred && (skb.cred.pid !== cred.pid || skb.cred.uid !== cred.uid)) break;
        cred ??= skb.cred;
        const from = skb.off + (peek ? skip : 0);
        const avail = skb.data.length - from;
        if (avail <= 0) {
          skip -= skb.data.length - skb.off;
          k++;
          continue;
        }
        const n = Math.min(avail, len - copied);
        chunks.push(skb.data.slice(from, from + n));
        copied += n;
        if (peek) {
          skip += n;
          if (skb.rights) {
            rights = skb.rights;
            for (const r of skb.rights) r.refs++;
          }
          k++;
          if (rights) break;
          continue;
        }
        skb.off += n;
        skb.sender.wmem -= n;
        if (skb.rights) {
          rights = skb.rights;
          skb.rights = null;
        }
        if (skb.off === skb.data.length) this.rq.shift();
        if (rights) break;
      }
      if (copied >= target || rights || peek) break;
      if (this.err) {
        if (copied > 0) break;
        const e = this.err;
        this.err = 0;
        throw new SysError(e);
      }
      if (this.shut & RCV_SHUTDOWN) break;
      try {
        this.pending = concatAll(chunks, this.pending);
        chunks.length = 0;
        p.retryProgress = copied;
        waitFor(p, f, () => this.rq.length > 0 || this.err !== 0 || (this.shut & RCV_SHUTDOWN) !== 0, 'recv on a unix socket', nonblock, deadline);
      } catch (e) {
        if (copied > 0 && !(e instanceof WouldBlock)) break;
        throw e;
      }
    }
    const data = concatAll(chunks, this.pending);
    this.pending = null;
    p.retryProgress = 0;
    return { data, addr: null, rights, cred: wantCred ? cred : null, flags: 0, length: data.length };
  }

  /** Bytes a MSG_WAITALL read took before it parked (its retry goes on after them). */
  private pending: Uint8Array | null = null;

  /** FIONREAD (SIOCINQ): a stream's unread bytes, the next message's length otherwise. */
  nread(): number {
    if (this.type !== SOCK_STREAM) return this.rq[0]?.data.length ?? 0;
    return this.rq.reduce((n, skb) => n + skb.data.length - skb.off, 0);
  }

  shutdown(p: Process, how: number): void {
    if (how < SHUT_RD || how > SHUT_RDWR) throw new SysError(EINVAL);
    const mode = how + 1; // SHUT_RD -> RCV_SHUTDOWN, SHUT_WR -> SEND_SHUTDOWN, SHUT_RDWR -> both
    this.shut |= mode;
    this.seq++;
    const other = this.peer;
    if (other && this.connectionOriented) {
      let peerMode = 0;
      if (mode & RCV_SHUTDOWN) peerMode |= SEND_SHUTDOWN;
      if (mode & SEND_SHUTDOWN) peerMode |= RCV_SHUTDOWN;
      other.shut |= peerMode;
      other.seq++;
    }
  }

  sockname(): Uint8Array {
    return this.addr ?? new Uint8Array([AF_UNIX, 0]);
  }

  peername(): Uint8Array {
    if (!this.peer || this.state !== TCP_ESTABLISHED) throw new SysError(ENOTCONN);
    return this.peer.addr ?? new Uint8Array([AF_UNIX, 0]);
  }

  /** unix_release_sock: the name goes, the peer sees the end, what was queued is dropped. */
  release(): void {
    this.dead = true;
    this.shut = SHUTDOWN_MASK;
    const prevState = this.state;
    this.state = TCP_CLOSE;
    if (this.addr && this.addr[SUN_PATH] === 0 && this.addr.length > SUN_PATH) abstractNames.delete(nameKey(this.addr.subarray(SUN_PATH + 1)));
    if (this.inode) unbindInode(this.inode.dev, this.inode.ino);
    const skpair = this.peer;
    if (skpair && this.connectionOriented) {
      skpair.shut = SHUTDOWN_MASK;
      if (this.rq.length > 0 || prevState === TCP_LISTEN) skpair.err = ECONNRESET;
      skpair.seq++;
    }
    this.peer = null;
    for (const skb of this.rq.splice(0)) this.consumed(skb, skb.data.length - skb.off, false);
    // connections never accepted are closed as their listener goes
    for (const s of this.backlog.splice(0)) s.release();
  }
}

function concatAll(chunks: Uint8Array[], head: Uint8Array | null): Uint8Array {
  const parts = head ? [head, ...chunks] : chunks;
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of parts) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
