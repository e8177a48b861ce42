/**
 * The host's sockets, reached through a worker thread. Node has no
 * synchronous socket API, and the emulator runs the guest on the main
 * thread without returning to the event loop, so node:net and node:dgram
 * run in a worker (its code: hostSocketsWorker, below) with its own loop:
 *
 * - a request that needs an answer now (bind, listen: the port, or
 *   EADDRINUSE) is posted, and the main thread waits for the reply with a
 *   bounded Atomics.wait on a shared word, then takes it with
 *   receiveMessageOnPort;
 * - the rest (connect, write, close) is posted without waiting;
 * - whatever the host sockets do (a connection accepted, data, the end,
 *   an error, a datagram) the worker posts as an event and counts in
 *   another shared word: the main thread takes the events whenever a socket
 *   is looked at (drain), and a wait on host sockets is an Atomics.wait on
 *   that counter, which the worker's next event ends (waitEvents).
 *
 * Data is buffered on the main thread, so a guest's recv, accept and poll
 * never wait for the worker. The worker starts with the first AF_INET or
 * AF_INET6 socket and is unref'd: it never keeps the emulator alive.
 */
import { Worker, receiveMessageOnPort, MessageChannel, type MessagePort } from 'node:worker_threads';
import { asked } from '../hostlog.js';
import { setHostWaiter } from '../ready.js';
import type { HostEndpoint, HostEvent, HostSockets } from './hostsockets.js';

/** A request's reply: an error code, or what it found. */
export interface HostReply {
  err?: string;
  port?: number;
  address?: string;
}

/** How long a request may take before it is taken as failed (the worker is stuck or gone). */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The worker's code, started as an eval'd script (a file would need to be
 * found beside the compiled module, which a test importing the sources does
 * not have): it must use nothing from outside itself.
 */
