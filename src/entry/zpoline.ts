/**
 * zpoline's rewrite: a linear sweep with the real decoder over executable
 * memory (the program's segments at exec, each library as it is mapped, code
 * made executable later); every true `syscall` (0F 05) or `sysenter` (0F 34)
 * becomes `call *%rax` (FF D0), the same length, so nothing moves.
 *
 * A range is swept only as far as its last 0F 05 / 0F 34 byte pair: nothing
 * after it can be a site, and a library's text is megabytes (python3's has
 * a handful of such pairs and no site at all), so this halves the work on
 * average without changing what is found.
 */
import { decode } from '../cpu/decode.js';
import { CpuFault, PF_FETCH, PF_USER, Vector } from '../cpu/fault.js';
import { PAGE_SIZE, PROT_EXEC, PROT_USER, type Memory } from '../cpu/memory.js';
import { SweepKey, lookup, store } from './sweep-cache.js';

/** `call *%rax`. */
export const CALL_RAX = Uint8Array.of(0xff, 0xd0);

/** Pages read at once by the sweep (a run of untouched file pages is one read of the file). */
const WINDOW_PAGES = 64;
const WINDOW = new Uint8Array((WINDOW_PAGES + 1) * PAGE_SIZE);

/** Just past the last 0F 05 / 0F 34 pair in [start, end), looking only at held pages (start: none). */
function sweepEnd(mem: Memory, held: number[], start: number, end: number): number {
  for (let i = held.length - 1; i >= 0; ) {
    // a window of consecutive held pages ending at held[i], and the byte after it (a pair may cross into the next page)
    let j = i;
    while (j > 0 && i - j + 1 < WINDOW_PAGES && held[j - 1] === held[j] - 1) j--;
    const base = held[j] * PAGE_SIZE;
    const len = (held[i] - held[j] + 1) * PAGE_SIZE;
    const u8 = WINDOW.subarray(0, len + 1);
    mem.contentInto(base, u8);
    const low = Math.max(start, base) - base;
    // lastIndexOf (native) finds the 0F bytes: at start-up this loop runs before V8 has compiled it, and busybox's
    // last pair is 89 KB before the end of its text
    for (let o = u8.lastIndexOf(0x0f, Math.min(end, base + len) - 1 - base); o >= low; o = o > 0 ? u8.lastIndexOf(0x0f, o - 1) : -1) {
      const a = base + o;
      if (a + 2 > end) continue;
      const b = u8[o + 1];
      if (b === 0x05 || b === 0x34) return a + 2;
    }
    i = j - 1;
  }
  return start;
}

/**
 * Rewrite the sites in [start, end) ranges; returns their addresses.
 *
 * Only the pages that hold bytes are read: a page never written (a segment's
 * memsz beyond its filesz) is zeros, which hold no site, and reading it would
 * make it, so a segment of gigabytes would fill the machine's memory at exec.
 * A file mapping's pages not yet touched are read from the file without
 * making them (Memory.contentOf): only the pages that hold a site are made,
 * by its rewrite: the decoder reads them through a view that fetches what
 * a page holds without making it (sweepView).
 * The sweep crosses such a gap as it would have: zeros decode as 2-byte
 * `add %al,(%rax)`, so it resumes at the gap's end, or one byte before it
 * when the gap's length from where it entered is odd.
 */
export function rewriteSyscallSites(mem: Memory, ranges: [number, number][]): number[] {
  const sites: number[] = [];
  // Data in text decodes as #UD here by the thousand: an expected answer,
  // whose stack trace would be most of the sweep's time (as gdb/transport.ts).
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const view = sweepView(mem);
    for (const [start, end] of ranges) sweepRange(view, start, end, sites);
  } finally {
    Error.stackTraceLimit = limit;
    held.pn = NaN;
  }
  for (const s of sites) mem.poke(s, CALL_RAX);
  return sites;
}

const ZEROS = new Uint8Array(PAGE_SIZE);

/** The cache key of the last range swept (for tests of the cache). */
export let lastKey = '';

/**
 * The sweep of one range through the cache (sweep-cache.ts): the key hashes
 * the bytes [start, stop) as held (a page never touched as zeros) and the 15
 * past stop with whether each can be fetched, all an instruction decoded
 * before stop can read.
 */
