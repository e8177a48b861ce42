/**
 * epoll (fs/eventpoll.c): epoll_create, epoll_create1, epoll_ctl,
 * epoll_wait, epoll_pwait and epoll_pwait2 over the readiness model of
 * ready.ts.
 *
 * Linux keeps a ready list filled by wake-up callbacks; here the interest
 * list is scanned when the instance is waited on or polled. A
 * level-triggered item is reported while the file is ready (and goes to
 * the ready list's tail after each report, as ep_send_events requeues it);
 * an edge-triggered one when its ready events gained a bit since the last
 * scan, or when the file says something new arrived (FileOps.seq: a write
 * to an eventfd or socket that was readable already wakes an edge-triggered
 * waiter on Linux too); EPOLLONESHOT disables an item after one report until
 * EPOLL_CTL_MOD. An item goes when its open file does (eventpoll_release).
 */
import { EBADF, EEXIST, EFAULT, EINTR, EINVAL, ELOOP, ENOENT, EPERM, SysError } from '../errno.js';
import { type FileOps, OpenFile, O_CLOEXEC, O_RDWR } from '../fdtable.js';
import type { Process } from '../process.js';
import { POLLERR, POLLHUP, POLLIN, POLLRDNORM, readiness } from '../ready.js';
import { endTempMask, readTimeoutNs, tempMask, waitReady } from './poll.js';
import type { HandlerTable } from './table.js';
import { Struct, type SyscallArgs, accessOk, readView, writeMem } from './util.js';

const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
const EPOLLEXCLUSIVE = 1 << 28, EPOLLWAKEUP = 1 << 29, EPOLLONESHOT = 1 << 30, EPOLLET = 1 << 31;
/** Bits of an item's events that are not poll events (EP_PRIVATE_BITS). */
const EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
/** ep_poll: at most INT_MAX / sizeof(struct epoll_event) events. */
const EP_MAX_EVENTS = Math.floor(0x7fffffff / 12);
/** struct epoll_event is packed on x86-64: u32 events, u64 data. */
const EPOLL_EVENT_SIZE = 12;

interface EpItem {
  fd: number;
  file: OpenFile;
  events: number;
  /** The 64-bit user data as two halves (returned as given). */
  dataLo: number;
  dataHi: number;
  /** Ready events at the last scan (edge detection). */
  last: number;
  /** The file's FileOps.seq at the last scan. */
  seq: number;
  /** On the ready list. */
  ready: boolean;
}

export class EventPoll implements FileOps<Process> {
  readonly name = 'anon_inode:[eventpoll]';
  readonly items: EpItem[] = [];
  /** Items found ready and not yet reported, in the order they became ready. */
  private rdlist: EpItem[] = [];
  /** Scanning (an epoll set inside another that contains it back would loop). */
  private scanning = false;

  get hostBacked(): boolean {
    return this.items.some((it) => it.file.ops?.hostBacked === true);
  }

  wakeAt(): bigint | null {
    let at: bigint | null = null;
    for (const it of this.items) {
      const t = it.file.ops?.wakeAt?.() ?? null;
      if (t !== null && (at === null || t < at)) at = t;
    }
    return at;
  }

  /** Look at every item: put the ones that became ready on the ready list. */
  scan(): void {
    if (this.scanning) return;
    this.scanning = true;
    try {
      for (let k = 0; k < this.items.length; k++) {
        const it = this.items[k];
        if (it.file.refs === 0) {
          // its file is gone: eventpoll_release removed it
          this.remove(it);
          k--;
          continue;
        }
        const mask = it.events & ~EP_PRIVATE_BITS;
        const now = readiness(it.file) & mask;
        const seq = it.file.ops?.seq ?? 0;
        const fresh = (now & ~it.last) !== 0 || (seq !== it.seq && now !== 0);
        it.last = now;
        it.seq = seq;
        if (it.ready || now === 0 || mask === 0) continue;
        if (it.events & EPOLLET && !fresh) continue;
        it.ready = true;
        this.rdlist.push(it);
      }
    } finally {
      this.scanning = false;
    }
  }

