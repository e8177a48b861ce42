/**
 * Signal syscalls: rt_sigaction, rt_sigprocmask, sigaltstack, rt_sigpending,
 * rt_sigsuspend, pause, rt_sigtimedwait, kill/tkill/tgkill, rt_sigqueueinfo,
 * alarm and interval timers. These only change the signal state of the
 * processes they name; delivery (and rt_sigreturn) is done by the
 * signal-delivery code, when the receiver next returns to user space (a
 * receiver parked in a syscall is woken by it: EINTR).
 */
import { EAGAIN, EINTR, EINVAL, ENOMEM, EPERM, ESRCH, SysError } from '../errno.js';
import type { Process, Task } from '../process.js';
import { CAP_KILL, capable } from '../cred.js';
import { SA_IA32_ABI, SA_X32_ABI, SS_DISABLE, SS_ONSTACK, SIG_DFL, SIG_IGN, packSigInfo, sigAction, type SigAction, type SigInfo } from '../signal.js';
import type { HandlerTable } from './table.js';
import { SI_TKILL, SI_USER, Struct, type SyscallArgs, monoNs, readView, writeMem } from './util.js';

const SIGKILL = 9, SIGSTOP = 19;
/** Bits of SIGKILL and SIGSTOP in the low mask word. */
const UNBLOCKABLE = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));
const SS_AUTODISARM = 0x80000000;
const MINSIGSTKSZ = 2048;
/** Signals whose default action is to ignore them. */
const DEFAULT_IGNORED = new Set([17, 18, 23, 28]);

function checkSigsetSize(a: SyscallArgs, k: number): void {
  if (a.unum(k) !== 8) throw new SysError(EINVAL);
}

function inMask(lo: number, hi: number, sig: number): boolean {
  const b = sig - 1;
  return b < 32 ? ((lo >>> b) & 1) === 1 : ((hi >>> (b - 32)) & 1) === 1;
}

/**
 * do_sigaction: install `next` (null: only read) for sig and return the
 * action it replaces. The ABI bits (SA_IA32_ABI, SA_X32_ABI) say which frame
 * the handler gets: set from the caller's ABI, never from its flags, and never
 * reported back (Linux's sigaction_compat_abi).
 */
export function doSigaction(p: Process, sig: number, next: SigAction | null, ia32 = false): SigAction {
  if (sig < 1 || sig > 64) throw new SysError(EINVAL);
  if (next !== null && (sig === SIGKILL || sig === SIGSTOP)) throw new SysError(EINVAL);
  const o = p.sigactions[sig];
  const old = { ...o, flags: o.flags & ~(SA_IA32_ABI | SA_X32_ABI) };
  if (next) {
    const flags = (next.flags & ~(SA_IA32_ABI | SA_X32_ABI)) | (ia32 ? SA_IA32_ABI : 0);
    p.sigactions[sig] = sigAction({ ...next, flags, maskLo: next.maskLo & ~UNBLOCKABLE });
    // a signal whose action becomes "ignore" is discarded even while blocked
    if (next.handler === SIG_IGN || (next.handler === SIG_DFL && DEFAULT_IGNORED.has(sig))) {
      p.discardSignal(sig);
    }
  }
  return old;
}

function sysRtSigaction(p: Process, a: SyscallArgs): number {
  const sig = a.int(0), act = a.num(1), oact = a.num(2);
  checkSigsetSize(a, 3);
  let next: SigAction | null = null;
  if (act !== 0) {
    const v = readView(p.mem, act, 32);
    next = {
      handler: v.getUint32(4, true) * 4294967296 + v.getUint32(0, true),
      flags: v.getUint32(8, true),
      restorer: v.getUint32(20, true) * 4294967296 + v.getUint32(16, true),
      maskLo: v.getInt32(24, true),
      maskHi: v.getInt32(28, true),
    };
  }
  const o = doSigaction(p, sig, next);
  if (oact !== 0) {
    const s = new Struct(32).u64(0, o.handler).u64(8, o.flags >>> 0).u64(16, o.restorer).u32(24, o.maskLo).u32(28, o.maskHi);
    writeMem(p.mem, oact, s.bytes);
  }
  return 0;
}

