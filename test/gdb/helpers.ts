/**
 * Shared by the gdb tests: start `entrystub serve` on a free port, run the
 * real gdb against it (batch mode, or MI as IDE adapters drive it), or talk
 * RSP directly with a raw client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
import { CLI } from '../helpers/cases.js';
import { killedWithWorker } from '../helpers/children.js';
export { CLI };
export const GDBDEMO = path.join(ROOT, 'test', 'gdb', 'fixtures', 'bin', 'gdbdemo');
export const SCRIPTS = path.join(ROOT, 'gdb-scripts');
export const BIN = (n: string) => path.join(ROOT, 'test', 'fixtures', 'bin', n);
/** The bundled example, the program the CLI runs when given none (source: examples/example.c). */
export const EXAMPLE = path.join(ROOT, 'examples', 'example-musl');

export interface RunningStub {
  port: number;
  proc: ChildProcess;
  /** What the stub wrote to stderr so far. */
  stderr(): string;
  /** The program's output (the stub's stdout) so far. */
  stdout(): string;
  /** Resolves with the exit code when the stub exits. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * `entrystub serve --port 0 ...args`; resolves once it listens. The protocol
 * tests run the `direct` entry model (the same user-space behaviour as qemu's
 * stub) unless args choose one; test/gdb/entry.test.ts covers the guest kernel.
 */
export async function startStub(
  args: string[],
  opts: { multi?: boolean; stdin?: 'pipe'; env?: Record<string, string>; cwd?: string } = {},
): Promise<RunningStub> {
  const entry = args.includes('--entry') ? [] : ['--entry', 'direct'];
  const proc = killedWithWorker(
    spawn(process.execPath, [CLI, 'serve', '--port', '0', ...entry, ...(opts.multi ? ['--multi'] : []), ...args], {
      cwd: opts.cwd ?? ROOT,
      stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    }),
  );
  let err = '';
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`stub did not start: ${err}`)), 30_000);
    proc.stderr!.on('data', (d) => {
      err += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    });
    proc.on('exit', (code) => reject(new Error(`stub exited ${code}: ${err}`)));
  });
  return {
    port,
    proc,
    stderr: () => err,
    stdout: () => out,
    exited,
    stop: async () => {
      if (proc.exitCode === null) proc.kill();
      await exited;
    },
  };
}

/** gdb -batch against host:port: connects, sources the scripts, runs the -ex commands; stdout and stderr merged. */
export async function gdbBatch(
  port: number | null,
  opts: { scripts?: string[]; ex?: string[]; before?: string[]; file?: string; extended?: boolean; timeout?: number } = {},
): Promise<string> {
  const args = ['-nx', '-batch', '-iex', 'set pagination off', '-iex', 'set width 0'];
  if (opts.file) args.push(opts.file);
  for (const e of opts.before ?? []) args.push('-ex', e);
  if (port !== null) args.push('-ex', `target ${opts.extended ? 'extended-remote' : 'remote'} 127.0.0.1:${port}`);
  for (const s of opts.scripts ?? []) args.push('-x', path.join(SCRIPTS, s));
  for (const e of opts.ex ?? []) args.push('-ex', e);
  return runMerged('gdb', args, opts.timeout ?? 60_000);
}

