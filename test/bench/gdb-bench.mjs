// `npm run bench` (after bench.mjs): the gdb stub's speed, beside qemu-x86_64's
// stub (-g) in the same run when it is installed, and native gdb (ptrace)
// where the same script can run locally. The stub runs the CLI's default
// entry model, nommu/zpoline, named on every row. Figures are measured here,
// never asserted by tests; they are written to bench/results/ (results.mjs).
//   1. stepi/s driven by gdb: `stepi 2000` timed in gdb's Python, the first
//      after connecting and after 4000 more, with and without the stub's
//      fast path (ENTRYSTUB_SPIN_MS=0); beside native gdb (ptrace) and, when
//      installed, gdbserver stepping the native program: the same protocol
//      from gdb's own stub, what a step costs gdb over RSP at best
//   2. packets/s at the protocol level: m (64 bytes), vCont;s, p (raw client)
//   3. a `continue` to the end of a CPU-bound program with 0 and with 100
//      breakpoints set at instructions it never executes: the slowdown; its
//      output must be the native run's. And a `continue` through a
//      syscall-heavy program (getpid-loop: 200,000 getpid calls) without and
//      with `catch syscall` of a call it never makes (acct), then with 100
//      never-hit breakpoints as well: what catching costs the syscall path
//   4. breakpoints that are hit: a breakpoint in gdbdemo's loop, `continue`
//      from hit to hit; and a conditional one whose condition gdb evaluates
//      at every hit and finds false
//   5. reverse execution over bench-crc's ~112 million instructions: the
//      forward `continue` to its first printf with history recorded and with
//      --no-history (the recording cost: five of each, interleaved, in CPU
//      time), reverse-stepi there (the first, and the next ones),
//      reverse-continue across the whole history to a write watchpoint (on
//      its CRC table, written at the start), to a caught syscall, to a write
//      watchpoint on a page written in every segment (its buffer's first
//      byte) and to a breakpoint at its start (main), and reverse-stepi
//      there; the output = native. Each reverse command is timed in wall time and in the CPU time
//      of the stub's main thread (/proc/PID/schedstat): the machine is shared
//      and loaded, where wall time says little.
// GDB_BENCH=reverse (a comma-separated list of stepi, packets, continue,
// hits, reverse) runs those sections only.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../../dist/machine/machine.js';
import { decode } from '../../dist/cpu/decode.js';
import { CLI, machineFacts, record } from './results.mjs';
import { summary } from './summary.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const GDBDEMO = path.join(ROOT, 'test', 'gdb', 'fixtures', 'bin', 'gdbdemo');
const CRC = path.join(ROOT, 'test', 'fixtures', 'bin', 'bench-crc-musl');
const GETPID = path.join(ROOT, 'test', 'fixtures', 'bin', 'getpid-loop-musl');
const GETPID_CALLS = '200000';
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (!have('gdb')) {
  console.log('gdb bench: skipped (apt-get install gdb)');
  process.exit(0);
}
const qemu = have('qemu-x86_64');
const gdbserver = have('gdbserver');
const SECTIONS = new Set((process.env.GDB_BENCH ?? 'stepi,packets,continue,hits,reverse').split(','));
const want = (s) => SECTIONS.has(s);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-gdb-bench-'));
const start = machineFacts();
const results = [];
/** The entry model the stub runs here: the CLI's default, spelled out. */
const MODEL = ['--entry', 'nommu', '--hook', 'zpoline'];
const MODEL_LABEL = 'nommu/zpoline';

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** Start a stub ('entrystub', 'no-spin' or 'qemu') for prog; resolves {port, stop, stdout()}: stdout is the program's. */
async function startStub(kind, prog, args = [], flags = []) {
  // entrystub without its fast path (transport.ts): what the event loop alone gives
  const env = kind === 'no-spin' ? { ...process.env, ENTRYSTUB_SPIN_MS: '0' } : process.env;
  let out = '';
  if (kind === 'qemu' || kind === 'gdbserver') {
    const port = await freePort();
    const cmd = kind === 'qemu' ? ['qemu-x86_64', '-g', String(port), prog, ...args] : ['gdbserver', '--once', `127.0.0.1:${port}`, prog, ...args];
    const p = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
    p.stdout.on('data', (d) => (out += d));
    await sleep(300);
    return { port, stop: () => p.kill(), stdout: () => out };
  }
  const p = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...MODEL, ...flags, prog, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  p.stdout.on('data', (d) => (out += d));
  let err = '';
  const port = await new Promise((resolve, reject) => {
    p.stderr.on('data', (d) => {
      err += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    p.on('exit', () => reject(new Error(err)));
  });
  const exited = new Promise((r) => p.on('exit', r));
  return { port, pid: p.pid, stop: () => p.kill(), stdout: () => out, exited };
}

/** Run gdb -batch with a Python script against a port (null: gdb runs the program itself, over ptrace); returns its output. */
function gdbPython(port, prog, py, args = []) {
  const file = path.join(tmp, 'b.py');
  fs.writeFileSync(file, py);
  const gdbArgs = ['-nx', '-batch', '-iex', 'set pagination off'];
  if (port === null) gdbArgs.push('-ex', 'starti', '-x', file, '--args', prog, ...args);
  else gdbArgs.push(prog, '-ex', `target remote 127.0.0.1:${port}`, '-x', file);
  const r = spawnSync('gdb', gdbArgs, { encoding: 'utf8', timeout: 600_000 });
  return r.stdout + r.stderr;
}

const num = (out, key) => {
  const m = new RegExp(`${key} ([0-9.]+)`).exec(out);
  if (!m) throw new Error(`no ${key} in gdb output:\n${out}`);
  return Number(m[1]);
};

// ---------------------------------------------------------------- 1. stepi/s

async function stepiRate(kind) {
  // 'native': gdb runs the program itself and steps it over ptrace, the bar the stub is measured against
  const s = kind === 'native' ? null : await startStub(kind, GDBDEMO, ['100000000']);
  try {
    const out = gdbPython(
      s === null ? null : s.port,
      GDBDEMO,
      `import gdb, time
gdb.execute('break 28')
gdb.execute('continue')
gdb.execute('stepi 50', to_string=True)
t = time.perf_counter()
gdb.execute('stepi 2000', to_string=True)
print('STEPI', 2000 / (time.perf_counter() - t))
gdb.execute('stepi 4000', to_string=True)
t = time.perf_counter()
gdb.execute('stepi 2000', to_string=True)
print('WARM', 2000 / (time.perf_counter() - t))
`,
    );
    return { cold: num(out, 'STEPI'), warm: num(out, 'WARM') };
  } finally {
    s?.stop();
  }
}

// ---------------------------------------------------------------- 2. packets/s

/** A minimal RSP client that copes with ack mode (QEMU has no QStartNoAckMode). */
class Raw {
  constructor(sock) {
    this.sock = sock;
    this.buf = '';
    this.ack = true;
    this.waiter = null;
    sock.on('data', (d) => {
      this.buf += d.toString('latin1');
      this.check();
    });
  }
  static connect(port) {
    return new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Raw(s)));
      s.setNoDelay(true);
    });
  }
  check() {
    if (!this.waiter) return;
    const start = this.buf.indexOf('$');
    const end = start < 0 ? -1 : this.buf.indexOf('#', start);
    if (end < 0 || this.buf.length < end + 3) return;
    const body = this.buf.slice(start + 1, end);
    this.buf = this.buf.slice(end + 3);
    if (this.ack) this.sock.write('+');
    const w = this.waiter;
    this.waiter = null;
    w(body);
  }
  request(p) {
    let sum = 0;
    for (let i = 0; i < p.length; i++) sum += p.charCodeAt(i);
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.sock.write(`$${p}#${(sum & 255).toString(16).padStart(2, '0')}`);
    });
  }
}

