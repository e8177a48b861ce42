/**
 * Guest memory: 4 KiB pages with R/W/X and user/supervisor bits.
 *
 * Linear addresses are JS numbers holding the *signed* 64-bit value. Every
 * canonical address lies in [-2^47, 2^47), which a double holds exactly, so the
 * native-mode kernel at 0xffffffff80000000 is -2^31 here. Page numbers are
 * Math.floor(addr / 4096) and may be negative.
 *
 * Three small direct-mapped TLBs (read, write, fetch) hold only pages the
 * current privilege level may access that way, so the fast path is one array
 * load and one compare. Pages holding decoded code are kept out of the write
 * TLB: a store to them takes the slow path, which bumps the page's generation
 * and so invalidates the decoded blocks (self-modifying code, breakpoints,
 * zpoline rewrites).
 *
 * Address spaces and fork. A Memory is one address space; its pages are
 * kept in page tables of 512 (a directory of them, as x86's page directory
 * holds page tables). `fork()` gives a copy on write that costs a table
 * per 2 MiB, not a page: the child shares the parent's tables, each
 * counting the address spaces that hold it; the first change to a shared
 * table copies its 512 slots, and each page then counts the tables that
 * hold it (`Page.refs`). The first write by either side to a page it shares
 * copies the page (`unshare`, reached from wpage's slow path, which every
 * write TLB miss takes: the parent's TLBs are flushed at fork, and a shared
 * page is never put in a write TLB). Pages of a MAP_SHARED mapping are
 * shared as they are (`Page.shared`). The guest kernel's pages are one set for every address
 * space: a Memory made with `shareGlobal(store)` finds the store's mappings
 * and pages where it has none of its own, so a kernel page first touched in
 * one process is the one every other sees, and it is never copied.
 */
import { CpuFault, PF_FETCH, PF_PRESENT, PF_USER, PF_WRITE, Vector } from './fault.js';
import { CLONE, type Cloner } from './clone.js';

export const PAGE_SIZE = 4096;
export const PAGE_MASK = 4095;

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
/** Page accessible at CPL 3. Pages without it are supervisor-only. */
export const PROT_USER = 8;

const TLB_SIZE = 256;

/** Where peek and contentOf read an untouched file page (made once: a host page touched per call would cost a fault each). */
const SCRATCH = new Uint8Array(PAGE_SIZE);

export class Page {
  /** The bytes (replaced, not changed, when a frozen page is first written: see frozen). */
  u8: Uint8Array;
  dv: DataView;
  /** Bumped whenever the bytes of a page holding decoded code change. */
  gen = 0;
  /** Decoded blocks refer to this page (so stores must bump gen). */
  hasCode = false;
  /** Page tables that hold this page: more than one after a fork, until one side writes it (copy on write). */
  refs = 1;
  /** The page of a MAP_SHARED mapping: every owner sees every write (no copy on write). */
  shared = false;
  /**
   * The bytes belong to a store of shared pages (the page cache, a System V
   * shm segment) that counts them against the machine's memory itself: the
   * page is not charged when mapped nor uncharged when its last mapping goes.
   */
  borrowed = false;
  /**
   * The bytes are a snapshot's too (src/machine/snapshot.ts): the first
   * write gives the page bytes of its own (thaw), whoever holds it in this
   * machine; the page itself, its holders and its accounting are unchanged.
   */
  frozen = false;
  constructor(
    readonly pn: number,
    public prot: number,
    /** The bytes, when they are another's too (a page of the page cache, which every shared mapping of it views). */
    bytes?: ArrayBuffer,
  ) {
    this.u8 = new Uint8Array(bytes ?? new ArrayBuffer(PAGE_SIZE));
    this.dv = new DataView(this.u8.buffer);
  }

  /** Bytes of its own for a frozen page, before a write. */
  thaw(): void {
    this.u8 = this.u8.slice();
    this.dv = new DataView(this.u8.buffer);
    this.frozen = false;
  }

  /**
   * A snapshot's copy of the page: the same bytes, frozen on both sides
   * (copy on write); a MAP_SHARED page's bytes, which every owner writes in
   * place, are copied now (once per buffer: the page cache's and every
   * mapping's copy stay one).
   */
  [CLONE](c: Cloner): Page {
    if (this.shared) {
      const q = c.note(this, new Page(this.pn, this.prot, c.clone(this.u8.buffer as ArrayBuffer)));
      q.shared = true;
      q.borrowed = this.borrowed;
      q.refs = this.refs;
      return q;
    }
    this.frozen = true;
    // a page unchanged since the last snapshot (the same frozen bytes: a write would have thawed them) is that snapshot's
    // copy: snapshots never change, so they share it, and a snapshot holds only what changed since the one before
    const last = this.lastSnapshot;
    if (c.mode === 'snapshot' && last !== null && last.u8.buffer === this.u8.buffer && last.prot === this.prot && last.refs === this.refs) return c.note(this, last);
    const q = c.note(this, new Page(this.pn, this.prot, this.u8.buffer as ArrayBuffer));
    q.frozen = true;
    q.refs = this.refs;
    if (c.mode === 'snapshot') this.lastSnapshot = q;
    return q;
  }

