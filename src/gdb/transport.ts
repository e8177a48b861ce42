/**
 * Byte transports for a Stub: a TCP or Unix-socket listener (one debugger
 * at a time; a second is refused with a message, the first unaffected; a
 * client that never sends a packet is dropped) and stdin/stdout (`target
 * remote | entrystub serve --stdio PROG`).
 *
 * Both have a fast path for gdb's step-by-step traffic. A `stepi` is two
 * round trips (vCont;s, then an m read for the frame), and gdb answers each
 * reply within tens of microseconds. Going back to the event loop between
 * them costs a sleep and a cross-CPU wakeup per packet, more than the stub's
 * own work (3,600-4,400 stepi/s). So after answering, while the program is
 * stopped, the transport reads the descriptor directly for a short while
 * (SPIN_MS) and answers what comes at once (5,500-10,000 stepi/s, `npm run
 * bench`; gdb's writes no longer have to wake the stub either). The spin only
 * runs with a second CPU to spin on, never while the program runs (the event
 * loop drives `continue` and its interrupt byte), and hands back to the event
 * loop at least every SPIN_CAP_MS.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import { frame } from './packet.js';
import type { Session } from './session.js';
import type { Stub } from './stub.js';

const BUSY = 'E.entrystub: another debugger is already attached to this program';

/** How long to wait for the next packet by reading directly (ENTRYSTUB_SPIN_MS=0 turns it off). */
const SPIN_MS = spinSetting();
/** Longest stretch without a turn of the event loop. */
const SPIN_CAP_MS = 20;

function spinSetting(): number {
  const env = process.env.ENTRYSTUB_SPIN_MS;
  if (env !== undefined && env !== '') {
    const v = Number(env);
    return Number.isFinite(v) && v > 0 ? v : 0;
  }
  // with one CPU, spinning would only keep gdb from running
  return os.availableParallelism() > 1 ? 0.5 : 0;
}

/**
 * The fast path's read buffer, one for all connections: what is read is
 * decoded before the next read, and one per connection was 64 KiB of garbage
 * for every connect (RSS grew with reconnects until the collector caught up).
 */
const READ_BUF = Buffer.allocUnsafe(0x10000);

/**
 * One connection's plumbing: replies go out in one write per chunk of input
 * (ack + reply: one segment), written straight to the descriptor when the
 * stream has nothing queued; input after a reply is read directly (see above).
 */
class Connection {
  private batch: Buffer[] | null = null;

  constructor(
    private readonly stub: Stub,
    private readonly session: Session,
    private readonly stream: net.Socket | NodeJS.WriteStream,
    /** Descriptors for the fast path (-1: stream only). */
    private readonly readFd: number,
    private readonly writeFd: number,
    private readonly drop: () => void,
  ) {}

  /** The session's write function. */
  readonly write = (b: Buffer): void => {
    if (this.batch) this.batch.push(b);
    else this.put(b);
  };

  /** A chunk of input from the stream's 'data' event. */
  onData(d: Buffer): void {
    this.handle(d);
    this.session.prepare();
    if (SPIN_MS > 0 && this.readFd >= 0) this.spin();
  }

  private handle(d: Buffer): void {
    this.batch = [];
    try {
      this.session.feed(d);
    } finally {
      const out = this.batch;
      this.batch = null;
      if (out.length > 0) this.put(out.length === 1 ? out[0] : Buffer.concat(out));
    }
  }

  private put(b: Buffer): void {
    if (this.stream.destroyed) return;
    if (this.writeFd >= 0 && this.stream.writableLength === 0) {
      try {
        const n = fs.writeSync(this.writeFd, b);
        if (n === b.length) return;
        b = b.subarray(n);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return this.drop();
      }
    }
    this.stream.write(b); // the rest, in order, when the descriptor can take it
  }

  /** Read and answer packets directly until none comes for SPIN_MS, or the program runs. */
  private spin(): void {
    const start = performance.now();
    let last = start;
    while (!this.session.closed && !this.stub.runner.running && !this.stream.destroyed) {
      let n: number;
      // nothing to read is an exception (EAGAIN): skip its stack trace, a third of each turn's cost
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        n = fs.readSync(this.readFd, READ_BUF, 0, READ_BUF.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return this.drop();
        n = -1;
      } finally {
        Error.stackTraceLimit = limit;
      }
      const now = performance.now();
      if (n === 0) return; // end of input: the stream sees it too and closes the session
      if (n > 0) {
        this.handle(READ_BUF.subarray(0, n)); // PacketReader decodes it at once: no copy needed
        this.session.prepare(); // while the client reads the reply
        last = now;
      } else if (now - last > SPIN_MS) return;
      if (now - start > SPIN_CAP_MS) return; // let timers and other sockets have a turn
    }
  }
}

