/**
 * The block compiler (src/cpu/jit/) against the interpreter it specialises:
 *
 *  - random blocks (seeded): instruction bytes drawn from the forms the
 *    compiler has templates for (every ALU operation and size, mov/movzx/
 *    movsx/lea, push/pop, inc/dec, test, cmov/setcc, shifts and rotates,
 *    imul, and a jcc/jmp/call/ret at the end), with memory operands that hit
 *    writable, read-only, unmapped and code pages, run once by the
 *    interpreter and once by the compiled block from identical machines:
 *    the registers, RFLAGS, RIP, instruction count, memory and the fault
 *    (vector, address, error code) must all be the same. Stores into the
 *    block's own page exercise the self-modifying-code exit. The same in
 *    32-bit code (compat mode).
 *  - random loops of two or three blocks (traces, src/cpu/jit/trace.ts), one
 *    of them looping on itself, the same way; and a trace stopped at a
 *    breakpoint in its second block, single-stepped there, and rewritten.
 *  - programs (the CPU torture fixtures, self-modifying and JIT code,
 *    faults and signals, malloc, busybox; and i386 ones, with busybox-static:i386):
 *    run with compiled blocks and interpreted only, the same output, exit and
 *    instruction count.
 *
 * The seed is printed; ENTRYSTUB_FUZZ_SEED=N replays a run or tries another.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CPU } from '../src/cpu/cpu.js';
import { CpuFault } from '../src/cpu/fault.js';
import { CS, __USER32_CS } from '../src/cpu/segment.js';
import { Memory, PROT_EXEC, PROT_READ, PROT_USER, PROT_WRITE } from '../src/cpu/memory.js';
import { BlockCache, runBlocks } from '../src/cpu/run.js';
import { blockSource, compileBlock, traceSource } from '../src/cpu/jit/compile.js';
import { Machine } from '../src/machine/machine.js';
import { ROOT } from './helpers/cases.js';
import { FUZZ_SEED, rng } from './helpers/fuzz.js';
import { busybox32 } from './helpers/i386.js';

console.log(`jit fuzz seed ${FUZZ_SEED} (replay: ENTRYSTUB_FUZZ_SEED=${FUZZ_SEED})`);

const CODE = 0x400000, DATA = 0x600000, RODATA = 0x602000, HOLE = 0x603000;

/** A random instruction of a form the compiler has a template for (none of them ends a block). */
function randomInsn(r: () => number): number[] {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const byte = (): number => Math.floor(r() * 256);
  const out: number[] = [];
  if (r() < 0.1) out.push(0x66);
  const rex = r() < 0.7 ? 0x40 | Math.floor(r() * 16) : 0;
  if (rex) out.push(rex);
  // ModRM with a memory operand most of the time in [reg + disp] or SIB forms
  const modrm = (reg = Math.floor(r() * 8)): number[] => {
    const mod = Math.floor(r() * 4);
    const rm = Math.floor(r() * 8);
    const b = [(mod << 6) | (reg << 3) | rm];
    if (mod !== 3 && rm === 4) b.push(byte());
    if (mod === 1) b.push(byte());
    else if (mod === 2 || (mod === 0 && rm === 5) || (mod === 0 && rm === 4 && (b[1] & 7) === 5)) b.push(byte(), byte() & 0x0f, 0, 0);
    return b;
  };
  const imm32 = (): number[] => [byte(), byte(), byte(), byte()];
  const kind = Math.floor(r() * 19);
  switch (kind) {
    case 0: // ALU Ev,Gv / Gv,Ev / Eb,Gb / Gb,Eb
      out.push((Math.floor(r() * 8) << 3) | Math.floor(r() * 4), ...modrm());
      break;
    case 1: // ALU acc, imm
      if (r() < 0.5) out.push((Math.floor(r() * 8) << 3) | 4, byte());
      else out.push((Math.floor(r() * 8) << 3) | 5, ...imm32());
      break;
    case 2: // group 1
      if (r() < 0.4) out.push(0x83, ...modrm(), byte());
      else if (r() < 0.5) out.push(0x81, ...modrm(), ...imm32());
      else out.push(0x80, ...modrm(), byte());
      break;
    case 3: // mov forms
      out.push(pick([0x88, 0x89, 0x8a, 0x8b]), ...modrm());
      break;
    case 4: // mov r/m, imm; mov r, imm
      if (r() < 0.5) out.push(0xc7, ...modrm(0), ...imm32());
      else if (r() < 0.5) out.push(0xc6, ...modrm(0), byte());
      else out.push(0xb8 + Math.floor(r() * 8), ...imm32(), ...(rex & 8 ? imm32() : []));
      break;
    case 5: // movzx/movsx/movsxd
      if (r() < 0.25) out.push(0x63, ...modrm());
      else out.push(0x0f, pick([0xb6, 0xb7, 0xbe, 0xbf]), ...modrm());
      break;
    case 6: // lea
      out.push(0x8d, ...modrm()); // a register operand is #UD: the block ends before it
      break;
    case 7: // push/pop, push imm, push r/m
      if (r() < 0.6) out.push(pick([0x50, 0x58]) + Math.floor(r() * 8));
      else if (r() < 0.3) out.push(0x6a, byte());
      else if (r() < 0.5) out.push(0x68, ...imm32());
      else out.push(0xff, ...modrm(6));
      break;
    case 8: // inc/dec
      out.push(pick([0xfe, 0xff]), ...modrm(Math.floor(r() * 2)));
      break;
    case 9: // test
      if (r() < 0.5) out.push(pick([0x84, 0x85]), ...modrm());
      else if (r() < 0.5) out.push(0xf7, ...modrm(0), ...imm32());
      else out.push(0xf6, ...modrm(0), byte());
      break;
    case 10: // cmovcc
      out.push(0x0f, 0x40 + Math.floor(r() * 16), ...modrm());
      break;
    case 11: // setcc
      out.push(0x0f, 0x90 + Math.floor(r() * 16), ...modrm());
      break;
    case 12: // shifts and rotates by imm8 and by 1
      if (r() < 0.6) out.push(0xc1, ...modrm(), r() < 0.3 ? byte() : Math.floor(r() * 70));
      else out.push(0xd1, ...modrm());
      break;
    case 13: // imul
      if (r() < 0.5) out.push(0x0f, 0xaf, ...modrm());
      else if (r() < 0.5) out.push(0x6b, ...modrm(), byte());
      else out.push(0x69, ...modrm(), ...imm32());
      break;
    case 14: // a handler the compiler calls: adc/sbb flags readers, xchg, neg, mul
      out.push(pick([0x87, 0x11, 0x19]), ...modrm());
      break;
    case 15:
      out.push(0xf7, ...modrm(pick([2, 3, 4, 5])));
      break;
    case 16: // bswap (with 66: the undefined 16-bit form, the handler's)
      out.push(0x0f, 0xc8 + Math.floor(r() * 8));
      break;
    case 17: // cld, std, leave, pushf (with 66: the handler's 16-bit form)
      out.push(pick([0xfc, 0xfd, 0xc9, 0x9c]));
      break;
    default:
      out.push(0x90);
  }
  return out;
}

