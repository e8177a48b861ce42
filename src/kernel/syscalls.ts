/**
 * The syscall dispatch: `syscall(p, nr, args?)` looks the handler up in the
 * table the implementation modules under sys/ fill, runs it over Process p,
 * and turns whatever it throws into the -errno Linux would return. It is the
 * one entry point from the machine (and from tests) into the host syscalls.
 *
 * Arguments come from the CPU (rdi, rsi, rdx, r10, r8, r9) unless given as
 * SyscallArgs. A guest error never escapes as a host exception: bad pointers
 * give -EFAULT, host fs errors their Linux errno, syscalls without a handler
 * -ENOSYS, reported once per number through the process's diagnostics and
 * counted for --stats (numbers that are no syscall on x86-64 get ENOSYS
 * silently, as from Linux). WouldBlock (a sleep while a debugger drives the
 * machine) is rethrown: the machine retries the call later.
 *
 * Module graph: this module imports process.ts and sys/*; process.ts imports
 * neither, and sys/* reach the table through sys/table.ts, so src/kernel has
 * no import cycle (test/kernel-imports.test.ts checks it).
 */
import { CpuFault } from '../cpu/fault.js';
import { EFAULT, EIO, ENOSYS, SysError, WouldBlock, errnoFromNode } from './errno.js';
import type { Process } from './process.js';
import { registerExec } from './sys/exec.js';
import { registerFs } from './sys/fs.js';
import { registerFutex } from './sys/futex.js';
import { registerIpc } from './sys/ipc.js';
import { registerMm } from './sys/mm.js';
import { registerNet } from './sys/net.js';
import { registerEventfd } from './sys/eventfd.js';
import { registerTimerfd } from './sys/timerfd.js';
import { registerEpoll } from './sys/epoll.js';
import { registerProc } from './sys/proc.js';
import { registerSched } from './sys/sched.js';
import { registerSignal } from './sys/signal.js';
import { registerTasks } from './sys/tasks.js';
import { registerTime } from './sys/time.js';
import { HandlerTable, type Handler, type Support } from './sys/table.js';
import { SyscallArgs } from './sys/util.js';
import { SYSCALL_NAMES, syscallName } from './sysnames.js';

export type { Handler } from './sys/table.js';

/**
 * sys_ni_syscall in Linux's x86-64 table (removed or never-64-bit calls):
 * each answered ENOSYS by Linux 6.18 on this machine, checked natively.
 */
const LINUX_NI = [134, 156, 174, 177, 178, 180, 181, 182, 183, 184, 185, 205, 211, 212, 214, 215, 236];

function build(): HandlerTable {
  const t = new HandlerTable();
  for (const nr of LINUX_NI) t.ni(nr);
  registerFs(t);
  registerFutex(t);
  registerIpc(t);
  registerExec(t);
  registerMm(t);
  registerNet(t);
  registerEventfd(t);
  registerTimerfd(t);
  registerEpoll(t);
  registerProc(t);
  registerSched(t);
  registerSignal(t);
  registerTasks(t);
  registerTime(t);
  return t;
}

const TABLE = build();

/** Handlers by syscall number (undefined = not implemented). */
export const SYSCALL_TABLE: readonly (Handler | undefined)[] = TABLE.handlers;

/** Syscalls handled before the dispatch, by the machine's signal code. */
const OUTSIDE_DISPATCH = new Map<number, string>([[15, '']]);

/** One row of the README's syscall table. */
export interface SyscallSupport {
  nr: number;
  name: string;
  support: Support | 'no';
  note: string;
}

/** Every syscall of syscall_64.tbl and how entrystub answers it: the source of the README's table. */
export function syscallSupport(): SyscallSupport[] {
  const out: SyscallSupport[] = [];
  SYSCALL_NAMES.forEach((name, nr) => {
    if (name === undefined) return;
    if (OUTSIDE_DISPATCH.has(nr)) out.push({ nr, name, support: 'yes', note: OUTSIDE_DISPATCH.get(nr)! });
    else out.push({ nr, name, support: TABLE.support[nr] ?? 'no', note: TABLE.notes[nr] ?? '' });
  });
  return out;
}

/** True if syscall nr has a handler. */
export function isImplemented(nr: number): boolean {
  return nr >= 0 && nr < SYSCALL_TABLE.length && SYSCALL_TABLE[nr] !== undefined;
}

/** Scratch for arguments read from the CPU: consumed before the next call. */
const fromCpu = new SyscallArgs();

/** Perform syscall nr for p; arguments from p's CPU unless given. Returns RAX (negative = -errno). */
export function syscall(p: Process, nr: number, a?: SyscallArgs): number {
  const h = nr >= 0 && nr < SYSCALL_TABLE.length ? SYSCALL_TABLE[nr] : undefined;
  return syscallVia(p, nr, h, a ?? fromCpu.load(p.cpu));
}

/**
 * Run handler h as syscall nr (the compat entry's conversions run the x86-64
 * call they stand for this way): a missing handler is ENOSYS, a thrown error
 * its errno, and the call is reported as nr.
 */
export function syscallVia(p: Process, nr: number, h: Handler | undefined, args: SyscallArgs): number {
  p.interrupted = null;
  let ret: number;
  if (h === undefined) {
    // a number Linux has no syscall for answers ENOSYS there too: nothing is missing
    if (SYSCALL_NAMES[nr] !== undefined) p.unimplemented(nr);
    ret = -ENOSYS;
  } else {
    try {
      ret = h(p, args);
    } catch (e) {
      if (e instanceof WouldBlock) throw e; // retried later: not a result
      ret = -errnoOf(p, e, nr);
    }
  }
  p.dropRetry();
  if (p.afterSyscall) p.afterSyscall(nr, args, ret);
  return ret;
}

/** The errno for an exception thrown inside a handler. */
function errnoOf(p: Process, e: unknown, nr: number): number {
  if (e instanceof SysError) return e.errno;
  if (e instanceof CpuFault) return EFAULT;
  if (e !== null && typeof e === 'object' && typeof (e as { code?: unknown }).code === 'string') return errnoFromNode(e);
  p.warnOnce(`entrystub: internal error in syscall ${nr} (${syscallName(nr)}): ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  return EIO;
}

/** The --stats lines for the calls that got ENOSYS because the emulator lacks them (empty when none did). */
export function formatUnimplemented(p: Process): string {
  if (p.enosys.size === 0) return '';
  let out = '  unimplemented, answered ENOSYS:\n';
  for (const [nr, n] of [...p.enosys].sort((x, y) => x[0] - y[0]))
    out += `  ${String(nr).padStart(4)}  ${syscallName(nr).padEnd(18)} ${String(n).padStart(8)}\n`;
  return out;
}
