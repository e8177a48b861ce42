// `npm run bench`: guest instructions per second of the interpreter on CPU-bound
// work, in the default entry model (nommu/zpoline) and in `direct`, each row
// labelled with its model, beside the native run and qemu-x86_64 (when
// installed) in the same run. Every emulated run's output must be the native
// run's (a benchmark that computes the wrong thing measures nothing): a
// mismatch stops the bench. Figures are measured here, never asserted by
// tests; they are written to bench/results/ (results.mjs).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from '../../dist/machine/machine.js';
import { CLI, machineFacts, record } from './results.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = (n) => path.join(ROOT, 'test', 'fixtures', 'bin', n);
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-bench-'));
const start = machineFacts();
const results = [];

/** The entry models every CPU-bound row runs in: the CLI's default first. */
const MODELS = [
  ['nommu/zpoline', { entry: 'nommu', hook: 'zpoline' }],
  ['direct', { entry: 'direct' }],
];

function timeNative(argv, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26, ...opts });
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return { secs: dt, out: r.stdout.toString() };
}

function timeEmulated(prog, argv, opts = {}, machineOut = {}) {
  const file = path.join(tmp, 'stdout');
  const out = fs.openSync(file, 'w');
  const m = new Machine({ program: prog, argv, env: ['PATH=/usr/bin:/bin'], stdout: out, warn: () => {}, ...opts });
  m.load();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const ev = m.runToEnd();
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  fs.closeSync(out);
  if (ev.kind !== 'exited' || ev.code !== 0) throw new Error(`${prog}: ${JSON.stringify(ev)}`);
  machineOut.m = m;
  // CPU time beside wall time: the machine is shared, and another job's load slows the wall clock only
  return { secs: dt, cpuSecs: (c.user + c.system) / 1e6, insns: m.cpu.icount, out: fs.readFileSync(file, 'utf8') };
}

/**
 * A whole run in a fresh process under /usr/bin/time: wall and CPU seconds
 * and peak RSS (null where /usr/bin/time is missing: wall only).
 */
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
function timeProcess(argv, opts = {}) {
  if (TIME === null) return { ...timeNative(argv, opts), cpuSecs: null, rssMB: null };
  const f = path.join(tmp, 'time');
  const r = timeNative([TIME, '-o', f, '-f', '%e %U %S %M', ...argv], opts);
  const [e, u, sy, kb] = fs.readFileSync(f, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { secs: e, cpuSecs: u + sy, rssMB: kb / 1024, out: r.out };
}

/** The emulated run printed what the native one did, or the bench stops. */
function sameOutput(label, emu, native) {
  if (emu.out === native.out) return;
  console.error(`${label}: the emulated output differs from the native run's\n--- native\n${native.out}--- emulated\n${emu.out}`);
  process.exit(1);
}

function row(label, model, emu, native, qemu) {
  const mips = emu.insns / emu.secs / 1e6;
  const cpuMips = emu.insns / emu.cpuSecs / 1e6;
  let s = `${label.padEnd(30)} ${model.padEnd(14)} ${(emu.insns / 1e6).toFixed(1).padStart(8)} M insns  ${emu.secs.toFixed(2).padStart(7)} s  ${mips.toFixed(1).padStart(7)} MIPS (${cpuMips.toFixed(1)} per CPU second)`;
  s += `   native ${native.secs.toFixed(3)} s (${(emu.secs / native.secs).toFixed(0)}x)`;
  if (qemu) s += `   qemu-x86_64 ${qemu.secs.toFixed(3)} s (${(emu.secs / qemu.secs).toFixed(1)}x)`;
  console.log(s + '   output = native');
  results.push({ bench: label, model, insns: emu.insns, secs: emu.secs, cpuSecs: emu.cpuSecs, mips, cpuMips, nativeSecs: native.secs, qemuSecs: qemu?.secs ?? null, outputMatchesNative: true });
}

const qemu = have('qemu-x86_64');
/** BENCH_ONLY=getpid,startup (crc, sha256, getpid, startup, memory, programs): only those sections. */
const only = process.env.BENCH_ONLY?.split(',') ?? null;
const want = (section) => only === null || only.includes(section);
console.log(`entrystub bench — node ${process.version}, ${start.cpuModel}; qemu-x86_64 ${qemu ? 'present' : 'not installed'}; load average ${start.loadavg.join(' ')}`);

// 1. CPU-bound fixture
if (want('crc')) {
  const prog = BIN('bench-crc-musl');
  const nat = timeNative([prog]);
  const q = qemu ? timeNative(['qemu-x86_64', prog]) : null;
  if (q) sameOutput('bench-crc under qemu-x86_64', q, nat);
  for (const [model, o] of MODELS) {
    const emu = timeEmulated(prog, ['bench-crc'], o);
    sameOutput(`bench-crc (${model})`, emu, nat);
    row('bench-crc (CRC32 + hash loop)', model, emu, nat, q);
  }
}

// 2. busybox sha256sum of a 32 MiB file
if (busybox && want('sha256')) {
  const file = path.join(tmp, 'blob');
  const buf = Buffer.alloc(32 << 20);
  let x = 12345;
  for (let i = 0; i < buf.length; i += 4) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    buf.writeUInt32LE(x, i);
  }
  fs.writeFileSync(file, buf);
  const nat = timeNative([busybox, 'sha256sum', file]);
  const q = qemu ? timeNative(['qemu-x86_64', busybox, 'sha256sum', file]) : null;
  if (q) sameOutput('sha256sum under qemu-x86_64', q, nat);
  for (const [model, o] of MODELS) {
    const emu = timeEmulated(busybox, ['busybox', 'sha256sum', file], o);
    sameOutput(`busybox sha256sum (${model})`, emu, nat);
    row('busybox sha256sum 32 MiB', model, emu, nat, q);
  }
} else if (!busybox) console.log('busybox sha256sum: skipped (apt-get install busybox-static)');