  /** The copy the last snapshot took of this page (Page's CLONE), which the next one shares if the page is unchanged. */
  lastSnapshot: Page | null = null;
}

/** Kinds of access a watched page reports (Memory.setWatch). */
export const WATCH_READ = 1;
export const WATCH_WRITE = 2;

/** Debugger watchpoints as Memory sees them: which pages, and whom to tell. */
export interface MemoryWatch {
  /** Page number -> WATCH_READ | WATCH_WRITE. */
  pages: Map<number, number>;
  /** A guest access (data read or write) at addr touched a watched page. */
  hit(addr: number, write: boolean): void;
}

/**
 * Who pays for pages (the machine's memory, src/kernel/physmem.ts): told of
 * each page created (first touch, or the copy a write to a shared page
 * makes), which it may refuse with a CpuFault, and of pages no address space
 * holds any more.
 */
export interface PageAccount {
  charge(pn: number): void;
  uncharge(pages: number): void;
  /** A frozen page got bytes of its own (Page.thaw): the old ones are a snapshot's alone now. */
  thawed(): void;
}

/** Memory's fields a clone does not copy (caches and listeners: see Memory's CLONE). */
const MEMORY_TRANSIENT: ReadonlySet<PropertyKey> = new Set(['rt', 'wt', 'xt', 'otherTlb', 'watch', 'onCodeWrite', 'reads']);

/** Pages per page table (2 MiB of address space). */
const TABLE_PAGES = 512;

/** 512 page slots; after a fork, the address spaces that share it count in refs until one changes it. */
class PageTable {
  readonly slots: (Page | undefined)[] = new Array<Page | undefined>(TABLE_PAGES).fill(undefined);
  refs = 1;
  /** Pages present. */
  count = 0;

  /**
   * A clone's table: only the slots that hold a page are cloned (a snapshot
   * is taken every million instructions: the generic clone visited all 512);
   * a table whose pages are all the last snapshot's copies (Page's CLONE) is
   * that snapshot's table, shared.
   */
  [CLONE](c: Cloner): PageTable {
    const from = this.slots;
    const last = c.mode === 'snapshot' ? this.lastSnapshot : null;
    let same = last !== null && last.refs === this.refs && last.count === this.count;
    for (let i = 0; i < TABLE_PAGES; i++) {
      const p = from[i];
      if (p === undefined) continue;
      const q = c.clone(p);
      if (same && q !== last!.slots[i]) same = false;
    }
    // (no cycle runs through a table: its pages are cloned before it is noted; cloned again below, they are the same copies)
    if (same) return c.note(this, last!);
    const t = c.note(this, new PageTable());
    t.refs = this.refs;
    t.count = this.count;
    const to = t.slots;
    for (let i = 0; i < TABLE_PAGES; i++) {
      const p = from[i];
      if (p !== undefined) to[i] = c.clone(p);
    }
    if (c.mode === 'snapshot') this.lastSnapshot = t;
    return t;
  }

  /** The copy the last snapshot took of this table, which the next one shares if nothing in it changed. */
  lastSnapshot: PageTable | null = null;
}

/**
 * The TLBs of every snapshot's address spaces, one set for all: a snapshot
 * never runs (restoring one clones it again, with TLBs of its own), so what
 * they hold is never used.
 */
const NO_TLB: (Page | null)[] = new Array<Page | null>(TLB_SIZE).fill(null);

/**
 * Where the bytes of a file mapping's pages come from when they are first
 * touched (demand paging: a mapping costs nothing until then). Sources are
 * shared by every address space, fork and snapshot that maps them (they
 * hold no state of the machine: mark them sharedOnClone).
 */
export interface PageSource {
  /** Read the bytes at file offset `off` into `into` (zeroed: a page, or a run of pages); bytes past the file's end stay zero. */
  fill(off: number, into: Uint8Array): void;
}

/** A mapped range of pages [s, e) (page numbers) with one protection. */
interface Region {
  s: number;
  e: number;
  prot: number;
  /** A file mapping's pages are read from src at first touch, page s at file offset `off`. */
  src?: PageSource;
  off?: number;
}

/** The piece [s, e) of region r, with what it reads from (a file mapping's offset moves with its start). */
function piece(r: Region, s: number, e: number, prot = r.prot): Region {
  return r.src === undefined ? { s, e, prot } : { s, e, prot, src: r.src, off: r.off! + (s - r.s) * PAGE_SIZE };
}