function sweepRange(mem: Memory, start: number, end: number, sites: number[]): void {
  const pages = mem.contentPages(Math.floor(start / PAGE_SIZE), Math.ceil(end / PAGE_SIZE));
  const stop = sweepEnd(mem, pages, start, end);
  if (stop <= start) return;
  const key = new SweepKey();
  for (let k = 0, a = start; a < stop; ) {
    // held pages in windows (a run of untouched file pages is one read), zeros between them as they read
    const pn = Math.floor(a / PAGE_SIZE);
    while (k < pages.length && pages[k] < pn) k++;
    let n: number;
    if (k < pages.length && pages[k] === pn) {
      let last = k;
      while (last + 1 < pages.length && last - k + 1 < WINDOW_PAGES && pages[last + 1] === pages[last] + 1) last++;
      n = Math.min((pages[last] + 1) * PAGE_SIZE, stop) - a;
      mem.contentInto(a, WINDOW.subarray(0, n));
      key.bytes(WINDOW.subarray(0, n));
    } else {
      n = Math.min((pn + 1) * PAGE_SIZE, stop) - a;
      key.bytes(ZEROS.subarray(0, n));
    }
    a += n;
  }
  const tail = new Uint8Array(30);
  const user = mem.getCpl() === 3;
  for (let k = 0; k < 15; k++) {
    const a = stop + k;
    const prot = mem.protAt(a);
    const fetchable = prot >= 0 && (prot & PROT_EXEC) !== 0 && (!user || (prot & PROT_USER) !== 0);
    tail[2 * k] = fetchable ? 1 : 0;
    tail[2 * k + 1] = fetchable ? byteAt(mem, a) : 0;
  }
  key.bytes(tail);
  const k = key.digest();
  lastKey = k;
  const cached = lookup(k);
  if (cached !== null) {
    // only what the sweep would take for a syscall or sysenter is ever rewritten, whatever the cache holds
    for (const o of cached) if (start + o < stop && isSite(mem, start + o)) sites.push(start + o);
    return;
  }
  const found: number[] = [];
  sweep(mem, start, stop, pages, found);
  store(
    k,
    found.map((a) => a - start),
  );
  for (const a of found) sites.push(a);
}

/**
 * mem as the decoder sees it in a sweep: an instruction byte is what its page holds (bytesOf), fetched with the
 * permission check of a fetch (a fault as xpage's), but no page is made or marked as code.
 */
function sweepView(mem: Memory): Memory {
  const user = mem.getCpl() === 3;
  let pn = NaN, fetchable = false;
  const view = Object.create(mem) as Memory;
  view.fetch8 = (a: number): number => {
    const at = Math.floor(a / PAGE_SIZE);
    if (at !== pn) {
      const prot = mem.protAt(a);
      pn = at;
      fetchable = prot >= 0 && (prot & PROT_EXEC) !== 0 && (!user || (prot & PROT_USER) !== 0);
    }
    if (!fetchable) throw new CpuFault(Vector.PF, a, PF_FETCH | (user ? PF_USER : 0));
    return byteAt(mem, a);
  };
  return view;
}

/** The instruction at a is one the sweep rewrites: sysenter, or what decodes as syscall (prefixes included). */
function isSite(mem: Memory, a: number): boolean {
  // sysenter, or syscall without a prefix (what decode answers for these two bytes, without a cold decode per site)
  if (byteAt(mem, a) === 0x0f && (byteAt(mem, a + 1) === 0x34 || byteAt(mem, a + 1) === 0x05)) return true;
  try {
    return decode(mem, a).opc === 0x105;
  } catch (e) {
    if (!(e instanceof CpuFault)) throw e;
    return false;
  }
}

/**
 * The last page read by bytesOf (a sweep reads the same page byte by byte: an untouched file page is one read of
 * the file, not one per byte); forgotten after each rewrite, as memory changes between two.
 */
const held = { pn: NaN, bytes: new Uint8Array(PAGE_SIZE), zeros: true };

/** What page pn holds, without making it (Memory.contentOf); undefined: zeros. Valid until the next call for another page. */
function bytesOf(mem: Memory, pn: number): Uint8Array | undefined {
  if (pn !== held.pn) {
    const u8 = mem.contentOf(pn);
    held.pn = pn;
    held.zeros = u8 === undefined;
    if (u8) held.bytes.set(u8);
  }
  return held.zeros ? undefined : held.bytes;
}

/** A byte of held memory (a page never written is zeros, an untouched file page its file's byte). */
function byteAt(mem: Memory, a: number): number {
  return bytesOf(mem, Math.floor(a / PAGE_SIZE))?.[a & (PAGE_SIZE - 1)] ?? 0;
}

/** The decoding sweep of [start, stop), whose held pages are `pages`. */
function sweep(mem: Memory, start: number, stop: number, pages: number[], sites: number[]): void {
  let a = start;
  let k = 0;
  while (a < stop) {
    const pn = Math.floor(a / PAGE_SIZE);
    while (k < pages.length && pages[k] < pn) k++;
    if (k === pages.length) break; // zeros to the end
    if (pages[k] > pn) {
      // a gap of zeros up to the next page that holds bytes
      const next = pages[k] * PAGE_SIZE;
      a = next - ((next - a) % 2);
      if (a >= stop) break;
    }
    if (byteAt(mem, a) === 0x0f && byteAt(mem, a + 1) === 0x34) {
      // sysenter (not in the decoder: it is #UD in 64-bit mode on Intel)
      sites.push(a);
      a += 2;
      continue;
    }
    let len = 1;
    try {
      const i = decode(mem, a);
      len = i.len;
      if (i.opc === 0x105) sites.push(a);
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
    }
    a += len;
  }
}
