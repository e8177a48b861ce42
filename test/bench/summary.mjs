// The one table `npm run bench` ends with: the figures issue 16 sets targets for, read back
// from this commit's results file (bench.mjs's section `cpu`, gdb-bench.mjs's `gdb`), each
// beside its target. Run alone (`node test/bench/summary.mjs [file]`) it prints a file's table.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function summary(doc) {
  const cpu = doc.cpu?.rows ?? [];
  const gdb = doc.gdb?.rows ?? [];
  const lines = [];
  const add = (what, value, target) => lines.push(`| ${what} | ${value} | ${target} |`);
  const f0 = (x) => (x === null || x === undefined ? '?' : x.toFixed(0));
  for (const r of cpu.filter((r) => r.mips !== undefined))
    add(`${r.bench}, ${r.model}`, `${f0(r.mips)} M instructions/s (${f0(r.cpuMips)} per CPU s); ${f0(r.secs / r.nativeSecs)}x native${r.qemuSecs ? `, ${(r.secs / r.qemuSecs).toFixed(1)}x qemu` : ''}`, '>= 300 M/s');
  for (const r of cpu.filter((r) => r.nsPerCall !== undefined)) add(`getpid, ${r.model}`, `${f0(r.nsPerCall)} ns (${f0(r.cpuNsPerCall)} ns of CPU)${r.steadyNsPerCall === undefined ? '' : `; steady ${f0(r.steadyNsPerCall)} ns (${f0(r.steadyCpuNsPerCall)} ns of CPU)`}, ${r.insnsPerCall.toFixed(0)} instructions`, '< 2,599 ns');
  for (const r of cpu.filter((r) => r.bench.startsWith('start-up'))) add(`start-up (busybox true), ${r.model}`, `${f0(r.secs * 1000)} ms (${f0(r.cpuSecs * 1000)} ms CPU), ${f0(r.peakRssMB)} MB`, r.model.startsWith('node') ? '' : '< 150 ms');
  for (const r of cpu.filter((r) => r.bench.startsWith('peak RSS'))) add(r.bench, `${f0(r.peakRssMB)} MB`, '< 100 MB');
  for (const r of cpu.filter((r) => r.bench.startsWith('python3'))) add(`python3 -c pass, ${r.model}`, `${r.secs.toFixed(2)} s${r.qemuSecs ? `, ${(r.secs / r.qemuSecs).toFixed(1)}x qemu` : ''}`, '<= 10x qemu');
  const st = (stub) => gdb.find((r) => r.bench.startsWith('stepi 2000, the first') && r.stub === stub)?.stepiPerSec;
  if (st('entrystub') !== undefined)
    add('gdb: first stepi 2000', `${f0(st('entrystub'))} stepi/s; native gdb (ptrace) ${f0(st('native gdb (ptrace)'))}${st('gdbserver') === undefined ? '' : `; gdbserver ${f0(st('gdbserver'))}`}`, '>= native');
  const c = gdb.find((r) => r.bench === 'continue bench-crc');
  if (c) add('gdb: continue with 100 breakpoints never hit', `${(((c.secsWith100NeverHit - c.secs) / c.secs) * 100).toFixed(1)}%`, '< 5%');
  const g = gdb.find((r) => r.bench === 'continue getpid-loop');
  if (g) {
    const pct = (x, base) => `${(((x - base) / base) * 100).toFixed(1)}%`;
    add(
      `gdb: continue through ${g.calls} getpids, catch syscall (never called) on`,
      `${pct(g.cpuSecsCatchingSyscall, g.cpuSecs)} of the stub's CPU (wall ${pct(g.secsCatchingSyscall, g.secs)}); and 100 breakpoints never hit ${pct(g.cpuSecsCatchingWith100NeverHit, g.cpuSecs)} (wall ${pct(g.secsCatchingWith100NeverHit, g.secs)})`,
      '< 5%',
    );
  }
  const rv = gdb.find((r) => r.bench === 'reverse execution, bench-crc');
  if (rv) {
    const m = (x) => `${f0(x)} ms`;
    // wall time, and the stub's CPU time where the bench measured it (the machine is shared: wall time there is the load's)
    const cpuMs = (x) => (x === undefined ? '' : ` (CPU ${f0(x)} ms)`);
    const cpuS = (x) => (x === undefined ? '' : ` (CPU ${x.toFixed(2)} s)`);
    add(
      `gdb: reverse-stepi, ${(rv.historyInsns / 1e6).toFixed(0)}M instructions of history`,
      `first ${m(rv.reverseStepiFirstMs)}${cpuMs(rv.reverseStepiFirstCpuMs)}, then median ${m(rv.reverseStepiMedianMs)}, max ${m(rv.reverseStepiMaxMs)}${cpuMs(rv.reverseStepiMaxCpuMs)}`,
      '< 50 ms',
    );
    add(`gdb: reverse-continue across ${(rv.reverseContinueInsns / 1e6).toFixed(0)}M instructions to a breakpoint`, `${rv.reverseContinueSecs.toFixed(2)} s${cpuS(rv.reverseContinueCpuSecs)}`, '< 1 s per 100M');
    if (rv.reverseContinueWatchSecs !== undefined)
      add(`gdb: reverse-continue across ${(rv.reverseContinueWatchInsns / 1e6).toFixed(0)}M instructions to a watchpoint`, `${rv.reverseContinueWatchSecs.toFixed(2)} s${cpuS(rv.reverseContinueWatchCpuSecs)}`, '< 1 s per 100M');
    add('gdb: recording cost (forward, history on vs off)', `${rv.recordingCostPct.toFixed(1)}% (${rv.snapshots} snapshots, ${rv.snapshotMiB} MiB; guest resident ${rv.residentMiB} MiB)`, '< 25%');
  }
  const load = [doc.cpu?.loadavgBefore, doc.gdb?.loadavgBefore].filter(Boolean).map((l) => l[0]).join(', ');
  return [`commit ${doc.commit?.slice(0, 12)}${doc.dirty ? ' (with changes)' : ''}, ${doc.cpus} x ${doc.cpuModel}, Node ${doc.node}; load average (1 min) at the start of each part: ${load}`, '| what | measured | target |', '|---|---|---|', ...lines].join('\n');
}

/** The results file of this commit and day (results.mjs names it). */
export function latest() {
  const dir = path.join(ROOT, 'bench', 'results');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f));
  files.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return files[0];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? latest();
  console.log(summary(JSON.parse(fs.readFileSync(file, 'utf8'))));
}
