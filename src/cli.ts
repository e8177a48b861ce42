#!/usr/bin/env node
/**
 * entrystub command line: `entrystub run PROG [ARGS...]` and
 * `entrystub serve PROG [ARGS...]` (the gdb remote stub).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { Machine } from './machine/machine.js';
import { ExecError, explainExecError } from './kernel/loader.js';
import { formatStats } from './machine/stats.js';
import { DEFAULT_TIMER_HZ, GUEST_HZ, MIN_TIMER_PERIOD } from './machine/timer.js';
import { ALL_HOOKS, COMPAT_ENTRIES, DEFAULT_COMPAT_ENTRY, DEFAULT_ENTRY, ENTRY_MODELS } from './entry/index.js';
import { hostPhysmem } from './kernel/kernel.js';
import { defaultMemLimit } from './kernel/physmem.js';
import * as tty from 'node:tty';
import { EXAMPLE } from './example.js';
import { SNAPSHOT_INTERVAL } from './gdb/target/history.js';
// trace.ts and the gdb stub (a third of the modules) are imported by the commands that use
// them: Node's loading of modules is most of a short `entrystub run`'s own start


/** The program's own arguments (see splitAtProgram). */
let programArgs: string[] = [];

function fail(msg: string): never {
  process.stderr.write(`entrystub: ${msg}\n`);
  process.exit(2);
}

interface LogArgs {
  log?: string;
  quiet?: boolean;
  'kernel-log'?: boolean;
}

interface RunArgs extends LogArgs {
  'mem-limit'?: string;
  prog?: string;
  root?: string;
  argv0?: string;
  entry?: string;
  hook?: string;
  compatEntry?: string;
  stats?: boolean;
  'timer-hz'?: number;
  'timer-insns'?: number;
  'schedule-log'?: string;
}

/** --timer-hz / --timer-insns: the timer interrupt's period in guest instructions (undefined: the machine's default). */
function timerInsns(a: { 'timer-hz'?: number; 'timer-insns'?: number }): number | undefined {
  const hz = a['timer-hz'], insns = a['timer-insns'];
  if (hz !== undefined && insns !== undefined) fail('--timer-hz and --timer-insns: give one');
  if (insns !== undefined) {
    if (!(Number.isInteger(insns) && (insns === 0 || insns >= MIN_TIMER_PERIOD)))
      fail(`--timer-insns ${insns}: a whole number of instructions, at least ${MIN_TIMER_PERIOD} (a tick's own path is hundreds), or 0 for no timer`);
    return insns;
  }
  if (hz !== undefined) {
    const max = GUEST_HZ / MIN_TIMER_PERIOD;
    if (!(Number.isFinite(hz) && hz >= 0 && hz <= max)) fail(`--timer-hz ${hz}: a rate from 0 (no timer) to ${max}`);
    return hz === 0 ? 0 : Math.round(GUEST_HZ / hz);
  }
  return undefined;
}

/**
 * Where the stub's own words go: --log FILE, or stderr. Host fd 2 is the
 * program's stderr too, so with --log the program's streams carry only what
 * the program wrote.
 */
interface Log {
  /** Text the user asked for (--stats, --kernel-log, the trace): always written. */
  write(s: string): void;
  /** A run-time diagnostic line (unimplemented syscall, fatal signal): dropped with --quiet. */
  diag(msg: string): void;
  /** --kernel-log: the guest kernel's printk lines (dimmed on a terminal), or undefined. */
  kernelLine: ((line: string) => void) | undefined;
  /** The log is a terminal (color may be used). */
  readonly tty: boolean;
}

/**
 * Whether the log is a terminal is found out only where it matters (--kernel-log, trace's color), and chalk loaded
 * only to dim a terminal's kernel lines: reading process.stderr makes Node build the stream (its net or tty module
 * and a handle), and chalk's color detection loads node:tty, together ~10 ms of a short run's start-up.
 */
