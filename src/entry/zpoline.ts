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
import type { Memory } from '../cpu/memory.js';

/** `call *%rax`. */
export const CALL_RAX = Uint8Array.of(0xff, 0xd0);

/** Offset just past the last 0F 05 / 0F 34 pair in bytes (0: none). */
function sweepEnd(bytes: Uint8Array): number {
  for (let k = bytes.length - 2; k >= 0; k--) if (bytes[k] === 0x0f && (bytes[k + 1] === 0x05 || bytes[k + 1] === 0x34)) return k + 2;
  return 0;
}

/** Rewrite the sites in [start, end) ranges; returns their addresses. */
export function rewriteSyscallSites(mem: Memory, ranges: [number, number][]): number[] {
  const sites: number[] = [];
  const probe = new Uint8Array(2);
  for (const [start, end] of ranges) {
    const bytes = new Uint8Array(end - start);
    mem.peek(start, bytes);
    const stop = start + sweepEnd(bytes);
    let a = start;
    while (a < stop) {
      let len = 1;
      try {
        const i = decode(mem, a);
        len = i.len;
        if (i.opc === 0x105) sites.push(a);
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        // sysenter is not in the decoder (#UD in 64-bit mode on Intel), but zpoline rewrites it too
        mem.peek(a, probe);
        if (probe[0] === 0x0f && probe[1] === 0x34) {
          sites.push(a);
          len = 2;
        }
      }
      a += len;
    }
  }
  for (const s of sites) mem.poke(s, CALL_RAX);
  return sites;
}
