/**
 * How a process ends and how its parent learns of it: Linux's do_exit and
 * exit_notify (the address space and descriptors released, the children
 * handed to init, SIGCHLD to the parent, a zombie until reaped), and the
 * side of wait4/waitid that finds and reaps a child.
 *
 * Orphans go to init, pid 1, whose role the emulator plays: an orphan's
 * getppid() is 1, and it is reaped as soon as it ends.
 */
import type { Process } from './process.js';
import { CLD_EXITED, CLD_KILLED, SA_NOCLDWAIT, SIG_IGN } from './signal.js';
import { write32 } from './sys/util.js';

/** How it ended: exit(code), or killed by a signal. */
export type Ending = { code: number } | { signal: number };

const SIGCHLD = 17;

/**
 * The process ends (exit_group, or a signal's default action): it becomes
 * a zombie for its parent to reap, or goes at once if nobody will wait.
 */
export function doExit(p: Process, how: Ending): void {
  if (p.ended) return;
  const task = p.task;
  const k = p.kernel;
  if ('code' in how) p.exitCode = how.code & 0xff;
  else p.termSignal = how.signal;
  // the address space: its last user writes back shared file mappings and frees it; a vfork
  // parent sharing it is told of the exit through clear_child_tid, as a thread would be
  const mem = p.mem;
  if (--mem.users === 0) {
    p.mm.flushAll();
    mem.release();
  } else if (task.clearChildTid !== 0) {
    try {
      write32(mem, task.clearChildTid, 0);
    } catch {
      /* not writable: Linux ignores the fault too */
    }
  }
  p.fds.closeAll();
  task.dead = true;
  task.parked = null;
  task.vforkDone = true;
  p.cpu.stopRequested = true;
  const at = k.tasks.indexOf(task);
  if (at >= 0) k.tasks.splice(at, 1);
  // the children go to init (the emulator), which reaps those that have ended
  for (const c of p.children) {
    c.parent = null;
    c.ppid = 1;
    const pdeath = (c as Process & { pdeathsig?: number }).pdeathsig;
    if (pdeath) c.raise(pdeath);
    if (c.ended) release(c);
  }
  p.children.length = 0;
  k.machine?.taskExited(task);
  notifyParent(p);
}

/** exit_notify: SIGCHLD (or the clone's exit signal) to the parent, and a zombie, unless the parent will never wait. */
function notifyParent(p: Process): void {
  const parent = p.parent;
  if (parent === null) {
    // the emulator's own child (the first process), or an orphan: reaped at once
    release(p);
    return;
  }
  const act = parent.sigactions[SIGCHLD];
  // a parent that ignores SIGCHLD, or asked SA_NOCLDWAIT, has its children reaped for it
  const autoreap = p.exitSignal === SIGCHLD && (act.handler === SIG_IGN || (act.flags & SA_NOCLDWAIT) !== 0);
  if (p.exitSignal !== 0 && !(autoreap && act.handler === SIG_IGN)) {
    const killed = p.termSignal !== null;
    parent.raise(p.exitSignal, { signo: p.exitSignal, code: killed ? CLD_KILLED : CLD_EXITED, pid: p.pid, uid: p.uid, status: killed ? p.termSignal! : p.exitCode! });
  }
  if (autoreap) release(p);
}

/** The zombie goes: out of the process table and its parent's children. */
export function release(p: Process): void {
  p.kernel.procs.delete(p.pid);
  const parent = p.parent;
  if (parent) {
    const at = parent.children.indexOf(p);
    if (at >= 0) parent.children.splice(at, 1);
  }
}

/** The wait status word of an ended process: exit code << 8, or the signal (no core is ever dumped). */
export function waitStatus(p: Process): number {
  return p.termSignal !== null ? p.termSignal & 0x7f : (p.exitCode! & 0xff) << 8;
}

/**
 * Which children a wait names (wait4's pid argument, or waitid's idtype
 * and id): any child (-1), one pid (> 0), the caller's process group (0) or
 * another group (< -1, as -pgid).
 */
export function waitMatches(caller: Process, child: Process, pid: number): boolean {
  if (pid > 0) return child.pid === pid;
  if (pid === -1) return true;
  if (pid === 0) return child.pgid === caller.pgid;
  return child.pgid === -pid;
}

/**
 * The first child (in the order they were made) that pid names, that the
 * wait may take (`eligible`) and that has ended, or null if those are all
 * running; 'none' if there is no such child at all (ECHILD).
 */
export function findZombie(caller: Process, pid: number, eligible: (c: Process) => boolean): Process | null | 'none' {
  let any = false;
  for (const c of caller.children) {
    if (!waitMatches(caller, c, pid) || !eligible(c)) continue;
    any = true;
    if (c.ended) return c;
  }
  return any ? null : 'none';
}
