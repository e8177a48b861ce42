/**
 * The entry paths, proven by the machine state rather than by output alone:
 * the nommu return's register consequences, the order of the path, the
 * native SYSRET/IRET choice for each of the six checks, the trampoline's
 * guard, lazy rewriting, exec refusing to overlap the guest kernel, the
 * kernel's IRQ warning, and the committed images matching their sources.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Machine, type MachineOptions } from '../src/machine/machine.js';
import { readSymbols, imagePath } from '../src/entry/kernel-image.js';
import { PT_REGS as PT, SIZEOF_PTREGS, peekWord } from '../src/entry/ptregs.js';
import { THREAD_SIZE } from '../src/guest/generated/abi.js';
import type { NommuEntry } from '../src/entry/nommu.js';
import { RAX, RCX, RSP, DF, IF } from '../src/cpu/cpu.js';
import { CLI, ROOT } from './helpers/cases.js';
import { CONFIGS } from './helpers/configs.js';
// @ts-expect-error: plain JS build script
import { sourceHash } from '../src/guest/build.mjs';
import { need } from './helpers/tools.js';

/** The guest build's tools (gcc's package brings binutils' as and ld): the images are rebuilt and compared. */
const HAVE_TOOLCHAIN = need('gcc', 'nm') !== null;

const BIN = (n: string) => path.join(ROOT, 'test/fixtures/bin', n);
const ALL_CONFIGS = CONFIGS.map((c) => c.args);
const probeSyms = readSymbols(new Uint8Array(fs.readFileSync(BIN('entry-probe')))).symbols;
const WRITE_SITE = probeSyms.get('write_site')!;
const AFTER_WRITE = probeSyms.get('after_write')!;

function machine(prog: string, opts: Partial<MachineOptions> = {}, args: string[] = []): Machine {
  const devnull = fs.openSync('/dev/null', 'w');
  const m = new Machine({ program: BIN(prog), argv: ['prog', ...args], env: [], stdout: devnull, warn: () => {}, ...opts });
  m.load();
  return m;
}

/** Stop at a breakpoint address. */
function runTo(m: Machine, addr: number): void {
  m.setBreakpoints([addr], []);
  const ev = m.run(10_000_000);
  expect(ev).toEqual({ kind: 'breakpoint', type: 'sw', addr, tid: m.leader.pid });
  m.setBreakpoints([], []);
}

const nommu = (m: Machine) => m.model as NommuEntry;

/** Single-step until rip == addr (or the program ends); returns the places passed, in order, without repeats. */
function stepTo(m: Machine, addr: number, max = 5000): string[] {
  const seen: string[] = [];
  for (let n = 0; n < max && m.cpu.rip !== addr && !m.ended; n++) {
    const rip = m.cpu.rip;
    const sym = m.kernel?.symbolize(rip)?.split('+')[0];
    const where = sym === undefined ? 'user' : sym.startsWith('zpoline_') ? 'sled' : sym;
    if (seen[seen.length - 1] !== where) seen.push(where);
    m.run(1, rip);
  }
  return seen;
}

/** Edit the pt_regs at the kernel stack pointer (where do_syscall_64 has just returned). */
function editPtRegsAtRsp(m: Machine, edit: (pt: DataView) => void): void {
  const regs = m.cpu.getNum(RSP);
  const b = new Uint8Array(SIZEOF_PTREGS);
  m.mem.peek(regs, b);
  edit(new DataView(b.buffer));
  m.mem.poke(regs, b);
}

function ptregs(m: Machine, field: keyof typeof PT): number {
  const b = new Uint8Array(8);
  m.mem.peek(m.kernel!.sym('task_regs') + PT[field], b);
  return Number(new DataView(b.buffer).getBigInt64(0, true));
}