async function packetRates(kind) {
  const s = await startStub(kind, GDBDEMO, ['100000000']);
  const c = await Raw.connect(s.port);
  try {
    await c.request('qSupported:multiprocess+;swbreak+;vContSupported+');
    if ((await c.request('QStartNoAckMode')) === 'OK') c.ack = false;
    await c.request('?');
    const res = {};
    for (const [name, pkt, n] of [
      ['m (64 bytes)', 'm401000,40', 5000],
      ['vCont;s', 'vCont;s', 5000],
      ['p (rip)', 'p10', 5000],
    ]) {
      for (let k = 0; k < 200; k++) await c.request(pkt); // warm up
      const t = performance.now();
      for (let k = 0; k < n; k++) await c.request(pkt);
      res[name] = n / ((performance.now() - t) / 1000);
    }
    return res;
  } finally {
    c.sock.destroy();
    s.stop();
  }
}

// ---------------------------------------------------------------- 3. continue with 100 breakpoints

/** 100 instruction addresses of the program that a full run never executes. */
function coldAddresses(prog, count, args = []) {
  const argv = [path.basename(prog), ...args];
  const m = new Machine({ program: prog, argv, env: [], stdout: fs.openSync('/dev/null', 'w'), warn: () => {} });
  m.load();
  m.runToEnd();
  const hot = new Set();
  for (const b of m.blocks.blocks.values()) for (const i of b.insns) hot.add(i.addr);
  // the run's address space is gone with its exit: the code is read from the same program freshly loaded
  const image = new Machine({ program: prog, argv, env: [], stdout: fs.openSync('/dev/null', 'w'), warn: () => {} });
  image.load();
  const nm = spawnSync('nm', ['-n', prog], { encoding: 'utf8' }).stdout;
  const funcs = [...nm.matchAll(/^([0-9a-f]+) [Tt] (\S+)$/gm)].map((x) => parseInt(x[1], 16));
  const out = [];
  for (let f = 0; f < funcs.length - 1 && out.length < count; f++) {
    if (hot.has(funcs[f])) continue; // a function that ran: skip it whole
    for (let a = funcs[f]; a < funcs[f + 1] && out.length < count; ) {
      let i;
      try {
        i = decode(image.mem, a);
      } catch {
        break;
      }
      out.push(a);
      a = i.next;
    }
  }
  return out;
}