/** The last randomBlock ends in a branch back to its start. */
let lastWasLoop = false;

/**
 * A block: up to 12 instructions and an optional branch at the end; a
 * branch back to the block's start makes it a loop, which the compiled
 * block goes round inside one call (until the branch falls through or the
 * budget ends it).
 */
function randomBlock(r: () => number): number[] {
  const bytes: number[] = [];
  const n = 1 + Math.floor(r() * 12);
  for (let k = 0; k < n; k++) bytes.push(...randomInsn(r));
  const end = Math.floor(r() * 10);
  const back = (len: number): number[] => {
    const d = -(bytes.length + len);
    return [d & 255, (d >> 8) & 255, (d >> 16) & 255, (d >> 24) & 255];
  };
  lastWasLoop = end === 5 || end === 6;
  if (end === 5) bytes.push(0x0f, 0x80 + Math.floor(r() * 16), ...back(6));
  else if (end === 6) bytes.push(0xe9, ...back(5));
  else if (end === 7 || end === 8) {
    // call or jmp r/m64: to a register or a pointer in memory (mostly not code: a fault at the target)
    const mod = r() < 0.5 ? 3 : Math.floor(r() * 3);
    const rm = Math.floor(r() * 8);
    bytes.push(...(r() < 0.3 ? [0x41] : []), 0xff, (mod << 6) | ((end === 7 ? 2 : 4) << 3) | rm);
    if (mod !== 3 && rm === 4) bytes.push(0x24);
    if (mod === 1) bytes.push(Math.floor(r() * 256));
    else if (mod === 2 || (mod === 0 && rm === 5)) bytes.push(Math.floor(r() * 256), 0, 0, 0);
  }
  if (end === 0) bytes.push(0x70 + Math.floor(r() * 16), Math.floor(r() * 64));
  else if (end === 1) bytes.push(0x0f, 0x80 + Math.floor(r() * 16), 0x10, 0, 0, 0);
  else if (end === 2) bytes.push(0xe8, 0x20, 0, 0, 0);
  else if (end === 3) bytes.push(0xc3);
  else if (end === 4) bytes.push(0xeb, 0x08);
  return bytes;
}

