/**
 * The target's capability modules over a real Machine (no sockets, no gdb):
 * debugger memory access through page permissions, registers in the
 * amd64-linux layout (from ptrace's two register sets), orig_rax, watchpoint
 * hits after their instruction, breakpoints that stop before it, the auxv,
 * the library list, the x87 tag word, and what vFile may open.
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MachineTarget, spawnGuest } from '../../dist/gdb/target/index.js';
import { adoptMachine } from '../../dist/gdb/target/machine-port.js';
import { abridgedTag, fullTag } from '../../dist/gdb/target/registers.js';
import { librariesSvr4Xml } from '../../dist/gdb/commands/xfer.js';
import { Machine } from '../../dist/machine/machine.js';
import { PROT_EXEC, PROT_READ } from '../../dist/cpu/memory.js';
import type { StopReason } from '../../dist/gdb/target.js';
import { BIN, GDBDEMO, ROOT, EXAMPLE } from './helpers.js';
import { need } from '../helpers/tools.js';

// the images' own symbol tables, and a program built here with separate debug info
const HAVE_BINUTILS = need('nm', 'gcc', 'objcopy', 'readelf') !== null;

const opts = (args: string[], extra: Record<string, unknown> = {}) => ({
  program: GDBDEMO,
  argv: ['gdbdemo', ...args],
  env: [],
  stdout: 2,
  warn: () => {},
  ...extra,
});

function launch(...args: string[]): MachineTarget {
  const t = new MachineTarget({ launch: () => spawnGuest(opts(args)), extended: false });
  t.start(['']);
  return t;
}

const COUNTER = 0x404028; // nm gdbdemo: counter
const ADD = 0x401139; // nm gdbdemo: add

function runToStop(t: MachineTarget, kind: 'continue' | 'step' = 'continue'): StopReason {
  t.execution.resume({ kind, signal: 0 });
  for (;;) {
    const r = t.execution.poll(100_000);
    if (r) return r;
  }
}

const reg64 = (b: Uint8Array | null) => Buffer.from(b!).readBigInt64LE();

describe('the target over a Machine', () => {
  it.skipIf(!HAVE_BINUTILS)('monitor trip: the syscall in progress, how it entered, the SYSRET check that sent it to IRET', () => {
    const example = (entry: string): MachineTarget => {
      const t = new MachineTarget({ launch: () => spawnGuest({ ...opts([]), program: EXAMPLE, argv: ['example-musl'], entry }), extended: false });
      t.start(['']);
      return t;
    };
    const trip = (t: MachineTarget) => t.monitor!.commands.find((c) => c.name === 'trip')!.run('');

    expect(trip(example('direct'))).toMatch(/^no entry path: in the direct entry model/);

    // nommu/zpoline: the write's `call *%rax` at 0x404c47 lands at offset 1 of the sled
    const z = example('nommu');
    expect(trip(z)).toMatch(/^no trip in progress/);
    z.execution.catchSyscalls.setCatch(new Set([1]));
    expect(runToStop(z)).toEqual({ kind: 'syscall-entry', nr: 1, tid: 1000 });
    expect(trip(z)).toBe('trip in progress: syscall 1 (write)\n  entered by: call *%rax at 0x404c47 → sled +1\n  instructions since: 1\n');
    expect(runToStop(z)).toEqual({ kind: 'syscall-return', nr: 1, tid: 1000 });
    expect(trip(z)).toMatch(/^no trip in progress/);

    // native: kill's signal rewrites pt_regs->ip, so check 1 is the last reached before the IRET path
    const n = example('native');
    // the IRET path's address from the image's own symbol table (as a signed number, as the target takes addresses)
    const nm = spawnSync('nm', [path.join(ROOT, 'src/guest/image/kernel-native.elf')], { encoding: 'utf8' }).stdout;
    const iretAddr = Number(BigInt.asIntN(64, BigInt('0x' + /^([0-9a-f]+) T swapgs_restore_regs_and_return_to_usermode$/m.exec(nm)![1])));
    n.breakpoints.addSw(iretAddr);
    // SIGUSR1 stops the program where the guest kernel delivers it; pass it on, as gdb does
    n.execution.resume({ kind: 'continue', signal: 0 });
    let r = n.execution.poll(100_000);
    while (r === null || r.kind === 'signal') {
      if (r !== null) n.execution.resume({ kind: 'continue', signal: r.signal });
      r = n.execution.poll(100_000);
    }
    expect(r).toEqual({ kind: 'swbreak', addr: iretAddr, tid: 1000 });
    expect(trip(n)).toMatch(/^trip in progress: syscall 62 \(kill\)\n  entered by: syscall at 0x40154f → CPL 3 → 0 through MSR_LSTAR\n/);
    expect(trip(n)).toMatch(/\n  last SYSRET check reached: check 1 of 6, sysret_check_rcx_eq_rip: RCX slot == RIP slot\n$/);
  });

  it('reads and writes supervisor and execute-only pages the guest cannot touch', () => {
    const m = new Machine(opts([]));
    m.load();
    m.mem.map(0x10000000, 0x1000, PROT_EXEC); // execute-only, supervisor (no PROT_USER)
    m.mem.map(0x10001000, 0x1000, PROT_READ); // supervisor read-only
    const t = new MachineTarget({ launch: () => adoptMachine(m), extended: false });
    t.start(['']);
    expect(t.memory.write(0x10000ffc, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]))).toBe(true);
    expect([...t.memory.read(0x10000ffc, 8)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // the guest's own access still faults
    expect(() => m.mem.read8(0x10000ffc)).toThrow();
    // unmapped: partial read, all-or-nothing write
    expect(t.memory.read(0x10001ffc, 8)).toHaveLength(4);
    expect(t.memory.write(0x10001ffc, new Uint8Array(8))).toBe(false);
    expect([...t.memory.read(0x10001ffc, 4)]).toEqual([0, 0, 0, 0]);
  });

  it('registers: g layout of 560 bytes, round trip, orig_rax -1 outside a syscall, kernel-style addresses', () => {
    const t = launch();
    const g = t.registers.readAll();
    expect(g).toHaveLength(560);
    expect(Buffer.from(g.subarray(128, 136)).readBigUInt64LE()).toBe(0x40102bn); // rip
    expect(Buffer.from(g.subarray(536, 544)).readBigInt64LE()).toBe(-1n); // orig_rax
    expect(Buffer.from(g.subarray(140, 144)).readUInt32LE()).toBe(0x33); // cs
    g[8] = 0x77; // rbx
    g.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 544); // fs_base = -1 (kernel-style address)
    t.registers.writeAll(g);
    expect(Buffer.from(t.registers.read(1)!).readBigInt64LE()).toBe(0x77n);
    expect(reg64(t.registers.read(58))).toBe(-1n);
    expect(t.registers.readAll()).toEqual(g);
    // rip in the native kernel's half: written and read back exactly, no BigInt needed
    const rip = Buffer.alloc(8);
    rip.writeBigUInt64LE(0xffffffff810000f9n);
    expect(t.registers.write(16, rip)).toBe(true);
    expect(Buffer.from(t.registers.read(16)!).readBigUInt64LE()).toBe(0xffffffff810000f9n);
    expect(t.registers.write(16, new Uint8Array(4))).toBe(false); // wrong size
    expect(t.registers.read(60)).toBeNull();
  });

  it('x87 and SSE registers go through the fxsave image: st0, fctrl, the full tag word, xmm, mxcsr', () => {
    const t = launch();
    // 1.5 as an 80-bit value into st0, with the tag saying st0 (physical 7 after one push) is valid
    const st0 = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0x3f]);
    const fstat = Buffer.alloc(4);
    fstat.writeUInt32LE(7 << 11); // top = 7
    expect(t.registers.write(33, fstat)).toBe(true);
    expect(t.registers.write(24, st0)).toBe(true);
    const ftag = Buffer.alloc(4);
    ftag.writeUInt32LE(0x3fff); // physical 7 valid (00), the rest empty (11)
    expect(t.registers.write(34, ftag)).toBe(true);
    expect([...t.registers.read(24)!]).toEqual([...st0]);
    expect(Buffer.from(t.registers.read(34)!).readUInt32LE()).toBe(0x3fff);
    expect(Buffer.from(t.registers.read(32)!).readUInt32LE()).toBe(0x37f); // fctrl after exec
    const x = Buffer.from([...Array(16).keys()]);
    expect(t.registers.write(40 + 15, x)).toBe(true);
    expect([...t.registers.read(55)!]).toEqual([...x]);
    expect(Buffer.from(t.registers.read(56)!).readUInt32LE()).toBe(0x1f80); // mxcsr
  });

  it('the full tag word is classified from the contents, as gdb does (valid, zero, special, empty)', () => {
    const fx = new Uint8Array(512);
    fx[3] = 0; // top 0: st(i) is physical i
    fx[4] = 0b1111; // physical 0-3 in use
    fx.set([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f], 32); // 1.0: valid
    // 48: all zero: zero
    fx.set([0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0x7f], 64); // NaN: special
    fx.set([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], 80); // denormal: special
    expect(fullTag(fx)).toBe(0b1111_1111_1010_0100);
    expect(abridgedTag(0b1111_1111_1010_0100)).toBe(0b1111);
  });

  it('catch syscall: orig_rax is the number from entry to return, then -1', () => {
    const t = launch();
    t.catchSyscalls.setCatch(new Set([1]));
    expect(runToStop(t)).toEqual({ kind: 'syscall-entry', nr: 1, tid: 1000 });
    expect(reg64(t.registers.read(57))).toBe(1n);
    expect(runToStop(t)).toEqual({ kind: 'syscall-return', nr: 1, tid: 1000 });
    expect(reg64(t.registers.read(57))).toBe(1n);
    t.catchSyscalls.setCatch(null);
    t.breakpoints.addSw(ADD);
    expect(runToStop(t)).toEqual({ kind: 'swbreak', addr: ADD, tid: 1000 });
    expect(reg64(t.registers.read(57))).toBe(-1n);
  });

  it('a write watchpoint stops right after the writing instruction; neighbours do not trigger it', () => {
    const t = launch('3');
    t.breakpoints.watch.add('watch', COUNTER, 8);
    t.breakpoints.watch.add('rwatch', COUNTER + 8, 8); // result, next to counter: written once, never read
    expect(runToStop(t)).toEqual({ kind: 'watch', type: 'watch', addr: COUNTER, tid: 1000 });
    // rip is after the store (mov %rax,counter(%rip)), at the i++ of the loop
    expect(reg64(t.registers.read(16))).toBe(0x4011c7n);
    expect(t.memory.read(COUNTER, 8)[0]).toBe(2);
    t.breakpoints.watch.remove('watch', COUNTER, 8);
    t.breakpoints.watch.remove('rwatch', COUNTER + 8, 8);
    expect(runToStop(t)).toEqual({ kind: 'exited', code: 3 });
    // the end is reported; then the target lets go of the process
    t.execution.release();
    expect(t.pid).toBeNull();
    expect(t.threads.list()).toEqual([]);
  });

  it('hardware and software breakpoints stop before the instruction; the stopped-at one is stepped over', () => {
    const t = launch();
    t.breakpoints.hw.add(ADD);
    expect(runToStop(t)).toEqual({ kind: 'hwbreak', addr: ADD, tid: 1000 });
    expect(reg64(t.registers.read(16))).toBe(BigInt(ADD));
    expect(runToStop(t, 'step')).toEqual({ kind: 'step' });
    expect(reg64(t.registers.read(16))).toBe(BigInt(ADD + 1));
  });

  it('auxv is the vector the program received; the thread has its comm', () => {
    const t = launch();
    const a = Buffer.from(t.auxv.auxv());
    const pairs = new Map<bigint, bigint>();
    for (let o = 0; o < a.length; o += 16) pairs.set(a.readBigUInt64LE(o), a.readBigUInt64LE(o + 8));
    expect(pairs.get(9n)).toBe(0x40102bn); // AT_ENTRY
    expect(pairs.get(6n)).toBe(4096n); // AT_PAGESZ
    expect(pairs.has(0n)).toBe(true); // AT_NULL ends it
    expect(t.threads.list()).toEqual([{ pid: 1000, tid: 1000, name: 'gdbdemo' }]);
  });

  it('the library list gdb 13 accepts (for the guest kernel image)', () => {
    expect(librariesSvr4Xml([{ name: '/boot/entrystub-kernel.elf', lAddr: 0 }])).toBe(
      '<library-list-svr4 version="1.0"><library name="/boot/entrystub-kernel.elf" lm="0x0" l_addr="0x0" l_ld="0x0" lmid="0x0"/></library-list-svr4>',
    );
  });
});

describe('vFile: what the target lets gdb open', () => {
  const open = (t: MachineTarget, p: string) => {
    const f = t.hostIo.open(p, 0, 0);
    if (typeof f !== 'number') f.close();
    return typeof f === 'number' ? f : 'ok';
  };

  it('by default: the program, the guest kernel image, its own /proc; not /etc/passwd, not a write', () => {
    const t = new MachineTarget({
      launch: () => spawnGuest(opts([], { entry: 'nommu' })),
      extended: false,
    });
    t.start(['']);
    expect(open(t, GDBDEMO)).toBe('ok');
    expect(open(t, '/entrystub/guest/kernel-nommu.elf')).toBe('ok');
    expect(open(t, '/proc/1000/maps')).toBe('ok');
    expect(open(t, '/proc/self/cmdline')).toBe('ok');
    expect(open(t, '/etc/passwd')).toBe(-13);
    expect(open(t, 'just probing')).toBe(-13);
    expect(open(t, EXAMPLE)).toBe(-13);
    expect(t.hostIo.open(GDBDEMO, 1 /* O_WRONLY */, 0)).toBe(-13);
    expect(t.hostIo.readlink('/proc/1000/exe')).toBe(GDBDEMO);
    expect(t.hostIo.readlink('/etc/alternatives/gdb')).toBe(-13);
  });

  it.skipIf(!HAVE_BINUTILS)('separate debug files of the program: by build-id and by .gnu_debuglink', () => {
    // a copy of a program with a build-id and a debuglink, in a directory of its own
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-dbg-'));
    try {
      const prog = path.join(dir, 'prog');
      const src = path.join(dir, 'p.c');
      fs.writeFileSync(src, 'int main(void) { return 0; }\n');
      run('gcc', ['-static', '-O0', '-g', '-Wl,--build-id=sha1', '-o', prog, src]);
      run('objcopy', ['--only-keep-debug', prog, prog + '.debug']);
      run('objcopy', ['--strip-debug', `--add-gnu-debuglink=${prog}.debug`, prog]);
      const id = /Build ID: ([0-9a-f]+)/.exec(run('readelf', ['-n', prog]))![1];
      const t = new MachineTarget({ launch: () => spawnGuest({ ...opts([]), program: prog, argv: [prog] }), extended: false });
      t.start(['']);
      expect(open(t, prog)).toBe('ok');
      expect(open(t, prog + '.debug')).toBe('ok');
      // allowed, but not there: the errno of the file system
      expect(open(t, `${dir}/.debug/prog.debug`)).toBe(-2);
      expect(open(t, `/usr/lib/debug/.build-id/${id.slice(0, 2)}/${id.slice(2)}.debug`)).toBe(-2);
      expect(open(t, `/usr/lib/debug${dir}/prog.debug`)).toBe(-2);
      // a neighbour is not
      expect(open(t, src)).toBe(-13);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with --root DIR, anything inside DIR', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-root-'));
    try {
      fs.copyFileSync(GDBDEMO, path.join(dir, 'gdbdemo'));
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello\n');
      const t = new MachineTarget({
        launch: () => spawnGuest({ ...opts([]), program: path.join(dir, 'gdbdemo'), root: dir }),
        kernelImage: false,
        extended: false,
      });
      t.start(['']);
      expect(open(t, '/notes.txt')).toBe('ok');
      expect(open(t, '/gdbdemo')).toBe('ok');
      expect(open(t, '/etc/passwd')).toBe(-2); // not in DIR
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
