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
import { CpuFault } from '../cpu/fault.js';
import { PAGE_SIZE, type Memory } from '../cpu/memory.js';

/** `call *%rax`. */
export const CALL_RAX = Uint8Array.of(0xff, 0xd0);

/** Just past the last 0F 05 / 0F 34 pair in [start, end), looking only at held pages (start: none). */
function sweepEnd(mem: Memory, held: number[], start: number, end: number): number {
  for (let i = held.length - 1; i >= 0; i--) {
    const base = held[i] * PAGE_SIZE;
    const u8 = mem.touchedPage(held[i])!.u8;
    const next = mem.touchedPage(held[i] + 1)?.u8[0] ?? 0; // a pair may cross into the next page
    for (let a = Math.min(end, base + PAGE_SIZE) - 1; a >= Math.max(start, base); a--) {
      if (u8[a - base] !== 0x0f || a + 2 > end) continue;
      const b = a + 1 < base + PAGE_SIZE ? u8[a + 1 - base] : next;
      if (b === 0x05 || b === 0x34) return a + 2;
    }
  }
  return start;
}

/**
 * Rewrite the sites in [start, end) ranges; returns their addresses.
 *
 * Only the pages that hold bytes are read: a page never written (a segment's
 * memsz beyond its filesz) is zeros, which hold no site, and reading it would
 * make it, so a segment of gigabytes would fill the machine's memory at exec.
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
    sweep(mem, ranges, sites);
  } finally {
    Error.stackTraceLimit = limit;
  }
  for (const s of sites) mem.poke(s, CALL_RAX);
  return sites;
}

/** A byte of held memory (a page never written is zeros). */
function byteAt(mem: Memory, a: number): number {
  return mem.touchedPage(Math.floor(a / PAGE_SIZE))?.u8[a & (PAGE_SIZE - 1)] ?? 0;
}

function sweep(mem: Memory, ranges: [number, number][], sites: number[]): void {
  for (const [start, end] of ranges) {
    const pages = mem.pageNumbers(Math.floor(start / PAGE_SIZE), Math.ceil(end / PAGE_SIZE));
    const stop = sweepEnd(mem, pages, start, end);
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
}
