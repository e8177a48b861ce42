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

/** The multiplexer's calls by number: the x86-64 call each is reported as, and its body over (version, first, second, third, ptr, fifth). */
type IpcOp = (p: Process, version: number, first: number, second: number, third: number, ptr: number, fifth: number) => number;
const OPS = new Map<number, [string, IpcOp]>([
  [1, ['semop', (p, _v, first, second, _t, ptr) => semtimedop(p, first, ptr, second >>> 0, null)]],
  [2, ['semget', (p, _v, first, second, third) => semget(p, first, second, third)]],
  [
    3,
    [
      'semctl',
      (p, _v, first, second, third, ptr) => {
        // the union semun is passed by reference: its one 32-bit word is the argument
        if (ptr === 0) throw new SysError(EINVAL);
        const pad = readView(p.mem, ptr, 4).getUint32(0, true);
        const [cmd, abi] = parseVersion(third);
        return semctl(p, first, second, cmd, pad, abi);
      },
    ],
  ],
  [4, ['semtimedop', (p, _v, first, second, _t, ptr, fifth) => semtimedop(p, first, ptr, second >>> 0, fifth === 0 ? null : readTimeoutNs(p, fifth, true))]],
  [11, ['msgsnd', (p, _v, first, second, third, ptr) => msgsnd(p, first, ptr, second, third, 4)]],
  [
    12,
    [
      'msgrcv',
      (p, version, first, second, third, ptr, fifth) => {
        if (first < 0 || second < 0) throw new SysError(EINVAL);
        if (version === 0) {
          // struct compat_ipc_kludge { compat_uptr_t msgp; compat_long_t msgtyp; }
          if (ptr === 0) throw new SysError(EINVAL);
          const k = readView(p.mem, ptr, 8);
          return msgrcv(p, first, k.getUint32(0, true), second, k.getInt32(4, true), third, 4);
        }
        return msgrcv(p, first, ptr, second, fifth | 0, third, 4);
      },
    ],
  ],
  [13, ['msgget', (p, _v, first, second) => msgget(p, first, second)]],
  [
    14,
    [
      'msgctl',
      (p, _v, first, second, _t, ptr) => {
        const [cmd, abi] = parseVersion(second);
        return msgctl(p, first, cmd, ptr, abi);
      },
    ],
  ],
  [
    21,
    [
      'shmat',
      (p, version, first, second, third, ptr) => {
        // version 1 was the iBCS2 shmat, which returned the address itself
        if (version === 1) throw new SysError(EINVAL);
        const at = shmat(p, first, ptr, second);
        write32(p.mem, third, at);
        return 0;
      },
    ],
  ],
  [22, ['shmdt', (p, _v, _f, _s, _t, ptr) => shmdt(p, ptr)]],
  [23, ['shmget', (p, _v, first, second, third) => shmget(p, first, second >>> 0, third)]],
  [
    24,
    [
      'shmctl',
      (p, _v, first, second, _t, ptr) => {
        const [cmd, abi] = parseVersion(second);
        return shmctl(p, first, cmd, ptr, abi);
      },
    ],
  ],
]);

/**
 * ipc(call, first, second, third, ptr, fifth), run by `via` as the x86-64
 * call it stands for (reported under that number), or ENOSYS for a call
 * number Linux does not know.
 */
export function ipc32(
  p: Process,
  regs: ArrayLike<number>,
  via: (nr64name: string, h: Handler, raw: SyscallArgs) => number,
): number {
  const call = regs[0] >>> 0;
  const version = call >>> 16;
  const op = OPS.get(call & 0xffff);
  const raw = new SyscallArgs();
  for (let k = 0; k < 6; k++) raw.lo[k] = regs[k] | 0;
  if (op === undefined) return -ENOSYS;
  const [name, body] = op;
  return via(name, (q, a) => body(q, version, a.int(1), a.int(2), a.u32(3), a.u32(4), a.u32(5)), raw);
}
