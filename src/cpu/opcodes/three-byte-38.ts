/**
 * The three-byte opcode map 0F 38 xx (SDM Vol. 2 Table A-4): SSSE3 and
 * SSE4.1 with a 66 prefix (their no-prefix MMX forms are #UD), movntdqa, and
 * movbe and crc32 at F0/F1. See row.ts for the shape of a row.
 */
import type { Handler, Insn } from '../insn.js';
import { crc32b, crc32v } from '../ops/crc32.js';
import { movbeLoad, movbeStore } from '../ops/move.js';
import { movdqaLoad } from '../ops/sse/move.js';
import * as int from '../ops/sse/int-arith.js';
import * as cmp from '../ops/sse/compare-test.js';
import * as shuf from '../ops/sse/shuffle-pack.js';
import { M, byPrefix, form, memOnly, opcodeMap, row, type Row } from './row.js';

type Entry = readonly [number, number, Row];

/** op xmm, xmm/m128 with a 66 prefix. */
function p66(op: number, name: string, h: Handler): Entry {
  return [op, op, row(M, byPrefix(null, form(name, 'V,W', h), null, null))];
}

const SX = ['pmovsxbw', 'pmovsxbd', 'pmovsxbq', 'pmovsxwd', 'pmovsxwq', 'pmovsxdq'];

/** crc32 with a byte source: without REX, r/m 4-7 are AH, CH, DH, BH. */
const crc32Byte = form('crc32', 'Gy,Eb', crc32b);
function crc32Eb(i: Insn): typeof crc32Byte {
  if (i.rex === 0 && i.rm >= 4 && i.rm < 8) i.rm += 12;
  return crc32Byte;
}

export const THREE_BYTE_38: readonly Row[] = opcodeMap('0F 38 map', [
  p66(0x00, 'pshufb', shuf.pshufb),
  p66(0x01, 'phaddw', int.phw(false, false)),
  p66(0x02, 'phaddd', int.phd(false)),
  p66(0x03, 'phaddsw', int.phw(false, true)),
  p66(0x04, 'pmaddubsw', int.pmaddubsw),
  p66(0x05, 'phsubw', int.phw(true, false)),
  p66(0x06, 'phsubd', int.phd(true)),
  p66(0x07, 'phsubsw', int.phw(true, true)),
  p66(0x08, 'psignb', int.psignb),
  p66(0x09, 'psignw', int.psignw),
  p66(0x0a, 'psignd', int.psignd),
  p66(0x0b, 'pmulhrsw', int.pmulhrsw),
  // the blend mask is xmm0, implied
  p66(0x10, 'pblendvb', shuf.pblendvb),
  p66(0x14, 'blendvps', shuf.blendvps),
  p66(0x15, 'blendvpd', shuf.blendvpd),
  p66(0x17, 'ptest', cmp.ptest),
  p66(0x1c, 'pabsb', int.pabsb),
  p66(0x1d, 'pabsw', int.pabsw),
  p66(0x1e, 'pabsd', int.pabsd),
  ...SX.map((n, k) => p66(0x20 + k, n, shuf.pmovx(k, true))),
  p66(0x28, 'pmuldq', int.pmuldq),
  p66(0x29, 'pcmpeqq', cmp.pcmpeqq),
  // a non-temporal hint only: an aligned load here
  [0x2a, 0x2a, row(M, byPrefix(null, memOnly(form('movntdqa', 'V,M', movdqaLoad)), null, null))],
  p66(0x2b, 'packusdw', shuf.packusdw),
  ...SX.map((n, k) => p66(0x30 + k, n.replace('sx', 'zx'), shuf.pmovx(k, false))),
  p66(0x37, 'pcmpgtq', cmp.pcmpgtq),
  p66(0x38, 'pminsb', int.pminsb),
  p66(0x39, 'pminsd', int.pminsd),
  p66(0x3a, 'pminuw', int.pminuw),
  p66(0x3b, 'pminud', int.pminud),
  p66(0x3c, 'pmaxsb', int.pmaxsb),
  p66(0x3d, 'pmaxsd', int.pmaxsd),
  p66(0x3e, 'pmaxuw', int.pmaxuw),
  p66(0x3f, 'pmaxud', int.pmaxud),
  p66(0x40, 'pmulld', int.pmulld),
  p66(0x41, 'phminposuw', int.phminposuw),
  // movbe (no prefix or 66) and crc32 (F2, also with 66 for a 16-bit source)
  [0xf0, 0xf0, row(M, byPrefix(memOnly(form('movbe', 'Gv,M', movbeLoad)), memOnly(form('movbe', 'Gv,M', movbeLoad)), null, crc32Eb))],
  [0xf1, 0xf1, row(M, byPrefix(memOnly(form('movbe', 'M,Gv', movbeStore)), memOnly(form('movbe', 'M,Gv', movbeStore)), null, form('crc32', 'Gy,Ev', crc32v)))],
]);
