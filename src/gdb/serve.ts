/**
 * `entrystub serve PROG [ARGS]`: load the program, stop before its first
 * instruction, and serve it to gdb over TCP (127.0.0.1:1234 by default), a
 * Unix socket (--socket PATH) or stdin/stdout (--stdio). --multi serves
 * `target extended-remote` (run, kill and run again). Resolves with the exit
 * status of the stub.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type * as net from 'node:net';
import { LaunchError, MachineTarget, spawnGuest, type GuestProcess, type HistoryBounds } from './target/index.js';
import { Stub } from './stub.js';
import { listen, serveStdio } from './transport.js';

export interface ServeOptions {
  /** The syscall entry model and nommu hook (default nommu/zpoline). */
  entry?: string;
  hook?: string;
  compatEntry?: string;
  /** Program (host path); optional with multi (gdb's `run` names it). */
  prog?: string;
  args: string[];
  root?: string;
  argv0?: string;
  host: string;
  port: number;
  /** Listen on this Unix socket (mode 0600) instead of TCP. */
  socket?: string;
  stdio: boolean;
  multi: boolean;
  /** Drop a client that sends no valid packet within this many seconds (0: never). */
  handshakeTimeout?: number;
  /** Host file for the program's stdout and stderr (default: the stub's; with --stdio, the stub's stderr). */
  output?: string;
  env?: string[];
  /** Where the stub's messages go (default: stderr). */
  log?: (msg: string) => void;
  /** The program's run-time diagnostics (unimplemented syscalls ...; default: log). */
  warn?: (msg: string) => void;
  /** Count syscalls and their path instructions; the table is logged when the stub is done with each program. */
  stats?: boolean;
  /** The guest kernel's printk lines. */
  kernelLog?: (line: string) => void;
  /** Record each program's history so that gdb can run it backwards (default on: everything, snapshots within twice the guest's resident memory). */
  history?: boolean | HistoryBounds;
  /** The timer interrupt's period in guest instructions (0: off; default: the machine's). */
  timerInsns?: number;
}

/** A client that has not sent a packet by then is not a debugger (or is stuck): it must not hold the only seat. */
export const DEFAULT_HANDSHAKE_TIMEOUT_S = 10;

/**
 * A program (a Machine) lives from one `run` to the next, long enough to be
 * promoted to V8's old generation; let go of, it waits there for the
 * collector's next full pass, which V8 puts off while the heap grows, and
 * the stub's RSS climbed from one plateau to the next over many runs. A
 * program's end is rare and human-paced (gdb's run, kill, the exit): the
 * stub, a process of its own, collects then, in the next turn of the event
 * loop, so the program's pages go back at once.
 */
let fullGc: (() => void) | null | undefined;
function collectSoon(): void {
  if (fullGc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      const gc: unknown = vm.runInNewContext('gc');
      fullGc = typeof gc === 'function' ? () => gc() : null;
    } catch {
      fullGc = null;
    }
  }
  const gc = fullGc;
  if (gc) setImmediate(gc);
}

/** Addresses only this machine can reach. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Why listen failed, and what to do, in one line. */
function listenError(e: NodeJS.ErrnoException, where: string, port: number): string {
  switch (e.code) {
    case 'EADDRINUSE':
      return `${where} is already in use (another entrystub, gdbserver or qemu -g?): choose another with --port N, or --port 0 for any free port`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: not an address of this machine; --host takes a local address (default 127.0.0.1)`;
    case 'EACCES':
      return `cannot listen on ${where}: ports below 1024 need root; choose one above 1023 with --port`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${where}: unknown host name; --host takes a local address (default 127.0.0.1)`;
    default:
      return `cannot listen on ${where} (port ${port}): ${e.message}`;
  }
}

