/**
 * `entrystub serve PROG [ARGS]`: load the program, stop before its first
 * instruction, and serve it to gdb over TCP (127.0.0.1:1234 by default) or
 * stdin/stdout (--stdio). --multi serves `target extended-remote` (run, kill
 * and run again). Resolves with the exit status of the stub.
 */
import type { EntryModel, Hook } from '../kernel/guest.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as net from 'node:net';
import { ExecError, explainExecError } from '../kernel/loader.js';
import { MachineTarget } from './machine-target.js';
import { formatStats } from '../machine/stats.js';
import { Stub } from './stub.js';
import type { Target } from './target.js';
import { listenTcp, serveStdio } from './transport.js';

export interface ServeOptions {
  /** The syscall entry model and nommu hook (default nommu/zpoline). */
  entry?: EntryModel;
  hook?: Hook;
  /** Program (host path); optional with multi (gdb's `run` names it). */
  prog?: string;
  args: string[];
  root?: string;
  argv0?: string;
  host: string;
  port: number;
  stdio: boolean;
  multi: boolean;
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
}

/** Why listen failed, and what to do, in one line. */
function listenError(e: NodeJS.ErrnoException, host: string, port: number): string {
  switch (e.code) {
    case 'EADDRINUSE':
      return `${host}:${port} is already in use (another entrystub, gdbserver or qemu -g?): choose another with --port N, or --port 0 for any free port`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${host}: not an address of this machine; --host takes a local address (default 127.0.0.1)`;
    case 'EACCES':
      return `cannot listen on port ${port}: ports below 1024 need root; choose one above 1023 with --port`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${host}: unknown host name; --host takes a local address (default 127.0.0.1)`;
    default:
      return `cannot listen on ${host}:${port}: ${e.message}`;
  }
}

export async function serve(o: ServeOptions): Promise<number> {
  const log = o.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const root = o.root ? path.resolve(o.root) : '/';
  const env = o.env ?? Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  // the program's stdio: never the protocol stream
  let outFd: number | undefined;
  if (o.output) outFd = fs.openSync(o.output, 'a');
  else if (o.stdio) outFd = 2;
  const inFd = o.stdio ? fs.openSync('/dev/null', 'r') : undefined;

  let defaultProg = o.prog;
  /** The program served last (for --stats). */
  let last: MachineTarget | null = null;
  const statsOfLast = () => {
    if (o.stats && last) log(formatStats(last.m).trimEnd());
    last = null;
  };
  const launch = (argv: string[]): Target => {
    // vRun's filename is the one gdb knows (a guest path, or the host path with root '/')
    let prog = argv[0] || defaultProg;
    if (!prog) throw new Error('no program: give one to `entrystub serve` or with `set remote exec-file`');
    if (argv[0] && root !== '/' && !fs.existsSync(prog)) prog = path.join(root, argv[0]);
    const args = argv.length > 1 ? argv.slice(1) : argv[0] ? [] : o.args;
    const t = MachineTarget.launch({
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
      stats: o.stats,
      kernelLog: o.kernelLog,
    });
    statsOfLast(); // gdb's `run` again: the previous program is done
    last = t;
    defaultProg = prog;
    return t;
  };

  let target: Target | null = null;
  if (o.prog) {
    try {
      target = launch(['']);
    } catch (e) {
      if (e instanceof ExecError) {
        log(`entrystub: ${explainExecError(e)}`);
        return 2;
      }
      throw e;
    }
  } else if (!o.multi) {
    log('entrystub: serve needs a program (or --multi)');
    return 2;
  }

  const stub = new Stub(target, { multi: o.multi, log, launch });
  const done = new Promise<void>((resolve) => (stub.onDone = resolve));

  if (o.stdio) {
    await Promise.race([serveStdio(stub), done]);
    statsOfLast();
    return 0;
  }
  let server: net.Server;
  try {
    server = await listenTcp(stub, o.host, o.port);
  } catch (e) {
    log(`entrystub: ${listenError(e as NodeJS.ErrnoException, o.host, o.port)}`);
    return 1;
  }
  const addr = server.address() as net.AddressInfo;
  const what = target ? `${path.basename(o.prog!)} stopped at its first instruction` : 'extended-remote, no program yet';
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  log(`entrystub: ${what}; listening on ${host}:${addr.port}`);
  log(`entrystub: in gdb: target ${o.multi ? 'extended-remote' : 'remote'} ${host}:${addr.port}`);
  await done;
  statsOfLast();
  server.close();
  return 0;
}