async function openLog(a: LogArgs): Promise<Log> {
  let fd = 2;
  if (a.log !== undefined) {
    try {
      fd = fs.openSync(a.log, 'w');
    } catch (e) {
      fail(`--log ${a.log}: ${(e as Error).message}`);
    }
  }
  const isTty = () => fd === 2 && tty.isatty(2);
  const write = (s: string) => void fs.writeSync(fd, s);
  let kernelLine: Log['kernelLine'];
  if (a['kernel-log']) {
    const dim = isTty() ? (await import('chalk')).default.dim : (s: string) => s;
    kernelLine = (line) => write(dim(`[kernel] ${line}`) + '\n');
  }
  return {
    write,
    diag: a.quiet ? () => {} : (msg) => write(msg + '\n'),
    kernelLine,
    get tty() {
      return isTty();
    },
  };
}

/** --mem-limit SIZE: bytes, or with a K, M or G suffix (powers of 1024). */
function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(text.trim());
  if (!m) fail(`--mem-limit ${text}: not a size (give bytes, or a number with K, M or G)`);
  const n = Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase());
  if (!(n >= 1024 * 1024)) fail(`--mem-limit ${text}: too small (at least 1M)`);
  return Math.floor(n);
}

/** The machine's memory: --mem-limit, or the default that keeps Node within the host's own limit. */
function setMemLimit(a: { 'mem-limit'?: string }): void {
  hostPhysmem.limit = a['mem-limit'] !== undefined ? parseSize(a['mem-limit']) : defaultMemLimit();
}

/** The program's Machine from the options run and trace share (loaded by loadOrFail). */
function machineFor(a: RunArgs, log: Log): Machine {
  setMemLimit(a);
  const prog = a.prog ?? EXAMPLE;
  const root = a.root ? path.resolve(a.root) : '/';
  if (a.root && !fs.existsSync(root)) fail(`--root ${a.root}: no such directory`);
  const m = new Machine({
    program: prog,
    argv: [a.argv0 ?? prog, ...programArgs],
    env: Object.entries(process.env).map(([k, v]) => `${k}=${v}`),
    root,
    entry: a.entry,
    hook: a.hook,
    compatEntry: a.compatEntry,
    stats: a.stats,
    timerInsns: timerInsns(a),
    kernelLog: log.kernelLine,
    warn: log.diag,
  });
  const schedLog = a['schedule-log'];
  if (schedLog !== undefined) {
    let fd: number;
    try {
      fd = fs.openSync(schedLog, 'w');
    } catch (e) {
      fail(`--schedule-log ${schedLog}: ${(e as Error).message}`);
    }
    // a line per task switch: the tid that runs next and the machine's instruction count there
    m.onSwitch = (tid, icount) => void fs.writeSync(fd, `${tid} ${icount}\n`);
  }
  return m;
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
  const log = await openLog(argv);
  const m = machineFor(argv, log);
  loadOrFail(m);
  const ev = m.runToEnd();
  if (argv.stats) log.write(formatStats(m));
  if (ev.kind === 'exited') process.exit(ev.code);
  if (ev.kind === 'killed') {
    log.diag(`entrystub: ${path.basename(prog)}: ${ev.message}`);
    process.exit(128 + ev.signal);
  }
}

/**
 * Split the command line at the program: everything after PROG belongs to the
 * program, even words that look like our options (`entrystub run prog --root x`).
 */
