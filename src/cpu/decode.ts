/**
 * The x86-64 instruction decoder: legacy prefixes, REX, the one-byte, 0F,
 * 0F38 and 0F3A maps, ModRM/SIB/displacement and immediates, producing an
 * Insn whose handler is chosen here once (group opcodes resolved by
 * ModRM.reg, common register/memory forms specialized).
 *
 * Opcode attributes come from one table (ATTR) so that the length of every
 * instruction is known before its semantics are; the handler choice is the
 * switch in `select`.
 */
import { Insn, I_BRANCH, type Handler } from './insn.js';
import { CpuFault, UndefinedOpcode, Vector } from './fault.js';
import type { Memory } from './memory.js';
import * as alu from './ops/alu.js';
import * as sh from './ops/shift.js';
import * as mv from './ops/move.js';
import * as ctl from './ops/control.js';
import * as str from './ops/string.js';
import * as sys from './ops/system.js';
import { sseHandler, group15Handler } from './ops/sse/forms.js';
import { x87Handler } from './ops/x87/forms.js';

// attribute bits
const M = 0x100; // has ModRM
const BY = 0x200; // byte operand size
const D64 = 0x400; // default operand size 64
const V = 0x800; // valid opcode
// immediate kinds (low 4 bits)
const IB = 1, IW = 2, IZ = 3, IV = 4, ENTER = 5, MOFFS = 6, REL8 = 7, REL32 = 8, IBU = 9;

const ATTR = new Uint16Array(4 * 256);
function def(map: number, from: number, to: number, a: number): void {
  for (let op = from; op <= to; op++) ATTR[map * 256 + op] = a | V;
}
// --- one-byte map ---
for (let x = 0; x < 8; x++) {
  const b = x * 8;
  def(0, b + 0, b + 0, M | BY);
  def(0, b + 1, b + 1, M);
  def(0, b + 2, b + 2, M | BY);
  def(0, b + 3, b + 3, M);
  def(0, b + 4, b + 4, BY | IB);
  def(0, b + 5, b + 5, IZ);
}
def(0, 0x50, 0x5f, D64);
def(0, 0x63, 0x63, M);
def(0, 0x68, 0x68, D64 | IZ);
def(0, 0x69, 0x69, M | IZ);
def(0, 0x6a, 0x6a, D64 | IB);
def(0, 0x6b, 0x6b, M | IB);
def(0, 0x6c, 0x6f, 0);
def(0, 0x70, 0x7f, REL8);
def(0, 0x80, 0x80, M | BY | IB);
def(0, 0x81, 0x81, M | IZ);
def(0, 0x83, 0x83, M | IB);
def(0, 0x84, 0x8b, M);
for (const op of [0x84, 0x86, 0x88, 0x8a]) ATTR[op] |= BY;
def(0, 0x8c, 0x8e, M);
def(0, 0x8f, 0x8f, M | D64);
def(0, 0x90, 0x99, 0);
def(0, 0x9b, 0x9b, 0);
def(0, 0x9c, 0x9d, D64);
def(0, 0x9e, 0x9f, 0);
def(0, 0xa0, 0xa3, MOFFS);
ATTR[0xa0] |= BY;
ATTR[0xa2] |= BY;
def(0, 0xa4, 0xaf, 0);
for (const op of [0xa4, 0xa6, 0xaa, 0xac, 0xae]) ATTR[op] |= BY;
def(0, 0xa8, 0xa8, BY | IB);
def(0, 0xa9, 0xa9, IZ);
def(0, 0xb0, 0xb7, BY | IB);
def(0, 0xb8, 0xbf, IV);
def(0, 0xc0, 0xc0, M | BY | IBU);
def(0, 0xc1, 0xc1, M | IBU);
def(0, 0xc2, 0xc2, D64 | IW);
def(0, 0xc3, 0xc3, D64);
def(0, 0xc6, 0xc6, M | BY | IB);
def(0, 0xc7, 0xc7, M | IZ);
def(0, 0xc8, 0xc8, D64 | ENTER);
def(0, 0xc9, 0xc9, D64);
def(0, 0xcc, 0xcc, 0);
def(0, 0xcd, 0xcd, IBU);
def(0, 0xcf, 0xcf, 0);
def(0, 0xd0, 0xd3, M);
ATTR[0xd0] |= BY;
ATTR[0xd2] |= BY;
def(0, 0xd8, 0xdf, M);
def(0, 0xe0, 0xe3, REL8);
def(0, 0xe4, 0xe7, IBU);
def(0, 0xe8, 0xe9, REL32 | D64);
def(0, 0xeb, 0xeb, REL8 | D64);
def(0, 0xec, 0xef, 0);
def(0, 0xf4, 0xf5, 0);
def(0, 0xf6, 0xf6, M | BY);
def(0, 0xf7, 0xf7, M);
def(0, 0xf8, 0xfd, 0);
def(0, 0xfe, 0xfe, M | BY);
def(0, 0xff, 0xff, M);
// --- 0F map ---
def(1, 0x01, 0x01, M);
def(1, 0x05, 0x05, 0);
def(1, 0x07, 0x07, 0);
def(1, 0x0b, 0x0b, 0);
def(1, 0x0d, 0x0d, M);
def(1, 0x10, 0x17, M);
def(1, 0x18, 0x1f, M);
def(1, 0x28, 0x2f, M);
def(1, 0x30, 0x32, 0);
def(1, 0x40, 0x4f, M);
def(1, 0x50, 0x7f, M);
def(1, 0x70, 0x73, M | IBU);
def(1, 0x80, 0x8f, REL32 | D64);
def(1, 0x90, 0x9f, M | BY);
def(1, 0xa2, 0xa3, 0);
ATTR[256 + 0xa3] = M | V;
def(1, 0xa4, 0xa4, M | IBU);
def(1, 0xa5, 0xa5, M);
def(1, 0xab, 0xab, M);
def(1, 0xac, 0xac, M | IBU);
def(1, 0xad, 0xaf, M);
def(1, 0xb0, 0xb0, M | BY);
def(1, 0xb1, 0xb1, M);
def(1, 0xb3, 0xb3, M);
def(1, 0xb6, 0xb7, M);
def(1, 0xba, 0xba, M | IBU);
def(1, 0xbb, 0xbf, M);
def(1, 0xc0, 0xc0, M | BY);
def(1, 0xc1, 0xc1, M);
def(1, 0xc2, 0xc2, M | IBU);
def(1, 0xc3, 0xc3, M);
def(1, 0xc4, 0xc6, M | IBU);
def(1, 0xc7, 0xc7, M);
def(1, 0xc8, 0xcf, 0);
def(1, 0xd0, 0xff, M);
// --- 0F38 and 0F3A maps (SSSE3/SSE4.1) ---
def(2, 0x00, 0xff, M);
def(3, 0x00, 0xff, M | IBU);