describe('nommu entry (UML without MMU)', () => {
  it('pt_regs sit right above the kernel stack, where the CFI of __kernel_vsyscall looks for them', () => {
    const m = machine('entry-probe', { entry: 'nommu', hook: 'zpoline' });
    const word = (sym: string) => peekWord(m.mem, m.kernel!.sym(sym));
    expect(word('current_ptregs')).toBe(m.kernel!.sym('task_regs'));
    expect(word('current_top_of_stack')).toBe(m.kernel!.sym('task_regs'));
    expect(m.kernel!.sym('task_stack') + THREAD_SIZE).toBe(m.kernel!.sym('task_regs'));
  });

  it('zpoline rewrote the write site to call *%rax', () => {
    const m = machine('entry-probe', { entry: 'nommu', hook: 'zpoline' });
    expect(nommu(m).rewritten.has(WRITE_SITE)).toBe(true);
    const b = new Uint8Array(2);
    m.mem.peek(WRITE_SITE, b);
    expect([...b]).toEqual([0xff, 0xd0]);
  });

  for (const hook of ['zpoline', 'lazy', 'seccomp'] as const) {
    it(`${hook}: path order and the return's register consequences`, () => {
      const m = machine('entry-probe', { entry: 'nommu', hook });
      runTo(m, WRITE_SITE);
      const rspBefore = m.cpu.getNum(RSP);
      m.cpu.setFlags(m.cpu.getFlags() | DF); // DF set in user space: the exit's cld clears it
      const seen = stepTo(m, AFTER_WRITE);
      const expected = hook === 'seccomp' ? ['user', '__kernel_vsyscall'] : ['user', 'sled', '__kernel_vsyscall'];
      expect(seen.slice(0, expected.length)).toEqual(expected);
      expect(seen).toContain('do_syscall_64');
      expect(seen).toContain('__x64_sys_write');
      expect(seen.indexOf('userspace')).toBeGreaterThan(seen.indexOf('do_syscall_64'));
      expect(m.cpu.rip).toBe(AFTER_WRITE);
      expect(m.cpu.getNum(RAX)).toBe(3); // bytes written
      expect(m.cpu.getNum(RCX)).toBe(AFTER_WRITE); // jmp *%rcx
      expect(m.cpu.getNum(11)).toBe(rspBefore); // r11 = the user RSP at entry
      expect(m.cpu.getNum(RSP)).toBe(rspBefore);
      expect(m.cpu.getFlags() & DF).toBe(0);
      expect(ptregs(m, 'cs')).toBe(0);
      expect(ptregs(m, 'ss')).toBe(0);
      expect(ptregs(m, 'orig_ax')).toBe(1);
      expect(ptregs(m, 'sp')).toBe(rspBefore);
    });
  }

  it('zpoline: the sled entry point is the syscall number', () => {
    const m = machine('entry-probe', { entry: 'nommu', hook: 'zpoline' });
    runTo(m, WRITE_SITE);
    m.run(1, WRITE_SITE);
    expect(m.cpu.rip).toBe(1); // rax = 1: call *%rax lands on sled byte 1
  });

  it('a NULL function call dies with SIGSEGV at address 0 in zpoline mode', () => {
    const m = machine('faults-musl', { entry: 'nommu', hook: 'zpoline' }, ['null-call']);
    const ev = m.runToEnd();
    expect(ev).toMatchObject({ kind: 'killed', signal: 11, addr: 0 });
  });

  it('lazy: code written at run time is hooked and its site counted', () => {
    const m = machine('selfmod-musl', { entry: 'nommu', hook: 'lazy' });
    const ev = m.runToEnd();
    expect(ev).toEqual({ kind: 'exited', code: 0, tid: m.leader.pid });
    expect(nommu(m).lazyRewrites).toBeGreaterThan(0);
    const outside = [...nommu(m).rewritten].filter((a) => !m.image.segments.some((s) => a >= s.start && a < s.end));
    expect(outside.length).toBeGreaterThan(0); // the site in the mmap'd page
  });

  it('warns in the kernel log when a syscall leaves interrupts disabled', () => {
    const m = machine('entry-probe', { entry: 'nommu' });
    const k = m.kernel!;
    m.blocks.setProbe(k.sym('syscall_return_slowpath'), () => m.mem.poke(k.sym('signals_enabled'), new Uint8Array(4)));
    m.runToEnd();
    expect(m.kernelLog.some((l) => /^WARNING: syscall \d+ left IRQs disabled$/.test(l))).toBe(true);
  });
});

