/**
 * System V IPC where the fixtures (test/fixtures/src/sysvipc.c, against
 * native and qemu-i386 runs) cannot reach: the old i386 layouts (no libc
 * uses them any more, but old binaries do), the multiplexer's version bits,
 * permissions against another user, Linux's id reuse, and the machine's
 * memory limit. Each expectation is Linux's ipc/ code read as it is
 * (compat.c's layouts, ipcperms, ipc_idr_alloc).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { CPU } from '../src/cpu/cpu.js';
import { Memory, PAGE_SIZE, PROT_READ, PROT_USER, PROT_WRITE } from '../src/cpu/memory.js';
import { EACCES, EINVAL, ENOMEM, ENOSYS, EPERM } from '../src/kernel/errno.js';
import { syscall32 } from '../src/kernel/ia32/syscalls.js';
import { Process, SyscallArgs } from '../src/kernel/process.js';
import { syscall } from '../src/kernel/syscalls.js';
import { syscallNumber } from '../src/kernel/sysnames.js';

const RW = PROT_READ | PROT_WRITE | PROT_USER;
const BUF = 0x10000, BUF2 = 0x11000, MSG = 0x12000, KLUDGE = 0x13000;
const IPC_PRIVATE = 0, IPC_CREAT = 0o1000, IPC_RMID = 0, IPC_SET = 1, IPC_STAT = 2, IPC_64 = 0x100;
const SEMOP = 1, SEMCTL = 3, MSGSND = 11, MSGRCV = 12, MSGGET = 13, MSGCTL = 14, SHMAT = 21, SHMGET = 23, SHMCTL = 24, SEMGET = 2;
const GETVAL = 12, SETVAL = 16, SHM_STAT_ANY = 15;

let mem: Memory;
let p: Process;

function sc(name: string, ...args: number[]): number {
  return syscall(p, syscallNumber(name)!, SyscallArgs.of(...args));
}
/** The i386 ipc multiplexer: ipc(call, first, second, third, ptr, fifth). */
function ipc(call: number, first: number, second: number, third: number, ptr: number, fifth = 0): number {
  return syscall32(p, 117, [call, first, second, third, ptr, fifth]);
}
const dv = (addr: number, len: number): DataView => {
  const b = mem.readBytes(addr, len);
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
};

beforeEach(() => {
  mem = new Memory();
  mem.map(BUF, 0x10000, RW);
  p = new Process(new CPU(mem), mem, { root: '/', cwd: '/', warn: () => {}, exePath: '/usr/bin/prog', argv: ['prog'] });
});

