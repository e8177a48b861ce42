/**
 * zpoline's exec-time rewrite: a linear sweep with the real decoder over the
 * program's executable segments; every true `syscall` (0F 05) or `sysenter`
 * (0F 34) becomes `call *%rax` (FF D0), the same length, so nothing moves.
 */
import { decode } from '../cpu/decode.js';
import { CpuFault } from '../cpu/fault.js';
import { PAGE_SIZE, type Memory } from '../cpu/memory.js';

/** `call *%rax`. */
export const CALL_RAX = Uint8Array.of(0xff, 0xd0);

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
  const probe = new Uint8Array(2);
  const held = [...mem.pages.keys()].sort((x, y) => x - y);
  for (const [start, end] of ranges) {
    const pages = held.filter((pn) => (pn + 1) * PAGE_SIZE > start && pn * PAGE_SIZE < end);
    let a = start;
    let k = 0;
    while (a < end) {
      const pn = Math.floor(a / PAGE_SIZE);
      while (k < pages.length && pages[k] < pn) k++;
      if (k === pages.length) break; // zeros to the end
      if (pages[k] > pn) {
        // a gap of zeros up to the next page that holds bytes
        const next = pages[k] * PAGE_SIZE;
        a = next - ((next - a) % 2);
        if (a >= end) break;
      }
      mem.peek(a, probe);
      if (probe[0] === 0x0f && probe[1] === 0x34) {
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
  for (const s of sites) mem.poke(s, CALL_RAX);
  return sites;
}