/** How sigprocmask changes the blocked mask (SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK). */
export const SIG_BLOCK = 0, SIG_UNBLOCK = 1, SIG_SETMASK = 2;

/** sigprocmask's work: change the blocked mask by `how` with set (null: only read); returns the old mask. */
export function doSigprocmask(p: Process, how: number, set: { lo: number; hi: number } | null): { lo: number; hi: number } {
  const old = { lo: p.blockedLo, hi: p.blockedHi };
  if (set !== null) {
    switch (how) {
      case SIG_BLOCK:
        p.blockedLo |= set.lo;
        p.blockedHi |= set.hi;
        break;
      case SIG_UNBLOCK:
        p.blockedLo &= ~set.lo;
        p.blockedHi &= ~set.hi;
        break;
      case SIG_SETMASK:
        p.blockedLo = set.lo;
        p.blockedHi = set.hi;
        break;
      default:
        throw new SysError(EINVAL);
    }
    p.blockedLo &= ~UNBLOCKABLE;
  }
  return old;
}

function sysRtSigprocmask(p: Process, a: SyscallArgs): number {
  const how = a.int(0), set = a.num(1), oset = a.num(2);
  checkSigsetSize(a, 3);
  let next: { lo: number; hi: number } | null = null;
  if (set !== 0) {
    const v = readView(p.mem, set, 8);
    next = { lo: v.getInt32(0, true), hi: v.getInt32(4, true) };
  }
  const old = doSigprocmask(p, how, next);
  if (oset !== 0) writeMem(p.mem, oset, new Struct(8).u32(0, old.lo).u32(4, old.hi).bytes);
  return 0;
}

/** The pending signals that are blocked (what sigpending reports). */
export function blockedPending(p: Process): { lo: number; hi: number } {
  let lo = 0, hi = 0;
  for (const s of p.pendingSignals()) {
    if (!inMask(p.blockedLo, p.blockedHi, s)) continue;
    if (s <= 32) lo |= 1 << (s - 1);
    else hi |= 1 << (s - 33);
  }
  return { lo, hi };
}

function sysRtSigpending(p: Process, a: SyscallArgs): number {
  if (a.unum(1) > 8) throw new SysError(EINVAL);
  const { lo, hi } = blockedPending(p);
  const out = new Struct(8).u32(0, lo).u32(4, hi).bytes;
  writeMem(p.mem, a.num(0), out.subarray(0, a.unum(1)));
  return 0;
}

function onAltStack(p: Process, sp: number): boolean {
  const st = p.altstack;
  if (st.flags & SS_DISABLE || st.size === 0) return false;
  return sp > st.sp && sp - st.sp <= st.size;
}

/**
 * do_sigaltstack: set the alternate stack to ss (null: only read) while the
 * user stack pointer is sp, and return the old one as sigaltstack reports it
 * (ss_flags: SS_ONSTACK while on it, SS_DISABLE when there is none).
 */
export function doSigaltstack(p: Process, ss: { sp: number; flags: number; size: number } | null, sp: number): { sp: number; flags: number; size: number } {
  const on = onAltStack(p, sp);
  const old = { ...p.altstack };
  if (ss !== null) {
    if (on) throw new SysError(EPERM);
    const mode = ss.flags & ~SS_AUTODISARM;
    if (mode !== SS_DISABLE && mode !== SS_ONSTACK && mode !== 0) throw new SysError(EINVAL);
    if (mode === SS_DISABLE) p.altstack = { sp: 0, flags: SS_DISABLE, size: 0 };
    else {
      if (ss.size < MINSIGSTKSZ) throw new SysError(ENOMEM);
      p.altstack = { sp: ss.sp, flags: ss.flags & SS_AUTODISARM, size: ss.size };
    }
  }
  const fl = on ? SS_ONSTACK : old.size === 0 || old.flags & SS_DISABLE ? SS_DISABLE : 0;
  return { sp: old.sp, flags: fl | (old.flags & SS_AUTODISARM), size: old.size };
}

