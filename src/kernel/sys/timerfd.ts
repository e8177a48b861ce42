/**
 * timerfd_create, timerfd_settime and timerfd_gettime (fs/timerfd.c): a
 * timer on CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_BOOTTIME whose
 * expirations are counted and read as a 64-bit number. Expirations are
 * counted when looked at (a read, a poll, gettime), from the clock: nothing
 * runs between, and a wait on the timer wakes at its next expiry
 * (FileOps.wakeAt).
 */
import { EBADF, EINVAL, EPERM, SysError } from '../errno.js';
import { type FileOps, OpenFile, O_CLOEXEC, O_NONBLOCK, O_RDWR } from '../fdtable.js';
import type { Process } from '../process.js';
import { POLLIN, POLLRDNORM, waitFor } from '../ready.js';
import type { HandlerTable } from './table.js';
import { Struct, type SyscallArgs, monoNs, readView, realNs, splitNs, writeMem } from './util.js';

const CLOCK_REALTIME = 0, CLOCK_MONOTONIC = 1, CLOCK_BOOTTIME = 7, CLOCK_REALTIME_ALARM = 8, CLOCK_BOOTTIME_ALARM = 9;
const TFD_TIMER_ABSTIME = 1, TFD_TIMER_CANCEL_ON_SET = 2;

class TimerFd implements FileOps<Process> {
  readonly name = 'anon_inode:[timerfd]';
  /** Next expiry in the timer's clock (ns); 0n: disarmed. */
  deadline = 0n;
  interval = 0n;
  /** Expirations not read yet. */
  ticks = 0n;
  constructor(readonly clock: number) {}

  now(): bigint {
    return this.clock === CLOCK_REALTIME || this.clock === CLOCK_REALTIME_ALARM ? realNs() : monoNs();
  }

  /** Count the expirations up to now (timerfd_tmrproc, and hrtimer_forward for an interval). */
  update(): void {
    if (this.deadline === 0n) return;
    const now = this.now();
    if (now < this.deadline) return;
    if (this.interval > 0n) {
      const n = (now - this.deadline) / this.interval + 1n;
      this.ticks += n;
      this.deadline += n * this.interval;
    } else {
      this.ticks += 1n;
      this.deadline = 0n;
    }
  }

  poll(): number {
    this.update();
    return this.ticks > 0n ? POLLIN | POLLRDNORM : 0;
  }

  wakeAt(): bigint | null {
    if (this.deadline === 0n || this.ticks > 0n) return null;
    return this.deadline - this.now() + monoNs();
  }

  read(p: Process, f: OpenFile, len: number): Uint8Array {
    if (len < 8) throw new SysError(EINVAL);
    waitFor(p, f, () => (this.update(), this.ticks > 0n), 'read of a timerfd');
    const v = this.ticks;
    this.ticks = 0n;
    return new Struct(8).u64(0, v).bytes;
  }

  /** struct itimerspec of the timer now: the interval, and the time left to the next expiry. */
  itimerspec(): Uint8Array {
    this.update();
    const left = this.deadline === 0n ? 0n : this.deadline - this.now();
    const [is, ins] = splitNs(this.interval);
    const [vs, vns] = splitNs(left > 0n ? left : 1n);
    const s = new Struct(32).u64(0, is).u64(8, ins);
    if (this.deadline !== 0n) s.u64(16, vs).u64(24, vns);
    return s.bytes;
  }

  release(): void {}
}

function timerfdCreate(p: Process, clock: number, flags: number): number {
  if (![CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM].includes(clock)) throw new SysError(EINVAL);
  if (flags & ~(O_CLOEXEC | O_NONBLOCK)) throw new SysError(EINVAL);
  // the alarm clocks need CAP_WAKE_ALARM (35)
  if ((clock === CLOCK_REALTIME_ALARM || clock === CLOCK_BOOTTIME_ALARM) && !((p.caps.eff >> 35n) & 1n)) throw new SysError(EPERM);
  const f = new OpenFile('anon', O_RDWR | (flags & O_NONBLOCK));
  f.ops = new TimerFd(clock);
  f.guestPath = f.ops.name;
  return p.fds.alloc(f, (flags & O_CLOEXEC) !== 0);
}

/** timerfd_fget: the descriptor must be open (EBADF) and a timerfd (EINVAL). */
function timerOf(p: Process, fd: number): TimerFd {
  const e = p.fds.get(fd);
  if (!e) throw new SysError(EBADF);
  if (!(e.file.ops instanceof TimerFd)) throw new SysError(EINVAL);
  return e.file.ops;
}

function readTimespecNs(v: DataView, off: number): bigint {
  const s = v.getBigInt64(off, true), ns = v.getBigInt64(off + 8, true);
  if (s < 0n || ns < 0n || ns > 999999999n) throw new SysError(EINVAL);
  return s * 1000000000n + ns;
}

function timerfdSettime(p: Process, a: SyscallArgs): number {
  const flags = a.int(1);
  const v = readView(p.mem, a.num(2), 32);
  const interval = readTimespecNs(v, 0), value = readTimespecNs(v, 16);
  if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) throw new SysError(EINVAL);
  const t = timerOf(p, a.int(0));
  if (a.num(3) !== 0) writeMem(p.mem, a.num(3), t.itimerspec());
  t.ticks = 0n;
  t.interval = interval;
  if (value === 0n) t.deadline = 0n;
  else t.deadline = flags & TFD_TIMER_ABSTIME ? value : t.now() + value;
  if (t.deadline === 0n && value !== 0n) t.deadline = 1n; // an absolute time 0 with the clock past it: expired at once
  return 0;
}

function timerfdGettime(p: Process, a: SyscallArgs): number {
  const t = timerOf(p, a.int(0));
  writeMem(p.mem, a.num(1), t.itimerspec());
  return 0;
}

export function registerTimerfd(t: HandlerTable): void {
  t.on(283, (p, a) => timerfdCreate(p, a.int(0), a.int(1)));
  t.on(286, timerfdSettime, 'TFD_TIMER_CANCEL_ON_SET is accepted but a clock change never cancels');
  t.on(287, timerfdGettime);
}