describe('the i386 ipc multiplexer', () => {
  it('shmctl without IPC_64 writes compat_shmid_ds (16-bit ids, 32-bit times), with it compat_shmid64_ds', () => {
    const id = ipc(SHMGET, IPC_PRIVATE, 8192, 0o600, 0);
    expect(id).toBeGreaterThanOrEqual(0);
    expect(ipc(SHMCTL, id, IPC_STAT, 0, BUF)).toBe(0);
    let v = dv(BUF, 48);
    expect(v.getUint16(12, true)).toBe(0o600); // compat_ipc_perm.mode
    expect(v.getUint32(16, true)).toBe(8192); // shm_segsz
    expect(v.getUint16(32, true)).toBe(p.pid); // shm_cpid
    expect(v.getUint16(36, true)).toBe(0); // shm_nattch
    expect(ipc(SHMCTL, id, IPC_STAT | IPC_64, 0, BUF2)).toBe(0);
    v = dv(BUF2, 84);
    expect(v.getUint16(20, true)).toBe(0o600); // compat_ipc64_perm.mode
    expect(v.getUint32(36, true)).toBe(8192);
    expect(v.getUint32(64, true)).toBe(p.pid);
    // IPC_SET in the old layout: the mode at 12
    mem.poke(BUF + 12, new Uint8Array([0o640 & 0xff, 0o640 >> 8]));
    expect(ipc(SHMCTL, id, IPC_SET, 0, BUF)).toBe(0);
    ipc(SHMCTL, id, IPC_STAT | IPC_64, 0, BUF2);
    expect(dv(BUF2, 84).getUint16(20, true)).toBe(0o640);
    // SHMAT's version 1 (iBCS2) is refused
    expect(ipc(SHMAT | (1 << 16), id, 0, BUF2, 0)).toBe(-EINVAL);
    expect(ipc(SHMCTL, id, IPC_RMID, 0, 0)).toBe(0);
  });

  it('semctl takes its union semun through a pointer; the old semid_ds has nsems at 40', () => {
    const id = ipc(SEMGET, IPC_PRIVATE, 2, 0o600, 0);
    mem.poke(BUF, new Uint8Array([7, 0, 0, 0]));
    expect(ipc(SEMCTL, id, 1, SETVAL, BUF)).toBe(0);
    expect(ipc(SEMCTL, id, 1, GETVAL, BUF)).toBe(7);
    expect(ipc(SEMCTL, id, 0, GETVAL, 0)).toBe(-EINVAL); // no pointer
    // semop (struct sembuf is one layout): take 2 of sem 1
    mem.poke(BUF2, new Uint8Array([1, 0, 0xfe, 0xff, 0, 0]));
    expect(ipc(SEMOP, id, 1, 0, BUF2)).toBe(0);
    expect(ipc(SEMCTL, id, 1, GETVAL, BUF)).toBe(5);
    const word = new Uint8Array(4);
    new DataView(word.buffer).setUint32(0, BUF2, true);
    mem.poke(BUF, word);
    expect(ipc(SEMCTL, id, 0, IPC_STAT, BUF)).toBe(0);
    expect(dv(BUF2, 44).getUint16(40, true)).toBe(2);
    expect(ipc(SEMCTL, id, 0, IPC_STAT | IPC_64, BUF)).toBe(0);
    expect(dv(BUF2, 64).getUint32(52, true)).toBe(2);
    ipc(SEMCTL, id, 0, IPC_RMID, BUF);
  });

  it('msgsnd and msgrcv with a 32-bit mtype; an old msgrcv passes buffer and type in struct ipc_kludge', () => {
    const id = ipc(MSGGET, IPC_PRIVATE, 0o600, 0, 0);
    mem.poke(MSG, new Uint8Array([5, 0, 0, 0, 0x61, 0x62, 0x63]));
    expect(ipc(MSGSND, id, 3, 0, MSG)).toBe(0);
    mem.poke(MSG, new Uint8Array([9, 0, 0, 0, 0x78]));
    expect(ipc(MSGSND, id, 1, 0, MSG)).toBe(0);
    expect(ipc(MSGCTL, id, IPC_STAT, 0, BUF)).toBe(0);
    const v = dv(BUF, 56);
    expect(v.getUint32(36, true)).toBe(4); // msg_lcbytes
    expect(v.getUint32(40, true)).toBe(16384); // msg_lqbytes
    expect(v.getUint16(46, true)).toBe(2); // msg_qnum
    expect(v.getUint16(50, true)).toBe(p.pid); // msg_lspid
    // version 0: struct ipc_kludge { msgp, msgtyp } at ptr
    const k = new Uint8Array(8);
    new DataView(k.buffer).setUint32(0, BUF2, true);
    new DataView(k.buffer).setInt32(4, 9, true);
    mem.poke(KLUDGE, k);
    expect(ipc(MSGRCV, id, 16, 0, KLUDGE)).toBe(1);
    expect(dv(BUF2, 5).getInt32(0, true)).toBe(9);
    // version 1: ptr is the buffer, fifth the type
    expect(ipc(MSGRCV | (1 << 16), id, 16, 0, BUF2, 5)).toBe(3);
    expect(Buffer.from(mem.readBytes(BUF2 + 4, 3)).toString()).toBe('abc');
    expect(ipc(MSGRCV, id, -1, 0, KLUDGE)).toBe(-EINVAL);
    expect(ipc(MSGCTL, id, IPC_RMID, 0, 0)).toBe(0);
  });

  it('an unknown call is ENOSYS', () => {
    expect(ipc(99, 0, 0, 0, 0)).toBe(-ENOSYS);
  });
});

