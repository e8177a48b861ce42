/**
 * SSE data movement: aligned/unaligned/scalar/half moves between xmm registers
 * and memory, movd/movq with general registers, duplicating moves (movddup,
 * movsldup, movshdup), non-temporal stores, maskmovdqu and the sign-mask
 * extractions (movmskps/pd, pmovmskb).
 */
import type { CPU } from '../../cpu.js';
import type { Insn } from '../../insn.js';
import { SI, XB, XI, bind, copyS, gp, gprSrc, ld64, ldA, rd128, wr128 } from './operands.js';

export function movdqaLoad(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rm >= 0) {
    const s = i.rm << 2;
    XI[d] = XI[s];
    XI[d + 1] = XI[s + 1];
    XI[d + 2] = XI[s + 2];
    XI[d + 3] = XI[s + 3];
  } else {
    const a = cpu.ea(i);
    if ((a & 15) !== 0) gp();
    rd128(cpu, a, XI, d);
  }
}

export function movdquLoad(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rm >= 0) {
    const s = i.rm << 2;
    XI[d] = XI[s];
    XI[d + 1] = XI[s + 1];
    XI[d + 2] = XI[s + 2];
    XI[d + 3] = XI[s + 3];
  } else rd128(cpu, cpu.ea(i), XI, d);
}

export function movdqaStore(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  if (i.rm >= 0) {
    const d = i.rm << 2;
    XI[d] = XI[s];
    XI[d + 1] = XI[s + 1];
    XI[d + 2] = XI[s + 2];
    XI[d + 3] = XI[s + 3];
  } else {
    const a = cpu.ea(i);
    if ((a & 15) !== 0) gp();
    wr128(cpu, a, XI, s);
  }
}

export function movdquStore(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  if (i.rm >= 0) {
    const d = i.rm << 2;
    XI[d] = XI[s];
    XI[d + 1] = XI[s + 1];
    XI[d + 2] = XI[s + 2];
    XI[d + 3] = XI[s + 3];
  } else wr128(cpu, cpu.ea(i), XI, s);
}

/** movss xmm, xmm/m32 */
export function movssLoad(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rm >= 0) XI[d] = XI[i.rm << 2];
  else {
    XI[d] = cpu.mem.read32(cpu.ea(i));
    XI[d + 1] = 0;
    XI[d + 2] = 0;
    XI[d + 3] = 0;
  }
}

/** movss xmm/m32, xmm */
export function movssStore(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  if (i.rm >= 0) XI[i.rm << 2] = XI[s];
  else cpu.mem.write32(cpu.ea(i), XI[s]);
}

/** movsd xmm, xmm/m64 */
export function movsdLoad(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rm >= 0) {
    XI[d] = XI[i.rm << 2];
    XI[d + 1] = XI[(i.rm << 2) + 1];
  } else {
    const mem = cpu.mem;
    XI[d] = mem.read64(cpu.ea(i));
    XI[d + 1] = mem.hi;
    XI[d + 2] = 0;
    XI[d + 3] = 0;
  }
}

/** movsd xmm/m64, xmm and movlps/movlpd m64, xmm */
export function movsdStore(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  if (i.rm >= 0) {
    XI[i.rm << 2] = XI[s];
    XI[(i.rm << 2) + 1] = XI[s + 1];
  } else cpu.mem.write64(cpu.ea(i), XI[s], XI[s + 1]);
}

/** movq xmm, xmm/m64 (F3 0F 7E): zero the upper qword */
export function movqLoad(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  copyS(i.reg << 2);
}

/** movq xmm/m64, xmm (66 0F D6): a register destination has its upper qword zeroed */
export function movqStore(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  if (i.rm >= 0) {
    const d = i.rm << 2;
    XI[d] = XI[s];
    XI[d + 1] = XI[s + 1];
    XI[d + 2] = 0;
    XI[d + 3] = 0;
  } else cpu.mem.write64(cpu.ea(i), XI[s], XI[s + 1]);
}

/** movhlps (reg) / movlps, movlpd (m64): replace the low qword */
export function movlpLoad(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rm >= 0) {
    const s = i.rm << 2;
    XI[d] = XI[s + 2];
    XI[d + 1] = XI[s + 3];
  } else {
    const mem = cpu.mem;
    XI[d] = mem.read64(cpu.ea(i));
    XI[d + 1] = mem.hi;
  }
}