export async function serve(o: ServeOptions): Promise<number> {
  const log = o.log ?? ((m: string) => process.stderr.write(m + '\n'));
  // A stub is a long-lived server whose garbage is per packet and per program. V8 grows its young
  // generation to 16 MB semispaces when objects survive (a program does, from one `run` to the next),
  // and the RSS then climbed over hundreds of reconnects (71 -> 110 MB) with 10 MB alive. At its first
  // size the footprint is reached early and stays.
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  if (!o.stdio && o.socket === undefined) {
    if (o.host === '') {
      log("entrystub: --host '' would listen on every interface; give an address (default 127.0.0.1)");
      return 2;
    }
    if (!isLoopback(o.host))
      log(
        `entrystub: warning: listening on ${o.host}: anyone who can reach it can debug the program, and through it run code ` +
          `and read files as this user (uid ${process.getuid?.() ?? '?'}); to debug from another machine, keep the default ` +
          `127.0.0.1 and use an SSH tunnel (ssh -L 1234:127.0.0.1:1234 this-host)`,
      );
  }
  const root = o.root ? path.resolve(o.root) : '/';
  const env = o.env ?? Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  // the program's stdio: never the protocol stream
  let outFd: number | undefined;
  if (o.output) outFd = fs.openSync(o.output, 'a');
  else if (o.stdio) outFd = 2;
  const inFd = o.stdio ? fs.openSync('/dev/null', 'r') : undefined;

  let defaultProg = o.prog;
  const history = o.history ?? true;
  const launch = (argv: string[]): GuestProcess => {
    // vRun's filename is the one gdb knows (a guest path, or the host path with root '/')
    let prog = argv[0] || defaultProg;
    if (!prog) throw new LaunchError('no program: give one to `entrystub serve` or with `set remote exec-file`');
    if (argv[0] && root !== '/' && !fs.existsSync(prog)) prog = path.join(root, argv[0]);
    const args = argv.length > 1 ? argv.slice(1) : argv[0] ? [] : o.args;
    const p = spawnGuest({
      program: prog,
      argv: [argv[0] || o.argv0 || prog, ...args],
      env,
      root,
      stdin: inFd,
      stdout: outFd,
      stderr: outFd,
      warn: o.warn ?? log,
      entry: o.entry,
      hook: o.hook,
      compatEntry: o.compatEntry,
      stats: o.stats,
      kernelLog: o.kernelLog,
      timerInsns: o.timerInsns,
    }, history);
    defaultProg = prog;
    return p;
  };

  const target = new MachineTarget({
    launch,
    extended: o.multi,
    reverse: history !== false,
    onProcessEnd: (p) => {
      const table = p.kernel.statsTable();
      if (table) log(table);
      collectSoon();
    },
  });
  if (o.prog) {
    try {
      target.start(['']);
    } catch (e) {
      if (e instanceof LaunchError) {
        log(`entrystub: ${e.message}`);
        return 2;
      }
      throw e;
    }
  } else if (!o.multi) {
    log('entrystub: serve needs a program (or --multi)');
    return 2;
  }

  const stub = new Stub(target, { multi: o.multi, log, launch: (argv) => target.start(argv) });
  const done = new Promise<void>((resolve) => (stub.onDone = resolve));
  const finish = () => {
    target.shutdown();
    if (outFd !== undefined && outFd !== 2) fs.closeSync(outFd);
    if (inFd !== undefined) fs.closeSync(inFd);
  };

  if (o.stdio) {
    await Promise.race([serveStdio(stub), done]);
    finish();
    return 0;
  }
  let server: net.Server;
  const handshakeMs = (o.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT_S) * 1000;
  const where = o.socket ?? `${o.host}:${o.port}`;
  try {
    if (o.socket !== undefined) {
      // only this user may connect: the socket is created with no rights for others
      const old = process.umask(0o177);
      try {
        server = await listen(stub, { path: o.socket, handshakeMs });
      } finally {
        process.umask(old);
      }
    } else server = await listen(stub, { host: o.host, port: o.port, handshakeMs });
  } catch (e) {
    log(`entrystub: ${listenError(e as NodeJS.ErrnoException, where, o.port)}`);
    finish();
    return 1;
  }
  const what = target.pid !== null ? `${path.basename(o.prog!)} stopped at its first instruction` : 'extended-remote, no program yet';
  const mode = o.multi ? 'extended-remote' : 'remote';
  if (o.socket !== undefined) {
    log(`entrystub: ${what}; listening on ${o.socket}`);
    log(`entrystub: in gdb: target ${mode} ${o.socket}`);
  } else {
    const addr = server.address() as net.AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    log(`entrystub: ${what}; listening on ${host}:${addr.port}`);
    log(`entrystub: in gdb: target ${mode} ${host}:${addr.port}`);
  }
  await done;
  finish();
  server.close();
  return 0;
}
