/**
 * The two-byte opcode map, 0F xx (SDM Vol. 2 Tables ), in
 * 64-bit mode. SSE forms are chosen by mandatory prefix (none, 66, F3, F2);
 * the no-prefix MMX forms (mm registers) are not implemented and decode as
 * #UD, as are the system instructions a Linux user program cannot execute,
 * and popcnt (not advertised by CPUID). 0F 38 and 0F 3A are the escapes to
 * the three-byte maps. See row.ts for the shape of a row.
 */
import type { Form, Handler, Insn } from '../insn.js';
import * as alu from '../ops/alu.js';
import * as sh from '../ops/shift.js';
import * as mv from '../ops/move.js';
import * as sys from '../ops/system.js';
import * as move from '../ops/sse/move.js';
import * as int from '../ops/sse/int-arith.js';
import * as cmp from '../ops/sse/compare-test.js';
import * as shuf from '../ops/sse/shuffle-pack.js';
import * as fp from '../ops/sse/fp-arith.js';
import * as cvt from '../ops/sse/convert.js';
import * as state from '../ops/sse/state.js';
import { ADD, DIV, MAX, MIN, MUL, SUB } from '../ops/sse/float.js';
import { jccRows } from './one-byte.js';
import { B, BY, CC, D64, IBU, M, REL32, branch, byPrefix, byReg, byRexW, form, memOnly, memOrReg, opcodeMap, regOnly, row, type Choice, type Resolve, type Row } from './row.js';

type Entry = readonly [number, number, Row];

/** An SSE opcode whose forms are packed single, packed double, scalar single, scalar double (none, 66, F3, F2). */
function psPdSsSd(names: string, operands: string, ps: Handler | null, pd: Handler | null, ss: Handler | null, sd: Handler | null): Resolve {
  const [a, b, c, d] = names.split(' ');
  const f = (n: string, h: Handler | null): Form | null => (h === null ? null : form(n, operands, h));
  return byPrefix(f(a, ps), f(b, pd), f(c, ss), f(d, sd));
}

/** The SSE2 integer instructions: defined with a 66 prefix only (without it they are MMX). */
function p66(name: string, operands: string, h: Handler): Resolve {
  return byPrefix(null, form(name, operands, h), null, null);
}

/** 66 0F 60-6D, D1-FE: op xmm, xmm/m128. */
function int66(entries: readonly (readonly [number, string, Handler])[]): Entry[] {
  return entries.map(([op, name, h]) => [op, op, row(M, p66(name, 'V,W', h))] as const);
}

/** A one-opcode entry. */
function at(op: number, attr: number, c: Choice): Entry {
  return [op, op, row(attr, c)];
}

function setSub(sub: number, f: Form): Resolve {
  return (i) => ((i.sub = sub), f);
}

/** movzx/movsx Gv, Eb: without REX, r/m 4-7 are AH, CH, DH, BH. */
function fromByte(f: Form): Resolve {
  return (i) => {
    i.sub = 1;
    if (i.rex === 0 && i.rm >= 4 && i.rm < 8) i.rm += 12;
    return f;
  };
}

/** The reserved-nop space (0F 0D, 0F 18-1F): hints that execute as no-ops where not defined. */
const reservedNop = form('reservednop', 'Ev,Gv', mv.nop);
const nopE = form('nop', 'Ev', mv.nop);
/** 0F 1F /0 is the long nop; the other ModRM.reg values, like 0F 19-1D, are reserved nops. */
const nop1F = byReg([nopE, reservedNop, reservedNop, reservedNop, reservedNop, reservedNop, reservedNop, reservedNop]);
const endbr64 = form('endbr64', '', mv.nop), endbr32 = form('endbr32', '', mv.nop);

const rdsspd = form('rdsspd', 'Ey', mv.nop), rdsspq = form('rdsspq', 'Ey', mv.nop);

