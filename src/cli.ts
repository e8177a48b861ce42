#!/usr/bin/env node
/**
 * entrystub command line: `entrystub run PROG [ARGS...]` and
 * `entrystub serve PROG [ARGS...]` (the gdb remote stub).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { Machine } from './machine/machine.js';
import { ExecError, explainExecError } from './kernel/loader.js';
import { formatStats } from './machine/stats.js';
import { attachTrace, runWithDisasm } from './trace.js';
import { ALL_HOOKS, DEFAULT_ENTRY, ENTRY_MODELS } from './entry/index.js';
import chalk from 'chalk';

import { serve } from './gdb/serve.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The bundled example program, used when no program is given. */
export const EXAMPLE = path.resolve(here, '..', 'test', 'fixtures', 'bin', 'example-musl');

/** The program's own arguments (see splitAtProgram). */
let programArgs: string[] = [];

function fail(msg: string): never {
  process.stderr.write(`entrystub: ${msg}\n`);
  process.exit(2);
}

interface RunArgs {
  prog?: string;
  root?: string;
  argv0?: string;
  entry?: string;
  hook?: string;
  'kernel-log'?: boolean;
  stats?: boolean;
}

/** --kernel-log: the guest kernel's printk lines, dimmed, on stderr. */
const kernelLogLine = (line: string) => process.stderr.write(chalk.dim(`[kernel] ${line}`) + '\n');

/** The program's Machine from the options run and trace share (loaded by loadOrFail). */
function machineFor(a: RunArgs): Machine {
  const prog = a.prog ?? EXAMPLE;
  const root = a.root ? path.resolve(a.root) : '/';
  if (a.root && !fs.existsSync(root)) fail(`--root ${a.root}: no such directory`);
  return new Machine({
    program: prog,
    argv: [a.argv0 ?? prog, ...programArgs],
    env: Object.entries(process.env).map(([k, v]) => `${k}=${v}`),
    root,
    entry: a.entry ?? DEFAULT_ENTRY,
    hook: a.hook,
    stats: a.stats,
    kernelLog: a['kernel-log'] ? kernelLogLine : undefined,
  });
}

function loadOrFail(m: Machine): void {
  try {
    m.load();
  } catch (e) {
    if (e instanceof ExecError) fail(explainExecError(e));
    throw e;
  }
}

async function runCommand(argv: RunArgs): Promise<void> {
  const prog = argv.prog ?? EXAMPLE;
  const m = machineFor(argv);
  loadOrFail(m);
  const ev = m.runToEnd();
  if (argv.stats) process.stderr.write(formatStats(m));
  if (ev.kind === 'exited') process.exit(ev.code);
  if (ev.kind === 'killed') {
    process.stderr.write(`entrystub: ${path.basename(prog)}: ${ev.message}\n`);
    process.exit(128 + ev.signal);
  }
}

/**
 * Split the command line at the program: everything after PROG belongs to the
 * program, even words that look like our options (`entrystub run prog --root x`).
 */
const VALUE_OPTIONS = new Set(['--root', '--argv0', '--port', '--host', '--socket', '--handshake-timeout', '--entry', '--hook', '--syntax', '--output']);
function splitAtProgram(args: string[]): { ours: string[]; program: string[] } {
  if (args[0] !== 'run' && args[0] !== 'serve' && args[0] !== 'trace') return { ours: args, program: [] };
  for (let k = 1; k < args.length; k++) {
    const a = args[k];
    if (a === '--') return { ours: args.slice(0, k), program: args.slice(k + 1) };
    if (a.startsWith('-')) {
      if (VALUE_OPTIONS.has(a)) k++;
      continue;
    }
    return { ours: args.slice(0, k + 1), program: args.slice(k + 1) };
  }
  return { ours: args, program: [] };
}

/** Options `run`, `trace` and `serve` share. */
const programOptions = <T>(y: import('yargs').Argv<T>) =>
  y
    .positional('prog', { type: 'string', describe: 'the program (static ELF64 x86-64)' })
    .positional('args', { type: 'string', array: true, describe: 'its arguments (everything after PROG)' })
    .option('root', { type: 'string', describe: 'host directory the program sees as / (default: the host root)' })
    .option('argv0', { type: 'string', describe: "the program's argv[0] (default: PROG as given)" })
    .option('entry', {
      choices: Object.keys(ENTRY_MODELS),
      default: DEFAULT_ENTRY,
      describe: 'syscall entry model: ' + Object.entries(ENTRY_MODELS).map(([n, r]) => `${n} = ${r.help}`).join('; '),
    })
    .option('hook', {
      choices: ALL_HOOKS,
      describe: 'nommu: zpoline = rewrite syscall sites to `call *%rax` at exec (default), lazy = rewrite each on first use, seccomp = trap each syscall into __kernel_vsyscall',
    })
    .option('kernel-log', { type: 'boolean', describe: "print the guest kernel's messages (printk) on stderr" })
    .option('stats', { type: 'boolean', describe: 'print per-syscall counts and entry/exit path instruction counts when the program ends' });

