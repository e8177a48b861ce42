/**
 * The three-byte opcode map 0F 3A xx (SDM Vol. 2 Table A-5): SSSE3 palignr
 * and SSE4.1, all with a 66 prefix and an imm8. See row.ts for the shape of a
 * row.
 */
import type { Handler } from '../insn.js';
import * as shuf from '../ops/sse/shuffle-pack.js';
import * as fp from '../ops/sse/fp-arith.js';
import { IBU, M, byPrefix, byRexW, form, opcodeMap, row, type Choice, type Row } from './row.js';

type Entry = readonly [number, number, Row];

/** A 66-prefixed form. */
function p66(op: number, c: Choice): Entry {
  return [op, op, row(M | IBU, byPrefix(null, c, null, null))];
}
function op66(op: number, name: string, operands: string, h: Handler): Entry {
  return p66(op, form(name, operands, h));
}

export const THREE_BYTE_3A: readonly Row[] = opcodeMap('0F 3A map', [
  op66(0x08, 'roundps', 'V,W,Ib', fp.roundps),
  op66(0x09, 'roundpd', 'V,W,Ib', fp.roundpd),
  op66(0x0a, 'roundss', 'V,W,Ib', fp.roundss),
  op66(0x0b, 'roundsd', 'V,W,Ib', fp.roundsd),
  op66(0x0c, 'blendps', 'V,W,Ib', shuf.blendps),
  op66(0x0d, 'blendpd', 'V,W,Ib', shuf.blendpd),
  op66(0x0e, 'pblendw', 'V,W,Ib', shuf.pblendw),
  op66(0x0f, 'palignr', 'V,W,Ib', shuf.palignr),
  op66(0x14, 'pextrb', 'Ey,V,Ib', shuf.pextrb),
  op66(0x15, 'pextrw', 'Ey,V,Ib', shuf.pextrw),
  p66(0x16, byRexW(form('pextrd', 'Ey,V,Ib', shuf.pextrd), form('pextrq', 'Ey,V,Ib', shuf.pextrd))),
  op66(0x17, 'extractps', 'Ey,V,Ib', shuf.extractps),
  op66(0x20, 'pinsrb', 'V,Ey,Ib', shuf.pinsrb),
  op66(0x21, 'insertps', 'V,W,Ib', shuf.insertps),
  p66(0x22, byRexW(form('pinsrd', 'V,Ey,Ib', shuf.pinsrd), form('pinsrq', 'V,Ey,Ib', shuf.pinsrd))),
  op66(0x40, 'dpps', 'V,W,Ib', fp.dpps),
  op66(0x41, 'dppd', 'V,W,Ib', fp.dppd),
]);