function sysSigaltstack(p: Process, a: SyscallArgs): number {
  const ss = a.num(0), oss = a.num(1);
  let next: { sp: number; flags: number; size: number } | null = null;
  if (ss !== 0) {
    const v = readView(p.mem, ss, 24);
    next = { sp: v.getUint32(4, true) * 4294967296 + v.getUint32(0, true), flags: v.getUint32(8, true), size: v.getUint32(20, true) * 4294967296 + v.getUint32(16, true) };
  }
  const old = doSigaltstack(p, next, p.userRsp ?? p.cpu.getNum(4));
  if (oss !== 0) writeMem(p.mem, oss, new Struct(24).u64(0, old.sp).u32(8, old.flags).u64(16, old.size).bytes);
  return 0;
}

/** Wait for a signal that runs a handler or kills (sigsuspend, pause). Always returns -EINTR. */
function suspend(p: Process, what: string): number {
  const r = p.waitForSignal(null);
  if (r === 'deadlock') {
    p.warnOnce(`entrystub: ${what} with no timer armed and no other thread: nothing can ever wake it; returning EINTR`);
    p.restoreSavedMask();
    return -EINTR;
  }
  p.interrupted = 'nohand';
  return -EINTR;
}

/** sigsuspend's work: wait with the blocked mask lo/hi until a signal runs a handler or kills; -EINTR. */
export function doSigsuspend(p: Process, lo: number, hi: number, what: string): number {
  p.savedMask = { lo: p.blockedLo, hi: p.blockedHi };
  p.blockedLo = lo & ~UNBLOCKABLE;
  p.blockedHi = hi;
  return suspend(p, what);
}

function sysRtSigsuspend(p: Process, a: SyscallArgs): number {
  checkSigsetSize(a, 1);
  const v = readView(p.mem, a.num(0), 8);
  return doSigsuspend(p, v.getInt32(0, true), v.getInt32(4, true), 'rt_sigsuspend');
}


function sysRtSigtimedwait(p: Process, a: SyscallArgs): number {
  return doRtSigtimedwait(p, a, 'timespec64', packSigInfo);
}

/**
 * rt_sigtimedwait with the timeout as a struct __kernel_timespec (x86-64's,
 * and i386's rt_sigtimedwait_time64) or an old_timespec32 (i386's
 * rt_sigtimedwait), and the siginfo in the caller's layout (pack).
 */
export function doRtSigtimedwait(p: Process, a: SyscallArgs, timeout: 'timespec64' | 'timespec32', pack: (info: SigInfo) => Uint8Array): number {
  checkSigsetSize(a, 3);
  const v = readView(p.mem, a.num(0), 8);
  const lo = v.getInt32(0, true) & ~UNBLOCKABLE, hi = v.getInt32(4, true);
  const infoAddr = a.num(1), tmo = a.num(2);
  let deadline: bigint | null = null;
  if (tmo !== 0) {
    const t = readView(p.mem, tmo, timeout === 'timespec64' ? 16 : 8);
    const s = timeout === 'timespec64' ? t.getBigInt64(0, true) : BigInt(t.getInt32(0, true));
    const n = timeout === 'timespec64' ? t.getBigInt64(8, true) : BigInt(t.getInt32(4, true));
    if (s < 0n || n < 0n || n > 999999999n) throw new SysError(EINVAL);
    deadline = monoNs() + s * 1000000000n + n;
  }
  deadline = p.retryDeadline(deadline);
  for (;;) {
    p.pollTimers();
    let best = 0;
    for (const s of p.pendingSignals()) if (inMask(lo, hi, s) && (best === 0 || s < best)) best = s;
    if (best) {
      const info = p.takePending(best) ?? { signo: best, code: SI_USER };
      if (infoAddr !== 0) writeMem(p.mem, infoAddr, pack(info));
      return best;
    }
    if (p.hasInterruptingSignal()) {
      p.interrupted = 'nohand';
      throw new SysError(EINTR);
    }
    const now = monoNs();
    if (deadline !== null && now >= deadline) throw new SysError(EAGAIN);
    let until = deadline;
    const real = p.itimers[0].deadline;
    if (real !== 0n && (until === null || real < until)) until = real;
    if (until === null) {
      p.warnOnce('entrystub: rt_sigtimedwait with no timeout and nothing that can send a signal; returning EAGAIN');
      throw new SysError(EAGAIN);
    }
    p.sleep(Number((until - now + 999999n) / 1000000n), deadline);
  }
}

// ---------------------------------------------------------------- sending

