/**
 * Registers and memory: the amd64-linux `g` layout (arch/x86_64.ts) filled
 * from the two sets ptrace gives, struct user_regs_struct and the fxsave
 * image, the way gdbserver's x86-64 Linux target does (its x86_64_regmap,
 * and gdb's i387_supply_fxsave for the x87 part: the full tag word is
 * computed from the abridged one and the registers' contents).
 */
import { REG } from '../arch/x86_64.js';
import type { Arch, MemoryOps, RegistersOps } from '../target.js';
import { USER_FPREGS_SIZE, USER_REGS, USER_REGS_SIZE, type GuestProcess } from './port.js';

/** Where a gdb register lives: a slot of user_regs_struct, or a byte offset in the fxsave image. */
type Home = { set: 'regs'; off: number } | { set: 'fp'; off: number } | { set: 'ftag' };

function homeOf(regnum: number): Home | null {
  const gpr = [
    USER_REGS.rax, USER_REGS.rbx, USER_REGS.rcx, USER_REGS.rdx, USER_REGS.rsi, USER_REGS.rdi, USER_REGS.rbp, USER_REGS.rsp,
    USER_REGS.r8, USER_REGS.r9, USER_REGS.r10, USER_REGS.r11, USER_REGS.r12, USER_REGS.r13, USER_REGS.r14, USER_REGS.r15,
  ];
  if (regnum < 16) return { set: 'regs', off: gpr[regnum] * 8 };
  if (regnum >= REG.st0 && regnum < REG.st0 + 8) return { set: 'fp', off: 32 + 16 * (regnum - REG.st0) };
  if (regnum >= REG.xmm0 && regnum < REG.xmm0 + 16) return { set: 'fp', off: 160 + 16 * (regnum - REG.xmm0) };
  const slot: Partial<Record<number, number>> = {
    [REG.rip]: USER_REGS.rip, [REG.eflags]: USER_REGS.eflags, [REG.cs]: USER_REGS.cs, [REG.ss]: USER_REGS.ss,
    [REG.ds]: USER_REGS.ds, [REG.es]: USER_REGS.es, [REG.fs]: USER_REGS.fs, [REG.gs]: USER_REGS.gs,
    [REG.orig_rax]: USER_REGS.orig_rax, [REG.fs_base]: USER_REGS.fs_base, [REG.gs_base]: USER_REGS.gs_base,
  };
  const s = slot[regnum];
  if (s !== undefined) return { set: 'regs', off: s * 8 };
  // gdb's fxsave_offset; in 64-bit mode fiseg/foseg are the upper halves of FIP/FDP (amd64_supply_fxsave)
  const fp: Partial<Record<number, number>> = {
    [REG.fctrl]: 0, [REG.fstat]: 2, [REG.fiseg]: 12, [REG.fioff]: 8, [REG.foseg]: 20, [REG.fooff]: 16, [REG.fop]: 6, [REG.mxcsr]: 24,
  };
  const f = fp[regnum];
  if (f !== undefined) return { set: 'fp', off: f };
  if (regnum === REG.ftag) return { set: 'ftag' };
  return null;
}

/** Bytes of a register that come from its home (the rest of the g slot is zero): 16-bit x87 control words, 11-bit fop. */
const WIDTH: Partial<Record<number, number>> = { [REG.fctrl]: 2, [REG.fstat]: 2, [REG.fop]: 2 };

export class Registers implements RegistersOps {
  private readonly homes: (Home | null)[];
  private readonly regsBuf = new Uint8Array(USER_REGS_SIZE);
  private readonly fpBuf = new Uint8Array(USER_FPREGS_SIZE);

  constructor(
    private readonly arch: Arch,
    private readonly proc: () => GuestProcess,
  ) {
    this.homes = arch.regs.map((r) => homeOf(r.regnum));
  }

  readAll(): Uint8Array {
    const p = this.proc();
    p.regs.getRegs(this.regsBuf);
    p.regs.getFpRegs(this.fpBuf);
    const out = new Uint8Array(this.arch.gSize);
    for (const r of this.arch.regs) this.put(r.regnum, out, r.offset);
    return out;
  }