/** movlhps (reg) / movhps, movhpd (m64): replace the high qword */
export function movhpLoad(cpu: CPU, i: Insn): void {
  bind(cpu);
  const d = i.reg << 2;
  if (i.rm >= 0) {
    const s = i.rm << 2;
    XI[d + 2] = XI[s];
    XI[d + 3] = XI[s + 1];
  } else {
    const mem = cpu.mem;
    const lo = mem.read64(cpu.ea(i));
    XI[d + 2] = lo;
    XI[d + 3] = mem.hi;
  }
}

/** movhps/movhpd m64, xmm */
export function movhpStore(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  cpu.mem.write64(cpu.ea(i), XI[s + 2], XI[s + 3]);
}

/** movddup xmm, xmm/m64 */
export function movddup(cpu: CPU, i: Insn): void {
  ld64(cpu, i);
  const d = i.reg << 2;
  XI[d] = XI[d + 2] = SI[0];
  XI[d + 1] = XI[d + 3] = SI[1];
}

/** movsldup (sub 0) / movshdup (sub 1) */
export function movsldup(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = XI[d + 1] = SI[0];
  XI[d + 2] = XI[d + 3] = SI[2];
}

export function movshdup(cpu: CPU, i: Insn): void {
  ldA(cpu, i);
  const d = i.reg << 2;
  XI[d] = XI[d + 1] = SI[1];
  XI[d + 2] = XI[d + 3] = SI[3];
}

/** movd/movq xmm, r/m32|64 */
export function movdToX(cpu: CPU, i: Insn): void {
  const lo = gprSrc(cpu, i);
  const hi = cpu.hi;
  bind(cpu);
  const d = i.reg << 2;
  XI[d] = lo;
  XI[d + 1] = hi;
  XI[d + 2] = 0;
  XI[d + 3] = 0;
}

/** movd/movq r/m32|64, xmm */
export function movdFromX(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 2;
  const w = (i.rex & 8) !== 0;
  if (i.rm >= 0) {
    if (w) cpu.setReg(i.rm, 8, XI[s], XI[s + 1]);
    else cpu.setReg(i.rm, 4, XI[s], 0);
  } else if (w) cpu.mem.write64(cpu.ea(i), XI[s], XI[s + 1]);
  else cpu.mem.write32(cpu.ea(i), XI[s]);
}

/** movntdq/movntps/movntpd m128, xmm and movntdqa xmm, m128 */
export function movntStore(cpu: CPU, i: Insn): void {
  movdqaStore(cpu, i);
}

/** lddqu xmm, m128 */
export function lddqu(cpu: CPU, i: Insn): void {
  movdquLoad(cpu, i);
}

/** maskmovdqu xmm1, xmm2: bytes of xmm1 whose xmm2 mask byte has bit 7 go to [rdi] */
export function maskmovdqu(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.reg << 4, m = i.rm << 4;
  let a = i.asize === 4 ? cpu.rl[7] >>> 0 : cpu.getNum(7);
  if (i.seg !== 0) a += i.seg === 1 ? cpu.fsBase : cpu.gsBase;
  for (let k = 0; k < 16; k++) if (XB[m + k] & 0x80) cpu.mem.wpage(a + k);
  for (let k = 0; k < 16; k++) if (XB[m + k] & 0x80) cpu.mem.write8(a + k, XB[s + k]);
}

/** movmskps r32, xmm */
export function movmskps(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.rm << 2;
  const v = (XI[s] >>> 31) | ((XI[s + 1] >>> 31) << 1) | ((XI[s + 2] >>> 31) << 2) | ((XI[s + 3] >>> 31) << 3);
  cpu.setReg(i.reg, 4, v, 0);
}

/** movmskpd r32, xmm */
export function movmskpd(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.rm << 2;
  cpu.setReg(i.reg, 4, (XI[s + 1] >>> 31) | ((XI[s + 3] >>> 31) << 1), 0);
}

/** Sign bits of the 4 bytes of v, as a 4-bit mask. */
function byteSigns(v: number): number {
  return (Math.imul((v >>> 7) & 0x01010101, 0x00204081) >>> 21) & 15;
}

/** pmovmskb r32, xmm */
export function pmovmskb(cpu: CPU, i: Insn): void {
  bind(cpu);
  const s = i.rm << 2;
  const v = byteSigns(XI[s]) | (byteSigns(XI[s + 1]) << 4) | (byteSigns(XI[s + 2]) << 8) | (byteSigns(XI[s + 3]) << 12);
  cpu.setReg(i.reg, 4, v, 0);
}
