/**
 * Handler choice for the SSE opcodes by mandatory prefix and operand kind
 * (moved here from sse.ts as it was; the opcode tables replace it). MMX
 * (no-prefix mm register) forms are not implemented: sseHandler returns null.
 */
import type { Handler, Insn } from '../../insn.js';
import { ADD, DIV, MAX, MIN, MUL, SUB } from './float.js';
import { lddqu, maskmovdqu, movdFromX, movdToX, movddup, movdqaLoad, movdqaStore, movdquLoad, movdquStore, movhpLoad, movhpStore, movlpLoad, movmskpd, movmskps, movntStore, movqLoad, movqStore, movsdLoad, movsdStore, movshdup, movsldup, movssLoad, movssStore, pmovmskb } from './move.js';
import { pabsb, pabsd, pabsw, paddb, paddd, paddq, paddsb, paddsw, paddusb, paddusw, paddw, pand, pandn, pavgb, pavgw, phd, phminposuw, phw, pmaddubsw, pmaddwd, pmaxsb, pmaxsd, pmaxsw, pmaxub, pmaxud, pmaxuw, pminsb, pminsd, pminsw, pminub, pminud, pminuw, pmuldq, pmulhrsw, pmulhuw, pmulhw, pmulld, pmullw, pmuludq, por, psadbw, psignb, psignd, psignw, pslldq, psrldq, psubb, psubd, psubq, psubsb, psubsw, psubusb, psubusw, psubw, pxor, shiftImm, shiftXmm } from './int-arith.js';
import { cmppd, cmpps, cmpsd, cmpss, comisd, comiss, pcmpeqb, pcmpeqd, pcmpeqq, pcmpeqw, pcmpgtb, pcmpgtd, pcmpgtq, pcmpgtw, ptest, ucomisd, ucomiss } from './compare-test.js';
import { blendpd, blendps, blendvpd, blendvps, extractps, insertps, packssdw, packsswb, packusdw, packuswb, palignr, pblendvb, pblendw, pextrb, pextrd, pextrw, pextrwC5, pinsrb, pinsrd, pinsrw, pmovx, pshufb, pshufd, pshufhw, pshuflw, punpckhbw, punpckhdq, punpckhqdq, punpckhwd, punpcklbw, punpckldq, punpcklqdq, punpcklwd, shufpd, shufps } from './shuffle-pack.js';
import { addsubpd, addsubps, approxPS, approxSS, dppd, dpps, fpPD, fpPS, fpSD, fpSS, hpd, hps, roundpd, roundps, roundsd, roundss, sqrtpd, sqrtps, sqrtsd, sqrtss } from './fp-arith.js';
import { cvt2si, cvtdq2pd, cvtdq2ps, cvtpd2dq, cvtpd2ps, cvtps2dq, cvtps2pd, cvtsd2ss, cvtsi2sd, cvtsi2ss, cvtss2sd } from './convert.js';
import { emms, fxrstor, fxsave, ldmxcsr, stmxcsr } from './state.js';
import { crc32b, crc32v } from '../crc32.js';
import { movbeLoad, movbeStore } from '../move.js';

export function group15Handler(i: Insn): Handler | null {
  if (i.rm >= 0 || i.pfx !== 0) return null;
  switch (i.sub) {
    case 0:
      return fxsave;
    case 1:
      return fxrstor;
    case 2:
      return ldmxcsr;
    case 3:
      return stmxcsr;
  }
  return null;
}

const INT66: (Handler | undefined)[] = [];