interface World {
  mem: Memory;
  cpu: CPU;
}

/**
 * A machine with the code (writable when `rwx`, so stores can rewrite it),
 * data, read-only data and a hole; with `compat`, in a 32-bit code segment.
 */
function world(code: number[], rwx: boolean, regs: number[], flags: number, compat = false): World {
  const mem = new Memory();
  mem.map(CODE, 0x1000, PROT_READ | PROT_EXEC | PROT_USER | (rwx ? PROT_WRITE : 0));
  mem.map(DATA, 0x2000, PROT_READ | PROT_WRITE | PROT_USER);
  mem.map(RODATA, 0x1000, PROT_READ | PROT_USER);
  mem.poke(CODE, Uint8Array.from(code));
  const data = new Uint8Array(0x2000);
  for (let k = 0; k < data.length; k++) data[k] = (k * 131 + 7) & 0xff;
  mem.poke(DATA, data);
  mem.poke(RODATA, data.subarray(0, 0x1000));
  const cpu = new CPU(mem);
  for (let k = 0; k < 16; k++) {
    cpu.rl[k] = regs[2 * k];
    cpu.rh[k] = regs[2 * k + 1];
  }
  cpu.setFlags(flags);
  cpu.rip = CODE;
  if (compat) {
    cpu.seg[CS] = __USER32_CS;
    cpu.compat = true;
  }
  return { mem, cpu };
}

function snapshot(w: World, fault: unknown): unknown {
  const f = fault instanceof CpuFault ? { vector: fault.vector, addr: fault.addr, code: fault.errorCode } : fault === null ? null : String(fault);
  const pages: Record<string, string> = {};
  for (const a of [CODE, DATA, DATA + 0x1000, RODATA]) {
    const b = new Uint8Array(0x1000);
    w.mem.peek(a, b);
    pages[a.toString(16)] = Buffer.from(b).toString('hex');
  }
  return { rl: [...w.cpu.rl], rh: [...w.cpu.rh], rip: w.cpu.rip, icount: w.cpu.icount, flags: w.cpu.getFlags(), fault: f, pages };
}

/**
 * Run from CODE for `budget` instructions, interpreted and with every block
 * compiled at once: the two end states, and whether the first block was compiled.
 */
function runBoth(code: number[], rwx: boolean, regs: number[], flags: number, budget: number, compat: boolean, traced?: (c: BlockCache) => void): [unknown, unknown, boolean] {
  const results: unknown[] = [];
  let compiled = false;
  for (const jit of [false, true]) {
    const w = world(code, rwx, regs, flags, compat);
    const cache = new BlockCache(w.cpu.mem);
    cache.jit = jit;
    cache.hot = 1;
    let fault: unknown = null;
    try {
      runBlocks(w.cpu, cache, budget);
    } catch (e) {
      fault = e;
    }
    if (jit) {
      traced?.(cache);
      try {
        compiled = cache.get(CODE, compat).compiled !== null;
      } catch {
        /* the first instruction does not decode */
      }
    }
    results.push(snapshot(w, fault));
  }
  return [results[0], results[1], compiled];
}

/** The parts of two snapshots that differ (pages by their first differing byte). */
function differences(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  for (const k of Object.keys(a)) {
    if (JSON.stringify(a[k]) === JSON.stringify(b[k])) continue;
    if (k === 'pages') {
      const pa = a[k] as Record<string, string>, pb = b[k] as Record<string, string>;
      for (const p of Object.keys(pa))
        if (pa[p] !== pb[p]) {
          let o = 0;
          while (pa[p][o] === pb[p][o]) o++;
          d[`page ${p} at +${o >> 1}`] = [pa[p].slice(o & ~1, (o & ~1) + 16), pb[p].slice(o & ~1, (o & ~1) + 16)];
        }
    } else d[k] = [a[k], b[k]];
  }
  return d;
}

