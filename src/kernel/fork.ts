/**
 * Making a process or a thread: Linux's copy_process for fork, vfork and
 * clone. A new process is a copy of its parent (process.ts copies what is
 * copied), in an address space forked copy on write, or in its parent's own
 * (CLONE_VM with CLONE_VFORK: vfork, the parent waiting until the child
 * execs or exits). A new thread (CLONE_THREAD, as pthread_create and Go's
 * newosproc ask: with CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND) is a
 * task of its creator's process, sharing all of it. What the entry model
 * and the scheduler do with the new task is the machine's part
 * (MachineHooks.taskForked).
 */
import { cloneCpu } from '../cpu/context.js';
import type { CPU } from '../cpu/cpu.js';
import { EAGAIN, EINVAL, ENOSYS, EPERM, SysError } from './errno.js';
import { capable, CAP_SYS_ADMIN, CAP_SYS_RESOURCE } from './cred.js';
import { Process, type Task } from './process.js';
import { write32 } from './sys/util.js';

export const CLONE = {
  VM: 0x100, FS: 0x200, FILES: 0x400, SIGHAND: 0x800, PIDFD: 0x1000, PTRACE: 0x2000, VFORK: 0x4000, PARENT: 0x8000,
  THREAD: 0x10000, NEWNS: 0x20000, SYSVSEM: 0x40000, SETTLS: 0x80000, PARENT_SETTID: 0x100000, CHILD_CLEARTID: 0x200000,
  DETACHED: 0x400000, UNTRACED: 0x800000, CHILD_SETTID: 0x1000000, NEWCGROUP: 0x2000000, NEWUTS: 0x4000000,
  NEWIPC: 0x8000000, NEWUSER: 0x10000000, NEWPID: 0x20000000, NEWNET: 0x40000000, IO: 0x80000000,
} as const;
/** The exit signal's byte of clone's flags. */
const CSIGNAL = 0xff;
const NEW_NAMESPACES = CLONE.NEWNS | CLONE.NEWCGROUP | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWUSER | CLONE.NEWPID | CLONE.NEWNET;
const RLIMIT_NPROC = 6;

/** What clone and clone3 ask for. */
export interface CloneArgs {
  /** CLONE_* flags, without the exit signal. */
  flags: number;
  exitSignal: number;
  /** The child's stack pointer (0: the parent's). */
  stack: number;
  parentTid: number;
  childTid: number;
  tls: number;
  /** How CLONE_SETTLS sets the child's TLS (an i386 clone's user_desc); without it, tls is the FS base. */
  setTls?: (cpu: CPU) => void;
}

/**
 * Make the child: a process, or with CLONE_THREAD a thread of the caller's
 * process; returns its task. Sharing tables between processes (CLONE_VM
 * without CLONE_VFORK, CLONE_FILES, CLONE_FS or CLONE_SIGHAND without
 * CLONE_THREAD, a thread with a table of its own) is ENOSYS, new namespaces
 * too, as a kernel without them; what Linux refuses is its errno.
 */