function int66(op: number, h: Handler): void {
  INT66[op] = h;
}
int66(0x60, punpcklbw);
int66(0x61, punpcklwd);
int66(0x62, punpckldq);
int66(0x63, packsswb);
int66(0x64, pcmpgtb);
int66(0x65, pcmpgtw);
int66(0x66, pcmpgtd);
int66(0x67, packuswb);
int66(0x68, punpckhbw);
int66(0x69, punpckhwd);
int66(0x6a, punpckhdq);
int66(0x6b, packssdw);
int66(0x6c, punpcklqdq);
int66(0x6d, punpckhqdq);
int66(0x74, pcmpeqb);
int66(0x75, pcmpeqw);
int66(0x76, pcmpeqd);
int66(0xd1, shiftXmm(16, 0));
int66(0xd2, shiftXmm(32, 0));
int66(0xd3, shiftXmm(64, 0));
int66(0xd4, paddq);
int66(0xd5, pmullw);
int66(0xd8, psubusb);
int66(0xd9, psubusw);
int66(0xda, pminub);
int66(0xdb, pand);
int66(0xdc, paddusb);
int66(0xdd, paddusw);
int66(0xde, pmaxub);
int66(0xdf, pandn);
int66(0xe0, pavgb);
int66(0xe1, shiftXmm(16, 1));
int66(0xe2, shiftXmm(32, 1));
int66(0xe3, pavgw);
int66(0xe4, pmulhuw);
int66(0xe5, pmulhw);
int66(0xe8, psubsb);
int66(0xe9, psubsw);
int66(0xea, pminsw);
int66(0xeb, por);
int66(0xec, paddsb);
int66(0xed, paddsw);
int66(0xee, pmaxsw);
int66(0xef, pxor);
int66(0xf1, shiftXmm(16, 2));
int66(0xf2, shiftXmm(32, 2));
int66(0xf3, shiftXmm(64, 2));
int66(0xf4, pmuludq);
int66(0xf5, pmaddwd);
int66(0xf6, psadbw);
int66(0xf8, psubb);
int66(0xf9, psubw);
int66(0xfa, psubd);
int66(0xfb, psubq);
int66(0xfc, paddb);
int66(0xfd, paddw);
int66(0xfe, paddd);

/** Float arithmetic 0F 51, 58-5F by prefix: [none=ps, 66=pd, F3=ss, F2=sd] */
const FARITH: Record<number, Handler[]> = {
  0x58: [fpPS(ADD), fpPD(ADD), fpSS(ADD), fpSD(ADD)],
  0x59: [fpPS(MUL), fpPD(MUL), fpSS(MUL), fpSD(MUL)],
  0x5c: [fpPS(SUB), fpPD(SUB), fpSS(SUB), fpSD(SUB)],
  0x5d: [fpPS(MIN), fpPD(MIN), fpSS(MIN), fpSD(MIN)],
  0x5e: [fpPS(DIV), fpPD(DIV), fpSS(DIV), fpSD(DIV)],
  0x5f: [fpPS(MAX), fpPD(MAX), fpSS(MAX), fpSD(MAX)],
  0x51: [sqrtps, sqrtpd, sqrtss, sqrtsd],
};

function byPfx(i: Insn, none: Handler | null, p66: Handler | null, f3: Handler | null, f2: Handler | null): Handler | null {
  switch (i.pfx) {
    case 0:
      return none;
    case 0x66:
      return p66;
    case 0xf3:
      return f3;
    default:
      return f2;
  }
}

const cvttss2si = cvt2si(false, true), cvttsd2si = cvt2si(true, true);
const cvtss2si = cvt2si(false, false), cvtsd2si = cvt2si(true, false);
const rsqrtps = approxPS(1), rcpps = approxPS(0), rsqrtss = approxSS(1), rcpss = approxSS(0);
const cvtps2dqH = cvtps2dq(false), cvttps2dqH = cvtps2dq(true);
const cvtpd2dqH = cvtpd2dq(false), cvttpd2dqH = cvtpd2dq(true);
const haddps = hps(ADD), hsubps = hps(SUB), haddpd = hpd(ADD), hsubpd = hpd(SUB);
const SHIFT71: (Handler | null)[] = [null, null, shiftImm(16, 0), null, shiftImm(16, 1), null, shiftImm(16, 2), null];
const SHIFT72: (Handler | null)[] = [null, null, shiftImm(32, 0), null, shiftImm(32, 1), null, shiftImm(32, 2), null];
const SHIFT73: (Handler | null)[] = [null, null, shiftImm(64, 0), psrldq, null, null, shiftImm(64, 2), pslldq];

