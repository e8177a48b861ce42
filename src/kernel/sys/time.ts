/**
 * Time syscalls: clock_gettime/getres, gettimeofday, time, nanosleep,
 * clock_nanosleep. Sleeps really sleep (Atomics.wait) and are interrupted
 * by signals that run a handler (armed alarms/itimers).
 */
import { EINTR, EINVAL, EPERM, SysError } from '../errno.js';
import type { Process } from '../process.js';
import type { HandlerTable } from './table.js';
import { Struct, type SyscallArgs, monoNs, readTimespec, realNs, write64, writeMem, writeTimespec, writeTimeval } from './util.js';

export const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_PROCESS_CPUTIME_ID = 2, CLOCK_THREAD_CPUTIME_ID = 3;
export const CLOCK_MONOTONIC_RAW = 4, CLOCK_REALTIME_COARSE = 5, CLOCK_MONOTONIC_COARSE = 6, CLOCK_BOOTTIME = 7;
export const CLOCK_REALTIME_ALARM = 8, CLOCK_BOOTTIME_ALARM = 9, CLOCK_TAI = 11;
const TIMER_ABSTIME = 1;
const TAI_OFFSET = 37n * 1000000000n;

/** Current value of a clock in ns; throws EINVAL for an unknown clock. */
export function clockNs(p: Process, clk: number): bigint {
  switch (clk) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
    case CLOCK_REALTIME_ALARM:
      return realNs();
    case CLOCK_TAI:
      return realNs() + TAI_OFFSET;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
    case CLOCK_BOOTTIME_ALARM:
      return monoNs();
    case CLOCK_PROCESS_CPUTIME_ID:
    case CLOCK_THREAD_CPUTIME_ID:
      return p.cpuNs()[1];
  }
  if (clk < 0) {
    // CPU-time clock of a process/thread: ~pid << 3 | type (0 prof, 1 virt, 2 sched) | 4 for a thread
    const pid = ~(clk >> 3);
    const type = clk & 3;
    if ((pid === 0 || pid === p.pid) && type !== 3) {
      const [u, t] = p.cpuNs();
      return type === 1 ? u : t;
    }
  }
  throw new SysError(EINVAL);
}

function sysClockGettime(p: Process, a: SyscallArgs): number {
  writeTimespec(p.mem, a.num(1), clockNs(p, a.int(0)));
  return 0;
}

/** A clock's resolution in ns (the coarse clocks tick with the 250 Hz jiffy); throws EINVAL for an unknown clock. */
export function clockResNs(p: Process, clk: number): bigint {
  clockNs(p, clk); // validates
  return clk === CLOCK_REALTIME_COARSE || clk === CLOCK_MONOTONIC_COARSE ? 4000000n : 1n;
}

function sysClockGetres(p: Process, a: SyscallArgs): number {
  const res = clockResNs(p, a.int(0));
  if (a.num(1) !== 0) writeTimespec(p.mem, a.num(1), res);
  return 0;
}

function sysGettimeofday(p: Process, a: SyscallArgs): number {
  if (a.num(0) !== 0) writeTimeval(p.mem, a.num(0), realNs());
  if (a.num(1) !== 0) writeMem(p.mem, a.num(1), new Struct(8).bytes);
  return 0;
}

function sysTime(p: Process, a: SyscallArgs): number {
  const s = Number(realNs() / 1000000000n);
  if (a.num(0) !== 0) write64(p.mem, a.num(0), s);
  return s;
}

function readReq(p: Process, addr: number): bigint {
  const [s, n] = readTimespec(p.mem, addr);
  return sleepNs(s, n);
}

/** A sleep's timespec in ns: EINVAL unless both fields are in range (timespec64_valid). */
export function sleepNs(s: bigint, n: bigint): bigint {
  if (s < 0n || n < 0n || n > 999999999n) throw new SysError(EINVAL);
  return s * 1000000000n + n;
}

/** Sleep until a monotonic deadline; returns the time left if a signal interrupted it, else null. */
function sleepUntil(p: Process, deadline: bigint): bigint | null {
  const r = p.waitForSignal(deadline);
  if (r === 'signal') {
    const left = deadline - monoNs();
    return left > 0n ? left : 0n;
  }
  return null;
}

function sysNanosleep(p: Process, a: SyscallArgs): number {
  const rem = a.num(1);
  return doClockNanosleep(p, CLOCK_MONOTONIC, 0, () => readReq(p, a.num(0)), rem !== 0 ? (left) => writeTimespec(p.mem, rem, left) : null);
}

function sysClockNanosleep(p: Process, a: SyscallArgs): number {
  const rem = a.num(3);
  return doClockNanosleep(p, a.int(0), a.int(1), () => readReq(p, a.num(2)), rem !== 0 ? (left) => writeTimespec(p.mem, rem, left) : null);
}

/**
 * clock_nanosleep (and nanosleep, on CLOCK_MONOTONIC): sleep for the time
 * req reads (in ns, read after the clock is checked, as Linux does), or
 * until it on the clock with TIMER_ABSTIME; a signal that interrupts a
 * relative sleep has the time left written by rem.
 */
export function doClockNanosleep(p: Process, clk: number, flags: number, readReqNs: () => bigint, rem: ((left: bigint) => void) | null): number {
  if (clk === CLOCK_THREAD_CPUTIME_ID) throw new SysError(EINVAL);
  const now = clockNs(p, clk);
  const req = readReqNs();
  const cpuClock = clk === CLOCK_PROCESS_CPUTIME_ID || clk < 0;
  if (cpuClock) {
    // the process's CPU time does not advance while it sleeps
    p.warnOnce('entrystub: clock_nanosleep on a CPU-time clock never ends while sleeping; returning at once');
    return 0;
  }
  const rel = flags & TIMER_ABSTIME ? req - now : req;
  const left = sleepUntil(p, monoNs() + (rel > 0n ? rel : 0n));
  if (left === null) return 0;
  if (!(flags & TIMER_ABSTIME) && rem !== null) rem(left);
  p.interrupted = 'block';
  return -EINTR;
}

export function registerTime(t: HandlerTable): void {
  t.on(228, sysClockGettime);
  t.on(229, sysClockGetres);
  t.on(227, () => {
    throw new SysError(EPERM);
  }, "EPERM even for root: the host's clock is not the program's to set");
  t.on(96, sysGettimeofday);
  t.on(164, () => {
    throw new SysError(EPERM);
  }, "EPERM even for root: the host's clock is not the program's to set");
  t.on(201, sysTime);
  t.on(35, sysNanosleep);
  t.on(230, sysClockNanosleep, 'a sleep on a CPU-time clock returns at once (with a report)');
}