// 3. getpid through each entry model, beside the direct baseline: the whole run, and its second half
// alone (steady state: by then V8 has optimized the emulator's path and the block compiler the guest
// kernel's; the first calls of a run pay for that, about 0.3-0.5 s of CPU however many calls follow)
function timeGetpid(prog, n, opts) {
  const file = path.join(tmp, 'stdout');
  const out = fs.openSync(file, 'w');
  const m = new Machine({ program: prog, argv: ['getpid-asm', String(n)], env: ['PATH=/usr/bin:/bin'], stdout: out, warn: () => {}, stats: true, ...opts });
  m.load();
  const calls = () => m.stats.calls.get(39)?.count ?? 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  while (calls() < n / 2) m.run(100_000);
  const c1 = process.cpuUsage();
  const t1 = process.hrtime.bigint();
  const half = calls();
  const ev = m.runToEnd();
  const t2 = process.hrtime.bigint();
  const c2 = process.cpuUsage();
  fs.closeSync(out);
  if (ev.kind !== 'exited' || ev.code !== 0) throw new Error(`${prog}: ${JSON.stringify(ev)}`);
  const cpu = (a, b) => (b.user + b.system - a.user - a.system) * 1000; // ns
  const st = m.stats.calls.get(39);
  return {
    out: fs.readFileSync(file, 'utf8'),
    insnsPerCall: st.insns / st.count,
    ns: Number(t2 - t0) / n,
    cpuNs: cpu(c0, c2) / n,
    steadyNs: Number(t2 - t1) / (n - half),
    steadyCpuNs: cpu(c1, c2) / (n - half),
  };
}

