/**
 * Random bytes where a program is expected (issue 17), seeded and replayable:
 *
 *  - ELF files, mutated from the fixtures (bytes flipped, header and program
 *    header fields set to edge values, truncations) or random, given to the
 *    loader and run in a machine (every entry model): every outcome is an
 *    ExecError with a one-line message, or a program that runs, exits or
 *    dies of a signal as a guest; never a host exception, never a hang
 *    (each run has an instruction budget, sleeps return to the loop).
 *    A sample goes through `entrystub run` too: exit status 2 and one line
 *    for a file it refuses, the in-process outcome for one it runs.
 *  - instruction bytes given to the decoder: a decoded instruction of 1 to
 *    15 bytes, or #UD, #GP (longer than 15) or #PF (the bytes run into an
 *    unmapped page); nothing else.
 *  - the same kind of bytes executed by a machine (every entry model), with
 *    random registers: a guest signal, an exit, or still running; never a
 *    host exception.
 *
 * The seed is printed; ENTRYSTUB_FUZZ_SEED=N replays a run or tries another.
 * Guest programs run confined (--root to a scratch directory), with
 * /dev/null for their standard streams and a 64 MiB machine.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '../src/machine/machine.js';
import { ExecError, explainExecError } from '../src/kernel/loader.js';
import { hostPhysmem } from '../src/kernel/kernel.js';
import { decode } from '../src/cpu/decode.js';
import { CpuFault, Vector } from '../src/cpu/fault.js';
import { Memory, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_USER } from '../src/cpu/memory.js';
import { CLI, ROOT } from './helpers/cases.js';
import { FUZZ_SEED, rng } from './helpers/fuzz.js';

console.log(`exec/decode fuzz seed ${FUZZ_SEED} (replay: ENTRYSTUB_FUZZ_SEED=${FUZZ_SEED})`);

const ELF_CASES = 1000;
const DECODES = 200_000;
const EXEC_CASES = 1500;
/** Instructions a fuzzed program may run before it counts as "still running". */
const BUDGET = 200_000;
const SLICE = 20_000;

const MODELS: { entry: string; hook?: string }[] = [
  { entry: 'nommu', hook: 'zpoline' },
  { entry: 'native' },
  { entry: 'direct' },
  { entry: 'nommu', hook: 'lazy' },
  { entry: 'nommu', hook: 'seccomp' },
];
const BASES = ['hello-musl', 'hello-pie', 'entry-probe', 'args-glibc', 'selfmod-musl'];

