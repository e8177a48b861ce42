/**
 * AF_INET and AF_INET6 sockets, TCP and UDP, on the host's network stack
 * through the host-sockets worker (hostnet.ts). The socket's state machine,
 * its options and its poll mask (tcp_poll, udp_poll) are kept here; the
 * bytes and connections are the host's.
 *
 * What the guest binds is what the host binds: the wildcard address only
 * when the guest asks for it (bind to 0.0.0.0 or ::, or listen without
 * bind, as Linux binds the wildcard then). An unbound UDP socket that sends
 * is bound to port 0 of the loopback address when it sends to a loopback
 * address, else of the wildcard (Linux always takes the wildcard: its
 * getsockname then says 0.0.0.0).
 *
 * Left out: MSG_OOB, IP options beyond storing them, raw sockets, flow
 * control towards the host (what the host receives is buffered whole).
 */
import * as net from 'node:net';
import {
  EAFNOSUPPORT, EAGAIN, EALREADY, ECONNREFUSED, EINPROGRESS, EINVAL, EISCONN, EMSGSIZE, ENOTCONN, EOPNOTSUPP, EPERM,
  EPIPE, EPROTONOSUPPORT, ESOCKTNOSUPPORT, SysError, errnoFromNode,
} from '../errno.js';
import { type OpenFile, O_NONBLOCK } from '../fdtable.js';
import type { Process } from '../process.js';
import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM, waitFor } from '../ready.js';
import { Struct, monoNs } from '../sys/util.js';
import { hostNet } from './hostnet.js';
import type { HostEndpoint, HostEvent, HostSockets } from './hostsockets.js';
import { AF_INET, AF_INET6, AF_UNSPEC, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, SHUT_RD, SHUT_RDWR, SO, SOCK_DGRAM, SOCK_RAW, SOCK_STREAM, Sock, type Received, type SendExtra, sysctl } from './socket.js';

const IPPROTO_IP = 0, IPPROTO_TCP = 6, IPPROTO_UDP = 17, IPPROTO_IPV6 = 41;
const TCP_NODELAY = 1, TCP_MAXSEG = 2, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5, TCP_KEEPCNT = 6;
const IP_TOS = 1, IP_TTL = 2, IPV6_V6ONLY = 26;
/**
 * The integer IP options stored and answered (not applied: the host socket
 * is Node's), with their defaults: IP_TOS, IP_TTL, IP_PKTINFO, IP_MTU_DISCOVER
 * (IP_PMTUDISC_WANT), IP_RECVERR (glibc's resolver sets it), IP_RECVTTL,
 * IP_RECVTOS, IP_FREEBIND, IP_MULTICAST_TTL, IP_MULTICAST_LOOP.
 */
const IP_INT_OPTS = new Map([[IP_TOS, 0], [IP_TTL, 64], [8, 0], [10, 1], [11, 0], [12, 0], [13, 0], [15, 0], [33, 1], [34, 1]]);
/** IPV6_UNICAST_HOPS, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_LOOP, IPV6_MTU_DISCOVER, IPV6_RECVERR, IPV6_RECVPKTINFO, IPV6_TCLASS. */
const IPV6_INT_OPTS = new Map([[16, 64], [18, 1], [19, 1], [23, 1], [25, 0], [49, 0], [67, 0]]);
const TCP_BUF = { sndbuf: sysctl('net/ipv4/tcp_wmem', 1, 16384), rcvbuf: sysctl('net/ipv4/tcp_rmem', 1, 131072) };
const UDP_BUF = { sndbuf: sysctl('net/core/wmem_default', 0, 212992), rcvbuf: sysctl('net/core/rmem_default', 0, 212992) };
const RCV_SHUTDOWN = 1, SEND_SHUTDOWN = 2, SHUTDOWN_MASK = 3;
/** The most a UDP datagram carries (65535 - IP and UDP headers). */
const UDP_MAX = 65507;

