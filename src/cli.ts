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
import { syscallName } from './kernel/sysnames.js';
import { attachTrace, runWithDisasm } from './trace.js';
import type { EntryModel, Hook } from './kernel/guest.js';
import chalk from 'chalk';

/** The --stats table: per syscall, how many and the instructions of the entry and exit path. */
function formatStats(m: Machine): string {
  const rows = [...m.stats].sort((a, b) => a[0] - b[0]);
  const mode = m.entry === 'nommu' ? `nommu/${m.hook}` : m.entry;
  let out = `entrystub: ${m.cpu.icount} guest instructions; syscalls through the ${mode} entry path:\n`;
  out += `  ${'nr'.padStart(4)}  ${'syscall'.padEnd(18)} ${'count'.padStart(8)}  ${'insns/call'.padStart(10)}\n`;
  for (const [nr, st] of rows)
    out += `  ${String(nr).padStart(4)}  ${syscallName(nr).padEnd(18)} ${String(st.count).padStart(8)}  ${(st.insns / st.count).toFixed(1).padStart(10)}\n`;
  if (m.entry === 'nommu') out += `  zpoline: ${m.rewritten.size} sites rewritten (${m.lazyRewrites} lazily)\n`;
  return out;
}
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

async function runCommand(argv: RunArgs): Promise<void> {
  const prog = argv.prog ?? EXAMPLE;
  const args = programArgs;
  const root = argv.root ? path.resolve(argv.root) : '/';
  if (argv.root && !fs.existsSync(root)) fail(`--root ${argv.root}: no such directory`);
  const m = new Machine({
    program: prog,
    argv: [argv.argv0 ?? prog, ...args],
    env: Object.entries(process.env).map(([k, v]) => `${k}=${v}`),
    root,
    entry: (argv.entry ?? 'nommu') as EntryModel,
    hook: (argv.hook ?? 'zpoline') as Hook,
    stats: argv.stats,
    kernelLog: argv['kernel-log'] ? (line) => process.stderr.write(chalk.dim(`[kernel] ${line}`) + '\n') : undefined,
  });
  try {
    m.load();
  } catch (e) {
    if (e instanceof ExecError) fail(explainExecError(e));
    throw e;
  }
  const ev = m.runToEnd();
  if (argv.stats) process.stderr.write(formatStats(m));
  if (ev.reason === 'exited') process.exit(ev.code);
  if (ev.reason === 'signaled') {
    process.stderr.write(`entrystub: ${path.basename(prog)}: ${ev.message}\n`);
    process.exit(128 + ev.signal);
  }
}

/**
 * Split the command line at the program: everything after PROG belongs to the
 * program, even words that look like our options (`entrystub run prog --root x`).
 */
const VALUE_OPTIONS = new Set(['--root', '--argv0', '--port', '--host', '--entry', '--hook', '--syntax', '--output']);
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

/** Options `run` and `serve` share. */
const programOptions = <T>(y: import('yargs').Argv<T>) =>
  y
    .positional('prog', { type: 'string', describe: 'the program (static ELF64 x86-64)' })
    .positional('args', { type: 'string', array: true, describe: 'its arguments (everything after PROG)' })
    .option('root', { type: 'string', describe: 'host directory the program sees as / (default: the host root)' })
    .option('argv0', { type: 'string', describe: "the program's argv[0] (default: PROG as given)" })
    .option('entry', {
      choices: ['nommu', 'native', 'direct'],
      default: 'nommu',
      describe: 'syscall entry model: nommu = UML without MMU (__kernel_vsyscall), native = entry_SYSCALL_64 with SYSRET/IRET, direct = the host handles `syscall` in place (baseline)',
    })
    .option('hook', {
      choices: ['zpoline', 'lazy', 'seccomp'],
      default: 'zpoline',
      describe: 'nommu: zpoline = rewrite syscall sites to `call *%rax` at exec, lazy = rewrite each on first use, seccomp = trap each syscall into __kernel_vsyscall',
    });

interface TraceArgs extends RunArgs {
  path?: boolean;
  disasm?: boolean;
  syntax?: string;
  json?: boolean;
  color?: boolean;
}

/** `entrystub trace`: the program's output goes to its stdout; the trace to stderr. */
async function traceCommand(a: TraceArgs): Promise<void> {
  const prog = a.prog ?? EXAMPLE;
  const m = new Machine({
    program: prog,
    argv: [a.argv0 ?? prog, ...programArgs],
    env: Object.entries(process.env).map(([k, v]) => `${k}=${v}`),
    root: a.root ? path.resolve(a.root) : '/',
    entry: (a.entry ?? 'nommu') as EntryModel,
    hook: (a.hook ?? 'zpoline') as Hook,
  });
  attachTrace(m, {
    color: a.color ?? process.stderr.isTTY === true,
    json: a.json === true,
    path: a.path === true,
    write: (s) => fs.writeSync(2, s),
  });
  try {
    m.load();
  } catch (e) {
    if (e instanceof ExecError) fail(explainExecError(e));
    throw e;
  }
  const ev = a.disasm ? await runWithDisasm(m, a.syntax === 'intel' ? 'intel' : 'att', (s) => fs.writeSync(2, s)) : m.runToEnd();
  if (ev.reason === 'exited') {
    fs.writeSync(2, a.json ? JSON.stringify({ event: 'exit', code: ev.code }) + '\n' : `+++ exited with ${ev.code} +++\n`);
    process.exit(ev.code);
  }
  if (ev.reason === 'signaled') {
    fs.writeSync(2, a.json ? JSON.stringify({ event: 'killed', signal: ev.signal, message: ev.message }) + '\n' : `+++ ${ev.message} +++\n`);
    process.exit(128 + ev.signal);
  }
}

interface ServeArgs {
  prog?: string;
  entry: string;
  hook: string;
  args?: (string | number)[];
  root?: string;
  argv0?: string;
  port: number;
  host: string;
  stdio: boolean;
  multi: boolean;
  output?: string;
}

async function serveCommand(a: ServeArgs): Promise<void> {
  if (a.root && !fs.existsSync(path.resolve(a.root))) fail(`--root ${a.root}: no such directory`);
  const prog = a.prog ?? (a.multi ? undefined : EXAMPLE);
  const code = await serve({
    prog,
    entry: a.entry as EntryModel,
    hook: a.hook as Hook,
    args: programArgs,
    root: a.root,
    argv0: a.argv0,
    host: a.host,
    port: a.port,
    stdio: a.stdio,
    multi: a.multi,
    output: a.output,
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
        programOptions(y)
          .option('kernel-log', { type: 'boolean', describe: "print the guest kernel's messages (printk) on stderr" })
          .option('stats', { type: 'boolean', describe: 'print per-syscall counts and entry/exit path instruction counts at exit' }),
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
          .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to listen on' })
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