  poll(): number {
    this.scan();
    // an item is reported only if it is still ready when the list is read (ep_read_events_proc)
    return this.rdlist.some((it) => (readiness(it.file) & it.events & ~EP_PRIVATE_BITS) !== 0) ? POLLIN | POLLRDNORM : 0;
  }

  /** ep_send_events: up to max ready items as struct epoll_event, requeuing the level-triggered ones. */
  sendEvents(max: number): Uint8Array[] {
    this.scan();
    const out: Uint8Array[] = [];
    const requeue: EpItem[] = [];
    while (out.length < max && this.rdlist.length > 0) {
      const it = this.rdlist.shift()!;
      it.ready = false;
      const rev = readiness(it.file) & it.events & ~EP_PRIVATE_BITS;
      if (rev === 0) continue;
      out.push(new Struct(EPOLL_EVENT_SIZE).u32(0, rev).u32(4, it.dataLo).u32(8, it.dataHi).bytes);
      if (it.events & EPOLLONESHOT) it.events &= EP_PRIVATE_BITS;
      else if (!(it.events & EPOLLET)) {
        it.ready = true;
        requeue.push(it);
      }
    }
    this.rdlist.push(...requeue);
    return out;
  }

  remove(it: EpItem): void {
    this.items.splice(this.items.indexOf(it), 1);
    this.rdlist = this.rdlist.filter((x) => x !== it);
  }

  release(): void {
    this.items.length = 0;
    this.rdlist = [];
  }
}

function epollCreate(p: Process, flags: number): number {
  if (flags & ~O_CLOEXEC) throw new SysError(EINVAL);
  const f = new OpenFile('anon', O_RDWR);
  f.ops = new EventPoll();
  f.guestPath = f.ops.name;
  return p.fds.alloc(f, (flags & O_CLOEXEC) !== 0);
}

/** An epoll descriptor: open (EBADF) and an epoll instance (EINVAL). */
function epollOf(p: Process, epfd: number): EventPoll {
  const e = p.fds.get(epfd);
  if (!e) throw new SysError(EBADF);
  if (!(e.file.ops instanceof EventPoll)) throw new SysError(EINVAL);
  return e.file.ops;
}

/** Whether ep is reachable from the epoll set `from` (an epoll inside an epoll inside ...): a loop (ELOOP). */
function reaches(from: EventPoll, ep: EventPoll, depth = 0): boolean {
  if (from === ep) return true;
  if (depth > 5) return true; // EP_MAX_NESTS
  return from.items.some((it) => it.file.ops instanceof EventPoll && reaches(it.file.ops, ep, depth + 1));
}

