/**
 * Waiting for descriptors: poll, ppoll, select and pselect6, over the
 * readiness model of ready.ts (pipes, sockets, eventfd, timerfd, epoll).
 */
import { EBADF, EINTR, EINVAL, SysError } from '../errno.js';
import type { OpenFile } from '../fdtable.js';
import type { Process } from '../process.js';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM, readiness, waitEvent, wakeOf } from '../ready.js';
import type { HandlerTable } from './table.js';
import { Struct, type SyscallArgs, monoNs, readMem, readTimespec, readView, writeMem, writeTimespec } from './util.js';

/**
 * Scan until something is ready or the wait ends: scan() returns how many
 * are ready; files() the open files it looks at (what may wake the wait).
 * Returns the last scan's count; throws EINTR for a signal.
 */
export function waitReady(p: Process, timeoutNs: bigint | null, what: string, scan: () => number, files: () => Iterable<OpenFile>): number {
  let n = scan();
  if (n > 0 || timeoutNs === 0n) return n;
  const deadline = timeoutNs === null ? null : monoNs() + timeoutNs;
  for (;;) {
    const r = waitEvent(p, deadline, wakeOf(files()));
    if (r === 'signal') {
      p.interrupted = 'nohand';
      throw new SysError(EINTR);
    }
    n = scan();
    if (n > 0 || r === 'timeout') return n;
    if (r === 'deadlock') {
      p.warnOnce(`entrystub: ${what} with no timeout on descriptors that can never become ready; returning 0`);
      return 0;
    }
  }
}

function doPoll(p: Process, fdsAddr: number, nfds: number, timeoutNs: bigint | null): number {
  if (nfds < 0 || nfds > p.fds.limit) throw new SysError(EINVAL);
  const raw = readMem(p.mem, fdsAddr, nfds * 8).slice();
  const dv = new DataView(raw.buffer);
  const scan = (): number => {
    let n = 0;
    for (let k = 0; k < nfds; k++) {
      const fd = dv.getInt32(k * 8, true);
      const ev = dv.getInt16(k * 8 + 4, true);
      let rev = 0;
      if (fd >= 0) {
        const e = p.fds.get(fd);
        rev = e ? readiness(e.file) & (ev | POLLERR | POLLHUP | POLLNVAL) : POLLNVAL;
      }
      dv.setInt16(k * 8 + 6, rev, true);
      if (rev) n++;
    }
    return n;
  };
  const files = function* () {
    for (let k = 0; k < nfds; k++) {
      const e = p.fds.get(dv.getInt32(k * 8, true));
      if (e) yield e.file;
    }
  };
  const n = waitReady(p, timeoutNs, 'poll', scan, files);
  writeMem(p.mem, fdsAddr, raw);
  return n;
}

function sysPoll(p: Process, a: SyscallArgs): number {
  const t = a.int(2);
  return doPoll(p, a.num(0), a.int(1), t < 0 ? null : BigInt(t) * 1000000n);
}

/** Install a temporary signal mask (ppoll/pselect6/epoll_pwait); the old one goes to savedMask. */
export function tempMask(p: Process, maskAddr: number, size: number): boolean {
  if (maskAddr === 0) return false;
  if (size !== 8) throw new SysError(EINVAL);
  const v = readView(p.mem, maskAddr, 8);
  p.savedMask = { lo: p.blockedLo, hi: p.blockedHi };
  p.blockedLo = v.getInt32(0, true) & ~((1 << 8) | (1 << 18));
  p.blockedHi = v.getInt32(4, true);
  return true;
}

export function endTempMask(p: Process, set: boolean, interrupted: boolean): void {
  if (set && !interrupted) p.restoreSavedMask();
}

export function readTimeoutNs(p: Process, addr: number): bigint | null {
  if (addr === 0) return null;
  const [s, n] = readTimespec(p.mem, addr);
  if (s < 0n || n < 0n || n > 999999999n) throw new SysError(EINVAL);
  return s * 1000000000n + n;
}

function sysPpoll(p: Process, a: SyscallArgs): number {
  const timeout = readTimeoutNs(p, a.num(2));
  const start = monoNs();
  const set = tempMask(p, a.num(3), a.unum(4));
  let intr = false;
  try {
    return doPoll(p, a.num(0), a.int(1), timeout);
  } catch (e) {
    intr = e instanceof SysError && e.errno === EINTR;
    throw e;
  } finally {
    endTempMask(p, set, intr);
    if (a.num(2) !== 0 && timeout !== null) {
      const left = timeout - (monoNs() - start);
      try {
        writeTimespec(p.mem, a.num(2), left > 0n ? left : 0n);
      } catch {
        /* ignore */
      }
    }
  }
}

