/**
 * Byte transports for a Stub: a TCP listener (one debugger at a time; a
 * second is refused with a message, the first unaffected) and stdin/stdout
 * (`target remote | entrystub serve --stdio PROG`).
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
 * One connection's plumbing: replies go out in one write per chunk of input
 * (ack + reply: one segment), written straight to the descriptor when the
 * stream has nothing queued; input after a reply is read directly (see above).
 */
class Connection {
  private batch: Buffer[] | null = null;
  private readonly rbuf = Buffer.allocUnsafe(0x10000);

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
        n = fs.readSync(this.readFd, this.rbuf, 0, this.rbuf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return this.drop();
        n = -1;
      } finally {
        Error.stackTraceLimit = limit;
      }
      const now = performance.now();
      if (n === 0) return; // end of input: the stream sees it too and closes the session
      if (n > 0) {
        this.handle(this.rbuf.subarray(0, n)); // PacketReader decodes it at once: no copy needed
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

/** Listen on host:port; resolves with the bound address once listening. */
export function listenTcp(stub: Stub, host: string, port: number): Promise<net.Server> {
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    const name = `${sock.remoteAddress}:${sock.remotePort}`;
    let conn: Connection | null = null;
    const session = stub.connect((b) => conn?.write(b), name);
    if (!session) {
      refuse(sock);
      return;
    }
    const fd = fdOf(sock);
    conn = new Connection(stub, session, sock, fd, fd, () => sock.destroy());
    sock.on('data', (d: Buffer) => conn!.onData(d));
    const gone = () => session.close();
    sock.on('close', gone);
    sock.on('error', gone);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** A second client: answer its first packet with an error that gdb prints, then hang up. */
function refuse(sock: net.Socket): void {
  let answered = false;
  const bye = setTimeout(() => sock.destroy(), 5000);
  sock.on('data', (d: Buffer) => {
    if (answered || !d.includes(0x24 /* $ */)) return;
    answered = true;
    sock.end(Buffer.concat([Buffer.from('+'), frame(BUSY)]));
  });
  sock.on('close', () => clearTimeout(bye));
  sock.on('error', () => clearTimeout(bye));
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
    const session = stub.connect((b) => conn?.write(b), 'stdio')!;
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
