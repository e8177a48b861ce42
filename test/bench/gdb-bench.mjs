// `npm run bench` (after bench.mjs): the gdb stub's speed, beside qemu-x86_64's
// stub (-g) in the same run when it is installed. Figures are measured here,
// never asserted by tests.
//   1. stepi/s driven by gdb: `stepi 2000` timed in gdb's Python
//   2. packets/s at the protocol level: m (64 bytes), vCont;s, p (raw client)
//   3. a `continue` to the end of a CPU-bound program with 0 and with 100
//      breakpoints set (at instructions it never executes): the slowdown
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../../dist/machine/machine.js';
import { decode } from '../../dist/cpu/decode.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const GDBDEMO = path.join(ROOT, 'test', 'gdb', 'fixtures', 'bin', 'gdbdemo');
const CRC = path.join(ROOT, 'test', 'fixtures', 'bin', 'bench-crc-musl');
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (!have('gdb')) {
  console.log('gdb bench: skipped (apt-get install gdb)');
  process.exit(0);
}
const qemu = have('qemu-x86_64');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-gdb-bench-'));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** Start a stub ('entrystub' or 'qemu') for prog; resolves {port, stop}. */
async function startStub(kind, prog, args = []) {
  // entrystub without its fast path (transport.ts): what the event loop alone gives
  const env = kind === 'no-spin' ? { ...process.env, ENTRYSTUB_SPIN_MS: '0' } : process.env;
  if (kind === 'qemu') {
    const port = await freePort();
    const p = spawn('qemu-x86_64', ['-g', String(port), prog, ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
    await sleep(300);
    return { port, stop: () => p.kill() };
  }
  const p = spawn(process.execPath, [CLI, 'serve', '--port', '0', prog, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
  let err = '';
  const port = await new Promise((resolve, reject) => {
    p.stderr.on('data', (d) => {
      err += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    p.on('exit', () => reject(new Error(err)));
  });
  return { port, stop: () => p.kill() };
}

/** Run gdb -batch with a Python script against a port; returns stdout. */
function gdbPython(port, prog, py) {
  const file = path.join(tmp, 'b.py');
  fs.writeFileSync(file, py);
  const r = spawnSync('gdb', ['-nx', '-batch', '-iex', 'set pagination off', prog, '-ex', `target remote 127.0.0.1:${port}`, '-x', file], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  return r.stdout + r.stderr;
}

const num = (out, key) => {
  const m = new RegExp(`${key} ([0-9.]+)`).exec(out);
  if (!m) throw new Error(`no ${key} in gdb output:\n${out}`);
  return Number(m[1]);
};

// ---------------------------------------------------------------- 1. stepi/s

async function stepiRate(kind) {
  const s = await startStub(kind, GDBDEMO, ['100000000']);
  try {
    const out = gdbPython(
      s.port,
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
    s.stop();
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
function coldAddresses(prog, count) {
  const m = new Machine({ program: prog, argv: ['bench-crc'], env: [], stdout: fs.openSync('/dev/null', 'w'), warn: () => {} });
  m.load();
  m.runToEnd();
  const hot = new Set();
  for (const b of m.blocks.blocks.values()) for (const i of b.insns) hot.add(i.addr);
  const nm = spawnSync('nm', ['-n', prog], { encoding: 'utf8' }).stdout;
  const funcs = [...nm.matchAll(/^([0-9a-f]+) [Tt] (\S+)$/gm)].map((x) => parseInt(x[1], 16));
  const out = [];
  for (let f = 0; f < funcs.length - 1 && out.length < count; f++) {
    if (hot.has(funcs[f])) continue; // a function that ran: skip it whole
    for (let a = funcs[f]; a < funcs[f + 1] && out.length < count; ) {
      let i;
      try {
        i = decode(m.mem, a);
      } catch {
        break;
      }
      out.push(a);
      a = i.next;
    }
  }
  return out;
}

async function continueTime(kind, bps) {
  const s = await startStub(kind, CRC);
  try {
    const out = gdbPython(
      s.port,
      CRC,
      `import gdb, time
for a in [${bps.map((a) => '0x' + a.toString(16)).join(',')}]:
    gdb.execute('break *%d' % a, to_string=True)
t = time.perf_counter()
gdb.execute('continue')
print('CONTINUE', time.perf_counter() - t)
`,
    );
    if (!/exited normally/.test(out)) throw new Error(`continue did not run to the end:\n${out.slice(-2000)}`);
    return num(out, 'CONTINUE');
  } finally {
    s.stop();
  }
}

// ---------------------------------------------------------------- report

console.log(`\ngdb stub bench — gdb ${spawnSync('gdb', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0].replace(/^GNU gdb /, '')}; qemu-x86_64 ${qemu ? 'present' : 'not installed'}`);
const kinds = qemu ? ['entrystub', 'qemu'] : ['entrystub'];

// interleaved, best of three each; the first 2000 after connecting (Node's JIT still warming up
// the stub's path) and 2000 more after 4000 untimed
const stepi = {};
for (let r = 0; r < 3; r++)
  for (const k of [...kinds, 'no-spin']) {
    const s = await stepiRate(k);
    stepi[k] = { cold: Math.max(stepi[k]?.cold ?? 0, s.cold), warm: Math.max(stepi[k]?.warm ?? 0, s.warm) };
  }
for (const phase of ['cold', 'warm']) {
  const label = phase === 'cold' ? 'stepi 2000 (gdb), first:' : 'stepi 2000 after 4000:';
  let line = `${label.padEnd(28)} entrystub ${stepi.entrystub[phase].toFixed(0).padStart(6)} stepi/s`;
  if (qemu) line += `   qemu-x86_64 ${stepi.qemu[phase].toFixed(0).padStart(6)} stepi/s   (${(stepi.entrystub[phase] / stepi.qemu[phase]).toFixed(1)}x)`;
  console.log(line);
  console.log(`  without the fast path:     entrystub ${stepi['no-spin'][phase].toFixed(0).padStart(6)} stepi/s   (ENTRYSTUB_SPIN_MS=0: every packet through the event loop)`);
}

const pk = {};
for (const k of kinds) pk[k] = await packetRates(k);
for (const name of Object.keys(pk.entrystub)) {
  let l = `${(name + ' round trips:').padEnd(28)} entrystub ${pk.entrystub[name].toFixed(0).padStart(6)} /s`;
  if (qemu) l += `        qemu-x86_64 ${pk.qemu[name].toFixed(0).padStart(6)} /s`;
  console.log(l);
}

const cold = coldAddresses(CRC, 100);
// interleaved, best of three each: the machine's noise is larger than the effect
let t0 = Infinity, t100 = Infinity;
for (let k = 0; k < 3; k++) {
  t0 = Math.min(t0, await continueTime('entrystub', []));
  t100 = Math.min(t100, await continueTime('entrystub', cold));
}
console.log(
  `continue bench-crc:          entrystub ${t0.toFixed(2)} s, with ${cold.length} breakpoints ${t100.toFixed(2)} s (${(((t100 - t0) / t0) * 100).toFixed(1)}%; target <= 5%)`,
);
fs.rmSync(tmp, { recursive: true, force: true });
