/**
 * The page cache of files mapped MAP_SHARED: one buffer per page of a file
 * (its host dev and inode, and the page's index in it), which every shared
 * mapping of that page views, in every address space, as Linux's mappings
 * all map the one page of the file's address_space. A store through one
 * mapping is therefore in every other at once.
 *
 * read(2) and write(2) on the file (any descriptor, any process) meet the
 * same bytes: the host file is the data behind the descriptors, so a read of
 * a range the cache holds first writes the cached pages of that range back
 * to the host file, and a write updates the cached pages it covers after
 * the host write. Write-back errors (EIO, ENOSPC) are reported to msync and
 * to the read that needed them, as Linux reports a failed writeback to
 * msync and fsync.
 *
 * A page stays cached while a mapping holds it; past the file's end a page
 * is zeros (as Linux's partial last page), and a write-back never extends
 * the file.
 */
import { hostFs as fs } from './hostlog.js';
import { PAGE_SIZE } from '../cpu/memory.js';
import { EIO, ENOSPC, SysError } from './errno.js';

/**
 * Pages that every shared mapping of them views (MM maps their buffers): a
 * file's in the page cache, or a System V shared memory segment's.
 */
export interface SharedPages {
  /** Page index -> its bytes. */
  readonly pages: Map<number, ArrayBuffer>;
  /** The buffer of page `index`, one more holder (fd: the file to read it from when it is not there yet). */
  hold(index: number, fd: number): ArrayBuffer;
  /** A mapping let go of page `index`. */
  release(index: number): void;
  /** Write the pages of [off, off+len) back to where they come from (nothing for memory of no file). */
  writeBack(off: number, len: number): void;
  /**
   * Adjacent mappings of consecutive pages may be one VMA: true for a file;
   * false for a shm segment, whose VMAs Linux never merges (shm_vm_ops has a
   * close method) and counts one by one in shm_nattch.
   */
  readonly mergeable: boolean;
}

/** The cached pages of one file. */
export class CachedFile implements SharedPages {
  readonly mergeable = true;
  /** Page index in the file -> its bytes (the buffer every mapping's Page views). */
  readonly pages = new Map<number, ArrayBuffer>();
  /** Mapped pages holding each cached page (the page leaves the cache at 0). */
  private readonly holders = new Map<number, number>();

  constructor(
    readonly key: string,
    /** Where the file is on the host (reopened for write-back: the mapping outlives its descriptor). */
    public hostPath: string,
    private readonly dropped: (f: CachedFile) => void,
  ) {}

  /** The buffer of page `index`, read from the file (through fd) when it is first cached; one more holder. */
  hold(index: number, fd: number): ArrayBuffer {
    let b = this.pages.get(index);
    if (!b) {
      b = new ArrayBuffer(PAGE_SIZE);
      const u8 = new Uint8Array(b);
      let done = 0;
      while (done < PAGE_SIZE) {
        const n = fs.readSync(fd, u8, done, PAGE_SIZE - done, index * PAGE_SIZE + done);
        if (n <= 0) break;
        done += n;
      }
      this.pages.set(index, b);
    }
    this.holders.set(index, (this.holders.get(index) ?? 0) + 1);
    return b;
  }

  /** A mapping let go of page `index` (its bytes were written back first, by the caller). */
  release(index: number): void {
    const n = (this.holders.get(index) ?? 1) - 1;
    if (n > 0) return void this.holders.set(index, n);
    this.holders.delete(index);
    this.pages.delete(index);
    if (this.pages.size === 0) this.dropped(this);
  }

  /**
   * Write the cached pages of [off, off+len) back to the file, within its
   * current size (a mapping never extends a file). Throws EIO or ENOSPC as
   * the host reports them.
   */
  writeBack(off: number, len: number): void {
    if (this.pages.size === 0 || len <= 0) return;
    const first = Math.floor(off / PAGE_SIZE), last = Math.floor((off + len - 1) / PAGE_SIZE);
    const idx = [...this.pages.keys()].filter((i) => i >= first && i <= last).sort((a, b) => a - b);
    if (idx.length === 0) return;
    let fd = -1;
    try {
      fd = fs.openSync(this.hostPath, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW);
      // the path may name another file by now (renamed, or a directory on it swapped for a symlink that
      // leads out of --root): only the file that was mapped is written
      const st = fs.fstatSync(fd, { bigint: true });
      if (PageCache.key(st.dev, st.ino) !== this.key) return;
      const size = Number(st.size);
      for (const i of idx) {
        const n = Math.min(PAGE_SIZE, size - i * PAGE_SIZE);
        if (n <= 0) continue;
        fs.writeSync(fd, new Uint8Array(this.pages.get(i)!, 0, n), 0, n, i * PAGE_SIZE);
      }
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOENT' || code === 'ELOOP') return; // the file is gone from its path: nothing to write back to (its pages are the mappings' alone)
      throw new SysError(code === 'ENOSPC' || code === 'EDQUOT' ? ENOSPC : EIO);
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }

  /** data was written to the file at off (by a descriptor): the cached pages it covers show it. */
  wrote(off: number, data: Uint8Array): void {
    for (let done = 0; done < data.length; ) {
      const at = off + done;
      const i = Math.floor(at / PAGE_SIZE), o = at - i * PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - o, data.length - done);
      const b = this.pages.get(i);
      if (b) new Uint8Array(b, o, n).set(data.subarray(done, done + n));
      done += n;
    }
  }

  /** The file was cut (or grown) to size: cached bytes past it read as zeros, as Linux's truncate_pagecache. */
  truncated(size: number): void {
    for (const [i, b] of this.pages) {
      const from = Math.max(0, size - i * PAGE_SIZE);
      if (from < PAGE_SIZE) new Uint8Array(b, from).fill(0);
    }
  }
}

export class PageCache {
  private readonly files = new Map<string, CachedFile>();

  static key(dev: number | bigint, ino: number | bigint): string {
    return `${dev}:${ino}`;
  }

  /** Nothing is cached (the common case: reads and writes need not look). */
  get empty(): boolean {
    return this.files.size === 0;
  }

  /** The cache of a file, made if it has none. */
  file(dev: number | bigint, ino: number | bigint, hostPath: string): CachedFile {
    const key = PageCache.key(dev, ino);
    let f = this.files.get(key);
    if (!f) {
      f = new CachedFile(key, hostPath, (x) => this.files.delete(x.key));
      this.files.set(key, f);
    }
    return f;
  }

  /** The cache of the file open on host fd, if it has one. */
  ofFd(fd: number): CachedFile | undefined {
    if (this.files.size === 0) return undefined;
    try {
      const st = fs.fstatSync(fd, { bigint: true });
      return this.files.get(PageCache.key(st.dev, st.ino));
    } catch {
      return undefined;
    }
  }
}
