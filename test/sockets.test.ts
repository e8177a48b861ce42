/**
 * Guest sockets meeting host programs on the loopback (the fixtures have
 * both ends in the guest): a guest client of a host server, and a host
 * client of a guest server waiting alone in accept and read (one task,
 * undebugged: a real host wait, which the worker's event ends).
 * The host ends run in this process's event loop, so the emulator runs as
 * a child process (`entrystub run`), not with spawnSync.
 */
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { CLI, busyboxPath } from './helpers/cases.js';

interface Run {
  stdout: string;
  code: number | null;
  done: Promise<void>;
}

/** Start `entrystub run` on busybox with these arguments and this stdin. */
function run(args: string[], input: string): Run {
  const child = spawn(process.execPath, [CLI, 'run', '--argv0', 'busybox', busyboxPath()!, ...args], { env: {}, stdio: ['pipe', 'pipe', 'pipe'] });
  const r: Run = { stdout: '', code: null, done: Promise.resolve() };
  child.stdout.on('data', (d: Buffer) => (r.stdout += d.toString()));
  child.stdin.end(input);
  r.done = new Promise((resolve) =>
    child.on('exit', (code) => {
      r.code = code;
      resolve();
    }),
  );
  return r;
}

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

/** Connect to port, retrying while the guest is not listening yet. */
async function connectWhenUp(port: number): Promise<net.Socket> {
  for (let k = 0; k < 200; k++) {
    const s = await new Promise<net.Socket | null>((res) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => res(c));
      c.once('error', () => res(null));
    });
    if (s) return s;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

describe.skipIf(!busyboxPath())('guest sockets and host programs', () => {
  it('a guest client talks to a host TCP server', async () => {
    const server = net.createServer((c) => {
      c.on('data', (d) => c.write(d.toString().toUpperCase()));
      c.on('end', () => c.end());
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as net.AddressInfo).port;
    const r = run(['nc', '127.0.0.1', String(port)], 'hello from the guest\n');
    await r.done;
    server.close();
    expect(r.stdout).toBe('HELLO FROM THE GUEST\n');
    expect(r.code).toBe(0);
  }, 60_000);

  it('a host client reaches a guest server, which waits alone in accept and read', async () => {
    const port = await freePort();
    const r = run(['nc', '-l', '-p', String(port)], '');
    const c = await connectWhenUp(port);
    c.end('ping from the host\n');
    await r.done;
    expect(r.stdout).toBe('ping from the host\n');
    expect(r.code).toBe(0);
  }, 60_000);
});