/**
 * 0F 1E: with F3, the CET instructions endbr64 (FA), endbr32 (FB) and rdssp
 * (/1), which execute as no-ops while CET is not enabled (here: never; glibc
 * reads a shadow stack pointer of 0 as "no shadow stack"); otherwise a hint nop.
 */
function hint1E(i: Insn): Form {
  if (i.pfx === 0xf3 && i.rm >= 0) {
    if (i.sub === 7 && (i.rm & 7) === 2) return endbr64;
    if (i.sub === 7 && (i.rm & 7) === 3) return endbr32;
    if (i.sub === 1) return i.rex & 8 ? rdsspq : rdsspd;
  }
  return reservedNop;
}

/** 0F 01 (group 7): only the forms the guest kernel uses (lidt, swapgs, vmcall); sgdt, xgetbv, rdtscp ... are #UD. */
function group7(i: Insn): Form | null {
  if (i.rm < 0) return i.sub === 3 ? lidt : null;
  const rm = i.rm & 7;
  if (i.sub === 7 && rm === 0) return swapgs;
  if (i.sub === 0 && rm === 1) return vmcall; // the guest kernel's hypercall
  return null;
}
const swapgs = form('swapgs', '', sys.swapgs);
const lidt = form('lidt', 'M', sys.lidt);
/** 0F 00 (group 6): ltr, which the guest kernel uses; sldt, str, lldt, verr, verw are #UD. */
const group6 = byReg([null, null, null, form('ltr', 'Ev', sys.ltr), null, null, null, null]);
const vmcall = form('vmcall', '', sys.vmcall);

const PREFETCH_0D = ['prefetch', 'prefetchw', 'prefetchwt1', 'prefetchw', 'prefetch', 'prefetch', 'prefetch', 'prefetch'];

/** 0F 71-73 (groups 12-14): shifts of xmm (66, register form) by imm8. */
function shiftGroup(names: readonly (string | null)[], handlers: readonly (Handler | null)[]): Resolve {
  const forms = names.map((n, k) => (n === null ? null : form(n, 'U,Ib', handlers[k] as Handler)));
  return byPrefix(null, regOnly(byReg(forms)), null, null);
}

/** 0F AE (group 15): fxsave ... stmxcsr and clflush on memory, the fences as register forms. */
const GROUP15_MEM = byReg([
  // fxsave64/fxrstor64 differ in the width of FIP/FDP, which are not tracked (0)
  byPrefix(byRexW(form('fxsave', 'M', state.fxsave), form('fxsave64', 'M', state.fxsave)), null, null, null),
  byPrefix(byRexW(form('fxrstor', 'M', state.fxrstor), form('fxrstor64', 'M', state.fxrstor)), null, null, null),
  byPrefix(form('ldmxcsr', 'M', state.ldmxcsr), null, null, null),
  byPrefix(form('stmxcsr', 'M', state.stmxcsr), null, null, null),
  null,
  null,
  null,
  // clflush(opt): the cache is not modelled
  byPrefix(form('clflush', 'M', mv.nop), form('clflushopt', 'M', mv.nop), form('clflush', 'M', mv.nop), form('clflush', 'M', mv.nop)),
]);
const GROUP15_REG = byPrefix(byReg([null, null, null, null, null, form('lfence', '', mv.nop), form('mfence', '', mv.nop), form('sfence', '', mv.nop)]), null, null, null);

const cvtt2si = [cvt.cvt2si(false, true), cvt.cvt2si(true, true)];
const cvt2si = [cvt.cvt2si(false, false), cvt.cvt2si(true, false)];

const shldI = form('shld', 'Ev,Gv,Ib', sh.shxd);
const shldC = form('shld', 'Ev,Gv,cl', sh.shxd);
const shrdI = form('shrd', 'Ev,Gv,Ib', sh.shxd);
const shrdC = form('shrd', 'Ev,Gv,cl', sh.shxd);
const bswap = form('bswap', 'Gv', mv.bswap);

