/**
 * The one place that maps guest paths to host paths.
 *
 * The guest sees the host directory `root` as '/'. With root '/', guest paths
 * are host paths and the host kernel resolves them (symlinks, '..', trailing
 * slashes) itself. With any other root the guest is confined like chroot(2):
 * the path is walked component by component, '..' at the root stays at the
 * root, and every symlink met on the way is read and re-resolved *inside* the
 * root (an absolute target restarts at the guest root, a relative one climbing
 * with '..' stops at the root), so no path the guest names reaches a host file
 * outside `root`.
 *
 * The emulated procfs's magic links (/proc/self/fd/N, cwd, root, exe, and
 * /dev/fd/N) are jumps the caller supplies (`magic`): the walk goes on from
 * the guest path they stand for, as Linux's nd_jump_link does, and never
 * through the host's own /proc (whose fds and root are the emulator's).
 *
 * openat2's RESOLVE_* flags scope one lookup (`resolve`): RESOLVE_IN_ROOT
 * makes the starting directory the root ('..' and absolute symlinks stop
 * there), RESOLVE_BENEATH fails with EXDEV instead of leaving it,
 * RESOLVE_NO_SYMLINKS and RESOLVE_NO_MAGICLINKS fail with ELOOP,
 * RESOLVE_NO_XDEV with EXDEV when a component is on another file system.
 *
 * The result's final component is a symlink only when `followFinal` is false:
 * a host operation given it must then not follow it (lstat, lchown, unlink,
 * O_NOFOLLOW ...), since the host would resolve the link's target outside the
 * root. Every other component is a directory the walk has checked.
 *
 * Errors are thrown as SysError with the errno Linux would give for the walk
 * (ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG, EXDEV); errors of the final component
 * itself (missing file, permission) are left to the host operation on the result.
 *
 * The same API serves gdb's vFile requests.
 */
import type * as nodefs from 'node:fs';
import { hostFs as fs } from './hostlog.js';
import * as path from 'node:path';
import { ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, EXDEV, SysError } from './errno.js';

export const PATH_MAX = 4096;
/** Linux's limit on symlinks followed in one lookup. */
export const MAXSYMLINKS = 40;

/** openat2's struct open_how resolve flags. */
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;
export const RESOLVE_CACHED = 0x20;

/**
 * What the emulated kernel says about a guest path before the host is asked:
 * a magic link to the canonical components it stands for (`jump`), or a node
 * of the emulated procfs that has no host counterpart (`virtual`: a directory
 * the walk passes through, or a final component the caller handles).
 */
export type Magic = { jump: string[] } | 'virtual' | null;

export interface ResolveOptions {
  /** Follow a symlink in the final component (stat vs lstat, O_NOFOLLOW, AT_SYMLINK_NOFOLLOW). Default true. */
  followFinal?: boolean;
  /** The emulated kernel's magic links and virtual nodes, by the components walked so far. */
  magic?: (stack: readonly string[]) => Magic;
  /** openat2's RESOLVE_* flags; the lookup's scope is the directory relative paths start from. */
  resolve?: number;
}

export interface Resolved {
  /** Host path to hand to the host operation. Ends with '/' when the guest path required a directory (trailing '/'). */
  host: string;
  /**
   * Guest path of the result, normalized ('.', '..', '//' removed). When the
   * root is confined it is also canonical: symlinks before the final
   * component (and in it when followed) are resolved.
   */
  guest: string;
}

