/**
 * Demand paging of private file mappings (the program's and its libraries'
 * segments, mmap of a file): a page is read from the file when it is first
 * touched (Memory.page, on a TLB miss), not at mmap. `python3 -c pass`
 * maps 3,357 pages of files privately and touches 1,034, `busybox true`
 * 485 and 91; filling every page at mmap cost a host page fault for each
 * (~15-18 us on a virtual machine) and host memory for pages never used.
 *
 * What a page reads is the file's bytes when it is touched, as on Linux,
 * where an untouched page of a private mapping is the page cache's and shows
 * a write to the file until the mapping's own first write copies it.
 *
 * The file is read through a descriptor of its own, opened at mmap from the
 * mapper's (/proc/self/fd/N reaches the same inode, so a file unlinked or
 * renamed after its mmap is still read), one per file for every mapping of
 * it in the process, and closed when no mapping (address space, fork,
 * snapshot) refers to it any more.
 *
 * Reverse execution: a machine whose host answers are logged (history)
 * fills its file mappings at mmap as before (mm.ts), since a page's bytes
 * read at a first touch that a debugger's read or write may move would not
 * be at the same place in the log on a replay. So a page read here is never
 * a question of the log: the read is made with no log active.
 */
import { hostFs as fs, withHostLog } from './hostlog.js';
import type { PageSource } from '../cpu/memory.js';
import { sharedOnClone } from '../cpu/clone.js';

/** The page source of one file (by host dev and inode), read through a descriptor of its own. */
class FilePages implements PageSource {
  constructor(
    readonly key: string,
    private readonly fd: number,
  ) {}

  fill(off: number, into: Uint8Array): void {
    withHostLog(null, () => {
      let done = 0;
      try {
        while (done < into.length) {
          const n = fs.readSync(this.fd, into, done, into.length - done, off + done);
          if (n <= 0) break;
          done += n;
        }
      } catch {
        // the host cannot read it any more (an I/O error): what is left reads as zeros
      }
    });
  }
}

/** Live sources by file, so that every mapping of a file shares one descriptor. */
const live = new Map<string, WeakRef<FilePages>>();
/** Closes a source's descriptor when nothing maps it any more (no address space, fork or snapshot holds its regions). */
const closer = new FinalizationRegistry<{ key: string; fd: number; ref: WeakRef<FilePages> }>(({ key, fd, ref }) => {
  if (live.get(key) === ref) live.delete(key);
  try {
    fs.closeSync(fd);
  } catch {
    /* already gone */
  }
});

/**
 * The page source of the file open on host fd (dev and ino: its identity),
 * or null when a descriptor of its own cannot be opened (the mapping is
 * then filled at mmap).
 */
export function filePages(fd: number, dev: number, ino: number): PageSource | null {
  const key = `${dev}:${ino}`;
  const had = live.get(key)?.deref();
  if (had !== undefined) return had;
  const own = withHostLog(null, (): number => {
    let opened = -1;
    try {
      opened = fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_RDONLY);
      const st = fs.fstatSync(opened, { bigint: true });
      if (Number(st.dev) !== dev || Number(st.ino) !== ino) throw new Error('not the same file');
      return opened;
    } catch {
      if (opened >= 0) fs.closeSync(opened);
      return -1;
    }
  });
  if (own < 0) return null;
  const src = sharedOnClone(new FilePages(key, own));
  const ref = new WeakRef(src);
  live.set(key, ref);
  closer.register(src, { key, fd: own, ref });
  return src;
}