export class Memory {
  /** Page tables by table number (page number / 512): the pages that have been touched; other mapped pages read as zero until then. */
  private dir = new Map<number, PageTable>();
  /** Pages this address space holds (touched), its own and those it shares since a fork. */
  pageCount = 0;
  /** Mapped ranges, sorted and disjoint. */
  private regions: Region[] = [];
  /** High 32 bits of the last read64 (avoids allocating a pair). */
  hi = 0;
  /** Current privilege level: 3 (user) or 0 (supervisor). */
  private cpl = 3;
  /**
   * The TLBs of the current privilege level. Each level keeps its own set
   * (user: index 3, supervisor: index 0), so that a syscall's two switches
   * cost a swap rather than a flush and a refill: an entry only ever holds a
   * page its own level may access, and flushTlb empties both. The read and
   * write TLBs are read by compiled blocks too (jit/compile.ts), which do
   * rpage's and wpage's fast path inline and call them on a miss.
   */
  rt: (Page | null)[] = new Array(TLB_SIZE).fill(null);
  wt: (Page | null)[] = new Array(TLB_SIZE).fill(null);
  private xt: (Page | null)[] = new Array(TLB_SIZE).fill(null);
  /** The other level's TLBs (read, write, fetch), swapped in by setCpl. */
  private otherTlb: (Page | null)[][] = [new Array(TLB_SIZE).fill(null), new Array(TLB_SIZE).fill(null), new Array(TLB_SIZE).fill(null)];
  /** Called when bytes of a page with decoded code change. */
  onCodeWrite: ((page: Page) => void) | null = null;
  /**
   * Debugger watchpoints (gdb stub), null when none are set. Pages in
   * watch.pages (page number -> WATCH_READ | WATCH_WRITE) are kept out of the
   * TLB of that kind, so every guest access to them takes the slow path of
   * rpage/wpage, which reports it to watch.hit. The fast paths never look here.
   */
  watch: MemoryWatch | null = null;
  /** The page accounting (null: pages are free). */
  account: PageAccount | null = null;
  /**
   * Where pages read are noted (null: nowhere): each page a read TLB fill
   * finds, so after a flush, every page read since (reverse execution's
   * summary of a stretch of history: a read watchpoint's page that no
   * stretch read cannot have stopped there). Costs the slow path only.
   */
  reads: Set<number> | null = null;
  /** The pages every address space shares (the guest kernel's), consulted where this one maps nothing. */
  private global: Memory | null = null;
  /** Tasks running in this address space (mm_users): a vfork child and its parent share one. */
  users = 1;

  /**
   * A snapshot's (or a restored machine's) copy of the address space: the
   * same tables and pages, cloned (Page's CLONE: their bytes shared and
   * frozen); no TLB entries, no watch (the debugger's are applied again) and
   * no code-write listener (its CPU sets one). The original's TLBs are
   * emptied: a page now frozen must not be written through an entry filled
   * before.
   */
  [CLONE](c: Cloner): Memory {
    // a restored copy is made by the constructor (the engine's code optimized for address spaces stays good for it: clone.ts's
    // shapedOnClone), with its empty TLBs; a snapshot, never run, is the fields alone, and its TLBs are NO_TLB
    const m = c.note(this, c.mode === 'restore' ? new Memory() : (Object.create(Memory.prototype) as Memory));
    c.fields(this, m, MEMORY_TRANSIENT);
    if (c.mode === 'snapshot') {
      m.rt = m.wt = m.xt = NO_TLB;
      m.otherTlb = [NO_TLB, NO_TLB, NO_TLB];
      m.watch = null;
      m.onCodeWrite = null;
      m.reads = null;
      this.flushTlb();
    }
    return m;
  }

  /** Share the pages of `store` (the guest kernel's image and task stacks) wherever this address space maps nothing. */
  shareGlobal(store: Memory): void {
    this.global = store;
    this.flushTlb();
  }

  /**
   * The child's address space at fork: the same mappings and, copy on
   * write, the same pages; the kernel's global pages stay global.
   */
  fork(): Memory {
    const child = new Memory();
    child.regions = this.regions.map((r) => ({ ...r }));
    child.global = this.global;
    child.account = this.account;
    child.reads = this.reads;
    for (const [t, tbl] of this.dir) {
      tbl.refs++;
      child.dir.set(t, tbl);
    }
    child.pageCount = this.pageCount;
    // a page now shared must never be written through a TLB entry filled before
    this.flushTlb();
    return child;
  }

  /** The address space is gone (exit, exec): its pages that no other holds are freed. */
  release(): void {
    let freed = 0;
    for (const tbl of this.dir.values()) {
      if (--tbl.refs > 0) continue;
      for (const p of tbl.slots) if (p !== undefined && --p.refs === 0 && !p.borrowed) freed++;
    }
    this.dir.clear();
    this.pageCount = 0;
    this.regions = [];
    this.flushTlb();
    if (freed > 0) this.account?.uncharge(freed);
  }

