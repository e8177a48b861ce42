/**
 * SSE rearrangements: packs with saturation, unpacks (interleaves), shuffles
 * (pshufd/hw/lw, shufps/pd, pshufb, palignr), element inserts and extracts,
 * blends, and the sign/zero extensions pmovsx/pmovzx.
 */
import type { CPU } from '../../cpu.js';
import type { Handler, Insn } from '../../insn.js';
import { RB, RI, RW, SB, SI, SSB, SSW, SW, XB, XI, XSW, XW, bind, copyR, gprSrc, ld16, ld32, ld64, ldA } from './operands.js';
import { sat16s, sat16u, sat8s, sat8u } from './int-arith.js';

export function packsswb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k++) {
    RB[k] = sat8s(XSW[d + k]);
    RB[k + 8] = sat8s(SSW[k]);
  }
  copyR(i.reg << 2);
}

export function packuswb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k++) {
    RB[k] = sat8u(XSW[d + k]);
    RB[k + 8] = sat8u(SSW[k]);
  }
  copyR(i.reg << 2);
}

export function packssdw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) {
    RW[k] = sat16s(XI[d + k]);
    RW[k + 4] = sat16s(SI[k]);
  }
  copyR(d);
}

export function packusdw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) {
    RW[k] = sat16u(XI[d + k]);
    RW[k + 4] = sat16u(SI[k]);
  }
  copyR(d);
}

export function punpcklbw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 8; k++) {
    RB[2 * k] = XB[d + k];
    RB[2 * k + 1] = SB[k];
  }
  copyR(i.reg << 2);
}

export function punpckhbw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 8; k++) {
    RB[2 * k] = XB[d + 8 + k];
    RB[2 * k + 1] = SB[8 + k];
  }
  copyR(i.reg << 2);
}

export function punpcklwd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 4; k++) {
    RW[2 * k] = XW[d + k];
    RW[2 * k + 1] = SW[k];
  }
  copyR(i.reg << 2);
}

export function punpckhwd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 4; k++) {
    RW[2 * k] = XW[d + 4 + k];
    RW[2 * k + 1] = SW[4 + k];
  }
  copyR(i.reg << 2);
}

/** punpckldq / unpcklps */
export function punpckldq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d + 3] = SI[1];
  XI[d + 2] = XI[d + 1];
  XI[d + 1] = SI[0];
}

/** punpckhdq / unpckhps */
export function punpckhdq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = XI[d + 2];
  XI[d + 1] = SI[2];
  XI[d + 2] = XI[d + 3];
  XI[d + 3] = SI[3];
}

/** punpcklqdq / unpcklpd */
export function punpcklqdq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d + 2] = SI[0];
  XI[d + 3] = SI[1];
}

/** punpckhqdq / unpckhpd */
export function punpckhqdq(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = XI[d + 2];
  XI[d + 1] = XI[d + 3];
  XI[d + 2] = SI[2];
  XI[d + 3] = SI[3];
}

export function pshufd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2, m = i.imm;
  XI[d] = SI[m & 3];
  XI[d + 1] = SI[(m >> 2) & 3];
  XI[d + 2] = SI[(m >> 4) & 3];
  XI[d + 3] = SI[(m >> 6) & 3];
}

export function pshufhw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3, m = i.imm;
  XI[d >> 1] = SI[0];
  XI[(d >> 1) + 1] = SI[1];
  XW[d + 4] = SW[4 + (m & 3)];
  XW[d + 5] = SW[4 + ((m >> 2) & 3)];
  XW[d + 6] = SW[4 + ((m >> 4) & 3)];
  XW[d + 7] = SW[4 + ((m >> 6) & 3)];
}

export function pshuflw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3, m = i.imm;
  XW[d] = SW[m & 3];
  XW[d + 1] = SW[(m >> 2) & 3];
  XW[d + 2] = SW[(m >> 4) & 3];
  XW[d + 3] = SW[(m >> 6) & 3];
  XI[(d >> 1) + 2] = SI[2];
  XI[(d >> 1) + 3] = SI[3];
}

export function shufps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2, m = i.imm;
  const a = XI[d + (m & 3)], b = XI[d + ((m >> 2) & 3)];
  XI[d] = a;
  XI[d + 1] = b;
  XI[d + 2] = SI[(m >> 4) & 3];
  XI[d + 3] = SI[(m >> 6) & 3];
}

export function shufpd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2, m = i.imm;
  const q = d + (m & 1 ? 2 : 0);
  const lo = XI[q], hi = XI[q + 1];
  XI[d] = lo;
  XI[d + 1] = hi;
  const s = m & 2 ? 2 : 0;
  XI[d + 2] = SI[s];
  XI[d + 3] = SI[s + 1];
}

export function pshufb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 16; k++) {
    const s = SB[k];
    RB[k] = s & 0x80 ? 0 : XB[d + (s & 15)];
  }
  copyR(i.reg << 2);
}

export function palignr(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4, n = i.imm;
  for (let k = 0; k < 16; k++) {
    const j = k + n;
    RB[k] = j < 16 ? SB[j] : j < 32 ? XB[d + j - 16] : 0;
  }
  copyR(i.reg << 2);
}

export function pinsrw(cpu: CPU, i: Insn): void {
  const v = i.rm >= 0 ? cpu.rl[i.rm] : cpu.mem.read16(cpu.ea(i));
  bind(cpu);
  XW[(i.reg << 3) + (i.imm & 7)] = v;
}

