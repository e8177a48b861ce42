/**
 * `entrystub trace`: an strace-like line per syscall (name, decoded arguments
 * for the common calls, result or -1 ERRNO), and with --path the entry path
 * each call took through the guest kernel. --json gives one object per event.
 */
import { createRequire } from 'node:module';
import chalk, { Chalk } from 'chalk';
import type { Machine, PathInfo } from './machine/machine.js';
import { isEnd } from './entry/stop.js';
import { SyscallArgs } from './kernel/sys/util.js';
import { syscallName } from './kernel/sysnames.js';
import { ia32Name } from './kernel/ia32/table.js';
import { errnoName } from './kernel/errno.js';
import { signalName } from './kernel/signal.js';
import { addrHex } from './gdb/hex.js';

type Fmt = 'fd' | 'int' | 'hex' | 'str' | 'buf' | 'oct' | 'size';
/** Argument kinds of the calls worth decoding; others print their first three arguments in hex. */
const SIGS: Record<string, Fmt[]> = {
  read: ['fd', 'hex', 'size'],
  write: ['fd', 'buf', 'size'],
  open: ['str', 'hex', 'oct'],
  openat: ['fd', 'str', 'hex', 'oct'],
  close: ['fd'],
  fstat: ['fd', 'hex'],
  newfstatat: ['fd', 'str', 'hex', 'hex'],
  lseek: ['fd', 'int', 'int'],
  mmap: ['hex', 'size', 'int', 'hex', 'fd', 'hex'],
  munmap: ['hex', 'size'],
  mprotect: ['hex', 'size', 'int'],
  brk: ['hex'],
  ioctl: ['fd', 'hex', 'hex'],
  writev: ['fd', 'hex', 'int'],
  readv: ['fd', 'hex', 'int'],
  getpid: [],
  getuid: [],
  gettid: [],
  exit: ['int'],
  exit_group: ['int'],
  arch_prctl: ['hex', 'hex'],
  set_tid_address: ['hex'],
  rt_sigaction: ['int', 'hex', 'hex', 'size'],
  rt_sigprocmask: ['int', 'hex', 'hex', 'size'],
  rt_sigreturn: [],
  kill: ['int', 'int'],
  tgkill: ['int', 'int', 'int'],
  getrandom: ['hex', 'size', 'hex'],
  readlink: ['str', 'hex', 'size'],
  prlimit64: ['int', 'int', 'hex', 'hex'],
  uname: ['hex'],
  getdents64: ['fd', 'hex', 'size'],
};

export interface TraceOptions {
  color: boolean;
  json: boolean;
  path: boolean;
  write: (s: string) => void;
}

function quote(bytes: Uint8Array, max = 32): string {
  let s = '"';
  for (const b of bytes.subarray(0, max)) {
    if (b === 0x0a) s += '\\n';
    else if (b === 0x09) s += '\\t';
    else if (b === 0x22 || b === 0x5c) s += '\\' + String.fromCharCode(b);
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += '\\x' + b.toString(16).padStart(2, '0');
  }
  return s + '"' + (bytes.length > max ? '...' : '');
}

/** A 64-bit value as 0x..., negative numbers as their two's complement. */
const hex = (v: number): string => '0x' + addrHex(v);

/** The arguments of a call as strace would print them. */
export function formatArgs(m: Machine, name: string, a: SyscallArgs): string {
  const sig = SIGS[name] ?? ['hex', 'hex', 'hex'];
  const peek = (addr: number, len: number): Uint8Array => {
    const b = new Uint8Array(Math.max(0, Math.min(len, 4096)));
    return b.subarray(0, m.mem.peek(addr, b));
  };
  return sig
    .map((f, k) => {
      switch (f) {
        case 'fd':
          return a.int(k) === -100 ? 'AT_FDCWD' : String(a.int(k));
        case 'int':
          return String(a.int(k));
        case 'size':
          return String(a.unum(k));
        case 'oct':
          return '0' + (a.u32(k) & 0o7777).toString(8);
        case 'str': {
          const p = a.num(k);
          if (p === 0) return 'NULL';
          const b = peek(p, 256);
          const z = b.indexOf(0);
          return quote(z >= 0 ? b.subarray(0, z) : b, 64);
        }
        case 'buf':
          return a.num(k) === 0 ? 'NULL' : quote(peek(a.num(k), Math.min(a.unum(k + 1), 33)));
        default:
          return hex(a.num(k));
      }
    })
    .join(', ');
}

