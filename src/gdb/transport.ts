/**
 * Byte transports for a Stub: a TCP listener (one debugger at a time; a
 * second is refused with a message, the first unaffected) and stdin/stdout
 * (`target remote | entrystub serve --stdio PROG`).
 */
import * as net from 'node:net';
import { frame } from './packet.js';
import type { Stub } from './stub.js';

const BUSY = 'E.entrystub: another debugger is already attached to this program';

/** Listen on host:port; resolves with the bound address once listening. */
export function listenTcp(stub: Stub, host: string, port: number): Promise<net.Server> {
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    const name = `${sock.remoteAddress}:${sock.remotePort}`;
    // replies made while handling one chunk of input go out in one write (ack + reply: one segment)
    let batch: Buffer[] | null = null;
    const session = stub.connect((b) => {
      if (batch) batch.push(b);
      else if (!sock.destroyed) sock.write(b);
    }, name);
    if (!session) {
      refuse(sock);
      return;
    }
    sock.on('data', (d: Buffer) => {
      batch = [];
      try {
        session.feed(d);
      } finally {
        const out = batch;
        batch = null;
        if (out.length > 0 && !sock.destroyed) sock.write(out.length === 1 ? out[0] : Buffer.concat(out));
      }
    });
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

/** Speak the protocol on stdin/stdout. Resolves when stdin closes. */
export function serveStdio(stub: Stub): Promise<void> {
  return new Promise((resolve) => {
    const out = process.stdout;
    const session = stub.connect((b) => out.write(b), 'stdio')!;
    process.stdin.on('data', (d: Buffer) => session.feed(d));
    const end = () => {
      session.close();
      resolve();
    };
    process.stdin.on('end', end);
    process.stdin.on('error', end);
    process.stdin.resume();
  });
}
