import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SysError } from '../src/kernel/errno.js';
import { Vfs, joinGuest, normalizeGuest } from '../src/kernel/vfs.js';

let tmp: string;
let root: string;

function errnoOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof SysError) return e.errno;
    throw e;
  }
  return 0;
}

beforeAll(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-vfs-')));
  root = path.join(tmp, 'root');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.mkdirSync(path.join(root, 'home/user/dir'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/passwd'), 'guest passwd\n');
  fs.writeFileSync(path.join(root, 'home/user/file'), 'x');
  fs.writeFileSync(path.join(tmp, 'secret'), 'outside');
  // links
  fs.symlinkSync('/etc', path.join(root, 'home/user/abs-etc')); // absolute: re-rooted
  fs.symlinkSync('../../../../../../secret', path.join(root, 'home/user/climb')); // escapes via ..
  fs.symlinkSync(path.join(tmp, 'secret'), path.join(root, 'home/user/hostabs')); // absolute host path
  fs.symlinkSync('dir', path.join(root, 'home/user/rel'));
  fs.symlinkSync('loop2', path.join(root, 'home/user/loop1'));
  fs.symlinkSync('loop1', path.join(root, 'home/user/loop2'));
  fs.symlinkSync('/', path.join(root, 'home/user/toroot'));
  fs.symlinkSync('nowhere', path.join(root, 'home/user/dangling'));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('lexical helpers', () => {
  it('normalizes', () => {
    expect(normalizeGuest('/a/./b//c/')).toBe('/a/b/c');
    expect(normalizeGuest('/../../x')).toBe('/x');
    expect(normalizeGuest('/')).toBe('/');
    expect(joinGuest('/home/u', '../v/./w')).toBe('/home/v/w');
    expect(joinGuest('/home/u', '/abs')).toBe('/abs');
  });
});

describe('unconfined root (/)', () => {
  const v = new Vfs('/');
  it('passes paths through', () => {
    expect(v.confined).toBe(false);
    expect(v.resolve('/etc/passwd', '/')).toBe('/etc/passwd');
    expect(v.resolve('b/c', '/a')).toBe('/a/b/c');
    expect(v.resolve('x', '/')).toBe('/x');
    expect(v.toGuest('/usr/bin')).toBe('/usr/bin');
  });
  it('rejects empty and overlong paths', () => {
    expect(errnoOf(() => v.resolve('', '/'))).toBe(2);
    expect(errnoOf(() => v.resolve('/' + 'a'.repeat(5000), '/'))).toBe(36);
  });
});

describe('confined root', () => {
  let v: Vfs;
  beforeAll(() => {
    v = new Vfs(root);
  });

  it('maps absolute and relative paths into the root', () => {
    expect(v.confined).toBe(true);
    expect(v.resolve('/etc/passwd', '/')).toBe(path.join(root, 'etc/passwd'));
    expect(v.resolve('file', '/home/user')).toBe(path.join(root, 'home/user/file'));
    expect(v.resolve('/', '/')).toBe(root);
  });

  it('keeps .. at the root', () => {
    expect(v.resolve('/../../../etc/passwd', '/')).toBe(path.join(root, 'etc/passwd'));
    expect(v.resolve('../../../../../../secret', '/home/user')).toBe(path.join(root, 'secret'));
    expect(v.resolve('..', '/')).toBe(root);
  });

  it('re-roots absolute symlinks', () => {
    expect(v.resolve('/home/user/abs-etc/passwd', '/')).toBe(path.join(root, 'etc/passwd'));
    expect(fs.readFileSync(v.resolve('/home/user/abs-etc/passwd', '/'), 'utf8')).toBe('guest passwd\n');
    // an absolute link to a host path outside the root names that path inside the root,
    // where it does not exist
    expect(errnoOf(() => v.resolve('/home/user/hostabs', '/'))).toBe(2);
    const h = v.resolve('/home/user/hostabs', '/', { followFinal: false });
    expect(h).toBe(path.join(root, 'home/user/hostabs'));
  });

  it('stops symlinks climbing out with ..', () => {
    const h = v.resolve('/home/user/climb', '/');
    expect(h).toBe(path.join(root, 'secret'));
    expect(fs.existsSync(h)).toBe(false);
  });

  it('follows relative links and links to /', () => {
    expect(v.resolve('/home/user/rel', '/')).toBe(path.join(root, 'home/user/dir'));
    expect(v.resolve('/home/user/toroot/etc/passwd', '/')).toBe(path.join(root, 'etc/passwd'));
    expect(v.resolve('/home/user/toroot/..', '/')).toBe(root);
  });

  it('does not follow the final link unless asked', () => {
    expect(v.resolve('/home/user/abs-etc', '/', { followFinal: false })).toBe(path.join(root, 'home/user/abs-etc'));
    expect(v.resolve('/home/user/abs-etc', '/', { followFinal: true })).toBe(path.join(root, 'etc'));
    // a trailing slash forces following
    expect(v.resolve('/home/user/rel/', '/', { followFinal: false })).toBe(path.join(root, 'home/user/dir') + '/');
    // dangling final link: resolved to its (missing) target, inside the root
    expect(v.resolve('/home/user/dangling', '/')).toBe(path.join(root, 'home/user/nowhere'));
  });

  it('reports walk errors like Linux', () => {
    expect(errnoOf(() => v.resolve('/home/user/loop1', '/'))).toBe(40); // ELOOP
    expect(errnoOf(() => v.resolve('/home/user/loop1/x', '/'))).toBe(40);
    expect(errnoOf(() => v.resolve('/missing/x', '/'))).toBe(2); // ENOENT
    expect(errnoOf(() => v.resolve('/home/user/file/x', '/'))).toBe(20); // ENOTDIR
    expect(errnoOf(() => v.resolve('/missing/..', '/'))).toBe(2);
    // a missing final component is fine (creation)
    expect(v.resolve('/home/user/newfile', '/')).toBe(path.join(root, 'home/user/newfile'));
  });

  it('gives canonical guest paths and maps host paths back', () => {
    expect(v.resolveFull('/home/user/rel/../file', '/').guest).toBe('/home/user/file');
    expect(v.realpath('/home/user/abs-etc', '/')).toBe('/etc');
    expect(v.toGuest(path.join(root, 'etc/passwd'))).toBe('/etc/passwd');
    expect(v.toGuest(root)).toBe('/');
    expect(v.toGuest(path.join(tmp, 'secret'))).toBeNull();
  });
});