function checkSig(sig: number): void {
  if (sig < 0 || sig > 64) throw new SysError(EINVAL);
}

/** kill_ok: the sender may signal the target (CAP_KILL, or its real or effective uid is the target's real or saved uid). */
function mayKill(p: Process, q: Process): boolean {
  return capable(p, CAP_KILL) || p.euid === q.suid || p.euid === q.uid || p.uid === q.suid || p.uid === q.uid;
}

/** Send sig to the processes a kill's pid names; ESRCH if none, EPERM if none may be signalled. */
function sendTo(p: Process, targets: Process[], sig: number, info: SigInfo): number {
  if (targets.length === 0) throw new SysError(ESRCH);
  const allowed = targets.filter((q) => mayKill(p, q));
  if (allowed.length === 0) throw new SysError(EPERM);
  if (sig !== 0) for (const q of allowed) if (!q.ended) q.raise(sig, info);
  return 0;
}

/**
 * kill: one process (pid > 0, a zombie too), the caller's process group
 * (0), another group (-pgid), or every process but the caller (-1: init's
 * role is the emulator's, which no program can signal).
 */
function sysKill(p: Process, a: SyscallArgs): number {
  const pid = a.int(0), sig = a.int(1);
  checkSig(sig);
  if (pid === -2147483648) throw new SysError(ESRCH);
  const info: SigInfo = { signo: sig, code: SI_USER, pid: p.pid, uid: p.uid };
  const all = [...p.kernel.procs.values()];
  if (pid > 0) return sendTo(p, all.filter((q) => q.pid === pid), sig, info);
  if (pid === -1) return sendTo(p, all.filter((q) => q !== p && !q.ended), sig, info);
  const pgrp = pid === 0 ? p.pgid : -pid;
  return sendTo(p, all.filter((q) => q.pgid === pgrp && !q.ended), sig, info);
}

/** The live thread with this tid and its process, or ESRCH. */
function taskOwner(p: Process, tid: number): [Process, Task] {
  for (const t of p.kernel.tasks) if (t.tid === tid && !t.dead) return [t.proc, t];
  throw new SysError(ESRCH);
}

/** tkill, tgkill: one thread (tgid -1: any group); the signal is that thread's alone. */
function sysTkill(p: Process, tid: number, sig: number, tgid = -1): number {
  checkSig(sig);
  if (tid <= 0 || (tgid !== -1 && tgid <= 0)) throw new SysError(EINVAL);
  const [q, t] = taskOwner(p, tid);
  if (tgid !== -1 && q.pid !== tgid) throw new SysError(ESRCH);
  if (!mayKill(p, q)) throw new SysError(EPERM);
  if (sig !== 0) q.raiseTask(t, sig, { signo: sig, code: SI_TKILL, pid: p.pid, uid: p.uid });
  return 0;
}

function sysQueueinfo(p: Process, pid: number, tid: number, sig: number, uinfo: number): number {
  const v = readView(p.mem, uinfo, 128);
  return doQueueinfo(p, pid, tid, sig, v.getInt32(8, true), v.getInt32(16, true), v.getUint32(20, true));
}

/**
 * rt_sigqueueinfo (tid -1) and rt_tgsigqueueinfo: send sig with the
 * caller's si_code, si_pid and si_uid, read from its siginfo by the caller.
 */
export function doQueueinfo(p: Process, pid: number, tid: number, sig: number, code: number, siPid: number, siUid: number): number {
  checkSig(sig);
  if (pid <= 0 || tid === 0 || tid < -1) throw new SysError(EINVAL);
  const [q, t] = tid === -1 ? [p.kernel.procs.get(pid), null] : taskOwner(p, tid);
  if (!q || q.pid !== pid) throw new SysError(ESRCH);
  // another process may not be sent a signal that claims to come from the kernel or kill (Linux's check)
  if (q !== p && (code >= 0 || code === SI_TKILL)) throw new SysError(EPERM);
  const info = { signo: sig, code, pid: siPid, uid: siUid };
  if (t === null) return sendTo(p, [q], sig, info);
  if (!mayKill(p, q)) throw new SysError(EPERM);
  if (sig !== 0) q.raiseTask(t, sig, info);
  return 0;
}

// ---------------------------------------------------------------- timers