describe('native entry (entry_SYSCALL_64)', () => {
  it('a plain syscall returns with sysretq, through all six checks', () => {
    const m = machine('entry-probe', { entry: 'native' });
    runTo(m, WRITE_SITE);
    expect(m.cpu.cpl).toBe(3);
    expect(m.cpu.seg[1]).toBe(0x33);
    m.run(1, WRITE_SITE);
    expect(m.cpu.rip).toBe(m.kernel!.sym('entry_SYSCALL_64'));
    expect(m.cpu.cpl).toBe(0);
    expect(m.cpu.seg[1]).toBe(0x10);
    expect(m.cpu.getFlags() & IF).toBe(0); // FMASK cleared IF
    const seen = stepTo(m, AFTER_WRITE);
    for (const l of ['entry_SYSCALL_64', 'do_syscall_64', 'sysret_check_rcx_eq_rip', 'sysret_check_canonical_rip', 'sysret_check_cs', 'sysret_check_r11_eq_flags', 'sysret_check_rf_tf', 'sysret_check_ss', 'syscall_return_via_sysret', 'entry_SYSRETQ_unsafe_stack'])
      expect(seen).toContain(l);
    expect(seen).not.toContain('swapgs_restore_regs_and_return_to_usermode');
    expect(m.cpu.cpl).toBe(3);
    expect(m.cpu.seg[1]).toBe(0x33);
    expect(m.cpu.seg[2]).toBe(0x2b);
  });

  // Each condition violated in turn, by editing pt_regs when do_syscall_64 has returned
  // (as a ptracer could at the syscall-exit stop); the failing check sends it to IRET.
  const conditions: [string, string, (pt: DataView) => void][] = [
    ['RCX != RIP', 'sysret_check_rcx_eq_rip', (pt) => pt.setBigInt64(PT.cx, pt.getBigInt64(PT.cx, true) + 1n, true)],
    ['non-canonical RIP', 'sysret_check_canonical_rip', (pt) => (pt.setBigInt64(PT.cx, 0x800000000000n, true), pt.setBigInt64(PT.ip, 0x800000000000n, true))],
    ['CS changed', 'sysret_check_cs', (pt) => pt.setBigInt64(PT.cs, 0x23n, true)],
    ['R11 != RFLAGS', 'sysret_check_r11_eq_flags', (pt) => pt.setBigInt64(PT.r11, pt.getBigInt64(PT.r11, true) ^ 1n, true)],
    ['RF set', 'sysret_check_rf_tf', (pt) => (pt.setBigInt64(PT.r11, pt.getBigInt64(PT.r11, true) | 0x10000n, true), pt.setBigInt64(PT.flags, pt.getBigInt64(PT.flags, true) | 0x10000n, true))],
    ['TF set', 'sysret_check_rf_tf', (pt) => (pt.setBigInt64(PT.r11, pt.getBigInt64(PT.r11, true) | 0x100n, true), pt.setBigInt64(PT.flags, pt.getBigInt64(PT.flags, true) | 0x100n, true))],
    ['SS changed', 'sysret_check_ss', (pt) => pt.setBigInt64(PT.ss, 0x23n, true)],
  ];
  for (const [name, check, edit] of conditions) {
    it(`${name}: iretq instead of sysretq (fails at ${check})`, () => {
      const m = machine('entry-probe', { entry: 'native' });
      runTo(m, WRITE_SITE);
      const k = m.kernel!;
      m.blocks.setProbe(k.sym('sysret_check_rcx_eq_rip'), () => {
        editPtRegsAtRsp(m, edit);
        m.blocks.setProbe(k.sym('sysret_check_rcx_eq_rip'), null);
      });
      const seen = stepTo(m, AFTER_WRITE);
      const iret = seen.indexOf('swapgs_restore_regs_and_return_to_usermode');
      expect(iret).toBeGreaterThan(0);
      expect(seen[iret - 1]).toBe(check);
      expect(seen).not.toContain('syscall_return_via_sysret');
    });
  }

  it('kernel pages are supervisor-only: a user read is SIGSEGV at that address', () => {
    const m = machine('entry-probe', { entry: 'native' });
    runTo(m, WRITE_SITE);
    const target = m.kernel!.sym('sys_call_table');
    m.mem.poke(WRITE_SITE, Uint8Array.of(0x48, 0x8b, 0x00)); // mov (%rax),%rax
    m.cpu.setNum(RAX, target);
    const ev = m.runToEnd();
    expect(ev).toMatchObject({ kind: 'killed', signal: 11, addr: target });
    // while the debugger (like ptrace) still reads it
    const b = new Uint8Array(8);
    expect(m.mem.peek(target, b)).toBe(8);
  });

  it('a signal return leaves RCX != RIP, so rt_sigreturn goes back with iretq', () => {
    const m = machine('signal-musl', { entry: 'native' });
    const k = m.kernel!;
    let iretAfterSigreturn = 0;
    m.blocks.setProbe(k.sym('native_irq_return_iret'), (cpu) => {
      const b = new Uint8Array(8);
      m.mem.peek(cpu.getNum(RSP) - 8, b); // orig_ax sits just below the IRET frame
      if (new DataView(b.buffer).getBigInt64(0, true) === 15n) iretAfterSigreturn++;
    });
    expect(m.runToEnd()).toEqual({ kind: 'exited', code: 0, tid: m.leader.pid });
    expect(iretAfterSigreturn).toBeGreaterThan(0);
  });

  it('sysretq with a non-canonical RCX faults in kernel mode (why check 2 exists)', () => {
    const m = machine('entry-probe', { entry: 'native' });
    runTo(m, WRITE_SITE);
    const k = m.kernel!;
    // skip the checks: jump straight to the SYSRET exit with a non-canonical user RIP
    m.blocks.setProbe(k.sym('sysret_check_rcx_eq_rip'), (cpu) => {
      let flags = 0;
      editPtRegsAtRsp(m, (pt) => {
        pt.setBigInt64(PT.cx, 0x800000000000n, true);
        pt.setBigInt64(PT.ip, 0x800000000000n, true);
        flags = pt.getInt32(PT.flags, true);
      });
      cpu.setNum(RCX, 0x800000000000);
      cpu.set64(11, flags, 0);
      cpu.rip = k.sym('syscall_return_via_sysret');
    });
    const ev = m.runToEnd();
    expect(ev.kind).toBe('killed');
    expect((ev as { message: string }).message).toMatch(/kernel oops: general protection fault .*sysretq with non-canonical RCX 0x800000000000.* in entry_SYSRETQ_unsafe_stack/);
    expect(m.kernelLog.some((l) => /^Oops: general protection fault .* in entry_SYSRETQ_unsafe_stack/.test(l))).toBe(true);
  });
});