/*
 * The same generator serves 32-bit code (compat mode): there a REX byte is
 * inc or dec of a register, a rel32 branch carries a 32-bit EIP, push, pop,
 * call, ret, leave and jmp r/m are compat mode's own handlers, and a memory
 * operand's address is 32 bits, all of which the block must do as the
 * interpreter does.
 */
for (const compat of [false, true])
describe(`compiled blocks do what the interpreter does (${compat ? '32-bit code, compat mode' : '64-bit code'})`, () => {
  it('random blocks: registers, flags, RIP, count, memory and faults identical', () => {
    const r = rng(FUZZ_SEED ^ (compat ? 0x732 : 0x717));
    let compiled = 0, faults = 0, loops = 0;
    for (let c = 0; c < 4000; c++) {
      const code = randomBlock(r);
      const regs: number[] = [];
      for (let k = 0; k < 16; k++) {
        const x = r();
        // mostly pointers into the data pages (some near the read-only page, the hole, the code), else anything
        const base = x < 0.5 ? DATA : x < 0.6 ? RODATA - 0x40 : x < 0.65 ? HOLE - 0x20 : x < 0.72 ? CODE : -1;
        if (base >= 0) {
          regs.push(base + Math.floor(r() * 0x1000), 0);
        } else regs.push((r() * 4294967296) | 0, r() < 0.5 ? 0 : (r() * 4294967296) | 0);
      }
      regs[8] = DATA + 0x1800; // RSP: room to push and pop
      regs[9] = 0;
      const flags = Math.floor(r() * 0x1000) & 0x8d5;
      // a budget that may end a loop between its rounds or inside one
      const [interp, jit, didCompile] = runBoth(code, r() < 0.3, regs, flags, r() < 0.7 ? 200 : 13 + Math.floor(r() * 150), compat);
      if (didCompile) compiled++;
      // a compiled loop that went round more than once (more instructions ran than two rounds hold)
      if (didCompile && lastWasLoop && (interp as { icount: number }).icount > 26) loops++;
      if ((interp as { fault: unknown }).fault !== null) faults++;
      if (JSON.stringify(jit) !== JSON.stringify(interp)) {
        let src: string | null = null;
        try {
          src = blockSource(new BlockCache(world(code, false, regs, flags, compat).cpu.mem).get(CODE, compat).insns);
        } catch {
          /* not decodable */
        }
        // interpreted (first) against compiled (second)
        expect({ case: c, bytes: Buffer.from(code).toString('hex'), src, differences: differences(interp as Record<string, unknown>, jit as Record<string, unknown>) }).toEqual({ case: c, bytes: Buffer.from(code).toString('hex'), src, differences: {} });
      }
    }
    // the generator reaches the compiler and the fault paths
    expect(compiled).toBeGreaterThan(3000);
    expect(faults).toBeGreaterThan(200);
    // (fewer in 32-bit code, where more of the generated bytes are other instructions: inc/dec for REX, segment loads)
    expect(loops).toBeGreaterThan(compat ? 40 : 100);
  });
});

/** rel32 bytes of a branch at `from` (its length `len`) to `to`. */
function rel32(from: number, len: number, to: number): number[] {
  const d = to - (from + len);
  return [d & 255, (d >> 8) & 255, (d >> 16) & 255, (d >> 24) & 255];
}

/**
 * A loop of two or three blocks (a trace, jit/trace.ts): block A leaves the
 * loop on a random condition (to an exit that jumps back to A, so the trace
 * is left and entered again), block B loops on itself on a random condition
 * or not, and the last block jumps back to A. Returns the bytes.
 */
