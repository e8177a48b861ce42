/**
 * Waiting for descriptors: poll, ppoll, select and pselect6.
 */
import { EBADF, EINTR, EINVAL, SysError } from '../errno.js';
import { type OpenFile, O_PATH } from '../fdtable.js';
import type { Process } from '../process.js';
import type { HandlerTable } from './table.js';
import { Struct, type SyscallArgs, monoNs, readMem, readTimespec, readView, writeMem, writeTimespec } from './util.js';

const POLLIN = 1, POLLPRI = 2, POLLOUT = 4, POLLERR = 8, POLLHUP = 0x10, POLLNVAL = 0x20, POLLRDNORM = 0x40, POLLWRNORM = 0x100;

/** Ready events of an open file (without waiting). */
function readiness(f: OpenFile): number {
  if (f.kind === 'pipe') {
    const pp = f.pipe!;
    if (f.readable) return (pp.size > 0 ? POLLIN | POLLRDNORM : 0) | (pp.writers === 0 ? POLLHUP : 0);
    if (pp.readers === 0) return POLLERR;
    return pp.full ? 0 : POLLOUT | POLLWRNORM;
  }
  if (f.flags & O_PATH) return POLLNVAL;
  return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
}

/** Wait for readiness with a timeout in ns (null = forever). Returns false on timeout; throws EINTR. */
function pollWait(p: Process, timeoutNs: bigint | null, what: string): void {
  if (timeoutNs === 0n) return;
  const r = p.waitForSignal(timeoutNs === null ? null : monoNs() + timeoutNs);
  if (r === 'signal') {
    p.interrupted = 'nohand';
    throw new SysError(EINTR);
  }
  if (r === 'deadlock') p.warnOnce(`entrystub: ${what} with no timeout on descriptors that can never become ready; returning 0`);
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
  let n = scan();
  if (n === 0) {
    pollWait(p, timeoutNs, 'poll');
    n = scan();
  }
  writeMem(p.mem, fdsAddr, raw);
  return n;
}

function sysPoll(p: Process, a: SyscallArgs): number {
  const t = a.int(2);
  return doPoll(p, a.num(0), a.int(1), t < 0 ? null : BigInt(t) * 1000000n);
}

/** Install a temporary signal mask (ppoll/pselect6); the old one goes to savedMask. */
function tempMask(p: Process, maskAddr: number, size: number): boolean {
  if (maskAddr === 0) return false;
  if (size !== 8) throw new SysError(EINVAL);
  const v = readView(p.mem, maskAddr, 8);
  p.savedMask = { lo: p.blockedLo, hi: p.blockedHi };
  p.blockedLo = v.getInt32(0, true) & ~((1 << 8) | (1 << 18));
  p.blockedHi = v.getInt32(4, true);
  return true;
}

function endTempMask(p: Process, set: boolean, interrupted: boolean): void {
  if (set && !interrupted) p.restoreSavedMask();
}

function readTimeoutNs(p: Process, addr: number): bigint | null {
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
  const scan = (): [number, (Uint8Array | null)[]] => {
    const out = sets.map((s) => (s === null ? null : new Uint8Array(bytes)));
    let n = 0;
    for (let fd = 0; fd < nfds; fd++) {
      const bit = 1 << (fd & 7);
      const e = p.fds.get(fd);
      if (!e) continue;
      const r = readiness(e.file);
      const want = [POLLIN | POLLHUP | POLLERR, POLLOUT | POLLERR, POLLPRI];
      for (let k = 0; k < 3; k++) {
        const s = sets[k];
        if (s && s[fd >> 3] & bit && r & want[k]) {
          out[k]![fd >> 3] |= bit;
          n++;
        }
      }
    }
    return [n, out];
  };
  let [n, out] = scan();
  if (n === 0) {
    pollWait(p, timeoutNs, 'select');
    [n, out] = scan();
  }
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
  t.on(7, sysPoll, 'host terminals, fifos and sockets are always reported ready');
  t.on(23, sysSelect, 'host terminals, fifos and sockets are always reported ready');
  t.on(270, sysPselect6, 'host terminals, fifos and sockets are always reported ready');
  t.on(271, sysPpoll, 'host terminals, fifos and sockets are always reported ready');
}