  /** The page at pn if it has been touched (no page is made), own or shared. */
  touchedPage(pn: number): Page | undefined {
    const t = Math.floor(pn / TABLE_PAGES);
    return this.dir.get(t)?.slots[pn - t * TABLE_PAGES];
  }

  /**
   * The bytes page pn holds now, its own or the kernel's global one (none
   * made; undefined: never touched). A frozen page's bytes are replaced at
   * its first write (Page.thaw), so the same bytes at two instants of one
   * machine's history mean that nothing wrote the page between them.
   */
  bytesOf(pn: number): ArrayBufferLike | undefined {
    return (this.touchedPage(pn) ?? (this.regionOf(pn) === undefined ? this.global?.touchedPage(pn) : undefined))?.u8.buffer;
  }

  hasPage(pn: number): boolean {
    return this.touchedPage(pn) !== undefined;
  }

  /** Numbers of the touched pages in [s, e) (all with no range), ascending. */
  pageNumbers(s = -Infinity, e = Infinity): number[] {
    const out: number[] = [];
    for (const [t, tbl] of [...this.dir].sort((a, b) => a[0] - b[0])) {
      const base = t * TABLE_PAGES;
      if (base + TABLE_PAGES <= s || base >= e) continue;
      tbl.slots.forEach((p, i) => {
        if (p !== undefined && base + i >= s && base + i < e) out.push(base + i);
      });
    }
    return out;
  }

  /**
   * The table holding pn, this address space's own: a table shared since a
   * fork is copied first (its pages then count one more holder). Made if
   * missing and `make`.
   */
  private ownTable(pn: number, make: boolean): PageTable | undefined {
    const t = Math.floor(pn / TABLE_PAGES);
    let tbl = this.dir.get(t);
    if (tbl === undefined) {
      if (!make) return undefined;
      tbl = new PageTable();
      this.dir.set(t, tbl);
    } else if (tbl.refs > 1) {
      const copy = new PageTable();
      for (let i = 0; i < TABLE_PAGES; i++) {
        const p = tbl.slots[i];
        if (p !== undefined) {
          p.refs++;
          copy.slots[i] = p;
        }
      }
      copy.count = tbl.count;
      tbl.refs--;
      this.dir.set(t, copy);
      tbl = copy;
    }
    return tbl;
  }

  private setPage(pn: number, p: Page): void {
    const tbl = this.ownTable(pn, true)!;
    const i = pn - Math.floor(pn / TABLE_PAGES) * TABLE_PAGES;
    const old = tbl.slots[i];
    tbl.slots[i] = p;
    if (old === undefined) {
      tbl.count++;
      this.pageCount++;
    }
  }

  /** Drop the page at pn from this address space; true if no address space holds it any more. */
  private dropPage(pn: number): boolean {
    const tbl = this.ownTable(pn, false);
    if (tbl === undefined) return false;
    const i = pn - Math.floor(pn / TABLE_PAGES) * TABLE_PAGES;
    const p = tbl.slots[i];
    if (p === undefined) return false;
    tbl.slots[i] = undefined;
    this.pageCount--;
    if (--tbl.count === 0) this.dir.delete(Math.floor(pn / TABLE_PAGES));
    return --p.refs === 0 && !p.borrowed;
  }

  /** The page is this address space's alone: its table is not shared, and no other table holds it. */
  private exclusive(p: Page): boolean {
    if (p.refs > 1) return false;
    const t = Math.floor(p.pn / TABLE_PAGES);
    return (this.dir.get(t)?.refs ?? 1) === 1;
  }

  /**
   * Give this address space its own copy of a page it shares (copy on
   * write). Blocks decoded from the shared page check their Page object, so
   * they are rebuilt from the copy; the CPU ends its block in case the
   * write changes code it is running (as any write to code does).
   */
  private unshare(p: Page, copy = true): Page {
    this.ownTable(p.pn, true);
    if (p.refs === 1) return p; // its table was the only thing shared
    if (copy) this.account?.charge(p.pn);
    // a shared page keeps its bytes (every owner sees every write) and gets a Page of its own, for its own protection
    const q = copy ? new Page(p.pn, p.prot) : new Page(p.pn, p.prot, p.u8.buffer as ArrayBuffer);
    q.shared = !copy;
    q.borrowed = !copy && p.borrowed;
    if (copy) q.u8.set(p.u8);
    p.refs--;
    this.setPage(p.pn, q);
    this.dropTlb(p.pn);
    if (p.hasCode) {
      this.epoch++;
      this.onCodeWrite?.(p);
    }
    return q;
  }