if (want('getpid')) {
  const N = 200000;
  const prog = BIN('getpid-asm');
  const nat = timeNative([prog, String(N)]);
  console.log(`\ngetpid x ${N} (getpid-asm): guest instructions and time per call, user instruction to the next user instruction;`);
  console.log(`  the whole run, and its second half alone (steady state: V8's and the block compiler's warm-up done)`);
  console.log('  for scale: UML nommu (seccomp hook) 2,599 ns and native Linux 161 ns per getpid on hardware; zpoline\'s hook 41 ns');
  console.log(`  native (this machine)  ${((nat.secs / N) * 1e9).toFixed(0).padStart(7)} ns/getpid (process start included)`);
  const configs = [
    ['direct', { entry: 'direct' }],
    ['nommu/zpoline', { entry: 'nommu', hook: 'zpoline' }],
    ['nommu/lazy', { entry: 'nommu', hook: 'lazy' }],
    ['nommu/seccomp', { entry: 'nommu', hook: 'seccomp' }],
    ['native (SYSRET)', { entry: 'native' }],
  ];
  let base = null;
  for (const [label, o] of configs) {
    const r = timeGetpid(prog, N, o);
    sameOutput(`getpid-asm (${label})`, r, nat);
    base ??= r.ns;
    const f = (x) => x.toFixed(0).padStart(6);
    console.log(
      `  ${label.padEnd(16)} ${r.insnsPerCall.toFixed(1).padStart(7)} insns/getpid  whole run ${f(r.ns)} ns (${f(r.cpuNs)} of CPU)  steady ${f(r.steadyNs)} ns (${f(r.steadyCpuNs)} of CPU)  (${(r.ns / base).toFixed(1)}x direct)   output = native`,
    );
    results.push({ bench: `getpid x ${N}`, model: label, insnsPerCall: r.insnsPerCall, nsPerCall: r.ns, cpuNsPerCall: r.cpuNs, steadyNsPerCall: r.steadyNs, steadyCpuNsPerCall: r.steadyCpuNs, outputMatchesNative: true });
  }
}

// 4. start-up: `entrystub run /bin/busybox true` in a fresh process, the CLI's default model
// (Node's own start included), beside `node -e 0` (Node's start alone), native and qemu; best of 5.
// The first run of a binary sweeps it for zpoline, and the first run of a build compiles the bundle
// and leaves V8's code cache at its end; later ones find both in the cache directory
// (src/entry/sweep-cache.ts, src/launcher.ts): both are shown, the cold one with the directory empty.
if (busybox && want('startup')) {
  console.log('\nstart-up: entrystub run /bin/busybox true (a fresh process each, best of 5; wall, CPU, peak RSS)');
  const best = (f, n = 5) => Array.from({ length: n }, f).reduce((a, b) => (b.secs < a.secs ? b : a));
  const cli = [process.execPath, CLI, 'run'];
  const node = best(() => timeProcess([process.execPath, '-e', '0']));
  const cacheDir = path.join(tmp, 'cache');
  const cold = best(() => {
    fs.rmSync(cacheDir, { recursive: true, force: true });
    return timeProcess([...cli, busybox, 'true'], { env: { ...process.env, ENTRYSTUB_CACHE_DIR: cacheDir } });
  }, 3);
  const warm = best(() => timeProcess([...cli, busybox, 'true'], { env: { ...process.env, ENTRYSTUB_CACHE_DIR: cacheDir } }));
  const nat = best(() => timeNative([busybox, 'true']));
  const q = qemu ? best(() => timeNative(['qemu-x86_64', busybox, 'true'])) : null;
  const ms = (x) => (x === null ? '?' : (x * 1000).toFixed(0));
  for (const [label, r] of [
    ['node -e 0', node],
    ['nommu/zpoline, swept', cold],
    ['nommu/zpoline, cached', warm],
  ]) {
    console.log(`  ${label.padEnd(24)} ${ms(r.secs).padStart(5)} ms wall  ${ms(r.cpuSecs).padStart(5)} ms CPU  ${r.rssMB === null ? '?' : r.rssMB.toFixed(0)} MB peak RSS`);
    results.push({ bench: 'start-up: run /bin/busybox true', model: label, secs: r.secs, cpuSecs: r.cpuSecs, peakRssMB: r.rssMB, nativeSecs: nat.secs, qemuSecs: q?.secs ?? null });
  }
  console.log(`  native ${ms(nat.secs)} ms${q ? `, qemu-x86_64 ${ms(q.secs)} ms` : ''}`);
}

// 5. memory: peak RSS of `entrystub run busybox sha256sum` of the 32 MiB file (section 2's), in a fresh process
if (busybox && want('memory') && want('sha256')) {
  const file = path.join(tmp, 'blob');
  const r = timeProcess([process.execPath, CLI, 'run', busybox, 'sha256sum', file]);
  const nat = timeNative([busybox, 'sha256sum', file]);
  if (r.out !== nat.out) throw new Error(`entrystub run busybox sha256sum printed ${r.out}, natively ${nat.out}`);
  console.log(`\nmemory: entrystub run busybox sha256sum (32 MiB): ${r.rssMB === null ? '?' : r.rssMB.toFixed(0)} MB peak RSS, ${r.secs.toFixed(2)} s wall, ${r.cpuSecs?.toFixed(2) ?? '?'} s CPU; output = native`);
  results.push({ bench: 'peak RSS: run busybox sha256sum 32 MiB', model: 'nommu/zpoline', secs: r.secs, cpuSecs: r.cpuSecs, peakRssMB: r.rssMB, outputMatchesNative: true });
}

