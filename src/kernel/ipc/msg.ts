/**
 * System V message queues (ipc/msg.c): queues of the machine's IPC
 * namespace and msgget, msgsnd, msgrcv, msgctl over them.
 *
 * msgsnd waits while the message does not fit (q_cbytes + size over
 * q_qbytes, or as many messages as q_qbytes already), msgrcv while no
 * message matches msgtyp: 0 the first, > 0 the first of that type (with
 * MSG_EXCEPT: of another type), < 0 the first of the lowest type not above
 * -msgtyp; MSG_COPY (with IPC_NOWAIT) copies the msgtyp-th message without
 * taking it. A message longer than the buffer is E2BIG, or cut with
 * MSG_NOERROR. Waits are wait.ts's (ERESTARTNOHAND on a signal, as Linux).
 * Queued bytes count against the machine's memory.
 */
import { E2BIG, EAGAIN, EINVAL, ENOMEM, ENOMSG, EPERM, SysError } from '../errno.js';
import { capable } from '../cred.js';
import type { Process } from '../process.js';
import { Struct, readMem, readView, writeMem } from '../sys/util.js';
import { PAGE_SIZE } from '../../cpu/memory.js';
import { IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, S_IRUGO, S_IWUGO, nowSec } from './ids.js';
import { type IpcAbi, readPermSet, writeLongs, writePerm } from './layout.js';
import { MSG_COPY, MSG_EXCEPT, MSG_HDR, MSG_INFO, MSG_NOERROR, MSG_STAT, MSG_STAT_ANY, MSGMAX, MSGMNB, MSGMNI, MsgQueue, type MsgHome, QUEUE_BYTES } from './objects.js';
import { checkOwner, checkPerms, ipcGet, newPerm, updatePerm } from './perm.js';
import { checkRemoved, ipcWait, removedWhileWaiting } from './wait.js';

const MSGPOOL = (MSGMNI * MSGMNB) / 1024, MSGTQL = MSGMNB, MSGMAP = MSGMNB, MSGSSZ = 16;
const MSGSEG = Math.min((MSGPOOL * 1024) / MSGSSZ, 0xffff);
const CAP_SYS_RESOURCE = 24;


/** Count kernel memory for the queues (bytes more, or less when negative): false when it does not fit. */
function account(home: MsgHome, bytes: number): boolean {
  const before = home.msgPages;
  const after = Math.ceil((home.msg.inUse * QUEUE_BYTES + home.msgHdrs * MSG_HDR + home.msgBytes + bytes) / PAGE_SIZE);
  if (after > before && !home.physmem.reserve(after - before)) return false;
  if (after < before) home.physmem.unreserve(before - after);
  home.msgPages = after;
  return true;
}

/** msgget(2). */
export function msgget(p: Process, key: number, flag: number): number {
  const home = p.kernel.ipc;
  return ipcGet(
    p,
    home.msg,
    key,
    flag,
    () => {
      if (!account(home, QUEUE_BYTES)) throw new SysError(ENOMEM);
      return new MsgQueue(newPerm(p, key, flag));
    },
    () => {},
  );
}

/** msgsnd(2): msgp is struct msgbuf, its mtype a long of `typeSize` bytes (8, or 4 for an i386 program). */
export function msgsnd(p: Process, msqid: number, msgp: number, msgsz: number, flg: number, typeSize: 4 | 8): number {
  const home = p.kernel.ipc;
  checkRemoved(p, home);
  if (msgsz > MSGMAX || msgsz < 0 || msqid < 0) throw new SysError(EINVAL);
  const tv = readView(p.mem, msgp, typeSize);
  const type = typeSize === 8 ? tv.getInt32(4, true) * 4294967296 + tv.getUint32(0, true) : tv.getInt32(0, true);
  if (type < 1) throw new SysError(EINVAL);
  const text = readMem(p.mem, msgp + typeSize, msgsz).slice();
  const q = home.msg.find(msqid);
  q.unwait(p.tid);
  for (;;) {
    checkPerms(p, q.perm, S_IWUGO);
    if (msgsz + q.cbytes <= q.qbytes && 1 + q.messages.length <= q.qbytes) break;
    if (flg & IPC_NOWAIT) throw new SysError(EAGAIN);
    q.waiting.push({ tid: p.tid });
    ipcWait(p, null, 'nohand', 'msgsnd', () => q.unwait(p.tid));
    q.unwait(p.tid);
    checkRemoved(p, home);
  }
  if (!account(home, MSG_HDR + msgsz)) throw new SysError(ENOMEM);
  home.msgHdrs++;
  home.msgBytes += msgsz;
  q.messages.push({ type, text });
  q.cbytes += msgsz;
  q.lspid = p.pid;
  q.stime = nowSec();
  return 0;
}

/** find_msg: the index of the message msgrcv takes (or MSG_COPY copies), -1 for none. */
function findMsg(q: MsgQueue, typ: number, flg: number): number {
  if (flg & MSG_COPY) return typ < q.messages.length ? typ : -1;
  if (typ === 0) return q.messages.length > 0 ? 0 : -1;
  if (typ > 0) return q.messages.findIndex((m) => (flg & MSG_EXCEPT ? m.type !== typ : m.type === typ));
  let best = -1;
  q.messages.forEach((m, k) => {
    if (m.type <= -typ && (best < 0 || m.type < q.messages[best].type)) best = k;
  });
  return best;
}

