// `npm run bench`: guest instructions per second of the interpreter on CPU-bound
// work, beside the native run and qemu-x86_64 (when installed) in the same run.
// Figures are measured here, never asserted by tests.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../../dist/machine/machine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = (n) => path.join(ROOT, 'test', 'fixtures', 'bin', n);
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));

function timeNative(argv, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26, ...opts });
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return { secs: dt, out: r.stdout.toString() };
}

function timeEmulated(prog, argv, opts = {}, machineOut = {}) {
  const devnull = fs.openSync('/dev/null', 'w');
  const m = new Machine({ program: prog, argv, env: ['PATH=/usr/bin:/bin'], stdout: devnull, warn: () => {}, ...opts });
  m.load();
  const t0 = process.hrtime.bigint();
  const ev = m.runToEnd();
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.closeSync(devnull);
  if (ev.kind !== 'exited' || ev.code !== 0) throw new Error(`${prog}: ${JSON.stringify(ev)}`);
  machineOut.m = m;
  return { secs: dt, insns: m.cpu.icount };
}

function row(label, emu, native, qemu) {
  const mips = emu.insns / emu.secs / 1e6;
  let s = `${label.padEnd(34)} ${(emu.insns / 1e6).toFixed(1).padStart(8)} M insns  ${emu.secs.toFixed(2).padStart(7)} s  ${mips.toFixed(1).padStart(7)} MIPS`;
  s += `   native ${native.secs.toFixed(3)} s (${(emu.secs / native.secs).toFixed(0)}x)`;
  if (qemu) s += `   qemu-x86_64 ${qemu.secs.toFixed(3)} s (${(emu.secs / qemu.secs).toFixed(1)}x)`;
  console.log(s);
}

const qemu = have('qemu-x86_64');
console.log(`entrystub bench — node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'}; qemu-x86_64 ${qemu ? 'present' : 'not installed'}`);

// 1. CPU-bound fixture
{
  const prog = BIN('bench-crc-musl');
  const emu = timeEmulated(prog, ['bench-crc']);
  const nat = timeNative([prog]);
  const q = qemu ? timeNative(['qemu-x86_64', prog]) : null;
  row('bench-crc (CRC32 + hash loop)', emu, nat, q);
}

// 2. busybox sha256sum of a 32 MiB file
if (busybox) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-bench-'));
  const file = path.join(tmp, 'blob');
  const buf = Buffer.alloc(32 << 20);
  let x = 12345;
  for (let i = 0; i < buf.length; i += 4) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    buf.writeUInt32LE(x, i);
  }
  fs.writeFileSync(file, buf);
  const emu = timeEmulated(busybox, ['busybox', 'sha256sum', file]);
  const nat = timeNative([busybox, 'sha256sum', file]);
  const q = qemu ? timeNative(['qemu-x86_64', busybox, 'sha256sum', file]) : null;
  row('busybox sha256sum 32 MiB', emu, nat, q);
  fs.rmSync(tmp, { recursive: true, force: true });
} else console.log('busybox sha256sum: skipped (apt-get install busybox-static)');

// 3. getpid through each entry model, beside the direct baseline
{
  const N = 200000;
  const prog = BIN('getpid-asm');
  console.log(`\ngetpid x ${N} (getpid-asm): guest instructions and wall time per call, user instruction to the next user instruction`);
  console.log('  for scale: UML nommu (seccomp hook) 2,599 ns and native Linux 161 ns per getpid on hardware; zpoline\'s hook 41 ns');
  const configs = [
    ['direct', { entry: 'direct' }],
    ['nommu/zpoline', { entry: 'nommu', hook: 'zpoline' }],
    ['nommu/lazy', { entry: 'nommu', hook: 'lazy' }],
    ['nommu/seccomp', { entry: 'nommu', hook: 'seccomp' }],
    ['native (SYSRET)', { entry: 'native' }],
  ];
  let base = null;
  for (const [label, o] of configs) {
    const out = {};
    const r = timeEmulated(prog, ['getpid-asm', String(N)], { ...o, stats: true }, out);
    const st = out.m.stats.get(39);
    const ns = (r.secs / N) * 1e9;
    base ??= ns;
    console.log(`  ${label.padEnd(16)} ${(st.insns / st.count).toFixed(1).padStart(7)} insns/getpid ${ns.toFixed(0).padStart(7)} ns/getpid  (${(ns / base).toFixed(1)}x direct)`);
  }
}

// 4. a dynamically linked program's start: python3 -c pass (exec, ld.so mapping libc.so and the
// rest, zpoline's sweep of each executable mapping, the interpreter's startup), as a user runs it:
// the wall time of `entrystub run` in a fresh process (Node's start included), beside native and
// qemu; each the best of three, since a start this short is at the mercy of the machine's load
{
  const py = ['/usr/bin/python3', '/usr/bin/python3.11'].find((p) => fs.existsSync(p));
  if (py) {
    console.log('\npython3 -c pass, wall time of the whole run (each in a fresh process, best of 3)');
    const best = (f) => [f(), f(), f()].reduce((a, b) => (b.secs < a.secs ? b : a));
    const nat = best(() => timeNative([py, '-c', 'pass'], { env: {} }));
    const q = qemu ? best(() => timeNative(['qemu-x86_64', py, '-c', 'pass'], { env: {} })) : null;
    for (const [label, o] of [
      ['nommu/zpoline', ['--entry', 'nommu', '--hook', 'zpoline']],
      ['nommu/seccomp', ['--entry', 'nommu', '--hook', 'seccomp']],
      ['native', ['--entry', 'native']],
      ['direct', ['--entry', 'direct']],
    ]) {
      const log = path.join(os.tmpdir(), `entrystub-bench-${process.pid}.log`);
      const r = best(() => timeNative([process.execPath, path.join(ROOT, 'dist', 'cli.js'), 'run', '--stats', '--log', log, '--quiet', ...o, py, '-c', 'pass'], { env: {} }));
      const stats = fs.readFileSync(log, 'utf8');
      fs.rmSync(log, { force: true });
      const insns = Number(/entrystub: (\d+) guest instructions/.exec(stats)?.[1] ?? NaN);
      const sites = /zpoline: (\d+) sites rewritten/.exec(stats)?.[1];
      let line = `  ${label.padEnd(16)} ${(insns / 1e6).toFixed(1).padStart(6)} M insns  ${r.secs.toFixed(2).padStart(6)} s   native ${nat.secs.toFixed(3)} s (${(r.secs / nat.secs).toFixed(0)}x)`;
      if (q) line += `   qemu-x86_64 ${q.secs.toFixed(3)} s (${(r.secs / q.secs).toFixed(1)}x)`;
      if (sites) line += `   (${sites} syscall sites rewritten)`;
      console.log(line);
    }
  } else console.log('python3 -c pass: skipped (no python3)');
}
