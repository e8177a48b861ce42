/**
 * execve and execveat (fs/exec.c): the arguments copied out of the old
 * program, the file found and checked, `#!` scripts run by their
 * interpreter (binfmt_script's rules), the ELF program and its own
 * interpreter (ld.so) loaded into a new address space by exec.ts's
 * binfmt_elf, then the point of no return: the old address
 * space goes, close-on-exec descriptors close, caught signals go back to
 * their default, and the syscall returns into the new program (the entry
 * model's part, through the machine).
 */
import { hostFs as fs, randomBytes } from '../hostlog.js';
import type * as nodefs from 'node:fs';
import { Memory } from '../../cpu/memory.js';
import { E2BIG, EACCES, EFAULT, EINVAL, ELOOP, ENOENT, ENOEXEC, SysError } from '../errno.js';
import { execElf, type Exec } from '../exec.js';
import { zapOtherThreads } from '../exit.js';
import { ExecError } from '../loader.js';
import { MM, mmapBaseFor } from '../mm.js';
import type { Process } from '../process.js';
import { DEFAULT_ACTION, SIG_IGN, SS_DISABLE, sigAction } from '../signal.js';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, lookup } from './files.js';
import type { HandlerTable } from './table.js';
import { type SyscallArgs, readCStr, readPath, readU64 } from './util.js';

/** Bytes of a file binfmt_script looks at for its `#!` line (BINPRM_BUF_SIZE). */
const BINPRM_BUF_SIZE = 256;
/** Interpreters of interpreters (`#!` scripts run by scripts): more is ELOOP. */
const BINPRM_MAX_RECURSION = 4;
/** The longest argument or environment string (MAX_ARG_STRLEN, 32 pages). */
const MAX_ARG_STRLEN = 32 * 4096;
/** ARG_MAX's floor and _STK_LIM (8 MiB): the room for the strings is a quarter of RLIMIT_STACK, within these. */
const ARG_MAX = 32 * 4096, STK_LIM = 8 * 1024 * 1024;
const RLIMIT_STACK = 3;

const dec = new TextDecoder();

/**
 * A NULL-terminated array of string pointers (argv, envp); a NULL array is
 * empty. Returns the strings and their bytes with NULs. compat: an i386
 * caller's array, of 32-bit pointers.
 */
function readStrings(p: Process, addr: number, compat: boolean): { list: string[]; bytes: number } {
  const list: string[] = [];
  let bytes = 0;
  if (addr === 0) return { list, bytes };
  for (let k = 0; ; k++) {
    const ptr = compat ? p.mem.read32(addr + 4 * k) >>> 0 : readU64(p.mem, addr + 8 * k);
    if (ptr === 0) break;
    let s: Uint8Array;
    try {
      s = readCStr(p.mem, ptr, MAX_ARG_STRLEN);
    } catch (e) {
      if (e instanceof SysError && e.errno !== EFAULT) throw new SysError(E2BIG);
      throw e;
    }
    list.push(dec.decode(s));
    bytes += s.length + 1;
    if (list.length > 0x7fffffff / 8) throw new SysError(E2BIG);
  }
  return { list, bytes };
}

/** The file an exec names: its host path, and the guest path it is known by (/proc/PID/exe). */
function execTarget(p: Process, dirfd: number, path: string, flags: number): { host: string; guest: string } {
  if (path === '') {
    if (!(flags & AT_EMPTY_PATH)) throw new SysError(ENOENT);
    const f = p.fds.file(dirfd);
    return { host: f.hostFd >= 0 ? `/proc/self/fd/${f.hostFd}` : f.hostPath, guest: f.guestPath };
  }
  const { sp, r } = lookup(p, dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW));
  if (sp) {
    const q = sp.proc;
    if (sp.type === 'exe') return { host: q.vfs.resolve(q.exePath, '/'), guest: q.exePath };
    if (sp.type === 'fd') {
      const f = q.fds.file(sp.fd);
      if (f.hostFd < 0) throw new SysError(EACCES);
      return { host: `/proc/self/fd/${f.hostFd}`, guest: f.guestPath };
    }
    throw new SysError(EACCES); // a directory or a file of the emulated procfs: not executable
  }
  return { host: r.host, guest: r.guest };
}

