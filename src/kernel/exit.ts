/**
 * How a thread and a process end and how the parent learns of it: Linux's
 * do_exit for one thread (exit: its clear_child_tid and robust list, the
 * process lives on while another thread does), do_group_exit for all of
 * them (exit_group, a fatal signal), exit_notify once the last is gone (the
 * address space and descriptors released, the children handed to init,
 * SIGCHLD to the parent, a zombie until reaped), and the side of
 * wait4/waitid that finds and reaps a child.
 *
 * Orphans go to init, pid 1, whose role the emulator plays: an orphan's
 * getppid() is 1, and it is reaped as soon as it ends.
 */
import { exitIpc } from './ipc/sem.js';
import { clearChildTid, exitRobustList } from './futex.js';
import type { Process, Task } from './process.js';
import { CLD_EXITED, CLD_KILLED, SA_NOCLDWAIT, SIG_IGN } from './signal.js';
import { write32 } from './sys/util.js';

/** How it ended: exit(code), or killed by a signal. */
export type Ending = { code: number } | { signal: number };

const SIGCHLD = 17;

/**
 * exit(2): the running thread ends. The last thread's exit is the
 * process's, with its code; before that the others run on, and the
 * thread's clear_child_tid word is zeroed and woken (pthread_join) and the
 * mutexes on its robust list marked FUTEX_OWNER_DIED, as mm_release does.
 */
export function exitThread(p: Process, code: number): void {
  const t = p.task;
  if (p.threads.length <= 1) return doExit(p, { code });
  if (t.robustList !== 0) exitRobustList(p.mem, p.kernel.futexes, t.robustList, t.tid);
  if (t.clearChildTid !== 0) clearChildTid(p.mem, p.kernel.futexes, t.clearChildTid);
  t.exitCode = code & 0xff;
  taskGone(t);
}

/**
 * de_thread's part of execve from a multi-threaded process: every other
 * thread ends (as by SIGKILL, with no clear_child_tid: the address space
 * they would write goes away), and the caller, if it is not the leader,
 * takes the leader's tid, as Linux's exec gives the thread group leader's
 * pid to the thread that execs.
 */
export function zapOtherThreads(p: Process): void {
  const t = p.task, k = p.kernel;
  for (const o of [...p.threads]) if (o !== t) taskGone(o);
  if (t.tid === p.pid) return;
  k.threadIds.delete(t.tid);
  t.tid = p.pid;
  // the scheduler's order is tid order
  k.tasks.sort((a, b) => a.tid - b.tid);
}

/** The task runs no more: out of the scheduler's tasks and its group's threads, its futex wait dropped, its per-task state released. */
function taskGone(t: Task): void {
  const p = t.proc, k = p.kernel;
  if (t.futexWait) k.futexes.remove(t.futexWait.waiter);
  t.futexWait = null;
  t.dead = true;
  t.parked = null;
  t.vforkDone = true;
  t.cpu.stopRequested = true;
  const at = k.tasks.indexOf(t);
  if (at >= 0) k.tasks.splice(at, 1);
  const i = p.threads.indexOf(t);
  if (i >= 0) p.threads.splice(i, 1);
  if (t.tid !== p.pid) k.threadIds.delete(t.tid);
  k.machine?.taskExited(t);
}

/**
 * The process ends (exit_group, or a signal's default action), every
 * thread of it: it becomes a zombie for its parent to reap, or goes at once
 * if nobody will wait.
 */
export function doExit(p: Process, how: Ending): void {
  if (p.ended) return;
  const task = p.task;
  if ('code' in how) p.exitCode = how.code & 0xff;
  else p.termSignal = how.signal;
  // exit_sem, for every thread of it (they share its SEM_UNDO list)
  exitIpc(p);
  // zap_other_threads: the others go first, the running one last (its end is the one reported)
  for (const o of [...p.threads]) if (o !== task) taskGone(o);
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
  // the children go to init (the emulator), which reaps those that have ended
  for (const c of p.children) {
    c.parent = null;
    c.ppid = 1;
    const pdeath = (c as Process & { pdeathsig?: number }).pdeathsig;
    if (pdeath) c.raise(pdeath);
    if (c.ended) release(c);
  }
  p.children.length = 0;
  if (!task.dead) taskGone(task);
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