const VALUE_OPTIONS = new Set(['--root', '--argv0', '--port', '--host', '--socket', '--handshake-timeout', '--entry', '--hook', '--compat-entry', '--syntax', '--output', '--log', '--mem-limit', '--timer-hz', '--timer-insns', '--schedule-log', '--history', '--history-memory', '--snapshot-interval']);
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
    .positional('prog', { type: 'string', describe: 'the program (ELF64 x86-64, static or dynamically linked; or static i386, through the native or direct entry model)' })
    .positional('args', { type: 'string', array: true, describe: 'its arguments (everything after PROG)' })
    .option('root', { type: 'string', describe: 'host directory the program sees as / (default: the host root)' })
    .option('argv0', { type: 'string', describe: "the program's argv[0] (default: PROG as given)" })
    .option('entry', {
      // no yargs default: a 32-bit program given no --entry runs through the native compat entries without a word
      choices: Object.keys(ENTRY_MODELS),
      describe: 'syscall entry model: ' + Object.entries(ENTRY_MODELS).map(([n, r]) => `${n} = ${r.help}`).join('; ') + ` (default: ${DEFAULT_ENTRY}; a 32-bit program: native)`,
    })
    .option('hook', {
      choices: ALL_HOOKS,
      describe: 'nommu: zpoline = rewrite syscall sites to `call *%rax` at exec (default), lazy = rewrite each on first use, seccomp = trap each syscall into __kernel_vsyscall',
    })
    .option('compat-entry', {
      choices: [...COMPAT_ENTRIES],
      default: DEFAULT_COMPAT_ENTRY,
      describe: "how a 32-bit (i386) program's vDSO enters the kernel: sysenter (what Linux gives an Intel CPU, which CPUID reports), syscall (an AMD CPU's: CPUID then reports AuthenticAMD) or int80 (int $0x80)",
    })
    .option('kernel-log', { type: 'boolean', describe: "print the guest kernel's messages (printk) to the log" })
    .option('stats', { type: 'boolean', describe: 'print per-syscall counts and entry/exit path instruction counts when the program ends, and the calls that got ENOSYS because entrystub lacks them' })
    .option('schedule-log', { type: 'string', describe: 'file to list every task switch in (the tid that runs next and the guest instruction count there): the same program with the same input gives the same list' })
    .option('log', { type: 'string', describe: "file for entrystub's own output (diagnostics, --stats, --kernel-log, the trace), so that the program's stderr is its own (default: stderr)" })
    .option('quiet', { type: 'boolean', describe: 'no run-time diagnostics (unimplemented syscalls, fatal signals)' })
    .option('timer-hz', {
      type: 'number',
      describe: `the guest kernel's timer interrupt, ticks per second at a nominal ${GUEST_HZ / 1e9} GHz guest clock (one instruction a cycle): interrupts fall on the same instructions every run (default ${DEFAULT_TIMER_HZ}; 0: off)`,
    })
    .option('timer-insns', { type: 'number', describe: `the timer interrupt every N guest instructions instead (at least ${MIN_TIMER_PERIOD}; 0: off)` })
    .option('mem-limit', {
      type: 'string',
      describe: "the machine's memory: guest pages the program may touch before it is killed as by the OOM killer (e.g. 512M; default 2G, less under a host ulimit -v)",
    });

interface TraceArgs extends RunArgs {
  path?: boolean;
  disasm?: boolean;
  syntax?: string;
  json?: boolean;
  color?: boolean;
}

/** `entrystub trace`: the program's output goes to its stdout; the trace to stderr, or to --log FILE. */
async function traceCommand(a: TraceArgs): Promise<void> {
  const log = await openLog(a);
  const m = machineFor(a, log);
  const { attachTrace, runWithDisasm } = await import('./trace.js');
  const trace = attachTrace(m, {
    color: a.color ?? log.tty,
    json: a.json === true,
    path: a.path === true,
    write: log.write,
  });
  loadOrFail(m);
  const ev = a.disasm ? await runWithDisasm(m, a.syntax === 'intel' ? 'intel' : 'att', log.write) : m.runToEnd();
  if (a.stats) log.write(formatStats(m));
  // the first process's end is the last line, unless other processes outlived it (then it was shown when it came)
  const shown = trace.leaderEndShown();
  if (ev.kind === 'exited') {
    if (!shown) log.write(a.json ? JSON.stringify({ event: 'exit', code: ev.code }) + '\n' : `+++ exited with ${ev.code} +++\n`);
    process.exit(ev.code);
  }
  if (ev.kind === 'killed') {
    if (!shown) log.write(a.json ? JSON.stringify({ event: 'killed', signal: ev.signal, message: ev.message }) + '\n' : `+++ ${ev.message} +++\n`);
    process.exit(128 + ev.signal);
  }
}

