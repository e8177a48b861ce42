/**
 * The process's virtual memory areas (VMAs) on top of Memory's page map:
 * brk, mmap, munmap, mprotect, mremap, madvise, msync, with Linux's rules and
 * errnos, deterministic (no randomization).
 *
 * Every user mapping is in `vmas` (sorted, disjoint), so mmap never hands out
 * an address that overlaps the program's segments, the stack, the heap or an
 * earlier mapping. The loader registers what it mapped with addVma (anything
 * found mapped in Memory but not registered is imported as a nameless VMA
 * before each allocation, as a safety net) and sets the heap start with
 * setBrkStart.
 *
 * Placement follows Linux's top-down allocator: the highest free gap below
 * `mmapBase` (Linux's mmap_base without ASLR: TASK_SIZE - 128 MiB =
 * 0x7ffff7fff000, just under the stack gap), falling back to the lowest gap
 * above mmap_min_addr. Hints are honoured when the range is free.
 *
 * Protections: `Vma.prot` is what the guest asked for (PROT_READ/WRITE/EXEC);
 * Memory gets the x86 effective protection (write or exec imply read) plus
 * PROT_USER. PROT_NONE pages are mapped in Memory with PROT_USER only, so
 * every access faults (SEGV_ACCERR) but the range stays reserved.
 *
 * Private file mappings read each page from the file at its first touch
 * (filepages.ts; at map time in a machine whose history is recorded, or
 * when the file cannot be opened again). MAP_SHARED file
 * mappings map the file's pages in the page cache (pagecache.ts): every
 * shared mapping of a page, in any process, is the same bytes, which read
 * and write on the file meet; they are written back (within the file's
 * current size) on msync (which reports a failure), munmap and flushAll
 * (the address space's end).
 *
 * Limits, as Linux's may_expand_vm and check_data_rlimit apply them: the
 * address space (total_vm: every user VMA, the stack as far as it has grown)
 * against RLIMIT_AS, private writable mappings and the heap (data_vm) against
 * RLIMIT_DATA; mmap, mremap and brk fail with ENOMEM (brk keeps the old
 * break). The stack is mapped down to RLIMIT_STACK below its top (within the
 * gap Linux keeps above mmap_base), so touching below that is SIGSEGV; it
 * counts as grown down to the lowest page the program has touched, as
 * Linux's stack VMA grows on faults (`touched`, told by the page accounting).
 * What the emulator maps for itself ([kernel], the zpoline trampoline) is no
 * part of the program's address space and counts for nothing.
 */
import { hostFs as fs, hostLogActive } from './hostlog.js';
import { Memory, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_USER, PROT_WRITE, type PageSource } from '../cpu/memory.js';
import { filePages } from './filepages.js';
import { EACCES, EEXIST, EFAULT, EINVAL, ENOMEM, EOPNOTSUPP, EOVERFLOW, EPERM, SysError } from './errno.js';
import { hostVdsoSize } from './host.js';
import type { SharedPages } from './pagecache.js';
import type { Vfs } from './vfs.js';

/** End of the user address space (Linux x86-64 TASK_SIZE with 4-level paging). */
export const TASK_SIZE = 0x7ffffffff000;
/** Lowest address mmap may use (vm.mmap_min_addr default). */
export const MMAP_MIN_ADDR = 0x10000;
/** Linux's mmap_base without randomization (TASK_SIZE - 128 MiB stack gap). */
export const DEFAULT_MMAP_BASE = 0x7ffff7fff000;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_32BIT = 0x40;
export const MAP_GROWSDOWN = 0x100;
export const MAP_DENYWRITE = 0x800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000;
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000;
export const MAP_UNINITIALIZED = 0x4000000;
/** Flags MAP_SHARED_VALIDATE accepts. */
const LEGACY_MAP_MASK =
  MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED |
  MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | MAP_32BIT | MAP_FIXED_NOREPLACE | (0x3f << 26);

export const PROT_NONE = 0;
export const PROT_SEM = 0x8;
export const PROT_GROWSDOWN = 0x01000000;
export const PROT_GROWSUP = 0x02000000;

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

export const MS_ASYNC = 1;
export const MS_INVALIDATE = 2;
export const MS_SYNC = 4;

export const MADV = {
  NORMAL: 0, RANDOM: 1, SEQUENTIAL: 2, WILLNEED: 3, DONTNEED: 4, FREE: 8, REMOVE: 9, DONTFORK: 10, DOFORK: 11,
  MERGEABLE: 12, UNMERGEABLE: 13, HUGEPAGE: 14, NOHUGEPAGE: 15, DONTDUMP: 16, DODUMP: 17, WIPEONFORK: 18,
  KEEPONFORK: 19, COLD: 20, PAGEOUT: 21, POPULATE_READ: 22, POPULATE_WRITE: 23, DONTNEED_LOCKED: 24, COLLAPSE: 25,
  HWPOISON: 100, SOFT_OFFLINE: 101,
} as const;

/** Where a file-backed VMA's bytes come from. */
export interface VmaFile {
  hostPath: string;
  /** File offset of the VMA's start. */
  offset: number;
  dev: number;
  ino: number;
  /** MAP_SHARED mapping of a file opened for writing: written back on msync/munmap/exit. */
  writeBack: boolean;
  /** The fd allowed PROT_WRITE on a shared mapping (mprotect checks it). */
  mayWrite: boolean;
  /** A MAP_SHARED mapping's pages: the file's in the page cache, or a System V shm segment's. */
  cache?: SharedPages;
  /**
   * The file's size when it was mapped: a page wholly past it is not
   * accessible (SIGBUS, as Linux's filemap fault past EOF). Linux looks at
   * the size when the page is touched; a file grown since the mmap is not
   * seen here.
   */
  size?: number;
  /** A private mapping read at each page's first touch: where from (Memory reads it; mremap and madvise map it again). */
  pages?: PageSource;
}

export interface Vma {
  start: number;
  end: number;
  /** PROT_READ | PROT_WRITE | PROT_EXEC as the guest set them. */
  prot: number;
  /** MAP_SHARED or MAP_PRIVATE, plus MAP_ANONYMOUS / MAP_GROWSDOWN as given. */
  flags: number;
  /** '[heap]', '[stack]', a guest file path, or ''. */
  name: string;
  file: VmaFile | null;
  /**
   * Linux's VM_ACCOUNT: private memory that was mapped or made writable (its
   * pages are charged as committed). It outlives a later mprotect to
   * read-only, so a RELRO range never merges back with the read-only segment
   * before it in /proc/self/maps.
   */
  accounted?: boolean;
}