describe('System V IPC of x86-64', () => {
  it('shmid64_ds: the mode at 20, segsz at 48, cpid at 80, nattch at 88; an attach and a detach count', () => {
    const id = sc('shmget', IPC_PRIVATE, 3 * PAGE_SIZE, 0o640);
    const at = sc('shmat', id, 0, 0);
    expect(at % PAGE_SIZE).toBe(0);
    expect(sc('shmctl', id, IPC_STAT, BUF)).toBe(0);
    const v = dv(BUF, 112);
    expect(v.getUint32(20, true) & 0o777).toBe(0o640);
    expect(Number(v.getBigUint64(48, true))).toBe(3 * PAGE_SIZE);
    expect(v.getInt32(80, true)).toBe(p.pid);
    expect(Number(v.getBigUint64(88, true))).toBe(1);
    // the attachment is the segment's bytes: a second attach sees a store through the first
    mem.writeBytes(at + 5, new Uint8Array([42]));
    const at2 = sc('shmat', id, 0, 0o10000 /* SHM_RDONLY */);
    expect(mem.readBytes(at2 + 5, 1)[0]).toBe(42);
    expect(sc('shmdt', at2)).toBe(0);
    expect(sc('shmdt', at)).toBe(0);
    sc('shmctl', id, IPC_STAT, BUF);
    expect(Number(dv(BUF, 112).getBigUint64(88, true))).toBe(0);
    expect(sc('shmctl', id, IPC_RMID, 0)).toBe(0);
    expect(sc('shmctl', id, IPC_STAT, BUF)).toBe(-EINVAL);
    // x86-64 has no version bit: IPC_64 in cmd is EINVAL, as on Linux (checked natively)
    const id2 = sc('shmget', IPC_PRIVATE, 100, 0o600);
    expect(sc('shmctl', id2, IPC_STAT | IPC_64, BUF)).toBe(-EINVAL);
    sc('shmctl', id2, IPC_RMID, 0);
  });

  it('ids: idx + seq * 32768, the idx allocated cyclically, seq moving on when it wraps', () => {
    const a = sc('msgget', IPC_PRIVATE, 0o600), b = sc('msgget', IPC_PRIVATE, 0o600);
    expect([a, b]).toEqual([0, 1]);
    sc('msgctl', a, IPC_RMID, 0);
    expect(sc('msgget', IPC_PRIVATE, 0o600)).toBe(2); // not 0 again at once
    // shm: SHMMNI (4096) slots; after the last one the idx starts over at 0 with the next seq
    let last = -1;
    for (let k = 0; k < 4096; k++) {
      last = sc('shmget', IPC_PRIVATE, 1, 0o600);
      sc('shmctl', last, IPC_RMID, 0);
    }
    expect(last).toBe(4095);
    const again = sc('shmget', IPC_PRIVATE, 1, 0o600);
    expect(again).toBe(32768);
    expect(sc('shmctl', 0, IPC_STAT, BUF)).toBe(-EINVAL); // the old id of that slot is stale
    expect(sc('shmctl', 0, SHM_STAT_ANY, BUF)).toBe(32768); // by index
  });

  it('permissions: another user without capabilities gets EACCES, and EPERM for what only the owner may do', () => {
    const key = 0x5e5e;
    const id = sc('shmget', key, 4096, IPC_CREAT | 0o600);
    const sid = sc('semget', key, 1, IPC_CREAT | 0o644);
    p.euid = 4321;
    p.egid = 4321;
    p.caps.eff = 0n;
    expect(sc('shmget', key, 0, 0o600)).toBe(-EACCES);
    expect(sc('shmget', key, 0, 0)).toBe(id); // asking for no access is allowed
    expect(sc('shmat', id, 0, 0)).toBe(-EACCES);
    expect(sc('shmctl', id, IPC_STAT, BUF)).toBe(-EACCES);
    expect(sc('shmctl', id, IPC_RMID, 0)).toBe(-EPERM);
    expect(sc('semctl', sid, 0, GETVAL, 0)).toBe(0); // others may read (0644)
    expect(sc('semctl', sid, 0, SETVAL, 1)).toBe(-EACCES);
    expect(sc('semctl', sid, 0, IPC_RMID, 0)).toBe(-EPERM);
  });

  it("a segment's pages count against the machine's memory once, from its first attach until it is destroyed", () => {
    const phys = p.kernel.physmem;
    const before = phys.pages, oldLimit = phys.limit;
    try {
      phys.limit = (phys.pages + 64) * PAGE_SIZE;
      const big = sc('shmget', IPC_PRIVATE, 128 * PAGE_SIZE, 0o600);
      expect(sc('shmat', big, 0, 0)).toBe(-ENOMEM);
      expect(phys.pages).toBe(before);
      sc('shmctl', big, IPC_RMID, 0);
      const id = sc('shmget', IPC_PRIVATE, 8 * PAGE_SIZE, 0o600);
      const a1 = sc('shmat', id, 0, 0), a2 = sc('shmat', id, 0, 0);
      mem.writeBytes(a1, new Uint8Array(8 * PAGE_SIZE).fill(1));
      expect(phys.pages).toBe(before + 8);
      expect(sc('shmctl', id, IPC_RMID, 0)).toBe(0); // attached: destroyed at the last detach
      sc('shmdt', a1);
      expect(phys.pages).toBe(before + 8);
      sc('shmdt', a2);
      expect(phys.pages).toBe(before);
      // an attach the address space has no room for (RLIMIT_AS) keeps no pages either
      const id2 = sc('shmget', IPC_PRIVATE, 8 * PAGE_SIZE, 0o600);
      const as = p.rlimits[9];
      p.rlimits[9] = [1n, as[1]];
      expect(sc('shmat', id2, 0, 0)).toBe(-ENOMEM);
      p.rlimits[9] = as;
      expect(phys.pages).toBe(before);
      sc('shmctl', id2, IPC_RMID, 0);
    } finally {
      phys.limit = oldLimit;
    }
  });
});