function map1(op: number, i: Insn): Handler | null {
  const mem = i.rm < 0;
  const p = i.pfx;
  if (p === 0x66) {
    const h = INT66[op];
    if (h !== undefined) return h;
  }
  const f = FARITH[op];
  if (f !== undefined) return f[p === 0 ? 0 : p === 0x66 ? 1 : p === 0xf3 ? 2 : 3];
  switch (op) {
    case 0x10:
      return byPfx(i, movdquLoad, movdquLoad, movssLoad, movsdLoad);
    case 0x11:
      return byPfx(i, movdquStore, movdquStore, movssStore, movsdStore);
    case 0x12:
      return byPfx(i, movlpLoad, mem ? movlpLoad : null, movsldup, movddup);
    case 0x13:
      return (p === 0 || p === 0x66) && mem ? movsdStore : null;
    case 0x14:
      return byPfx(i, punpckldq, punpcklqdq, null, null);
    case 0x15:
      return byPfx(i, punpckhdq, punpckhqdq, null, null);
    case 0x16:
      return byPfx(i, movhpLoad, mem ? movhpLoad : null, movshdup, null);
    case 0x17:
      return (p === 0 || p === 0x66) && mem ? movhpStore : null;
    case 0x28:
      return p === 0 || p === 0x66 ? movdqaLoad : null;
    case 0x29:
      return p === 0 || p === 0x66 ? movdqaStore : null;
    case 0x2a:
      return byPfx(i, null, null, cvtsi2ss, cvtsi2sd);
    case 0x2b:
      return (p === 0 || p === 0x66) && mem ? movntStore : null;
    case 0x2c:
      return byPfx(i, null, null, cvttss2si, cvttsd2si);
    case 0x2d:
      return byPfx(i, null, null, cvtss2si, cvtsd2si);
    case 0x2e:
      return byPfx(i, ucomiss, ucomisd, null, null);
    case 0x2f:
      return byPfx(i, comiss, comisd, null, null);
    case 0x50:
      return mem ? null : byPfx(i, movmskps, movmskpd, null, null);
    case 0x52:
      return byPfx(i, rsqrtps, null, rsqrtss, null);
    case 0x53:
      return byPfx(i, rcpps, null, rcpss, null);
    case 0x54:
      return byPfx(i, pand, pand, null, null);
    case 0x55:
      return byPfx(i, pandn, pandn, null, null);
    case 0x56:
      return byPfx(i, por, por, null, null);
    case 0x57:
      return byPfx(i, pxor, pxor, null, null);
    case 0x5a:
      return byPfx(i, cvtps2pd, cvtpd2ps, cvtss2sd, cvtsd2ss);
    case 0x5b:
      return byPfx(i, cvtdq2ps, cvtps2dqH, cvttps2dqH, null);
    case 0x6e:
      return p === 0x66 ? movdToX : null;
    case 0x6f:
      return byPfx(i, null, movdqaLoad, movdquLoad, null);
    case 0x70:
      return byPfx(i, null, pshufd, pshufhw, pshuflw);
    case 0x71:
      return p === 0x66 && !mem ? SHIFT71[i.sub & 7] : null;
    case 0x72:
      return p === 0x66 && !mem ? SHIFT72[i.sub & 7] : null;
    case 0x73:
      return p === 0x66 && !mem ? SHIFT73[i.sub & 7] : null;
    case 0x77:
      return p === 0 ? emms : null;
    case 0x7c:
      return byPfx(i, null, haddpd, null, haddps);
    case 0x7d:
      return byPfx(i, null, hsubpd, null, hsubps);
    case 0x7e:
      return byPfx(i, null, movdFromX, movqLoad, null);
    case 0x7f:
      return byPfx(i, null, movdqaStore, movdquStore, null);
    case 0xc2:
      return byPfx(i, cmpps, cmppd, cmpss, cmpsd);
    case 0xc4:
      return p === 0x66 ? pinsrw : null;
    case 0xc5:
      return p === 0x66 && !mem ? pextrwC5 : null;
    case 0xc6:
      return byPfx(i, shufps, shufpd, null, null);
    case 0xd0:
      return byPfx(i, null, addsubpd, null, addsubps);
    case 0xd6:
      return p === 0x66 ? movqStore : null;
    case 0xd7:
      return p === 0x66 && !mem ? pmovmskb : null;
    case 0xe6:
      return byPfx(i, null, cvttpd2dqH, cvtdq2pd, cvtpd2dqH);
    case 0xe7:
      return p === 0x66 && mem ? movntStore : null;
    case 0xf0:
      return p === 0xf2 && mem ? lddqu : null;
    case 0xf7:
      return p === 0x66 && !mem ? maskmovdqu : null;
  }
  return null;
}