const CRC_NATIVE = spawnSync(CRC, [], { encoding: 'utf8' }).stdout;
const GETPID_NATIVE = spawnSync(GETPID, [GETPID_CALLS], { encoding: 'utf8' }).stdout;

/**
 * Seconds of a `continue` from the first instruction to the end of prog (bench-crc by default), with bps set and,
 * with catchSyscall, that syscall caught; with cpu, {wall, cpu}: cpu the stub's main thread's CPU time (schedstat),
 * what a shared machine's load changes least.
 */
async function continueTime(kind, bps, { prog = CRC, args = [], native = CRC_NATIVE, catchSyscall = null, cpu = false } = {}) {
  const s = await startStub(kind, prog, args);
  try {
    const out = gdbPython(
      s.port,
      prog,
      `import gdb, time
def cpu():
    with open('/proc/%d/schedstat' % ${s.pid}) as f:
        return int(f.read().split()[0]) / 1e9
for a in [${bps.map((a) => '0x' + a.toString(16)).join(',')}]:
    gdb.execute('break *%d' % a, to_string=True)
${catchSyscall === null ? '' : `gdb.execute('catch syscall ${catchSyscall}', to_string=True)`}
c, t = cpu(), time.perf_counter()
gdb.execute('continue')
print('CONTINUE', time.perf_counter() - t)
print('CONTINUE_CPU', cpu() - c)
`,
    );
    if (!/exited normally/.test(out)) throw new Error(`continue did not run to the end:\n${out.slice(-2000)}`);
    await s.exited;
    // what it computed under gdb is what it computes natively
    if (s.stdout() !== native) throw new Error(`${path.basename(prog)} under the stub printed\n${s.stdout()}\nnot, as natively,\n${native}`);
    return cpu ? { wall: num(out, 'CONTINUE'), cpu: num(out, 'CONTINUE_CPU') } : num(out, 'CONTINUE');
  } finally {
    s.stop();
  }
}

// ---------------------------------------------------------------- 4. breakpoints that are hit

/** gdbdemo's loop `for (...) counter += 2;`: an address in its body, found by stepping from line 28 until a pc repeats. */
const FIND_LOOP = `
gdb.execute('break 28', to_string=True)
gdb.execute('continue', to_string=True)
seen = set()
while True:
    pc = int(gdb.parse_and_eval('$pc'))
    if pc in seen:
        break
    seen.add(pc)
    gdb.execute('stepi', to_string=True)
gdb.execute('delete')
`;

/**
 * hits/s of a breakpoint in the loop: `continue` from hit to hit (HITS of them,
 * after 200 untimed); with `cond`, one conditional breakpoint gdb finds false at
 * each of the loop's LOOP iterations, timed as one `continue` to the end.
 */