/** msgrcv(2): the bytes of text received; mtype is written as a long of `typeSize` bytes. */
export function msgrcv(p: Process, msqid: number, msgp: number, bufsz: number, typ: number, flg: number, typeSize: 4 | 8): number {
  const home = p.kernel.ipc;
  checkRemoved(p, home);
  if (msqid < 0 || bufsz < 0) throw new SysError(EINVAL);
  if (flg & MSG_COPY && (flg & MSG_EXCEPT || !(flg & IPC_NOWAIT))) throw new SysError(EINVAL);
  const q = home.msg.find(msqid);
  q.unwait(p.tid);
  for (;;) {
    checkPerms(p, q.perm, S_IRUGO);
    const k = findMsg(q, typ, flg);
    if (k >= 0) {
      const m = q.messages[k];
      if (bufsz < m.text.length && !(flg & MSG_NOERROR)) throw new SysError(E2BIG);
      const n = Math.min(bufsz, m.text.length);
      const out = new Struct(typeSize + n);
      if (typeSize === 8) out.u64(0, m.type);
      else out.u32(0, m.type);
      out.bytes.set(m.text.subarray(0, n), typeSize);
      writeMem(p.mem, msgp, out.bytes);
      if (!(flg & MSG_COPY)) {
        q.messages.splice(k, 1);
        q.cbytes -= m.text.length;
        q.lrpid = p.pid;
        q.rtime = nowSec();
        home.msgHdrs--;
        home.msgBytes -= m.text.length;
        account(home, 0);
      }
      return n;
    }
    if (flg & IPC_NOWAIT) throw new SysError(ENOMSG);
    q.waiting.push({ tid: p.tid });
    ipcWait(p, null, 'nohand', 'msgrcv', () => q.unwait(p.tid));
    q.unwait(p.tid);
    checkRemoved(p, home);
  }
}

/** struct msqid64_ds / compat_msqid64_ds / compat_msqid_ds of q. */
function msqidDs(q: MsgQueue, abi: IpcAbi): Uint8Array {
  const qnum = q.messages.length;
  if (abi === '64') {
    const s = new Struct(120);
    writePerm(s, 0, q.perm, abi);
    writeLongs(s, 48, abi, [q.stime, q.rtime, q.ctime, q.cbytes, qnum, q.qbytes]);
    s.u32(96, q.lspid).u32(100, q.lrpid);
    return s.bytes;
  }
  if (abi === 'compat64') {
    const s = new Struct(88);
    writePerm(s, 0, q.perm, abi);
    s.u32(36, q.stime).u32(44, q.rtime).u32(52, q.ctime);
    s.u32(60, q.cbytes).u32(64, qnum).u32(68, q.qbytes).u32(72, q.lspid).u32(76, q.lrpid);
    return s.bytes;
  }
  const s = new Struct(56);
  writePerm(s, 0, q.perm, abi);
  s.u32(24, q.stime).u32(28, q.rtime).u32(32, q.ctime).u32(36, q.cbytes).u32(40, q.qbytes);
  s.u16(44, q.cbytes).u16(46, qnum).u16(48, q.qbytes).u16(50, q.lspid).u16(52, q.lrpid);
  return s.bytes;
}

/** msgctl(2) in the given layout (cmd without IPC_64). */
export function msgctl(p: Process, msqid: number, cmd: number, buf: number, abi: IpcAbi): number {
  const home = p.kernel.ipc;
  if (msqid < 0 || cmd < 0) throw new SysError(EINVAL);
  switch (cmd) {
    case IPC_INFO:
    case MSG_INFO: {
      const info = cmd === MSG_INFO;
      const s = new Struct(32);
      [info ? home.msg.inUse : MSGPOOL, info ? home.msgHdrs : MSGMAP, MSGMAX, MSGMNB, MSGMNI, MSGSSZ, info ? home.msgBytes : MSGTQL].forEach((v, k) => s.u32(k * 4, v));
      s.u16(28, MSGSEG);
      writeMem(p.mem, buf, s.bytes);
      return Math.max(home.msg.maxIdx(), 0);
    }
    case IPC_STAT:
    case MSG_STAT:
    case MSG_STAT_ANY: {
      const q = cmd === IPC_STAT ? home.msg.find(msqid) : home.msg.findIdx(msqid);
      if (cmd !== MSG_STAT_ANY) checkPerms(p, q.perm, S_IRUGO);
      writeMem(p.mem, buf, msqidDs(q, abi));
      return cmd === IPC_STAT ? 0 : q.perm.id;
    }
    case IPC_SET: {
      const size = abi === '64' ? 120 : abi === 'compat64' ? 88 : 56;
      const dv = readView(p.mem, buf, size);
      const set = readPermSet(dv, abi);
      const qbytes = abi === '64' ? dv.getUint32(92, true) * 4294967296 + dv.getUint32(88, true) : abi === 'compat64' ? dv.getUint32(68, true) : dv.getUint16(48, true);
      const q = home.msg.find(msqid);
      checkOwner(p, q.perm);
      if (qbytes > MSGMNB && !capable(p, CAP_SYS_RESOURCE)) throw new SysError(EPERM);
      updatePerm(q.perm, set.uid, set.gid, set.mode);
      q.qbytes = qbytes;
      q.ctime = nowSec();
      return 0;
    }
    case IPC_RMID: {
      const q = home.msg.find(msqid);
      checkOwner(p, q.perm);
      home.msg.remove(q);
      home.msgHdrs -= q.messages.length;
      home.msgBytes -= q.cbytes;
      q.messages.length = 0;
      account(home, 0);
      removedWhileWaiting(home, q.waiting);
      q.waiting.length = 0;
      return 0;
    }
    default:
      throw new SysError(EINVAL);
  }
}
