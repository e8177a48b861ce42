/**
 * ioctl: terminal ioctls through the host terminal (tty.ts), and the
 * generic FIONREAD, FIONBIO, FIOCLEX and friends.
 */
import { EBADF, EIO, ENOTTY, SysError } from '../errno.js';
import { KERNEL_TERMIOS_SIZE, TtyError, ttyGetAttr, ttyGetWinsize, ttySetAttr, ttySetWinsize } from '../tty.js';
import { O_NONBLOCK, O_PATH } from '../fdtable.js';
import type { Process } from '../process.js';
import type { HandlerTable } from './table.js';
import { fileSize, hostOffset } from './files.js';
import { Struct, type SyscallArgs, probeWrite, read32, readMem, readView, write32, writeMem } from './util.js';

const TCGETS = 0x5401, TCSETS = 0x5402, TCSETSW = 0x5403, TCSETSF = 0x5404, TCSBRK = 0x5409, TCXONC = 0x540a, TCFLSH = 0x540b;
const TIOCSCTTY = 0x540e, TIOCGPGRP = 0x540f, TIOCSPGRP = 0x5410, TIOCOUTQ = 0x5411, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414;
const FIONREAD = 0x541b, FIONBIO = 0x5421, TIOCNOTTY = 0x5422, TIOCGSID = 0x5429, FIONCLEX = 0x5450, FIOCLEX = 0x5451, FIOASYNC = 0x5452;

/** A terminal operation done through the host's stty: its failure is EIO, said once. */
function onTty<T>(p: Process, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof TtyError)) throw e;
    p.warnOnce(`entrystub: ${what} on a terminal failed on the host (${e.message}); returning EIO`);
    throw new SysError(EIO);
  }
}

function sysIoctl(p: Process, a: SyscallArgs): number {
  const e = p.fds.get(a.int(0));
  if (!e) throw new SysError(EBADF);
  const f = e.file;
  if (f.flags & O_PATH) throw new SysError(EBADF);
  const req = a.u32(1), arg = a.num(2);
  switch (req) {
    case FIOCLEX:
      e.cloexec = true;
      return 0;
    case FIONCLEX:
      e.cloexec = false;
      return 0;
    case FIONBIO: {
      const on = read32(p.mem, arg);
      f.flags = on ? f.flags | O_NONBLOCK : f.flags & ~O_NONBLOCK;
      return 0;
    }
    case FIOASYNC:
      read32(p.mem, arg);
      return 0;
    case FIONREAD: {
      let n = 0;
      if (f.ops?.nread) n = f.ops.nread();
      else if (f.kind === 'pipe') n = f.pipe!.size;
      else if (f.kind === 'reg' || f.kind === 'synth') n = Math.max(0, fileSize(p, f) - (f.positioned || f.kind === 'synth' ? f.pos : (hostOffset(f.hostFd) ?? 0)));
      else if (f.kind === 'dir') throw new SysError(ENOTTY);
      write32(p.mem, arg, n);
      return 0;
    }
  }
  if (!f.isTty) throw new SysError(ENOTTY);
  switch (req) {
    case TCGETS:
      probeWrite(p.mem, arg, KERNEL_TERMIOS_SIZE);
      writeMem(p.mem, arg, onTty(p, 'TCGETS', () => ttyGetAttr(f.hostFd)));
      return 0;
    case TCSETS:
    case TCSETSW:
    case TCSETSF: {
      const t = readMem(p.mem, arg, KERNEL_TERMIOS_SIZE);
      onTty(p, 'TCSETS', () => ttySetAttr(f.hostFd, t));
      return 0;
    }
    case TIOCGWINSZ: {
      probeWrite(p.mem, arg, 8);
      const [rows, cols] = onTty(p, 'TIOCGWINSZ', () => ttyGetWinsize(f.hostFd));
      writeMem(p.mem, arg, new Struct(8).u16(0, rows).u16(2, cols).bytes);
      return 0;
    }
    case TIOCSWINSZ: {
      const v = readView(p.mem, arg, 8);
      onTty(p, 'TIOCSWINSZ', () => ttySetWinsize(f.hostFd, v.getUint16(0, true), v.getUint16(2, true)));
      return 0;
    }
    case TIOCGPGRP:
      write32(p.mem, arg, p.pgid);
      return 0;
    case TIOCGSID:
      write32(p.mem, arg, p.sid);
      return 0;
    case TIOCSPGRP:
      read32(p.mem, arg);
      return 0;
    case TIOCOUTQ:
      write32(p.mem, arg, 0);
      return 0;
    case TCSBRK:
    case TCXONC:
    case TCFLSH:
    case TIOCSCTTY:
    case TIOCNOTTY:
      return 0;
  }
  throw new SysError(ENOTTY);
}

export function registerIoctl(t: HandlerTable): void {
  t.on(16, sysIoctl, 'terminals through the host\'s stty: TCSETSF does not discard input, TIOCSWINSZ sets no pixel sizes, TCFLSH/TCXONC/TCSBRK and TIOCSPGRP do nothing; no socket or device ioctls');
}