/** Split a path into its components, dropping empty ones and '.'. */
function parts(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/** Lexical normalization of an absolute guest path ('..' at the root stays there). */
export function normalizeGuest(p: string): string {
  const out: string[] = [];
  for (const c of parts(p)) {
    if (c === '..') out.pop();
    else out.push(c);
  }
  return '/' + out.join('/');
}

/** Join a guest path onto an absolute guest base directory, lexically. */
export function joinGuest(base: string, p: string): string {
  return normalizeGuest(p.startsWith('/') ? p : base + '/' + p);
}

export class Vfs {
  /** Host directory the guest sees as '/', absolute and without a trailing slash (except '/'). */
  readonly root: string;
  /** True when root is not the host's '/': paths are walked and confined. */
  readonly confined: boolean;

  constructor(root: string) {
    let r = path.resolve(root);
    // use the real path so symlinks in the root itself do not confuse toGuest
    try {
      r = fs.realpathSync(r);
    } catch {
      /* keep the resolved path: errors show up at use */
    }
    this.root = r;
    this.confined = r !== '/';
  }

  /**
   * Host path for a guest path. `guestCwd` is the absolute guest directory a
   * relative path starts from (the cwd, or a dirfd's path for *at calls).
   */
  resolve(guestPath: string, guestCwd: string, opts: ResolveOptions = {}): string {
    return this.resolveFull(guestPath, guestCwd, opts).host;
  }

  /** Like resolve, also returning the guest path of the result. */
  resolveFull(guestPath: string, guestCwd: string, opts: ResolveOptions = {}): Resolved {
    if (guestPath === '') throw new SysError(ENOENT);
    if (guestPath.length >= PATH_MAX) throw new SysError(ENAMETOOLONG);
    const follow = opts.followFinal ?? true;
    const flags = opts.resolve ?? 0;
    // a path ending in '/', '/.' or '/..' names a directory (and follows a final symlink)
    const mustBeDir = guestPath.endsWith('/') || /(^|\/)\.\.?$/.test(guestPath);
    const abs = guestPath.startsWith('/') ? guestPath : (guestCwd.endsWith('/') ? guestCwd : guestCwd + '/') + guestPath;
    // the whole host: its kernel walks the path, unless the emulated procfs or a scoped lookup is involved
    if (!this.confined && flags === 0 && !(opts.magic && /^\/+(proc|dev)(\/|$)/.test(abs))) {
      if (abs.length >= PATH_MAX) throw new SysError(ENAMETOOLONG);
      return { host: abs, guest: normalizeGuest(abs) };
    }
    return this.walk(guestPath, guestCwd, follow, mustBeDir, flags, opts.magic);
  }

  /** The component walk: confinement, magic links, RESOLVE_* scoping. */
  private walk(guestPath: string, guestCwd: string, follow: boolean, mustBeDir: boolean, flags: number, magic: ResolveOptions['magic']): Resolved {
    const scoped = (flags & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) !== 0;
    const base = parts(guestCwd).filter((c) => c !== '..');
    // the lookup's root: the real one, or the starting directory of a scoped lookup
    const anchor = scoped ? base : [];
    const toRoot = (): string[] => {
      if (flags & RESOLVE_IN_ROOT) return [...anchor];
      if (flags & RESOLVE_BENEATH) throw new SysError(EXDEV);
      return [];
    };
    let stack: string[] = guestPath.startsWith('/') ? toRoot() : [...base];
    let dev: number | bigint | null = null;
    if (flags & RESOLVE_NO_XDEV) dev = fs.statSync(this.hostOf(stack)).dev;
    const pending = parts(guestPath);
    let links = 0;
    while (pending.length > 0) {
      const c = pending.shift() as string;
      if (c === '..') {
        if (stack.length <= anchor.length) {
          if (flags & RESOLVE_BENEATH) throw new SysError(EXDEV);
          continue; // '..' at the root stays there
        }
        stack.pop();
        continue;
      }
      stack.push(c);
      const last = pending.length === 0;
      const m = magic ? magic(stack) : null;
      if (m === 'virtual') {
        if (last) break;
        continue;
      }
      if (m !== null) {
        if (last && !follow && !mustBeDir) break;
        if (flags & (RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS)) throw new SysError(ELOOP);
        if (scoped) throw new SysError(EXDEV);
        if (++links > MAXSYMLINKS) throw new SysError(ELOOP);
        stack = [...m.jump];
        continue;
      }
      if (last && !follow && !mustBeDir) break;
      const host = this.hostOf(stack);
      let st: nodefs.Stats | undefined;
      try {
        st = fs.lstatSync(host, { throwIfNoEntry: false });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOTDIR') throw new SysError(ENOTDIR);
        if (code === 'ENAMETOOLONG') throw new SysError(ENAMETOOLONG);
        if (last) break; // let the host operation report it (EACCES ...)
        throw e;
      }
      if (st === undefined) {
        if (last) break;
        throw new SysError(ENOENT);
      }
      if (dev !== null && st.dev !== dev) throw new SysError(EXDEV);
      if (st.isSymbolicLink()) {
        if (flags & RESOLVE_NO_SYMLINKS) throw new SysError(ELOOP);
        if (++links > MAXSYMLINKS) throw new SysError(ELOOP);
        const target = fs.readlinkSync(host, 'utf8');
        stack.pop();
        if (target === '') throw new SysError(ENOENT);
        if (target.startsWith('/')) stack = toRoot();
        pending.unshift(...parts(target));
        continue;
      }
      if (!last && !st.isDirectory()) throw new SysError(ENOTDIR);
    }
    const host = this.hostOf(stack) + (mustBeDir && stack.length > 0 ? '/' : '');
    if (host.length >= PATH_MAX + this.root.length) throw new SysError(ENAMETOOLONG);
    return { host, guest: '/' + stack.join('/') };
  }

  /**
   * Canonical guest path of an existing directory or file (all symlinks
   * resolved), as getcwd reports after chdir. Throws SysError like resolve,
   * or the host error for a missing final component.
   */
  realpath(guestPath: string, guestCwd: string, opts: ResolveOptions = {}): string {
    const r = this.resolveFull(guestPath, guestCwd, { ...opts, followFinal: true });
    if (this.confined) {
      fs.statSync(r.host); // existence check
      return r.guest;
    }
    return fs.realpathSync(r.host);
  }

  /** Guest path of a host path, or null if it lies outside the root. */
  toGuest(hostPath: string): string | null {
    const h = path.resolve(hostPath);
    if (!this.confined) return h;
    if (h === this.root) return '/';
    if (h.startsWith(this.root + '/')) return h.slice(this.root.length);
    return null;
  }

  private hostOf(stack: string[]): string {
    if (stack.length === 0) return this.root;
    return (this.root === '/' ? '' : this.root) + '/' + stack.join('/');
  }
}