export const TWO_BYTE: readonly Row[] = opcodeMap('0F map', [
  at(0x00, M | B, group6),
  at(0x01, M | B, group7),
  at(0x05, B, form('syscall', '', sys.syscall)),
  at(0x07, B, byRexW(form('sysret', '', sys.sysret), form('sysretq', '', sys.sysret))),
  // ud2 decodes, and raises #UD when executed
  at(0x0b, B, form('ud2', '', sys.ud)),
  at(0x0d, M, memOrReg(byReg(PREFETCH_0D.map((n) => form(n, 'M', mv.nop))), reservedNop)),
  at(0x10, M, psPdSsSd('movups movupd movss movsd', 'V,W', move.movdquLoad, move.movdquLoad, move.movssLoad, move.movsdLoad)),
  at(0x11, M, psPdSsSd('movups movupd movss movsd', 'W,V', move.movdquStore, move.movdquStore, move.movssStore, move.movsdStore)),
  at(0x12, M, byPrefix(memOrReg(form('movlps', 'V,M', move.movlpLoad), form('movhlps', 'V,U', move.movlpLoad)), memOnly(form('movlpd', 'V,M', move.movlpLoad)), form('movsldup', 'V,W', move.movsldup), form('movddup', 'V,W', move.movddup))),
  at(0x13, M, byPrefix(memOnly(form('movlps', 'M,V', move.movsdStore)), memOnly(form('movlpd', 'M,V', move.movsdStore)), null, null)),
  // unpcklps/unpcklpd interleave dwords/qwords like the integer punpckldq/punpcklqdq
  at(0x14, M, byPrefix(form('unpcklps', 'V,W', shuf.punpckldq), form('unpcklpd', 'V,W', shuf.punpcklqdq), null, null)),
  at(0x15, M, byPrefix(form('unpckhps', 'V,W', shuf.punpckhdq), form('unpckhpd', 'V,W', shuf.punpckhqdq), null, null)),
  at(0x16, M, byPrefix(memOrReg(form('movhps', 'V,M', move.movhpLoad), form('movlhps', 'V,U', move.movhpLoad)), memOnly(form('movhpd', 'V,M', move.movhpLoad)), form('movshdup', 'V,W', move.movshdup), null)),
  at(0x17, M, byPrefix(memOnly(form('movhps', 'M,V', move.movhpStore)), memOnly(form('movhpd', 'M,V', move.movhpStore)), null, null)),
  // the prefetch hints (the caches are not modelled)
  at(0x18, M, memOrReg(byReg([form('prefetchnta', 'M', mv.nop), form('prefetcht0', 'M', mv.nop), form('prefetcht1', 'M', mv.nop), form('prefetcht2', 'M', mv.nop), reservedNop, reservedNop, form('prefetchit1', 'M', mv.nop), form('prefetchit0', 'M', mv.nop)]), reservedNop)),
  [0x19, 0x1b, row(M, reservedNop)],
  // cldemote: a cache hint
  at(0x1c, M, byPrefix(memOrReg(byReg([form('cldemote', 'M', mv.nop), reservedNop, reservedNop, reservedNop, reservedNop, reservedNop, reservedNop, reservedNop]), reservedNop), reservedNop, reservedNop, reservedNop)),
  at(0x1d, M, reservedNop),
  at(0x1e, M, hint1E),
  at(0x1f, M, nop1F),
  at(0x28, M, byPrefix(form('movaps', 'V,W', move.movdqaLoad), form('movapd', 'V,W', move.movdqaLoad), null, null)),
  at(0x29, M, byPrefix(form('movaps', 'W,V', move.movdqaStore), form('movapd', 'W,V', move.movdqaStore), null, null)),
  at(0x2a, M, byPrefix(null, null, form('cvtsi2ss', 'V,Ey', cvt.cvtsi2ss), form('cvtsi2sd', 'V,Ey', cvt.cvtsi2sd))),
  at(0x2b, M, byPrefix(memOnly(form('movntps', 'M,V', move.movntStore)), memOnly(form('movntpd', 'M,V', move.movntStore)), null, null)),
  at(0x2c, M, byPrefix(null, null, form('cvttss2si', 'Gy,W', cvtt2si[0]), form('cvttsd2si', 'Gy,W', cvtt2si[1]))),
  at(0x2d, M, byPrefix(null, null, form('cvtss2si', 'Gy,W', cvt2si[0]), form('cvtsd2si', 'Gy,W', cvt2si[1]))),
  at(0x2e, M, byPrefix(form('ucomiss', 'V,W', cmp.ucomiss), form('ucomisd', 'V,W', cmp.ucomisd), null, null)),
  at(0x2f, M, byPrefix(form('comiss', 'V,W', cmp.comiss), form('comisd', 'V,W', cmp.comisd), null, null)),
  at(0x30, B, form('wrmsr', '', sys.wrmsr)),
  at(0x31, 0, form('rdtsc', '', sys.rdtsc)),
  at(0x32, B, form('rdmsr', '', sys.rdmsr)),
  at(0x35, B, byRexW(form('sysexit', '', sys.sysexit), form('sysexitq', '', sys.sysexit))),
  ...CC.map((cc, k) => at(0x40 + k, M, setSub(k, form('cmov' + cc, 'Gv,Ev', mv.cmov)))),
  at(0x50, M, regOnly(byPrefix(form('movmskps', 'Gy,U', move.movmskps), form('movmskpd', 'Gy,U', move.movmskpd), null, null))),
  at(0x51, M, psPdSsSd('sqrtps sqrtpd sqrtss sqrtsd', 'V,W', fp.sqrtps, fp.sqrtpd, fp.sqrtss, fp.sqrtsd)),
  at(0x52, M, psPdSsSd('rsqrtps - rsqrtss -', 'V,W', fp.approxPS(1), null, fp.approxSS(1), null)),
  at(0x53, M, psPdSsSd('rcpps - rcpss -', 'V,W', fp.approxPS(0), null, fp.approxSS(0), null)),
  // the bitwise float operations are the integer ones: the bits are the same
  at(0x54, M, psPdSsSd('andps andpd - -', 'V,W', int.pand, int.pand, null, null)),
  at(0x55, M, psPdSsSd('andnps andnpd - -', 'V,W', int.pandn, int.pandn, null, null)),
  at(0x56, M, psPdSsSd('orps orpd - -', 'V,W', int.por, int.por, null, null)),
  at(0x57, M, psPdSsSd('xorps xorpd - -', 'V,W', int.pxor, int.pxor, null, null)),
  at(0x58, M, psPdSsSd('addps addpd addss addsd', 'V,W', fp.fpPS(ADD), fp.fpPD(ADD), fp.fpSS(ADD), fp.fpSD(ADD))),
  at(0x59, M, psPdSsSd('mulps mulpd mulss mulsd', 'V,W', fp.fpPS(MUL), fp.fpPD(MUL), fp.fpSS(MUL), fp.fpSD(MUL))),
  at(0x5a, M, psPdSsSd('cvtps2pd cvtpd2ps cvtss2sd cvtsd2ss', 'V,W', cvt.cvtps2pd, cvt.cvtpd2ps, cvt.cvtss2sd, cvt.cvtsd2ss)),
  at(0x5b, M, psPdSsSd('cvtdq2ps cvtps2dq cvttps2dq -', 'V,W', cvt.cvtdq2ps, cvt.cvtps2dq(false), cvt.cvtps2dq(true), null)),
  at(0x5c, M, psPdSsSd('subps subpd subss subsd', 'V,W', fp.fpPS(SUB), fp.fpPD(SUB), fp.fpSS(SUB), fp.fpSD(SUB))),
  at(0x5d, M, psPdSsSd('minps minpd minss minsd', 'V,W', fp.fpPS(MIN), fp.fpPD(MIN), fp.fpSS(MIN), fp.fpSD(MIN))),
  at(0x5e, M, psPdSsSd('divps divpd divss divsd', 'V,W', fp.fpPS(DIV), fp.fpPD(DIV), fp.fpSS(DIV), fp.fpSD(DIV))),
  at(0x5f, M, psPdSsSd('maxps maxpd maxss maxsd', 'V,W', fp.fpPS(MAX), fp.fpPD(MAX), fp.fpSS(MAX), fp.fpSD(MAX))),
  ...int66([
    [0x60, 'punpcklbw', shuf.punpcklbw],
    [0x61, 'punpcklwd', shuf.punpcklwd],
    [0x62, 'punpckldq', shuf.punpckldq],
    [0x63, 'packsswb', shuf.packsswb],
    [0x64, 'pcmpgtb', cmp.pcmpgtb],
    [0x65, 'pcmpgtw', cmp.pcmpgtw],
    [0x66, 'pcmpgtd', cmp.pcmpgtd],
    [0x67, 'packuswb', shuf.packuswb],
    [0x68, 'punpckhbw', shuf.punpckhbw],
    [0x69, 'punpckhwd', shuf.punpckhwd],
    [0x6a, 'punpckhdq', shuf.punpckhdq],
    [0x6b, 'packssdw', shuf.packssdw],
    [0x6c, 'punpcklqdq', shuf.punpcklqdq],
    [0x6d, 'punpckhqdq', shuf.punpckhqdq],
  ]),
  at(0x6e, M, byPrefix(null, byRexW(form('movd', 'V,Ey', move.movdToX), form('movq', 'V,Ey', move.movdToX)), null, null)),
  at(0x6f, M, byPrefix(null, form('movdqa', 'V,W', move.movdqaLoad), form('movdqu', 'V,W', move.movdquLoad), null)),
  at(0x70, M | IBU, byPrefix(null, form('pshufd', 'V,W,Ib', shuf.pshufd), form('pshufhw', 'V,W,Ib', shuf.pshufhw), form('pshuflw', 'V,W,Ib', shuf.pshuflw))),
  at(0x71, M | IBU, shiftGroup([null, null, 'psrlw', null, 'psraw', null, 'psllw', null], [null, null, int.shiftImm(16, 0), null, int.shiftImm(16, 1), null, int.shiftImm(16, 2), null])),
  at(0x72, M | IBU, shiftGroup([null, null, 'psrld', null, 'psrad', null, 'pslld', null], [null, null, int.shiftImm(32, 0), null, int.shiftImm(32, 1), null, int.shiftImm(32, 2), null])),
  at(0x73, M | IBU, shiftGroup([null, null, 'psrlq', 'psrldq', null, null, 'psllq', 'pslldq'], [null, null, int.shiftImm(64, 0), int.psrldq, null, null, int.shiftImm(64, 2), int.pslldq])),
  ...int66([
    [0x74, 'pcmpeqb', cmp.pcmpeqb],
    [0x75, 'pcmpeqw', cmp.pcmpeqw],
    [0x76, 'pcmpeqd', cmp.pcmpeqd],
  ]),
  at(0x77, 0, byPrefix(form('emms', '', state.emms), null, null, null)),
  at(0x7c, M, byPrefix(null, form('haddpd', 'V,W', fp.hpd(ADD)), null, form('haddps', 'V,W', fp.hps(ADD)))),
  at(0x7d, M, byPrefix(null, form('hsubpd', 'V,W', fp.hpd(SUB)), null, form('hsubps', 'V,W', fp.hps(SUB)))),
  at(0x7e, M, byPrefix(null, byRexW(form('movd', 'Ey,V', move.movdFromX), form('movq', 'Ey,V', move.movdFromX)), form('movq', 'V,W', move.movqLoad), null)),
  at(0x7f, M, byPrefix(null, form('movdqa', 'W,V', move.movdqaStore), form('movdqu', 'W,V', move.movdquStore), null)),
  ...jccRows(0x80, REL32 | D64 | B),
  ...CC.map((cc, k) => at(0x90 + k, M | BY, setSub(k, form('set' + cc, 'Eb', mv.setcc)))),
  at(0xa2, 0, form('cpuid', '', sys.cpuid)),
  at(0xa3, M, setSub(4, form('bt', 'Ev,Gv', sh.bitTest))),
  // shld/shrd: sub 0 = shld, 1 = shrd; imm2 1 = count in imm8, 2 = count in CL
  at(0xa4, M | IBU, (i) => ((i.sub = 0), (i.imm2 = 1), shldI)),
  at(0xa5, M, (i) => ((i.sub = 0), (i.imm2 = 2), shldC)),
  at(0xab, M, setSub(5, form('bts', 'Ev,Gv', sh.bitTest))),
  at(0xac, M | IBU, (i) => ((i.sub = 1), (i.imm2 = 1), shrdI)),
  at(0xad, M, (i) => ((i.sub = 1), (i.imm2 = 2), shrdC)),
  at(0xae, M, memOrReg(GROUP15_MEM, GROUP15_REG)),
  at(0xaf, M, form('imul', 'Gv,Ev', alu.imul2)),
  at(0xb0, M | BY, form('cmpxchg', 'Eb,Gb', mv.cmpxchg)),
  at(0xb1, M, form('cmpxchg', 'Ev,Gv', mv.cmpxchg)),
  at(0xb3, M, setSub(6, form('btr', 'Ev,Gv', sh.bitTest))),
  at(0xb6, M, fromByte(form('movzx', 'Gv,Eb', mv.movzx))),
  at(0xb7, M, setSub(2, form('movzx', 'Gv,Ew', mv.movzx))),
  // group 8: bt, bts, btr, btc r/m, imm8 (the operation is ModRM.reg, 4-7)
  at(0xba, M | IBU, byReg([null, null, null, null, form('bt', 'Ev,Ib', sh.bitTest), form('bts', 'Ev,Ib', sh.bitTest), form('btr', 'Ev,Ib', sh.bitTest), form('btc', 'Ev,Ib', sh.bitTest)])),
  at(0xbb, M, setSub(7, form('btc', 'Ev,Gv', sh.bitTest))),
  // F3 0F BC/BD are tzcnt/lzcnt on CPUs with BMI1/LZCNT; without them (as CPUID says here) the prefix is ignored
  at(0xbc, M, setSub(0, form('bsf', 'Gv,Ev', sh.bsfr))),
  at(0xbd, M, setSub(1, form('bsr', 'Gv,Ev', sh.bsfr))),
  at(0xbe, M, fromByte(form('movsx', 'Gv,Eb', mv.movsx))),
  at(0xbf, M, setSub(2, form('movsx', 'Gv,Ew', mv.movsx))),
  at(0xc0, M | BY, form('xadd', 'Eb,Gb', mv.xadd)),
  at(0xc1, M, form('xadd', 'Ev,Gv', mv.xadd)),
  at(0xc2, M | IBU, psPdSsSd('cmpps cmppd cmpss cmpsd', 'V,W,Ib', cmp.cmpps, cmp.cmppd, cmp.cmpss, cmp.cmpsd)),
  // movnti: a non-temporal hint only, a plain store here
  at(0xc3, M, byPrefix(memOnly(form('movnti', 'M,Gy', mv.movEG)), null, null, null)),
  at(0xc4, M | IBU, byPrefix(null, form('pinsrw', 'V,Ey,Ib', shuf.pinsrw), null, null)),
  at(0xc5, M | IBU, byPrefix(null, regOnly(form('pextrw', 'Gy,U,Ib', shuf.pextrwC5)), null, null)),
  at(0xc6, M | IBU, byPrefix(form('shufps', 'V,W,Ib', shuf.shufps), form('shufpd', 'V,W,Ib', shuf.shufpd), null, null)),
  // group 9: only cmpxchg8b/16b
  at(0xc7, M, byReg([null, memOnly(byRexW(form('cmpxchg8b', 'M', mv.cmpxchg8b16b), form('cmpxchg16b', 'M', mv.cmpxchg8b16b))), null, null, null, null, null, null])),
  [0xc8, 0xcf, row(0, (i) => ((i.reg = (i.opc & 7) | (i.rex & 1 ? 8 : 0)), bswap))],
  at(0xd0, M, byPrefix(null, form('addsubpd', 'V,W', fp.addsubpd), null, form('addsubps', 'V,W', fp.addsubps))),
  ...int66([
    [0xd1, 'psrlw', int.shiftXmm(16, 0)],
    [0xd2, 'psrld', int.shiftXmm(32, 0)],
    [0xd3, 'psrlq', int.shiftXmm(64, 0)],
    [0xd4, 'paddq', int.paddq],
    [0xd5, 'pmullw', int.pmullw],
  ]),
  at(0xd6, M, byPrefix(null, form('movq', 'W,V', move.movqStore), null, null)),
  at(0xd7, M, byPrefix(null, regOnly(form('pmovmskb', 'Gy,U', move.pmovmskb)), null, null)),
  ...int66([
    [0xd8, 'psubusb', int.psubusb],
    [0xd9, 'psubusw', int.psubusw],
    [0xda, 'pminub', int.pminub],
    [0xdb, 'pand', int.pand],
    [0xdc, 'paddusb', int.paddusb],
    [0xdd, 'paddusw', int.paddusw],
    [0xde, 'pmaxub', int.pmaxub],
    [0xdf, 'pandn', int.pandn],
    [0xe0, 'pavgb', int.pavgb],
    [0xe1, 'psraw', int.shiftXmm(16, 1)],
    [0xe2, 'psrad', int.shiftXmm(32, 1)],
    [0xe3, 'pavgw', int.pavgw],
    [0xe4, 'pmulhuw', int.pmulhuw],
    [0xe5, 'pmulhw', int.pmulhw],
  ]),
  at(0xe6, M, byPrefix(null, form('cvttpd2dq', 'V,W', cvt.cvtpd2dq(true)), form('cvtdq2pd', 'V,W', cvt.cvtdq2pd), form('cvtpd2dq', 'V,W', cvt.cvtpd2dq(false)))),
  at(0xe7, M, byPrefix(null, memOnly(form('movntdq', 'M,V', move.movntStore)), null, null)),
  ...int66([
    [0xe8, 'psubsb', int.psubsb],
    [0xe9, 'psubsw', int.psubsw],
    [0xea, 'pminsw', int.pminsw],
    [0xeb, 'por', int.por],
    [0xec, 'paddsb', int.paddsb],
    [0xed, 'paddsw', int.paddsw],
    [0xee, 'pmaxsw', int.pmaxsw],
    [0xef, 'pxor', int.pxor],
  ]),
  at(0xf0, M, byPrefix(null, null, null, memOnly(form('lddqu', 'V,M', move.lddqu)))),
  ...int66([
    [0xf1, 'psllw', int.shiftXmm(16, 2)],
    [0xf2, 'pslld', int.shiftXmm(32, 2)],
    [0xf3, 'psllq', int.shiftXmm(64, 2)],
    [0xf4, 'pmuludq', int.pmuludq],
    [0xf5, 'pmaddwd', int.pmaddwd],
    [0xf6, 'psadbw', int.psadbw],
  ]),
  at(0xf7, M, byPrefix(null, regOnly(form('maskmovdqu', 'Mdi,V,U', move.maskmovdqu)), null, null)),
  ...int66([
    [0xf8, 'psubb', int.psubb],
    [0xf9, 'psubw', int.psubw],
    [0xfa, 'psubd', int.psubd],
    [0xfb, 'psubq', int.psubq],
    [0xfc, 'paddb', int.paddb],
    [0xfd, 'paddw', int.paddw],
    [0xfe, 'paddd', int.paddd],
  ]),
]);