export function copyProcess(parent: Process, a: CloneArgs): Task {
  const f = a.flags;
  const k = parent.kernel;
  // copy_process's consistency checks, in its order
  if ((f & (CLONE.NEWNS | CLONE.FS)) === (CLONE.NEWNS | CLONE.FS)) throw new SysError(EINVAL);
  if ((f & (CLONE.NEWUSER | CLONE.FS)) === (CLONE.NEWUSER | CLONE.FS)) throw new SysError(EINVAL);
  if (f & CLONE.THREAD && !(f & CLONE.SIGHAND)) throw new SysError(EINVAL);
  if (f & CLONE.SIGHAND && !(f & CLONE.VM)) throw new SysError(EINVAL);
  if (a.exitSignal < 0 || a.exitSignal > 64) throw new SysError(EINVAL);
  if (f & NEW_NAMESPACES) {
    if (!(f & CLONE.NEWUSER) && !capable(parent, CAP_SYS_ADMIN)) throw new SysError(EPERM);
    parent.unimplemented(56, 'new namespaces (CLONE_NEW*) are not emulated');
    throw new SysError(ENOSYS);
  }
  const vfork = (f & (CLONE.VM | CLONE.VFORK)) === (CLONE.VM | CLONE.VFORK);
  const THREAD_SHARES = CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND;
  if (f & CLONE.THREAD) {
    if ((f & THREAD_SHARES) !== THREAD_SHARES || f & (CLONE.PIDFD | CLONE.VFORK)) {
      parent.unimplemented(56, 'a thread with a filesystem context or descriptor table of its own (CLONE_THREAD without CLONE_FS or CLONE_FILES), or with CLONE_PIDFD or CLONE_VFORK, is not emulated');
      throw new SysError(ENOSYS);
    }
  } else if (f & (CLONE.SIGHAND | CLONE.FILES | CLONE.FS | CLONE.PIDFD) || (f & CLONE.VM && !vfork)) {
    parent.unimplemented(56, 'processes sharing tables (CLONE_SIGHAND, CLONE_FILES, CLONE_FS or CLONE_VM without CLONE_THREAD or CLONE_VFORK, CLONE_PIDFD) are not emulated');
    throw new SysError(ENOSYS);
  }
  const machine = k.machine;
  if (machine === null) throw new SysError(ENOSYS); // a process on its own (no machine to run a second task)
  if (f & CLONE.THREAD) return copyThread(parent, a);
  // RLIMIT_NPROC: the processes of the real uid, unless privileged
  const nproc = [...k.procs.values()].filter((q) => q.uid === parent.uid && !q.ended).length;
  if (BigInt(nproc) >= parent.rlimits[RLIMIT_NPROC][0] && !capable(parent, CAP_SYS_ADMIN) && !capable(parent, CAP_SYS_RESOURCE)) throw new SysError(EAGAIN);

  let mem = parent.mem;
  if (vfork) mem.users++;
  else {
    parent.mm.prepareFork();
    mem = mem.fork();
  }
  const cpu = cloneCpu(parent.cpu, mem);
  if (f & CLONE.SETTLS) {
    if (a.setTls) a.setTls(cpu);
    else cpu.fsBase = a.tls;
  }
  const child = new Process(cpu, mem, { parent, pid: k.allocPid(), shareVm: vfork });
  child.exitSignal = a.exitSignal;
  if (f & CLONE.PARENT && parent.parent) {
    // the caller's parent is the child's too
    parent.children.splice(parent.children.indexOf(child), 1);
    child.parent = parent.parent;
    child.ppid = parent.ppid;
    parent.parent.children.push(child);
  }
  if (f & CLONE.CHILD_CLEARTID) child.task.clearChildTid = a.childTid;
  machine.taskForked(parent.task, child.task, vfork ? 'vfork' : 'fork', a.stack);
  // the tids, stored before either side runs on: in the parent's memory and in the child's
  try {
    if (f & CLONE.PARENT_SETTID) write32(parent.mem, a.parentTid, child.pid);
    if (f & CLONE.CHILD_SETTID) write32(child.mem, a.childTid, child.pid);
  } catch {
    /* a bad pointer: Linux's put_user fails silently here too */
  }
  return child.task;
}

/**
 * A new thread of the caller's process: its CPU a copy of the caller's at
 * the syscall (returning 0, on clone's stack, with its TLS), its signal
 * mask the caller's, no sigaltstack (Linux clears it for CLONE_VM), nothing
 * pending. Its exit signal is none: a thread's end is not its parent's
 * business.
 */
function copyThread(parent: Process, a: CloneArgs): Task {
  const f = a.flags;
  const creator = parent.task;
  const cpu = cloneCpu(creator.cpu, parent.mem);
  if (f & CLONE.SETTLS) {
    if (a.setTls) a.setTls(cpu);
    else cpu.fsBase = a.tls;
  }
  const t = parent.addThread(parent.kernel.allocPid(), cpu);
  if (f & CLONE.CHILD_CLEARTID) t.clearChildTid = a.childTid;
  parent.kernel.machine!.taskForked(creator, t, 'thread', a.stack);
  try {
    if (f & CLONE.PARENT_SETTID) write32(parent.mem, a.parentTid, t.tid);
    if (f & CLONE.CHILD_SETTID) write32(parent.mem, a.childTid, t.tid);
  } catch {
    /* a bad pointer: Linux's put_user fails silently here too */
  }
  return t;
}

/** clone's flags word: the CLONE_* bits and the exit signal in its low byte. */
export function cloneArgsOf(flags: number, stack: number, parentTid: number, childTid: number, tls: number): CloneArgs {
  return { flags: flags & ~CSIGNAL, exitSignal: flags & CSIGNAL, stack, parentTid, childTid, tls };
}
