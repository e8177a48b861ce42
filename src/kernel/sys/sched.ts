/**
 * Scheduling syscalls: nice values, CPU affinity, scheduling policy and I/O
 * priority. Each set is either done to the host (the nice value: the host
 * process is what runs the program, so os.setPriority is the real thing) or
 * kept in the Process so that the matching get returns what was set, with
 * Linux's checks and errnos (kernel/sys.c, kernel/sched/syscalls.c,
 * block/ioprio.c). The emulated machine has one process: `who` names it by
 * its pid, its process group or its user, or names nobody (ESRCH).
 */
import { hostOs as os } from '../hostlog.js';
import { EINVAL, EPERM, ESRCH, SysError } from '../errno.js';
import { CAP_SYS_ADMIN, CAP_SYS_NICE, capable } from '../cred.js';
import { hostCpumaskSize, hostNrCpuIds } from '../host.js';
import type { Process } from '../process.js';
import type { HandlerTable } from './table.js';
import { Struct, type SyscallArgs, read32, readMem, write32, writeMem } from './util.js';

const RLIMIT_NICE = 13, RLIMIT_RTPRIO = 14;
const PRIO_PROCESS = 0, PRIO_PGRP = 1, PRIO_USER = 2;
const SCHED_OTHER = 0, SCHED_FIFO = 1, SCHED_RR = 2, SCHED_BATCH = 3, SCHED_IDLE = 5, SCHED_DEADLINE = 6;
const SCHED_RESET_ON_FORK = 0x40000000;
const IOPRIO_WHO_PROCESS = 1, IOPRIO_WHO_PGRP = 2, IOPRIO_WHO_USER = 3;
const IOPRIO_CLASS_NONE = 0, IOPRIO_CLASS_RT = 1, IOPRIO_CLASS_BE = 2, IOPRIO_CLASS_IDLE = 3;

/**
 * The host's nr_cpu_ids and cpumask_size() (they do not change while we run). cpumask_size() is asked on its first
 * use, not when the module loads: it reads (and gunzips) the kernel's configuration, which every run paid for at
 * start-up (issue 16) when few programs call sched_getaffinity.
 */
const NR_CPU_IDS = hostNrCpuIds();
let cpumaskBytes: number | undefined;
const cpumaskSize = (): number => (cpumaskBytes ??= hostCpumaskSize());

function self(p: Process, pid: number): boolean {
  return pid === 0 || pid === p.pid;
}

/** Whether `who` of kind `which` (PRIO_* / IOPRIO_WHO_* numbering given) names this process. */
function names(p: Process, kind: 'process' | 'pgrp' | 'user', who: number): boolean {
  if (kind === 'process') return self(p, who);
  if (kind === 'pgrp') return who === 0 || who === p.pgid;
  return who === 0 || who >>> 0 === p.uid;
}

// ---------------------------------------------------------------- nice

function prioKind(which: number): 'process' | 'pgrp' | 'user' {
  if (which === PRIO_PROCESS) return 'process';
  if (which === PRIO_PGRP) return 'pgrp';
  if (which === PRIO_USER) return 'user';
  throw new SysError(EINVAL);
}

/** getpriority: 20 - nice of the (only) process named, from the host, where the nice value really is. */
function sysGetpriority(p: Process, a: SyscallArgs): number {
  if (!names(p, prioKind(a.int(0)), a.int(1))) throw new SysError(ESRCH);
  return 20 - os.getPriority(0);
}

/**
 * setpriority: the nice value, clamped to -20..19, is set on the host
 * process. Lowering it needs CAP_SYS_NICE or RLIMIT_NICE room (can_nice);
 * the host may refuse too (EACCES when it is not privileged).
 */
function sysSetpriority(p: Process, a: SyscallArgs): number {
  if (!names(p, prioKind(a.int(0)), a.int(1))) throw new SysError(ESRCH);
  const nice = Math.min(Math.max(a.int(2), -20), 19);
  const rlim = p.rlimits[RLIMIT_NICE][0];
  if (nice < os.getPriority(0) && !(BigInt(20 - nice) <= rlim || capable(p, CAP_SYS_NICE))) throw new SysError(13 /* EACCES */);
  os.setPriority(0, nice);
  return 0;
}

