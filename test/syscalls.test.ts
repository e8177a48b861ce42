import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CPU } from '../src/cpu/cpu.js';
import { CpuFault } from '../src/cpu/fault.js';
import { Memory, PROT_EXEC, PROT_READ, PROT_USER, PROT_WRITE } from '../src/cpu/memory.js';
import { Process, SyscallArgs } from '../src/kernel/process.js';
import { syscall } from '../src/kernel/syscalls.js';
import { DEFAULT_MMAP_BASE } from '../src/kernel/mm.js';
import { syscallName, syscallNumber } from '../src/kernel/sysnames.js';
import { errnoFromNode, errnoName, EBADF, EFAULT, ENOENT, ENOSYS } from '../src/kernel/errno.js';

const RW = PROT_READ | PROT_WRITE | PROT_USER;
const BUF = 0x10000; // scratch area: 64 KiB
const PATHS = 0x30000; // strings

const tmpRoot = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-sys-')));
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

let mem: Memory;
let cpu: CPU;
let p: Process;
let warnings: string[];
let dir: string;
let pathCursor: number;

function sc(nr: number | string, ...args: (number | bigint)[]): number {
  const n = typeof nr === 'string' ? syscallNumber(nr)! : nr;
  return syscall(p, n, SyscallArgs.of(...args));
}

/** Put a C string in guest memory; returns its address. */
function str(s: string): number {
  const b = Buffer.from(s + '\0');
  const a = pathCursor;
  mem.poke(a, b);
  pathCursor += (b.length + 15) & ~15;
  return a;
}

function bytes(addr: number, n: number): Buffer {
  const out = new Uint8Array(n);
  mem.peek(addr, out);
  return Buffer.from(out);
}

function u64(addr: number): bigint {
  return bytes(addr, 8).readBigUInt64LE(0);
}
function i64(addr: number): number {
  return Number(bytes(addr, 8).readBigInt64LE(0));
}
function u32(addr: number): number {
  return bytes(addr, 4).readUInt32LE(0);
}
function i32(addr: number): number {
  return bytes(addr, 4).readInt32LE(0);
}

beforeEach(() => {
  mem = new Memory();
  cpu = new CPU(mem);
  mem.map(BUF, 0x20000, RW);
  mem.map(PATHS, 0x10000, RW);
  pathCursor = PATHS;
  warnings = [];
  dir = fs.mkdtempSync(path.join(tmpRoot, 't-'));
  p = new Process(cpu, mem, { root: '/', cwd: dir, warn: (m) => warnings.push(m), exePath: '/usr/bin/prog', argv: ['prog', 'a'] });
});

describe('dispatch', () => {
  it('reads arguments from the CPU registers', () => {
    const msgAddr = str('hi');
    fs.writeFileSync(path.join(dir, 'f'), '');
    const fd = sc('openat', -100, str(path.join(dir, 'f')), 1 /* O_WRONLY */);
    expect(fd).toBe(3);
    cpu.setNum(7, fd); // rdi
    cpu.setNum(6, msgAddr); // rsi
    cpu.setNum(2, 2); // rdx
    expect(syscall(p, 1)).toBe(2);
    expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('hi');
  });

  it('a syscall without an implementation: -ENOSYS, one warning per number, every call counted', () => {
    expect(sc('acct', 0)).toBe(-ENOSYS);
    expect(sc('acct', 0)).toBe(-ENOSYS);
    expect(sc(222)).toBe(-ENOSYS); // timer_create
    expect(warnings.length).toBe(2);
    expect(warnings[0]).toContain('163 (acct)');
    expect(warnings[1]).toContain('timer_create');
    expect([...p.enosys]).toEqual([[163, 2], [222, 1]]);
  });

  it('a number that is no syscall: -ENOSYS as from Linux, nothing reported', () => {
    expect(sc(400)).toBe(-ENOSYS); // the gap 335..423 of syscall_64.tbl
    expect(sc(5000)).toBe(-ENOSYS);
    expect(sc(-1)).toBe(-ENOSYS);
    expect(warnings).toEqual([]);
    expect(p.enosys.size).toBe(0);
  });

  it('names syscalls and errnos', () => {
    expect(syscallName(0)).toBe('read');
    expect(syscallName(257)).toBe('openat');
    expect(syscallName(435)).toBe('clone3');
    expect(syscallName(461)).toBe('lsm_list_modules');
    expect(syscallName(400)).toBe('syscall_400');
    expect(syscallNumber('exit_group')).toBe(231);
    expect(errnoName(2)).toBe('ENOENT');
    expect(errnoName(-95)).toBe('EOPNOTSUPP');
    expect(errnoFromNode({ code: 'ENOTEMPTY' })).toBe(39);
    expect(errnoFromNode({ code: 'EWHATEVER', errno: -40 })).toBe(40);
  });
});

