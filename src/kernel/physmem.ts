/**
 * The emulated machine's physical memory: guest pages are host memory (a
 * Page of 4 KiB plus its objects) from the moment they are first touched, so
 * that is what is counted, against the kernel-wide limit (--mem-limit). A
 * program that touches more is killed as Linux's OOM killer kills (SIGKILL),
 * before the host process runs out of memory itself.
 *
 * Memory (src/cpu) tells its PageAccount of each page it creates (first
 * touch, or the copy a write to a page shared since a fork makes) and of
 * pages no address space holds any more; pages shared copy-on-write are
 * counted once. The same observation tells the MM how far down the stack
 * has grown.
 */
import type { Memory, PageAccount } from '../cpu/memory.js';
import { CpuFault, PF_USER, PF_WRITE, Vector } from '../cpu/fault.js';
import { PAGE_SIZE } from '../cpu/memory.js';
import { RLIM_INFINITY, hostRlimits, hostVmSize } from './host.js';

/** Host bytes one guest page costs, measured on Node 20: 4 KiB of data and ~500 bytes of objects. */
export const PAGE_COST = 4608;
/**
 * Past the limit, the page that crossed it and the rest of the instruction
 * (a `rep stos` over gigabytes is one instruction) may still materialize up
 * to this much; beyond, the access faults, so the overshoot is bounded.
 */
const OVERSHOOT = 64 * 1024 * 1024;

/** --mem-limit's default when the host sets no lower bound: 2 GiB of guest pages. */
export const DEFAULT_MEM_LIMIT = 2 * 1024 * 1024 * 1024;
/**
 * Host address space a guest page takes, measured on Node 20: VmPeak grows by
 * ~1.2 bytes per guest byte touched (the page, its objects, malloc's arenas).
 */
const PAGE_VIRTUAL_COST = 5 * 1024;
/**
 * Address space Node takes beyond its VmSize at this point before the
 * program's pages count (modules, compiled code, heap growth): measured
 * ~200 MiB; under `ulimit -v 2G` Node survives 800 MiB of guest pages and
 * fails at 1000 MiB, and this leaves a margin below.
 */
const NODE_HEADROOM = 320 * 1024 * 1024;
/** The least memory a program gets (a static hello world touches ~100 KiB). */
const MIN_MEM_LIMIT = 8 * 1024 * 1024;

/**
 * --mem-limit's default: 2 GiB of guest pages, or less when the host process
 * runs under an address-space limit (ulimit -v), so that Node, which needs
 * its own share first, never fails an allocation (std::bad_alloc) because of
 * the guest.
 */
export function defaultMemLimit(): number {
  const as = hostRlimits()?.[9][0] ?? RLIM_INFINITY;
  if (as === RLIM_INFINITY) return DEFAULT_MEM_LIMIT;
  const room = Number(as) - hostVmSize() - NODE_HEADROOM;
  const pages = Math.floor(room / PAGE_VIRTUAL_COST);
  return Math.max(Math.min(pages * PAGE_SIZE, DEFAULT_MEM_LIMIT), MIN_MEM_LIMIT);
}

export class PhysMem {
  /** Bytes of guest pages allowed (host bytes = pages * PAGE_COST): Infinity for none. */
  limit = Infinity;
  /** Guest pages in existence, in every Memory attached. */
  pages = 0;
  /** Frozen pages given bytes of their own since the start (each leaves its old bytes to the snapshots: src/machine/snapshot.ts). */
  thawed = 0;

  /** Whether one more page stays within the limit. */
  fits(pages = 1): boolean {
    return (this.pages + pages) * PAGE_SIZE <= this.limit;
  }

  /**
   * Pages the kernel keeps for itself (a shm segment's, a semaphore array's,
   * queued messages), counted as guest pages are: false, and nothing
   * counted, when they would pass the limit (the call fails with ENOMEM).
   */
  reserve(pages: number): boolean {
    if (!this.fits(pages)) return false;
    this.pages += pages;
    return true;
  }

  /** Pages reserve() counted are free again. */
  unreserve(pages: number): void {
    this.pages -= pages;
  }

  /**
   * Count the pages `mem` creates from now on (those it shares with the
   * address space it was forked from are counted already); `owner.mm` hears
   * of each new one (the stack's growth), `owner.oom()` of the first one over
   * the limit (it is to kill the program). An object, not closures: the
   * account is part of the machine's state, which a snapshot clones.
   */
  attach(mem: Memory, owner: PageOwner | null): void {
    mem.account = new Account(this, owner);
  }
}

/** Whom an address space's pages concern: the MM that tracks the stack's growth, and what to kill when memory runs out. */
export interface PageOwner {
  mm: { touched(pn: number): void };
  oom(): void;
}

/** One address space's account with the machine's memory. */
class Account implements PageAccount {
  private killed = false;
  constructor(
    private readonly phys: PhysMem,
    private readonly owner: PageOwner | null,
  ) {}

  charge(pn: number): void {
    const phys = this.phys;
    if (!phys.fits()) {
      if (!this.killed) {
        this.killed = true;
        this.owner?.oom();
      } else if ((phys.pages + 1) * PAGE_SIZE > phys.limit + OVERSHOOT) throw new CpuFault(Vector.PF, pn * PAGE_SIZE, PF_USER | PF_WRITE);
    }
    phys.pages++;
    this.owner?.mm.touched(pn);
  }

  uncharge(pages: number): void {
    this.phys.pages -= pages;
  }

  thawed(): void {
    this.phys.thawed++;
  }
}
