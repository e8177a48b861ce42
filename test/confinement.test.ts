/**
 * --root confines like chroot: every syscall that takes a path, tried with
 * each known way out (.. past the root, absolute and relative symlinks,
 * symlink chains, /proc/self/root, /proc/self/fd/N of a directory,
 * /proc/self/cwd, /dev/fd/N, the cwd after chdir through a symlink, a dirfd,
 * and a directory swapped for a symlink after a descriptor was opened below
 * it) against a scratch root, with a marker directory outside it. Nothing
 * outside may change, no call may read the marker, and no answer may depend
 * on whether a host path outside the root exists (the faccessat2
 * AT_SYMLINK_NOFOLLOW leak of issue 17).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CPU } from '../src/cpu/cpu.js';
import { Memory, PROT_READ, PROT_USER, PROT_WRITE } from '../src/kernel/../cpu/memory.js';
import { Process, SyscallArgs } from '../src/kernel/process.js';
import { syscallNumber } from '../src/kernel/sysnames.js';
import { syscall } from '../src/kernel/syscalls.js';

const AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_EMPTY_PATH = 0x1000;
const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_DIRECTORY = 0o200000, O_PATH = 0o10000000, O_NOFOLLOW = 0o400000;
const RESOLVE_BENEATH = 0x08, RESOLVE_IN_ROOT = 0x10;
const BUF = 0x10000, STR = 0x40000;

let tmp: string, root: string, outside: string, marker: string;
let mem: Memory, p: Process, cursor: number;

/** Everything about the outside directory a call could change, recursively. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of fs.readdirSync(d).sort()) {
      const f = path.join(d, n);
      const st = fs.lstatSync(f);
      const body = st.isFile() ? fs.readFileSync(f, 'latin1') : st.isSymbolicLink() ? '-> ' + fs.readlinkSync(f) : '';
      out.push(`${path.relative(outside, f)} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.nlink} ${st.mtimeMs} ${body}`);
      if (st.isDirectory()) walk(f);
    }
  };
  walk(dir);
  return out.join('\n');
}

function str(s: string): number {
  const b = Buffer.from(s + '\0');
  const a = cursor;
  mem.poke(a, b);
  cursor += (b.length + 15) & ~15;
  return a;
}

/** A syscall by name; string arguments are put in guest memory. */
function sc(name: string, ...args: (number | string)[]): number {
  const nr = syscallNumber(name);
  if (nr === undefined) throw new Error(name);
  return syscall(p, nr, SyscallArgs.of(...args.map((x) => (typeof x === 'string' ? str(x) : x))));
}

function read(fd: number): string {
  const n = sc('read', fd, BUF, 4096);
  const b = new Uint8Array(Math.max(n, 0));
  mem.peek(BUF, b);
  return Buffer.from(b).toString('latin1');
}