/** Run a command with stdout and stderr going to one file (so their order is kept); resolves with the text. */
export async function runMerged(cmd: string, args: string[], timeout: number): Promise<string> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-gdb-'));
  const file = path.join(tmp, 'out');
  const fd = fs.openSync(file, 'w');
  try {
    const p = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', fd, fd] });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeout);
    await new Promise<void>((r) => p.on('exit', () => r()));
    clearTimeout(timer);
    return fs.readFileSync(file, 'utf8');
  } finally {
    fs.closeSync(fd);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * gdb's machine interface (`gdb --interpreter=mi2`), as IDE adapters use it:
 * send a command, wait for a record matching a pattern.
 */
export class GdbMI {
  private buf = '';
  readonly proc: ChildProcess;
  private waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  /** Everything gdb printed. */
  log = '';

  constructor() {
    this.proc = spawn('gdb', ['-nx', '--interpreter=mi2', '-iex', 'set pagination off'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d) => {
      this.buf += d;
      this.log += d;
      this.check();
    });
    this.proc.stderr!.on('data', (d) => (this.log += d));
  }

  private check(): void {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      const m = w.re.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m.index + m[0].length);
        clearTimeout(w.timer);
        this.waiters.splice(i, 1);
        w.resolve(m);
        i--;
      }
    }
  }

  send(cmd: string): void {
    this.proc.stdin!.write(cmd + '\n');
  }

  /** Wait for output matching re (consumed up to the match). */
  wait(re: RegExp, timeout = 30_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout waiting for ${re}; gdb printed:\n${this.log.slice(-3000)}`)), timeout);
      this.waiters.push({ re, resolve, reject, timer });
      this.check();
    });
  }

  /** Send a command and wait for its ^done/^running/^error/^connected result. */
  async cmd(cmd: string): Promise<string> {
    this.send(cmd);
    const m = await this.wait(/\^(done|running|connected|error|exit)([^\n]*)\n/);
    return m[1] + m[2];
  }

  async quit(): Promise<void> {
    this.send('-gdb-exit');
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        this.proc.kill('SIGKILL');
        r();
      }, 10_000);
      this.proc.on('exit', () => {
        clearTimeout(t);
        r();
      });
    });
  }
}

/** A raw RSP client over TCP: frames packets, reads replies, no gdb involved. */
export class RawClient {
  private sock: net.Socket;
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on('error', () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.setNoDelay(true);
      s.once('error', reject);
    });
  }

  static checksum(body: string): string {
    let sum = 0;
    for (const c of Buffer.from(body, 'latin1')) sum += c;
    return (sum & 0xff).toString(16).padStart(2, '0');
  }

  /** Write raw bytes. */
  write(data: string | Buffer): void {
    this.sock.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Send a well-formed packet. */
  sendPacket(body: string): void {
    this.write(`$${body}#${RawClient.checksum(body)}`);
  }

  /** Wait until the buffer holds something matching re; return the match and drop everything up to it. */
  async expect(re: RegExp, timeout = 10_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const s = this.buf.toString('latin1');
      const m = re.exec(s);
      if (m) {
        this.buf = Buffer.from(s.slice(m.index + m[0].length), 'latin1');
        return m;
      }
      if (this.closed) throw new Error(`connection closed; got ${JSON.stringify(s)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${re}; got ${JSON.stringify(s)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Send a packet and return the body of the next reply packet (acks skipped, run-length encoding expanded). */
  async request(body: string, timeout = 10_000): Promise<string> {
    this.sendPacket(body);
    const m = await this.expect(/\$([^#]*)#[0-9a-f]{2}/, timeout);
    return RawClient.unrle(m[1]);
  }

  /** Expand `c*N` run-length encoding. */
  static unrle(s: string): string {
    return s.replace(/(.)\*(.)/g, (_, ch: string, n: string) => ch.repeat(n.charCodeAt(0) - 29 + 1));
  }

  /**
   * Connect as the only debugger: the stub refuses a client while the
   * previous one's disconnect has not reached it yet, so retry briefly.
   */
  static async attach(port: number): Promise<RawClient> {
    for (let tries = 0; ; tries++) {
      const c = await RawClient.connect(port);
      const r = await c.request('QStartNoAckMode').catch(() => 'closed');
      if (r === 'OK') return c;
      c.close();
      if (tries > 50) throw new Error(`cannot attach: ${r}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  /** Anything received and not yet consumed. */
  pending(): string {
    return this.buf.toString('latin1');
  }

  close(): void {
    this.sock.destroy();
  }
}

/** A TCP port free on 127.0.0.1 now (for a stub that takes its port on the command line: qemu -g). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}