describe('file I/O', () => {
  it('openat/write/lseek/read/pread/close', () => {
    const fd = sc('openat', -100, str('a.txt'), 0o102 /* O_RDWR|O_CREAT */ | 0o200 /* O_EXCL */, 0o644);
    expect(fd).toBe(3);
    expect(sc('openat', -100, str('a.txt'), 0o302, 0o644)).toBe(-17); // EEXIST
    mem.poke(BUF, Buffer.from('hello world\n'));
    expect(sc('write', fd, BUF, 12)).toBe(12);
    expect(sc('lseek', fd, 0, 1)).toBe(12);
    expect(sc('lseek', fd, 6, 0)).toBe(6);
    expect(sc('read', fd, BUF + 100, 5)).toBe(5);
    expect(bytes(BUF + 100, 5).toString()).toBe('world');
    expect(sc('lseek', fd, -4, 2)).toBe(8);
    expect(sc('read', fd, BUF + 200, 100)).toBe(4);
    expect(sc('read', fd, BUF + 200, 100)).toBe(0);
    expect(sc('pread64', fd, BUF + 300, 5, 0)).toBe(5);
    expect(bytes(BUF + 300, 5).toString()).toBe('hello');
    expect(sc('lseek', fd, 0, 1)).toBe(12);
    expect(sc('lseek', fd, -100, 1)).toBe(-22);
    expect(sc('close', fd)).toBe(0);
    expect(sc('close', fd)).toBe(-EBADF);
    expect(fs.statSync(path.join(dir, 'a.txt')).mode & 0o777).toBe(0o644 & ~p.umask);
  });

  it('bad fd and bad pointers', () => {
    expect(sc('read', 99, BUF, 1)).toBe(-EBADF);
    expect(sc('write', -1, BUF, 1)).toBe(-EBADF);
    expect(sc('fstat', 42, BUF)).toBe(-EBADF);
    fs.writeFileSync(path.join(dir, 'x'), 'data');
    const fd = sc('open', str('x'), 0);
    expect(sc('read', fd, 0x5000000, 4)).toBe(-EFAULT);
    expect(sc('read', fd, -1, 4)).toBe(-EFAULT);
    // the failed read did not consume the data
    expect(sc('read', fd, BUF, 4)).toBe(4);
    expect(sc('write', 1, 0x5000000, 4)).toBe(-EFAULT);
    expect(sc('open', 0x5000000, 0)).toBe(-EFAULT);
    expect(sc('fstat', fd, 0x5000000)).toBe(-EFAULT);
    expect(sc('open', str('missing'), 0)).toBe(-ENOENT);
    expect(sc('write', fd, BUF, 1)).toBe(-EBADF); // opened read-only
  });

  it('O_APPEND, O_TRUNC, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC and fcntl', () => {
    fs.writeFileSync(path.join(dir, 'f'), 'abc');
    fs.symlinkSync('f', path.join(dir, 'lnk'));
    const fd = sc('open', str('f'), 0o2001 /* O_WRONLY|O_APPEND */ | 0o2000000 /* O_CLOEXEC */);
    mem.poke(BUF, Buffer.from('de'));
    expect(sc('write', fd, BUF, 2)).toBe(2);
    expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('abcde');
    expect(sc('fcntl', fd, 1)).toBe(1); // FD_CLOEXEC
    expect(sc('fcntl', fd, 2, 0)).toBe(0);
    expect(sc('fcntl', fd, 1)).toBe(0);
    expect(sc('fcntl', fd, 3) & 0o2003).toBe(0o2001);
    expect(sc('fcntl', fd, 4, 0)).toBe(0); // clear O_APPEND
    expect(sc('pwrite64', fd, BUF, 1, 0)).toBe(1);
    expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('dbcde');
    expect(sc('open', str('f'), 0o200000 /* O_DIRECTORY */)).toBe(-20);
    expect(sc('open', str('lnk'), 0o400000 /* O_NOFOLLOW */)).toBe(-40);
    const t = sc('open', str('lnk'), 0o1001 /* O_WRONLY|O_TRUNC */);
    expect(t).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('');
    expect(sc('open', str('.'), 1)).toBe(-21); // EISDIR
    expect(sc('fcntl', 77, 1)).toBe(-EBADF);
    expect(sc('fcntl', fd, 9999)).toBe(-22);
  });

  it('dup, dup2, dup3 and F_DUPFD share the file offset', () => {
    fs.writeFileSync(path.join(dir, 'f'), '0123456789');
    const fd = sc('open', str('f'), 0);
    const d = sc('dup', fd);
    expect(d).toBe(fd + 1);
    expect(sc('read', fd, BUF, 3)).toBe(3);
    expect(sc('lseek', d, 0, 1)).toBe(3);
    expect(sc('dup2', fd, 20)).toBe(20);
    expect(sc('dup2', fd, fd)).toBe(fd);
    expect(sc('dup3', fd, fd, 0)).toBe(-22);
    expect(sc('dup3', fd, 21, 0o2000000)).toBe(21);
    expect(sc('fcntl', 21, 1)).toBe(1);
    expect(sc('fcntl', fd, 0, 30)).toBe(30);
    expect(sc('fcntl', fd, 1030, 30)).toBe(31);
    expect(sc('close', fd)).toBe(0);
    expect(sc('read', 20, BUF, 3)).toBe(3);
    expect(bytes(BUF, 3).toString()).toBe('345');
    expect(sc('dup2', 99, 5)).toBe(-EBADF);
  });

  it('readv and writev', () => {
    const fd = sc('open', str('v'), 0o102, 0o600);
    mem.poke(BUF, Buffer.from('one,two,three'));
    const iov = BUF + 0x1000;
    const put = (k: number, base: number, len: number) => {
      const b = Buffer.alloc(16);
      b.writeBigUInt64LE(BigInt(base), 0);
      b.writeBigUInt64LE(BigInt(len), 8);
      mem.poke(iov + k * 16, b);
    };
    put(0, BUF, 4);
    put(1, BUF, 0);
    put(2, BUF + 4, 9);
    expect(sc('writev', fd, iov, 3)).toBe(13);
    expect(sc('lseek', fd, 0, 0)).toBe(0);
    put(0, BUF + 0x2000, 3);
    put(1, BUF + 0x2100, 20);
    expect(sc('readv', fd, iov, 2)).toBe(13);
    expect(bytes(BUF + 0x2000, 3).toString()).toBe('one');
    expect(bytes(BUF + 0x2100, 10).toString()).toBe(',two,three');
    expect(sc('readv', fd, iov, -1)).toBe(-22);
  });

  it('pipes: data, EAGAIN, EOF, EPIPE + SIGPIPE', () => {
    expect(sc('pipe2', BUF, 0o4000 /* O_NONBLOCK */)).toBe(0);
    const r = i32(BUF), w = i32(BUF + 4);
    mem.poke(BUF + 64, Buffer.from('through'));
    expect(sc('write', w, BUF + 64, 7)).toBe(7);
    expect(sc('read', r, BUF + 128, 3)).toBe(3);
    expect(sc('read', r, BUF + 131, 100)).toBe(4);
    expect(bytes(BUF + 128, 7).toString()).toBe('through');
    expect(sc('read', r, BUF, 10)).toBe(-11); // EAGAIN
    expect(sc('lseek', r, 0, 1)).toBe(-29); // ESPIPE
    expect(sc('fcntl', r, 3)).toBe(0o4000);
    // poll: the read end is not ready, the write end is
    const pfd = BUF + 0x800;
    const b = Buffer.alloc(16);
    b.writeInt32LE(r, 0);
    b.writeInt16LE(1, 4);
    b.writeInt32LE(w, 8);
    b.writeInt16LE(4, 12);
    mem.poke(pfd, b);
    expect(sc('poll', pfd, 2, 0)).toBe(1);
    expect(bytes(pfd + 6, 2).readInt16LE(0)).toBe(0);
    expect(bytes(pfd + 14, 2).readInt16LE(0)).toBe(4);
    expect(sc('close', w)).toBe(0);
    expect(sc('read', r, BUF, 10)).toBe(0); // EOF
    expect(sc('pipe', BUF)).toBe(0);
    const r2 = i32(BUF), w2 = i32(BUF + 4);
    sc('close', r2);
    expect(sc('write', w2, BUF + 64, 1)).toBe(-32); // EPIPE
    expect(p.pending.has(13)).toBe(true);
  });

  it('fstat and newfstatat layout', () => {
    fs.writeFileSync(path.join(dir, 's'), 'x'.repeat(1234));
    fs.chmodSync(path.join(dir, 's'), 0o640);
    const st = fs.statSync(path.join(dir, 's'), { bigint: true });
    const fd = sc('open', str('s'), 0);
    expect(sc('fstat', fd, BUF)).toBe(0);
    expect(u64(BUF)).toBe(st.dev);
    expect(u64(BUF + 8)).toBe(st.ino);
    expect(u64(BUF + 16)).toBe(1n);
    expect(u32(BUF + 24)).toBe(0o100640);
    expect(u32(BUF + 28)).toBe(Number(st.uid));
    expect(i64(BUF + 48)).toBe(1234);
    expect(i64(BUF + 56)).toBe(Number(st.blksize));
    expect(i64(BUF + 64)).toBe(Number(st.blocks));
    expect(BigInt(i64(BUF + 88)) * 1000000000n + BigInt(i64(BUF + 96))).toBe(st.mtimeNs);
    // AT_EMPTY_PATH on the fd, AT_SYMLINK_NOFOLLOW on a link
    expect(sc('newfstatat', fd, str(''), BUF + 200, 0x1000)).toBe(0);
    expect(u64(BUF + 208)).toBe(st.ino);
    expect(sc('newfstatat', fd, str(''), BUF + 200, 0)).toBe(-ENOENT);
    fs.symlinkSync('s', path.join(dir, 'l'));
    expect(sc('newfstatat', -100, str('l'), BUF + 400, 0x100)).toBe(0);
    expect(u32(BUF + 424) & 0o170000).toBe(0o120000);
    expect(sc('stat', str('l'), BUF + 400)).toBe(0);
    expect(u32(BUF + 424) & 0o170000).toBe(0o100000);
    expect(sc('lstat', str('nope'), BUF)).toBe(-ENOENT);
    expect(sc('stat', str('s/x'), BUF)).toBe(-20);
    expect(sc('newfstatat', -100, str('s'), BUF, 0x8000)).toBe(-22);
  });

  it('statx', () => {
    fs.writeFileSync(path.join(dir, 's'), 'abc');
    const st = fs.statSync(path.join(dir, 's'), { bigint: true });
    expect(sc('statx', -100, str('s'), 0, 0x7ff, BUF)).toBe(0);
    expect(u32(BUF) & 0x7ff).toBe(0x7ff);
    expect(u32(BUF + 16)).toBe(1); // nlink
    expect(bytes(BUF + 28, 2).readUInt16LE(0)).toBe(Number(st.mode));
    expect(u64(BUF + 32)).toBe(st.ino);
    expect(u64(BUF + 40)).toBe(3n);
    expect(BigInt(i64(BUF + 0x70)) * 1000000000n + BigInt(u32(BUF + 0x78))).toBe(st.mtimeNs);
    const dev = st.dev;
    expect(u32(BUF + 0x88)).toBe(Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)));
    expect(sc('statx', -100, str('s'), 0x6000, 0x7ff, BUF)).toBe(-22);
  });

  it('getdents64 lists . .. and entries with types', () => {
    fs.writeFileSync(path.join(dir, 'file1'), '');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.symlinkSync('file1', path.join(dir, 'ln'));
    const fd = sc('open', str('.'), 0o200000);
    expect(fd).toBeGreaterThan(0);
    const seen: [string, number, bigint][] = [];
    for (;;) {
      const n = sc('getdents64', fd, BUF, 64); // small buffer: several calls
      expect(n).toBeGreaterThanOrEqual(0);
      if (n === 0) break;
      let o = 0;
      while (o < n) {
        const ino = u64(BUF + o);
        const reclen = bytes(BUF + o + 16, 2).readUInt16LE(0);
        const type = bytes(BUF + o + 18, 1)[0];
        const nameBytes = bytes(BUF + o + 19, reclen - 19);
        const name = nameBytes.subarray(0, nameBytes.indexOf(0)).toString();
        expect(reclen % 8).toBe(0);
        seen.push([name, type, ino]);
        o += reclen;
      }
    }
    seen.sort((a, b) => (a[0] < b[0] ? -1 : 1));
    expect(seen.map((s) => s[0])).toEqual(['.', '..', 'file1', 'ln', 'sub']);
    expect(seen.map((s) => s[1])).toEqual([4, 4, 8, 10, 4]);
    expect(seen[2][2]).toBe(fs.statSync(path.join(dir, 'file1'), { bigint: true }).ino);
    // rewind
    expect(sc('lseek', fd, 0, 0)).toBe(0);
    expect(sc('getdents64', fd, BUF, 4096)).toBeGreaterThan(0);
    expect(sc('getdents64', fd, BUF, 10)).toBe(0);
    expect(sc('lseek', fd, 0, 0)).toBe(0);
    expect(sc('getdents64', fd, BUF, 10)).toBe(-22); // too small for one entry
    const f = sc('open', str('file1'), 0);
    expect(sc('getdents64', f, BUF, 4096)).toBe(-20);
    expect(sc('read', fd, BUF, 10)).toBe(-21);
  });

  it('directories, rename, links, unlink, cwd', () => {
    expect(sc('mkdir', str('d'), 0o755)).toBe(0);
    expect(sc('mkdir', str('d'), 0o755)).toBe(-17);
    expect(fs.statSync(path.join(dir, 'd')).mode & 0o777).toBe(0o755 & ~p.umask);
    fs.writeFileSync(path.join(dir, 'd/f'), 'x');
    expect(sc('rmdir', str('d'))).toBe(-39);
    expect(sc('rename', str('d/f'), str('g'))).toBe(0);
    expect(sc('rename', str('d/f'), str('g'))).toBe(-2);
    expect(sc('renameat2', -100, str('g'), -100, str('d/g'), 1 /* NOREPLACE */)).toBe(0);
    fs.writeFileSync(path.join(dir, 'h'), 'y');
    expect(sc('renameat2', -100, str('h'), -100, str('d/g'), 1)).toBe(-17);
    expect(sc('link', str('d/g'), str('hard'))).toBe(0);
    expect(sc('stat', str('hard'), BUF)).toBe(0);
    expect(u64(BUF + 16)).toBe(2n);
    expect(sc('symlink', str('d/g'), str('sym'))).toBe(0);
    expect(sc('readlink', str('sym'), BUF, 100)).toBe(3);
    expect(bytes(BUF, 3).toString()).toBe('d/g');
    expect(sc('readlink', str('sym'), BUF, 2)).toBe(2);
    expect(sc('readlink', str('hard'), BUF, 100)).toBe(-22);
    expect(sc('unlink', str('d'))).toBe(-21);
    expect(sc('unlinkat', -100, str('d'), 0x200)).toBe(-39);
    expect(sc('unlinkat', -100, str('d/g'), 0)).toBe(0);
    expect(sc('unlinkat', -100, str('d'), 0x200)).toBe(0);
    expect(sc('unlinkat', -100, str('x'), 0x999)).toBe(-22);
    // access
    expect(sc('access', str('hard'), 0)).toBe(0);
    expect(sc('access', str('nope'), 0)).toBe(-2);
    expect(sc('access', str('hard'), 8)).toBe(-22);
    expect(sc('faccessat2', -100, str('hard'), 4, 0x200)).toBe(0);
    // cwd
    expect(sc('getcwd', BUF, 4096)).toBe(Buffer.byteLength(dir) + 1);
    expect(bytes(BUF, Buffer.byteLength(dir)).toString()).toBe(dir);
    expect(sc('getcwd', BUF, 2)).toBe(-34);
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.symlinkSync('sub', path.join(dir, 'sublink'));
    expect(sc('chdir', str('sublink'))).toBe(0);
    expect(p.cwd).toBe(path.join(dir, 'sub'));
    expect(sc('chdir', str('..'))).toBe(0);
    expect(p.cwd).toBe(dir);
    expect(sc('chdir', str('hard'))).toBe(-20);
    expect(sc('chdir', str('missing'))).toBe(-2);
    const dfd = sc('open', str('sub'), 0o200000);
    expect(sc('openat', dfd, str('inner'), 0o101, 0o644)).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(dir, 'sub/inner'))).toBe(true);
    expect(sc('fchdir', dfd)).toBe(0);
    expect(p.cwd).toBe(path.join(dir, 'sub'));
    expect(sc('mkdirat', dfd, str('m'), 0o700)).toBe(0);
    expect(sc('openat', 55, str('x'), 0)).toBe(-EBADF);
    const ffd = sc('open', str('inner'), 0);
    expect(sc('openat', ffd, str('x'), 0)).toBe(-20);
    // umask
    sc('umask', 0o027);
    expect(sc('umask', 0o022)).toBe(0o027);
  });

  it('ftruncate, utimensat, fsync, chmod', () => {
    const fd = sc('open', str('t'), 0o102, 0o666);
    mem.poke(BUF, Buffer.from('0123456789'));
    sc('write', fd, BUF, 10);
    expect(sc('ftruncate', fd, 4)).toBe(0);
    expect(fs.readFileSync(path.join(dir, 't'), 'utf8')).toBe('0123');
    expect(sc('ftruncate', fd, -1)).toBe(-22);
    const ts = Buffer.alloc(32);
    ts.writeBigInt64LE(1000000000n, 0);
    ts.writeBigInt64LE(0n, 8);
    ts.writeBigInt64LE(1500000000n, 16);
    ts.writeBigInt64LE(0n, 24);
    mem.poke(BUF + 100, ts);
    expect(sc('utimensat', -100, str('t'), BUF + 100, 0)).toBe(0);
    expect(Math.round(fs.statSync(path.join(dir, 't')).mtimeMs / 1000)).toBe(1500000000);
    expect(sc('fsync', fd)).toBe(0);
    expect(sc('fdatasync', fd)).toBe(0);
    expect(sc('chmod', str('t'), 0o600)).toBe(0);
    expect(fs.statSync(path.join(dir, 't')).mode & 0o777).toBe(0o600);
    expect(sc('fchmod', fd, 0o644)).toBe(0);
    expect(fs.statSync(path.join(dir, 't')).mode & 0o777).toBe(0o644);
    expect(sc('chown', str('t'), 0, 0)).toBe(0);
    expect(sc('chown', str('missing'), 0, 0)).toBe(-2);
    // no extended attributes
    expect(sc('lgetxattr', str('t'), str('user.x'), BUF, 64)).toBe(-61);
    expect(sc('listxattr', str('t'), BUF, 64)).toBe(0);
    expect(sc('setxattr', str('t'), str('user.x'), BUF, 1, 0)).toBe(-95);
    expect(sc('getxattr', str('missing'), str('user.x'), BUF, 64)).toBe(-2);
  });

  it('ioctl: not a tty', () => {
    const fd = sc('open', str('t'), 0o102, 0o666);
    expect(sc('ioctl', fd, 0x5401, BUF)).toBe(-25); // TCGETS
    expect(sc('ioctl', fd, 0x5413, BUF)).toBe(-25); // TIOCGWINSZ
    expect(sc('ioctl', fd, 0x5451, 0)).toBe(0); // FIOCLEX
    expect(sc('fcntl', fd, 1)).toBe(1);
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    mem.poke(BUF, one);
    expect(sc('ioctl', fd, 0x5421, BUF)).toBe(0); // FIONBIO
    expect(sc('fcntl', fd, 3) & 0o4000).toBe(0o4000);
    expect(sc('ioctl', 99, 0x5401, BUF)).toBe(-EBADF);
  });

  it('special files: /proc/self/exe, /dev/null, /dev/zero, /proc/self/maps', () => {
    expect(sc('readlink', str('/proc/self/exe'), BUF, 100)).toBe('/usr/bin/prog'.length);
    expect(bytes(BUF, 13).toString()).toBe('/usr/bin/prog');
    const z = sc('open', str('/dev/zero'), 0);
    mem.poke(BUF, Buffer.from('xxxx'));
    expect(sc('read', z, BUF, 4)).toBe(4);
    expect([...bytes(BUF, 4)]).toEqual([0, 0, 0, 0]);
    const n = sc('open', str('/dev/null'), 2);
    expect(sc('write', n, BUF, 4)).toBe(4);
    expect(sc('read', n, BUF, 4)).toBe(0);
    p.mm.addVma(0x400000, 0x401000, PROT_READ | PROT_EXEC, '/usr/bin/prog');
    const m = sc('open', str('/proc/self/maps'), 0);
    const k = sc('read', m, BUF, 4096);
    expect(bytes(BUF, k).toString()).toMatch(/^00400000-00401000 r-xp .*\/usr\/bin\/prog\n/);
    const r = sc('open', str('/dev/urandom'), 0);
    expect(sc('read', r, BUF, 32)).toBe(32);
    // /proc/self/fd/N names the guest's descriptor
    expect(sc('readlink', str(`/proc/self/fd/${z}`), BUF, 100)).toBe('/dev/zero'.length);
  });

  it('confined root: the guest sees only its root', () => {
    const root = path.join(dir, 'root');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc/hostname'), 'guest\n');
    fs.symlinkSync('/etc/hostname', path.join(root, 'abs'));
    const q = new Process(cpu, mem, { root, cwd: '/', warn: (m) => warnings.push(m), exePath: '/bin/x' });
    const call = (nr: string, ...a: number[]) => syscall(q, syscallNumber(nr)!, SyscallArgs.of(...a));
    const fd = call('open', str('/../../abs'), 0);
    expect(fd).toBeGreaterThan(2);
    expect(call('read', fd, BUF, 100)).toBe(6);
    expect(bytes(BUF, 6).toString()).toBe('guest\n');
    expect(call('chdir', str('/etc'))).toBe(0);
    expect(call('getcwd', BUF, 100)).toBe(5);
    expect(bytes(BUF, 4).toString()).toBe('/etc');
    expect(call('open', str('../../../../passwd'), 0)).toBe(-2);
    expect(call('open', str('/dev/null'), 0)).toBeGreaterThan(2); // host device passed through
  });
});