export function formatResult(ret: number): string {
  if (ret < 0 && ret >= -4095) return `-1 ${errnoName(-ret)}`;
  return ret > 0xffff ? hex(ret) : String(ret);
}

/** What the trace did that the CLI's last line depends on. */
export interface Trace {
  /** The first process's end was reported already (other processes were still running then). */
  leaderEndShown(): boolean;
}

/**
 * Hook a machine so every syscall (and, with opts.path, its entry path) is
 * reported, in every process and thread. As strace -f does, while more than
 * one task lives each line starts with `[pid N]`, N the thread's id, and
 * each process's end is a line of its own.
 */
export function attachTrace(m: Machine, opts: TraceOptions): Trace {
  const c = opts.color ? new Chalk({ level: chalk.level || 1 }) : new Chalk({ level: 0 });
  /** Tasks alive (the one ending counts until its last line is out). */
  const live = () => m.os.tasks.length + (m.task.dead ? 1 : 0);
  const prefix = (pid: number, n = live()) => (n > 1 ? `[pid ${String(pid).padStart(5)}] ` : '');
  const line = (nr: number, a: SyscallArgs, ret: number, name = syscallName(nr)) => {
    const args = formatArgs(m, name, a);
    // exit and exit_group do not return: strace's `= ?`
    const noReturn = (name === 'exit' || name === 'exit_group') && m.task.dead;
    const result = noReturn ? '?' : formatResult(ret);
    if (opts.json) opts.write(JSON.stringify({ event: 'syscall', pid: m.proc.pid, nr, name, args, ret: noReturn ? null : ret, result }) + '\n');
    else opts.write(`${prefix(m.task.tid)}${c.bold(name)}(${args}) = ${noReturn ? result : ret < 0 && ret >= -4095 ? c.red(result) : c.green(result)}\n`);
  };
  // calls the host performs are reported as they return; calls the guest kernel answers
  // itself (a number beyond the table: -ENOSYS) when the path returns (per task: another may run between)
  const hostSaw = new Set<number>();
  m.leader.afterSyscall = (nr, a, ret) => {
    line(nr, a, ret);
    hostSaw.add(m.task.tid);
  };
  let leaderShown = false;
  m.onProcessEnd = (p) => {
    // the first process's end, when it is the last, is the CLI's final line
    const others = m.os.tasks.length;
    if (p === m.leader && others === 0) return;
    if (p === m.leader) leaderShown = true;
    const how = p.termSignal !== null ? `killed by ${signalName(p.termSignal)}` : `exited with ${p.exitCode}`;
    if (opts.json) opts.write(JSON.stringify({ event: p.termSignal !== null ? 'killed' : 'exit', pid: p.pid, ...(p.termSignal !== null ? { signal: p.termSignal } : { code: p.exitCode }) }) + '\n');
    else opts.write(`${prefix(p.pid, others + 1)}+++ ${how} +++\n`);
  };
  m.onPath = (p: PathInfo) => {
    // (a 32-bit program's number is an i386 one, named by syscall_32.tbl)
    if (!hostSaw.delete(m.task.tid)) line(p.nr, SyscallArgs.of(...p.args), p.ptregs.ax, p.abi === 'i386' ? ia32Name(p.nr) : undefined);
    // a call that bypassed the guest kernel says so under its line, --path or not
    if (opts.path || p.bypassed) pathLine(p);
  };
  // with --path, each timer interrupt too: where it found the CPU, and the running count of its kind
  if (opts.path)
    m.onInterrupt = (mode, rip) => {
      const n = m.timer.taken[mode];
      if (opts.json) opts.write(JSON.stringify({ event: 'interrupt', pid: m.proc.pid, mode, rip, count: n }) + '\n');
      else {
        const sym = m.symbolize(rip);
        const at = sym.startsWith('0x') ? hex(rip) : `${hex(rip)} <${sym}>`;
        opts.write(c.dim(`${prefix(m.proc.pid)}--- timer interrupt in ${mode} mode at ${at} (${mode} mode: ${n}) ---\n`));
      }
    };
  const pathLine = (p: PathInfo) => {
    if (opts.json) {
      opts.write(JSON.stringify({ event: 'path', ...p }) + '\n');
      return;
    }
    const regs = `orig_ax=${p.ptregs.orig_ax} ip=${hex(p.ptregs.ip)} sp=${hex(p.ptregs.sp)} flags=${hex(p.ptregs.flags)}`;
    opts.write(c.dim(`${prefix(m.proc.pid)}  ↳ ${p.via} → ${p.steps.join(' → ')}; pt_regs: ${regs}; return: ${p.route}; ${p.insns} instructions\n`));
  };
  return { leaderEndShown: () => leaderShown };
}