const HITS = 2000, LOOP = 2000;
async function hitRate(kind, cond) {
  const loop = cond ? LOOP : 100_000_000;
  const py = cond
    ? `import gdb, time${FIND_LOOP}
gdb.execute('break *%d if counter < 0' % pc, to_string=True)
t = time.perf_counter()
gdb.execute('continue')
print('RATE', ${LOOP} / (time.perf_counter() - t))
`
    : `import gdb, time${FIND_LOOP}
gdb.execute('break *%d' % pc, to_string=True)
start = int(gdb.parse_and_eval('counter'))  # finding the loop stepped through a round of it
for k in range(200):
    gdb.execute('continue', to_string=True)
t = time.perf_counter()
for k in range(${HITS}):
    gdb.execute('continue', to_string=True)
print('RATE', ${HITS} / (time.perf_counter() - t))
print('COUNTER', int(gdb.parse_and_eval('counter')) - start)
gdb.execute('kill')
`;
  const s = kind === 'native' ? null : await startStub(kind, GDBDEMO, [String(loop)]);
  try {
    const out = gdbPython(s?.port ?? null, GDBDEMO, py, [String(loop)]);
    // the program did what it does natively: with the conditional breakpoint it ran to its exit code 3;
    // from hit to hit, counter grew by 2 at each of the 2,200 hits after line 28
    if (cond ? !/exited with code 03/.test(out) : num(out, 'COUNTER') !== 2 * (HITS + 200)) throw new Error(`${kind}: gdbdemo did not run as natively:\n${out.slice(-2000)}`);
    return num(out, 'RATE');
  } finally {
    s?.stop();
  }
}

// ---------------------------------------------------------------- 5. reverse execution over a long history

// (STUB_PID and WATCH_ADDR are set on the first lines: the stub's main thread's CPU time is read from its schedstat;
// the watchpoint is on the CRC table's last entry, written once at the start: bench-crc.c's static `table`, which nm
// lists beside a read-only `table` of musl's that gdb would take for the name)
const CRC_TABLE = parseInt(/^([0-9a-f]+) b table$/m.exec(spawnSync('nm', [CRC], { encoding: 'utf8' }).stdout)[1], 16);
// its 64 KiB buffer (musl has a `buf` of its own): each round writes one of its first bytes, so every segment of history
// writes its first page, and a write watchpoint on buf[0] (written at the start and in round 0) replays every one
const CRC_BUF = parseInt(/^([0-9a-f]+) 0*10000 b buf$/m.exec(spawnSync('nm', ['-S', CRC], { encoding: 'utf8' }).stdout)[1], 16);
const REVERSE_PY = `import gdb, time, re
def cpu():
    with open('/proc/%d/schedstat' % STUB_PID) as f:
        return int(f.read().split()[0]) / 1e9
def timed(cmd, key=None):
    c, t = cpu(), time.perf_counter()
    gdb.execute(cmd, to_string=True)
    w, c = time.perf_counter() - t, cpu() - c
    if key:
        print(key, '%.6f' % w)
        print(key + '_CPU', '%.6f' % c)
    return (w, c)
def steps(n, key):
    s = [timed('reverse-stepi') for k in range(n)]
    for i, suffix in ((0, ''), (1, '_CPU')):
        v = [x[i] for x in s]
        print(key + '_FIRST' + suffix, '%.6f' % v[0])
        print(key + '_MEDIAN' + suffix, '%.6f' % sorted(v[1:])[len(v) // 2])
        print(key + '_MAX' + suffix, '%.6f' % max(v[1:]))
def insns():
    return re.search(r'history: (\\d+) guest', gdb.execute('monitor history', to_string=True)).group(1)
gdb.execute('break printf', to_string=True)
timed('continue', 'FORWARD')
h = gdb.execute('monitor history', to_string=True)
print('INSNS', re.search(r'history: (\\d+) guest', h).group(1))
print('SNAPSHOTS', re.search(r'snapshots: (\\d+)', h).group(1))
print('HELD', re.search(r'holding ([0-9.]+) MiB', h).group(1))
print('RESIDENT', re.search(r'resident ([0-9.]+) MiB', h).group(1))
steps(30, 'RSTEP')
gdb.execute('delete', to_string=True)
gdb.execute('watch *(unsigned int *)%d' % WATCH_ADDR, to_string=True)
timed('reverse-continue', 'RWATCH')
print('AT_WATCH', gdb.execute('info symbol $pc', to_string=True).split()[0])
print('BACK_WATCH', insns())
def again():
    gdb.execute('delete', to_string=True)
    gdb.execute('break printf', to_string=True)
    gdb.execute('continue', to_string=True)
    gdb.execute('delete', to_string=True)
    return insns()
print('INSNS_CATCH', again())
gdb.execute('catch syscall', to_string=True)
timed('reverse-continue', 'RCATCH')
print('BACK_CATCH', insns())
print('INSNS_BUF', again())
gdb.execute('watch *(unsigned char *)%d' % BUF_ADDR, to_string=True)
timed('reverse-continue', 'RBUF')
print('BACK_BUF', insns())
print('INSNS_AGAIN', again())
gdb.execute('break main', to_string=True)
timed('reverse-continue', 'RCONT')
print('AT', gdb.execute('info symbol $pc', to_string=True).split()[0])
print('BACK', insns())
steps(10, 'DEEP')
gdb.execute('delete', to_string=True)
gdb.execute('continue')
`;
const FORWARD_PY = `import gdb, time
def cpu():
    with open('/proc/%d/schedstat' % STUB_PID) as f:
        return int(f.read().split()[0]) / 1e9
gdb.execute('break printf', to_string=True)
c, t = cpu(), time.perf_counter()
gdb.execute('continue', to_string=True)
print('FORWARD', time.perf_counter() - t)
print('FORWARD_CPU', cpu() - c)
gdb.execute('delete', to_string=True)
gdb.execute('continue')
`;