function randomCycle(r: () => number): number[] {
  const insns = (): number[] => {
    const b: number[] = [];
    const n = 1 + Math.floor(r() * 6);
    for (let k = 0; k < n; k++) b.push(...randomInsn(r));
    return b;
  };
  const a = insns(), b = insns(), selfB = r() < 0.4;
  const code: number[] = [...a];
  const exitAt = CODE + 0x800;
  code.push(0x0f, 0x80 + Math.floor(r() * 16), ...rel32(CODE + code.length, 6, exitAt));
  const bAt = CODE + code.length;
  code.push(...b);
  if (selfB) code.push(0x0f, 0x80 + Math.floor(r() * 16), ...rel32(CODE + code.length, 6, bAt));
  code.push(0xe9, ...rel32(CODE + code.length, 5, CODE));
  while (code.length < 0x800) code.push(0x90);
  code.push(0x48, 0xff, 0xc0); // inc rax on the way back
  code.push(0xe9, ...rel32(exitAt + 3, 5, CODE));
  return code;
}

/** Registers for a random case: mostly pointers into the data pages (some near the read-only page, the hole, the code), else anything; `safe`: all into the data pages. */
function randomRegs(r: () => number, safe = false): number[] {
  const regs: number[] = [];
  for (let k = 0; k < 16; k++) {
    const x = safe ? 0 : r();
    const base = x < 0.5 ? DATA : x < 0.6 ? RODATA - 0x40 : x < 0.65 ? HOLE - 0x20 : x < 0.72 ? CODE : -1;
    if (base >= 0) regs.push(base + Math.floor(r() * 0x1000), 0);
    else regs.push((r() * 4294967296) | 0, r() < 0.5 ? 0 : (r() * 4294967296) | 0);
  }
  regs[8] = DATA + 0x1800; // RSP: room to push and pop
  regs[9] = 0;
  return regs;
}

for (const compat of [false, true])
describe(`traces (loops of several blocks) do what the interpreter does (${compat ? '32-bit code' : '64-bit code'})`, () => {
  it('random loops of blocks: registers, flags, RIP, count, memory and faults identical', () => {
    const r = rng(FUZZ_SEED ^ (compat ? 0x7ace32 : 0x7ace));
    let traced = 0, faults = 0, smc = 0;
    for (let c = 0; c < 2500; c++) {
      const code = randomCycle(r);
      // half of the loops with every register pointing into the data pages, so that they go round long before a fault
      const regs = randomRegs(r, r() < 0.5);
      const flags = Math.floor(r() * 0x1000) & 0x8d5;
      const rwx = r() < 0.3;
      let hadTrace = false;
      // a budget that may end the trace between its blocks, inside a block or inside the inner loop
      const budget = r() < 0.6 ? 400 : 20 + Math.floor(r() * 300);
      const [interp, jit] = runBoth(code, rwx, regs, flags, budget, compat, (cache) => {
        try {
          hadTrace = cache.get(CODE, compat).trace !== null;
        } catch {
          /* not decodable */
        }
      });
      if (hadTrace) traced++;
      if ((interp as { fault: unknown }).fault !== null) faults++;
      if (rwx && hadTrace) smc++;
      if (JSON.stringify(jit) !== JSON.stringify(interp)) {
        let src: string | null = null;
        try {
          const w = world(code, false, regs, flags, compat);
          const cache = new BlockCache(w.cpu.mem);
          const a = cache.get(CODE, compat);
          const tail = a.insns[a.insns.length - 1];
          src = traceSource([a.insns, cache.get(tail.next, compat).insns]);
        } catch {
          /* not decodable */
        }
        expect({ case: c, bytes: Buffer.from(code.slice(0, 120)).toString('hex'), src, differences: differences(interp as Record<string, unknown>, jit as Record<string, unknown>) }).toEqual({ case: c, bytes: Buffer.from(code.slice(0, 120)).toString('hex'), src, differences: {} });
      }
    }
    // the generator reaches traces, with faults in them and stores into their code
    console.log(`traces ${compat}: ${traced} traced, ${faults} faults, ${smc} with stores into code`);
    expect(traced).toBeGreaterThan(300);
    expect(faults).toBeGreaterThan(200);
    expect(smc).toBeGreaterThan(50);
  });
});