// ---------------------------------------------------------------- affinity

function sysSchedGetaffinity(p: Process, a: SyscallArgs): number {
  const pid = a.int(0), len = a.u32(1);
  if (len * 8 < NR_CPU_IDS || len % 8 !== 0) throw new SysError(EINVAL);
  if (!self(p, pid)) throw new SysError(ESRCH);
  const out = new Uint8Array(Math.min(len, cpumaskSize()));
  for (const c of p.affinity) out[c >> 3] |= 1 << (c & 7);
  writeMem(p.mem, a.num(2), out);
  return out.length;
}

/**
 * sched_setaffinity: the mask (a shorter one is zero-extended, a longer one
 * cut to cpumask_size) restricted to the machine's CPUs; none left is
 * EINVAL. Kept in the Process: the host thread keeps its own affinity.
 */
function sysSchedSetaffinity(p: Process, a: SyscallArgs): number {
  const pid = a.int(0), len = a.u32(1);
  const bytes = readMem(p.mem, a.num(2), Math.min(len, cpumaskSize()));
  if (!self(p, pid)) throw new SysError(ESRCH);
  const want = p.kernel.cpus.filter((c) => c >> 3 < bytes.length && (bytes[c >> 3] >> (c & 7)) & 1);
  if (want.length === 0) throw new SysError(EINVAL);
  p.affinity = want;
  return 0;
}

// ---------------------------------------------------------------- policy

const rtPolicy = (pol: number) => pol === SCHED_FIFO || pol === SCHED_RR;

/** The checks of __sched_setscheduler for a policy and static priority, then keep them. */
function setScheduler(p: Process, policy: number, priority: number, resetOnFork: boolean): number {
  if (![SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE].includes(policy)) throw new SysError(EINVAL);
  if (priority < 0 || priority > 99) throw new SysError(EINVAL);
  // SCHED_DEADLINE needs sched_setattr's runtime, deadline and period: all zero here
  if (policy === SCHED_DEADLINE || rtPolicy(policy) !== (priority !== 0)) throw new SysError(EINVAL);
  if (!capable(p, CAP_SYS_NICE)) {
    if (rtPolicy(policy)) {
      const rlim = p.rlimits[RLIMIT_RTPRIO][0];
      if (policy !== p.sched.policy && rlim === 0n) throw new SysError(EPERM);
      if (priority > p.sched.priority && BigInt(priority) > rlim) throw new SysError(EPERM);
    }
    // leaving SCHED_IDLE needs the RLIMIT_NICE room to the process's nice value
    if (p.sched.policy === SCHED_IDLE && policy !== SCHED_IDLE && BigInt(20 - os.getPriority(0)) > p.rlimits[RLIMIT_NICE][0])
      throw new SysError(EPERM);
    if (p.sched.resetOnFork && !resetOnFork) throw new SysError(EPERM);
  }
  p.sched = { policy, priority, resetOnFork };
  return 0;
}

function sysSchedSetscheduler(p: Process, a: SyscallArgs): number {
  const pid = a.int(0), pol = a.int(1), param = a.num(2);
  if (pid < 0 || param === 0 || pol < 0) throw new SysError(EINVAL);
  const prio = read32(p.mem, param);
  if (!self(p, pid)) throw new SysError(ESRCH);
  return setScheduler(p, pol & ~SCHED_RESET_ON_FORK, prio, (pol & SCHED_RESET_ON_FORK) !== 0);
}

function sysSchedSetparam(p: Process, a: SyscallArgs): number {
  const pid = a.int(0), param = a.num(1);
  if (pid < 0 || param === 0) throw new SysError(EINVAL);
  const prio = read32(p.mem, param);
  if (!self(p, pid)) throw new SysError(ESRCH);
  return setScheduler(p, p.sched.policy, prio, p.sched.resetOnFork);
}

function sysSchedGetscheduler(p: Process, a: SyscallArgs): number {
  const pid = a.int(0);
  if (pid < 0) throw new SysError(EINVAL);
  if (!self(p, pid)) throw new SysError(ESRCH);
  return p.sched.policy | (p.sched.resetOnFork ? SCHED_RESET_ON_FORK : 0);
}

