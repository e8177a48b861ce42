/**
 * The x86-64 instruction decoder: legacy prefixes, REX, the one-byte, 0F,
 * 0F38 and 0F3A maps, ModRM/SIB/displacement and immediates, producing an
 * Insn whose handler is chosen here once.
 *
 * Everything about an opcode is its row in the opcode tables (opcodes/): the
 * attributes give the instruction's length before its semantics are known,
 * the resolver the form (mnemonic, operands, handler), and the row or the
 * form whether it ends a basic block.
 */
import { Insn, I_BRANCH } from './insn.js';
import { CpuFault, UndefinedOpcode, Vector } from './fault.js';
import type { Memory } from './memory.js';
import { B, BY, D64, ENTER, IB, IB_TEST, IBU, IV, IW, IZ, IZ_TEST, M, MOFFS, REL32, REL8, V, type Row } from './opcodes/row.js';
import { ONE_BYTE } from './opcodes/one-byte.js';
import { TWO_BYTE } from './opcodes/two-byte.js';
import { THREE_BYTE_38 } from './opcodes/three-byte-38.js';
import { THREE_BYTE_3A } from './opcodes/three-byte-3a.js';
import { COMPAT_MAPS } from './opcodes/compat.js';

/** The maps by number: 0 one-byte, 1 0F, 2 0F 38, 3 0F 3A (Insn.opc = map * 256 + opcode). */
const MAPS: readonly (readonly Row[])[] = [ONE_BYTE, TWO_BYTE, THREE_BYTE_38, THREE_BYTE_3A];

/**
 * Where the bytes of the instruction being decoded are kept (decode is not re-entrant): an instruction's own
 * array is made once, at its exact length (Fetcher.bytes). An array grown by push keeps room for 17 numbers, and
 * every decoded instruction holds its bytes as long as its block lives: python3 -c pass decodes a great many.
 */
const FETCHED: number[] = new Array<number>(15).fill(0);

class Fetcher {
  pos = 0;
  constructor(
    readonly mem: Memory,
    readonly addr: number,
  ) {}
  u8(): number {
    if (this.pos >= 15) throw new CpuFault(Vector.GP); // instruction too long
    const v = this.mem.fetch8(this.addr + this.pos);
    FETCHED[this.pos++] = v;
    return v;
  }
  /** The bytes fetched so far. */
  get bytes(): number[] {
    return FETCHED.slice(0, this.pos);
  }
  s8(): number {
    return (this.u8() << 24) >> 24;
  }
  u16(): number {
    return this.u8() | (this.u8() << 8);
  }
  s32(): number {
    return this.u8() | (this.u8() << 8) | (this.u8() << 16) | (this.u8() << 24);
  }
}

/**
 * Instructions that address memory through registers the address size picks
 * (string and I/O-string instructions, moffs moves, xlat, loop/jecxz, maskmovdqu).
 */
function addressesImplicitly(map: number, op: number): boolean {
  if (map === 0) return (op >= 0xa0 && op <= 0xaf) || (op >= 0x6c && op <= 0x6f) || (op >= 0xe0 && op <= 0xe3) || op === 0xd7;
  return map === 1 && op === 0xf7;
}

/**
 * Decode the instruction at addr, as 64-bit code or, with compat, as 32-bit
 * code (a compat-mode code segment: no REX, 32-bit default operand and
 * address sizes, D64 ignored, disp32 without base absolute, and the rows of
 * opcodes/compat.ts where the meaning differs). 16-bit addressing (67 in
 * compat mode) is left out: #UD. Throws CpuFault (#PF on fetch, #UD with
 * bytes, #GP if too long).
 */
