/**
 * The System V IPC calls of x86-64 (shmget, shmat, shmctl, shmdt, semget,
 * semop, semctl, semtimedop, msgget, msgsnd, msgrcv, msgctl): the
 * 64-bit structure layouts, cmd taken as it is (x86-64 has no IPC_64
 * version bit: a cmd with it is EINVAL, as Linux's). The families are in
 * ../ipc/.
 */
import { EINVAL, SysError } from '../errno.js';
import { msgctl, msgget, msgrcv, msgsnd } from '../ipc/msg.js';
import { semctl, semget, semtimedop } from '../ipc/sem.js';
import { shmat, shmctl, shmdt, shmget } from '../ipc/shm.js';
import type { Process } from '../process.js';
import type { HandlerTable } from './table.js';
import { readView } from './util.js';

/** A relative struct timespec (semtimedop's timeout) as ns: EINVAL when out of range. */
export function readTimeoutNs(p: Process, addr: number, compat: boolean): bigint {
  const dv = readView(p.mem, addr, compat ? 8 : 16);
  const sec = compat ? BigInt(dv.getInt32(0, true)) : dv.getBigInt64(0, true);
  const nsec = compat ? BigInt(dv.getInt32(4, true)) : dv.getBigInt64(8, true);
  if (sec < 0n || nsec < 0n || nsec >= 1000000000n) throw new SysError(EINVAL);
  return sec * 1000000000n + nsec;
}

export function registerIpc(t: HandlerTable): void {
  const shmNote = "a segment's pages are made (and counted against --mem-limit) at its first attach rather than at each first touch";
  t.on(29, (p, a) => shmget(p, a.int(0), a.unum(1), a.int(2)));
  t.on(30, (p, a) => shmat(p, a.int(0), a.num(1), a.int(2)), shmNote);
  t.on(31, (p, a) => shmctl(p, a.int(0), a.int(1), a.num(2), '64'));
  t.on(67, (p, a) => shmdt(p, a.num(0)));
  t.on(64, (p, a) => semget(p, a.int(0), a.int(1), a.int(2)));
  t.on(65, (p, a) => semtimedop(p, a.int(0), a.num(1), a.unum(2), null));
  t.on(66, (p, a) => semctl(p, a.int(0), a.int(1), a.int(2), a.num(3), '64'));
  t.on(220, (p, a) => semtimedop(p, a.int(0), a.num(1), a.unum(2), a.num(3) === 0 ? null : readTimeoutNs(p, a.num(3), false)));
  t.on(68, (p, a) => msgget(p, a.int(0), a.int(1)));
  t.on(69, (p, a) => msgsnd(p, a.int(0), a.num(1), a.num(2), a.int(3), 8));
  t.on(70, (p, a) => msgrcv(p, a.int(0), a.num(1), a.num(2), a.num(3), a.int(4), 8));
  t.on(71, (p, a) => msgctl(p, a.int(0), a.int(1), a.num(2), '64'));
}