function sysSchedGetparam(p: Process, a: SyscallArgs): number {
  const pid = a.int(0), param = a.num(1);
  if (pid < 0 || param === 0) throw new SysError(EINVAL);
  if (!self(p, pid)) throw new SysError(ESRCH);
  write32(p.mem, param, rtPolicy(p.sched.policy) ? p.sched.priority : 0);
  return 0;
}

// ---------------------------------------------------------------- I/O priority

function ioprioKind(which: number): 'process' | 'pgrp' | 'user' {
  if (which === IOPRIO_WHO_PROCESS) return 'process';
  if (which === IOPRIO_WHO_PGRP) return 'pgrp';
  if (which === IOPRIO_WHO_USER) return 'user';
  throw new SysError(EINVAL);
}

/** ioprio_check_cap: a known class, no level for "none", the real-time class only with CAP_SYS_NICE or CAP_SYS_ADMIN. */
function checkIoprio(p: Process, ioprio: number): void {
  if (ioprio < 0 || ioprio > 0xffff) throw new SysError(EINVAL);
  const cls = ioprio >> 13, level = ioprio & 7;
  switch (cls) {
    case IOPRIO_CLASS_RT:
      if (!capable(p, CAP_SYS_NICE) && !capable(p, CAP_SYS_ADMIN)) throw new SysError(EPERM);
      return;
    case IOPRIO_CLASS_BE:
    case IOPRIO_CLASS_IDLE:
      return;
    case IOPRIO_CLASS_NONE:
      if (level !== 0) throw new SysError(EINVAL);
      return;
  }
  throw new SysError(EINVAL);
}

function sysIoprioSet(p: Process, a: SyscallArgs): number {
  const ioprio = a.int(2);
  checkIoprio(p, ioprio);
  if (!names(p, ioprioKind(a.int(0)), a.int(1))) throw new SysError(ESRCH);
  p.ioprio = ioprio;
  return 0;
}

function sysIoprioGet(p: Process, a: SyscallArgs): number {
  if (!names(p, ioprioKind(a.int(0)), a.int(1))) throw new SysError(ESRCH);
  return p.ioprio;
}

export function registerSched(t: HandlerTable): void {
  t.on(140, sysGetpriority);
  t.on(141, sysSetpriority);
  t.on(203, sysSchedSetaffinity, 'kept and returned by sched_getaffinity; the host thread keeps its own affinity');
  t.on(204, sysSchedGetaffinity);
  t.on(144, sysSchedSetscheduler, 'the policy and priority are kept and returned; the host thread keeps its own');
  t.on(142, sysSchedSetparam, 'the priority is kept and returned; the host thread keeps its own');
  t.on(145, sysSchedGetscheduler);
  t.on(143, sysSchedGetparam);
  t.on(24, (p) => {
    // the turn passes to the next runnable task (round robin: SCHED_OTHER's yield, deterministic)
    p.kernel.machine?.yield(p.task);
    return 0;
  });
  t.on(146, (_p, a) => {
    const pol = a.int(0);
    if (rtPolicy(pol)) return 99;
    if ([SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE].includes(pol)) return 0;
    throw new SysError(EINVAL);
  });
  t.on(147, (_p, a) => {
    const pol = a.int(0);
    if (rtPolicy(pol)) return 1;
    if ([SCHED_OTHER, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE].includes(pol)) return 0;
    throw new SysError(EINVAL);
  });
  t.on(148, (p, a) => {
    if (!self(p, a.int(0))) throw new SysError(ESRCH);
    // SCHED_FIFO has no time slice; round-robin's is sched_rr_timeslice_ms (100); CFS's the default 100 ms slice too
    writeMem(p.mem, a.num(1), new Struct(16).u64(8, p.sched.policy === SCHED_FIFO ? 0 : 100000000).bytes);
    return 0;
  }, 'the time slice is 100 ms for every policy but SCHED_FIFO (0), not the one the host\'s scheduler would compute');
  t.on(251, sysIoprioSet, 'kept and returned by ioprio_get; the host thread keeps its own I/O priority');
  t.on(252, sysIoprioGet);
}