  writeAll(data: Uint8Array): void {
    const p = this.proc();
    p.regs.getRegs(this.regsBuf);
    p.regs.getFpRegs(this.fpBuf);
    for (const r of this.arch.regs) if (r.offset + r.size <= data.length) this.take(r.regnum, data, r.offset, r.size);
    p.regs.setRegs(this.regsBuf);
    p.regs.setFpRegs(this.fpBuf);
  }

  read(regnum: number): Uint8Array | null {
    const r = this.arch.regs[regnum];
    const h = this.homes[regnum];
    if (!r || !h) return null;
    const p = this.proc();
    const out = new Uint8Array(r.size);
    if (h.set === 'regs') {
      // one word of the struct, as PTRACE_PEEKUSER: a stop reply reads three registers, a step is a stop
      p.regs.peekUser(h.off / 8, this.regsBuf, h.off);
    } else p.regs.getFpRegs(this.fpBuf);
    this.put(regnum, out, 0);
    return out;
  }

  write(regnum: number, data: Uint8Array): boolean {
    const r = this.arch.regs[regnum];
    const h = this.homes[regnum];
    if (!r || !h || data.length !== r.size) return false;
    const p = this.proc();
    if (h.set === 'regs') {
      p.regs.getRegs(this.regsBuf);
      this.take(regnum, data, 0, r.size);
      p.regs.setRegs(this.regsBuf);
    } else {
      p.regs.getFpRegs(this.fpBuf);
      this.take(regnum, data, 0, r.size);
      p.regs.setFpRegs(this.fpBuf);
    }
    return true;
  }

  /** Copy register regnum from the buffers read last into out[off..off+size). */
  private put(regnum: number, out: Uint8Array, off: number): void {
    const h = this.homes[regnum];
    const size = this.arch.regs[regnum].size;
    if (!h) return;
    if (h.set === 'ftag') {
      const t = fullTag(this.fpBuf);
      out[off] = t & 0xff;
      out[off + 1] = t >> 8;
      return;
    }
    const src = h.set === 'regs' ? this.regsBuf : this.fpBuf;
    const n = WIDTH[regnum] ?? size;
    out.set(src.subarray(h.off, h.off + n), off);
    if (regnum === REG.fop) out[off + 1] &= 0x07;
  }

  /** Copy register regnum from data[off..off+size) into the buffers. */
  private take(regnum: number, data: Uint8Array, off: number, size: number): void {
    const h = this.homes[regnum];
    if (!h) return;
    if (h.set === 'ftag') {
      this.fpBuf[4] = abridgedTag(data[off] | (data[off + 1] << 8));
      return;
    }
    const dst = h.set === 'regs' ? this.regsBuf : this.fpBuf;
    const n = WIDTH[regnum] ?? size;
    dst.set(data.subarray(off, off + n), h.off);
    if (h.set === 'regs' && size < 8) dst.fill(0, h.off + size, h.off + 8); // eflags and selectors: a 4-byte g slot
  }
}

/**
 * The full x87 tag word from an fxsave image: the abridged tag says which
 * physical registers are empty; the others are classified from their
 * contents (valid, zero, special), as gdb's i387_supply_fxsave does.
 */
export function fullTag(fx: Uint8Array): number {
  const top = (fx[3] >> 3) & 7;
  let tag = 0;
  for (let p = 0; p < 8; p++) {
    let t = 3; // empty
    if (fx[4] & (1 << p)) {
      const o = 32 + 16 * ((p - top) & 7);
      const exp = (fx[o + 8] | (fx[o + 9] << 8)) & 0x7fff;
      const integer = fx[o + 7] & 0x80;
      if (exp === 0x7fff) t = 2;
      else if (exp === 0) t = fx.subarray(o, o + 8).every((b) => b === 0) ? 1 : 2;
      else t = integer ? 0 : 2;
    }
    tag |= t << (2 * p);
  }
  return tag;
}

/** The abridged tag of fxsave: a bit per physical register that is not empty (tag 3). */
export function abridgedTag(full: number): number {
  let a = 0;
  for (let p = 0; p < 8; p++) if (((full >> (2 * p)) & 3) !== 3) a |= 1 << p;
  return a;
}

export class Memory implements MemoryOps {
  constructor(private readonly proc: () => GuestProcess) {}

  read(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    return out.subarray(0, this.proc().mem.peek(addr, out));
  }

  write(addr: number, data: Uint8Array): boolean {
    return this.proc().mem.poke(addr, data);
  }
}
