/**
 * GuestProcess (port.ts) over the Machine and its Process: the only module
 * of src/gdb that imports src/machine, src/kernel or src/cpu. Everything
 * here translates: CPU fields to PTRACE_GETREGS's struct, Machine stop
 * events to GuestEvents, kernel file objects to GuestFiles with errnos.
 */
import * as fs from 'node:fs';
import { Machine, type MachineOptions, type StopEvent } from '../../machine/machine.js';
import { formatStats } from '../../machine/stats.js';
import { PAGE_SIZE, WATCH_READ as MEM_WATCH_READ, WATCH_WRITE as MEM_WATCH_WRITE } from '../../cpu/memory.js';
import { fxrstorFrom, fxsaveTo } from '../../cpu/ops/sse.js';
import { errnoFromNode, SysError } from '../../kernel/errno.js';
import type { OpenFile } from '../../kernel/fdtable.js';
import { ExecError, explainExecError, parseElf } from '../../kernel/loader.js';
import { AT_FDCWD, fileRead, fileStat, guestNorm, O_RDONLY, openFile, resolveAt, specialPath, type KStat } from '../../kernel/sys/files.js';
import { syscallName } from '../../kernel/sysnames.js';
import { getS64, getU32, putU32, putU64 } from '../hex.js';
import {
  USER_REGS,
  WATCH_READ,
  WATCH_WRITE,
  type GuestEvent,
  type GuestFile,
  type GuestProcess,
  type GuestStat,
} from './port.js';

/** Opcodes (one-byte map) that access the stack with 8-byte operands. */
const STACK_OPS = new Set([0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f, 0x68, 0x6a, 0x8f, 0x9c, 0x9d, 0xc2, 0xc3, 0xc8, 0xc9, 0xe8, 0xff]);
/** user_regs_struct slot of each CPU register (rax rcx rdx rbx rsp rbp rsi rdi r8..r15). */
const SLOT_OF_CPU: number[] = [
  USER_REGS.rax, USER_REGS.rcx, USER_REGS.rdx, USER_REGS.rbx, USER_REGS.rsp, USER_REGS.rbp, USER_REGS.rsi, USER_REGS.rdi,
  USER_REGS.r8, USER_REGS.r9, USER_REGS.r10, USER_REGS.r11, USER_REGS.r12, USER_REGS.r13, USER_REGS.r14, USER_REGS.r15,
];
/** cpu.seg order (es cs ss ds fs gs) -> user_regs_struct slot. */
const SLOT_OF_SEG = [USER_REGS.es, USER_REGS.cs, USER_REGS.ss, USER_REGS.ds, USER_REGS.fs, USER_REGS.gs];
/** user_regs_struct slot -> CPU register (-1: not a general register), and -> cpu.seg index. */
const CPU_OF_SLOT: number[] = Array.from({ length: 27 }, (_, slot) => SLOT_OF_CPU.indexOf(slot));
const SEG_OF_SLOT: Record<number, number> = Object.fromEntries(SLOT_OF_SEG.map((slot, k) => [slot, k]));
/** The MXCSR bits fxrstor accepts (the CPU's MXCSR_MASK). */
const MXCSR_MASK = 0xffff;

/** What starting a process needs: the Machine's options, in the adapter's own words. */
export type SpawnOptions = MachineOptions;

/** A program that cannot be run: the one-line message says why and what to do. */
export class LaunchError extends Error {}

/** Create and load a Machine for the debugger (throws LaunchError for a program that cannot run). */
export function spawnGuest(opts: SpawnOptions): GuestProcess {
  const m = new Machine(opts);
  try {
    m.load();
  } catch (e) {
    if (e instanceof ExecError) throw new LaunchError(explainExecError(e));
    throw e;
  }
  return adoptMachine(m, opts.program);
}

/** A loaded Machine as a process under the debugger (the program's host path, for its headers). */
export function adoptMachine(m: Machine, programHostPath: string): GuestProcess {
  // a syscall that would sleep stops the machine instead of the stub (the interrupt byte is still read)
  m.proc.cooperative = true;
  m.stopOnSignals = true;
  return new MachinePort(m, programHostPath);
}

class MachinePort implements GuestProcess {
  readonly pid: number;
  private readonly counts = new Map<number, number>();
  private readonly fxbuf = new Uint8Array(512);