/** Source of a file mapping's bytes, provided by the syscall layer. */
export interface MapSource {
  file: VmaFile;
  /** Guest path for /proc/self/maps. */
  name: string;
  /** Read up to into.length bytes at offset into `into`; the count (short at EOF). */
  read(offset: number, into: Uint8Array): number;
  /** Where a private mapping's pages are read at their first touch (filepages.ts); null: they are read at mmap. */
  pages?(): PageSource | null;
}

/**
 * Where a mapping's file bytes are read before they are copied into its pages: one buffer, so that the host
 * touches (a page fault each, ~15 us on a virtual machine) only the pages the guest gets, not a fresh buffer of
 * the whole mapping as well (busybox's 2 MB at every exec).
 */
const FILL_CHUNK = new Uint8Array(256 * 1024);

const pageDown = (a: number): number => Math.floor(a / PAGE_SIZE) * PAGE_SIZE;
const pageUp = (a: number): number => Math.ceil(a / PAGE_SIZE) * PAGE_SIZE;

/** is_data_mapping: private and writable, not the stack (growing down). */
function isData(prot: number, flags: number, name: string, mapFlags = 0): boolean {
  return (prot & PROT_WRITE) !== 0 && (flags & MAP_TYPE) === MAP_PRIVATE && name !== '[stack]' && !((flags | mapFlags) & MAP_GROWSDOWN) && !NOT_THE_PROGRAMS.has(name);
}

/** Memory protection bits for a guest prot: x86 pages that are writable or executable are readable. */
export function memProt(prot: number): number {
  let p = PROT_USER;
  if (prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) p |= PROT_READ;
  if (prot & PROT_WRITE) p |= PROT_WRITE;
  if (prot & PROT_EXEC) p |= PROT_EXEC;
  return p;
}

export interface MMOptions {
  /** Top of the top-down mmap area (default DEFAULT_MMAP_BASE). */
  mmapBase?: number;
  /** The process whose limits apply (RLIMIT_AS, RLIMIT_DATA, RLIMIT_STACK: its soft limits as they are now); default none. */
  limits?: { readonly rlimits: [bigint, bigint][] };
}

const RLIMIT_DATA = 2, RLIMIT_STACK = 3, RLIMIT_AS = 9;
/** Linux's stack_guard_gap: 256 pages kept between the stack's growth limit and mappings. */
export const STACK_GUARD_GAP = 256 * PAGE_SIZE;
/** Linux's stack_expand at exec: the stack VMA starts 128 KiB below what the arguments use. */
const STACK_EXPAND = 128 * 1024;
/**
 * Linux maps the vDSO and its data pages ([vvar], [vvar_vclock], [vdso]) into
 * every process and counts them in total_vm; entrystub's programs have none,
 * but their address space is counted as Linux's would be on this kernel.
 */
const VDSO_SIZE = hostVdsoSize();
/** VMAs of the emulator's own, outside the program's address space. */
const NOT_THE_PROGRAMS = new Set(['[kernel]', '[zpoline]']);

/** The stack: its top, how far down it is mapped (RLIMIT_STACK), and how far down it has grown. */
interface StackArea {
  top: number;
  prot: number;
  /** Lowest address the stack may grow to (mapped in Memory from here to top). */
  limit: number;
  /** Lowest page of the stack VMA as Linux would have it: the exec-time size or the lowest touched page. */
  low: number;
}

/**
 * mmap_base without randomization for a stack limit, as mmap_base() computes
 * it: TASK_SIZE minus the gap, the gap being RLIMIT_STACK plus the guard gap,
 * at least 128 MiB and at most 5/6 of the address space.
 */
export function mmapBaseFor(stackLimit: bigint, taskSize = TASK_SIZE): number {
  const min = 128 * 1024 * 1024, max = Math.floor((taskSize / 6) * 5);
  const want = stackLimit >= BigInt(max) ? max : Number(stackLimit) + STACK_GUARD_GAP;
  return pageDown(taskSize - Math.min(Math.max(want, min), max));
}

export class MM {
  /** Sorted, disjoint. */
  vmas: Vma[] = [];
  /** Start of the heap (page aligned; set by the loader). */
  brkStart = 0;
  /** Current program break as the guest set it (may be unaligned). */
  brk = 0;
  /** Where top-down mmap starts; exec moves it below 4 GiB for a compat (32-bit) program. */
  mmapBase: number;
  /**
   * The end of what mmap may choose: TASK_SIZE, or for a compat program its
   * TASK_SIZE (IA32_PAGE_OFFSET, set by exec), so that no mapping the kernel
   * places, even bottom-up when the space below mmap_base is full, is beyond
   * a 32-bit pointer.
   */
  taskSize = TASK_SIZE;
  /** Fixed mappings below MMAP_MIN_ADDR are allowed (CAP_SYS_RAWIO: the process is root). */
  allowLowMappings = false;
  /**
   * Ranges of the user half the kernel owns (the zpoline page at 0): no user
   * mapping may replace them (EPERM, as mmap_min_addr), munmap passes over
   * them as over a hole, and mprotect finds no VMA there (ENOMEM).
   */
  private readonly kernelRanges: [number, number][] = [];
  private readonly limits: { readonly rlimits: [bigint, bigint][] } | null;
  private stack: StackArea | null = null;
  /** (end_data - start_data) of the program, as Linux's brk check counts it (setBrkStart). */
  private dataSpan = 0;
  /**
   * [start, end) became executable: mapped with PROT_EXEC (fresh contents),
   * given PROT_EXEC by mprotect, refilled from its file by madvise, or moved
   * by mremap from movedFrom. The machine hands it to the entry model, whose
   * zpoline hook rewrites the syscall sites there.
   */
  onExecutable: ((start: number, end: number, movedFrom?: number) => void) | null = null;

  constructor(
    readonly mem: Memory,
    opts: MMOptions = {},
  ) {
    this.mmapBase = opts.mmapBase ?? DEFAULT_MMAP_BASE;
    this.limits = opts.limits ?? null;
  }

  // ---- fork ----

  /**
   * Before a fork: the pages of MAP_SHARED mappings are made shared as they
   * are (both processes see every write), the others become copy on write.
   */
  prepareFork(): void {
    for (const v of this.vmas) if ((v.flags & MAP_TYPE) === MAP_SHARED) this.mem.shareRange(v.start, v.end - v.start);
  }