  private thaw(p: Page): void {
    p.thaw();
    this.account?.thawed();
  }

  /** Make the pages of [addr, addr+len) that exist shared as they are with every address space forked from here (MAP_SHARED). */
  shareRange(addr: number, len: number): void {
    const [s, e] = Memory.range(addr, len);
    for (let pn = s; pn < e; pn++) {
      const p = this.page(pn);
      if (p) p.shared = true;
    }
  }

  setCpl(cpl: number): void {
    if (cpl !== this.cpl) {
      this.cpl = cpl;
      const o = this.otherTlb;
      this.otherTlb = [this.rt, this.wt, this.xt];
      this.rt = o[0];
      this.wt = o[1];
      this.xt = o[2];
    }
  }

  getCpl(): number {
    return this.cpl;
  }

  /** Install or remove (null) the debugger's watched pages. */
  setWatch(w: MemoryWatch | null): void {
    this.watch = w;
    this.flushTlb();
  }

  /** Bumped on every change of mappings or protections (invalidates block links; run.ts checks the privilege level apart). */
  epoch = 0;

  flushTlb(): void {
    this.epoch++;
    this.rt.fill(null);
    this.wt.fill(null);
    this.xt.fill(null);
    for (const t of this.otherTlb) t.fill(null);
  }

  // ---- mapping (used by the kernel and the loader) ----

  /** Cut [s, e) out of the region list; returns the removed pieces. */
  private cut(s: number, e: number): Region[] {
    const keep: Region[] = [];
    const removed: Region[] = [];
    for (const r of this.regions) {
      if (r.e <= s || r.s >= e) {
        keep.push(r);
        continue;
      }
      if (r.s < s) keep.push(piece(r, r.s, s));
      if (r.e > e) keep.push(piece(r, e, r.e));
      removed.push(piece(r, Math.max(r.s, s), Math.min(r.e, e)));
    }
    this.regions = keep;
    return removed;
  }

  private insert(r: Region): void {
    this.regions.push(r);
    this.regions.sort((a, b) => a.s - b.s);
  }

  private static range(addr: number, len: number): [number, number] {
    return [Math.floor(addr / PAGE_SIZE), Math.floor((addr + len - 1) / PAGE_SIZE) + 1];
  }

  /**
   * Map [addr, addr+len) with prot; pages already there keep their bytes
   * and take prot (untouched pages of a file mapping there still read from
   * its file), the rest reads as zeros.
   */
  map(addr: number, len: number, prot: number): void {
    if (len <= 0) return;
    const [s, e] = Memory.range(addr, len);
    let a = s;
    for (const r of this.cut(s, e)) {
      if (r.src === undefined) continue;
      if (r.s > a) this.insert({ s: a, e: r.s, prot });
      this.insert(piece(r, r.s, r.e, prot));
      a = r.e;
    }
    if (a < e) this.insert({ s: a, e, prot });
    this.forPages(s, e, (p) => this.setProt(p, prot));
    this.flushTlb();
  }

  /**
   * Map [addr, addr+len) afresh (what was there is unmapped) to the bytes of
   * a file from offset off, each page read from src when it is first
   * touched, by the guest (read, write, fetch) or a debugger's write.
   */
  mapFile(addr: number, len: number, prot: number, src: PageSource, off: number): void {
    if (len <= 0) return;
    this.unmap(addr, len);
    const [s, e] = Memory.range(addr, len);
    this.insert({ s, e, prot, src, off });
    this.flushTlb();
  }

  /** The file page an untouched page pn would be read from, if it is one of a file mapping's (this address space's). */
  private fileOf(pn: number): Region | undefined {
    const r = this.regionOf(pn);
    return r?.src === undefined ? undefined : r;
  }

  /** A page's protection is its address space's: a shared page is copied before it changes. */
  private setProt(p: Page, prot: number): void {
    if (p.prot === prot) return;
    if (!this.exclusive(p)) p = this.unshare(p, !p.shared);
    p.prot = prot;
  }

  /**
   * Map the page at addr (already mapped, with prot) to bytes another owns:
   * a page of the page cache, so that every shared mapping of that file page,
   * here or in another address space, is the same bytes. Forked address
   * spaces share it as it is.
   */
  mapBytes(addr: number, prot: number, bytes: ArrayBuffer): void {
    const pn = Math.floor(addr / PAGE_SIZE);
    if (this.dropPage(pn)) this.account?.uncharge(1);
    const p = new Page(pn, prot, bytes);
    p.shared = true;
    p.borrowed = true;
    this.setPage(pn, p);
    this.dropTlb(pn);
  }

  /** Map fresh zeroed pages, discarding any that were there. */
  mapFresh(addr: number, len: number, prot: number): void {
    this.unmap(addr, len);
    this.map(addr, len, prot);
  }