  constructor(
    private readonly m: Machine,
    programHostPath: string,
  ) {
    this.pid = m.proc.pid;
    const prev = m.proc.afterSyscall;
    m.proc.afterSyscall = (nr, a, ret) => {
      this.counts.set(nr, (this.counts.get(nr) ?? 0) + 1);
      prev?.(nr, a, ret);
    };
    this.regs = this.regsPort();
    this.mem = this.memPort();
    this.exec = this.execPort();
    this.files = this.filesPort();
    this.kernel = this.kernelPort();
    this.image = {
      exePath: m.proc.exePath,
      interp: readInterp(programHostPath),
      loadBias: m.image.bias,
      auxv: readInitialAuxv(m),
      kernelImage: m.kernel ? kernelImageOf(m.entry, m.kernel.path) : null,
    };
  }

  readonly image: GuestProcess['image'];
  readonly regs: GuestProcess['regs'];
  readonly mem: GuestProcess['mem'];
  readonly exec: GuestProcess['exec'];
  readonly files: GuestProcess['files'];
  readonly kernel: GuestProcess['kernel'];

  tasks(): { tid: number; name: string }[] {
    return this.m.ended ? [] : [{ tid: this.m.proc.tid, name: this.m.proc.comm }];
  }

  dispose(): void {
    this.m.proc.fds.closeAll();
  }

  // ---------------------------------------------------------------- registers

  private regsPort(): GuestProcess['regs'] {
    const m = this.m;
    const cpu = m.cpu;
    const peek = (slot: number, out: Uint8Array, off: number): void => {
      const r = CPU_OF_SLOT[slot];
      if (r >= 0) {
        putU32(out, off, cpu.rl[r]);
        putU32(out, off + 4, cpu.rh[r]);
        return;
      }
      switch (slot) {
        case USER_REGS.rip:
          return putU64(out, off, cpu.rip);
        case USER_REGS.eflags:
          return putU64(out, off, cpu.getFlags());
        case USER_REGS.orig_rax:
          return putU64(out, off, m.origRax);
        case USER_REGS.fs_base:
          return putU64(out, off, cpu.fsBase);
        case USER_REGS.gs_base:
          return putU64(out, off, cpu.gsBase);
      }
      putU64(out, off, cpu.seg[SEG_OF_SLOT[slot]] ?? 0);
    };
    return {
      getRegs: (out) => {
        for (let slot = 0; slot < 27; slot++) peek(slot, out, slot * 8);
      },
      peekUser: (slot, out, off) => peek(slot, out, off),
      setRegs: (b) => {
        const cpu = m.cpu;
        for (let r = 0; r < 16; r++) {
          const o = SLOT_OF_CPU[r] * 8;
          cpu.rl[r] = getU32(b, o) | 0;
          cpu.rh[r] = getU32(b, o + 4) | 0;
        }
        cpu.rip = getS64(b, USER_REGS.rip * 8);
        cpu.setFlags(getU32(b, USER_REGS.eflags * 8));
        m.origRax = getS64(b, USER_REGS.orig_rax * 8);
        cpu.fsBase = getS64(b, USER_REGS.fs_base * 8);
        cpu.gsBase = getS64(b, USER_REGS.gs_base * 8);
        for (let k = 0; k < 6; k++) cpu.seg[k] = getU32(b, SLOT_OF_SEG[k] * 8) & 0xffff;
      },
      getFpRegs: (out) => fxsaveTo(m.cpu, out),
      setFpRegs: (data) => {
        // fxrstor faults on reserved MXCSR bits; a debugger's write just drops them (as ptrace does)
        const img = this.fxbuf;
        img.set(data.subarray(0, 512));
        putU32(img, 24, getU32(img, 24) & MXCSR_MASK);
        fxrstorFrom(m.cpu, img);
      },
      pc: () => m.cpu.rip,
      setPc: (pc) => {
        m.cpu.rip = pc;
      },
    };
  }

  // ---------------------------------------------------------------- memory

  private memPort(): GuestProcess['mem'] {
    const m = this.m;
    return {
      peek: (addr, out) => m.mem.peek(addr, out),
      poke: (addr, data) => {
        const mem = m.mem;
        if (data.length === 0) return true;
        for (let a = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE; a < addr + data.length; a += PAGE_SIZE) if (!mem.isMapped(a)) return false;
        return mem.poke(addr, data) === data.length;
      },
    };
  }

  // ---------------------------------------------------------------- execution