  /** The child's memory map at fork: a copy of this one, over the child's address space (Memory.fork's). */
  fork(mem: Memory, opts: MMOptions): MM {
    const c = new MM(mem, { mmapBase: this.mmapBase, limits: opts.limits });
    c.vmas = this.vmas.map((v) => ({ ...v, file: v.file ? { ...v.file } : null }));
    c.taskSize = this.taskSize;
    c.brkStart = this.brkStart;
    c.brk = this.brk;
    c.allowLowMappings = this.allowLowMappings;
    for (const [s, e] of this.kernelRanges) c.kernelRanges.push([s, e]);
    c.stack = this.stack ? { ...this.stack } : null;
    c.dataSpan = this.dataSpan;
    c.onExecutable = this.onExecutable;
    // the child's shared file mappings hold their cache pages too (its address space shares the Page objects)
    for (const v of c.vmas) c.holdFile(v, v.start, v.end, false);
    return c;
  }

  /** The soft limit of resource res now (none: infinity). */
  private rlimit(res: number): bigint {
    return this.limits?.rlimits[res][0] ?? 0xffffffffffffffffn;
  }

  /** RLIMIT_STACK's soft limit (mmap_base is computed from it). */
  rlimitStack(): bigint {
    return this.rlimit(RLIMIT_STACK);
  }

  // ---- registration (loader) ----

  /**
   * Register a range the loader mapped itself (ELF segments, the stack, a
   * vdso or trampoline page). `prot` may include PROT_USER (ignored here).
   * Does not touch Memory.
   */
  addVma(start: number, end: number, prot: number, name = '', flags = MAP_PRIVATE): void {
    start = pageDown(start);
    end = pageUp(end);
    if (end <= start) return;
    if (name === '[stack]') return this.addStack(start, end, prot);
    this.carve(start, end);
    this.insert({ start, end, prot: prot & (PROT_READ | PROT_WRITE | PROT_EXEC), flags, name, file: null });
  }

  /** Keep [start, end) for the kernel (see kernelRanges). */
  reserveForKernel(start: number, end: number): void {
    this.kernelRanges.push([pageDown(start), pageUp(end)]);
  }

  private kernelOwns(s: number, e: number): boolean {
    return this.kernelRanges.some(([ks, ke]) => s < ke && e > ks);
  }

  /**
   * The loader's stack: sized by RLIMIT_STACK (mapped down to it, within the
   * gap above mmap_base), its VMA starting where Linux's does at exec, 128 KiB
   * below the lowest page the loader wrote.
   */
  private addStack(start: number, top: number, prot: number): void {
    const p = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
    this.stack = { top, prot: p, limit: start, low: Math.max(pageDown(this.argStrings(start, top)) - STACK_EXPAND, start) };
    this.setStackLimit();
    this.stack.low = Math.max(this.stack.low, this.stack.limit);
  }

  /**
   * Where the argument and environment strings start (bprm->p, from which
   * Linux sizes the exec-time stack VMA): argv[0], found from the initial
   * stack pointer, the first non-zero byte of the lowest page the loader
   * wrote (argc, at least 1). The lowest written page when there is no argv.
   */
  private argStrings(start: number, top: number): number {
    let lowest = top - PAGE_SIZE;
    const touched = this.mem.pageNumbers(Math.floor(start / PAGE_SIZE), Math.floor(lowest / PAGE_SIZE));
    if (touched.length > 0) lowest = touched[0] * PAGE_SIZE;
    const page = new Uint8Array(PAGE_SIZE);
    this.mem.peek(lowest, page);
    const sp = lowest + page.findIndex((b) => b !== 0);
    if (sp < lowest) return lowest;
    const w = new Uint8Array(16);
    this.mem.peek(sp, w);
    const dv = new DataView(w.buffer);
    const argc = dv.getUint32(0, true), argv0 = dv.getUint32(12, true) * 4294967296 + dv.getUint32(8, true);
    return argc > 0 && argv0 > sp && argv0 < top ? argv0 : lowest;
  }

  /**
   * RLIMIT_STACK changed (or the stack was set up): the stack may now grow down
   * to top - limit. Pages it already has stay, as Linux never shrinks the VMA.
   */
  setStackLimit(): void {
    const st = this.stack;
    if (!st) return;
    const rl = this.rlimit(RLIMIT_STACK);
    const room = st.top - this.mmapBase - STACK_GUARD_GAP;
    const size = rl >= BigInt(room) ? room : Math.max(pageUp(Number(rl)), PAGE_SIZE);
    // never over the program's own mappings below, and one guard gap above them
    let floor = 0;
    for (const v of this.vmas) if (v.name !== '[stack]' && v.end <= st.limit) floor = Math.max(floor, v.end);
    const limit = Math.min(Math.max(st.top - size, floor === 0 ? 0 : floor + STACK_GUARD_GAP), st.low);
    if (limit < st.limit) this.mem.map(limit, st.limit - limit, memProt(st.prot));
    else if (limit > st.limit) this.mem.unmap(st.limit, limit - st.limit);
    this.carve(Math.min(limit, st.limit), st.top);
    st.limit = limit;
    this.insert({ start: st.limit, end: st.top, prot: st.prot, flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, name: '[stack]', file: null });
  }

  /** A page was touched for the first time (page accounting): the stack grows down to it. */
  touched(pn: number): void {
    const st = this.stack;
    if (st === null) return;
    const a = pn * PAGE_SIZE;
    if (a < st.low && a >= st.limit && a < st.top) st.low = a;
  }

  // ---- accounting (may_expand_vm) ----

  /** total_vm in bytes: the program's VMAs, the stack as far as it has grown, and the vDSO Linux would map. */
  totalVm(): number {
    let n = VDSO_SIZE;
    for (const v of this.vmas) {
      if (NOT_THE_PROGRAMS.has(v.name)) continue;
      n += v.name === '[stack]' && this.stack ? this.stack.top - this.stack.low : v.end - v.start;
    }
    return n;
  }

  /** data_vm in bytes: private writable mappings that are not the stack, the heap included. */
  dataVm(): number {
    let n = 0;
    for (const v of this.vmas) if (isData(v.prot, v.flags, v.name)) n += v.end - v.start;
    return n;
  }