interface ServeArgs extends LogArgs {
  'mem-limit'?: string;
  prog?: string;
  entry?: string;
  hook?: string;
  compatEntry?: string;
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
  history?: string | boolean;
  'history-memory'?: string;
  'snapshot-interval'?: number;
  'timer-hz'?: number;
  'timer-insns'?: number;
}

/** --history and --history-memory as the stub's bounds (false: --no-history). */
function historyBounds(a: ServeArgs): { insns: number; memory: number | null; interval?: number } | false {
  if (a.history === false || a.history === 'false') return false;
  const insns = a.history === undefined || a.history === true || a.history === '' || a.history === 'all' ? Infinity : sized(a.history, 1000, '--history');
  const memory = a['history-memory'] === undefined ? null : sized(a['history-memory'], 1024, '--history-memory');
  const interval = a['snapshot-interval'];
  if (interval !== undefined && !(Number.isInteger(interval) && interval > 0)) fail(`--snapshot-interval ${interval}: a number of instructions, more than 0`);
  return { insns, memory, interval };
}

/** "100M" as a number: a count with an optional K, M or G suffix (powers of unit). */
function sized(v: string, unit: number, opt: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(v.trim());
  if (!m) fail(`${opt} ${v}: a number with an optional K, M or G suffix (e.g. 100M)`);
  const n = Number(m[1]) * unit ** ' kmg'.indexOf((m[2] || ' ').toLowerCase());
  if (!(n > 0)) fail(`${opt} ${v}: must be more than 0`);
  return Math.round(n);
}

async function serveCommand(a: ServeArgs): Promise<void> {
  if (a.root && !fs.existsSync(path.resolve(a.root))) fail(`--root ${a.root}: no such directory`);
  const log = await openLog(a);
  setMemLimit(a);
  const prog = a.prog ?? (a.multi ? undefined : EXAMPLE);
  const { serve } = await import('./gdb/serve.js');
  const code = await serve({
    prog,
    entry: a.entry,
    hook: a.hook,
    compatEntry: a.compatEntry,
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
    history: historyBounds(a),
    timerInsns: timerInsns(a),
    kernelLog: log.kernelLine,
    log: (msg) => log.write(msg + '\n'),
    warn: log.diag,
  });
  process.exit(code);
}

async function main(): Promise<void> {
  const { ours, program } = splitAtProgram(hideBin(process.argv));
  programArgs = program;
  const y = yargs(ours);
  // yargs renders the whole help text, to cache it, as soon as a command's handler has started (its command.js:
  // cacheHelpMessage, for a showHelp() made later): 20-40 ms of CPU at the start of every run and serve, the
  // wrapping of every option's description, for a text only --help and a bad command line print, both before
  // any handler starts. entrystub never shows help later, so nothing is cached.
  (y as unknown as { getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } } }).getInternalMethods().getUsageInstance().cacheHelpMessage = () => {};
  await y
    .scriptName('entrystub')
    .command(
      'run [prog] [args..]',
      'run an x86-64 Linux program, static or dynamically linked (default: the bundled example)',
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
          .option('output', { type: 'string', describe: "file for the program's stdout and stderr (default: the stub's; with --stdio, its stderr)" })
          .option('history', {
            type: 'string',
            describe:
              'record history for reverse execution (reverse-stepi, reverse-continue...), from the first instruction: `all` (the default) or the guest instructions to keep at least, e.g. 100M (suffixes K, M, G: thousands, millions, billions); older history is dropped; --no-history turns it off',
          })
          .option('snapshot-interval', {
            type: 'number',
            describe: `guest instructions between two snapshots of the machine while recording (default ${SNAPSHOT_INTERVAL}): going back replays at most this far`,
          })
          .option('history-memory', {
            type: 'string',
            describe: 'bytes the history\'s snapshots may hold, e.g. 512M (suffixes K, M, G: KiB, MiB, GiB); older history is dropped beyond (default: twice the guest\'s resident memory, at least 16M)',
          }),
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