describe('exec and the syscall table', () => {
  // the guest kernels live in the top 2 GiB, where no user program can be linked
  it("a program linked at 0x60000000 (UML's own load address) runs in every model", () => {
    for (const cfg of ALL_CONFIGS) {
      const r = spawnSync(process.execPath, [CLI, 'run', ...cfg, BIN('entry-probe-at-kernel')], { encoding: 'utf8' });
      expect(r.stdout, cfg.join(' ')).toBe('hi\n');
      expect(r.status, cfg.join(' ')).toBe(0);
    }
  });

  // Linux answers -ENOSYS for nr >= NR_syscalls; in zpoline such a number lands inside the
  // trampoline's own code, at the end of its page, or beyond it, and must get the same
  for (const cfg of ALL_CONFIGS) {
    it(`numbers past the table, in the trampoline's code or beyond its page, or negative: -ENOSYS (${cfg.join(' ')})`, () => {
      const r = spawnSync(process.execPath, [CLI, 'run', ...cfg, BIN('syscall-numbers')], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('ok\n');
      expect(r.status).toBe(0);
    });
  }

  // The address ranges a model keeps: the zpoline page cannot be mapped over, unmapped or
  // reprotected by the program (EPERM as for mmap_min_addr; munmap passes over it as over a
  // hole; mprotect finds nothing there); the guest kernel's range answers as Linux does for
  // kernel addresses, which the native run shows.
  for (const cfg of ALL_CONFIGS) {
    it(`the program cannot take the model's own ranges (${cfg.join(' ')})`, () => {
      const r = spawnSync(process.execPath, [CLI, 'run', ...cfg, BIN('kernel-ranges-musl')], { encoding: 'utf8' });
      const native = spawnSync(BIN('kernel-ranges-musl'), { encoding: 'utf8' });
      const zpolinePage = cfg.includes('zpoline') || cfg.includes('lazy');
      const lines = r.stdout.split('\n');
      const nativeLines = native.stdout.split('\n');
      expect(r.status).toBe(0);
      if (zpolinePage) expect(lines.slice(0, 3)).toEqual(['mmap(0, MAP_FIXED) = Operation not permitted', 'mprotect(0) = Out of memory', 'munmap(0) = 0']);
      else expect(lines.slice(0, 3)).toEqual(nativeLines.slice(0, 3));
      expect(lines.slice(3)).toEqual(nativeLines.slice(3));
    });
  }

  for (const cfg of ALL_CONFIGS.filter((c) => !c.includes('direct'))) {
    it(`a number beyond the table returns -ENOSYS through the path (${cfg.join(' ')})`, () => {
      const r = spawnSync(process.execPath, [CLI, 'run', ...cfg, BIN('entry-probe')], { encoding: 'utf8' });
      expect(r.stdout).toBe('hi\n');
      expect(r.status).toBe(0);
    });
  }

  it('--stats counts syscalls and the instructions of their path', () => {
    const run = (cfg: string[]) => spawnSync(process.execPath, [CLI, 'run', '--stats', ...cfg, BIN('entry-probe')], { encoding: 'utf8' }).stderr;
    const perCall = (out: string, name: string) => Number(new RegExp(`\\s${name}\\s+(\\d+)\\s+([\\d.]+)`).exec(out)![2]);
    const direct = run(['--entry', 'direct']);
    const nommu = run(['--entry', 'nommu']);
    const native = run(['--entry', 'native']);
    expect(perCall(direct, 'write')).toBe(1);
    expect(perCall(nommu, 'write')).toBeGreaterThan(100);
    expect(perCall(native, 'write')).toBeGreaterThan(50);
    expect(nommu).toMatch(/zpoline: \d+ sites rewritten/);
  });

  it('the committed guest kernel images were built from the current sources', () => {
    for (const model of ['nommu', 'native'] as const) {
      const img = readSymbols(new Uint8Array(fs.readFileSync(imagePath(model))));
      expect(img.srcHash, `src/guest/image/kernel-${model}.elf is stale: run npm run build:guest`).toBe(sourceHash());
    }
  });

  // A stamp can be kept by a hand-patched image: rebuild the whole guest tree in
  // another directory and require every output to be byte-identical (the build
  // records no path of its own: see COMP_DIR_PLACEHOLDER in build.mjs).
  it.skipIf(!HAVE_TOOLCHAIN)('rebuilding the guest elsewhere gives byte-identical images and generated files', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-rebuild-'));
    try {
      fs.mkdirSync(path.join(tmp, 'src'), { recursive: true });
      fs.cpSync(path.join(ROOT, 'src', 'guest'), path.join(tmp, 'src', 'guest'), { recursive: true });
      const r = spawnSync(process.execPath, [path.join(tmp, 'src', 'guest', 'build.mjs')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const outputs = ['image/kernel-nommu.elf', 'image/kernel-native.elf', 'generated/abi.ts', 'generated/asm-offsets.h', 'generated/syscalls_64.h', 'generated/syscall_table.S'];
      for (const f of outputs) expect(Buffer.compare(fs.readFileSync(path.join(tmp, 'src', 'guest', f)), fs.readFileSync(path.join(ROOT, 'src', 'guest', f))), f).toBe(0);
      expect(fs.readFileSync(path.join(tmp, 'gdb-scripts', 'entrystub_abi.py'), 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'gdb-scripts', 'entrystub_abi.py'), 'utf8'));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