  /** may_expand_vm: growing by `bytes` stays within RLIMIT_AS, and within RLIMIT_DATA for a data mapping. */
  private mayExpand(bytes: number, data: boolean): boolean {
    if (bytes <= 0) return true;
    if (BigInt(this.totalVm() + bytes) > this.rlimit(RLIMIT_AS)) return false;
    if (data && BigInt(this.dataVm() + bytes) > this.rlimit(RLIMIT_DATA)) return false;
    return true;
  }

  /** Bytes of [s, e) that VMAs of the program already cover (a fixed mapping replaces them). */
  private covered(s: number, e: number): number {
    let n = 0;
    for (const v of this.vmas) if (!NOT_THE_PROGRAMS.has(v.name) && v.end > s && v.start < e) n += Math.min(v.end, e) - Math.max(v.start, s);
    return n;
  }

  /**
   * Set where the heap starts (exec: after the program's highest segment);
   * brk(0) then returns it. dataSpan is the program's end_data - start_data,
   * which Linux's brk counts against RLIMIT_DATA with the heap.
   */
  setBrkStart(addr: number, dataSpan = 0): void {
    this.brkStart = pageUp(addr);
    this.brk = this.brkStart;
    this.dataSpan = dataSpan;
  }

  /** Import ranges mapped in Memory that no VMA covers (user half only), so allocation avoids them. */
  syncFromMemory(): void {
    for (const [s, e, prot] of this.mem.mappings()) {
      if (e <= 0 || s >= TASK_SIZE) continue;
      let a = Math.max(s, 0);
      const end = Math.min(e, TASK_SIZE);
      while (a < end) {
        const v = this.vmaAt(a);
        if (v) {
          a = v.end;
          continue;
        }
        const next = this.vmas.find((x) => x.start > a);
        const b = Math.min(end, next ? next.start : end);
        // below mmap_min_addr only the zpoline trampoline is mapped unasked: the emulator's, not the program's
        this.insert({ start: a, end: b, prot: prot & 7, flags: MAP_PRIVATE, name: a < MMAP_MIN_ADDR ? '[zpoline]' : '', file: null });
        a = b;
      }
    }
  }

  // ---- queries ----