/** history: true, the reverse session; 'forward' or false, the forward run alone, with history recorded or --no-history. */
async function reverseRun(history) {
  const s = await startStub('entrystub', CRC, [], history === false ? ['--no-history'] : []);
  try {
    const out = gdbPython(s.port, CRC, `STUB_PID = ${s.pid}\n` + (history === true ? `WATCH_ADDR = ${CRC_TABLE + 255 * 4}\nBUF_ADDR = ${CRC_BUF}\n${REVERSE_PY}` : FORWARD_PY));
    if (!/exited normally/.test(out)) throw new Error(`bench-crc did not run to its end under the stub:\n${out.slice(-3000)}`);
    await s.exited;
    if (s.stdout() !== CRC_NATIVE) throw new Error(`bench-crc under the stub printed\n${s.stdout()}\nnot, as natively,\n${CRC_NATIVE}`);
    if (history !== true) return { forward: num(out, 'FORWARD'), cpu: num(out, 'FORWARD_CPU') };
    if (!/^AT main$/m.test(out)) throw new Error(`reverse-continue did not stop at main:\n${out.slice(-3000)}`);
    // the last write of the table: make_table's (inlined into main)
    if (!/^AT_WATCH (make_table|main)$/m.test(out)) throw new Error(`reverse-continue to the watchpoint did not stop where the table is made:\n${out.slice(-3000)}`);
    const timedKeys = ['FORWARD', 'RWATCH', 'RCONT', 'RCATCH', 'RBUF', ...['RSTEP', 'DEEP'].flatMap((k) => ['FIRST', 'MEDIAN', 'MAX'].map((x) => `${k}_${x}`))];
    const keys = ['INSNS', 'SNAPSHOTS', 'HELD', 'RESIDENT', 'BACK', 'BACK_WATCH', 'INSNS_AGAIN', 'INSNS_CATCH', 'BACK_CATCH', 'INSNS_BUF', 'BACK_BUF', ...timedKeys, ...timedKeys.map((k) => `${k}_CPU`)];
    return Object.fromEntries(keys.map((k) => [k, num(out, k)]));
  } finally {
    s.stop();
  }
}

// ---------------------------------------------------------------- report

console.log(`\ngdb stub bench — gdb ${spawnSync('gdb', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0].replace(/^GNU gdb /, '')}; qemu-x86_64 ${qemu ? 'present' : 'not installed'}; gdbserver ${gdbserver ? 'present' : 'not installed'}; the stub in ${MODEL_LABEL}; load average ${start.loadavg.join(' ')}`);
const kinds = qemu ? ['entrystub', 'qemu'] : ['entrystub'];