// 6. whole runs of dynamically linked programs as a user runs them: python3 -c pass (exec, ld.so
// mapping libc.so and the rest, zpoline's sweep of each executable mapping, the interpreter's
// startup) and the gcc driver compiling a small file (it forks and execs cc1 and as): the wall time
// of `entrystub run` in a fresh process (Node's start included), beside native and qemu; each the
// best of three, since a run this short is at the mercy of the machine's load
function wholeRun(title, argv) {
  console.log(`\n${title}, wall time of the whole run (each in a fresh process, best of 3)`);
  const best = (f) => [f(), f(), f()].reduce((a, b) => (b.secs < a.secs ? b : a));
  const nat = best(() => timeNative(argv, { env: { PATH: '/usr/bin:/bin' } }));
  const q = qemu ? best(() => timeNative(['qemu-x86_64', ...argv], { env: { PATH: '/usr/bin:/bin' } })) : null;
  for (const [label, o] of [
    ['nommu/zpoline', ['--entry', 'nommu', '--hook', 'zpoline']],
    ['nommu/seccomp', ['--entry', 'nommu', '--hook', 'seccomp']],
    ['native', ['--entry', 'native']],
    ['direct', ['--entry', 'direct']],
  ]) {
    const log = path.join(os.tmpdir(), `entrystub-bench-${process.pid}.log`);
    const r = best(() => timeNative([process.execPath, CLI, 'run', '--stats', '--log', log, '--quiet', ...o, ...argv], { env: { PATH: '/usr/bin:/bin' } }));
    const stats = fs.readFileSync(log, 'utf8');
    fs.rmSync(log, { force: true });
    const insns = Number(/entrystub: (\d+) guest instructions/.exec(stats)?.[1] ?? NaN);
    const sites = /zpoline: (\d+) sites rewritten/.exec(stats)?.[1];
    let line = `  ${label.padEnd(16)} ${(insns / 1e6).toFixed(1).padStart(6)} M insns  ${r.secs.toFixed(2).padStart(6)} s   native ${nat.secs.toFixed(3)} s (${(r.secs / nat.secs).toFixed(0)}x)`;
    if (q) line += `   qemu-x86_64 ${q.secs.toFixed(3)} s (${(r.secs / q.secs).toFixed(1)}x)`;
    if (sites) line += `   (${sites} syscall sites rewritten)`;
    console.log(line);
    results.push({ bench: `${title} (wall, best of 3)`, model: label, insns, secs: r.secs, nativeSecs: nat.secs, qemuSecs: q?.secs ?? null });
  }
}
if (want('programs')) {
  const py = ['/usr/bin/python3', '/usr/bin/python3.11'].find((p) => fs.existsSync(p));
  if (py) wholeRun('python3 -c pass', [py, '-c', 'pass']);
  else console.log('python3 -c pass: skipped (no python3)');
  const src = path.join(tmp, 'small.c');
  fs.writeFileSync(src, 'int f(int x) { return x * 3 + 1; }\n');
  // (qemu-x86_64 emulates the driver only: cc1 and as, which it execs, run natively there)
  if (have('gcc')) wholeRun('gcc -O2 -c small.c (the driver, cc1 and as)', ['/usr/bin/gcc', '-O2', '-c', src, '-o', path.join(tmp, 'small.o')]);
  else console.log('gcc driver: skipped (no gcc)');
}

fs.rmSync(tmp, { recursive: true, force: true });
// a partial run (BENCH_ONLY) would replace the commit's whole section with a part of it
if (only === null) console.log(`\nresults: ${path.relative(ROOT, record('cpu', results, start))}`);
else console.log(`\nresults: not recorded (BENCH_ONLY=${only.join(',')}: a partial run)`);