const MAP2: (Handler | undefined)[] = [];
MAP2[0x00] = pshufb;
MAP2[0x01] = phw(false, false);
MAP2[0x02] = phd(false);
MAP2[0x03] = phw(false, true);
MAP2[0x04] = pmaddubsw;
MAP2[0x05] = phw(true, false);
MAP2[0x06] = phd(true);
MAP2[0x07] = phw(true, true);
MAP2[0x08] = psignb;
MAP2[0x09] = psignw;
MAP2[0x0a] = psignd;
MAP2[0x0b] = pmulhrsw;
MAP2[0x10] = pblendvb;
MAP2[0x14] = blendvps;
MAP2[0x15] = blendvpd;
MAP2[0x17] = ptest;
MAP2[0x1c] = pabsb;
MAP2[0x1d] = pabsw;
MAP2[0x1e] = pabsd;
for (let k = 0; k < 6; k++) {
  MAP2[0x20 + k] = pmovx(k, true);
  MAP2[0x30 + k] = pmovx(k, false);
}
MAP2[0x28] = pmuldq;
MAP2[0x29] = pcmpeqq;
MAP2[0x2b] = packusdw;
MAP2[0x37] = pcmpgtq;
MAP2[0x38] = pminsb;
MAP2[0x39] = pminsd;
MAP2[0x3a] = pminuw;
MAP2[0x3b] = pminud;
MAP2[0x3c] = pmaxsb;
MAP2[0x3d] = pmaxsd;
MAP2[0x3e] = pmaxuw;
MAP2[0x3f] = pmaxud;
MAP2[0x40] = pmulld;
MAP2[0x41] = phminposuw;

function map2(op: number, i: Insn): Handler | null {
  if (op === 0xf0 || op === 0xf1) {
    if (i.rep === 0xf2 || i.pfx === 0xf2) return op === 0xf0 ? crc32b : crc32v;
    if (i.pfx === 0 || i.pfx === 0x66) return i.rm < 0 ? (op === 0xf0 ? movbeLoad : movbeStore) : null;
    return null;
  }
  if (op === 0x2a) return i.pfx === 0x66 && i.rm < 0 ? movdqaLoad : null; // movntdqa
  if (i.pfx !== 0x66) return null;
  return MAP2[op] ?? null;
}

const MAP3: (Handler | undefined)[] = [];
MAP3[0x08] = roundps;
MAP3[0x09] = roundpd;
MAP3[0x0a] = roundss;
MAP3[0x0b] = roundsd;
MAP3[0x0c] = blendps;
MAP3[0x0d] = blendpd;
MAP3[0x0e] = pblendw;
MAP3[0x0f] = palignr;
MAP3[0x14] = pextrb;
MAP3[0x15] = pextrw;
MAP3[0x16] = pextrd;
MAP3[0x17] = extractps;
MAP3[0x20] = pinsrb;
MAP3[0x21] = insertps;
MAP3[0x22] = pinsrd;
MAP3[0x40] = dpps;
MAP3[0x41] = dppd;

function map3(op: number, i: Insn): Handler | null {
  if (i.pfx !== 0x66) return null;
  return MAP3[op] ?? null;
}

/**
 * Handler for an SSE-family opcode (map 1 = 0F xx, 2 = 0F 38 xx, 3 = 0F 3A xx),
 * chosen by the mandatory prefix and operand kind; null if not implemented.
 */
export function sseHandler(map: number, opcode: number, i: Insn): Handler | null {
  switch (map) {
    case 1:
      return map1(opcode, i);
    case 2:
      return map2(opcode, i);
    case 3:
      return map3(opcode, i);
  }
  return null;
}