if (want('stepi')) {
  // interleaved, best of three each; the first 2000 after connecting (Node's JIT still warming up
  // the stub's path) and 2000 more after 4000 untimed
  const stepi = {};
  for (let r = 0; r < 3; r++)
    for (const k of [...kinds, 'no-spin', ...(gdbserver ? ['gdbserver'] : []), 'native']) {
      const s = await stepiRate(k);
      stepi[k] = { cold: Math.max(stepi[k]?.cold ?? 0, s.cold), warm: Math.max(stepi[k]?.warm ?? 0, s.warm) };
    }
  for (const phase of ['cold', 'warm']) {
    const label = phase === 'cold' ? 'stepi 2000 (gdb), first:' : 'stepi 2000 after 4000:';
    let line = `${label.padEnd(28)} entrystub ${stepi.entrystub[phase].toFixed(0).padStart(6)} stepi/s`;
    if (qemu) line += `   qemu-x86_64 ${stepi.qemu[phase].toFixed(0).padStart(6)} stepi/s   (${(stepi.entrystub[phase] / stepi.qemu[phase]).toFixed(1)}x)`;
    line += `   native gdb (ptrace) ${stepi.native[phase].toFixed(0).padStart(6)} stepi/s   (${(stepi.entrystub[phase] / stepi.native[phase]).toFixed(2)}x)`;
    if (gdbserver) line += `   gdbserver ${stepi.gdbserver[phase].toFixed(0).padStart(6)} stepi/s   (${(stepi.entrystub[phase] / stepi.gdbserver[phase]).toFixed(1)}x)`;
    console.log(line);
    console.log(`  without the fast path:     entrystub ${stepi['no-spin'][phase].toFixed(0).padStart(6)} stepi/s   (ENTRYSTUB_SPIN_MS=0: every packet through the event loop)`);
    for (const k of Object.keys(stepi))
      results.push({
        bench: `stepi 2000, ${phase === 'cold' ? 'the first after connecting' : 'after 4000 more'}`,
        stub: k === 'no-spin' ? 'entrystub, ENTRYSTUB_SPIN_MS=0' : k === 'native' ? 'native gdb (ptrace)' : k,
        model: k === 'qemu' || k === 'native' || k === 'gdbserver' ? null : MODEL_LABEL,
        stepiPerSec: stepi[k][phase],
      });
  }
}

if (want('packets')) {
  const pk = {};
  for (const k of kinds) pk[k] = await packetRates(k);
  for (const name of Object.keys(pk.entrystub)) {
    let l = `${(name + ' round trips:').padEnd(28)} entrystub ${pk.entrystub[name].toFixed(0).padStart(6)} /s`;
    if (qemu) l += `        qemu-x86_64 ${pk.qemu[name].toFixed(0).padStart(6)} /s`;
    console.log(l);
    for (const k of kinds) results.push({ bench: `${name} round trips`, stub: k, model: k === 'qemu' ? null : MODEL_LABEL, perSec: pk[k][name] });
  }
}