export function pextrwC5(cpu: CPU, i: Insn): void {
  bind(cpu);
  cpu.setReg(i.reg, 4, XW[(i.rm << 3) + (i.imm & 7)], 0);
}

export function pinsrb(cpu: CPU, i: Insn): void {
  const v = i.rm >= 0 ? cpu.rl[i.rm] : cpu.mem.read8(cpu.ea(i));
  bind(cpu);
  XB[(i.reg << 4) + (i.imm & 15)] = v;
}

export function pinsrd(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rex & 8) {
    const lo = gprSrc(cpu, i);
    const k = d + ((i.imm & 1) << 1);
    XI[k] = lo;
    XI[k + 1] = cpu.hi;
  } else {
    const v = gprSrc(cpu, i);
    XI[d + (i.imm & 3)] = v;
  }
}

/** pextrb/pextrw/pextrd/pextrq/extractps r/m, xmm, imm: the element is in the reg field */
export function pextrb(cpu: CPU, i: Insn): void {
  bind(cpu);
  const v = XB[(i.reg << 4) + (i.imm & 15)];
  if (i.rm >= 0) cpu.setReg(i.rm, 4, v, 0);
  else cpu.mem.write8(cpu.ea(i), v);
}

export function pextrw(cpu: CPU, i: Insn): void {
  bind(cpu);
  const v = XW[(i.reg << 3) + (i.imm & 7)];
  if (i.rm >= 0) cpu.setReg(i.rm, 4, v, 0);
  else cpu.mem.write16(cpu.ea(i), v);
}

export function pextrd(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  if (i.rex & 8) {
    const k = s + ((i.imm & 1) << 1);
    if (i.rm >= 0) cpu.setReg(i.rm, 8, XI[k], XI[k + 1]);
    else cpu.mem.write64(cpu.ea(i), XI[k], XI[k + 1]);
  } else {
    const v = XI[s + (i.imm & 3)];
    if (i.rm >= 0) cpu.setReg(i.rm, 4, v, 0);
    else cpu.mem.write32(cpu.ea(i), v);
  }
}

export function extractps(cpu: CPU, i: Insn): void {
  bind(cpu);
  const v = XI[(i.reg << 2) + (i.imm & 3)];
  if (i.rm >= 0) cpu.setReg(i.rm, 4, v, 0);
  else cpu.mem.write32(cpu.ea(i), v);
}

export function insertps(cpu: CPU, i: Insn): void {
  const m = i.imm;
  let v: number;
  bind(cpu);
  if (i.rm >= 0) v = XI[(i.rm << 2) + (m >> 6)];
  else v = cpu.mem.read32(cpu.ea(i));
  const d = i.reg << 2;
  XI[d + ((m >> 4) & 3)] = v;
  for (let k = 0; k < 4; k++) if (m & (1 << k)) XI[d + k] = 0;
}

export function pblendw(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 3;
  for (let k = 0; k < 8; k++) if (i.imm & (1 << k)) XW[d + k] = SW[k];
}

export function blendps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) if (i.imm & (1 << k)) XI[d + k] = SI[k];
}

export function blendpd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  if (i.imm & 1) {
    XI[d] = SI[0];
    XI[d + 1] = SI[1];
  }
  if (i.imm & 2) {
    XI[d + 2] = SI[2];
    XI[d + 3] = SI[3];
  }
}

/** pblendvb: mask in xmm0 */
export function pblendvb(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 4;
  for (let k = 0; k < 16; k++) if (XB[k] & 0x80) XB[d + k] = SB[k];
}

export function blendvps(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  for (let k = 0; k < 4; k++) if (XI[k] < 0) XI[d + k] = SI[k];
}

export function blendvpd(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  if (XI[1] < 0) {
    XI[d] = SI[0];
    XI[d + 1] = SI[1];
  }
  if (XI[3] < 0) {
    XI[d + 2] = SI[2];
    XI[d + 3] = SI[3];
  }
}

/** pmovsx/pmovzx: kind = low nibble of the opcode (0 bw, 1 bd, 2 bq, 3 wd, 4 wq, 5 dq) */
export function pmovx(kind: number, signed: boolean): Handler {
  const srcBytes = [8, 4, 2, 8, 4, 8][kind];
  return (cpu, i) => {
    if (srcBytes === 8) ld64(cpu, i);
    else if (srcBytes === 4) ld32(cpu, i);
    else ld16(cpu, i);
    const d = i.reg << 2;
    switch (kind) {
      case 0:
        for (let k = 0; k < 8; k++) RW[k] = signed ? SSB[k] : SB[k];
        break;
      case 1:
        for (let k = 0; k < 4; k++) RI[k] = signed ? SSB[k] : SB[k];
        break;
      case 2:
        for (let k = 0; k < 2; k++) {
          const v = signed ? SSB[k] : SB[k];
          RI[2 * k] = v;
          RI[2 * k + 1] = v >> 31;
        }
        break;
      case 3:
        for (let k = 0; k < 4; k++) RI[k] = signed ? SSW[k] : SW[k];
        break;
      case 4:
        for (let k = 0; k < 2; k++) {
          const v = signed ? SSW[k] : SW[k];
          RI[2 * k] = v;
          RI[2 * k + 1] = v >> 31;
        }
        break;
      default: {
        const a = SI[0], b = SI[1];
        RI[0] = a;
        RI[1] = signed ? a >> 31 : 0;
        RI[2] = b;
        RI[3] = signed ? b >> 31 : 0;
      }
    }
    copyR(d);
  };
}
