/**
 * Runs of `entrystub run` for the tests that run hundreds of programs against
 * their native runs, served by a few long-lived runner processes
 * (runner.mjs) instead of a Node started per run. Each run still gets a
 * Machine of its own, the same options, stdio pipes, environment and working
 * directory as the command; only the host process is shared, as a gdb
 * session's runs share it. A run with an option the runner does not know is
 * left to the command itself (runCli); the command's own behaviour is
 * cli.test.ts's.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { killedWithWorker } from './children.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** The command as installed: package.json's bin (the bundle `npm run build` makes). */
export const CLI = path.join(ROOT, (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: { entrystub: string } }).bin.entrystub);
const RUNNER = path.join(import.meta.dirname, 'runner.mjs');
/** Runners per test file: as many as cores (a run holds its runner's thread, and some runs sleep). */
const SIZE = os.availableParallelism();
/** As runCli's spawn: a run that takes longer is killed. */
const TIMEOUT_MS = 300_000;

type Output = { stdout: Buffer; stderr: Buffer; code: number | null };
interface Job {
  msg: object;
  resolve: (o: Output) => void;
  reject: (e: Error) => void;
}

interface Runner {
  child: ChildProcess;
  job: Job | null;
  timer?: NodeJS.Timeout;
  timedOut?: boolean;
}

const idle: Runner[] = [];
const queue: Job[] = [];
let started = 0;
let nextId = 1;

function start(): Runner {
  started++;
  // V8's default flags, not the command's larger interrupt budget (src/launcher.ts), which suits a process that
  // runs one program: over a runner's many runs its hot functions stay optimized (dynamic.test.ts took 86 s of
  // CPU so, 121 s with the command's flag; a lone python3 -c pass takes 2.9 s with it, 4.2 s without)
  const child = fork(RUNNER, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
  const r: Runner = { child, job: null };
  killedWithWorker(child);
  child.unref();
  child.channel?.unref();
  child.on('message', (m: { error?: string; stdout: Uint8Array; stderr: Uint8Array; code: number }) => {
    const job = finish(r);
    if (!job) return;
    if (m.error) job.reject(new Error(`runner: ${m.error}`));
    else job.resolve({ stdout: Buffer.from(m.stdout), stderr: Buffer.from(m.stderr), code: m.code });
    next(r);
  });
  child.on('exit', (code, signal) => {
    started--;
    const k = idle.indexOf(r);
    if (k >= 0) idle.splice(k, 1);
    const job = finish(r);
    // a run that outlived its time ends as runCli's does (killed: no exit code); a runner that died otherwise is a failure
    if (job && r.timedOut) job.resolve({ stdout: Buffer.alloc(0), stderr: Buffer.from('timed out'), code: null });
    else job?.reject(new Error(`runner exited (${signal ?? code}) during a run`));
    const waiting = queue.shift();
    if (waiting) dispatch(waiting);
  });
  return r;
}

function finish(r: Runner): Job | null {
  const job = r.job;
  r.job = null;
  clearTimeout(r.timer);
  return job;
}

function next(r: Runner): void {
  const job = queue.shift();
  if (job) send(r, job);
  else idle.push(r);
}

function send(r: Runner, job: Job): void {
  r.job = job;
  r.timer = setTimeout(() => {
    r.timedOut = true;
    r.child.kill('SIGKILL');
  }, TIMEOUT_MS);
  r.timer.unref();
  r.child.send(job.msg);
}

function dispatch(job: Job): void {
  const r = idle.pop() ?? (started < SIZE ? start() : null);
  if (r) send(r, job);
  else queue.push(job);
}

/** The options the runner takes, and whether each has a value. */
const OPTIONS: Record<string, boolean> = { '--entry': true, '--hook': true, '--compat-entry': true, '--root': true, '--argv0': true, '--quiet': false };

/**
 * `entrystub run` with these arguments (args[0] is 'run'), its stdin the
 * input: stdout, stderr and the exit code (null when it was killed), as
 * runCli gives them.
 */
export function runGuest(args: string[], o: { cwd: string; env: Record<string, string>; input: Buffer }): Promise<Output> {
  let k = 1;
  const opts: string[] = [];
  let argv0: string | undefined;
  let quiet = false;
  for (; k < args.length && args[k].startsWith('--'); k++) {
    const a = args[k];
    if (!(a in OPTIONS) || args[0] !== 'run') return runCli(args, o);
    if (a === '--quiet') quiet = true;
    else if (a === '--argv0') argv0 = args[++k];
    else opts.push(a, args[++k]);
  }
  const program = path.resolve(o.cwd, args[k]);
  const msg = { id: nextId++, program, argv: [argv0 ?? args[k], ...args.slice(k + 1)], env: o.env, cwd: o.cwd, input: o.input, opts, quiet };
  return new Promise((resolve, reject) => dispatch({ msg, resolve, reject }));
}

/**
 * The command as installed, run asynchronously (so that concurrent tests
 * overlap) with input on its stdin: its stdout, stderr and exit code (null
 * when a signal ended it).
 */
export function runCli(args: string[], o: { cwd: string; env: Record<string, string>; input: Buffer }): Promise<Output> {
  return new Promise((resolve, reject) => {
    const child = killedWithWorker(spawn(process.execPath, [CLI, ...args], { cwd: o.cwd, env: o.env, timeout: TIMEOUT_MS }));
    const out: Buffer[] = [], err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), code }));
    child.stdin.on('error', () => {}); // a program that exits without reading its input
    child.stdin.end(o.input);
  });
}