interface TraceArgs extends RunArgs {
  path?: boolean;
  disasm?: boolean;
  syntax?: string;
  json?: boolean;
  color?: boolean;
}

/** `entrystub trace`: the program's output goes to its stdout; the trace to stderr. */
async function traceCommand(a: TraceArgs): Promise<void> {
  const m = machineFor(a);
  attachTrace(m, {
    color: a.color ?? process.stderr.isTTY === true,
    json: a.json === true,
    path: a.path === true,
    write: (s) => fs.writeSync(2, s),
  });
  loadOrFail(m);
  const ev = a.disasm ? await runWithDisasm(m, a.syntax === 'intel' ? 'intel' : 'att', (s) => fs.writeSync(2, s)) : m.runToEnd();
  if (a.stats) fs.writeSync(2, formatStats(m));
  if (ev.kind === 'exited') {
    fs.writeSync(2, a.json ? JSON.stringify({ event: 'exit', code: ev.code }) + '\n' : `+++ exited with ${ev.code} +++\n`);
    process.exit(ev.code);
  }
  if (ev.kind === 'killed') {
    fs.writeSync(2, a.json ? JSON.stringify({ event: 'killed', signal: ev.signal, message: ev.message }) + '\n' : `+++ ${ev.message} +++\n`);
    process.exit(128 + ev.signal);
  }
}

interface ServeArgs {
  prog?: string;
  entry: string;
  hook?: string;
  args?: (string | number)[];
  root?: string;
  argv0?: string;
  port: number;
  host: string;
  socket?: string;
  'handshake-timeout': number;
  stdio: boolean;
  multi: boolean;
  output?: string;
  stats?: boolean;
  'kernel-log'?: boolean;
}

async function serveCommand(a: ServeArgs): Promise<void> {
  if (a.root && !fs.existsSync(path.resolve(a.root))) fail(`--root ${a.root}: no such directory`);
  const prog = a.prog ?? (a.multi ? undefined : EXAMPLE);
  const code = await serve({
    prog,
    entry: a.entry,
    hook: a.hook,
    args: programArgs,
    root: a.root,
    argv0: a.argv0,
    host: a.host,
    port: a.port,
    socket: a.socket,
    handshakeTimeout: a['handshake-timeout'],
    stdio: a.stdio,
    multi: a.multi,
    output: a.output,
    stats: a.stats,
    kernelLog: a['kernel-log'] ? kernelLogLine : undefined,
  });
  process.exit(code);
}

async function main(): Promise<void> {
  const { ours, program } = splitAtProgram(hideBin(process.argv));
  programArgs = program;
  await yargs(ours)
    .scriptName('entrystub')
    .command(
      'run [prog] [args..]',
      'run a static x86-64 Linux program (default: the bundled example)',
      (y) =>
        programOptions(y),
      (a) => runCommand(a as RunArgs),
    )
    .command(
      'trace [prog] [args..]',
      'run a program and print a line per syscall (and, with --path, the entry path it took)',
      (y) =>
        programOptions(y)
          .option('path', { type: 'boolean', describe: 'under each syscall, the entry path: how it entered, the pt_regs written, the return route, the instruction count' })
          .option('json', { type: 'boolean', describe: 'one JSON object per event, for tools' })
          .option('disasm', { type: 'boolean', describe: 'list every instruction of each kernel path (iced-x86)' })
          .option('syntax', { choices: ['intel', 'att'], default: 'att', describe: 'assembly syntax for --disasm' })
          .option('color', { type: 'boolean', describe: 'color the output (default: when stdout is a terminal)' }),
      (a) => traceCommand(a as unknown as TraceArgs),
    )
    .command(
      'serve [prog] [args..]',
      'stop the program before its first instruction and serve it to gdb (target remote :1234)',
      (y) =>
        programOptions(y)
          .option('port', { type: 'number', default: 1234, describe: 'TCP port to listen on (0: any free port)' })
          .option('host', {
            type: 'string',
            default: '127.0.0.1',
            describe: 'address to listen on; any other than loopback lets whoever reaches it run code as you (see README, Security)',
          })
          .option('socket', { type: 'string', describe: 'listen on this Unix socket (only you may connect) instead of TCP: target remote PATH' })
          .option('handshake-timeout', {
            type: 'number',
            default: 10,
            describe: 'seconds a client may stay connected without sending a packet (0: no limit)',
          })
          .option('stdio', { type: 'boolean', default: false, describe: 'speak the protocol on stdin/stdout (target remote | entrystub serve --stdio PROG)' })
          .option('multi', { type: 'boolean', default: false, describe: 'serve target extended-remote (run, kill, run again)' })
          .option('output', { type: 'string', describe: "file for the program's stdout and stderr (default: the stub's; with --stdio, its stderr)" }),
      (a) => serveCommand(a as unknown as ServeArgs),
    )
    .demandCommand(1)
    .strict()
    .help()
    .parseAsync();
}

main().catch((e) => {
  process.stderr.write(`entrystub: internal error: ${e instanceof Error ? e.stack : e}\n`);
  process.exit(70);
});