  private execPort(): GuestProcess['exec'] {
    const m = this.m;
    return {
      run: (budget, resumeFrom) => eventOf(m.run(budget, resumeFrom)),
      resumeSignal: (sig) => m.resumeSignal(sig),
      kill: () => {
        const m = this.m;
        if (!m.ended) m.ended = { reason: 'signaled', signal: 9, message: 'killed by the debugger' };
        m.proc.fds.closeAll();
      },
      ended: () => m.ended !== null,
      catchSyscalls: (which) => {
        m.catchSyscalls = which === null || which === 'all' ? which : new Set(which);
      },
      stopOnSignals: (on, pass) => {
        m.stopOnSignals = on;
        m.passSignals = pass;
      },
      setBreakpoints: (addrs) => m.blocks.setBreakpoints(addrs),
      watch: (pages, hit) => {
        if (pages === null) {
          m.mem.setWatch(null);
          m.blocks.setMaxBlock();
          return;
        }
        const bits = new Map<number, number>();
        for (const [pn, w] of pages) bits.set(pn, (w & WATCH_READ ? MEM_WATCH_READ : 0) | (w & WATCH_WRITE ? MEM_WATCH_WRITE : 0));
        m.mem.setWatch({ pages: bits, hit });
        // one instruction per block: a hit stops right after its instruction
        m.blocks.setMaxBlock(1);
      },
      requestStop: () => {
        m.cpu.stopRequested = true;
      },
      accessLength: () => {
        // Memory reports only where an access starts: judge its extent from the instruction
        const cpu = m.cpu;
        if (cpu.rip === cpu.nextRip) return PAGE_SIZE; // inside a syscall or signal delivery: the kernel's copies
        let i;
        try {
          i = m.blocks.insnAt(cpu.rip);
        } catch {
          return 8;
        }
        if (i.rep) return PAGE_SIZE;
        if (i.opc >= 0x100) return 16;
        if (STACK_OPS.has(i.opc)) return 8;
        return i.size;
      },
      insnsWithin: (start, end) => {
        const rip = m.cpu.rip;
        if (rip < start || rip >= end) return 1;
        try {
          const b = m.blocks.get(rip);
          return b.insns[b.insns.length - 1].addr < end ? b.insns.length : 1;
        } catch {
          return 1; // the fetch faults: let run() report it
        }
      },
      icount: () => m.cpu.icount,
    };
  }

  // ---------------------------------------------------------------- files

  private filesPort(): GuestProcess['files'] {
    const m = this.m;
    return {
      normalize: (path) => {
        try {
          return guestNorm(m.proc, AT_FDCWD, path);
        } catch {
          return path;
        }
      },
      get confined() {
        return m.proc.vfs.confined;
      },
      isOwnProc: (path) => {
        const p = m.proc;
        try {
          const norm = guestNorm(p, AT_FDCWD, path);
          return norm.startsWith('/proc/') && specialPath(p, norm)?.type === 'synth';
        } catch {
          return false;
        }
      },
      open: (path) => {
        const proc = m.proc;
        let f: OpenFile;
        try {
          f = openFile(proc, AT_FDCWD, path, O_RDONLY, 0);
        } catch (e) {
          return -errnoOf(e);
        }
        return openFileOf(this.m, f);
      },
      readlink: (path) => {
        const p = m.proc;
        try {
          const sp = specialPath(p, guestNorm(p, AT_FDCWD, path));
          if (sp?.type === 'exe') return p.exePath;
          if (sp?.type === 'cwd') return p.cwd;
          if (sp?.type === 'fd') return p.fds.file(sp.fd).guestPath;
          if (sp) return -22; // EINVAL: not a link
          return fs.readlinkSync(resolveAt(p, AT_FDCWD, path, false).host, 'utf8');
        } catch (e) {
          return -errnoOf(e);
        }
      },
    };
  }

  // ---------------------------------------------------------------- entry-path facts

  private kernelPort(): GuestProcess['kernel'] {
    const m = this.m;
    return {
      get entry() {
        return m.entry;
      },
      get hook() {
        return m.hook;
      },
      inUserCode: () => m.inUserCode(),
      ptregsAddr: () => m.ptregsAddr(),
      syscallName: (nr) => syscallName(nr),
      syscallCounts: () => this.counts,
      statsTable: () => (m.opts.stats ? formatStats(this.m).trimEnd() : null),
    };
  }
}

