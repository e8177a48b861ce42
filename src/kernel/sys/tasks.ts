/**
 * Making, ending and waiting for processes: fork, vfork, clone, clone3,
 * exit, exit_group, wait4, waitid, and the process tree's ids: getppid,
 * process groups and sessions as shells use them (setpgid, getpgid,
 * getpgrp, setsid, getsid).
 */
import { EACCES, ECHILD, EINTR, EINVAL, EPERM, ESRCH, SysError, WouldBlock } from '../errno.js';
import { doExit, exitThread, findZombie, release, waitStatus } from '../exit.js';
import { CLONE, cloneArgsOf, copyProcess, type CloneArgs } from '../fork.js';
import type { Process } from '../process.js';
import type { CPU } from '../../cpu/cpu.js';
import { CLD_EXITED, CLD_KILLED, SIG } from '../signal.js';
import type { HandlerTable } from './table.js';
import { Struct, type SyscallArgs, readView, write32, writeMem } from './util.js';

const WNOHANG = 1, WUNTRACED = 2, WEXITED = 4, WCONTINUED = 8, WNOWAIT = 0x01000000;
const __WNOTHREAD = 0x20000000, __WALL = 0x40000000, __WCLONE = 0x80000000 | 0;
const P_ALL = 0, P_PID = 1, P_PGID = 2, P_PIDFD = 3;
const INT_MIN = -2147483648;

// ---------------------------------------------------------------- fork, vfork, clone

/**
 * A vfork parent waits until its child execs or exits (Linux's
 * wait_for_vfork_done: killable, not interruptible). The syscall parks its
 * task; each retry finds the child it made on the first try.
 */
function vforkWait(p: Process): number {
  const child = p.task.vforkChild!;
  if (!child.vforkDone) throw new WouldBlock(Infinity);
  p.task.vforkChild = null;
  p.kernel.machine?.vforkDone(p.task);
  return child.tid;
}

export function clone(p: Process, a: CloneArgs): number {
  if (p.task.vforkChild) return vforkWait(p); // a retry: the child exists
  const child = copyProcess(p, a);
  if ((a.flags & (CLONE.VM | CLONE.VFORK)) !== (CLONE.VM | CLONE.VFORK)) return child.tid;
  p.task.vforkChild = child;
  return vforkWait(p);
}

/** clone3(struct clone_args *, size): the same as clone, the arguments in a structure. */
/**
 * clone3; tlsOf: how CLONE_SETTLS's tls sets the child's TLS when it is not
 * the FS base (an i386 caller's struct user_desc).
 */
export function doClone3(p: Process, a: SyscallArgs, tlsOf?: (tls: number) => (cpu: CPU) => void): number {
  if (p.task.vforkChild) return vforkWait(p);
  const size = a.unum(1);
  if (size < 64 || size > 4096) throw new SysError(EINVAL); // CLONE_ARGS_SIZE_VER0
  const v = readView(p.mem, a.num(0), Math.min(size, 88));
  const u64 = (o: number): number => (o + 8 <= v.byteLength ? Number(v.getBigUint64(o, true)) : 0);
  const flags = u64(0), exitSignal = u64(32), stack = u64(40), stackSize = u64(48);
  if (flags > 0xffffffff || (flags & 0xff) !== 0 || exitSignal > 64) throw new SysError(EINVAL);
  if (u64(64) !== 0 || u64(72) !== 0) throw new SysError(EINVAL); // set_tid: pid namespaces are not emulated
  if ((stack === 0) !== (stackSize === 0)) throw new SysError(EINVAL);
  const args: CloneArgs = { flags, exitSignal, stack: stack === 0 ? 0 : stack + stackSize, parentTid: u64(24), childTid: u64(16), tls: u64(56) };
  if (tlsOf && flags & CLONE.SETTLS) args.setTls = tlsOf(args.tls);
  return clone(p, args);
}

// ---------------------------------------------------------------- wait

/** Wait for a child: EINTR if a signal that interrupts is pending, else park until another task changes something. */
function block(p: Process): never {
  p.pollTimers();
  if (p.hasInterruptingSignal()) {
    p.interrupted = 'sys';
    throw new SysError(EINTR);
  }
  throw new WouldBlock(p.timerWaitMs());
}

/** The children a wait may take, by their exit signal: __WALL any, __WCLONE those that send no SIGCHLD, else those that do. */
function eligible(c: Process, options: number): boolean {
  if (options & __WALL) return true;
  return (c.exitSignal === SIG.CHLD) === !(options & __WCLONE);
}

/** The child to report (an ended one), null to wait, ECHILD when none is named. */
function waitable(p: Process, pid: number, options: number): Process | null {
  const z = findZombie(p, pid, (c) => eligible(c, options));
  if (z === 'none') throw new SysError(ECHILD);
  return z;
}

function sysWait4(p: Process, a: SyscallArgs): number {
  const pid = a.int(0), status = a.num(1), options = a.int(2), ru = a.num(3);
  if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)) throw new SysError(EINVAL);
  if (pid === INT_MIN) throw new SysError(ESRCH);
  const c = waitable(p, pid, options);
  if (c === null) {
    if (options & WNOHANG) return 0;
    block(p);
  }
  if (status !== 0) write32(p.mem, status, waitStatus(c));
  if (ru !== 0) writeMem(p.mem, ru, new Uint8Array(144));
  release(c);
  return c.pid;
}