/** An address as the host names it, and its port. */
interface HostAddr {
  host: string;
  port: number;
}

// ---- sockaddr_in and sockaddr_in6 ----

function ipv6Bytes(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let str = s.split('%')[0];
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(str);
  if (v4) {
    tail = v4[1].split('.').map(Number);
    str = str.slice(0, -v4[1].length) + '0:0';
  }
  const [head, rest] = str.split('::');
  const h = head ? head.split(':') : [];
  const r = rest !== undefined ? (rest ? rest.split(':') : []) : [];
  const groups = rest !== undefined ? [...h, ...Array(8 - h.length - r.length).fill('0'), ...r] : h;
  groups.forEach((g, k) => {
    const v = parseInt(g || '0', 16);
    out[k * 2] = v >> 8;
    out[k * 2 + 1] = v & 0xff;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

function ipv6String(b: Uint8Array): string {
  const groups: string[] = [];
  for (let k = 0; k < 16; k += 2) groups.push(((b[k] << 8) | b[k + 1]).toString(16));
  // a v4-mapped address as the host writes it
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  return groups.join(':');
}

/** The address of a sockaddr for this family (EINVAL: too short; EAFNOSUPPORT: another family). */
function parseSockaddr(family: number, a: Uint8Array, forBind: boolean): HostAddr {
  const fam = a.length >= 2 ? a[0] | (a[1] << 8) : -1;
  const port = a.length >= 4 ? (a[2] << 8) | a[3] : 0;
  if (family === AF_INET) {
    if (a.length < 16) throw new SysError(EINVAL);
    // bind accepts AF_UNSPEC with INADDR_ANY (for old programs)
    const any = a[4] === 0 && a[5] === 0 && a[6] === 0 && a[7] === 0;
    if (fam !== AF_INET && !(forBind && fam === AF_UNSPEC && any)) throw new SysError(EAFNOSUPPORT);
    return { host: `${a[4]}.${a[5]}.${a[6]}.${a[7]}`, port };
  }
  if (a.length < 24) throw new SysError(EINVAL);
  if (fam !== AF_INET6) throw new SysError(EAFNOSUPPORT);
  return { host: ipv6String(a.subarray(8, 24)), port };
}

/** A host address as this family's sockaddr. */
function sockaddr(family: number, h: HostAddr | null): Uint8Array {
  const port = h?.port ?? 0;
  if (family === AF_INET) {
    const s = new Struct(16).u16(0, AF_INET);
    s.bytes[2] = port >> 8;
    s.bytes[3] = port & 0xff;
    const host = h?.host.replace(/^::ffff:/, '') ?? '0.0.0.0';
    if (net.isIPv4(host)) s.bytes.set(host.split('.').map(Number), 4);
    return s.bytes;
  }
  const s = new Struct(28).u16(0, AF_INET6);
  s.bytes[2] = port >> 8;
  s.bytes[3] = port & 0xff;
  const host = h?.host ?? '::';
  s.bytes.set(net.isIPv4(host) ? ipv6Bytes(`::ffff:${host}`) : ipv6Bytes(host), 8);
  return s.bytes;
}

function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || /^::ffff:127\./.test(host);
}

type State = 'closed' | 'listening' | 'connecting' | 'connected';

interface Datagram {
  data: Uint8Array;
  from: HostAddr;
}

export class InetSocket extends Sock implements HostEndpoint {
  readonly hostBacked = true;
  state: State = 'closed';
  shut = 0;
  /** The host side of this socket exists (bound, listening, connecting or connected). */
  private id = 0;
  local: HostAddr | null = null;
  remote: HostAddr | null = null;
  /** TCP: bytes received; UDP: datagrams. */
  private readonly rx: Uint8Array[] = [];
  private readonly dgrams: Datagram[] = [];
  /** The host saw the peer's FIN. */
  private eof = false;
  /** Connections accepted by the host, waiting for accept. */
  private readonly backlog: InetSocket[] = [];
  /** A non-blocking connect was started and no connect call has seen its end yet. */
  private nbConnect = false;
  /** TCP options stored (level 6), IP (0), IPv6 (41). */
  private readonly popts = new Map<string, number>();

  constructor(
    readonly family: number,
    type: number,
    protocol: number,
    /** The machine's host sockets (Kernel.hostSockets), this one among them while it has a host socket. */
    private readonly own: HostSockets,
  ) {
    super(type, protocol, type === SOCK_STREAM ? TCP_BUF : UDP_BUF);
  }

  get listening(): boolean {
    return this.state === 'listening';
  }

  private get tcp(): boolean {
    return this.type === SOCK_STREAM;
  }

  private get v6only(): boolean {
    return (this.popts.get(`${IPPROTO_IPV6}:${IPV6_V6ONLY}`) ?? 0) !== 0;
  }

  /** The worker's news of this socket. */
  onEvent(e: HostEvent): void {
    this.seq++;
    switch (e.t) {
      case 'data':
        this.rx.push(e.data!);
        return;
      case 'msg': {
        const from = { host: e.addr!, port: e.port! };
        // a connected UDP socket takes datagrams from its peer only
        if (this.remote && (from.port !== this.remote.port || from.host.replace(/^::ffff:/, '') !== this.remote.host.replace(/^::ffff:/, ''))) return;
        this.dgrams.push({ data: e.data!, from });
        return;
      }
      case 'end':
        this.eof = true;
        this.shut |= RCV_SHUTDOWN;
        return;
      case 'error': {
        const errno = errnoFromNode({ code: e.code });
        if (this.state === 'connecting' || this.tcp) {
          this.err = errno;
          if (this.tcp) {
            this.state = 'closed';
            this.shut = SHUTDOWN_MASK;
          }
        } else this.err = errno;
        return;
      }
      case 'close':
        if (this.tcp && this.state === 'connected') {
          this.eof = true;
          this.shut |= RCV_SHUTDOWN;
        }
        return;
      case 'connect':
        this.state = 'connected';
        this.local = { host: e.local![0], port: e.local![1] };
        this.remote = { host: e.remote![0], port: e.remote![1] };
        return;
      case 'conn': {
        const c = new InetSocket(this.family, this.type, this.protocol, this.own);
        c.state = 'connected';
        c.local = { host: e.local![0], port: e.local![1] };
        c.remote = { host: e.remote![0], port: e.remote![1] };
        c.sndbuf = this.sndbuf;
        c.rcvbuf = this.rcvbuf;
        for (const [k, v] of this.opts) c.opts.set(k, v);
        for (const [k, v] of this.popts) c.popts.set(k, v);
        c.id = hostNet().register(c, this.own, e.nid!);
        this.backlog.push(c);
        return;
      }
    }
  }

  /** Take what the worker has posted. */
  private sync(): void {
    if (this.id !== 0 || this.backlog.length > 0) hostNet().drain(this.own);
  }

  poll(): number {
    this.sync();
    let m = 0;
    if (this.err) m |= POLLERR;
    if (!this.tcp) {
      // datagram_poll
      if (this.shut & RCV_SHUTDOWN) m |= POLLRDHUP | POLLIN | POLLRDNORM;
      if (this.shut === SHUTDOWN_MASK) m |= POLLHUP;
      if (this.dgrams.length > 0) m |= POLLIN | POLLRDNORM;
      return m | POLLOUT | POLLWRNORM | POLLWRBAND;
    }
    // tcp_poll
    if (this.state === 'listening') return this.backlog.length > 0 ? POLLIN | POLLRDNORM : 0;
    if (this.shut === SHUTDOWN_MASK || this.state === 'closed') m |= POLLHUP;
    if (this.shut & RCV_SHUTDOWN) m |= POLLIN | POLLRDNORM | POLLRDHUP;
    if (this.state !== 'connecting') {
      if (this.rx.length > 0) m |= POLLIN | POLLRDNORM;
      m |= POLLOUT | POLLWRNORM;
    }
    return m;
  }

  private deadline(timeo: bigint): bigint | null {
    return timeo > 0n ? monoNs() + timeo : null;
  }

  private hostError(code: string | undefined): never {
    throw new SysError(errnoFromNode({ code }));
  }

  bind(p: Process, addr: Uint8Array): void {
    const a = parseSockaddr(this.family, addr, true);
    if (this.local || this.state !== 'closed') throw new SysError(EINVAL);
    if (a.port !== 0 && a.port < 1024 && p.euid !== 0) throw new SysError(13 /* EACCES */);
    if (this.tcp) {
      // the worker holds the port from here, bound and not listening, as the kernel does
      const hn = hostNet();
      const id = hn.register(this, this.own);
      const r = hn.request({ op: 'bind', id, host: a.host, port: a.port, v6: this.family !== AF_INET, v6only: this.v6only });
      if (r.err) {
        hn.unregister(id, this.own);
        this.hostError(r.err);
      }
      this.id = id;
      this.local = { host: a.host, port: r.port! };
      return;
    }
    this.udpBind(a);
  }

  private udpBind(a: HostAddr): void {
    const hn = hostNet();
    const id = hn.register(this, this.own);
    const r = hn.request({ op: 'udp-bind', id, type: this.family === AF_INET ? 'udp4' : 'udp6', host: a.host, port: a.port, reuse: this.flag(SO.SO_REUSEADDR), v6only: this.v6only });
    if (r.err) {
      hn.unregister(id, this.own);
      this.hostError(r.err);
    }
    this.id = id;
    this.local = { host: a.host, port: r.port! };
  }

  listen(p: Process, backlog: number): void {
    if (!this.tcp) throw new SysError(EOPNOTSUPP);
    if (this.state === 'listening') return;
    if (this.state !== 'closed') throw new SysError(EINVAL);
    const hn = hostNet();
    const bound = this.id !== 0;
    const id = bound ? this.id : hn.register(this, this.own);
    const local = this.local ?? { host: this.family === AF_INET ? '0.0.0.0' : '::', port: 0 };
    const r = hn.request({
      op: 'listen', id, host: local.host, port: local.port, backlog: Math.max(backlog, 1), v6only: this.v6only, reuseport: this.flag(SO.SO_REUSEPORT),
      nodelay: this.popts.get(`${IPPROTO_TCP}:${TCP_NODELAY}`) ?? 0, keepalive: this.flag(SO.SO_KEEPALIVE),
    });
    if (r.err) {
      if (!bound) hn.unregister(id, this.own);
      this.hostError(r.err);
    }
    this.id = id;
    this.local = { host: local.host, port: r.port! };
    this.state = 'listening';
  }

  accept(p: Process, f: OpenFile): { sock: Sock; addr: Uint8Array } {
    if (!this.tcp) throw new SysError(EOPNOTSUPP);
    if (this.state !== 'listening') throw new SysError(EINVAL);
    waitFor(p, f, () => (this.sync(), this.backlog.length > 0), 'accept', false, this.deadline(this.rcvtimeo));
    const c = this.backlog.shift()!;
    return { sock: c, addr: sockaddr(this.family, c.remote) };
  }

  connect(p: Process, f: OpenFile, addr: Uint8Array): void {
    if (!this.tcp) {
      if (addr.length >= 2 && (addr[0] | (addr[1] << 8)) === AF_UNSPEC) {
        this.remote = null;
        return;
      }
      const a = parseSockaddr(this.family, addr, false);
      if (!this.local) this.udpBind({ host: this.autobindHost(a.host), port: 0 });
      this.remote = a;
      this.state = 'connected';
      return;
    }
    this.sync();
    // a blocking connect parked and retried goes on waiting for its own attempt
    const retry = p.retryProgress === 1;
    if (!retry) {
      if (this.nbConnect && this.state !== 'connecting') {
        // the first connect after a non-blocking one completes it (__inet_stream_connect's SS_CONNECTING)
        this.nbConnect = false;
        if (this.state === 'connected') return;
        const e = this.err || 103; /* ECONNABORTED */
        this.err = 0;
        throw new SysError(e);
      }
      if (this.state === 'connected') throw new SysError(EISCONN);
      if (this.state === 'connecting') throw new SysError(EALREADY);
      if (this.state === 'listening') throw new SysError(EISCONN);
      const a = parseSockaddr(this.family, addr, false);
      const hn = hostNet();
      if (this.id === 0) this.id = hn.register(this, this.own);
      this.err = 0;
      this.shut = 0;
      this.eof = false;
      this.state = 'connecting';
      this.remote = a;
      hn.post({
        op: 'connect', id: this.id, host: a.host, port: a.port, localAddress: this.local?.host, localPort: this.local?.port || undefined,
        nodelay: (this.popts.get(`${IPPROTO_TCP}:${TCP_NODELAY}`) ?? 0) !== 0, keepalive: this.flag(SO.SO_KEEPALIVE),
      });
      if (f.flags & O_NONBLOCK) {
        this.nbConnect = true;
        throw new SysError(EINPROGRESS);
      }
    }
    p.retryProgress = 1;
    try {
      waitFor(p, f, () => (this.sync(), this.state !== 'connecting'), 'connect', false, this.deadline(this.sndtimeo));
    } catch (e) {
      if (e instanceof SysError && e.errno === EAGAIN) throw new SysError(EINPROGRESS);
      throw e;
    }
    if (this.state !== 'connected') {
      const e = this.err || ECONNREFUSED;
      this.err = 0;
      throw new SysError(e);
    }
  }

  private autobindHost(dest: string): string {
    if (isLoopback(dest)) return this.family === AF_INET ? '127.0.0.1' : dest.startsWith('::ffff:') ? '::' : '::1';
    return this.family === AF_INET ? '0.0.0.0' : '::';
  }

  private pipeError(p: Process, flags: number): never {
    if (!(flags & MSG_NOSIGNAL)) p.raise(13, { signo: 13, code: 0, pid: p.pid, uid: p.uid });
    throw new SysError(EPIPE);
  }

  send(p: Process, f: OpenFile, data: Uint8Array, flags: number, x: SendExtra): number {
    if (x.rights || x.cred) throw new SysError(EINVAL);
    this.sync();
    if (!this.tcp) {
      if (this.shut & SEND_SHUTDOWN) this.pipeError(p, flags);
      const to = x.addr && x.addr.length > 0 ? parseSockaddr(this.family, x.addr, false) : this.remote;
      if (!to) throw new SysError(89 /* EDESTADDRREQ */);
      if (data.length > UDP_MAX) throw new SysError(EMSGSIZE);
      if (this.err) {
        const e = this.err;
        this.err = 0;
        throw new SysError(e);
      }
      if (!this.local) this.udpBind({ host: this.autobindHost(to.host), port: 0 });
      hostNet().post({ op: 'udp-send', id: this.id, data: data.slice(), host: to.host, port: to.port });
      return data.length;
    }
    if (this.err) {
      const e = this.err;
      this.err = 0;
      throw new SysError(e);
    }
    if (this.shut & SEND_SHUTDOWN || this.state !== 'connected') {
      if (this.state === 'connecting') {
        waitFor(p, f, () => (this.sync(), this.state !== 'connecting'), 'send', (flags & MSG_DONTWAIT) !== 0);
        return this.send(p, f, data, flags, x);
      }
      this.pipeError(p, flags);
    }
    hostNet().post({ op: 'write', id: this.id, data: data.slice() });
    return data.length;
  }

  recv(p: Process, f: OpenFile, len: number, flags: number): Received {
    const nonblock = (flags & MSG_DONTWAIT) !== 0;
    const deadline = this.deadline(this.rcvtimeo);
    const peek = (flags & MSG_PEEK) !== 0;
    if (!this.tcp) {
      waitFor(p, f, () => (this.sync(), this.dgrams.length > 0 || this.err !== 0 || (this.shut & RCV_SHUTDOWN) !== 0), 'recv', nonblock, deadline);
      if (this.dgrams.length === 0) {
        if (this.err) {
          const e = this.err;
          this.err = 0;
          throw new SysError(e);
        }
        return { data: new Uint8Array(0), addr: null, rights: null, cred: null, flags: 0, length: 0 };
      }
      const d = peek ? this.dgrams[0] : this.dgrams.shift()!;
      const n = Math.min(len, d.data.length);
      return { data: d.data.slice(0, n), addr: sockaddr(this.family, d.from), rights: null, cred: null, flags: n < d.data.length ? MSG_TRUNC : 0, length: flags & MSG_TRUNC ? d.data.length : n };
    }
    if (this.state === 'listening' || (this.state === 'closed' && !this.eof && this.rx.length === 0 && this.err === 0)) throw new SysError(ENOTCONN);
    const target = flags & MSG_WAITALL ? len : 1;
    const have = () => this.rx.reduce((n, c) => n + c.length, 0);
    waitFor(p, f, () => (this.sync(), have() >= Math.min(target, len) || this.eof || this.err !== 0 || this.state === 'closed' || (this.shut & RCV_SHUTDOWN) !== 0), 'recv', nonblock, deadline);
    if (this.rx.length === 0) {
      if (this.err) {
        const e = this.err;
        this.err = 0;
        throw new SysError(e);
      }
      return { data: new Uint8Array(0), addr: null, rights: null, cred: null, flags: 0, length: 0 };
    }
    const out = new Uint8Array(Math.min(len, have()));
    let o = 0, k = 0;
    while (o < out.length) {
      const c = this.rx[k];
      const n = Math.min(c.length, out.length - o);
      out.set(c.subarray(0, n), o);
      o += n;
      if (peek) k++;
      else if (n === c.length) this.rx.shift();
      else this.rx[0] = c.subarray(n);
    }
    return { data: out, addr: null, rights: null, cred: null, flags: 0, length: out.length };
  }

  /** FIONREAD: the bytes a read would get (UDP: the next datagram's). */
  nread(): number {
    this.sync();
    if (!this.tcp) return this.dgrams[0]?.data.length ?? 0;
    return this.rx.reduce((n, c) => n + c.length, 0);
  }

  shutdown(p: Process, how: number): void {
    if (how < SHUT_RD || how > SHUT_RDWR) throw new SysError(EINVAL);
    this.sync();
    if (this.tcp && this.state !== 'connected' && this.state !== 'listening') throw new SysError(ENOTCONN);
    if (!this.tcp && !this.remote) throw new SysError(ENOTCONN);
    const mode = how + 1;
    if (this.tcp && mode & SEND_SHUTDOWN && !(this.shut & SEND_SHUTDOWN)) hostNet().post({ op: 'end', id: this.id });
    this.shut |= mode;
    this.seq++;
  }

  sockname(): Uint8Array {
    return sockaddr(this.family, this.local);
  }

  peername(): Uint8Array {
    this.sync();
    if (!this.remote || (this.tcp && this.state !== 'connected')) throw new SysError(ENOTCONN);
    return sockaddr(this.family, this.remote);
  }

  protected override optionChanged(level: number, name: number, value: number): void {
    if (name === SO.SO_KEEPALIVE && this.id !== 0) hostNet().post({ op: 'keepalive', id: this.id, on: value !== 0 });
  }

  protected override protoGetopt(level: number, name: number): Uint8Array | null {
    const int = (v: number) => new Struct(4).u32(0, v).bytes;
    const stored = this.popts.get(`${level}:${name}`);
    if (level === IPPROTO_TCP && this.tcp) {
      if (name === TCP_NODELAY) return int(stored ?? 0);
      if (name === TCP_MAXSEG) return int(stored ?? 536);
      if (name === TCP_KEEPIDLE) return int(stored ?? 7200);
      if (name === TCP_KEEPINTVL) return int(stored ?? 75);
      if (name === TCP_KEEPCNT) return int(stored ?? 9);
    }
    if (level === IPPROTO_IP && IP_INT_OPTS.has(name)) return int(stored ?? IP_INT_OPTS.get(name)!);
    if (level === IPPROTO_IPV6 && this.family === AF_INET6) {
      if (name === IPV6_V6ONLY) return int(stored ?? sysctl('net/ipv6/bindv6only', 0, 0));
      if (IPV6_INT_OPTS.has(name)) return int(stored ?? IPV6_INT_OPTS.get(name)!);
    }
    return null;
  }

  protected override protoSetopt(level: number, name: number, val: Uint8Array): boolean {
    if (val.length < 4) throw new SysError(EINVAL);
    const v = new DataView(val.buffer, val.byteOffset, 4).getInt32(0, true);
    const key = `${level}:${name}`;
    if (level === IPPROTO_TCP && this.tcp && [TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT].includes(name)) {
      if (name !== TCP_NODELAY && v < 1) throw new SysError(EINVAL);
      this.popts.set(key, name === TCP_NODELAY ? (v ? 1 : 0) : v);
      if (name === TCP_NODELAY && this.id !== 0) hostNet().post({ op: 'nodelay', id: this.id, on: v !== 0 });
      return true;
    }
    if (level === IPPROTO_IP && IP_INT_OPTS.has(name)) {
      if (name === IP_TTL && (v < -1 || v > 255 || v === 0)) throw new SysError(EINVAL);
      this.popts.set(key, name === IP_TTL && v === -1 ? 64 : name === IP_TOS ? v & 0xff : v);
      return true;
    }
    if (level === IPPROTO_IPV6 && this.family === AF_INET6 && IPV6_INT_OPTS.has(name)) {
      this.popts.set(key, v);
      return true;
    }
    if (level === IPPROTO_IPV6 && this.family === AF_INET6 && name === IPV6_V6ONLY) {
      // only before the socket has an address (the host socket is made with it)
      if (this.local || this.state !== 'closed') throw new SysError(EINVAL);
      this.popts.set(key, v ? 1 : 0);
      return true;
    }
    return false;
  }

  release(): void {
    const hn = instanceIfAny(this.id);
    for (const c of this.backlog.splice(0)) c.release();
    if (hn) {
      hn.unregister(this.id, this.own);
      // SO_LINGER with a zero timeout: the connection is reset, not ended
      hn.post({ op: 'close', id: this.id, reset: this.linger[0] === 1 && this.linger[1] === 0 });
    }
    this.id = 0;
    this.state = 'closed';
  }
}

function instanceIfAny(id: number): ReturnType<typeof hostNet> | null {
  return id !== 0 ? hostNet() : null;
}

/** socket(AF_INET or AF_INET6, type, protocol): TCP and UDP (EPROTONOSUPPORT for another protocol; raw sockets EPERM as for an unprivileged user). */
export function createInet(p: Process, family: number, type: number, protocol: number): InetSocket {
  if (type === SOCK_STREAM) {
    if (protocol !== 0 && protocol !== IPPROTO_TCP) throw new SysError(EPROTONOSUPPORT);
    return new InetSocket(family, SOCK_STREAM, IPPROTO_TCP, p.kernel.hostSockets);
  }
  if (type === SOCK_DGRAM) {
    if (protocol !== 0 && protocol !== IPPROTO_UDP) throw new SysError(EPROTONOSUPPORT);
    return new InetSocket(family, SOCK_DGRAM, IPPROTO_UDP, p.kernel.hostSockets);
  }
  if (type === SOCK_RAW) throw new SysError(EPERM);
  throw new SysError(ESOCKTNOSUPPORT);
}