describe('memory', () => {
  beforeEach(() => {
    mem.map(0x400000, 0x2000, PROT_READ | PROT_EXEC | PROT_USER);
    p.mm.addVma(0x400000, 0x402000, PROT_READ | PROT_EXEC, '/usr/bin/prog');
    p.mm.setBrkStart(0x403000);
  });

  it('brk grows and shrinks page by page', () => {
    expect(sc('brk', 0)).toBe(0x403000);
    expect(sc('brk', 0x403000 + 10000)).toBe(0x403000 + 10000);
    mem.write32(0x403000 + 9996, 0x12345678);
    expect(mem.read32(0x403000 + 9996)).toBe(0x12345678);
    expect(sc('brk', 0)).toBe(0x403000 + 10000);
    expect(sc('brk', 0x403000 + 100)).toBe(0x403000 + 100);
    expect(() => mem.read8(0x403000 + 5000)).toThrow(CpuFault);
    // growing again gives zeroed pages
    expect(sc('brk', 0x403000 + 10000)).toBe(0x403000 + 10000);
    expect(mem.read32(0x403000 + 9996)).toBe(0);
    // below the start: unchanged
    expect(sc('brk', 0x1000)).toBe(0x403000 + 10000);
    // blocked by a mapping
    expect(sc('mmap', 0x500000, 0x1000, 3, 0x22 | 0x10, -1, 0)).toBe(0x500000);
    expect(sc('brk', 0x600000)).toBe(0x403000 + 10000);
  });

  it('mmap/munmap/mprotect change guest memory', () => {
    const a = sc('mmap', 0, 0x3000, 3, 0x22 /* PRIVATE|ANON */, -1, 0);
    expect(a).toBe(DEFAULT_MMAP_BASE - 0x3000);
    mem.write32(a + 0x2ffc, 7);
    expect(mem.read32(a + 0x2ffc)).toBe(7);
    const b = sc('mmap', 0, 0x1000, 1, 0x22, -1, 0);
    expect(b).toBe(a - 0x1000);
    expect(() => mem.write8(b, 1)).toThrow(CpuFault);
    // mprotect to read-only, then back
    expect(sc('mprotect', a, 0x1000, 1)).toBe(0);
    expect(() => mem.write8(a, 1)).toThrow(CpuFault);
    expect(mem.read8(a)).toBe(0);
    expect(sc('mprotect', a, 0x1000, 0)).toBe(0);
    expect(() => mem.read8(a)).toThrow(CpuFault);
    expect(sc('mprotect', a, 0x1000, 3)).toBe(0);
    mem.write8(a, 1);
    expect(sc('mprotect', a + 1, 0x1000, 3)).toBe(-22);
    expect(sc('mprotect', 0x7000000, 0x1000, 3)).toBe(-12);
    // munmap a hole; access faults; mmap reuses it
    expect(sc('munmap', a + 0x1000, 0x1000)).toBe(0);
    expect(() => mem.read8(a + 0x1000)).toThrow(CpuFault);
    expect(mem.read32(a + 0x2ffc)).toBe(7);
    expect(sc('munmap', a + 1, 0x1000)).toBe(-22);
    expect(sc('munmap', a, 0)).toBe(-22);
    // errors
    expect(sc('mmap', 0, 0, 3, 0x22, -1, 0)).toBe(-22);
    expect(sc('mmap', 0, 0x1000, 3, 0x20, -1, 0)).toBe(-22); // neither shared nor private
    expect(sc('mmap', 0, 0x1000, 3, 0x02, 99, 0)).toBe(-EBADF);
    expect(sc('mmap', 0, 0x1000, 3, 0x22, -1, 100)).toBe(-22);
    expect(sc('mmap', 0, 2 ** 48, 3, 0x22, -1, 0)).toBe(-12);
    // hints honoured when free, MAP_FIXED_NOREPLACE refuses overlap
    expect(sc('mmap', 0x10000000, 0x1000, 3, 0x22, -1, 0)).toBe(0x10000000);
    expect(sc('mmap', 0x10000000, 0x1000, 3, 0x22, -1, 0)).not.toBe(0x10000000);
    expect(sc('mmap', 0x10000000, 0x1000, 3, 0x22 | 0x100000, -1, 0)).toBe(-17);
    expect(sc('mmap', 0x400000, 0x1000, 3, 0x22, -1, 0)).not.toBe(0x400000); // the program is there
    // MAP_FIXED replaces
    mem.write8(0x10000000, 9);
    expect(sc('mmap', 0x10000000, 0x1000, 3, 0x32, -1, 0)).toBe(0x10000000);
    expect(mem.read8(0x10000000)).toBe(0);
    p.mm.allowLowMappings = false; // not root
    expect(sc('mmap', 0x1000, 0x1000, 3, 0x32, -1, 0)).toBe(-1); // below mmap_min_addr: EPERM
    p.mm.allowLowMappings = true; // root (CAP_SYS_RAWIO)
    expect(sc('mmap', 0x1000, 0x1000, 3, 0x32, -1, 0)).toBe(0x1000);
  });

  it('file-backed private mappings copy the file', () => {
    const data = Buffer.alloc(5000);
    for (let k = 0; k < data.length; k++) data[k] = k & 0xff;
    fs.writeFileSync(path.join(dir, 'm'), data);
    const fd = sc('open', str('m'), 0);
    const a = sc('mmap', 0, 8192, 1, 2, fd, 0);
    expect(a).toBeGreaterThan(0);
    expect(mem.read8(a + 4999)).toBe(4999 & 0xff);
    expect(mem.read8(a + 5000)).toBe(0);
    const b = sc('mmap', 0, 4096, 3, 2, fd, 4096);
    expect(mem.read8(b)).toBe(4096 & 0xff);
    mem.write8(b, 0xee); // private: the file is unchanged
    expect(fs.readFileSync(path.join(dir, 'm'))[4096]).toBe(4096 & 0xff);
    expect(sc('mmap', 0, 4096, 3, 1 /* SHARED */, fd, 0)).toBe(-13); // read-only fd, PROT_WRITE
    // shared writable mapping is written back on munmap
    const w = sc('open', str('m'), 2);
    const s = sc('mmap', 0, 4096, 3, 1, w, 0);
    mem.write8(s + 10, 0xaa);
    expect(sc('munmap', s, 4096)).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'm'))[10]).toBe(0xaa);
    const dfd = sc('open', str('.'), 0);
    expect(sc('mmap', 0, 4096, 1, 2, dfd, 0)).toBe(-19); // ENODEV
  });

  it('mremap grows in place, moves, shrinks', () => {
    const a = sc('mmap', 0, 0x2000, 3, 0x22, -1, 0);
    mem.write32(a + 0x1000, 0xabcd);
    // shrink
    expect(sc('mremap', a, 0x2000, 0x1000, 0)).toBe(a);
    expect(() => mem.read8(a + 0x1000)).toThrow(CpuFault);
    // grow in place (free space above: the earlier top mapping is gone)
    expect(sc('mremap', a, 0x1000, 0x2000, 0)).toBe(a);
    expect(mem.read32(a + 0x1000)).toBe(0);
    mem.write32(a + 4, 0x1234);
    // grow where the next pages are taken: needs MREMAP_MAYMOVE
    sc('mmap', a + 0x2000, 0x1000, 3, 0x32, -1, 0);
    expect(sc('mremap', a, 0x2000, 0x8000, 0)).toBe(-12);
    const m = sc('mremap', a, 0x2000, 0x8000, 1);
    expect(m).not.toBe(a);
    expect(mem.read32(m + 4)).toBe(0x1234);
    mem.write32(m + 0x7ffc, 5);
    expect(() => mem.read8(a)).toThrow(CpuFault);
    expect(sc('mremap', a, 0x1000, 0x2000, 1)).toBe(-14); // old range unmapped: EFAULT
    expect(sc('mremap', m + 1, 0x1000, 0x2000, 1)).toBe(-22);
    // MREMAP_FIXED
    const f = sc('mremap', m, 0x8000, 0x8000, 3, 0x20000000);
    expect(f).toBe(0x20000000);
    expect(mem.read32(0x20000000 + 4)).toBe(0x1234);
  });

  it('madvise DONTNEED zeroes anonymous pages', () => {
    const a = sc('mmap', 0, 0x2000, 3, 0x22, -1, 0);
    mem.write32(a, 42);
    mem.write32(a + 0x1000, 43);
    expect(sc('madvise', a, 0x1000, 4)).toBe(0);
    expect(mem.read32(a)).toBe(0);
    expect(mem.read32(a + 0x1000)).toBe(43);
    expect(sc('madvise', a, 0x1000, 0)).toBe(0);
    expect(sc('madvise', a, 0x1000, 999)).toBe(-22);
    expect(sc('madvise', 0x7000000, 0x1000, 0)).toBe(-12);
    expect(sc('msync', a, 0x1000, 4)).toBe(0);
    expect(sc('mlock', a, 0x1000)).toBe(0);
  });

  it('/proc/self/maps lists the heap and mappings', () => {
    sc('brk', 0x405000);
    sc('mmap', 0, 0x1000, 3, 0x22, -1, 0);
    const text = p.mm.procMaps();
    expect(text).toContain('00403000-00405000 rw-p 00000000 00:00 0');
    expect(text).toContain('[heap]');
    expect(text).toContain(`${(DEFAULT_MMAP_BASE - 0x1000).toString(16)}-${DEFAULT_MMAP_BASE.toString(16)} rw-p`);
  });
});