  unmap(addr: number, len: number): void {
    if (len <= 0) return;
    const [s, e] = Memory.range(addr, len);
    this.cut(s, e);
    let freed = 0;
    this.forPages(s, e, (p) => {
      if (p.hasCode) {
        p.gen++;
        this.onCodeWrite?.(p);
      }
      if (this.dropPage(p.pn)) freed++;
    });
    this.flushTlb();
    if (freed > 0) this.account?.uncharge(freed);
  }

  /** Change the protection of the mapped parts of [addr, addr+len). */
  protect(addr: number, len: number, prot: number): void {
    if (len <= 0) return;
    const [s, e] = Memory.range(addr, len);
    for (const r of this.cut(s, e)) this.insert(piece(r, r.s, r.e, prot));
    this.forPages(s, e, (p) => this.setProt(p, prot));
    this.flushTlb();
  }

  /** fn for each touched page of [s, e) (page numbers), in order; fn may change the tables. */
  forPages(s: number, e: number, fn: (p: Page) => void): void {
    for (const pn of this.pageNumbers(s, e)) {
      const p = this.touchedPage(pn);
      if (p) fn(p);
    }
  }

  /** Protection of the page holding addr, or -1 if unmapped. */
  protAt(addr: number): number {
    const pn = Math.floor(addr / PAGE_SIZE);
    const r = this.regionOf(pn) ?? this.global?.regionOf(pn);
    return r ? r.prot : -1;
  }