/** The descriptor under a stream, when there is one (Unix). */
function fdOf(s: net.Socket): number {
  const fd = (s as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}

export interface ListenOptions {
  /** TCP host and port, or a Unix socket path. */
  host?: string;
  port?: number;
  path?: string;
  /** Drop a client that sends no valid packet within this many ms (0: never). */
  handshakeMs: number;
}

/** How long a new connection waits for the previous client's close to be seen before it is refused. */
const GRACE_MS = 1000;

/**
 * Listen for debuggers; resolves with the server once listening. One client
 * at a time: a connection that arrives while another is attached waits, as
 * gdbserver's does, for that one to go (gdb's `disconnect` then `target
 * remote`: the old socket's close can reach us after the new connection),
 * and is served then; if the other is still there after GRACE_MS and has
 * spoken (a debugger, not a silent client the handshake timeout will drop),
 * it is refused with a message gdb prints.
 */
export function listen(stub: Stub, o: ListenOptions): Promise<net.Server> {
  const waiting: { sock: net.Socket; data: Buffer[]; timer: NodeJS.Timeout }[] = [];
  const serveSock = (sock: net.Socket, early: Buffer[]): void => {
    const name = o.path !== undefined ? `unix socket ${o.path}` : `${sock.remoteAddress}:${sock.remotePort}`;
    let conn: Connection | null = null;
    const session = stub.connect((b) => conn?.write(b), name, () => sock.end());
    if (!session) return refuse(sock);
    const fd = fdOf(sock);
    conn = new Connection(stub, session, sock, fd, fd, () => sock.destroy());
    const c = conn;
    sock.on('data', (d: Buffer) => c.onData(d));
    let hello: NodeJS.Timeout | null = null;
    if (o.handshakeMs > 0)
      hello = setTimeout(() => {
        hello = null;
        if (session.greeted || session.closed) return;
        stub.log(`entrystub: dropped ${name}: no packet within ${o.handshakeMs / 1000} s of connecting`);
        sock.destroy();
      }, o.handshakeMs);
    const gone = () => {
      if (hello) clearTimeout(hello);
      hello = null;
      session.close();
    };
    sock.on('close', gone);
    sock.on('error', gone);
    for (const d of early) c.onData(d);
  };
  // a client left: serve the next that waits for it
  stub.onFree = () => {
    while (waiting.length > 0 && !stub.busy) {
      const w = waiting.shift()!;
      clearTimeout(w.timer);
      detachListeners(w.sock);
      if (!w.sock.destroyed) serveSock(w.sock, w.data);
    }
  };
  const server = net.createServer((sock) => {
    sock.setNoDelay?.(true);
    if (!stub.busy && waiting.length === 0) return serveSock(sock, []);
    const giveUp = (): void => {
      // the attached client has not said a word yet: it may be a dead one the handshake timeout drops
      if (stub.session && !stub.session.greeted && !stub.session.closed) {
        w.timer = setTimeout(giveUp, GRACE_MS);
        return;
      }
      const k = waiting.indexOf(w);
      if (k >= 0) waiting.splice(k, 1);
      detachListeners(sock);
      refuse(sock, w.data);
    };
    const w = { sock, data: [] as Buffer[], timer: setTimeout(giveUp, GRACE_MS) };
    waiting.push(w);
    sock.on('data', (d: Buffer) => w.data.push(d));
    const drop = () => {
      clearTimeout(w.timer);
      const k = waiting.indexOf(w);
      if (k >= 0) waiting.splice(k, 1);
    };
    sock.on('close', drop);
    sock.on('error', drop);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const ready = () => {
      server.off('error', reject);
      resolve(server);
    };
    if (o.path !== undefined) server.listen(o.path, ready);
    else server.listen(o.port ?? 0, o.host, ready);
  });
}

/** Forget what a waiting connection listened for (it is handed on). */
function detachListeners(sock: net.Socket): void {
  sock.removeAllListeners('data');
  sock.removeAllListeners('close');
  sock.removeAllListeners('error');
}

/** A second client: answer its first packet with an error that gdb prints, then hang up. */
function refuse(sock: net.Socket, early: Buffer[] = []): void {
  let answered = false;
  const bye = setTimeout(() => sock.destroy(), 5000);
  const onData = (d: Buffer) => {
    if (answered || !d.includes(0x24 /* $ */)) return;
    answered = true;
    sock.end(Buffer.concat([Buffer.from('+'), frame(BUSY)]));
  };
  sock.on('data', onData);
  sock.on('close', () => clearTimeout(bye));
  sock.on('error', () => clearTimeout(bye));
  for (const d of early) onData(d);
}

/** Is descriptor fd in non-blocking mode? (A blocking one would stall the fast path's reads.) */
function nonBlocking(fd: number): boolean {
  try {
    const m = /^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m !== null && (parseInt(m[1], 8) & 0o4000) !== 0;
  } catch {
    return false;
  }
}

/** Speak the protocol on stdin/stdout. Resolves when stdin closes. */
export function serveStdio(stub: Stub): Promise<void> {
  return new Promise((resolve) => {
    let conn: Connection | null = null;
    const session = stub.connect((b) => conn?.write(b), 'stdio', () => process.stdin.destroy())!;
    process.stdin.resume(); // opens the stream (and makes fd 0 non-blocking when it is a pipe or socket)
    const fast = nonBlocking(0) && nonBlocking(1);
    conn = new Connection(stub, session, process.stdout, fast ? 0 : -1, fast ? 1 : -1, () => process.stdin.destroy());
    process.stdin.on('data', (d: Buffer) => conn!.onData(d));
    const end = () => {
      session.close();
      resolve();
    };
    process.stdin.on('end', end);
    process.stdin.on('error', end);
  });
}