function hostSocketsWorker(): void {
  // process.getBuiltinModule, not require: a bundler rewrites a free `require` into a helper of its own, which
  // this eval'd text would not have (the installed command is bundled: scripts/bundle.mjs)
  const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads') as any;
  const net = process.getBuiltinModule('node:net') as any;
  const dgram = process.getBuiltinModule('node:dgram') as any;
  const sig = new Int32Array(workerData.sab);
  const replies = workerData.replies;
  const events = workerData.events;
  const socks = new Map<number, any>();
  let nextId = 1 << 30;
  const event = (m: any) => {
    events.postMessage(m);
    Atomics.add(sig, 0, 1);
    Atomics.notify(sig, 0);
  };
  const reply = (m: any) => {
    replies.postMessage(m);
    Atomics.store(sig, 1, 1);
    Atomics.notify(sig, 1);
  };
  const code = (e: any): string => (e && typeof e.code === 'string' ? e.code : 'EIO');
  const pair = (a: any, p: any): [string, number] => [String(a ?? ''), Number(p ?? 0)];
  const track = (id: number, s: any) => {
    socks.set(id, s);
    s.on('data', (d: Uint8Array) => event({ id, t: 'data', data: d }));
    s.on('end', () => event({ id, t: 'end' }));
    s.on('error', (e: any) => event({ id, t: 'error', code: code(e) }));
    s.on('close', () => {
      if (socks.get(id) === s) socks.delete(id);
      event({ id, t: 'close' });
    });
  };
  // a TCP handle that binds without listening: process.binding's, which Node still offers (DEP0111 is documentation-only)
  let TCP: any = null, tcpConst: any = null;
  try {
    ({ TCP, constants: tcpConst } = (process as any).binding('tcp_wrap'));
  } catch {
    // a Node without it: bind(2) probes the port by listening on it for a moment
  }
  const util = process.getBuiltinModule('node:util') as any;
  const probe = (m: any) => {
    const srv = net.createServer();
    srv.once('error', (e: any) => reply({ err: code(e) }));
    srv.listen({ host: m.host, port: m.port, exclusive: true, ipv6Only: m.v6only }, () => {
      const port = srv.address().port;
      srv.close(() => reply({ port }));
    });
  };
  /** The handles of TCP sockets bound and not listening yet. */
  const bound = new Map<number, any>();
  /** A socket bound and then connected or closed gives its handle up (closing it releases the port at once). */
  const unbind = (id: number) => {
    bound.get(id)?.close();
    bound.delete(id);
  };
  parentPort.on('message', (m: any) => {
    switch (m.op) {
      case 'bind': {
        // bind(2) of a TCP socket: a TCP handle bound and not listening, as the kernel's, so a connect to the port
        // is refused until the guest's listen(2), which listens on this very handle (a server listened on and
        // closed again as a probe would take an early client's connection and reset it)
        if (!TCP) {
          probe(m);
          break;
        }
        const h = new TCP(tcpConst.SERVER);
        const out: any = {};
        // libuv keeps bind's EADDRINUSE for later: getsockname reports it
        const err = (m.v6 ? h.bind6(m.host, m.port, m.v6only ? tcpConst.UV_TCP_IPV6ONLY : 0) : h.bind(m.host, m.port)) || h.getsockname(out);
        if (err) {
          h.close();
          reply({ err: util.getSystemErrorName(err) });
          break;
        }
        bound.set(m.id, h);
        reply({ port: out.port });
        break;
      }
      case 'listen': {
        const srv = net.createServer({ allowHalfOpen: true });
        srv.once('error', (e: any) => reply({ err: code(e) }));
        const h = bound.get(m.id);
        bound.delete(m.id);
        const up = () => {
          srv.removeAllListeners('error');
          srv.on('error', () => {});
          socks.set(m.id, srv);
          reply({ port: srv.address().port, address: srv.address().address });
        };
        if (h) srv.listen(h, m.backlog, up);
        else srv.listen({ host: m.host, port: m.port, backlog: m.backlog, exclusive: !m.reuseport, ipv6Only: m.v6only }, up);
        srv.on('connection', (c: any) => {
          const id = nextId++;
          if (m.nodelay) c.setNoDelay(true);
          if (m.keepalive) c.setKeepAlive(true);
          track(id, c);
          event({ id: m.id, t: 'conn', nid: id, local: pair(c.localAddress, c.localPort), remote: pair(c.remoteAddress, c.remotePort) });
        });
        break;
      }
      case 'connect': {
        // a socket bound first connects from its port: Node binds it again for the connection
        unbind(m.id);
        const c = net.connect({ host: m.host, port: m.port, localAddress: m.localAddress, localPort: m.localPort, allowHalfOpen: true, noDelay: m.nodelay, keepAlive: m.keepalive });
        c.once('connect', () => event({ id: m.id, t: 'connect', local: pair(c.localAddress, c.localPort), remote: pair(c.remoteAddress, c.remotePort) }));
        track(m.id, c);
        break;
      }
      case 'write':
        socks.get(m.id)?.write(m.data);
        break;
      case 'end':
        socks.get(m.id)?.end();
        break;
      case 'nodelay':
        socks.get(m.id)?.setNoDelay?.(m.on);
        break;
      case 'keepalive':
        socks.get(m.id)?.setKeepAlive?.(m.on);
        break;
      case 'close': {
        unbind(m.id);
        const s = socks.get(m.id);
        socks.delete(m.id);
        if (!s) break;
        if (s instanceof net.Server || s instanceof dgram.Socket) s.close();
        else if (m.reset) s.resetAndDestroy();
        else {
          s.end();
          // the peer may never end its side: the socket goes when ours is flushed and a little after
          setTimeout(() => s.destroy(), 2000).unref();
        }
        break;
      }
      case 'udp-bind': {
        const u = dgram.createSocket({ type: m.type, reuseAddr: m.reuse, ipv6Only: m.v6only });
        u.once('error', (e: any) => reply({ err: code(e) }));
        u.on('message', (d: Uint8Array, r: any) => event({ id: m.id, t: 'msg', data: d, addr: r.address, port: r.port }));
        u.bind({ address: m.host, port: m.port, exclusive: true }, () => {
          u.removeAllListeners('error');
          u.on('error', (e: any) => event({ id: m.id, t: 'error', code: code(e) }));
          socks.set(m.id, u);
          reply({ port: u.address().port, address: u.address().address });
        });
        break;
      }
      case 'udp-send':
        socks.get(m.id)?.send(m.data, m.port, m.host, (e: any) => {
          if (e) event({ id: m.id, t: 'error', code: code(e) });
        });
        break;
    }
  });
}