/** An instruction formatter for kernel-path listings (iced-x86: Intel or AT&T syntax). */
export async function makeDisassembler(m: Machine, syntax: 'intel' | 'att'): Promise<(rip: number) => string> {
  // require, not import(): the bundle is a classic script (src/launcher.ts), where import() has no loader
  const iced = createRequire(import.meta.url)('iced-x86') as typeof import('iced-x86');
  const fmt = new iced.Formatter(syntax === 'intel' ? iced.FormatterSyntax.Intel : iced.FormatterSyntax.Gas);
  return (rip: number) => {
    const bytes = new Uint8Array(15);
    const n = m.mem.peek(rip, bytes);
    const d = new iced.Decoder(64, bytes.subarray(0, n), iced.DecoderOptions.None);
    d.ip = BigInt.asUintN(64, BigInt(rip));
    const ins = d.decode();
    const text = fmt.format(ins);
    ins.free();
    d.free();
    const where = m.symbolize(rip);
    return `    ${hex(rip).padStart(18)} <${where}>  ${text}`;
  };
}

/**
 * Run to the end, listing every instruction of each kernel path (from the
 * `catch all` entry stops), each listing headed by the syscall it belongs to.
 */
export async function runWithDisasm(m: Machine, syntax: 'intel' | 'att', write: (s: string) => void): Promise<ReturnType<Machine['runToEnd']>> {
  const dis = await makeDisassembler(m, syntax);
  m.catchSyscalls = m.kernel ? 'all' : null;
  let ev = m.run(1_000_000);
  for (;;) {
    if (ev === null) ev = m.run(1_000_000);
    else if (isEnd(ev)) return ev;
    else if (ev.kind === 'syscall-entry') {
      write(`${syscallName(ev.nr)} (${ev.nr}): the ${m.model.label} entry path, from 0x${addrHex(m.cpu.rip)}\n`);
      // the first instruction of the path: step through it to the return (while it waits in the
      // syscall, other processes run: their instructions, and the retries of its hypercall, are not listed)
      const tid = m.task.tid;
      for (let k = 0; k < 1_000_000; k++) {
        if (m.task.tid === tid && m.task.parked === null) write(dis(m.cpu.rip) + '\n');
        ev = m.run(1, m.cpu.rip);
        if (ev !== null) break;
      }
      if (ev !== null && ev.kind === 'syscall-return') ev = m.run(1_000_000, m.cpu.rip);
    } else ev = m.run(1_000_000, m.cpu.rip);
  }
}