describe('process', () => {
  it('ids, uname, arch_prctl', () => {
    expect(sc('getpid')).toBe(1000);
    expect(sc('gettid')).toBe(1000);
    expect(sc('getppid')).toBe(999);
    expect(sc('getuid')).toBe(process.getuid!());
    expect(sc('getegid')).toBe(process.getegid!());
    expect(sc('set_tid_address', BUF)).toBe(1000);
    expect(sc('set_robust_list', BUF, 24)).toBe(0);
    expect(sc('rseq', BUF, 32, 0, 0)).toBe(-ENOSYS);
    expect(warnings).toEqual([]);
    expect(sc('uname', BUF)).toBe(0);
    const field = (k: number) => {
      const b = bytes(BUF + k * 65, 65);
      return b.subarray(0, b.indexOf(0)).toString();
    };
    expect(field(0)).toBe('Linux');
    expect(field(1)).toBe(os.hostname().slice(0, 64));
    expect(field(2)).toBe(os.release());
    expect(field(4)).toBe('x86_64');
    expect(field(5)).toBe('(none)');
    expect(sc('arch_prctl', 0x1002, 0x7f0000001000)).toBe(0);
    expect(cpu.fsBase).toBe(0x7f0000001000);
    expect(sc('arch_prctl', 0x1003, BUF)).toBe(0);
    expect(u64(BUF)).toBe(0x7f0000001000n);
    expect(sc('arch_prctl', 0x1001, 0x1234000)).toBe(0);
    expect(cpu.gsBase).toBe(0x1234000);
    expect(sc('arch_prctl', 0x3001, BUF)).toBe(-22);
    expect(sc('arch_prctl', 0x1002, 2 ** 47)).toBe(-1);
  });

  it('prlimit64 / getrlimit / setrlimit', () => {
    // the oracle: the limits a program started from here has, as the shell's getrlimit reports them
    const sh = spawnSync('sh', ['-c', 'ulimit -Ss; ulimit -Hs; ulimit -Sn; ulimit -Hn; ulimit -St'], { encoding: 'utf8' }).stdout.trim().split('\n');
    const lim = (x: string, unit: bigint) => (x === 'unlimited' ? 0xffffffffffffffffn : BigInt(x) * unit);
    expect(sc('prlimit64', 0, 3, 0, BUF)).toBe(0); // RLIMIT_STACK
    expect(u64(BUF)).toBe(lim(sh[0], 1024n));
    expect(u64(BUF + 8)).toBe(lim(sh[1], 1024n));
    expect(sc('getrlimit', 7, BUF)).toBe(0); // RLIMIT_NOFILE
    expect(u64(BUF)).toBe(lim(sh[2], 1n));
    expect(u64(BUF + 8)).toBe(lim(sh[3], 1n));
    expect(sc('getrlimit', 0, BUF)).toBe(0); // RLIMIT_CPU
    expect(u64(BUF)).toBe(lim(sh[4], 1n));
    expect(sc('prlimit64', 0, 99, 0, BUF)).toBe(-22);
    expect(sc('prlimit64', 12345, 3, 0, BUF)).toBe(-3);
    const nofile = Buffer.alloc(16);
    nofile.writeBigUInt64LE(4n, 0);
    nofile.writeBigUInt64LE(lim(sh[3], 1n), 8);
    mem.poke(BUF + 64, nofile);
    expect(sc('setrlimit', 7, BUF + 64)).toBe(0);
    expect(sc('open', str('/dev/null'), 0)).toBe(3);
    expect(sc('open', str('/dev/null'), 0)).toBe(-24); // EMFILE
    nofile.writeBigUInt64LE(5n, 0);
    nofile.writeBigUInt64LE(4n, 8);
    mem.poke(BUF + 64, nofile);
    expect(sc('setrlimit', 7, BUF + 64)).toBe(-22);
  });

  it('exit_group stops the CPU', () => {
    expect(sc('exit_group', 3)).toBe(0);
    expect(p.exitCode).toBe(3);
    expect(cpu.stopRequested).toBe(true);
  });

  it('getrandom, sched_getaffinity, prctl names, futex', () => {
    expect(sc('getrandom', BUF, 64, 0)).toBe(64);
    expect(sc('getrandom', BUF, 64, 8)).toBe(-22);
    const n = sc('sched_getaffinity', 0, 128, BUF);
    expect(n % 8).toBe(0);
    // libuv's available_parallelism is CPU_COUNT of the host's own sched_getaffinity
    const bits = [...bytes(BUF, n)].reduce((c, b) => c + b.toString(2).replace(/0/g, '').length, 0);
    expect(bits).toBe(os.availableParallelism());
    expect(sc('prctl', 15, str('worker-thread-name-long'))).toBe(0);
    expect(sc('prctl', 16, BUF)).toBe(0);
    expect(bytes(BUF, 16).toString('latin1')).toBe('worker-thread-n\0');
    mem.write32(BUF, 5);
    expect(sc('futex', BUF, 128, 6, 0)).toBe(-11); // value differs: EAGAIN
    expect(sc('futex', BUF, 129, 1)).toBe(0); // wake
    const ts = Buffer.alloc(16);
    ts.writeBigInt64LE(0n, 0);
    ts.writeBigInt64LE(1000000n, 8);
    mem.poke(BUF + 64, ts);
    // a wait with a timeout parks the task (the machine retries it; test/fixtures' futex-* check ETIMEDOUT end to end)
    expect(() => sc('futex', BUF, 128, 5, BUF + 64)).toThrow(/would block/);
    expect(sc('wait4', -1, 0, 0, 0)).toBe(-10); // ECHILD
    // process group and session: those of the parent, like a child of a shell without job control
    expect(sc('getpgrp')).toBe(999);
    expect(sc('setpgid', 0, 0)).toBe(0);
    expect(sc('getpgid', 0)).toBe(1000);
    expect(sc('setsid')).toBe(-1); // now a group leader: EPERM
    expect(sc('getsid', 0)).toBe(999);
    expect(sc('getpgid', 4242)).toBe(-3);
  });
});