let scratch = '';
let nul = -1;
beforeAll(() => {
  scratch = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-fuzz-')));
  fs.mkdirSync(path.join(scratch, 'root'));
  nul = fs.openSync('/dev/null', 'r+');
  // the machine's memory, as --mem-limit: a fuzzed program may touch no more
  hostPhysmem.limit = 64 * 1024 * 1024;
});
afterAll(() => {
  if (nul >= 0) fs.closeSync(nul);
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

type Outcome = { kind: 'exec-error'; message: string } | { kind: 'exited'; code: number } | { kind: 'killed'; signal: number } | { kind: 'blocked' } | { kind: 'running' };

/** A machine for a program file, confined: root a scratch directory, streams /dev/null, sleeps return to the loop. */
function machine(file: string, model: { entry: string; hook?: string }): Machine {
  const m = new Machine({
    program: file,
    argv: ['prog'],
    env: [],
    root: path.join(scratch, 'root'),
    stdin: nul,
    stdout: nul,
    stderr: nul,
    warn: () => {},
    entry: model.entry,
    hook: model.hook,
  });
  m.os.debugged = true; // a sleep parks the task rather than blocking the host (as under a debugger)
  return m;
}

/**
 * Give back a machine's pages to the machine-wide count (--mem-limit), as
 * Linux's exit_mm does: a process that ended has given its own back; one
 * left running at the budget's end has not, and the thousands of machines of
 * one fuzz run would add up to the limit.
 */
function release(m: Machine): void {
  for (const p of m.os.procs.values()) p.mem.release();
}

/** Run to an end, a sleep, or the budget. */
function runBounded(m: Machine): Outcome {
  for (let left = BUDGET; left > 0; left -= SLICE) {
    const s = m.run(SLICE);
    if (s === null) continue;
    if (s.kind === 'exited') return { kind: 'exited', code: s.code };
    if (s.kind === 'killed') return { kind: 'killed', signal: s.signal };
    if (s.kind === 'blocked') return { kind: 'blocked' };
  }
  return { kind: 'running' };
}

/** Load and run a file; ExecError is an outcome, any other exception is the caller's failure. */
function execute(file: string, model: { entry: string; hook?: string }): Outcome {
  const m = machine(file, model);
  try {
    m.load();
    return runBounded(m);
  } catch (e) {
    if (e instanceof ExecError) return { kind: 'exec-error', message: explainExecError(e) };
    throw e;
  } finally {
    release(m);
  }
}

// ---- ELF mutations ----

/** Edge values for 64-bit header fields. */
const EDGES = [
  0n, 1n, 7n, 0x38n, 0x40n, 0xfffn, 0x1000n, 0x1001n, 0x200000n, 0x400000n, 0x60000000n, 0x7fffffffffffn, 0x7ffffffff000n, 0x800000000000n,
  0xffffffff80000000n, 0xffffffffe0000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xfffffffffffff000n, 0xffffffffffffffffn,
];

interface Mutant {
  data: Buffer;
  what: string;
}

function mutate(next: () => number, bases: Map<string, Buffer>): Mutant {
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)];
  const name = pick(BASES);
  const d = Buffer.from(bases.get(name)!);
  const phoff = Number(d.readBigUInt64LE(32));
  const phnum = d.readUInt16LE(56);
  const kind = int(6);
  switch (kind) {
    case 0: {
      // bytes anywhere
      const n = 1 + int(8);
      const at: number[] = [];
      for (let k = 0; k < n; k++) {
        const o = int(d.length);
        d[o] = int(256);
        at.push(o);
      }
      return { data: d, what: `${name}: random bytes at ${at.join(',')}` };
    }
    case 1: {
      // bytes of the ELF header and the program headers, where the loader looks
      const n = 1 + int(4);
      const at: number[] = [];
      for (let k = 0; k < n; k++) {
        const o = next() < 0.4 ? int(64) : phoff + int(phnum * 56);
        d[o] = next() < 0.5 ? int(256) : d[o] ^ (1 << int(8));
        at.push(o);
      }
      return { data: d, what: `${name}: header bytes at ${at.join(',')}` };
    }
    case 2: {
      // a program header field set to an edge value
      const ph = int(phnum);
      const fields: [string, number, number][] = [
        ['p_type', 0, 4], ['p_flags', 4, 4], ['p_offset', 8, 8], ['p_vaddr', 16, 8], ['p_paddr', 24, 8], ['p_filesz', 32, 8], ['p_memsz', 40, 8], ['p_align', 48, 8],
      ];
      const [f, off, size] = pick(fields);
      const v = next() < 0.7 ? pick(EDGES) : BigInt(int(0x100000000)) * BigInt(int(0x100000000));
      const o = phoff + ph * 56 + off;
      if (size === 8) d.writeBigUInt64LE(v & 0xffffffffffffffffn, o);
      else d.writeUInt32LE(Number(v & 0xffffffffn), o);
      return { data: d, what: `${name}: phdr ${ph} ${f} = 0x${v.toString(16)}` };
    }
    case 3: {
      // an ELF header field set to an edge value
      const fields: [string, number, number][] = [
        ['e_type', 16, 2], ['e_machine', 18, 2], ['e_entry', 24, 8], ['e_phoff', 32, 8], ['e_shoff', 40, 8], ['e_phentsize', 54, 2], ['e_phnum', 56, 2],
      ];
      const [f, o, size] = pick(fields);
      const v = pick(EDGES);
      if (size === 8) d.writeBigUInt64LE(v, o);
      else d.writeUInt16LE(Number(v & 0xffffn), o);
      return { data: d, what: `${name}: ${f} = 0x${v.toString(16)}` };
    }
    case 4: {
      const len = next() < 0.5 ? int(64 + phnum * 56 + 64) : int(d.length);
      return { data: d.subarray(0, len), what: `${name}: truncated to ${len} bytes` };
    }
    default: {
      // random bytes, half of them behind a valid ELF64 x86-64 identification
      const r = Buffer.alloc(int(4096));
      for (let k = 0; k < r.length; k++) r[k] = int(256);
      const headed = next() < 0.5 && r.length >= 20;
      if (headed) {
        Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(r);
        r.writeUInt16LE(next() < 0.5 ? 2 : 3, 16);
        r.writeUInt16LE(62, 18);
      }
      return { data: r, what: `random ${r.length} bytes${headed ? ' behind an ELF64 x86-64 header' : ''}` };
    }
  }
}