/** [value, interval] of itimer `which` in ns (value 0 = disarmed). */
export function timerGet(p: Process, which: number): [bigint, bigint] {
  if (which < 0 || which > 2) throw new SysError(EINVAL);
  const t = p.itimers[which];
  if (t.deadline === 0n) return [0n, t.interval];
  let left = t.deadline - p.timerClock(which);
  if (left <= 0n) left = 1000n; // expired, not yet noticed: report a tiny remainder like Linux
  return [left, t.interval];
}

/** An itimerval's two timevals as [sec, usec] pairs (interval first), in ns; EINVAL if a field is out of range. */
export function itimervalNs(is: bigint, iu: bigint, vs: bigint, vu: bigint): [bigint, bigint] {
  if (is < 0n || vs < 0n || iu < 0n || iu > 999999n || vu < 0n || vu > 999999n) throw new SysError(EINVAL);
  return [vs * 1000000000n + vu * 1000n, is * 1000000000n + iu * 1000n];
}

/** setitimer's work: arm (or disarm, value 0) itimer `which`; returns the old [value, interval]. */
export function timerSet(p: Process, which: number, value: bigint, interval: bigint): [bigint, bigint] {
  const old = timerGet(p, which);
  p.itimers[which] = { deadline: value === 0n ? 0n : p.timerClock(which) + value, interval };
  return old;
}

function packItimerval(v: bigint, i: bigint): Uint8Array {
  const s = new Struct(32);
  s.u64(0, i / 1000000000n).u64(8, (i % 1000000000n) / 1000n);
  s.u64(16, v / 1000000000n).u64(24, (v % 1000000000n) / 1000n);
  return s.bytes;
}

function sysSetitimer(p: Process, a: SyscallArgs): number {
  const which = a.int(0), nw = a.num(1), old = a.num(2);
  if (which < 0 || which > 2) throw new SysError(EINVAL);
  let value = 0n, interval = 0n;
  if (nw !== 0) {
    const v = readView(p.mem, nw, 32);
    [value, interval] = itimervalNs(v.getBigInt64(0, true), v.getBigInt64(8, true), v.getBigInt64(16, true), v.getBigInt64(24, true));
  }
  const [ov, oi] = timerSet(p, which, value, interval);
  if (old !== 0) writeMem(p.mem, old, packItimerval(ov, oi));
  return 0;
}

function sysGetitimer(p: Process, a: SyscallArgs): number {
  const [v, i] = timerGet(p, a.int(0));
  writeMem(p.mem, a.num(1), packItimerval(v, i));
  return 0;
}

function sysAlarm(p: Process, a: SyscallArgs): number {
  const secs = a.u32(0);
  const [left] = timerGet(p, 0);
  let old = Number(left / 1000000000n);
  const us = Number((left % 1000000000n) / 1000n);
  if (us >= 500000) old++;
  if (old === 0 && left > 0n) old = 1;
  p.itimers[0] = { deadline: secs === 0 ? 0n : monoNs() + BigInt(secs) * 1000000000n, interval: 0n };
  return old;
}

export function registerSignal(t: HandlerTable): void {
  t.on(13, sysRtSigaction);
  t.on(14, sysRtSigprocmask);
  t.on(127, sysRtSigpending);
  t.on(128, sysRtSigtimedwait);
  t.on(129, (p, a) => sysQueueinfo(p, a.int(0), -1, a.int(1), a.num(2)));
  t.on(297, (p, a) => sysQueueinfo(p, a.int(0), a.int(1), a.int(2), a.num(3)));
  t.on(130, sysRtSigsuspend);
  t.on(131, sysSigaltstack);
  t.on(34, (p) => suspend(p, 'pause'));
  t.on(62, sysKill);
  t.on(200, (p, a) => sysTkill(p, a.int(0), a.int(1)));
  t.on(234, (p, a) => {
    if (a.int(0) <= 0) throw new SysError(EINVAL);
    return sysTkill(p, a.int(1), a.int(2), a.int(0));
  });
  t.on(219, () => -EINTR); // restart_syscall: nothing to restart (interrupted calls return EINTR)
  t.on(37, sysAlarm);
  t.on(38, sysSetitimer);
  t.on(36, sysGetitimer);
}