  /** The VMA containing addr, or undefined. */
  vmaAt(addr: number): Vma | undefined {
    const vs = this.vmas;
    let lo = 0, hi = vs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = vs[mid];
      if (addr < v.start) hi = mid - 1;
      else if (addr >= v.end) lo = mid + 1;
      else return v;
    }
    return undefined;
  }

  /** True if no VMA intersects [start, end). */
  isFree(start: number, end: number): boolean {
    for (const v of this.vmas) {
      if (v.start >= end) break;
      if (v.end > start) return false;
    }
    return true;
  }

  /** True if VMAs cover all of [start, end). */
  isCovered(start: number, end: number): boolean {
    let a = start;
    for (const v of this.vmas) {
      if (v.end <= a) continue;
      if (v.start > a) return false;
      a = v.end;
      if (a >= end) return true;
    }
    return a >= end;
  }

  /**
   * A free, page-aligned range of len bytes: the hint if it is free, else the
   * highest gap below `below`, else the lowest above MMAP_MIN_ADDR. -1 if none.
   */
  findFree(len: number, hint = 0, below = this.mmapBase, lowest = MMAP_MIN_ADDR): number {
    const end = this.taskSize;
    if (len <= 0 || len > end - lowest) return -1;
    if (hint) {
      const h = pageUp(hint);
      if (h >= lowest && h + len <= end && this.isFree(h, h + len)) return h;
    }
    // top-down: the highest gap below `below`
    let top = below;
    for (let k = this.vmas.length - 1; k >= 0 && top > lowest; k--) {
      const v = this.vmas[k];
      if (v.start >= top) continue;
      if (v.end < top && top - Math.max(v.end, lowest) >= len) return top - len;
      top = v.start;
    }
    if (top - lowest >= len) return top - len;
    // bottom-up over the whole space
    let a = lowest;
    for (const v of this.vmas) {
      if (v.end <= a) continue;
      if (v.start - a >= len) return a;
      a = Math.max(a, v.end);
    }
    if (end - a >= len) return a;
    return -1;
  }

  // ---- VMA list surgery ----

  private insert(v: Vma): void {
    const vs = this.vmas;
    let k = 0;
    while (k < vs.length && vs[k].start < v.start) k++;
    vs.splice(k, 0, v);
    this.mergeAround(k);
  }

  private static mergeable(a: Vma, b: Vma): boolean {
    if (a.end !== b.start || a.prot !== b.prot || a.flags !== b.flags || a.name !== b.name || !a.accounted !== !b.accounted) return false;
    if (a.file === null && b.file === null) return true;
    if (a.file === null || b.file === null) return false;
    return (
      a.file.hostPath === b.file.hostPath &&
      a.file.offset + (a.end - a.start) === b.file.offset &&
      a.file.writeBack === b.file.writeBack &&
      a.file.cache === b.file.cache &&
      (a.file.cache === undefined || a.file.cache.mergeable) &&
      a.file.mayWrite === b.file.mayWrite &&
      a.file.size === b.file.size
    );
  }

  private mergeAround(k: number): void {
    const vs = this.vmas;
    if (k + 1 < vs.length && MM.mergeable(vs[k], vs[k + 1])) {
      vs[k].end = vs[k + 1].end;
      vs.splice(k + 1, 1);
    }
    if (k > 0 && MM.mergeable(vs[k - 1], vs[k])) {
      vs[k - 1].end = vs[k].end;
      vs.splice(k, 1);
    }
  }

  private static slice(v: Vma, s: number, e: number): Vma {
    return {
      start: s,
      end: e,
      prot: v.prot,
      flags: v.flags,
      name: v.name,
      file: v.file ? { ...v.file, offset: v.file.offset + (s - v.start) } : null,
      accounted: v.accounted,
    };
  }

  /** Remove [s, e) from the VMA list (no Memory change); returns the removed pieces. */
  private carve(s: number, e: number): Vma[] {
    const keep: Vma[] = [];
    const removed: Vma[] = [];
    for (const v of this.vmas) {
      if (v.end <= s || v.start >= e) {
        keep.push(v);
        continue;
      }
      if (v.start < s) keep.push(MM.slice(v, v.start, s));
      removed.push(MM.slice(v, Math.max(v.start, s), Math.min(v.end, e)));
      if (v.end > e) keep.push(MM.slice(v, e, v.end));
    }
    this.vmas = keep;
    return removed;
  }

  // ---- mmap family ----

  /**
   * mmap(2). `source` is given for file mappings (the syscall layer has
   * checked the fd). Returns the address; throws SysError.
   */
  mmap(addr: number, len: number, prot: number, flags: number, offset: number, source: MapSource | null): number {
    const type = flags & MAP_TYPE;
    if (type === MAP_SHARED_VALIDATE) {
      if (flags & ~LEGACY_MAP_MASK & ~MAP_SYNC) throw new SysError(EOPNOTSUPP);
    } else if (type !== MAP_SHARED && type !== MAP_PRIVATE) throw new SysError(EINVAL);
    if (len === 0) throw new SysError(EINVAL);
    if (offset % PAGE_SIZE !== 0 || offset < 0) throw new SysError(EINVAL);
    if (!(len > 0) || len > TASK_SIZE) throw new SysError(ENOMEM);
    len = pageUp(len);
    if (source && offset + len > Number.MAX_SAFE_INTEGER) throw new SysError(EOVERFLOW);
    if ((flags & MAP_HUGETLB) && !source) throw new SysError(ENOMEM); // no huge pages reserved
    const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
    let start: number;
    if (fixed) {
      if (addr % PAGE_SIZE !== 0) throw new SysError(EINVAL);
      if (addr < 0 || addr + len > TASK_SIZE) throw new SysError(ENOMEM);
      if ((addr < MMAP_MIN_ADDR && !this.allowLowMappings) || this.kernelOwns(addr, addr + len)) throw new SysError(EPERM);
      if (flags & MAP_FIXED_NOREPLACE && !this.isFree(addr, addr + len)) throw new SysError(EEXIST);
      start = addr;
    } else {
      this.syncFromMemory();
      if (flags & MAP_32BIT) start = this.findFree(len, addr, 0x80000000, 0x40000000);
      else start = this.findFree(len, addr >= MMAP_MIN_ADDR && addr < TASK_SIZE ? addr : 0);
      if (start < 0) throw new SysError(ENOMEM);
    }
    if (!this.mayExpand(len - (fixed ? this.covered(start, start + len) : 0), isData(prot, type === MAP_PRIVATE ? MAP_PRIVATE : MAP_SHARED, '', flags)))
      throw new SysError(ENOMEM);
    if (fixed) this.unmapRange(start, start + len);
    const keepFlags = flags & (MAP_TYPE | MAP_ANONYMOUS | MAP_GROWSDOWN);
    const sharedType = type === MAP_PRIVATE ? MAP_PRIVATE : MAP_SHARED;
    this.mem.mapFresh(start, len, memProt(prot));
    const vma: Vma = {
      start,
      end: start + len,
      prot: prot & 7,
      flags: (keepFlags & ~MAP_TYPE) | sharedType,
      name: source ? source.name : '',
      file: source ? { ...source.file, offset } : null,
      accounted: sharedType === MAP_PRIVATE && (prot & PROT_WRITE) !== 0 && !(flags & MAP_NORESERVE),
    };
    // a page of a private file mapping is read at its first touch, unless the host's answers are logged (history): the
    // log orders them, and a debugger's access (out of the log) could move a first touch
    const pages = source && !vma.file!.cache && !hostLogActive() ? (source.pages?.() ?? null) : null;
    if (vma.file?.cache) this.holdFile(vma, start, start + len, true);
    else if (pages) {
      vma.file!.pages = pages;
      this.mem.mapFile(start, len, memProt(prot), pages, offset);
    } else if (source) this.fill(start, len, source.read.bind(source), offset);
    this.sealPastEof(vma, start, start + len);
    this.insert(vma);
    if (prot & PROT_EXEC) this.onExecutable?.(start, start + len);
    return start;
  }

  /** Copy file bytes into freshly mapped pages (poke: ignores protection). */
  private fill(start: number, len: number, read: (offset: number, into: Uint8Array) => number, offset: number): void {
    for (let done = 0; done < len; done += FILL_CHUNK.length) {
      const n = Math.min(FILL_CHUNK.length, len - done);
      const k = read(offset + done, FILL_CHUNK.subarray(0, n));
      if (k > 0) this.mem.poke(start + done, FILL_CHUNK.subarray(0, k));
      if (k < n) break;
    }
  }

  /**
   * The page cache's pages of v's file for [s, e) of v, held (and, with map,
   * mapped there): those within the file's size when it was mapped (the
   * others are sealed past its end).
   */
  private holdFile(v: Vma, s: number, e: number, map: boolean): void {
    const f = v.file;
    if (!f?.cache) return;
    const end = Math.min(e, MM.pastEof(v));
    let fd = -1;
    try {
      for (let a = s; a < end; a += PAGE_SIZE) {
        const index = (f.offset + (a - v.start)) / PAGE_SIZE;
        if (!f.cache.pages.has(index) && fd < 0) fd = openMapped(f, fs.constants.O_RDONLY);
        const bytes = f.cache.hold(index, fd);
        if (map) this.mem.mapBytes(a, memProt(v.prot), bytes);
      }
    } finally {
      if (fd >= 0) fs.closeSync(fd);
    }
  }

  /** v no longer maps its file's cache pages (unmapped, moved, or the address space's end). */
  private releaseFile(v: Vma): void {
    const f = v.file;
    if (!f?.cache) return;
    for (let a = v.start, end = Math.min(v.end, MM.pastEof(v)); a < end; a += PAGE_SIZE) f.cache.release((f.offset + (a - v.start)) / PAGE_SIZE);
  }

  /** Unmap [s, e): write back shared file pages, drop VMAs and pages. */
  private unmapRange(s: number, e: number): void {
    const removed = this.carve(s, e);
    for (const v of removed) this.writeBackQuietly(v);
    for (const v of removed) this.releaseFile(v);
    let a = s;
    for (const [ks, ke] of [...this.kernelRanges].sort((x, y) => x[0] - y[0])) {
      if (ke <= a || ks >= e) continue;
      if (ks > a) this.mem.unmap(a, ks - a);
      a = Math.max(a, ke);
    }
    if (a < e) this.mem.unmap(a, e - a);
  }

  /** munmap(2). */
  munmap(addr: number, len: number): void {
    if (addr % PAGE_SIZE !== 0 || addr < 0) throw new SysError(EINVAL);
    if (!(len > 0) || len > TASK_SIZE || addr + len > TASK_SIZE) throw new SysError(EINVAL);
    const end = pageUp(addr + len);
    this.unmapRange(addr, end);
  }

  /** mprotect(2). */
  mprotect(addr: number, len: number, prot: number): void {
    if (addr % PAGE_SIZE !== 0) throw new SysError(EINVAL);
    if (addr < 0) throw new SysError(ENOMEM); // above TASK_SIZE: no VMA there
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM | PROT_GROWSDOWN | PROT_GROWSUP)) throw new SysError(EINVAL);
    if ((prot & PROT_GROWSDOWN) && (prot & PROT_GROWSUP)) throw new SysError(EINVAL);
    if (len === 0) return;
    if (!(len > 0) || addr + len > TASK_SIZE) throw new SysError(ENOMEM);
    const end = pageUp(addr + len);
    if (!this.isCovered(addr, end)) throw new SysError(ENOMEM);
    const p = prot & 7;
    const before = this.vmas.slice();
    const pieces = this.carve(addr, end);
    for (const v of pieces) {
      if (v.file && (v.flags & MAP_TYPE) === MAP_SHARED && p & PROT_WRITE && !v.file.mayWrite) {
        // fail with the VMAs as they were, unsplit, as Linux checks before mprotect_fixup splits
        // (a shm segment's VMAs never merge again: each piece would count in shm_nattch)
        this.vmas = before;
        throw new SysError(EACCES);
      }
    }
    const nowExecutable: Vma[] = [];
    for (const v of pieces) {
      // (the stack made executable, for a library that asks for it, holds data: no code to rewrite there)
      if (p & PROT_EXEC && !(v.prot & PROT_EXEC) && v.name !== '[stack]') nowExecutable.push(v);
      if ((v.flags & MAP_TYPE) === MAP_PRIVATE) {
        // mprotect_fixup: made writable, it is charged; anonymous memory never touched is uncharged again
        if (p & PROT_WRITE) v.accounted = true;
        else if (v.accounted && !v.file && !this.touchedIn(v.start, v.end)) v.accounted = false;
      }
      v.prot = p;
      this.insert(v);
      this.mem.protect(v.start, v.end - v.start, memProt(p));
      this.sealPastEof(v, v.start, v.end);
    }
    for (const v of nowExecutable) this.onExecutable?.(v.start, v.end);
  }

  /** Where the pages of file VMA v wholly past the file's end start (Infinity: none). */
  private static pastEof(v: Vma): number {
    if (!v.file || v.file.size === undefined) return Infinity;
    return v.start + Math.max(0, pageUp(v.file.size) - v.file.offset);
  }

  /** Make the pages of v in [s, e) that lie wholly past the file's end inaccessible (busError tells the fault). */
  private sealPastEof(v: Vma, s: number, e: number): void {
    const from = Math.max(s, MM.pastEof(v));
    if (from < e) this.mem.protect(from, e - from, PROT_USER);
  }

  /**
   * A fault at addr (a write, an instruction fetch, else a read) is a bus
   * error: a page of a file mapping wholly past the file's end, touched in a
   * way the mapping allows (otherwise it is SIGSEGV, as on Linux).
   */
  busError(addr: number, write: boolean, fetch: boolean): boolean {
    const v = this.vmaAt(addr);
    if (!v || addr < MM.pastEof(v)) return false;
    return write ? (v.prot & PROT_WRITE) !== 0 : fetch ? (v.prot & PROT_EXEC) !== 0 : (v.prot & (PROT_READ | PROT_WRITE | PROT_EXEC)) !== 0;
  }

  /** Some page of [s, e) has been touched (materialized in Memory): Linux's VMA would have an anon_vma. */
  private touchedIn(s: number, e: number): boolean {
    const first = s / PAGE_SIZE, n = (e - s) / PAGE_SIZE;
    if (n <= 4096) {
      for (let k = 0; k < n; k++) if (this.mem.hasPage(first + k)) return true;
      return false;
    }
    return this.mem.pageNumbers(first, first + n).length > 0;
  }

  /** mremap(2). Returns the (possibly new) address. */
  mremap(oldAddr: number, oldLen: number, newLen: number, flags: number, newAddr: number): number {
    if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) throw new SysError(EINVAL);
    if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) throw new SysError(EINVAL);
    if (flags & MREMAP_DONTUNMAP && (!(flags & MREMAP_MAYMOVE) || oldLen !== newLen)) throw new SysError(EINVAL);
    if (oldAddr % PAGE_SIZE !== 0 || oldAddr < 0) throw new SysError(EINVAL);
    oldLen = pageUp(oldLen);
    newLen = pageUp(newLen);
    if (newLen === 0 || !(newLen > 0) || newLen > TASK_SIZE) throw new SysError(EINVAL);
    const v = this.vmaAt(oldAddr);
    if (!v) throw new SysError(EFAULT);
    if (oldLen === 0) {
      // duplicate a shared mapping; private ones cannot be
      if ((v.flags & MAP_TYPE) !== MAP_SHARED || !(flags & MREMAP_MAYMOVE)) throw new SysError(EINVAL);
    }
    if (oldAddr + oldLen > v.end) throw new SysError(EFAULT);
    const grow = flags & MREMAP_DONTUNMAP ? newLen : newLen - oldLen;
    if (!this.mayExpand(grow, isData(v.prot, v.flags, v.name))) throw new SysError(ENOMEM);
    if (flags & MREMAP_FIXED) {
      if (newAddr % PAGE_SIZE !== 0 || newAddr < 0) throw new SysError(EINVAL);
      if (newAddr + newLen > TASK_SIZE) throw new SysError(EINVAL);
      if (newAddr < oldAddr + oldLen && oldAddr < newAddr + newLen) throw new SysError(EINVAL);
      if ((newAddr < MMAP_MIN_ADDR && !this.allowLowMappings) || this.kernelOwns(newAddr, newAddr + newLen)) throw new SysError(EPERM);
      this.unmapRange(newAddr, newAddr + newLen);
      if (oldLen > newLen) {
        this.unmapRange(oldAddr + newLen, oldAddr + oldLen);
        oldLen = newLen;
      }
      return this.move(v, oldAddr, oldLen, newAddr, newLen, flags);
    }
    if (newLen <= oldLen) {
      if (newLen < oldLen) this.unmapRange(oldAddr + newLen, oldAddr + oldLen);
      return oldAddr;
    }
    // grow in place when the old range ends its VMA and the pages after are free
    if (oldAddr + oldLen === v.end && oldAddr + newLen <= TASK_SIZE && this.isFree(v.end, oldAddr + newLen)) {
      const ext = oldAddr + newLen - v.end;
      const from = v.end;
      if (v.file?.cache) {
        this.mem.mapFresh(from, ext, memProt(v.prot));
        this.holdFile({ ...v, end: from + ext }, from, from + ext, true);
      } else this.mapPrivate(v, from, from + ext);
      v.end += ext;
      this.sealPastEof(v, from, v.end);
      this.mergeAround(this.vmas.indexOf(v));
      if (v.prot & PROT_EXEC) this.onExecutable?.(from, from + ext);
      return oldAddr;
    }
    if (!(flags & MREMAP_MAYMOVE)) throw new SysError(ENOMEM);
    this.syncFromMemory();
    const dest = this.findFree(newLen);
    if (dest < 0) throw new SysError(ENOMEM);
    return this.move(v, oldAddr, oldLen, dest, newLen, flags);
  }

  /**
   * Map [s, e) of v's private pages afresh: its file's bytes (read at each page's first touch, or now when the
   * mapping was filled at mmap), or zeros for anonymous memory.
   */
  private mapPrivate(v: Vma, s: number, e: number): void {
    const file = v.file;
    if (file?.pages) return this.mem.mapFile(s, e - s, memProt(v.prot), file.pages, file.offset + (s - v.start));
    this.mem.mapFresh(s, e - s, memProt(v.prot));
    if (file) this.fill(s, e - s, (o, into) => readFileAt(file, o, into), file.offset + (s - v.start));
  }

  /** Move (or with oldLen 0, duplicate) pages of VMA v to dest. */
  private move(v: Vma, oldAddr: number, oldLen: number, dest: number, newLen: number, flags: number): number {
    const mp = memProt(v.prot);
    // a file read at first touch moves as its file (its untouched pages are read there), with its touched pages copied over
    if (v.file?.pages) this.mem.mapFile(dest, newLen, mp, v.file.pages, v.file.offset + (oldAddr - v.start));
    else this.mem.mapFresh(dest, newLen, mp);
    const copyLen = oldLen === 0 ? Math.min(newLen, v.end - oldAddr) : Math.min(oldLen, newLen);
    const moved = MM.slice(v, oldAddr, oldAddr + newLen);
    moved.start = dest;
    moved.end = dest + newLen;
    // a shared file mapping moves as the same cache pages; other pages move as bytes
    if (v.file?.cache) this.holdFile(moved, dest, dest + newLen, true);
    else this.copyPages(oldAddr, dest, copyLen);
    if (newLen > copyLen && v.file && !v.file.cache && !v.file.pages) {
      this.fill(dest + copyLen, newLen - copyLen, (o, into) => readFileAt(v.file!, o, into), v.file.offset + (oldAddr - v.start) + copyLen);
    }
    if (oldLen > 0) {
      if (flags & MREMAP_DONTUNMAP) {
        // the old range stays mapped, now empty (anonymous pages read as zero)
        this.mem.mapFresh(oldAddr, oldLen, mp);
      } else {
        for (const r of this.carve(oldAddr, oldAddr + oldLen)) this.releaseFile(r);
        this.mem.unmap(oldAddr, oldLen);
      }
    }
    this.sealPastEof(moved, dest, dest + newLen);
    this.insert(moved);
    if (moved.prot & PROT_EXEC) this.onExecutable?.(dest, dest + newLen, oldAddr);
    return dest;
  }

  /** Copy the touched pages of [src, src+len) to dst (untouched pages read the same on both sides: zeros, or their file's bytes). */
  private copyPages(src: number, dst: number, len: number): void {
    const first = Math.floor(src / PAGE_SIZE);
    const n = Math.ceil(len / PAGE_SIZE);
    const pages: [number, Uint8Array][] = [];
    this.mem.forPages(first, first + n, (p) => pages.push([p.pn - first, p.u8]));
    for (const [k, u8] of pages) this.mem.poke(dst + k * PAGE_SIZE, u8);
  }

  /** madvise(2). */
  madvise(addr: number, len: number, advice: number): void {
    if (addr % PAGE_SIZE !== 0 || addr < 0) throw new SysError(EINVAL);
    const known = Object.values(MADV) as number[];
    if (!known.includes(advice)) throw new SysError(EINVAL);
    if (advice === MADV.HWPOISON || advice === MADV.SOFT_OFFLINE) throw new SysError(EPERM);
    if (len === 0) return;
    if (!(len > 0) || addr + len > TASK_SIZE) throw new SysError(EINVAL);
    const end = pageUp(addr + len);
    const covered = this.isCovered(addr, end);
    if (advice === MADV.DONTNEED || advice === MADV.DONTNEED_LOCKED || advice === MADV.REMOVE) {
      for (const v of this.vmas) {
        if (v.end <= addr || v.start >= end) continue;
        if (advice === MADV.REMOVE && (v.flags & MAP_TYPE) !== MAP_SHARED) throw new SysError(EINVAL);
        const s = Math.max(v.start, addr), e = Math.min(v.end, end);
        if ((v.flags & MAP_TYPE) === MAP_SHARED && !v.file) continue; // shared anonymous memory keeps its contents
        if (v.file && (v.flags & MAP_TYPE) === MAP_SHARED) continue; // shared file pages stay (they are the file)
        this.mapPrivate(v, s, e);
        this.sealPastEof(v, s, e);
        if (v.prot & PROT_EXEC) this.onExecutable?.(s, e);
      }
    }
    if (!covered) throw new SysError(ENOMEM);
  }

  /** msync(2): write back shared file mappings in the range. */
  msync(addr: number, len: number, flags: number): void {
    if (addr % PAGE_SIZE !== 0 || addr < 0) throw new SysError(EINVAL);
    if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) throw new SysError(EINVAL);
    if (flags & MS_ASYNC && flags & MS_SYNC) throw new SysError(EINVAL);
    const end = pageUp(addr + len);
    for (const v of this.vmas) {
      if (v.end <= addr || v.start >= end) continue;
      this.writeBack(MM.slice(v, Math.max(v.start, addr), Math.min(v.end, end)));
    }
    if (!this.isCovered(addr, end)) throw new SysError(ENOMEM);
  }

  /** The address space ends (exit, exec): its shared file mappings are written back and let go of their cache pages. */
  flushAll(): void {
    for (const v of this.vmas) this.writeBackQuietly(v);
    for (const v of this.vmas) this.releaseFile(v);
  }

  /** Write v's shared file pages back to the file (msync: a failure is its error). */
  private writeBack(v: Vma): void {
    if (!v.file || (v.flags & MAP_TYPE) !== MAP_SHARED) return;
    if (v.file.cache) {
      if (v.file.writeBack) v.file.cache.writeBack(v.file.offset, v.end - v.start);
      return;
    }
    if (!v.file.writeBack) return;
    const fd = openMapped(v.file, fs.constants.O_RDWR);
    if (fd < 0) return; // the file is no longer where it was mapped from: nothing to write back to
    try {
      const size = fs.fstatSync(fd).size;
      const n = Math.min(v.end - v.start, size - v.file.offset);
      if (n <= 0) return;
      const buf = new Uint8Array(n);
      this.mem.peek(v.start, buf);
      fs.writeSync(fd, buf, 0, n, v.file.offset);
    } catch {
      /* the file went away: nothing to write back to */
    } finally {
      fs.closeSync(fd);
    }
  }

  /** munmap and the end of the address space write back too, but report nothing (as Linux's). */
  private writeBackQuietly(v: Vma): void {
    try {
      this.writeBack(v);
    } catch {
      /* the error stays with the file on Linux (a later fsync sees it); here it is lost */
    }
  }

  // ---- brk ----

  /** brk(2): returns the new break, or the current one when the request cannot be met. */
  doBrk(addr: number): number {
    if (addr < this.brkStart || addr >= TASK_SIZE) return this.brk;
    // check_data_rlimit: the heap and the data segment within RLIMIT_DATA, shrinking included
    if (BigInt(addr - this.brkStart + this.dataSpan) > this.rlimit(RLIMIT_DATA)) return this.brk;
    const oldEnd = pageUp(this.brk);
    const newEnd = pageUp(addr);
    if (newEnd > oldEnd) {
      this.syncFromMemory();
      // Linux keeps one guard page between the heap and the next mapping
      if (!this.isFree(oldEnd, newEnd + PAGE_SIZE)) return this.brk;
      if (!this.mayExpand(newEnd - oldEnd, true)) return this.brk;
      this.mem.mapFresh(oldEnd, newEnd - oldEnd, memProt(PROT_READ | PROT_WRITE));
      this.insert({ start: oldEnd, end: newEnd, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS, name: '[heap]', file: null, accounted: true });
    } else if (newEnd < oldEnd) {
      this.unmapRange(newEnd, oldEnd);
    }
    this.brk = addr;
    return addr;
  }

  // ---- reports ----

  /** /proc/self/maps text. */
  procMaps(): string {
    const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0');
    let out = '';
    for (const vma of this.vmas) {
      const v = vma.name === '[stack]' && this.stack ? { ...vma, start: this.stack.low } : vma;
      const perms =
        (v.prot & PROT_READ ? 'r' : '-') + (v.prot & PROT_WRITE ? 'w' : '-') + (v.prot & PROT_EXEC ? 'x' : '-') + ((v.flags & MAP_TYPE) === MAP_SHARED ? 's' : 'p');
      const dev = v.file ? `${hex((v.file.dev >>> 8) & 0xfff, 2)}:${hex((v.file.dev & 0xff) | ((v.file.dev >>> 12) & 0xfff00), 2)}` : '00:00';
      let line = `${hex(v.start, 8)}-${hex(v.end, 8)} ${perms} ${hex(v.file ? v.file.offset : 0, 8)} ${dev} ${v.file ? v.file.ino : 0}`;
      // show_map_vma: the header ends with a space, padded to its width before a name
      line = v.name ? line.padEnd(72, ' ') + ' ' + v.name : line + ' ';
      out += line + '\n';
    }
    return out;
  }
}

