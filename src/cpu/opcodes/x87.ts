/**
 * The x87 escape opcodes D8-DF (SDM Vol. 2 Tables ): for each, the
 * eight memory forms by ModRM.reg and the 64 register forms by ModRM C0-FF.
 * The one-byte map's rows for D8-DF resolve through `x87`. Handlers of
 * register forms are made once per ModRM byte, with ST(i) fixed in them.
 * fbld/fbstp (BCD) are not implemented.
 */
import type { Form, Handler, Insn } from '../insn.js';
import { type MemLoad, ldI16, ldI32, ldI64, ldM32, ldM64 } from '../ops/x87/stack.js';
import { fabs, fchs, fprem, fprem1, frndint, fscale, fsqrt, ftst, fxam, fxtract, memArithHandler, regArith, regCom, regComi } from '../ops/x87/arith.js';
import { fcmov, fistMem, fld1, fld80, fldMem, fldReg, fldl2e, fldl2t, fldlg2, fldln2, fldpi, fldz, fstMem, fstReg, fstp80, fxch } from '../ops/x87/load-store.js';
import { f2xm1, fcos, fpatan, fptan, fsin, fsincos, fyl2x, fyl2xp1 } from '../ops/x87/transcendental.js';
import { fdecstp, ffree, fincstp, fldcw, fldenv, fnclex, fninit, fnop, fnsave, fnstcw, fnstenv, fnstswAX, fnstswM, frstor } from '../ops/x87/control.js';
import { form } from './row.js';

/** One escape opcode: memory forms by ModRM.reg, register forms by ModRM & 0x3f. */
interface Escape {
  readonly mem: readonly (Form | null)[];
  readonly reg: readonly (Form | null)[];
}

type RegGroup = ((sti: number) => Form | null) | null;

/** The 64 register forms from eight groups of ModRM.reg, each a function of ST(i). */
function regForms(groups: readonly RegGroup[]): (Form | null)[] {
  const out: (Form | null)[] = [];
  for (let r = 0; r < 8; r++) for (let k = 0; k < 8; k++) out.push(groups[r]?.(k) ?? null);
  return out;
}

/** A register group whose ModRM.rm selects an instruction rather than ST(i) (D9 E0-FF, DB E0-E7). */
function each(forms: readonly (Form | null)[]): RegGroup {
  return (k) => forms[k];
}

/** Only ModRM.rm = n is defined (fnop, fucompp, fcompp, fnstsw ax). */
function only(n: number, f: Form): RegGroup {
  return (k) => (k === n ? f : null);
}

const ARITH = ['add', 'mul', 'com', 'comp', 'sub', 'subr', 'div', 'divr'];

/** D8, DA, DC, DE memory forms: ST(0) op m32fp, m32int, m64fp, m16int. */
function memArith(prefix: string, load: MemLoad): Form[] {
  return ARITH.map((n, op) => form(`f${prefix}${n}`, 'M', memArithHandler(load, op)));
}

/** fcom/fcomp/fucom/fucomp ST(0), ST(i): pops after the compare. */
function com(name: string, pops: number, unordered: boolean): RegGroup {
  return (k) => form(name, 'st0,sti', regCom(k, pops, unordered));
}
/** fcomi/fcomip/fucomi/fucomip ST(0), ST(i) into RFLAGS. */
function comi(name: string, pop: boolean, unordered: boolean): RegGroup {
  return (k) => form(name, 'st0,sti', regComi(k, pop, unordered));
}
/** ST(0) = ST(0) op ST(i) (D8), or ST(i) = ST(i) op ST(0) (DC, DE with pop). op: 0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr. */
function arithTo0(name: string, op: number): RegGroup {
  return (k) => form(name, 'st0,sti', regArith(op, 0, k, false));
}
function arithToI(name: string, op: number, pop: boolean): RegGroup {
  return (k) => form(name, 'sti,st0', regArith(op, k, 0, pop));
}
function fcmovcc(name: string, cc: number): RegGroup {
  return (k) => form(name, 'st0,sti', fcmov(cc, k));
}
function sti(name: string, h: (k: number) => Handler): RegGroup {
  return (k) => form(name, 'sti', h(k));
}
function st0sti(name: string, h: (k: number) => Handler): RegGroup {
  return (k) => form(name, 'st0,sti', h(k));
}

/**
 * The eight escapes' tables, made on the first x87 instruction: 576 forms and their handlers, ~6 ms of every start
 * (issue 16) that most programs never use.
 */