  private regionOf(pn: number): Region | undefined {
    const rs = this.regions;
    let lo = 0, hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rs[mid];
      if (pn < r.s) hi = mid - 1;
      else if (pn >= r.e) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  /** Mapped ranges as [start address, end address, prot], the global ones included. */
  mappings(): [number, number, number][] {
    const rs = this.global ? [...this.regions, ...this.global.regions].sort((a, b) => a.s - b.s) : this.regions;
    return rs.map((r) => [r.s * PAGE_SIZE, r.e * PAGE_SIZE, r.prot]);
  }

  isMapped(addr: number): boolean {
    return this.protAt(addr) >= 0;
  }

  /** The page holding addr, created (zeroed) on first touch; undefined if unmapped. */
  pageAt(addr: number): Page | undefined {
    return this.page(Math.floor(addr / PAGE_SIZE));
  }

  private page(pn: number): Page | undefined {
    let p = this.touchedPage(pn);
    if (p === undefined) {
      const r = this.regionOf(pn);
      if (r === undefined) return this.global?.page(pn);
      this.account?.charge(pn);
      p = new Page(pn, r.prot);
      // first touch of a file mapping's page: its bytes now (page faults are the slow path already: the TLBs hold only touched pages)
      if (r.src !== undefined) r.src.fill(r.off! + (pn - r.s) * PAGE_SIZE, p.u8);
      this.setPage(pn, p);
    }
    return p;
  }

  /** Forget page pn in every TLB of both levels. */
  private dropTlb(pn: number): void {
    const k = pn & (TLB_SIZE - 1);
    for (const t of [this.rt, this.wt, this.xt, ...this.otherTlb]) if (t[k]?.pn === pn) t[k] = null;
  }

  // ---- TLB fills (slow paths) ----

  private fault(addr: number, p: Page | undefined, code: number): never {
    if (this.cpl === 3) code |= PF_USER;
    if (p) code |= PF_PRESENT;
    throw new CpuFault(Vector.PF, addr, code);
  }

  private allowed(p: Page, need: number): boolean {
    if (this.cpl === 3 && (p.prot & PROT_USER) === 0) return false;
    return (p.prot & need) !== 0;
  }

  /** Page for a data read, faulting if the page is missing or not readable. */
  rpage(addr: number): Page {
    const pn = Math.floor(addr / PAGE_SIZE);
    const e = this.rt[pn & (TLB_SIZE - 1)];
    if (e !== null && e.pn === pn) return e;
    const p = this.page(pn);
    if (p === undefined || !this.allowed(p, PROT_READ)) this.fault(addr, p, 0);
    if (this.reads !== null) this.reads.add(pn);
    if (this.watch !== null && ((this.watch.pages.get(pn) ?? 0) & WATCH_READ) !== 0) {
      this.watch.hit(addr, false);
      return p; // not cached: the next access reports too
    }
    this.rt[pn & (TLB_SIZE - 1)] = p;
    return p;
  }

  /** Page for a data write. Pages with code are never cached here. */
  wpage(addr: number): Page {
    const pn = Math.floor(addr / PAGE_SIZE);
    const e = this.wt[pn & (TLB_SIZE - 1)];
    if (e !== null && e.pn === pn) return e;
    let p = this.page(pn);
    if (p === undefined || !this.allowed(p, PROT_WRITE)) this.fault(addr, p, PF_WRITE);
    if (!p.shared && !this.exclusive(p)) p = this.unshare(p);
    if (p.frozen) this.thaw(p);
    if (p.hasCode) {
      p.gen++;
      p.hasCode = false;
      this.onCodeWrite?.(p);
    }
    if (this.watch !== null && ((this.watch.pages.get(pn) ?? 0) & WATCH_WRITE) !== 0) {
      this.watch.hit(addr, true);
      return p; // not cached: the next access reports too
    }
    this.wt[pn & (TLB_SIZE - 1)] = p;
    return p;
  }

  /** Page for an instruction fetch; marks it as holding code. */
  xpage(addr: number): Page {
    const pn = Math.floor(addr / PAGE_SIZE);
    const e = this.xt[pn & (TLB_SIZE - 1)];
    if (e !== null && e.pn === pn && e.hasCode) return e;
    const p = this.page(pn);
    if (p === undefined || !this.allowed(p, PROT_EXEC)) this.fault(addr, p, PF_FETCH);
    if (!p.hasCode) {
      p.hasCode = true;
      // out of both levels' write TLBs: every store to it must bump its generation
      const k = pn & (TLB_SIZE - 1);
      if (this.wt[k] === p) this.wt[k] = null;
      if (this.otherTlb[1][k] === p) this.otherTlb[1][k] = null;
    }
    this.xt[pn & (TLB_SIZE - 1)] = p;
    return p;
  }

  // ---- guest accesses (permission checked) ----

  read8(addr: number): number {
    return this.rpage(addr).u8[addr & PAGE_MASK];
  }

  read16(addr: number): number {
    const off = addr & PAGE_MASK;
    if (off <= PAGE_SIZE - 2) return this.rpage(addr).dv.getUint16(off, true);
    return this.read8(addr) | (this.read8(addr + 1) << 8);
  }

  /** Signed 32-bit value. */
  read32(addr: number): number {
    const off = addr & PAGE_MASK;
    if (off <= PAGE_SIZE - 4) return this.rpage(addr).dv.getInt32(off, true);
    return this.read16(addr) | (this.read16(addr + 2) << 16);
  }

  /** Returns the low 32 bits (signed); the high 32 bits are left in this.hi. */
  read64(addr: number): number {
    const off = addr & PAGE_MASK;
    if (off <= PAGE_SIZE - 8) {
      const p = this.rpage(addr);
      this.hi = p.dv.getInt32(off + 4, true);
      return p.dv.getInt32(off, true);
    }
    // Check both pages before producing a value so a fault is precise.
    this.rpage(addr + 7);
    const lo = this.read32(addr);
    this.hi = this.read32(addr + 4);
    return lo;
  }

  write8(addr: number, v: number): void {
    this.wpage(addr).u8[addr & PAGE_MASK] = v;
  }

  write16(addr: number, v: number): void {
    const off = addr & PAGE_MASK;
    if (off <= PAGE_SIZE - 2) {
      this.wpage(addr).dv.setUint16(off, v, true);
      return;
    }
    this.wpage(addr + 1);
    this.write8(addr, v);
    this.write8(addr + 1, v >> 8);
  }

  write32(addr: number, v: number): void {
    const off = addr & PAGE_MASK;
    if (off <= PAGE_SIZE - 4) {
      this.wpage(addr).dv.setInt32(off, v, true);
      return;
    }
    this.wpage(addr + 3);
    for (let i = 0; i < 4; i++) this.write8(addr + i, v >> (i * 8));
  }

  write64(addr: number, lo: number, hi: number): void {
    const off = addr & PAGE_MASK;
    if (off <= PAGE_SIZE - 8) {
      const p = this.wpage(addr);
      p.dv.setInt32(off, lo, true);
      p.dv.setInt32(off + 4, hi, true);
      return;
    }
    this.wpage(addr);
    this.wpage(addr + 7);
    this.write32(addr, lo);
    this.write32(addr + 4, hi);
  }

  /** Fetch one instruction byte (execute permission). */
  fetch8(addr: number): number {
    return this.xpage(addr).u8[addr & PAGE_MASK];
  }

  // ---- bulk and debugger access ----

  /** Copy guest bytes out with the guest's read permission (for syscalls). */
  readBytes(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const off = a & PAGE_MASK;
      const n = Math.min(len - done, PAGE_SIZE - off);
      out.set(this.rpage(a).u8.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  /** Copy bytes into guest memory with the guest's write permission. */
  writeBytes(addr: number, data: Uint8Array): void {
    // Probe every page first so a fault leaves memory unchanged.
    for (let a = addr; a < addr + data.length; a = (Math.floor(a / PAGE_SIZE) + 1) * PAGE_SIZE) this.wpage(a);
    if (data.length > 0) this.wpage(addr + data.length - 1);
    let done = 0;
    while (done < data.length) {
      const a = addr + done;
      const off = a & PAGE_MASK;
      const n = Math.min(data.length - done, PAGE_SIZE - off);
      this.wpage(a).u8.set(data.subarray(done, done + n), off);
      done += n;
    }
  }

  /** Read a NUL-terminated string (at most max bytes). */
  readCString(addr: number, max = 4096): Uint8Array {
    const bytes: number[] = [];
    for (let i = 0; i < max; i++) {
      const b = this.read8(addr + i);
      if (b === 0) return Uint8Array.from(bytes);
      bytes.push(b);
    }
    return Uint8Array.from(bytes);
  }

  /**
   * Debugger read: sees through page permissions like ptrace. Returns how many
   * bytes could be read before the first unmapped page.
   */
  peek(addr: number, out: Uint8Array): number {
    let done = 0;
    while (done < out.length) {
      const a = addr + done;
      const pn = Math.floor(a / PAGE_SIZE);
      // a file page not yet touched is read from the file without making it (as gdb's reads of a library's text)
      const u8 = this.contentOf(pn) ?? this.page(pn)?.u8;
      if (!u8) break;
      const off = a & PAGE_MASK;
      const n = Math.min(out.length - done, PAGE_SIZE - off);
      out.set(u8.subarray(off, off + n), done);
      done += n;
    }
    return done;
  }

  /**
   * What page pn reads as, without making it: a touched page's bytes, an
   * untouched file page's (read now into a scratch page, valid until the
   * next call), or undefined for zeros (an untouched anonymous page, or
   * nothing mapped). For scans of code that must not fault every page in
   * (zpoline's sweep), and a debugger's reads (peek).
   */
  contentOf(pn: number): Uint8Array | undefined {
    const p = this.touchedPage(pn);
    if (p !== undefined) return p.u8;
    const r = this.fileOf(pn);
    if (r === undefined) return undefined;
    SCRATCH.fill(0);
    r.src!.fill(r.off! + (pn - r.s) * PAGE_SIZE, SCRATCH);
    return SCRATCH;
  }

  /**
   * Copy what [addr, addr+out.length) reads as into out without making a
   * page: touched pages' bytes, untouched file pages' from their file (a run
   * of them in one read), zeros elsewhere (untouched anonymous memory, or
   * nothing mapped). For scans of code (zpoline's sweep).
   */
  contentInto(addr: number, out: Uint8Array): void {
    let done = 0;
    while (done < out.length) {
      const a = addr + done;
      const pn = Math.floor(a / PAGE_SIZE);
      const off = a - pn * PAGE_SIZE;
      let n = Math.min(out.length - done, PAGE_SIZE - off);
      const p = this.touchedPage(pn);
      if (p !== undefined) out.set(p.u8.subarray(off, off + n), done);
      else {
        const r = this.fileOf(pn);
        if (r !== undefined) {
          // the untouched pages after it in the same mapping, read with it
          let last = pn;
          while (last + 1 < r.e && done + n < out.length && this.touchedPage(last + 1) === undefined) {
            last++;
            n = Math.min(out.length - done, (last + 1) * PAGE_SIZE - a);
          }
          const into = out.subarray(done, done + n);
          into.fill(0);
          r.src!.fill(r.off! + (pn - r.s) * PAGE_SIZE + off, into);
        } else out.fill(0, done, done + n);
      }
      done += n;
    }
  }

  /** Numbers of the pages in [s, e) that may hold other than zeros (touched, or untouched pages of a file mapping), ascending. */
  contentPages(s: number, e: number): number[] {
    const out = this.pageNumbers(s, e);
    let files = false;
    for (const r of this.regions) if (r.src !== undefined && r.e > s && r.s < e) files = true;
    if (!files) return out;
    const all = new Set(out);
    for (const r of this.regions) {
      if (r.src === undefined || r.e <= s || r.s >= e) continue;
      for (let pn = Math.max(r.s, s); pn < Math.min(r.e, e); pn++) all.add(pn);
    }
    return [...all].sort((a, b) => a - b);
  }

  /** Debugger write: ignores permissions; invalidates decoded code. Returns bytes written. */
  poke(addr: number, data: Uint8Array): number {
    let done = 0;
    while (done < data.length) {
      const a = addr + done;
      let p = this.page(Math.floor(a / PAGE_SIZE));
      if (!p) break;
      if (!p.shared && !this.exclusive(p)) p = this.unshare(p);
      if (p.frozen) this.thaw(p);
      if (p.hasCode) {
        p.gen++;
        this.onCodeWrite?.(p);
      }
      const off = a & PAGE_MASK;
      const n = Math.min(data.length - done, PAGE_SIZE - off);
      p.u8.set(data.subarray(done, done + n), off);
      done += n;
    }
    return done;
  }
}
