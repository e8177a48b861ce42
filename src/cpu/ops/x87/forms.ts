/**
 * Handler choice for the x87 escape opcodes D8-DF (moved here from x87.ts as
 * it was; the opcode tables replace it).
 */
import type { Handler, Insn } from '../../insn.js';
import { type MemLoad, ldI16, ldI32, ldI64, ldM32, ldM64 } from './stack.js';
import { fabs, fchs, fprem, frndint, fscale, fsqrt, ftst, fxam, fxtract, memArithHandler, regArith, regCom, regComi } from './arith.js';
import { fcmov, fistMem, fld80, fld1, fldl2t, fldl2e, fldpi, fldlg2, fldln2, fldz, fldMem, fldReg, fstMem, fstReg, fstp80, fxch } from './load-store.js';
import { f2xm1, fcos, fpatan, fptan, fsin, fsincos, fyl2x, fyl2xp1 } from './transcendental.js';
import { fdecstp, ffree, fincstp, fldcw, fldenv, fnclex, fninit, fnop, fnsave, fnstcw, fnstenv, fnstswAX, fnstswM, frstor } from './control.js';

const MEM_LOADS: MemLoad[] = [ldM32, ldI32, ldM64, ldI16]; // for D8, DA, DC, DE

/**
 * Handler for an x87 instruction: opcode D8..DF and its ModRM byte (the
 * decoder has filled the memory operand of i). null = #UD.
 */
export function x87Handler(opcode: number, modrm: number, i: Insn): Handler | null {
  void i;
  const mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
  if (mod !== 3) {
    switch (opcode) {
      case 0xd8:
      case 0xda:
      case 0xdc:
      case 0xde:
        return memArithHandler(MEM_LOADS[(opcode - 0xd8) >> 1], reg);
      case 0xd9:
        switch (reg) {
          case 0:
            return fldMem(ldM32);
          case 2:
            return fstMem(4, false);
          case 3:
            return fstMem(4, true);
          case 4:
            return fldenv;
          case 5:
            return fldcw;
          case 6:
            return fnstenv;
          case 7:
            return fnstcw;
        }
        return null;
      case 0xdb:
        switch (reg) {
          case 0:
            return fldMem(ldI32);
          case 1:
            return fistMem(32, true, true);
          case 2:
            return fistMem(32, false, false);
          case 3:
            return fistMem(32, true, false);
          case 5:
            return fld80;
          case 7:
            return fstp80;
        }
        return null;
      case 0xdd:
        switch (reg) {
          case 0:
            return fldMem(ldM64);
          case 1:
            return fistMem(64, true, true);
          case 2:
            return fstMem(8, false);
          case 3:
            return fstMem(8, true);
          case 4:
            return frstor;
          case 6:
            return fnsave;
          case 7:
            return fnstswM;
        }
        return null;
      case 0xdf:
        switch (reg) {
          case 0:
            return fldMem(ldI16);
          case 1:
            return fistMem(16, true, true);
          case 2:
            return fistMem(16, false, false);
          case 3:
            return fistMem(16, true, false);
          case 5:
            return fldMem(ldI64);
          case 7:
            return fistMem(64, true, false);
        }
        return null;
    }
    return null;
  }
  // register forms
  switch (opcode) {
    case 0xd8:
      if (reg === 2) return regCom(rm, 0, false);
      if (reg === 3) return regCom(rm, 1, false);
      return regArith(reg, 0, rm, false);
    case 0xd9:
      switch (reg) {
        case 0:
          return fldReg(rm);
        case 1:
          return fxch(rm);
        case 2:
          return rm === 0 ? fnop : null;
        case 3:
          return fstReg(rm, true); // undocumented fstp1 alias
        case 4:
          return [fchs, fabs, null, null, ftst, fxam, null, null][rm];
        case 5:
          return [fld1, fldl2t, fldl2e, fldpi, fldlg2, fldln2, fldz, null][rm];
        case 6:
          return [f2xm1, fyl2x, fptan, fpatan, fxtract, fprem(true), fdecstp, fincstp][rm];
        default:
          return [fprem(false), fyl2xp1, fsqrt, fsincos, frndint, fscale, fsin, fcos][rm];
      }
    case 0xda:
      if (reg < 4) return fcmov([2, 4, 6, 10][reg], rm);
      if (reg === 5 && rm === 1) return regCom(1, 2, true); // fucompp
      return null;
    case 0xdb:
      if (reg < 4) return fcmov([3, 5, 7, 11][reg], rm);
      if (reg === 4) {
        if (rm === 2) return fnclex;
        if (rm === 3) return fninit;
        if (rm === 0 || rm === 1 || rm === 4) return fnop; // feni, fdisi, fsetpm
        return null;
      }
      if (reg === 5) return regComi(rm, false, true);
      if (reg === 6) return regComi(rm, false, false);
      return null;
    case 0xdc:
      if (reg === 2) return regCom(rm, 0, false);
      if (reg === 3) return regCom(rm, 1, false);
      return regArith(reg >= 4 ? reg ^ 1 : reg, rm, 0, false);
    case 0xdd:
      switch (reg) {
        case 0:
          return ffree(rm, false);
        case 1:
          return fxch(rm);
        case 2:
          return fstReg(rm, false);
        case 3:
          return fstReg(rm, true);
        case 4:
          return regCom(rm, 0, true);
        case 5:
          return regCom(rm, 1, true);
      }
      return null;
    case 0xde:
      if (reg === 3) return rm === 1 ? regCom(1, 2, false) : null; // fcompp
      if (reg === 2) return regCom(rm, 1, false);
      return regArith(reg >= 4 ? reg ^ 1 : reg, rm, 0, true);
    case 0xdf:
      if (reg === 4) return rm === 0 ? fnstswAX : null;
      if (reg === 5) return regComi(rm, true, true);
      if (reg === 6) return regComi(rm, true, false);
      if (reg === 0) return ffree(rm, true); // ffreep
      if (reg === 1) return fxch(rm);
      if (reg === 2 || reg === 3) return fstReg(rm, true);
      return null;
  }
  return null;
}