describe('random ELF files to the loader and the machine', () => {
  const samples: { file: string; model: { entry: string; hook?: string }; outcome: Outcome }[] = [];

  it(`${ELF_CASES} mutated and random files: an ExecError's one line, or a program that runs as a guest`, () => {
    const bases = new Map(BASES.map((b) => [b, fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'bin', b))]));
    const next = rng(FUZZ_SEED ^ 0xe1f);
    const file = path.join(scratch, 'prog');
    const failures: string[] = [];
    const tally = new Map<string, number>();
    for (let i = 0; i < ELF_CASES; i++) {
      const { data, what } = mutate(next, bases);
      const model = MODELS[i % MODELS.length];
      fs.writeFileSync(file, data);
      let o: Outcome;
      try {
        o = execute(file, model);
      } catch (e) {
        failures.push(`case ${i} (${what}, ${model.entry}/${model.hook ?? ''}): host exception ${(e as Error).stack}`);
        continue;
      }
      const key = o.kind === 'killed' ? `killed by ${o.signal}` : o.kind;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      if (o.kind === 'exec-error') {
        if (o.message.includes('\n') || !o.message.startsWith(file + ': ')) failures.push(`case ${i} (${what}): not one line about the file: ${JSON.stringify(o.message)}`);
      }
      // a few of each outcome for the command line below
      const kept = samples.filter((s) => s.outcome.kind === o.kind).length;
      if (kept < 4 && o.kind !== 'blocked' && o.kind !== 'running') {
        const copy = path.join(scratch, `sample-${i}`);
        fs.writeFileSync(copy, data);
        samples.push({ file: copy, model, outcome: o });
      }
    }
    console.log(`ELF fuzz outcomes: ${JSON.stringify(Object.fromEntries(tally))}`);
    expect(failures, `seed ${FUZZ_SEED}`).toEqual([]);
    // the mutations reach past the header checks: some run, some are refused
    expect(tally.get('exec-error') ?? 0).toBeGreaterThan(ELF_CASES / 20);
    expect(ELF_CASES - (tally.get('exec-error') ?? 0)).toBeGreaterThan(ELF_CASES / 20);
  });

  it('`entrystub run` on a sample: exit status 2 and one line for a refused file, the same end as in-process for one that runs', () => {
    expect(samples.length).toBeGreaterThan(4);
    for (const s of samples) {
      const r = spawnSync(process.execPath, [CLI, 'run', '--root', path.join(scratch, 'root'), '--entry', s.model.entry, ...(s.model.hook ? ['--hook', s.model.hook] : []), s.file], {
        encoding: 'utf8',
        cwd: scratch,
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      });
      const what = `${path.basename(s.file)} (${JSON.stringify(s.outcome)}): status ${r.status} ${r.signal ?? ''}\n${r.stderr}`;
      expect(r.signal, what).toBeNull(); // not killed by the timeout
      expect(r.stderr, what).not.toMatch(/^\s+at |internal error/m);
      if (s.outcome.kind === 'exec-error') {
        expect(r.status, what).toBe(2);
        // the message names the file as given: the sample's own name here
        expect(r.stderr, what).toBe(`entrystub: ${s.file}${s.outcome.message.slice(path.join(scratch, 'prog').length)}\n`);
      } else if (s.outcome.kind === 'exited') expect(r.status, what).toBe(s.outcome.code);
      else if (s.outcome.kind === 'killed') expect(r.status, what).toBe(128 + s.outcome.signal);
    }
  });
});

describe('what the fuzz found, kept as fixed cases', () => {
  it('seed 3: an executable segment of 4 GiB (memsz beyond filesz) runs as natively; zpoline reads no page it need not make', () => {
    // zpoline's exec-time sweep read every page of the segment, making each: past --mem-limit, a host exception
    const d = Buffer.from(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'bin', 'hello-musl')));
    const phoff = Number(d.readBigUInt64LE(32));
    const text = [...Array(d.readUInt16LE(56)).keys()].map((k) => phoff + k * 56).find((o) => d.readUInt32LE(o) === 1 && d.readUInt32LE(o + 4) & 1)!;
    d.writeBigUInt64LE(0x100000000n, text + 40);
    const file = path.join(scratch, 'big-text');
    fs.writeFileSync(file, d, { mode: 0o755 });
    const native = spawnSync(file, [], { encoding: 'utf8' });
    expect(native.stdout).toBe('Hello, world!\n');
    for (const model of MODELS) {
      const r = spawnSync(process.execPath, [CLI, 'run', '--entry', model.entry, ...(model.hook ? ['--hook', model.hook] : []), file], { encoding: 'utf8', timeout: 60_000 });
      expect({ model, stdout: r.stdout, status: r.status, stderr: r.stderr }).toEqual({ model, stdout: native.stdout, status: native.status, stderr: '' });
    }
  });
});