/**
 * The MapSource of a host file open on fd (kept open while the mapping is
 * made: its bytes are copied at map time), named `name` in /proc/self/maps.
 */
export function hostFileSource(fd: number, hostPath: string, name: string, offset: number, access: { writeBack: boolean; mayWrite: boolean }): MapSource {
  const st = fs.fstatSync(fd, { bigint: true });
  let pages: PageSource | null | undefined;
  return {
    pages: () => (pages === undefined ? (pages = filePages(fd, Number(st.dev), Number(st.ino))) : pages),
    name,
    file: { hostPath, offset, dev: Number(st.dev), ino: Number(st.ino), ...access, size: Number(st.size) },
    read(o: number, into: Uint8Array): number {
      let done = 0;
      while (done < into.length) {
        const k = fs.readSync(fd, into, done, into.length - done, o + done);
        if (k <= 0) break;
        done += k;
      }
      return done;
    },
  };
}

/**
 * The name /proc/self/maps gives a mapping of the file open on host fd: its
 * path as the kernel's d_path finds it from the open file (canonical, so
 * /usr/lib/... for a library opened as /lib/...; "(deleted)" appended when it
 * is gone), as a guest path; `fallback` if that cannot be read.
 */
export function mappedName(vfs: Vfs, fd: number, fallback: string): string {
  try {
    return vfs.toGuest(fs.readlinkSync(`/proc/self/fd/${fd}`)) ?? fallback;
  } catch {
    return fallback;
  }
}

/**
 * Open the file a mapping came from, by the host path it was opened by, only
 * if that path still reaches the same inode (and without following a final
 * symlink): the guest may since have put a symlink to a host file there, and
 * a write-back must not land outside the root. -1 when it does not.
 */
function openMapped(file: VmaFile, flags: number): number {
  let fd = -1;
  try {
    fd = fs.openSync(file.hostPath, flags | fs.constants.O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    if (st.dev === file.dev && st.ino === file.ino) return fd;
  } catch {
    /* gone or not openable */
  }
  if (fd >= 0) fs.closeSync(fd);
  return -1;
}

/** Read up to into.length bytes at offset of the file a mapping came from into `into`: the count (short or 0 at EOF, or when it is gone). */
export function readFileAt(file: VmaFile, offset: number, into: Uint8Array): number {
  const fd = openMapped(file, fs.constants.O_RDONLY);
  if (fd < 0) return 0;
  try {
    let done = 0;
    while (done < into.length) {
      const n = fs.readSync(fd, into, done, into.length - done, offset + done);
      if (n <= 0) break;
      done += n;
    }
    return done;
  } catch {
    return 0;
  } finally {
    fs.closeSync(fd);
  }
}