if (want('continue')) {
  const cold = coldAddresses(CRC, 100);
  // interleaved, best of three each: the machine's noise is larger than the effect
  let t0 = Infinity, t100 = Infinity;
  for (let k = 0; k < 3; k++) {
    t0 = Math.min(t0, await continueTime('entrystub', []));
    t100 = Math.min(t100, await continueTime('entrystub', cold));
  }
  console.log(
    `continue bench-crc:          entrystub ${t0.toFixed(2)} s, with ${cold.length} breakpoints never hit ${t100.toFixed(2)} s (${(((t100 - t0) / t0) * 100).toFixed(1)}%; target <= 5%); output = native`,
  );
  results.push({ bench: 'continue bench-crc', stub: 'entrystub', model: MODEL_LABEL, secs: t0, secsWith100NeverHit: t100, outputMatchesNative: true });

  // the syscall path: a call gdb catches is looked for at every syscall's entry and return; acct is one getpid-loop never makes
  const g = { prog: GETPID, args: [GETPID_CALLS], native: GETPID_NATIVE, cpu: true };
  const coldG = coldAddresses(GETPID, 100, [GETPID_CALLS]);
  // interleaved, five of each, the medians (wall and the stub's CPU)
  const runs = { none: [], catching: [], both: [] };
  for (let k = 0; k < 5; k++) {
    runs.none.push(await continueTime('entrystub', [], g));
    runs.catching.push(await continueTime('entrystub', [], { ...g, catchSyscall: 'acct' }));
    runs.both.push(await continueTime('entrystub', coldG, { ...g, catchSyscall: 'acct' }));
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, { wall: med(v.map((x) => x.wall)), cpu: med(v.map((x) => x.cpu)) }]));
  const pct = (k, w) => `${(((m[k][w] - m.none[w]) / m.none[w]) * 100).toFixed(1)}%`;
  console.log(
    `continue getpid-loop ${GETPID_CALLS}: entrystub ${m.none.cpu.toFixed(2)} s of CPU (wall ${m.none.wall.toFixed(2)} s), with catch syscall acct (never called) ` +
      `${m.catching.cpu.toFixed(2)} s (${pct('catching', 'cpu')}; wall ${pct('catching', 'wall')}), and ${coldG.length} breakpoints never hit as well ` +
      `${m.both.cpu.toFixed(2)} s (${pct('both', 'cpu')}; wall ${pct('both', 'wall')}; target <= 5%; medians of 5 interleaved, the stub's main thread); output = native`,
  );
  results.push({
    bench: 'continue getpid-loop',
    stub: 'entrystub',
    model: MODEL_LABEL,
    calls: Number(GETPID_CALLS),
    secs: m.none.wall,
    cpuSecs: m.none.cpu,
    secsCatchingSyscall: m.catching.wall,
    cpuSecsCatchingSyscall: m.catching.cpu,
    secsCatchingWith100NeverHit: m.both.wall,
    cpuSecsCatchingWith100NeverHit: m.both.cpu,
    outputMatchesNative: true,
  });
}

if (want('hits')) {
  // best of three each, interleaved
  const hit = {}, cond = {};
  for (let r = 0; r < 3; r++)
    for (const k of [...kinds, 'native']) {
      hit[k] = Math.max(hit[k] ?? 0, await hitRate(k, false));
      cond[k] = Math.max(cond[k] ?? 0, await hitRate(k, true));
    }
  for (const [label, rate, what] of [
    ['breakpoint hit, continue:', hit, `continue from hit to hit (${HITS} hits)`],
    ['conditional, false:', cond, `a condition gdb evaluates false at each of ${LOOP} hits`],
  ]) {
    let l = `${label.padEnd(28)} entrystub ${rate.entrystub.toFixed(0).padStart(6)} hits/s`;
    if (qemu) l += `   qemu-x86_64 ${rate.qemu.toFixed(0).padStart(6)} hits/s`;
    l += `   native gdb (ptrace) ${rate.native.toFixed(0).padStart(6)} hits/s`;
    console.log(`${l}   (${what})`);
    for (const k of Object.keys(rate)) results.push({ bench: label.replace(/:$/, ''), stub: k === 'native' ? 'native gdb (ptrace)' : k, model: k === 'entrystub' ? MODEL_LABEL : null, hitsPerSec: rate[k] });
  }
}