function makeEscapes(): readonly Escape[] {
  const D8: Escape = {
    mem: memArith('', ldM32),
    reg: regForms([
      arithTo0('fadd', 0),
      arithTo0('fmul', 1),
      com('fcom', 0, false),
      com('fcomp', 1, false),
      arithTo0('fsub', 4),
      arithTo0('fsubr', 5),
      arithTo0('fdiv', 6),
      arithTo0('fdivr', 7),
    ]),
  };

  const D9: Escape = {
    mem: [
      form('fld', 'M', fldMem(ldM32)),
      null,
      form('fst', 'M', fstMem(4, false)),
      form('fstp', 'M', fstMem(4, true)),
      form('fldenv', 'M', fldenv),
      form('fldcw', 'M', fldcw),
      form('fnstenv', 'M', fnstenv),
      form('fnstcw', 'M', fnstcw),
    ],
    reg: regForms([
      sti('fld', fldReg),
      st0sti('fxch', fxch),
      only(0, form('fnop', '', fnop)),
      // D9 D8+i: an undocumented alias of fstp st(i)
      sti('fstpnce', (k) => fstReg(k, true)),
      each([form('fchs', '', fchs), form('fabs', '', fabs), null, null, form('ftst', '', ftst), form('fxam', '', fxam), null, null]),
      each([
        form('fld1', '', fld1),
        form('fldl2t', '', fldl2t),
        form('fldl2e', '', fldl2e),
        form('fldpi', '', fldpi),
        form('fldlg2', '', fldlg2),
        form('fldln2', '', fldln2),
        form('fldz', '', fldz),
        null,
      ]),
      each([
        form('f2xm1', '', f2xm1),
        form('fyl2x', '', fyl2x),
        form('fptan', '', fptan),
        form('fpatan', '', fpatan),
        form('fxtract', '', fxtract),
        form('fprem1', '', fprem1),
        form('fdecstp', '', fdecstp),
        form('fincstp', '', fincstp),
      ]),
      each([
        form('fprem', '', fprem),
        form('fyl2xp1', '', fyl2xp1),
        form('fsqrt', '', fsqrt),
        form('fsincos', '', fsincos),
        form('frndint', '', frndint),
        form('fscale', '', fscale),
        form('fsin', '', fsin),
        form('fcos', '', fcos),
      ]),
    ]),
  };

  const DA: Escape = {
    mem: memArith('i', ldI32),
    reg: regForms([
      fcmovcc('fcmovb', 2),
      fcmovcc('fcmove', 4),
      fcmovcc('fcmovbe', 6),
      fcmovcc('fcmovu', 10),
      null,
      only(1, form('fucompp', '', regCom(1, 2, true))),
      null,
      null,
    ]),
  };

  const DB: Escape = {
    mem: [
      form('fild', 'M', fldMem(ldI32)),
      form('fisttp', 'M', fistMem(32, true, true)),
      form('fist', 'M', fistMem(32, false, false)),
      form('fistp', 'M', fistMem(32, true, false)),
      null,
      form('fld', 'M', fld80),
      null,
      form('fstp', 'M', fstp80),
    ],
    reg: regForms([
      fcmovcc('fcmovnb', 3),
      fcmovcc('fcmovne', 5),
      fcmovcc('fcmovnbe', 7),
      fcmovcc('fcmovnu', 11),
      // 8087/287 controls that the 387 and later execute as no-ops, and fnclex, fninit
      each([form('fneni', '', fnop), form('fndisi', '', fnop), form('fnclex', '', fnclex), form('fninit', '', fninit), form('fnsetpm', '', fnop), null, null, null]),
      comi('fucomi', false, true),
      comi('fcomi', false, false),
      null,
    ]),
  };

  const DC: Escape = {
    mem: memArith('', ldM64),
    reg: regForms([
      arithToI('fadd', 0, false),
      arithToI('fmul', 1, false),
      com('fcom', 0, false),
      com('fcomp', 1, false),
      arithToI('fsubr', 5, false),
      arithToI('fsub', 4, false),
      arithToI('fdivr', 7, false),
      arithToI('fdiv', 6, false),
    ]),
  };

  const DD: Escape = {
    mem: [
      form('fld', 'M', fldMem(ldM64)),
      form('fisttp', 'M', fistMem(64, true, true)),
      form('fst', 'M', fstMem(8, false)),
      form('fstp', 'M', fstMem(8, true)),
      form('frstor', 'M', frstor),
      null,
      form('fnsave', 'M', fnsave),
      form('fnstsw', 'M', fnstswM),
    ],
    reg: regForms([
      sti('ffree', (k) => ffree(k, false)),
      st0sti('fxch', fxch),
      sti('fst', (k) => fstReg(k, false)),
      sti('fstp', (k) => fstReg(k, true)),
      com('fucom', 0, true),
      com('fucomp', 1, true),
      null,
      null,
    ]),
  };

  const DE: Escape = {
    mem: memArith('i', ldI16),
    reg: regForms([
      arithToI('faddp', 0, true),
      arithToI('fmulp', 1, true),
      com('fcomp', 1, false),
      only(1, form('fcompp', '', regCom(1, 2, false))),
      arithToI('fsubrp', 5, true),
      arithToI('fsubp', 4, true),
      arithToI('fdivrp', 7, true),
      arithToI('fdivp', 6, true),
    ]),
  };

  const DF: Escape = {
    mem: [
      form('fild', 'M', fldMem(ldI16)),
      form('fisttp', 'M', fistMem(16, true, true)),
      form('fist', 'M', fistMem(16, false, false)),
      form('fistp', 'M', fistMem(16, true, false)),
      null,
      form('fild', 'M', fldMem(ldI64)),
      null,
      form('fistp', 'M', fistMem(64, true, false)),
    ],
    reg: regForms([
      sti('ffreep', (k) => ffree(k, true)),
      st0sti('fxch', fxch),
      sti('fstp', (k) => fstReg(k, true)),
      sti('fstp', (k) => fstReg(k, true)),
      only(0, form('fnstsw', 'ax', fnstswAX)),
      comi('fucomip', true, true),
      comi('fcomip', true, false),
      null,
    ]),
  };
  return [D8, D9, DA, DB, DC, DD, DE, DF];
}

let escapes: readonly Escape[] | null = null;

/** Resolver of the one-byte map's D8-DF rows. */
export function x87(i: Insn): Form | null {
  const e = (escapes ??= makeEscapes())[(i.opc & 0xff) - 0xd8];
  return i.rm < 0 ? e.mem[i.sub] : e.reg[(i.sub << 3) | (i.rm & 7)];
}
