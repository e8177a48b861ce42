/**
 * Socket syscalls on descriptors. Sockets themselves are not emulated yet
 * (socket and socketpair stay without a handler: ENOSYS), but every call that
 * names a descriptor answers as Linux does for the descriptors a process can
 * have: EBADF for one that is not open, ENOTSOCK for a file, pipe, tty or
 * directory. Programs rely on that: bash calls getpeername on its stdin and
 * takes any other error for a network connection (it then sources ~/.bashrc).
 * A descriptor that is a host socket (an inherited stdin, say) gets ENOSYS,
 * reported as unimplemented.
 *
 * The checks come in the order of net/socket.c (checked against Linux 6.18 by
 * test/fixtures/src/notsock.c): what is validated before the descriptor is
 * looked up (compat flags, the user buffer of sendto and recvfrom, recvmmsg's
 * timeout) fails first.
 */
import { EBADF, EFAULT, EINVAL, ENOSYS, ENOTSOCK, SysError } from '../errno.js';
import type { OpenFile } from '../fdtable.js';
import type { Process } from '../process.js';
import type { HandlerTable } from './table.js';
import { type SyscallArgs, accessOk, readTimespec } from './util.js';

const SOCK_NONBLOCK = 0o4000, SOCK_CLOEXEC = 0o2000000;
const MSG_CMSG_COMPAT = 0x80000000;
/** Linux's MAX_RW_COUNT: import_ubuf clamps larger lengths to it. */
const MAX_RW_COUNT = 0x7ffff000;

/** fdget: the open file of fd (EBADF). */
function fileOf(p: Process, fd: number): OpenFile {
  const e = p.fds.get(fd);
  if (!e) throw new SysError(EBADF);
  return e.file;
}

/** sock_from_file: the file must be a socket (ENOTSOCK); a socket is where emulation stops. */
function socketOf(p: Process, nr: number, f: OpenFile): never {
  if (f.kind !== 'sock') throw new SysError(ENOTSOCK);
  p.unimplemented(nr, 'on a socket (sockets are not emulated yet)');
  throw new SysError(ENOSYS);
}

/** sockfd_lookup_light: the descriptor must be open and a socket. */
function sockfd(p: Process, nr: number, fd: number): never {
  return socketOf(p, nr, fileOf(p, fd));
}

/** import_ubuf: a user buffer the call would copy through must lie in the user half. */
function userBuffer(a: SyscallArgs, buf: number, len: number): void {
  const n = Math.min(a.unum(len), MAX_RW_COUNT);
  if (!accessOk(a.num(buf), n)) throw new SysError(EFAULT);
}

export function registerNet(t: HandlerTable): void {
  const socketDescriptorsOnly = 'on a socket: ENOSYS (sockets are not emulated); other descriptors EBADF/ENOTSOCK as Linux';
  const byFd = (nr: number) => t.on(nr, (p, a) => sockfd(p, nr, a.int(0)), socketDescriptorsOnly);
  // connect, accept, shutdown, bind, listen, getsockname, getpeername, setsockopt (its optlen is checked
  // after the lookup since Linux 6.8), getsockopt, sendmmsg
  for (const nr of [42, 43, 48, 49, 50, 51, 52, 54, 55, 307])
    byFd(nr);
  // sendto, recvfrom: the buffer is imported before the descriptor is looked up
  for (const nr of [44, 45])
    t.on(
      nr,
      (p, a) => {
        userBuffer(a, 1, 2);
        return sockfd(p, nr, a.int(0));
      },
      socketDescriptorsOnly,
    );
  // sendmsg, recvmsg: 32-bit compat flags are refused first
  for (const nr of [46, 47])
    t.on(
      nr,
      (p, a) => {
        if (a.u32(2) & MSG_CMSG_COMPAT) throw new SysError(EINVAL);
        return sockfd(p, nr, a.int(0));
      },
      socketDescriptorsOnly,
    );
  t.on(
    288, // accept4: the descriptor, then unknown flags, then whether it is a socket
    (p, a) => {
      const f = fileOf(p, a.int(0));
      if (a.int(3) & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) throw new SysError(EINVAL);
      return socketOf(p, 288, f);
    },
    socketDescriptorsOnly,
  );
  t.on(
    299, // recvmmsg: compat flags, then the timeout is read, then the descriptor
    (p, a) => {
      if (a.u32(3) & MSG_CMSG_COMPAT) throw new SysError(EINVAL);
      if (a.num(4) !== 0) readTimespec(p.mem, a.num(4));
      return sockfd(p, 299, a.int(0));
    },
    socketDescriptorsOnly,
  );
}