if (want('reverse')) {
  // what recording costs: the forward run alone, recorded and with --no-history, interleaved, five of each; on a shared
  // machine compared in the stub's main-thread CPU time (medians), the wall time beside it
  const fwd = { on: [], off: [] };
  for (let r = 0; r < 5; r++) {
    fwd.on.push(await reverseRun('forward'));
    fwd.off.push(await reverseRun(false));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const onCpu = median(fwd.on.map((x) => x.cpu)), offCpu = median(fwd.off.map((x) => x.cpu));
  const onWall = median(fwd.on.map((x) => x.forward)), off = median(fwd.off.map((x) => x.forward));
  // the reverse commands: best of two sessions (by the forward run's wall time)
  let rev = null;
  for (let r = 0; r < 2; r++) {
    const on = await reverseRun(true);
    if (rev === null || on.FORWARD < rev.FORWARD) rev = on;
  }
  const ms = (x) => `${(x * 1000).toFixed(0)} ms`;
  const both = (k) => `${ms(rev[k])} (CPU ${ms(rev[`${k}_CPU`])})`;
  console.log(
    `reverse, bench-crc:          forward to its end ${onCpu.toFixed(2)} s of CPU recording, ${offCpu.toFixed(2)} s with --no-history ` +
      `(recording costs ${(((onCpu - offCpu) / offCpu) * 100).toFixed(1)}%; target < 25%; medians of 5 interleaved, main thread; wall ${onWall.toFixed(2)} s / ${off.toFixed(2)} s); ${(rev.INSNS / 1e6).toFixed(1)}M instructions of history, ` +
      `${rev.SNAPSHOTS} snapshots holding ${rev.HELD} MiB (guest resident ${rev.RESIDENT} MiB)`,
  );
  console.log(
    `  reverse-stepi at the end:  first ${both('RSTEP_FIRST')}, then median ${both('RSTEP_MEDIAN')}, max ${both('RSTEP_MAX')} (target < 50 ms)`,
  );
  console.log(
    `  reverse-continue:          ${both('RWATCH')} back across ${((rev.INSNS - rev.BACK_WATCH) / 1e6).toFixed(1)}M instructions to a write watchpoint (the CRC table's last write); ` +
      `${both('RCONT')} back across ${((rev.INSNS_AGAIN - rev.BACK) / 1e6).toFixed(1)}M to a breakpoint at the start (target < 1 s per 100M)`,
  );
  console.log(
    `  reverse-continue:          ${both('RCATCH')} back across ${((rev.INSNS_CATCH - rev.BACK_CATCH) / 1e6).toFixed(1)}M to a caught syscall (catch syscall, any); ` +
      `${both('RBUF')} back across ${((rev.INSNS_BUF - rev.BACK_BUF) / 1e6).toFixed(1)}M to a write watchpoint on a page written in every segment (buf[0])`,
  );
  console.log(`  reverse-stepi there:       first ${both('DEEP_FIRST')}, then max ${both('DEEP_MAX')}; output = native`);
  results.push({
    bench: 'reverse execution, bench-crc',
    stub: 'entrystub',
    model: MODEL_LABEL,
    historyInsns: rev.INSNS,
    snapshots: rev.SNAPSHOTS,
    snapshotMiB: rev.HELD,
    residentMiB: rev.RESIDENT,
    forwardSecsRecording: onWall,
    forwardSecsNoHistory: off,
    forwardCpuSecsRecording: onCpu,
    forwardCpuSecsNoHistory: offCpu,
    recordingCostPct: ((onCpu - offCpu) / offCpu) * 100,
    reverseStepiFirstMs: rev.RSTEP_FIRST * 1000,
    reverseStepiFirstCpuMs: rev.RSTEP_FIRST_CPU * 1000,
    reverseStepiMedianMs: rev.RSTEP_MEDIAN * 1000,
    reverseStepiMedianCpuMs: rev.RSTEP_MEDIAN_CPU * 1000,
    reverseStepiMaxMs: rev.RSTEP_MAX * 1000,
    reverseStepiMaxCpuMs: rev.RSTEP_MAX_CPU * 1000,
    reverseContinueWatchSecs: rev.RWATCH,
    reverseContinueWatchCpuSecs: rev.RWATCH_CPU,
    reverseContinueWatchInsns: rev.INSNS - rev.BACK_WATCH,
    reverseContinueSecs: rev.RCONT,
    reverseContinueCpuSecs: rev.RCONT_CPU,
    reverseContinueInsns: rev.INSNS_AGAIN - rev.BACK,
    reverseContinueCatchSecs: rev.RCATCH,
    reverseContinueCatchCpuSecs: rev.RCATCH_CPU,
    reverseContinueCatchInsns: rev.INSNS_CATCH - rev.BACK_CATCH,
    reverseContinueBufWatchSecs: rev.RBUF,
    reverseContinueBufWatchCpuSecs: rev.RBUF_CPU,
    reverseContinueBufWatchInsns: rev.INSNS_BUF - rev.BACK_BUF,
    reverseStepiAtStartFirstMs: rev.DEEP_FIRST * 1000,
    reverseStepiAtStartFirstCpuMs: rev.DEEP_FIRST_CPU * 1000,
    reverseStepiAtStartMaxMs: rev.DEEP_MAX * 1000,
    reverseStepiAtStartMaxCpuMs: rev.DEEP_MAX_CPU * 1000,
    outputMatchesNative: true,
  });
}

fs.rmSync(tmp, { recursive: true, force: true });
const file = record('gdb', results, start);
console.log(`\nresults: ${path.relative(ROOT, file)}\n`);
console.log(summary(JSON.parse(fs.readFileSync(file, 'utf8'))));