/** do_open_execat's checks, then the file's first bytes (binfmt_script's buffer, and one more): a regular file the caller may execute. */
function readExecutable(host: string): Uint8Array {
  let st: nodefs.Stats;
  try {
    st = fs.statSync(host);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SysError(code === 'ENOTDIR' ? 20 : code === 'ELOOP' ? ELOOP : code === 'EACCES' ? EACCES : ENOENT);
  }
  if (!st.isFile()) throw new SysError(EACCES);
  try {
    fs.accessSync(host, fs.constants.X_OK);
  } catch {
    throw new SysError(EACCES);
  }
  const head = new Uint8Array(BINPRM_BUF_SIZE + 1);
  let fd: number;
  try {
    fd = fs.openSync(host, 'r');
  } catch {
    throw new SysError(EACCES);
  }
  try {
    return head.subarray(0, fs.readSync(fd, head, 0, head.length, 0));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * binfmt_script: the interpreter and its one optional argument from a
 * `#!` line (within the first 256 bytes: an interpreter name cut off
 * there is ENOEXEC), or null if the file is no script.
 */
function scriptLine(data: Uint8Array): { interp: string; arg: string | null } | null {
  if (data.length < 2 || data[0] !== 0x23 || data[1] !== 0x21) return null;
  const head = data.subarray(2, Math.min(data.length, BINPRM_BUF_SIZE));
  const nl = head.indexOf(0x0a);
  const line = dec.decode(nl >= 0 ? head.subarray(0, nl) : head);
  const m = /^[ \t]*([^ \t]*)[ \t]*(.*?)[ \t]*$/s.exec(line)!;
  if (m[1] === '') throw new SysError(ENOEXEC);
  // the line ran past the buffer: an interpreter name that reaches its end may be cut short
  if (nl < 0 && data.length > BINPRM_BUF_SIZE && m[2] === '') throw new SysError(ENOEXEC);
  return { interp: m[1], arg: m[2] === '' ? null : m[2] };
}

/** The guest path of the file at host path `host` with every symlink resolved, or null if it is outside the guest's root. */
function canonicalGuestPath(p: Process, host: string): string | null {
  try {
    return p.vfs.toGuest(fs.realpathSync(host));
  } catch {
    return null;
  }
}

/**
 * execve and execveat (compat: an i386 program's, whose argv and envp are
 * arrays of 32-bit pointers). The new program may be of either ABI: its
 * ELF class decides, and an i386 one gets the entry model's 32-bit vDSO.
 */
export function doExecve(p: Process, dirfd: number, pathAddr: number, argvAddr: number, envpAddr: number, flags: number, compat = false): number {
  if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW)) throw new SysError(EINVAL);
  const path = readPath(p.mem, pathAddr);
  const av = readStrings(p, argvAddr, compat), ev = readStrings(p, envpAddr, compat);
  // Linux 5.18 on: a program started with no argv gets an empty argv[0]
  if (av.list.length === 0) {
    av.list.push('');
    av.bytes += 1;
  }
  const stackRoom = Number(p.rlimits[RLIMIT_STACK][0] > BigInt(4 * STK_LIM) ? BigInt(4 * STK_LIM) : p.rlimits[RLIMIT_STACK][0]) / 4;
  const limit = Math.max(Math.min((STK_LIM / 4) * 3, stackRoom), ARG_MAX);
  if (av.bytes + ev.bytes + 8 * (av.list.length + ev.list.length) > limit) throw new SysError(E2BIG);

  // bprm->filename: what execve was given (execveat's relative paths go through /dev/fd/N)
  const filename = path === '' ? `/dev/fd/${dirfd}` : dirfd === AT_FDCWD || path.startsWith('/') ? path : `/dev/fd/${dirfd}/${path}`;
  let argv = av.list;
  let file = execTarget(p, dirfd, path, flags);
  let data = readExecutable(file.host);
  for (let depth = 0; ; depth++) {
    const script = scriptLine(data);
    if (script === null) break;
    if (depth >= BINPRM_MAX_RECURSION) throw new SysError(ELOOP);
    // the interpreter gets the script's path (as execve was given it; an interpreter's as its #! line names it)
    // in place of argv[0], after its own name and argument
    argv = [script.interp, ...(script.arg !== null ? [script.arg] : []), depth === 0 ? filename : argv[0], ...argv.slice(1)];
    file = execTarget(p, AT_FDCWD, script.interp, 0);
    data = readExecutable(file.host);
  }
  // the new program in a new address space; nothing of the old one changes until it is loaded
  const k = p.kernel;
  const mem = new Memory();
  mem.shareGlobal(k.kernelPages);
  const mm = new MM(mem, { mmapBase: mmapBaseFor(p.rlimits[RLIMIT_STACK][0]), limits: p });
  mm.allowLowMappings = p.euid === 0;
  const reserved = k.machine?.reserved() ?? [];
  for (const [s, e] of reserved) mm.reserveForKernel(s, e);
  // the entry model sees the new program's code once it is the running address space (machine.exec)
  const executable: [number, number][] = [];
  mm.onExecutable = (s, e) => executable.push([s, e]);
  k.physmem.attach(mem, new ExecPages(mm, p));
  let x: Exec;
  const vdso32 = k.machine?.vdso32() ?? undefined;
  try {
    x = execElf(
      { mm, vfs: p.vfs, uid: p.uid, euid: p.euid, gid: p.gid, egid: p.egid },
      { hostPath: file.host, filename, name: file.guest, argv, envp: ev.list, reserved, random: randomBytes(16), vdso32 },
    );
    // an entry model without compat entries is a kernel without IA32_EMULATION: no binfmt takes an i386 program
    if (x.compat && vdso32 === undefined) throw new ExecError(`${file.guest}: an i386 program, and this entry model has no compat entry`, ENOEXEC);
  } catch (e) {
    mem.release();
    if (e instanceof ExecError) throw new SysError(e.errno);
    throw e;
  }
  mm.onExecutable = null;

  // the point of no return (begin_new_exec): the other threads go
  zapOtherThreads(p);
  const task = p.task;
  const old = p.mem;
  if (--old.users === 0) {
    p.mm.flushAll();
    old.release();
  }
  p.mem = mem;
  p.mm = mm;
  task.cpu.useMemory(mem);
  task.clearChildTid = 0;
  task.robustList = 0;
  p.fds.closeOnExec();
  // flush_signal_handlers: caught signals go back to their default; ignored ones stay ignored
  for (let s = 1; s <= 64; s++) {
    const a = p.sigactions[s];
    p.sigactions[s] = a.handler === SIG_IGN ? sigAction({ handler: SIG_IGN, flags: 0, restorer: 0, maskLo: 0, maskHi: 0 }) : DEFAULT_ACTION;
  }
  p.altstack = { sp: 0, flags: SS_DISABLE, size: 0 };
  // /proc/PID/exe names the file as d_path does: every symlink resolved
  p.exePath = canonicalGuestPath(p, file.host) ?? file.guest;
  p.argv = argv;
  p.comm = (filename.split('/').pop() ?? '').slice(0, 15);
  p.image = x.program;
  p.exec = x;
  p.execed = true;
  task.vforkDone = true; // a vfork parent goes on
  k.machine?.exec(task, x, executable);
  return 0;
}

export function registerExec(t: HandlerTable): void {
  const utf8 = 'argument and environment strings that are not UTF-8 do not reach the new program byte for byte';
  t.on(59, (p, a) => doExecve(p, AT_FDCWD, a.num(0), a.num(1), a.num(2), 0), utf8);
  t.on(322, (p, a) => doExecve(p, a.int(0), a.num(1), a.num(2), a.num(3), a.int(4)), utf8);
}

/** The new program's pages: its MM hears of the stack's growth; running out of memory kills the process. */
class ExecPages {
  constructor(
    readonly mm: MM,
    private readonly p: Process,
  ) {}

  oom(): void {
    this.p.raise(9);
  }
}