describe('a trace stops where the run loop stops', () => {
  // A: inc rax; cmp rax, 1000; je EXIT   B: add rbx, rax; jmp A   EXIT: jmp EXIT
  const A = CODE, B = CODE + 15, EXIT = CODE + 0x100;
  const code = [0x48, 0xff, 0xc0, 0x48, 0x3d, 0xe8, 0x03, 0, 0, 0x0f, 0x84, ...rel32(CODE + 9, 6, EXIT), 0x48, 0x01, 0xc3, 0xe9, ...rel32(B + 3, 5, A)];
  while (code.length < 0x100) code.push(0x90);
  code.push(0xeb, 0xfe);
  /** The same steps on an interpreting machine and a compiling one: their states after each step. */
  function both(steps: (cpu: CPU, cache: BlockCache) => void): [unknown[], unknown[], boolean] {
    const out: unknown[][] = [];
    let traced = false;
    for (const jit of [false, true]) {
      const w = world(code, true, new Array<number>(32).fill(0), 0x202);
      const cache = new BlockCache(w.cpu.mem);
      cache.jit = jit;
      cache.hot = 1;
      const states: unknown[] = [];
      const hits: number[] = [];
      cache.onBreakpoint = (a) => hits.push(a);
      steps(w.cpu, cache);
      states.push(snapshot(w, null), hits);
      if (jit) traced = cache.get(A, false).trace !== null;
      out.push(states);
    }
    return [out[0], out[1], traced];
  }
  it('at a breakpoint in its second block, and single steps from there', () => {
    const [interp, jit, traced] = both((cpu, cache) => {
      runBlocks(cpu, cache, 300);
      cache.setBreakpoints(new Map([[B, 1]]));
      runBlocks(cpu, cache, 10_000);
      // as the machine's slice does: each run starts with no stop requested, and resumes from the breakpoint it stopped at
      for (let k = 0; k < 7; k++) {
        const at = cpu.rip;
        cpu.stopRequested = false;
        runBlocks(cpu, cache, 1, at);
      }
      cache.setBreakpoints(new Map());
      cpu.stopRequested = false;
      runBlocks(cpu, cache, 10_000);
    });
    expect(traced).toBe(true);
    expect(jit).toEqual(interp);
  });
  it('where a store rewrites the loop', () => {
    const [interp, jit, traced] = both((cpu, cache) => {
      runBlocks(cpu, cache, 300);
      // the trace then runs block B rewritten: add rbx, rax becomes sub rbx, rax
      cpu.mem.poke(B + 1, Uint8Array.of(0x29));
      runBlocks(cpu, cache, 300);
    });
    expect(traced).toBe(true);
    expect(jit).toEqual(interp);
  });
  it('when asked to stop between its blocks', () => {
    const [interp, jit] = both((cpu, cache) => {
      runBlocks(cpu, cache, 300);
      // a probe at B stops the CPU: the trace must end before B as the run loop does
      cache.setProbe(B, (c) => (c.stopRequested = true));
      runBlocks(cpu, cache, 300);
      cpu.stopRequested = false;
      cache.setProbe(B, null);
      runBlocks(cpu, cache, 5000);
    });
    expect(jit).toEqual(interp);
  });
});

const BIN = (n: string): string => path.join(ROOT, 'test', 'fixtures', 'bin', n);