function eventOf(ev: StopEvent | null): GuestEvent | null {
  if (!ev) return null;
  switch (ev.reason) {
    case 'exited':
      return { kind: 'exited', code: ev.code };
    case 'signaled':
      return { kind: 'killed', signal: ev.signal };
    case 'breakpoint':
      return { kind: 'breakpoint', addr: ev.addr };
    case 'syscall-entry':
      return { kind: 'syscall-entry', nr: ev.nr };
    case 'syscall-return':
      return { kind: 'syscall-return', nr: ev.nr };
    case 'signal':
      return { kind: 'signal', info: { ...ev.info } };
    case 'blocked':
      return { kind: 'blocked', ms: ev.ms };
    case 'budget':
      return null;
  }
}

/** The program's PT_INTERP, if its file has one (read from its headers only: the file may be large). */
function readInterp(hostPath: string): string | null {
  let fd = -1;
  try {
    fd = fs.openSync(hostPath, 'r');
    const read = (off: number, len: number) => {
      const b = Buffer.alloc(len);
      return b.subarray(0, fs.readSync(fd, b, 0, len, off));
    };
    const eh = read(0, 64);
    if (eh.length < 64) return null;
    const headersEnd = Number(eh.readBigUInt64LE(32)) + eh.readUInt16LE(56) * 56;
    if (headersEnd > 1 << 20) return null;
    const p = parseElf(read(0, headersEnd), hostPath).phdrs.find((h) => h.type === 3 /* PT_INTERP */);
    if (!p || p.filesz > 4096) return null;
    return read(p.offset, p.filesz).toString('latin1').replace(/\0.*$/s, '');
  } catch {
    return null;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** The auxv words from the initial stack (argc, argv..., 0, envp..., 0, auxv...): read once, before the program can change them. */
function readInitialAuxv(m: Machine): Uint8Array {
  const word = (a: number): number => {
    const b = new Uint8Array(8);
    return m.mem.peek(a, b) === 8 ? getS64(b, 0) : 0;
  };
  let p = m.cpu.getNum(4); // rsp
  const argc = word(p);
  p += 8 * (argc + 2);
  let guard = 0;
  while (word(p) !== 0 && guard++ < 100_000) p += 8;
  p += 8;
  const start = p;
  for (guard = 0; guard < 256; guard++, p += 16) if (word(p) === 0) break;
  const out = new Uint8Array(p + 16 - start);
  m.mem.peek(start, out);
  return out;
}

function errnoOf(e: unknown): number {
  return e instanceof SysError ? e.errno : errnoFromNode(e);
}

function statOf(st: KStat): GuestStat {
  const n = (v: bigint) => Number(v);
  const s = (ns: bigint) => Number(ns / 1000000000n);
  return {
    dev: n(st.dev), ino: n(st.ino), mode: n(st.mode), nlink: n(st.nlink), uid: n(st.uid), gid: n(st.gid), rdev: n(st.rdev),
    size: n(st.size), blksize: n(st.blksize), blocks: n(st.blocks), atime: s(st.atimeNs), mtime: s(st.mtimeNs), ctime: s(st.ctimeNs),
  };
}

/** A file the process opened, read with the kernel's own read. */
function openFileOf(m: Machine, f: OpenFile): GuestFile {
  const proc = m.proc;
  return {
    pread: (count, offset) => {
      if (offset < 0 || count < 0) return -22;
      try {
        return fileRead(proc, f, count, offset);
      } catch (e) {
        return -errnoOf(e);
      }
    },
    fstat: () => {
      try {
        return statOf(fileStat(proc, f));
      } catch (e) {
        return -errnoOf(e);
      }
    },
    close: () => f.release(),
  };
}

/** The committed guest kernel image, served under a name of its own (outside the guest's file system). */
function kernelImageOf(entry: string, hostPath: string): GuestProcess['image']['kernelImage'] {
  return {
    name: `/entrystub/guest/kernel-${entry}.elf`,
    open: (): GuestFile | number => {
      let fd: number;
      try {
        fd = fs.openSync(hostPath, 'r');
      } catch (e) {
        return -errnoOf(e);
      }
      let open = true;
      return {
        pread: (count, offset) => {
          if (!open) return -9;
          if (offset < 0 || count < 0) return -22;
          const b = new Uint8Array(Math.min(count, 1 << 20));
          try {
            return b.subarray(0, fs.readSync(fd, b, 0, b.length, offset));
          } catch (e) {
            return -errnoOf(e);
          }
        },
        fstat: () => {
          try {
            const st = fs.fstatSync(fd, { bigint: true });
            return statOf(st);
          } catch (e) {
            return -errnoOf(e);
          }
        },
        close: () => {
          if (open) fs.closeSync(fd);
          open = false;
        },
      };
    },
  };
}