function epollCtl(p: Process, a: SyscallArgs): number {
  const op = a.int(1), fd = a.int(2);
  let events = 0, dataLo = 0, dataHi = 0;
  if (op !== EPOLL_CTL_DEL) {
    const v = readView(p.mem, a.num(3), EPOLL_EVENT_SIZE);
    events = v.getUint32(0, true) | 0;
    dataLo = v.getUint32(4, true);
    dataHi = v.getUint32(8, true);
  }
  const epE = p.fds.get(a.int(0));
  if (!epE) throw new SysError(EBADF);
  const tE = p.fds.get(fd);
  if (!tE) throw new SysError(EBADF);
  const target = tE.file;
  // files without a poll method (regular files, directories) cannot be watched
  if (target.ops === null && target.kind !== 'pipe' && target.kind !== 'fifo' && target.kind !== 'chr' && target.kind !== 'sock') throw new SysError(EPERM);
  if (epE.file === target || !(epE.file.ops instanceof EventPoll)) throw new SysError(EINVAL);
  const ep = epE.file.ops;
  if (events & EPOLLEXCLUSIVE) {
    if (op === EPOLL_CTL_MOD) throw new SysError(EINVAL);
    if (op === EPOLL_CTL_ADD && (target.ops instanceof EventPoll || events & ~(EPOLLEXCLUSIVE | EPOLLET | EPOLLWAKEUP | 0x1f | 0x40 | 0x100 | 0x2000) || events & EPOLLONESHOT)) throw new SysError(EINVAL);
  }
  const idx = ep.items.findIndex((it) => it.fd === fd && it.file === target);
  switch (op) {
    case EPOLL_CTL_ADD: {
      if (idx >= 0) throw new SysError(EEXIST);
      if (target.ops instanceof EventPoll && reaches(target.ops, ep)) throw new SysError(ELOOP);
      ep.items.push({ fd, file: target, events: events | POLLERR | POLLHUP, dataLo, dataHi, last: 0, seq: -1, ready: false });
      return 0;
    }
    case EPOLL_CTL_DEL:
      if (idx < 0) throw new SysError(ENOENT);
      ep.remove(ep.items[idx]);
      return 0;
    case EPOLL_CTL_MOD: {
      if (idx < 0) throw new SysError(ENOENT);
      const it = ep.items[idx];
      if (it.events & EPOLLEXCLUSIVE) throw new SysError(EINVAL);
      it.events = events | POLLERR | POLLHUP;
      it.dataLo = dataLo;
      it.dataHi = dataHi;
      it.last = 0;
      it.seq = -1;
      return 0;
    }
  }
  throw new SysError(EINVAL);
}

function doEpollWait(p: Process, epfd: number, addr: number, max: number, timeoutNs: bigint | null): number {
  if (max <= 0 || max > EP_MAX_EVENTS) throw new SysError(EINVAL);
  if (!accessOk(addr, max * EPOLL_EVENT_SIZE)) throw new SysError(EFAULT);
  const ep = epollOf(p, epfd);
  const e = p.fds.get(epfd)!;
  let got: Uint8Array[] = [];
  waitReady(
    p,
    timeoutNs,
    'epoll_wait',
    () => {
      got = ep.sendEvents(max);
      return got.length;
    },
    () => [e.file],
  );
  const out = new Uint8Array(got.length * EPOLL_EVENT_SIZE);
  got.forEach((b, k) => out.set(b, k * EPOLL_EVENT_SIZE));
  writeMem(p.mem, addr, out);
  return got.length;
}

function msTimeout(ms: number): bigint | null {
  return ms < 0 ? null : BigInt(ms) * 1000000n;
}

/** epoll_pwait, epoll_pwait2: the wait under a temporary signal mask. */
function withMask(p: Process, maskAddr: number, size: number, wait: () => number): number {
  const set = tempMask(p, maskAddr, size);
  let intr = false;
  try {
    return wait();
  } catch (err) {
    intr = err instanceof SysError && err.errno === EINTR;
    throw err;
  } finally {
    endTempMask(p, set, intr);
  }
}

export function registerEpoll(t: HandlerTable): void {
  t.on(213, (p, a) => {
    if (a.int(0) <= 0) throw new SysError(EINVAL);
    return epollCreate(p, 0);
  });
  t.on(291, (p, a) => epollCreate(p, a.int(0)));
  t.on(233, epollCtl, 'no loop check deeper than the nesting limit; EPOLLWAKEUP is kept but means nothing here');
  t.on(232, (p, a) => doEpollWait(p, a.int(0), a.num(1), a.int(2), msTimeout(a.int(3))));
  t.on(281, (p, a) => withMask(p, a.num(4), a.unum(5), () => doEpollWait(p, a.int(0), a.num(1), a.int(2), msTimeout(a.int(3)))));
  t.on(441, (p, a) => {
    const timeout = readTimeoutNs(p, a.num(3));
    return withMask(p, a.num(4), a.unum(5), () => doEpollWait(p, a.int(0), a.num(1), a.int(2), timeout));
  });
}