/** Run a program to its end, compiled or interpreted only: its output, exit and instruction count. */
function runProgram(prog: string, argv: string[], jit: boolean, entry: { entry: string; hook?: string }): { out: string; end: unknown; icount: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-jit-'));
  const file = path.join(dir, 'out');
  const fd = fs.openSync(file, 'w');
  try {
    const m = new Machine({ program: prog, argv, env: ['PATH=/usr/bin:/bin'], stdout: fd, stderr: fd, warn: () => {}, ...entry } as ConstructorParameters<typeof Machine>[0]);
    m.blocks.jit = jit;
    m.blocks.hot = 32; // compile early, so that most of the program runs compiled
    m.load();
    const end = m.runToEnd();
    return { out: fs.readFileSync(file, 'latin1'), end, icount: m.cpu.icount };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A file of 3,000 numbered lines for sha256sum, sort and awk. */
function withData(fn: (data: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-jit-data-'));
  try {
    const data = path.join(dir, 'data');
    const lines: string[] = [];
    for (let k = 0; k < 3000; k++) lines.push(`${(k * 7919) % 3001} line ${k}`);
    fs.writeFileSync(data, lines.join('\n') + '\n');
    fn(data);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('programs run compiled as they run interpreted', () => {
  const progs: [string, string[]][] = [
    ['torture-alu-musl', []],
    ['torture-muldiv-musl', []],
    ['torture-shift-musl', []],
    ['torture-string-musl', []],
    ['selfmod-musl', []],
    ['jit-musl', []],
    ['faults-musl', []],
    ['signal-musl', []],
    ['malloc-musl', []],
    ['setjmp-glibc', []],
  ];
  for (const [name, args] of progs)
    it(`${name}: same output, exit and instruction count`, () => {
      for (const entry of [{ entry: 'nommu', hook: 'zpoline' }, { entry: 'direct' }]) {
        const a = runProgram(BIN(name), [name, ...args], false, entry);
        const b = runProgram(BIN(name), [name, ...args], true, entry);
        expect(b).toEqual(a);
      }
    }, 120_000);

  // 32-bit programs, through the guest kernel's compat entries and handled in place
  const progs32 = ['insns32-i386', 'float-i386', 'faults-i386', 'signal-i386', 'tls32-i386'];
  for (const name of progs32)
    it(`${name} (32-bit code): same output, exit and instruction count`, () => {
      for (const entry of [{ entry: 'native' }, { entry: 'direct' }]) {
        const a = runProgram(BIN(name), [name], false, entry);
        const b = runProgram(BIN(name), [name], true, entry);
        expect(b).toEqual(a);
      }
    }, 120_000);

  it('busybox-static:i386 sha256sum, sort and awk: same output, exit and instruction count', () => {
    withData((data) => {
      for (const argv of [['sha256sum', data], ['sort', '-n', data], ['awk', '{ s += $1 } END { print s }', data]]) {
        const a = runProgram(busybox32(), ['busybox', ...argv], false, { entry: 'native' });
        const b = runProgram(busybox32(), ['busybox', ...argv], true, { entry: 'native' });
        expect(b).toEqual(a);
      }
    });
  }, 180_000);

  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
  it.skipIf(!busybox)('busybox sha256sum, sort and awk: same output, exit and instruction count', () => {
    withData((data) => {
      for (const argv of [['sha256sum', data], ['sort', '-n', data], ['awk', '{ s += $1 } END { print s }', data]]) {
        const a = runProgram(busybox!, ['busybox', ...argv], false, { entry: 'nommu', hook: 'zpoline' });
        const b = runProgram(busybox!, ['busybox', ...argv], true, { entry: 'nommu', hook: 'zpoline' });
        expect(b).toEqual(a);
      }
    });
  }, 180_000);
});

describe('a run of nops (zpoline sled) is one step of many instructions', () => {
  function sled(): World {
    const code = [...new Array<number>(300).fill(0x90), 0x48, 0x01, 0xd8, 0xeb, 0xfe]; // 300 nops; add rax, rbx; jmp .
    return world(code, false, new Array<number>(32).fill(0), 0x202);
  }
  it('runs as far as the budget allows, counting every nop', () => {
    const w = sled();
    const cache = new BlockCache(w.cpu.mem);
    expect(runBlocks(w.cpu, cache, 120)).toBe(120);
    expect([w.cpu.rip, w.cpu.icount]).toEqual([CODE + 120, 120]);
    expect(runBlocks(w.cpu, cache, 1000)).toBe(1000);
    // 180 nops, add, then the jmp to itself 819 times
    expect([w.cpu.rip, w.cpu.icount]).toEqual([CODE + 303, 1120]);
  });
  it('single-steps one nop at a time', () => {
    const w = sled();
    const cache = new BlockCache(w.cpu.mem);
    w.cpu.rip = CODE + 37;
    for (let k = 1; k <= 5; k++) {
      expect(runBlocks(w.cpu, cache, 1)).toBe(1);
      expect([w.cpu.rip, w.cpu.icount]).toEqual([CODE + 37 + k, k]);
    }
  });
  it('stops at a breakpoint inside the run, before the nop there', () => {
    const w = sled();
    const cache = new BlockCache(w.cpu.mem);
    const hits: number[] = [];
    cache.onBreakpoint = (a) => hits.push(a);
    cache.setBreakpoints(new Map([[CODE + 250, 1]]));
    w.cpu.rip = CODE + 10;
    runBlocks(w.cpu, cache, 1000);
    expect([w.cpu.rip, w.cpu.icount, hits]).toEqual([CODE + 250, 240, [CODE + 250]]);
    // resuming from it passes over it
    w.cpu.stopRequested = false;
    runBlocks(w.cpu, cache, 50, CODE + 250);
    expect([w.cpu.rip, w.cpu.icount]).toEqual([CODE + 300, 290]);
  });
});
