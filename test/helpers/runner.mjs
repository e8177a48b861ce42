/**
 * A process that runs one guest program after another, each in a Machine of
 * its own, for the tests that run hundreds of programs against their native
 * runs (helpers/guests.ts starts it and sends the runs over IPC). A run here
 * is what `entrystub run` does with the same options, without starting Node
 * again: a spawned `entrystub run` costs about 0.23 s of CPU before the guest
 * runs (Node, the bundle, V8 warming up), and the suite ran some 1,500 of
 * them.
 *
 * The program's stdin, stdout and stderr are named pipes in a private
 * directory, which a worker thread fills and drains while the guest runs on
 * this thread without returning to the event loop. (A spawned command, and
 * the native runs record.mjs made, get the socket pairs Node makes for a
 * child's stdio; Node cannot make those here. No case's output depends on
 * which kind of stream it writes to.)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { Machine, setMemLimit, ExecError, explainExecError } from '../../dist/index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-runner-'));
const fifo = { in: path.join(dir, 'in'), out: path.join(dir, 'out'), err: path.join(dir, 'err') };
const made = spawnSync('mkfifo', [fifo.in, fifo.out, fifo.err]);
if (made.status !== 0) throw new Error(`mkfifo: ${made.stderr}`);
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
// the tests' process went away: so does this one
process.on('disconnect', () => process.exit(0));

/**
 * The pipes' other ends, in a worker: the input written (and the end of it),
 * stdout and stderr read to their ends, then both posted back. Its blocking
 * opens and reads run on libuv's thread pool (three at once, of four).
 */
function pump() {
  const fs = process.getBuiltinModule('node:fs');
  const { parentPort } = process.getBuiltinModule('node:worker_threads');
  const drain = (p) =>
    new Promise((resolve) => {
      const chunks = [];
      const s = fs.createReadStream(p);
      s.on('data', (c) => chunks.push(c));
      s.on('close', () => resolve(Buffer.concat(chunks)));
      s.on('error', () => {});
    });
  parentPort.on('message', async ({ fifo, input, port }) => {
    const w = fs.createWriteStream(fifo.in);
    w.on('error', () => {}); // a program that exits without reading its input (EPIPE)
    w.end(input);
    const [stdout, stderr] = await Promise.all([drain(fifo.out), drain(fifo.err)]);
    port.postMessage({ stdout, stderr });
    port.close();
  });
}
const pumper = new Worker(`(${pump.toString()})()`, { eval: true });
pumper.unref();

const nap = new Int32Array(new SharedArrayBuffer(4));

/** The options of `entrystub run` a run may have (a test with others spawns the command). */
function machineOptions(opts) {
  const o = {};
  for (let k = 0; k < opts.length; k++) {
    const v = opts[++k];
    if (opts[k - 1] === '--entry') o.entry = v;
    else if (opts[k - 1] === '--hook') o.hook = v;
    else if (opts[k - 1] === '--compat-entry') o.compatEntry = v;
    else if (opts[k - 1] === '--root') o.root = path.resolve(v);
    else throw new Error(`runner: ${opts[k - 1]} is not an option it knows`);
  }
  return o;
}

/** One run: { program, argv, env, cwd, input, opts, quiet } -> { stdout, stderr, code } (code as the command exits). */
function run(r) {
  process.chdir(r.cwd);
  const channel = new MessageChannel();
  pumper.postMessage({ fifo, input: r.input, port: channel.port2 }, [channel.port2]);
  const fds = [fs.openSync(fifo.in, 'r'), fs.openSync(fifo.out, 'w'), fs.openSync(fifo.err, 'w')];
  const diag = r.quiet ? () => {} : (msg) => fs.writeSync(fds[2], msg + '\n');
  let code;
  try {
    setMemLimit();
    const m = new Machine({
      program: r.program,
      argv: r.argv,
      env: Object.entries(r.env).map(([k, v]) => `${k}=${v}`),
      ...machineOptions(r.opts),
      stdin: fds[0],
      stdout: fds[1],
      stderr: fds[2],
      warn: diag,
    });
    try {
      m.load();
    } catch (e) {
      if (!(e instanceof ExecError)) throw e;
      fs.writeSync(fds[2], `entrystub: ${explainExecError(e)}\n`);
      code = 2;
    }
    if (code === undefined) {
      const ev = m.runToEnd();
      if (ev.kind === 'exited') code = ev.code;
      else {
        diag(`entrystub: ${path.basename(r.program)}: ${ev.message}`);
        code = 128 + ev.signal;
      }
    }
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  // the pipes' ends are closed: the worker's reads end, and its answer comes in a moment
  let got;
  while (!(got = receiveMessageOnPort(channel.port1))) Atomics.wait(nap, 0, 0, 1);
  channel.port1.close();
  return { ...got.message, code };
}

process.on('message', (r) => {
  try {
    process.send({ id: r.id, ...run(r) });
  } catch (e) {
    process.send({ id: r.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