function doSelect(p: Process, nfds: number, rAddr: number, wAddr: number, eAddr: number, timeoutNs: bigint | null): number {
  if (nfds < 0) throw new SysError(EINVAL);
  nfds = Math.min(nfds, p.fds.limit);
  const bytes = Math.ceil(nfds / 64) * 8;
  const sets = [rAddr, wAddr, eAddr].map((ad) => (ad === 0 ? null : readMem(p.mem, ad, bytes).slice()));
  // every fd named must be open
  for (let fd = 0; fd < nfds; fd++) {
    const named = sets.some((s) => s !== null && (s[fd >> 3] >> (fd & 7)) & 1);
    if (named && !p.fds.get(fd)) throw new SysError(EBADF);
  }
  let out: (Uint8Array | null)[] = [];
  // select's sets (fs/select.c): POLLIN_SET, POLLOUT_SET, POLLEX_SET
  const want = [POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR, POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR, POLLPRI];
  const scan = (): number => {
    out = sets.map((s) => (s === null ? null : new Uint8Array(bytes)));
    let n = 0;
    for (let fd = 0; fd < nfds; fd++) {
      const bit = 1 << (fd & 7);
      const e = p.fds.get(fd);
      if (!e) continue;
      const r = readiness(e.file);
      for (let k = 0; k < 3; k++) {
        const s = sets[k];
        if (s && s[fd >> 3] & bit && r & want[k]) {
          out[k]![fd >> 3] |= bit;
          n++;
        }
      }
    }
    return n;
  };
  const files = function* () {
    for (let fd = 0; fd < nfds; fd++) {
      const e = sets.some((s) => s !== null && (s[fd >> 3] >> (fd & 7)) & 1) ? p.fds.get(fd) : undefined;
      if (e) yield e.file;
    }
  };
  const n = waitReady(p, timeoutNs, 'select', scan, files);
  [rAddr, wAddr, eAddr].forEach((ad, k) => {
    if (ad !== 0) writeMem(p.mem, ad, out[k]!);
  });
  return n;
}

function sysSelect(p: Process, a: SyscallArgs): number {
  const tv = a.num(4);
  let timeout: bigint | null = null;
  if (tv !== 0) {
    const v = readView(p.mem, tv, 16);
    const s = v.getBigInt64(0, true), us = v.getBigInt64(8, true);
    if (s < 0n || us < 0n) throw new SysError(EINVAL);
    timeout = s * 1000000000n + us * 1000n;
  }
  const start = monoNs();
  const n = doSelect(p, a.int(0), a.num(1), a.num(2), a.num(3), timeout);
  if (tv !== 0 && timeout !== null) {
    const left = timeout - (monoNs() - start);
    const l = left > 0n ? left : 0n;
    writeMem(p.mem, tv, new Struct(16).u64(0, l / 1000000000n).u64(8, (l % 1000000000n) / 1000n).bytes);
  }
  return n;
}

function sysPselect6(p: Process, a: SyscallArgs): number {
  const timeout = readTimeoutNs(p, a.num(4));
  let set = false;
  const sig = a.num(5);
  if (sig !== 0) {
    const v = readView(p.mem, sig, 16);
    const maskAddr = v.getInt32(4, true) * 4294967296 + v.getUint32(0, true);
    set = tempMask(p, maskAddr, Number(v.getBigUint64(8, true)));
  }
  let intr = false;
  try {
    return doSelect(p, a.int(0), a.num(1), a.num(2), a.num(3), timeout);
  } catch (e) {
    intr = e instanceof SysError && e.errno === EINTR;
    throw e;
  } finally {
    endTempMask(p, set, intr);
  }
}

export function registerPoll(t: HandlerTable): void {
  t.on(7, sysPoll, 'host terminals, fifos and sockets the emulator inherited are always reported ready');
  t.on(23, sysSelect, 'host terminals, fifos and sockets the emulator inherited are always reported ready');
  t.on(270, sysPselect6, 'host terminals, fifos and sockets the emulator inherited are always reported ready');
  t.on(271, sysPpoll, 'host terminals, fifos and sockets the emulator inherited are always reported ready');
}