export function decode(mem: Memory, addr: number, compat = false): Insn {
  const f = new Fetcher(mem, addr);
  const i = new Insn();
  i.addr = addr;
  let opsz16 = false, asz32 = false, rex = 0, rep = 0, seg = 0;
  let op: number;
  for (;;) {
    op = f.u8();
    if (op === 0x66) opsz16 = true;
    else if (op === 0x67) asz32 = true;
    else if (op === 0xf2 || op === 0xf3) rep = op;
    else if (op === 0xf0 || op === 0x2e || op === 0x3e || op === 0x26 || op === 0x36) {
      /* lock and null segment prefixes */
    } else if (op === 0x64) seg = 1;
    else if (op === 0x65) seg = 2;
    else if ((op & 0xf0) === 0x40 && !compat) {
      rex = op; // REX must come last: a legacy prefix after it cancels it (below)
      continue;
    } else break;
    rex = 0;
  }
  let map = 0;
  if (op === 0x0f) {
    op = f.u8();
    map = 1;
    if (op === 0x38) {
      op = f.u8();
      map = 2;
    } else if (op === 0x3a) {
      op = f.u8();
      map = 3;
    }
  }
  const row = compat ? COMPAT_MAPS[map][op] ?? MAPS[map][op] : MAPS[map][op];
  const attr = row.attr;
  if ((attr & V) === 0) throw new UndefinedOpcode(f.bytes);
  if (compat && asz32 && (attr & M) === 0 && addressesImplicitly(map, op)) throw new UndefinedOpcode(f.bytes);
  i.opc = map * 256 + op;
  i.rex = rex;
  i.rep = rep;
  i.seg = seg;
  i.asize = asz32 || compat ? 4 : 8;
  i.pfx = rep !== 0 ? rep : opsz16 ? 0x66 : 0;
  i.size = attr & BY ? 1 : rex & 8 ? 8 : opsz16 ? 2 : attr & D64 && !compat ? 8 : 4;
  const byteRegs = (attr & BY) !== 0;
  let ripRel = false;
  if (attr & M) {
    const modrm = f.u8();
    const mod = modrm >> 6, regf = (modrm >> 3) & 7, rmf = modrm & 7;
    i.sub = regf;
    i.reg = regf | (rex & 4 ? 8 : 0);
    if (mod === 3) i.rm = rmf | (rex & 1 ? 8 : 0);
    else {
      i.rm = -1;
      if (rmf === 4) {
        const sib = f.u8();
        const idx = ((sib >> 3) & 7) | (rex & 2 ? 8 : 0);
        i.index = idx === 4 ? -1 : idx;
        i.scale = 1 << (sib >> 6);
        if ((sib & 7) === 5 && mod === 0) {
          i.base = -1;
          i.disp = f.s32();
        } else i.base = (sib & 7) | (rex & 1 ? 8 : 0);
      } else if (rmf === 5 && mod === 0) {
        ripRel = !compat; // in 32-bit code, an absolute disp32
        i.base = -1;
        i.disp = f.s32();
      } else i.base = rmf | (rex & 1 ? 8 : 0);
      if (mod === 1) i.disp = f.s8();
      else if (mod === 2) i.disp = f.s32();
      // 67 in 32-bit code selects 16-bit addressing (another ModRM layout): not modelled, #UD
      if (compat && asz32) throw new UndefinedOpcode(f.bytes);
      // a 32-bit absolute address (no base, no index) is unsigned, as the CPU reads it
      if (compat && i.base < 0 && i.index < 0) i.disp >>>= 0;
    }
    if (byteRegs && rex === 0) {
      if (i.reg >= 4 && i.reg < 8) i.reg += 12;
      if (i.rm >= 4 && i.rm < 8) i.rm += 12;
    }
  }
  // immediates
  let immKind = attr & 15;
  if (immKind === IB_TEST || immKind === IZ_TEST) immKind = i.sub >= 2 ? 0 : immKind === IB_TEST ? IB : IZ;
  switch (immKind) {
    case IB:
      i.imm = f.s8();
      i.immHi = i.imm >> 31;
      break;
    case IBU:
      i.imm = f.u8();
      break;
    case IW:
      i.imm = f.u16();
      break;
    case IZ:
      if (i.size === 2) i.imm = (f.u16() << 16) >> 16;
      else i.imm = f.s32();
      i.immHi = i.imm >> 31;
      break;
    case IV:
      if (i.size === 8) {
        i.imm = f.s32();
        i.immHi = f.s32();
      } else if (i.size === 2) i.imm = f.u16();
      else i.imm = f.s32();
      break;
    case ENTER:
      i.imm = f.u16();
      i.imm2 = f.u8();
      break;
    case MOFFS: {
      if (asz32 || compat) i.disp = f.s32() >>> 0;
      else {
        const lo = f.s32();
        const hi = f.s32();
        i.disp = hi * 4294967296 + (lo >>> 0);
      }
      break;
    }
    case REL8:
      i.disp = f.s8();
      break;
    case REL32:
      // with a 16-bit operand size, 32-bit code has a rel16 here (64-bit mode ignores 66 on branches)
      i.disp = compat && opsz16 ? (f.u16() << 16) >> 16 : f.s32();
      break;
  }
  i.len = f.pos;
  i.next = addr + f.pos;
  i.bytes = f.bytes;
  if (ripRel) i.disp += i.next;
  if (immKind === REL8 || immKind === REL32) {
    i.disp += i.next;
    if (compat && opsz16) i.disp &= 0xffff; // a 16-bit operand size truncates EIP
  }
  const form = row.resolve(i);
  if (form === null) throw new UndefinedOpcode(f.bytes);
  i.form = form;
  i.op = form.op;
  if (attr & B || form.flags & I_BRANCH) i.flags |= I_BRANCH;
  return i;
}