const BRANCH_OPS = new Set([
  0xc2, 0xc3, 0xcc, 0xcd, 0xcf, 0xe8, 0xe9, 0xeb, 0xf4, 0x9d, 0xfa, 0xfb, 0x6c, 0x6d, 0x6e, 0x6f, 0xe4, 0xe5, 0xe6, 0xe7,
  0xec, 0xed, 0xee, 0xef, 0x105, 0x107, 0x10b, 0x130, 0x132, 0x101,
]);

class Fetcher {
  pos = 0;
  readonly bytes: number[] = [];
  constructor(
    readonly mem: Memory,
    readonly addr: number,
  ) {}
  u8(): number {
    if (this.pos >= 15) throw new CpuFault(Vector.GP); // instruction too long
    const v = this.mem.fetch8(this.addr + this.pos);
    this.pos++;
    this.bytes.push(v);
    return v;
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

/** Decode the instruction at addr. Throws CpuFault (#PF on fetch, #UD with bytes, #GP if too long). */
export function decode(mem: Memory, addr: number): Insn {
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
    else if ((op & 0xf0) === 0x40) {
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
  const attr = ATTR[map * 256 + op];
  if ((attr & V) === 0) throw new UndefinedOpcode(f.bytes);
  i.opc = map * 256 + op;
  i.rex = rex;
  i.rep = rep;
  i.seg = seg;
  i.asize = asz32 ? 4 : 8;
  i.pfx = rep !== 0 ? rep : opsz16 ? 0x66 : 0;
  i.size = attr & BY ? 1 : rex & 8 ? 8 : opsz16 ? 2 : attr & D64 ? 8 : 4;
  const byteRegs = (attr & BY) !== 0;
  let ripRel = false;
  let modrm = -1;
  if (attr & M) {
    modrm = f.u8();
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
        ripRel = true;
        i.base = -1;
        i.disp = f.s32();
      } else i.base = rmf | (rex & 1 ? 8 : 0);
      if (mod === 1) i.disp = f.s8();
      else if (mod === 2) i.disp = f.s32();
    }
    if (byteRegs && rex === 0) {
      if (i.reg >= 4 && i.reg < 8) i.reg += 12;
      if (i.rm >= 4 && i.rm < 8) i.rm += 12;
    }
  }
  // immediates
  let immKind = attr & 15;
  if (map === 0 && (op === 0xf6 || op === 0xf7) && i.sub < 2) immKind = op === 0xf6 ? IB : IZ;
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
      if (asz32) i.disp = f.s32() >>> 0;
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
      i.disp = f.s32();
      break;
  }
  i.len = f.pos;
  i.next = addr + f.pos;
  i.bytes = f.bytes;
  if (ripRel) i.disp += i.next;
  if (immKind === REL8 || immKind === REL32) i.disp += i.next;
  const h = select(i, map, op, modrm);
  if (h === null) throw new UndefinedOpcode(f.bytes);
  i.op = h;
  if (map === 0 && (BRANCH_OPS.has(op) || (op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3))) i.flags |= I_BRANCH;
  else if (map === 0 && op === 0xff && (i.sub === 2 || i.sub === 4)) i.flags |= I_BRANCH;
  else if (map === 1 && (BRANCH_OPS.has(0x100 + op) || (op >= 0x80 && op <= 0x8f))) i.flags |= I_BRANCH;
  return i;
}