describe('time', () => {
  it('clock_gettime is monotonic; realtime is wall time', () => {
    expect(sc('clock_gettime', 1, BUF)).toBe(0);
    const t1 = BigInt(i64(BUF)) * 1000000000n + BigInt(i64(BUF + 8));
    expect(sc('clock_gettime', 1, BUF)).toBe(0);
    const t2 = BigInt(i64(BUF)) * 1000000000n + BigInt(i64(BUF + 8));
    expect(t2 > t1).toBe(true);
    expect(i64(BUF + 8)).toBeLessThan(1000000000);
    expect(sc('clock_gettime', 0, BUF)).toBe(0);
    expect(Math.abs(i64(BUF) - Date.now() / 1000)).toBeLessThan(5);
    for (const clk of [2, 3, 4, 5, 6, 7]) expect(sc('clock_gettime', clk, BUF)).toBe(0);
    expect(sc('clock_gettime', 99, BUF)).toBe(-22);
    expect(sc('clock_gettime', 1, 0)).toBe(-EFAULT);
    expect(sc('clock_getres', 1, BUF)).toBe(0);
    expect(i64(BUF + 8)).toBe(1);
    expect(sc('gettimeofday', BUF, 0)).toBe(0);
    expect(i64(BUF + 8)).toBeLessThan(1000000);
    expect(Math.abs(sc('time', 0) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('nanosleep sleeps; alarm interrupts it with EINTR and SIGALRM pending', () => {
    const ts = Buffer.alloc(16);
    ts.writeBigInt64LE(0n, 0);
    ts.writeBigInt64LE(20000000n, 8); // 20 ms
    mem.poke(BUF, ts);
    const t0 = Date.now();
    expect(sc('nanosleep', BUF, 0)).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(18);
    ts.writeBigInt64LE(-1n, 8);
    mem.poke(BUF, ts);
    expect(sc('nanosleep', BUF, 0)).toBe(-22);
    // a handler for SIGALRM, a 30 ms itimer, a 5 s sleep
    const act = Buffer.alloc(32);
    act.writeBigUInt64LE(0x401000n, 0);
    act.writeBigUInt64LE(0x04000000n, 8);
    mem.poke(BUF + 64, act);
    expect(sc('rt_sigaction', 14, BUF + 64, 0, 8)).toBe(0);
    const itv = Buffer.alloc(32);
    itv.writeBigInt64LE(30000n, 24); // it_value.tv_usec
    mem.poke(BUF + 128, itv);
    expect(sc('setitimer', 0, BUF + 128, 0)).toBe(0);
    ts.writeBigInt64LE(5n, 0);
    ts.writeBigInt64LE(0n, 8);
    mem.poke(BUF, ts);
    const t1 = Date.now();
    expect(sc('nanosleep', BUF, BUF + 32)).toBe(-4);
    expect(p.interrupted).toBe('block');
    expect(Date.now() - t1).toBeLessThan(2000);
    expect(p.pending.has(14)).toBe(true);
    expect(i64(BUF + 32)).toBeGreaterThanOrEqual(4); // remaining ~4.97 s
    expect(sc('alarm', 10)).toBe(0);
    expect(sc('alarm', 0)).toBe(10);
  });
});

describe('signals', () => {
  it('rt_sigaction round trip and SIGKILL refusal', () => {
    const act = Buffer.alloc(32);
    act.writeBigUInt64LE(0x401234n, 0);
    act.writeBigUInt64LE(0x04000004n, 8);
    act.writeBigUInt64LE(0x401000n, 16);
    act.writeBigUInt64LE((1n << 8n) | (1n << 1n), 24); // SIGINT + SIGKILL bits
    mem.poke(BUF, act);
    expect(sc('rt_sigaction', 10, BUF, 0, 8)).toBe(0);
    expect(p.sigactions[10]).toEqual({ handler: 0x401234, flags: 0x04000004, restorer: 0x401000, maskLo: 2, maskHi: 0 });
    expect(sc('rt_sigaction', 10, 0, BUF + 64, 8)).toBe(0);
    expect(u64(BUF + 64)).toBe(0x401234n);
    expect(u64(BUF + 72)).toBe(0x04000004n);
    expect(sc('rt_sigaction', 9, BUF, 0, 8)).toBe(-22);
    expect(sc('rt_sigaction', 65, 0, 0, 8)).toBe(-22);
    expect(sc('rt_sigaction', 10, BUF, 0, 4)).toBe(-22);
  });

  it('kill/tgkill to self mark pending; sigprocmask and sigpending', () => {
    const set = Buffer.alloc(8);
    set.writeBigUInt64LE(1n << 9n); // SIGUSR1
    mem.poke(BUF, set);
    expect(sc('rt_sigprocmask', 0, BUF, BUF + 8, 8)).toBe(0);
    expect(u64(BUF + 8)).toBe(0n);
    expect(p.blockedLo).toBe(1 << 9);
    expect(sc('kill', 1000, 10)).toBe(0);
    expect(p.pending.has(10)).toBe(true);
    expect(p.pendingInfo.get(10)!.code).toBe(0); // SI_USER
    expect(sc('rt_sigpending', BUF + 16, 8)).toBe(0);
    expect(u64(BUF + 16)).toBe(1n << 9n);
    expect(sc('tgkill', 1000, 1000, 12)).toBe(0);
    expect(p.task.pendingInfo.get(12)!.code).toBe(-6); // SI_TKILL: pending for the thread it names
    expect(sc('kill', 4242, 10)).toBe(-3);
    expect(sc('tgkill', 1000, 77, 10)).toBe(-3);
    expect(sc('kill', 1000, 65)).toBe(-22);
    expect(sc('kill', 0, 0)).toBe(0);
    // SIGKILL cannot be blocked
    set.writeBigUInt64LE(0xffffffffffffffffn);
    mem.poke(BUF, set);
    expect(sc('rt_sigprocmask', 2, BUF, 0, 8)).toBe(0);
    expect(p.blockedLo & (1 << 8)).toBe(0);
    expect(p.blockedLo & (1 << 18)).toBe(0);
    expect(sc('rt_sigprocmask', 7, BUF, 0, 8)).toBe(-22);
    // ignored unblocked signals are discarded
    mem.poke(BUF, Buffer.alloc(8));
    sc('rt_sigprocmask', 2, BUF, 0, 8);
    const act = Buffer.alloc(32);
    act.writeBigUInt64LE(1n, 0); // SIG_IGN
    mem.poke(BUF + 64, act);
    sc('rt_sigaction', 12, BUF + 64, 0, 8);
    expect(p.pending.has(12)).toBe(false);
    sc('kill', 1000, 12);
    expect(p.pending.has(12)).toBe(false);
  });

  it('sigaltstack', () => {
    const ss = Buffer.alloc(24);
    ss.writeBigUInt64LE(0x20000n, 0);
    ss.writeInt32LE(0, 8);
    ss.writeBigUInt64LE(65536n, 16);
    mem.poke(BUF, ss);
    expect(sc('sigaltstack', 0, BUF + 32)).toBe(0);
    expect(i32(BUF + 40)).toBe(2); // SS_DISABLE
    expect(sc('sigaltstack', BUF, 0)).toBe(0);
    expect(p.altstack).toEqual({ sp: 0x20000, flags: 0, size: 65536 });
    expect(sc('sigaltstack', 0, BUF + 32)).toBe(0);
    expect(u64(BUF + 32)).toBe(0x20000n);
    expect(i32(BUF + 40)).toBe(0);
    expect(u64(BUF + 48)).toBe(65536n);
    cpu.setNum(4, 0x20000 + 1000); // running on it
    expect(sc('sigaltstack', 0, BUF + 32)).toBe(0);
    expect(i32(BUF + 40)).toBe(1); // SS_ONSTACK
    expect(sc('sigaltstack', BUF, 0)).toBe(-1); // EPERM
    cpu.setNum(4, 0x7ffff000);
    ss.writeBigUInt64LE(100n, 16);
    mem.poke(BUF, ss);
    expect(sc('sigaltstack', BUF, 0)).toBe(-12); // ENOMEM
    ss.writeInt32LE(2, 8);
    mem.poke(BUF, ss);
    expect(sc('sigaltstack', BUF, 0)).toBe(0);
    expect(p.altstack.flags).toBe(2);
  });

  it('pollTimers raises SIGALRM after alarm expiry', () => {
    const itv = Buffer.alloc(32);
    itv.writeBigInt64LE(1000n, 24);
    mem.poke(BUF, itv);
    expect(sc('setitimer', 0, BUF, 0)).toBe(0);
    const end = Date.now() + 20;
    while (Date.now() < end) {
      /* spin */
    }
    p.pollTimers();
    expect(p.pending.has(14)).toBe(true);
    expect(sc('getitimer', 0, BUF + 64)).toBe(0);
    expect(u64(BUF + 64 + 16)).toBe(0n);
  });
});