/**
 * waitid (compat: an i386 program's, whose siginfo has the union at 12,
 * not 16, and whose struct compat_rusage is 72 bytes).
 */
export function doWaitid(p: Process, a: SyscallArgs, compat = false): number {
  const idtype = a.int(0), id = a.int(1), infop = a.num(2), options = a.int(3), ru = a.num(4);
  if (options & ~(WNOHANG | WNOWAIT | WEXITED | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL)) throw new SysError(EINVAL);
  if (!(options & (WEXITED | WUNTRACED | WCONTINUED))) throw new SysError(EINVAL);
  let pid: number;
  switch (idtype) {
    case P_ALL:
      pid = -1;
      break;
    case P_PID:
      if (id <= 0) throw new SysError(EINVAL);
      pid = id;
      break;
    case P_PGID:
      if (id < 0) throw new SysError(EINVAL);
      pid = id === 0 ? 0 : -id;
      break;
    case P_PIDFD:
      throw new SysError(EINVAL); // no pidfds: none can name a child
    default:
      throw new SysError(EINVAL);
  }
  const z = waitable(p, pid, options);
  // only exits are ever reported (no job control: no child is ever stopped or continued)
  const c = options & WEXITED ? z : null;
  // si_signo, si_errno, si_code, si_pid, si_uid, si_status: the fields waitid writes, all 0 when nothing was found
  const u = compat ? 12 : 16;
  const info = new Struct(u + 12);
  if (c === null) {
    if (!(options & WNOHANG)) block(p);
  } else {
    const killed = c.termSignal !== null;
    info.u32(0, SIG.CHLD).u32(8, killed ? CLD_KILLED : CLD_EXITED).u32(u, c.pid).u32(u + 4, c.uid).u32(u + 8, killed ? c.termSignal! : c.exitCode!);
  }
  if (infop !== 0) writeMem(p.mem, infop, info.bytes);
  if (ru !== 0) writeMem(p.mem, ru, new Uint8Array(compat ? 72 : 144));
  if (c !== null && !(options & WNOWAIT)) release(c);
  return 0;
}

// ---------------------------------------------------------------- process groups and sessions

/** The process pid names (0: the caller), zombies included, or ESRCH. */
function named(p: Process, pid: number): Process {
  if (pid === 0) return p;
  const q = p.kernel.procs.get(pid);
  if (!q) throw new SysError(ESRCH);
  return q;
}

/** setpgid, with Linux's rules: the caller or a child of its own that has not exec'd, in its session, not a session leader; the group new or in the session. */
function sysSetpgid(p: Process, a: SyscallArgs): number {
  const pid = a.int(0), pgid = a.int(1);
  if (pgid < 0) throw new SysError(EINVAL);
  const target = named(p, pid);
  if (target !== p) {
    if (target.parent !== p) throw new SysError(ESRCH);
    if (target.execed) throw new SysError(EACCES);
    if (target.sid !== p.sid) throw new SysError(EPERM);
  }
  if (target.sid === target.pid) throw new SysError(EPERM);
  const group = pgid === 0 ? target.pid : pgid;
  if (group !== target.pid) {
    let exists = false;
    for (const q of p.kernel.procs.values()) if (q.pgid === group && q.sid === p.sid && !q.ended) exists = true;
    if (!exists) throw new SysError(EPERM);
  }
  target.pgid = group;
  return 0;
}

/** setsid: a new session and group led by the caller, unless it leads a process group already. */
function sysSetsid(p: Process): number {
  for (const q of p.kernel.procs.values()) if (q.pgid === p.pid) throw new SysError(EPERM);
  p.sid = p.pgid = p.pid;
  return p.sid;
}

export function registerTasks(t: HandlerTable): void {
  t.on(57, (p) => clone(p, cloneArgsOf(SIG.CHLD, 0, 0, 0, 0))); // fork
  t.on(58, (p) => clone(p, cloneArgsOf(CLONE.VM | CLONE.VFORK | SIG.CHLD, 0, 0, 0, 0))); // vfork
  const threads = 'processes and threads (CLONE_THREAD with CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND); processes sharing tables without CLONE_THREAD, namespaces and pidfds are ENOSYS';
  t.on(56, (p, a) => clone(p, cloneArgsOf(a.u32(0), a.num(1), a.num(2), a.num(3), a.num(4))), threads);
  t.on(435, (p, a) => doClone3(p, a), threads);
  t.on(60, (p, a) => {
    exitThread(p, a.int(0));
    return 0;
  });
  t.on(231, (p, a) => {
    doExit(p, { code: a.int(0) });
    return 0;
  });
  t.on(61, sysWait4, 'no job control: stopped and continued children are never reported (WUNTRACED, WCONTINUED); rusage is zero');
  t.on(247, (p, a) => doWaitid(p, a), 'no job control: stopped and continued children are never reported; no pidfds (P_PIDFD is EINVAL); rusage is zero');
  t.on(110, (p) => p.ppid);
  t.on(109, sysSetpgid);
  t.on(111, (p) => p.pgid);
  t.on(121, (p, a) => named(p, a.int(0)).pgid);
  t.on(124, (p, a) => named(p, a.int(0)).sid);
  t.on(112, sysSetsid);
}
