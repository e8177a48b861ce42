/**
 * zpoline's exec-time rewrite: a linear sweep with the real decoder over the
 * program's executable segments; every true `syscall` (0F 05) or `sysenter`
 * (0F 34) becomes `call *%rax` (FF D0), the same length, so nothing moves.
 */
import { decode } from '../cpu/decode.js';
import { CpuFault } from '../cpu/fault.js';
import type { Memory } from '../cpu/memory.js';

/** `call *%rax`. */
export const CALL_RAX = Uint8Array.of(0xff, 0xd0);

/** Rewrite the sites in [start, end) ranges; returns their addresses. */
export function rewriteSyscallSites(mem: Memory, ranges: [number, number][]): number[] {
  const sites: number[] = [];
  const probe = new Uint8Array(2);
  for (const [start, end] of ranges) {
    let a = start;
    while (a < end) {
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
