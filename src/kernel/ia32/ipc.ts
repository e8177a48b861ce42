/**
 * System V IPC for i386 programs, as ipc/compat.c and the compat_ksys_*
 * functions of ipc/{shm,sem,msg}.c give it: the direct calls (semctl,
 * shmctl, msgctl with the IPC_64 layouts: compat_semid64_ds...; msgsnd and
 * msgrcv with a 32-bit mtype; shmat; semtimedop_time64) and the `ipc`
 * multiplexer that glibc and musl use on i386 (call numbers SEMOP ...
 * SHMCTL, the version in the call's high 16 bits: the *ctl commands carry
 * IPC_64 for the new layouts and take the old ones (compat_ipc_perm with
 * 16-bit ids...) without it, and an old msgrcv passes its buffer and type
 * through a struct ipc_kludge). The families themselves are ../ipc/'s.
 */
import { EINVAL, ENOSYS, SysError } from '../errno.js';
import { IPC_64 } from '../ipc/ids.js';
import type { IpcAbi } from '../ipc/layout.js';
import { msgctl, msgget, msgrcv, msgsnd } from '../ipc/msg.js';
import { semctl, semget, semtimedop } from '../ipc/sem.js';
import { shmat, shmctl, shmdt, shmget } from '../ipc/shm.js';
import type { Process } from '../process.js';
import { readTimeoutNs } from '../sys/ipc.js';
import type { Handler } from '../sys/table.js';
import { SyscallArgs, readView, write32 } from '../sys/util.js';

/** The layout a multiplexed *ctl uses and its command (compat_ipc_parse_version). */
function parseVersion(cmd: number): [number, IpcAbi] {
  return [cmd & ~IPC_64, cmd & IPC_64 ? 'compat64' : 'old'];
}

/** The direct calls that differ from x86-64's, by i386 name. */
export const IPC_COMPAT: Record<string, Handler> = {
  semctl: (p, a) => semctl(p, a.int(0), a.int(1), a.int(2), a.u32(3), 'compat64'),
  shmctl: (p, a) => shmctl(p, a.int(0), a.int(1), a.u32(2), 'compat64'),
  msgctl: (p, a) => msgctl(p, a.int(0), a.int(1), a.u32(2), 'compat64'),
  shmat: (p, a) => shmat(p, a.int(0), a.u32(1), a.int(2)),
  msgsnd: (p, a) => msgsnd(p, a.int(0), a.u32(1), a.int(2), a.int(3), 4),
  msgrcv: (p, a) => msgrcv(p, a.int(0), a.u32(1), a.int(2), a.int(3), a.int(4), 4),
  semtimedop_time64: (p, a) => semtimedop(p, a.int(0), a.u32(1), a.u32(2), a.u32(3) === 0 ? null : readTimeoutNs(p, a.u32(3), false)),
};

/**
 * The multiplexer's calls by number: the x86-64 call each is reported as,
 * its arguments in that call's order (what trace shows, as strace shows
 * them) from ipc's (first, second, third, ptr, fifth), and its body over
 * those and the version.
 */
