/**
 * eventfd and eventfd2 (fs/eventfd.c): a 64-bit counter behind a descriptor.
 * A read takes the whole count (EFD_SEMAPHORE: one) and waits while it is 0;
 * a write adds and waits while the sum would pass 0xfffffffffffffffe.
 */
import { EINVAL, SysError } from '../errno.js';
import { type FileOps, OpenFile, O_CLOEXEC, O_NONBLOCK, O_RDWR } from '../fdtable.js';
import type { Process } from '../process.js';
import { POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, waitFor } from '../ready.js';
import type { HandlerTable } from './table.js';
import { Struct } from './util.js';

const EFD_SEMAPHORE = 1;
const ULLONG_MAX = 0xffffffffffffffffn;

class EventFd implements FileOps<Process> {
  readonly name = 'anon_inode:[eventfd]';
  seq = 0;
  constructor(
    public count: bigint,
    readonly semaphore: boolean,
  ) {}

  poll(): number {
    let m = 0;
    if (this.count > 0n) m |= POLLIN | POLLRDNORM;
    if (this.count === ULLONG_MAX) m |= POLLERR;
    if (ULLONG_MAX - 1n > this.count) m |= POLLOUT | POLLWRNORM;
    return m;
  }

  read(p: Process, f: OpenFile, len: number): Uint8Array {
    if (len < 8) throw new SysError(EINVAL);
    waitFor(p, f, () => this.count > 0n, 'read of an eventfd');
    const v = this.semaphore ? 1n : this.count;
    this.count -= v;
    return new Struct(8).u64(0, v).bytes;
  }

  write(p: Process, f: OpenFile, data: Uint8Array): number {
    if (data.length < 8) throw new SysError(EINVAL);
    const v = new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true);
    if (v === ULLONG_MAX) throw new SysError(EINVAL);
    waitFor(p, f, () => ULLONG_MAX - this.count > v, 'write of an eventfd');
    this.count += v;
    this.seq++;
    return 8;
  }

  release(): void {}
}

function eventfd2(p: Process, count: number, flags: number): number {
  if (flags & ~(EFD_SEMAPHORE | O_CLOEXEC | O_NONBLOCK)) throw new SysError(EINVAL);
  const f = new OpenFile('anon', O_RDWR | (flags & O_NONBLOCK));
  f.ops = new EventFd(BigInt(count >>> 0), (flags & EFD_SEMAPHORE) !== 0);
  f.guestPath = f.ops.name;
  return p.fds.alloc(f, (flags & O_CLOEXEC) !== 0);
}

export function registerEventfd(t: HandlerTable): void {
  t.on(284, (p, a) => eventfd2(p, a.u32(0), 0));
  t.on(290, (p, a) => eventfd2(p, a.u32(0), a.int(1)));
}