function rmOnly(i: Insn): boolean {
  return i.rm < 0;
}

/** Choose the handler for a decoded instruction, or null if the form is undefined. */
function select(i: Insn, map: number, op: number, modrm: number): Handler | null {
  const rexB = i.rex & 1 ? 8 : 0;
  if (map === 0) {
    if (op < 0x40) {
      const form = op & 7;
      i.sub = op >> 3;
      if (form === 4 || form === 5) {
        i.rm = 0;
        return alu.aluEI;
      }
      if (form > 5) return null;
      if (i.rm === i.reg && i.rm >= 0 && i.size >= 4 && (i.sub === alu.Alu.XOR || i.sub === alu.Alu.SUB)) return alu.zeroIdiom;
      if (i.rm >= 0 && i.size === 8) {
        // register-register 64-bit: the hottest ALU form, without size dispatch
        if (form < 2) {
          i.index = i.rm; // destination
          i.base = i.reg; // source
        } else {
          i.index = i.reg;
          i.base = i.rm;
        }
        return alu.aluRR64;
      }
      return form < 2 ? alu.aluEG : alu.aluGE;
    }
    if (op >= 0x50 && op <= 0x57) {
      i.reg = (op & 7) | rexB;
      return mv.pushR;
    }
    if (op >= 0x58 && op <= 0x5f) {
      i.reg = (op & 7) | rexB;
      return mv.popR;
    }
    if (op >= 0x70 && op <= 0x7f) {
      i.sub = op & 15;
      return ctl.jcc;
    }
    if (op >= 0x91 && op <= 0x97) {
      i.reg = (op & 7) | rexB;
      i.rm = 0;
      return mv.xchg;
    }
    if (op >= 0xb0 && op <= 0xbf) {
      i.reg = (op & 7) | rexB;
      if (op < 0xb8 && i.rex === 0 && i.reg >= 4 && i.reg < 8) i.reg += 12;
      return mv.movRI;
    }
    if (op >= 0xd8 && op <= 0xdf) return x87Handler(op, modrm, i);
    switch (op) {
      case 0x63:
        i.sub = 4;
        return mv.movsx;
      case 0x68:
      case 0x6a:
        return mv.pushI;
      case 0x69:
      case 0x6b:
        return alu.imul2;
      case 0x80:
      case 0x81:
      case 0x83:
        return alu.aluEI;
      case 0x84:
      case 0x85:
        return alu.testEG;
      case 0x86:
      case 0x87:
        return mv.xchg;
      case 0x88:
        return mv.movEG;
      case 0x89:
        if (i.size === 8) return i.rm >= 0 ? movRR64r : mv.movMR64;
        return mv.movEG;
      case 0x8a:
        return mv.movGE;
      case 0x8b:
        if (i.size === 8) return i.rm >= 0 ? mv.movRR64 : mv.movRM64;
        if (i.size === 4 && i.rm < 0) return mv.movRM32;
        return mv.movGE;
      case 0x8c:
        return movFromSreg;
      case 0x8d:
        return rmOnly(i) ? mv.lea : null;
      case 0x8e:
        return mv.nop;
      case 0x8f:
        return i.sub === 0 ? mv.popE : null;
      case 0x90:
        if (rexB) {
          i.reg = 8;
          i.rm = 0;
          return mv.xchg;
        }
        return mv.nop;
      case 0x98:
        return alu.cbw;
      case 0x99:
        return alu.cwd;
      case 0x9b:
        return mv.nop;
      case 0x9c:
        return mv.pushf;
      case 0x9d:
        return mv.popf;
      case 0x9e:
        return mv.sahf;
      case 0x9f:
        return mv.lahf;
      case 0xa0:
      case 0xa1:
        i.sub = 0;
        return mv.movMoffs;
      case 0xa2:
      case 0xa3:
        i.sub = 1;
        return mv.movMoffs;
      case 0xa4:
      case 0xa5:
        return str.movs;
      case 0xa6:
      case 0xa7:
        return str.cmps;
      case 0xa8:
      case 0xa9:
        i.rm = 0;
        return alu.testEI;
      case 0xaa:
      case 0xab:
        return str.stos;
      case 0xac:
      case 0xad:
        return str.lods;
      case 0xae:
      case 0xaf:
        return str.scas;
      case 0xc0:
      case 0xc1:
        i.imm2 = 1;
        return sh.grp2;
      case 0xd0:
      case 0xd1:
        i.imm2 = 0;
        return sh.grp2;
      case 0xd2:
      case 0xd3:
        i.imm2 = 2;
        return sh.grp2;
      case 0xc2:
      case 0xc3:
        if (op === 0xc3) i.imm = 0;
        return ctl.ret;
      case 0xc6:
      case 0xc7:
        return i.sub === 0 ? mv.movEI : null;
      case 0xc8:
        return mv.enter;
      case 0xc9:
        return mv.leave;
      case 0xcc:
        return sys.int3;
      case 0xcd:
        return sys.intN;
      case 0xcf:
        return i.size === 8 ? sys.iretq : null;
      case 0xe0:
      case 0xe1:
      case 0xe2:
      case 0xe3:
        i.sub = op - 0xe0;
        return ctl.loop;
      case 0xe8:
        return ctl.callRel;
      case 0xe9:
      case 0xeb:
        return ctl.jmpRel;
      case 0xf4:
        return sys.hlt;
      case 0xfa:
        return sys.cli;
      case 0xfb:
        return sys.sti;
      case 0x6c:
      case 0x6d:
      case 0x6e:
      case 0x6f:
      case 0xe4:
      case 0xe5:
      case 0xe6:
      case 0xe7:
      case 0xec:
      case 0xed:
      case 0xee:
      case 0xef:
        return sys.privileged;
      case 0xf5:
        return mv.cmc;
      case 0xf8:
        return mv.clc;
      case 0xf9:
        return mv.stc;
      case 0xfc:
        return mv.cld;
      case 0xfd:
        return mv.std;
      case 0xf6:
      case 0xf7:
        switch (i.sub) {
          case 0:
          case 1:
            return alu.testEI;
          case 2:
            return alu.not;
          case 3:
            return alu.neg;
          case 4:
          case 5:
            return alu.mul1;
          default:
            return alu.div1;
        }
      case 0xfe:
        return i.sub < 2 ? alu.incdec : null;
      case 0xff:
        switch (i.sub) {
          case 0:
          case 1:
            return alu.incdec;
          case 2:
            i.size = 8;
            return ctl.callE;
          case 4:
            i.size = 8;
            return ctl.jmpE;
          case 6:
            i.size = 8;
            return mv.pushE;
          default:
            return null;
        }
    }
    return null;
  }
  if (map === 1) {
    if (op >= 0x40 && op <= 0x4f) {
      i.sub = op & 15;
      return mv.cmov;
    }
    if (op >= 0x80 && op <= 0x8f) {
      i.sub = op & 15;
      return ctl.jcc;
    }
    if (op >= 0x90 && op <= 0x9f) {
      i.sub = op & 15;
      return mv.setcc;
    }
    if (op >= 0xc8 && op <= 0xcf) {
      i.reg = (op & 7) | rexB;
      return mv.bswap;
    }
    if ((op >= 0x10 && op <= 0x17) || (op >= 0x28 && op <= 0x2f) || (op >= 0x50 && op <= 0x7f) || (op >= 0xc2 && op <= 0xc6) || op >= 0xd0)
      return sseHandler(1, op, i);
    switch (op) {
      case 0x01:
        if (modrm === 0xf8) return sys.swapgs;
        if (modrm === 0xc1) return sys.vmcall; // the guest kernel's hypercall
        return null; // xgetbv (no OSXSAVE), rdtscp (not advertised), sgdt ...
      case 0x05:
        return sys.syscall;
      case 0x07:
        return sys.sysret;
      case 0x0b:
        return sys.ud;
      case 0x0d:
      case 0x18:
      case 0x19:
      case 0x1a:
      case 0x1b:
      case 0x1c:
      case 0x1d:
      case 0x1e:
      case 0x1f:
        return mv.nop; // prefetch, hint nops, endbr64
      case 0x30:
        return sys.wrmsr;
      case 0x32:
        return sys.rdmsr;
      case 0x31:
        return sys.rdtsc;
      case 0xa2:
        return sys.cpuid;
      case 0xa3:
        i.sub = 4;
        return sh.bitTest;
      case 0xab:
        i.sub = 5;
        return sh.bitTest;
      case 0xb3:
        i.sub = 6;
        return sh.bitTest;
      case 0xbb:
        i.sub = 7;
        return sh.bitTest;
      case 0xba:
        return i.sub >= 4 ? sh.bitTest : null;
      case 0xa4:
      case 0xa5:
      case 0xac:
      case 0xad:
        i.imm2 = op & 1 ? 2 : 1;
        i.sub = op >= 0xac ? 1 : 0;
        return sh.shxd;
      case 0xae:
        if (i.rm >= 0) return i.pfx === 0 && i.sub >= 5 ? mv.nop : null; // lfence, mfence, sfence
        if (i.sub <= 3) return group15Handler(i);
        return i.sub === 7 ? mv.nop : null; // clflush
      case 0xaf:
        return alu.imul2;
      case 0xb0:
      case 0xb1:
        return mv.cmpxchg;
      case 0xb6:
        i.sub = 1;
        if (i.rex === 0 && i.rm >= 4 && i.rm < 8) i.rm += 12;
        return mv.movzx;
      case 0xb7:
        i.sub = 2;
        return mv.movzx;
      case 0xbe:
        i.sub = 1;
        if (i.rex === 0 && i.rm >= 4 && i.rm < 8) i.rm += 12;
        return mv.movsx;
      case 0xbf:
        i.sub = 2;
        return mv.movsx;
      case 0xbc:
        i.sub = 0;
        return sh.bsfr;
      case 0xbd:
        i.sub = 1;
        return sh.bsfr;
      case 0xc0:
      case 0xc1:
        return mv.xadd;
      case 0xc7:
        if (i.sub === 1 && i.rm < 0) return mv.cmpxchg8b16b;
        return null;
    }
    return null;
  }
  return sseHandler(map, op, i);
}

/** mov r64, r64 for 89 (rm <- reg) */
function movRR64r(cpu: import('./cpu.js').CPU, i: Insn): void {
  cpu.rl[i.rm] = cpu.rl[i.reg];
  cpu.rh[i.rm] = cpu.rh[i.reg];
}

/** mov r/m16, Sreg */
function movFromSreg(cpu: import('./cpu.js').CPU, i: Insn): void {
  const s = i.sub < 6 ? cpu.seg[i.sub] : 0;
  if (i.rm >= 0) cpu.setReg(i.rm, i.size === 2 ? 2 : 4, s, 0);
  else cpu.writeMem(cpu.ea(i), 2, s, 0);
}