beforeAll(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-conf-')));
  outside = path.join(tmp, 'outside');
  marker = path.join(outside, 'marker');
  root = path.join(tmp, 'root');
  fs.mkdirSync(path.join(outside, 'dir'), { recursive: true });
  fs.writeFileSync(marker, 'MARKER');
  fs.mkdirSync(path.join(root, 'sub', 'deep'), { recursive: true });
  fs.writeFileSync(path.join(root, 'sub', 'file'), 'inside');
  fs.symlinkSync(outside, path.join(root, 'abs'));
  fs.symlinkSync(marker, path.join(root, 'absfile'));
  fs.symlinkSync(path.join(outside, 'nonexistent'), path.join(root, 'absmissing'));
  fs.symlinkSync('../..' + outside, path.join(root, 'rel'));
  fs.symlinkSync('../..' + marker, path.join(root, 'relfile'));
  fs.symlinkSync('/chain2', path.join(root, 'chain1'));
  fs.symlinkSync('/chain3', path.join(root, 'chain2'));
  fs.symlinkSync(marker, path.join(root, 'chain3'));
  fs.symlinkSync('../../../../../../../..', path.join(root, 'sub', 'up'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

beforeEach(() => {
  mem = new Memory();
  mem.map(BUF, 0x30000, PROT_READ | PROT_WRITE | PROT_USER);
  mem.map(STR, 0x40000, PROT_READ | PROT_WRITE | PROT_USER);
  cursor = STR;
  p = new Process(new CPU(mem), mem, { root, cwd: '/sub/deep', warn: () => {} });
});

/** Every way out we know, each naming the marker (or, with `name`, another entry of the outside directory). */
function tricks(name = 'marker'): string[] {
  const rootFd = sc('open', '/', O_RDONLY | O_DIRECTORY);
  const subFd = sc('open', '/sub', O_RDONLY | O_DIRECTORY);
  const climb = '../'.repeat(12);
  return [
    `${climb}${outside.slice(1)}/${name}`,
    `${outside}/${name}`,
    `/abs/${name}`,
    `/rel/${name}`,
    `/sub/up${outside}/${name}`,
    `/proc/self/root/${climb}${outside.slice(1)}/${name}`,
    `/proc/self/root${outside}/${name}`,
    `/proc/self/fd/${rootFd}/${climb}${outside.slice(1)}/${name}`,
    `/proc/self/fd/${subFd}/up${outside}/${name}`,
    `/proc/self/cwd/${climb}${outside.slice(1)}/${name}`,
    `/dev/fd/${rootFd}/${climb}${outside.slice(1)}/${name}`,
    `/proc/${p.pid}/root${outside}/${name}`,
    ...(name === 'marker' ? ['/absfile', '/relfile', '/chain1'] : []),
  ];
}

describe('--root confines every path-taking syscall', () => {
  let before: string;
  let markerIno: number;
  beforeAll(() => {
    before = snapshot(outside);
    markerIno = fs.statSync(marker).ino;
  });
  afterAll(() => {
    // nothing outside the root changed, whatever the calls answered
    expect(snapshot(outside)).toBe(before);
  });

  it('open, openat, openat2, creat: never the marker', () => {
    for (const t of tricks()) {
      for (const fd of [
        sc('open', t, O_RDONLY),
        sc('openat', AT_FDCWD, t, O_RDWR),
        sc('open', t, O_PATH | O_NOFOLLOW),
        sc('open', t, O_WRONLY | O_CREAT, 0o644),
        sc('creat', t + '-new', 0o644),
      ])
        if (fd >= 0) expect(read(fd), t).not.toBe('MARKER');
    }
  });

  it('stat family and statx: never the marker\'s inode', () => {
    const ino = () => Number(Buffer.from(mem.readBytes(BUF + 8, 8)).readBigUInt64LE(0));
    for (const t of tricks()) {
      for (const r of [sc('stat', t, BUF), sc('lstat', t, BUF), sc('newfstatat', AT_FDCWD, t, BUF, 0), sc('newfstatat', AT_FDCWD, t, BUF, AT_SYMLINK_NOFOLLOW)])
        if (r === 0) expect(ino(), t).not.toBe(markerIno);
      if (sc('statx', AT_FDCWD, t, 0, 0x7ff, BUF) === 0) expect(Number(Buffer.from(mem.readBytes(BUF + 32, 8)).readBigUInt64LE(0)), t).not.toBe(markerIno);
    }
  });

  it('access, faccessat, faccessat2 (AT_SYMLINK_NOFOLLOW too): the answer does not depend on the host outside', () => {
    const a = tricks('marker'), b = tricks('nonexistent');
    for (let k = 0; k < b.length; k++) {
      for (const call of [
        (t: string) => sc('access', t, 0),
        (t: string) => sc('faccessat', AT_FDCWD, t, 2),
        (t: string) => sc('faccessat2', AT_FDCWD, t, 0, 0),
        (t: string) => sc('faccessat2', AT_FDCWD, t, 2, AT_SYMLINK_NOFOLLOW),
      ])
        expect(call(a[k]), a[k]).toBe(call(b[k]));
    }
    // the report of issue 17: a symlink the guest made to a host path, checked without following it
    expect(sc('symlink', marker, '/probe-exists')).toBe(0);
    expect(sc('symlink', path.join(outside, 'nonexistent'), '/probe-missing')).toBe(0);
    expect(sc('faccessat2', AT_FDCWD, '/probe-exists', 2, AT_SYMLINK_NOFOLLOW)).toBe(sc('faccessat2', AT_FDCWD, '/probe-missing', 2, AT_SYMLINK_NOFOLLOW));
    expect(sc('faccessat2', AT_FDCWD, '/absfile', 0, 0)).toBe(sc('faccessat2', AT_FDCWD, '/absmissing', 0, 0));
  });

  it('readlink shows guest paths: /proc/self/root is /, a descriptor\'s link its guest path', () => {
    const n = sc('readlink', '/proc/self/root', BUF, 4096);
    expect(Buffer.from(mem.readBytes(BUF, n)).toString()).toBe('/');
    const fd = sc('open', '/sub', O_RDONLY | O_DIRECTORY);
    const m = sc('readlink', `/proc/self/fd/${fd}`, BUF, 4096);
    expect(Buffer.from(mem.readBytes(BUF, m)).toString()).toBe('/sub');
    for (const t of tricks()) {
      const k = sc('readlink', t, BUF, 4096);
      if (k > 0) expect(Buffer.from(mem.readBytes(BUF, k)).toString(), t).not.toContain(root);
    }
  });

  it('chdir through symlinks and magic links stays inside; later relative paths too', () => {
    for (const t of ['/abs', '/rel', '/sub/up', '/proc/self/root', '/proc/self/cwd/../../..', `/proc/self/fd/${sc('open', '/sub', O_RDONLY | O_DIRECTORY)}/up`]) {
      const r = sc('chdir', t);
      if (r === 0) {
        const n = sc('getcwd', BUF, 4096);
        expect(Buffer.from(mem.readBytes(BUF, n - 1)).toString(), t).toBe('/');
        const fd = sc('open', `${'../'.repeat(12)}${outside.slice(1)}/marker`, O_RDONLY);
        if (fd >= 0) expect(read(fd)).not.toBe('MARKER');
        expect(sc('faccessat2', AT_FDCWD, `../../..${outside}/marker`, 0, AT_SYMLINK_NOFOLLOW)).toBe(sc('faccessat2', AT_FDCWD, `../../..${outside}/nonexistent`, 0, AT_SYMLINK_NOFOLLOW));
      }
    }
  });

  it('mkdir, mknod, symlink, link, rename, unlink, rmdir: nothing made, moved or removed outside', () => {
    fs.writeFileSync(path.join(root, 'sub', 'victim'), 'v');
    for (const t of tricks('made')) {
      sc('mkdir', t, 0o755);
      sc('mkdirat', AT_FDCWD, t + 'at', 0o755);
      sc('mknod', t + '-node', 0o100644, 0);
      sc('symlink', '/etc/passwd', t + '-link');
      sc('link', '/sub/file', t + '-hard');
      sc('rename', '/sub/victim', t + '-moved');
      fs.writeFileSync(path.join(root, 'sub', 'victim'), 'v');
    }
    for (const t of tricks()) {
      sc('link', t, '/hard');
      sc('linkat', AT_FDCWD, t, AT_FDCWD, '/hardf', 0x400 /* AT_SYMLINK_FOLLOW */);
      sc('rename', t, '/stolen');
      sc('renameat2', AT_FDCWD, t, AT_FDCWD, '/sub/file', 2 /* RENAME_EXCHANGE */);
      sc('unlink', t);
      sc('unlinkat', AT_FDCWD, t, 0);
      sc('rmdir', t.replace(/marker$/, 'dir'));
    }
  });

  it('chmod, chown, utimes, truncate: the marker keeps its mode, owner, times and size', () => {
    const times = BUF + 0x1000;
    mem.poke(times, new Uint8Array(32)); // 1970
    for (const t of tricks()) {
      sc('chmod', t, 0o777);
      sc('fchmodat', AT_FDCWD, t, 0o777, 0);
      sc('chown', t, 1234, 1234);
      sc('lchown', t, 1234, 1234);
      sc('fchownat', AT_FDCWD, t, 1234, 1234, 0);
      sc('utimensat', AT_FDCWD, t, times, 0);
      sc('utimes', t, times);
      sc('utime', t, times);
      sc('truncate', t, 0);
    }
  });

  it('openat2: RESOLVE_IN_ROOT keeps the lookup under the dirfd, RESOLVE_BENEATH refuses to leave it', () => {
    const how = BUF + 0x2000;
    const setHow = (flags: number, resolve: number) => {
      const b = Buffer.alloc(24);
      b.writeBigUInt64LE(BigInt(flags), 0);
      b.writeBigUInt64LE(BigInt(resolve), 16);
      mem.poke(how, b);
    };
    const sub = sc('open', '/sub', O_RDONLY | O_DIRECTORY);
    setHow(O_RDONLY, RESOLVE_IN_ROOT);
    expect(read(sc('openat2', sub, '../../../file', how, 24))).toBe('inside');
    expect(read(sc('openat2', sub, '/file', how, 24))).toBe('inside');
    expect(sc('openat2', sub, 'up/file', how, 24)).toBeGreaterThanOrEqual(0); // up -> ../../.. stops at /sub
    setHow(O_RDONLY, RESOLVE_BENEATH);
    expect(sc('openat2', sub, '../sub/file', how, 24)).toBe(-18); // EXDEV
    expect(sc('openat2', sub, '/sub/file', how, 24)).toBe(-18);
    expect(sc('openat2', sub, 'up/file', how, 24)).toBe(-18);
    expect(read(sc('openat2', sub, 'deep/../file', how, 24))).toBe('inside');
    setHow(O_RDONLY, 0x04 /* RESOLVE_NO_SYMLINKS */);
    expect(sc('openat2', AT_FDCWD, '/abs/marker', how, 24)).toBe(-40); // ELOOP
    setHow(O_RDONLY, 0x02 /* RESOLVE_NO_MAGICLINKS */);
    expect(sc('openat2', AT_FDCWD, `/proc/self/fd/${sub}/file`, how, 24)).toBe(-40);
    setHow(O_RDONLY, 0);
    expect(read(sc('openat2', AT_FDCWD, `/proc/self/fd/${sub}/file`, how, 24))).toBe('inside');
  });

  it('a directory swapped for a symlink after a descriptor was opened below it leads nowhere outside', () => {
    // an open file below /swap, then /swap becomes a symlink to the outside directory on the host
    fs.mkdirSync(path.join(root, 'swap'));
    fs.writeFileSync(path.join(root, 'swap', 'marker'), 'own');
    const fd = sc('open', '/swap/marker', O_RDWR);
    const pathFd = sc('open', '/swap/marker', O_PATH | O_NOFOLLOW);
    // a shared writable mapping of it, written back at munmap
    const addr = sc('mmap', 0, 4096, 3 /* PROT_READ|PROT_WRITE */, 1 /* MAP_SHARED */, fd, 0);
    expect(addr).toBeGreaterThan(0);
    mem.poke(addr, Buffer.from('HACKED'));
    fs.renameSync(path.join(root, 'swap'), path.join(root, 'swapped'));
    fs.symlinkSync(outside, path.join(root, 'swap'));
    expect(sc('munmap', addr, 4096)).toBe(0);
    expect(sc('linkat', fd, '', AT_FDCWD, '/linked', AT_EMPTY_PATH)).toBe(-18); // EXDEV: not reachable safely
    expect(sc('linkat', pathFd, '', AT_FDCWD, '/linked2', AT_EMPTY_PATH)).toBe(-18);
    expect(sc('fchownat', fd, '', 1234, 1234, AT_EMPTY_PATH)).toBe(0); // through the descriptor: its own file
    expect(fs.statSync(path.join(root, 'swapped', 'marker')).uid).toBe(1234);
    expect(sc('readlinkat', pathFd, '', BUF, 100)).toBe(-2);
    fs.unlinkSync(path.join(root, 'swap'));
  });
});
