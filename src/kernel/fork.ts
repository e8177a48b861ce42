/**
 * Making a process: Linux's copy_process for fork, vfork and clone without
 * threads. The child is a copy of its parent (process.ts copies what is
 * copied), in an address space forked copy on write, or in its parent's own
 * (CLONE_VM with CLONE_VFORK: vfork, the parent waiting until the child
 * execs or exits). What the entry model and the scheduler do with the new
 * task is the machine's part (MachineHooks.taskForked).
 */
import { cloneCpu } from '../cpu/context.js';
import { EAGAIN, EINVAL, ENOSYS, EPERM, SysError } from './errno.js';
import { capable, CAP_SYS_ADMIN, CAP_SYS_RESOURCE } from './cred.js';
import { Process } from './process.js';
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
}

/**
 * Make the child process; returns it. Flags that would make a thread or
 * share what only threads share are ENOSYS (threads are not emulated yet),
 * new namespaces too, as a kernel without them; what Linux refuses is its
 * errno.
 */
export function copyProcess(parent: Process, a: CloneArgs): Process {
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
  if (f & (CLONE.THREAD | CLONE.SIGHAND | CLONE.FILES | CLONE.FS | CLONE.PIDFD) || (f & CLONE.VM && !vfork)) {
    parent.unimplemented(56, 'threads and shared tables (CLONE_THREAD, CLONE_SIGHAND, CLONE_FILES, CLONE_FS, CLONE_VM without CLONE_VFORK, CLONE_PIDFD) are not emulated yet');
    throw new SysError(ENOSYS);
  }
  const machine = k.machine;
  if (machine === null) throw new SysError(ENOSYS); // a process on its own (no machine to run a second task)
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
  if (f & CLONE.SETTLS) cpu.fsBase = a.tls;
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
  return child;
}

/** clone's flags word: the CLONE_* bits and the exit signal in its low byte. */
export function cloneArgsOf(flags: number, stack: number, parentTid: number, childTid: number, tls: number): CloneArgs {
  return { flags: flags & ~CSIGNAL, exitSignal: flags & CSIGNAL, stack, parentTid, childTid, tls };
}