/** 16 bytes an instruction might start with: prefixes, REX, escapes and x87 often, anything else too. */
function instructionBytes(next: () => number): Uint8Array {
  const int = (n: number) => Math.floor(next() * n);
  const b = new Uint8Array(16);
  for (let k = 0; k < 16; k++) b[k] = int(256);
  let k = 0;
  while (k < 4 && next() < 0.3) b[k++] = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x64, 0x65][int(8)];
  if (next() < 0.3) b[k++] = 0x40 | int(16);
  const esc = next();
  if (esc < 0.3) b[k++] = 0x0f;
  else if (esc < 0.4) {
    b[k++] = 0x0f;
    b[k++] = next() < 0.5 ? 0x38 : 0x3a;
  } else if (esc < 0.5) b[k] = 0xd8 + int(8);
  return b;
}

describe('random instruction bytes', () => {
  it(`${DECODES} to the decoder: an instruction of 1 to 15 bytes, #UD, #GP (too long) or #PF (into an unmapped page)`, () => {
    const mem = new Memory();
    const PAGE = 0x10000;
    mem.map(PAGE, PAGE_SIZE, PROT_READ | PROT_EXEC | PROT_USER); // the page after it is not mapped
    const next = rng(FUZZ_SEED ^ 0xdec0de);
    const failures: string[] = [];
    const tally = new Map<string, number>();
    for (let i = 0; i < DECODES && failures.length < 20; i++) {
      const bytes = instructionBytes(next);
      // one in ten runs into the unmapped page
      const off = next() < 0.1 ? PAGE_SIZE - 1 - Math.floor(next() * 15) : Math.floor(next() * (PAGE_SIZE - 16));
      mem.poke(PAGE + off, bytes.subarray(0, Math.min(16, PAGE_SIZE - off)));
      const hex = Buffer.from(bytes).toString('hex');
      try {
        const insn = decode(mem, PAGE + off);
        if (!(insn.len >= 1 && insn.len <= 15 && off + insn.len <= PAGE_SIZE)) failures.push(`${hex} at +${off}: length ${insn.len}`);
        tally.set('insn', (tally.get('insn') ?? 0) + 1);
      } catch (e) {
        const v = e instanceof CpuFault ? e.vector : -1;
        const ok = v === Vector.UD || v === Vector.GP || (v === Vector.PF && (e as CpuFault).addr >= PAGE + PAGE_SIZE);
        if (!ok) failures.push(`${hex} at +${off}: ${e instanceof CpuFault ? `vector ${v} at 0x${(e as CpuFault).addr.toString(16)}` : (e as Error).stack}`);
        tally.set(`#${v}`, (tally.get(`#${v}`) ?? 0) + 1);
      }
    }
    console.log(`decoder fuzz outcomes: ${JSON.stringify(Object.fromEntries(tally))}`);
    expect(failures, `seed ${FUZZ_SEED}`).toEqual([]);
    expect(tally.get('insn') ?? 0).toBeGreaterThan(DECODES / 2);
    expect(tally.get(`#${Vector.UD}`) ?? 0).toBeGreaterThan(0);
    expect(tally.get(`#${Vector.PF}`) ?? 0).toBeGreaterThan(0);
  });

  it(`${EXEC_CASES} runs of them in a machine (every entry model), random registers: a guest signal, an exit, or running`, () => {
    const next = rng(FUZZ_SEED ^ 0xe4ec);
    const int = (n: number) => Math.floor(next() * n);
    const prog = path.join(ROOT, 'test', 'fixtures', 'bin', 'hello-musl');
    const failures: string[] = [];
    const tally = new Map<string, number>();
    for (let i = 0; i < EXEC_CASES && failures.length < 20; i++) {
      const model = MODELS[i % MODELS.length];
      const m = machine(prog, model);
      m.load();
      // 64 bytes of instructions at the entry point (its page is the program's text)
      const code = new Uint8Array(64);
      for (let k = 0; k < 64; k += 16) code.set(instructionBytes(next), k);
      m.mem.poke(m.cpu.rip, code);
      for (let r = 0; r < 16; r++) if (r !== 4 && next() < 0.7) m.cpu.setNum(r, next() < 0.5 ? int(0x100000000) : int(1000));
      let o: Outcome;
      try {
        o = runBounded(m);
      } catch (e) {
        release(m);
        failures.push(`case ${i} (${model.entry}/${model.hook ?? ''}, code ${Buffer.from(code).toString('hex')}): host exception ${(e as Error).stack}`);
        continue;
      }
      release(m);
      const key = o.kind === 'killed' ? `killed by ${o.signal}` : o.kind;
      tally.set(key, (tally.get(key) ?? 0) + 1);
    }
    console.log(`execution fuzz outcomes: ${JSON.stringify(Object.fromEntries(tally))}`);
    expect(failures, `seed ${FUZZ_SEED}`).toEqual([]);
    // most random code dies of a fault, as it would natively
    expect([...tally].filter(([k]) => k.startsWith('killed')).reduce((a, [, n]) => a + n, 0)).toBeGreaterThan(EXEC_CASES / 2);
  });
});