class HostNet {
  private readonly worker: Worker;
  private readonly sig = new Int32Array(new SharedArrayBuffer(8));
  private readonly replies: MessagePort;
  private readonly events: MessagePort;
  private readonly endpoints = new Map<number, HostEndpoint>();
  /** The event counter as of the last drain. */
  private seen = 0;
  private nextId = 1;

  constructor() {
    const r = new MessageChannel(), e = new MessageChannel();
    this.replies = r.port1;
    this.events = e.port1;
    this.worker = new Worker(`(${hostSocketsWorker.toString()})()`, {
      eval: true,
      workerData: { sab: this.sig.buffer, replies: r.port2, events: e.port2 },
      transferList: [r.port2, e.port2],
    });
    this.worker.unref();
    this.replies.unref();
    this.events.unref();
    setHostWaiter((ms) => this.waitEvents(ms));
  }

  /**
   * A new endpoint's id (the worker numbers the connections it accepts from
   * 2^30 up), among the machine's own sockets. The id is an answer of the
   * host: a replay of history gets the one the recorded run got, which the
   * worker's requests and events recorded then name, and a machine that goes
   * on live gets ids no other machine of this process has used.
   */
  register(ep: HostEndpoint, own: HostSockets, id = this.newId()): number {
    own.set(id, ep);
    this.endpoints.set(id, ep);
    return id;
  }

  private readonly newId = asked('net.id', (): number => this.nextId++);

  unregister(id: number, own: HostSockets): void {
    own.delete(id);
    this.endpoints.delete(id);
  }

  /** Post a request that needs no answer (a replay of history does not post it again: hostlog.ts). */
  readonly post = asked('net.post', (m: object): void => this.worker.postMessage(m));

  /** Post a request and wait for its reply (bounded: a stuck worker is ETIMEDOUT). */
  readonly request = asked('net.request', (m: object): HostReply => {
    Atomics.store(this.sig, 1, 0);
    this.worker.postMessage(m);
    const deadline = Date.now() + REQUEST_TIMEOUT_MS;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return { err: 'ETIMEDOUT' };
      Atomics.wait(this.sig, 1, 0, left);
      const got = receiveMessageOnPort(this.replies);
      if (got) return got.message as HostReply;
    }
  });

  /** The worker's events so far: what the host sockets did (recorded as one answer, so a replay gets the same events at the same point). */
  private readonly takeEvents = asked('net.events', (): HostEvent[] => {
    this.seen = Atomics.load(this.sig, 0);
    const out: HostEvent[] = [];
    for (let got = receiveMessageOnPort(this.events); got; got = receiveMessageOnPort(this.events)) out.push(got.message as HostEvent);
    return out;
  });

  /**
   * Take the worker's events to their endpoints, the sockets of `own`'s
   * machine first made theirs again (a machine restored from a snapshot, or
   * one replaying to look, may have named its copies since).
   */
  drain(own: HostSockets): void {
    for (const [id, ep] of own) this.endpoints.set(id, ep);
    for (const e of this.takeEvents()) this.endpoints.get(e.id)?.onEvent(e);
  }

  /** Wait on the host up to ms for the worker's next event. */
  readonly waitEvents = asked('net.wait', (ms: number): void => {
    Atomics.wait(this.sig, 0, this.seen, ms);
  });
}

let instance: HostNet | null = null;

/** The host-sockets worker, started at the first use. */
export function hostNet(): HostNet {
  instance ??= new HostNet();
  return instance;
}