type IpcArgs = (first: number, second: number, third: number, ptr: number, fifth: number) => number[];
type IpcBody = (p: Process, a: SyscallArgs, version: number) => number;
const OPS = new Map<number, [string, IpcArgs, IpcBody]>([
  [1, ['semop', (f, s, _t, ptr) => [f, ptr, s], (p, a) => semtimedop(p, a.int(0), a.u32(1), a.u32(2), null)]],
  [2, ['semget', (f, s, t) => [f, s, t], (p, a) => semget(p, a.int(0), a.int(1), a.int(2))]],
  [
    3,
    [
      'semctl',
      (f, s, t, ptr) => [f, s, t, ptr],
      (p, a) => {
        // the union semun is passed by reference: its one 32-bit word is the argument
        if (a.u32(3) === 0) throw new SysError(EINVAL);
        const pad = readView(p.mem, a.u32(3), 4).getUint32(0, true);
        const [cmd, abi] = parseVersion(a.int(2));
        return semctl(p, a.int(0), a.int(1), cmd, pad, abi);
      },
    ],
  ],
  [
    4,
    [
      'semtimedop',
      (f, s, _t, ptr, fifth) => [f, ptr, s, fifth],
      (p, a) => semtimedop(p, a.int(0), a.u32(1), a.u32(2), a.u32(3) === 0 ? null : readTimeoutNs(p, a.u32(3), true)),
    ],
  ],
  [11, ['msgsnd', (f, s, t, ptr) => [f, ptr, s, t], (p, a) => msgsnd(p, a.int(0), a.u32(1), a.int(2), a.int(3), 4)]],
  [
    12,
    [
      'msgrcv',
      (f, s, t, ptr, fifth) => [f, ptr, s, fifth, t],
      (p, a, version) => {
        if (a.int(0) < 0 || a.int(2) < 0) throw new SysError(EINVAL);
        if (version === 0) {
          // struct compat_ipc_kludge { compat_uptr_t msgp; compat_long_t msgtyp; } at ptr
          if (a.u32(1) === 0) throw new SysError(EINVAL);
          const k = readView(p.mem, a.u32(1), 8);
          return msgrcv(p, a.int(0), k.getUint32(0, true), a.int(2), k.getInt32(4, true), a.int(4), 4);
        }
        return msgrcv(p, a.int(0), a.u32(1), a.int(2), a.int(3), a.int(4), 4);
      },
    ],
  ],
  [13, ['msgget', (f, s) => [f, s], (p, a) => msgget(p, a.int(0), a.int(1))]],
  [
    14,
    [
      'msgctl',
      (f, s, _t, ptr) => [f, s, ptr],
      (p, a) => {
        const [cmd, abi] = parseVersion(a.int(1));
        return msgctl(p, a.int(0), cmd, a.u32(2), abi);
      },
    ],
  ],
  [
    21,
    [
      'shmat',
      // (third, where the address goes, after shmat's own three)
      (f, s, t, ptr) => [f, ptr, s, t],
      (p, a, version) => {
        // version 1 was the iBCS2 shmat, which returned the address itself
        if (version === 1) throw new SysError(EINVAL);
        const at = shmat(p, a.int(0), a.u32(1), a.int(2));
        write32(p.mem, a.u32(3), at);
        return 0;
      },
    ],
  ],
  [22, ['shmdt', (_f, _s, _t, ptr) => [ptr], (p, a) => shmdt(p, a.u32(0))]],
  [23, ['shmget', (f, s, t) => [f, s, t], (p, a) => shmget(p, a.int(0), a.u32(1), a.int(2))]],
  [
    24,
    [
      'shmctl',
      (f, s, _t, ptr) => [f, s, ptr],
      (p, a) => {
        const [cmd, abi] = parseVersion(a.int(1));
        return shmctl(p, a.int(0), cmd, a.u32(2), abi);
      },
    ],
  ],
]);

/**
 * ipc(call, first, second, third, ptr, fifth), run by `via` as the x86-64
 * call it stands for (reported under that number, with that call's
 * arguments), or ENOSYS for a call number Linux does not know.
 */
export function ipc32(p: Process, regs: ArrayLike<number>, via: (nr64name: string, h: Handler, a: SyscallArgs) => number): number {
  const call = regs[0] >>> 0;
  const version = call >>> 16;
  const op = OPS.get(call & 0xffff);
  if (op === undefined) return -ENOSYS;
  const [name, order, body] = op;
  const a = new SyscallArgs();
  order(regs[1] | 0, regs[2] | 0, regs[3] | 0, regs[4] | 0, regs[5] | 0).forEach((v, k) => (a.lo[k] = v));
  return via(name, (q, x) => body(q, x, version), a);
}
