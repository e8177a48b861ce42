/**
 * Signals of 32-bit programs, as Linux's arch/x86/ia32/ia32_signal.c has
 * them: the frames a handler installed by an ia32 sigaction call gets
 * (SA_IA32_ABI), their sigreturn and rt_sigreturn, and the ia32 signal calls
 * whose structures differ from x86-64's (compat_sigaction, the old
 * sigaction and its one-word mask, compat_stack_t, compat_siginfo,
 * compat_itimerval). The signal state and what it means are the 64-bit
 * code's (signal.ts, sys/signal.ts); only the layouts are here.
 *
 * struct sigframe_ia32 (a handler without SA_SIGINFO; 732 bytes):
 *   +0 pretcode, +4 sig, +8 struct sigcontext_32 (88), +96 the unused
 *   _fpstate_32 (624), +720 extramask (the mask's second word), +724 retcode
 * struct rt_sigframe_ia32 (SA_SIGINFO; 268 bytes):
 *   +0 pretcode, +4 sig, +8 pinfo, +12 puc, +16 compat_siginfo (128),
 *   +144 struct ucontext_ia32 { uc_flags, uc_link, uc_stack (12),
 *   uc_mcontext (sigcontext_32, 88), uc_sigmask (8) }, +260 retcode
 * Above each frame, as fpu__alloc_mathframe places them for an ia32 frame:
 * the 112-byte i387 header (struct fregs_state: the FPU environment and
 * registers in fsave's format, then status and magic 0, "FXSR data
 * follows") that sigcontext's fpstate points at, and the 512-byte fxsave
 * image right after it, 64-byte aligned.
 */
import { CPU, RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI } from '../../cpu/cpu.js';
import { CpuFault, Vector } from '../../cpu/fault.js';
import { MXCSR_MASK, fxrstorFrom, fxsaveTo } from '../../cpu/fpu-state.js';
import { CS, DS, ES, FS, GS, SS, __USER32_CS, __USER_CS, __USER_DS } from '../../cpu/segment.js';
import { EFAULT, EINVAL, SysError } from '../errno.js';
import type { Process } from '../process.js';
import { SA_NODEFER, SA_RESETHAND, SA_RESTORER, SA_SIGINFO, enterHandler, frameTop, trapNo, ucStackFlags, type SigAction, type SigInfo, type SignalState } from '../signal.js';
import { SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, blockedPending, doQueueinfo, doRtSigtimedwait, doSigaction, doSigaltstack, doSigprocmask, doSigsuspend, itimervalNs, timerGet, timerSet } from '../sys/signal.js';
import type { Handler } from '../sys/table.js';
import { readView, writeMem } from '../sys/util.js';
import { VDSO32_SYM } from '../../guest/generated/vdso32.js';
import { NR32_RT_SIGRETURN, NR32_SIGRETURN } from './table.js';


const SIGCONTEXT_SIZE = 88;
const SIGFRAME_SIZE = 732, RT_SIGFRAME_SIZE = 268;
const SF_SC = 8, SF_EXTRAMASK = 720, SF_RETCODE = 724;
const RT_INFO = 16, RT_UC = 144, UC_STACK = 8, UC_MCONTEXT = 20, UC_SIGMASK = 108, RT_SF_RETCODE = 260;
/** struct fregs_state, the i387 header before the fxsave image of an ia32 frame. */
const FREGS_SIZE = 112;
const FXSAVE_SIZE = 512;
/** sigcontext_32 field offsets. */
const SC = { gs: 0, fs: 4, es: 8, ds: 12, di: 16, si: 20, bp: 24, sp: 28, bx: 32, dx: 36, cx: 40, ax: 44, trapno: 48, err: 52, ip: 56, cs: 60, flags: 64, spAtSignal: 68, ss: 72, fpstate: 76, oldmask: 80, cr2: 84 } as const;
const SC_REGS: [number, number][] = [[SC.di, RDI], [SC.si, RSI], [SC.bp, RBP], [SC.sp, RSP], [SC.bx, RBX], [SC.dx, RDX], [SC.cx, RCX], [SC.ax, RAX]];
/** The flags a sigreturn takes from the frame (FIX_EFLAGS): AC OF DF TF SF ZF AF PF CF RF. */
const FIX_EFLAGS = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 | 0x10 | 0x4 | 0x1 | 0x10000;
/**
 * The retcode of each frame, `popl %eax; movl $__NR_sigreturn, %eax; int $0x80`
 * and `movl $__NR_rt_sigreturn, %eax; int $0x80`: no longer what a handler
 * returns through (the vDSO's restorers are), but written for the debuggers
 * that recognize a signal frame by it.
 */
const SIGRETURN_CODE = [0x58, 0xb8, NR32_SIGRETURN, 0, 0, 0, 0xcd, 0x80];
const RT_SIGRETURN_CODE = [0xb8, NR32_RT_SIGRETURN, 0, 0, 0, 0xcd, 0x80, 0];
const TWO32 = 4294967296;

/** A 32-bit pointer (ptr_to_compat: the low half). */
function compat(v: number): number {
  return ((v % TWO32) + TWO32) % TWO32;
}

/**
 * compat_siginfo (128 bytes): si_signo, si_errno, si_code, then the union
 * at offset 12: the 32-bit si_addr of a fault, or si_pid and si_uid, then
 * for SIGCHLD si_status.
 */
export function packCompatSigInfo(info: SigInfo): Uint8Array {
  const b = new Uint8Array(128);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, info.signo, true);
  dv.setInt32(8, info.code, true);
  if (info.addr !== undefined) dv.setUint32(12, compat(info.addr), true);
  else if (info.pid !== undefined) {
    dv.setInt32(12, info.pid, true);
    dv.setUint32(16, info.uid ?? 0, true);
    if (info.status !== undefined) dv.setInt32(20, info.status, true);
  }
  return b;
}

// ---------------------------------------------------------------- the FPU state

/**
 * twd_fxsr_to_i387: the full tag word from fxsave's abridged one, each
 * physical register's tag read from its contents (valid, zero, special,
 * empty), as fsave would store it.
 */
function fullTagWord(fx: DataView): number {
  const tos = (fx.getUint16(2, true) >> 11) & 7;
  const abridged = fx.getUint8(4);
  let twd = 0xffff0000;
  for (let i = 0; i < 8; i++) {
    let tag = 3;
    if ((abridged >> i) & 1) {
      const st = 32 + ((i - tos) & 7) * 16;
      const exp = fx.getUint16(st + 8, true) & 0x7fff;
      if (exp === 0x7fff) tag = 2;
      else if (exp === 0) tag = fx.getUint32(st, true) === 0 && fx.getUint32(st + 4, true) === 0 ? 1 : 2;
      else tag = fx.getUint16(st + 6, true) & 0x8000 ? 0 : 2;
    }
    twd = (twd | (tag << (2 * i))) >>> 0;
  }
  return twd;
}

/**
 * Save the FPU state for an ia32 frame: the fxsave image at fx and before it
 * (at fx - 112) the i387 header convert_from_fxsr fills: control, status and
 * full tag words, the last instruction and operand pointers (fcs: the user
 * CS, as an x86-64 kernel has no better; fos: DS), the eight registers,
 * then the status word again and magic 0 (X86_FXSR_MAGIC).
 */
function saveFpu(cpu: CPU, fx: number): void {
  const img = new Uint8Array(FXSAVE_SIZE);
  fxsaveTo(cpu, img);
  const f = new DataView(img.buffer);
  const hdr = new Uint8Array(FREGS_SIZE);
  const h = new DataView(hdr.buffer);
  h.setUint32(0, (f.getUint16(0, true) | 0xffff0000) >>> 0, true);
  h.setUint32(4, (f.getUint16(2, true) | 0xffff0000) >>> 0, true);
  h.setUint32(8, fullTagWord(f), true);
  h.setUint32(12, f.getUint32(8, true), true);
  h.setUint32(16, cpu.seg[CS], true);
  h.setUint32(20, f.getUint32(16, true), true);
  h.setUint32(24, (cpu.seg[DS] | 0xffff0000) >>> 0, true);
  for (let i = 0; i < 8; i++) hdr.set(img.subarray(32 + i * 16, 42 + i * 16), 28 + i * 10);
  h.setUint16(108, f.getUint16(2, true), true);
  h.setUint16(110, 0, true);
  cpu.mem.writeBytes(fx - FREGS_SIZE, hdr);
  cpu.mem.writeBytes(fx, img);
}

/**
 * fpu__restore_sig for an ia32 frame: the fxsave image after the header,
 * then the header's environment and registers over it (convert_to_fxsr: a
 * handler that edits the i387 view is heard), MXCSR's reserved bits
 * dropped; no state (fpstate 0) is the FPU's initial one.
 */
function restoreFpu(cpu: CPU, fpstate: number): void {
  const img = new Uint8Array(FXSAVE_SIZE);
  const f = new DataView(img.buffer);
  if (fpstate === 0) {
    // fpu__clear_user_states: what fninit and the default MXCSR leave
    f.setUint16(0, 0x37f, true);
    f.setUint32(24, 0x1f80, true);
    fxrstorFrom(cpu, img);
    return;
  }
  const hdr = cpu.mem.readBytes(fpstate, FREGS_SIZE);
  img.set(cpu.mem.readBytes(fpstate + FREGS_SIZE, FXSAVE_SIZE));
  const h = new DataView(hdr.buffer, hdr.byteOffset, hdr.byteLength);
  f.setUint16(0, h.getUint32(0, true) & 0xffff, true);
  f.setUint16(2, h.getUint32(4, true) & 0xffff, true);
  // twd_i387_to_fxsr: every register whose tag is not "empty" is in use
  const twd = h.getUint32(8, true);
  let abridged = 0;
  for (let i = 0; i < 8; i++) if (((twd >> (2 * i)) & 3) !== 3) abridged |= 1 << i;
  f.setUint8(4, abridged);
  f.setUint16(6, h.getUint32(16, true) >>> 16, true); // fop from fcs's upper half
  f.setUint32(8, h.getUint32(12, true), true);
  f.setUint32(12, 0, true);
  f.setUint32(16, h.getUint32(20, true), true);
  f.setUint32(20, 0, true);
  for (let i = 0; i < 8; i++) img.set(hdr.subarray(28 + i * 10, 38 + i * 10), 32 + i * 16);
  f.setUint32(24, f.getUint32(24, true) & MXCSR_MASK, true);
  fxrstorFrom(cpu, img);
}

// ---------------------------------------------------------------- frames

/** sigcontext_32 of the CPU's user context, with fpstate, the mask's first word and the fault's details. */
function packSigcontext(cpu: CPU, fpstate: number, mask: number, info: SigInfo): Uint8Array {
  const b = new Uint8Array(SIGCONTEXT_SIZE);
  const dv = new DataView(b.buffer);
  dv.setUint32(SC.gs, cpu.seg[GS], true);
  dv.setUint32(SC.fs, cpu.seg[FS], true);
  dv.setUint32(SC.es, cpu.seg[ES], true);
  dv.setUint32(SC.ds, cpu.seg[DS], true);
  for (const [o, r] of SC_REGS) dv.setInt32(o, cpu.rl[r], true);
  dv.setUint32(SC.trapno, trapNo(info), true);
  dv.setUint32(SC.err, 0, true);
  dv.setUint32(SC.ip, compat(cpu.rip), true);
  dv.setUint32(SC.cs, cpu.seg[CS], true);
  dv.setUint32(SC.flags, cpu.getFlags() >>> 0, true);
  dv.setInt32(SC.spAtSignal, cpu.rl[RSP], true);
  dv.setUint32(SC.ss, cpu.seg[SS], true);
  dv.setUint32(SC.fpstate, fpstate, true);
  dv.setUint32(SC.oldmask, mask >>> 0, true);
  dv.setUint32(SC.cr2, compat(info.addr ?? 0), true);
  return b;
}

/**
 * Build the ia32 frame for info's handler (rt_sigframe_ia32 with
 * SA_SIGINFO, else sigframe_ia32) on the user stack, and point the CPU at
 * the handler as ia32_setup_frame / ia32_setup_rt_frame do: ESP at the
 * frame, EIP the handler, EAX the signal and (rt) EDX &info, ECX &uc for
 * -mregparm=3 handlers, DS = ES = __USER32_DS, CS = __USER32_CS. The handler
 * returns through sa_restorer with SA_RESTORER, else through the vDSO's
 * __kernel_sigreturn or __kernel_rt_sigreturn (vdso: where it is mapped).
 * Throws a CpuFault if the stack cannot take the frame (the caller kills
 * with SIGSEGV); nothing has changed then.
 */
export function setupFrameIa32(cpu: CPU, st: SignalState, info: SigInfo, vdso: number | null): void {
  const mem = cpu.mem;
  const act = st.sigactions[info.signo];
  const rt = (act.flags & SA_SIGINFO) !== 0;
  const [top, onAlt] = frameTop(st, act, cpu.rl[RSP] >>> 0);
  // fpu__alloc_mathframe, then the i386 ABI's alignment: ((sp + 4) & 15) == 0 at the handler's first instruction
  const fx = Math.floor((top - FXSAVE_SIZE) / 64) * 64;
  const fpstate = fx - FREGS_SIZE;
  const frame = Math.floor((fpstate - (rt ? RT_SIGFRAME_SIZE : SIGFRAME_SIZE) + 4) / 16) * 16 - 4;
  if (frame < 0) throw new CpuFault(Vector.PF, frame >>> 0, 6);
  saveFpu(cpu, fx);
  const saved = st.savedMask ?? { lo: st.blockedLo, hi: st.blockedHi };
  const sc = packSigcontext(cpu, fpstate, saved.lo, info);
  const b = new Uint8Array(rt ? RT_SIGFRAME_SIZE : SIGFRAME_SIZE);
  const dv = new DataView(b.buffer);
  dv.setInt32(4, info.signo, true);
  let restorer: number;
  if (rt) {
    restorer = act.flags & SA_RESTORER ? act.restorer : vdso !== null ? vdso + VDSO32_SYM.__kernel_rt_sigreturn : frame + RT_SF_RETCODE;
    dv.setUint32(8, frame + RT_INFO, true);
    dv.setUint32(12, frame + RT_UC, true);
    b.set(packCompatSigInfo(info), RT_INFO);
    // uc_flags 0 (no XSAVE), uc_link 0, uc_stack
    dv.setUint32(RT_UC + UC_STACK, compat(st.altstack.sp), true);
    dv.setInt32(RT_UC + UC_STACK + 4, ucStackFlags(st, onAlt), true);
    dv.setUint32(RT_UC + UC_STACK + 8, compat(st.altstack.size), true);
    b.set(sc, RT_UC + UC_MCONTEXT);
    dv.setInt32(RT_UC + UC_SIGMASK, saved.lo, true);
    dv.setInt32(RT_UC + UC_SIGMASK + 4, saved.hi, true);
    b.set(RT_SIGRETURN_CODE, RT_SF_RETCODE);
  } else {
    restorer = act.flags & SA_RESTORER ? act.restorer : vdso !== null ? vdso + VDSO32_SYM.__kernel_sigreturn : frame + SF_RETCODE;
    b.set(sc, SF_SC);
    dv.setInt32(SF_EXTRAMASK, saved.hi, true);
    b.set(SIGRETURN_CODE, SF_RETCODE);
  }
  dv.setUint32(0, compat(restorer), true);
  mem.writeBytes(frame, b);
  st.savedMask = null;
  cpu.setNum(RSP, frame);
  cpu.rip = compat(act.handler);
  cpu.setNum(RAX, info.signo);
  cpu.setNum(RDX, rt ? frame + RT_INFO : 0);
  cpu.setNum(RCX, rt ? frame + RT_UC : 0);
  cpu.seg[DS] = __USER_DS;
  cpu.seg[ES] = __USER_DS;
  cpu.seg[CS] = __USER32_CS;
  cpu.seg[SS] = __USER_DS;
  cpu.compat = true;
  enterHandler(cpu, st, info.signo);
}

/**
 * Load a user data segment register with sel, as the kernel's loadsegment
 * does: a selector that cannot be loaded leaves the null one (its exception
 * fixup). kernelGs: the CPU runs the kernel, whose GS base is live, so the
 * user's is the one SWAPGS put in MSR_KERNEL_GS_BASE.
 */
export function loadUserSeg(cpu: CPU, sreg: number, sel: number, kernelGs: boolean): void {
  let base = 0;
  try {
    base = cpu.gdt.dataBase(sel);
  } catch (e) {
    if (!(e instanceof CpuFault)) throw e;
    sel = 0;
  }
  cpu.seg[sreg] = sel;
  if (sreg === FS) cpu.fsBase = base;
  else if (sreg === GS) {
    if (kernelGs) cpu.kernelGsBase = base;
    else cpu.gsBase = base;
  }
}

/** A frame sigreturn cannot take: Linux's signal_fault, then SIGSEGV. */
export class BadFrame extends Error {}

/**
 * sigreturn (rt: rt_sigreturn) of a 32-bit program: the frame is at ESP - 8
 * (the handler's `ret` popped pretcode, __kernel_sigreturn's `popl %eax` the
 * signal) or ESP - 4 for rt; restore the blocked mask, then
 * ia32_restore_sigcontext: the eight 32-bit registers (r8-r15 untouched),
 * EIP, CS and SS with RPL 3, the FIX_EFLAGS flags, the data segment
 * registers reloaded where they changed (%gs holding the TLS selector comes
 * back as it was), the FPU state; rt_sigreturn also the alternate stack
 * (errors other than EFAULT ignored, as compat_restore_altstack does).
 * Throws CpuFault or BadFrame on a frame it cannot use.
 */
export function sigreturnIa32(cpu: CPU, p: Process, rt: boolean, kernelGs: boolean): void {
  const mem = cpu.mem;
  const esp = cpu.rl[RSP] >>> 0;
  const frame = rt ? esp - 4 : esp - 8;
  const scAddr = rt ? frame + RT_UC + UC_MCONTEXT : frame + SF_SC;
  const sc = readView(mem, scAddr, SIGCONTEXT_SIZE);
  const mask = rt ? readView(mem, frame + RT_UC + UC_SIGMASK, 8) : null;
  const lo = rt ? mask!.getInt32(0, true) : sc.getInt32(SC.oldmask, true);
  const hi = rt ? mask!.getInt32(4, true) : mem.read32(frame + SF_EXTRAMASK);
  const cs = sc.getUint16(SC.cs, true) | 3, ss = sc.getUint16(SC.ss, true) | 3;
  // IRET to anything but the user code segments (or with another stack segment) faults: SIGSEGV
  if ((cs !== __USER32_CS && cs !== __USER_CS) || ss !== __USER_DS) throw new BadFrame(`cs 0x${cs.toString(16)}, ss 0x${ss.toString(16)}`);
  const uss = rt ? readView(mem, frame + RT_UC + UC_STACK, 12) : null;
  doSigprocmask(p, SIG_SETMASK, { lo, hi });
  const reload: [number, number][] = [[GS, SC.gs], [FS, SC.fs], [DS, SC.ds], [ES, SC.es]];
  for (const [sreg, o] of reload) {
    const pre = sc.getUint16(o, true) | 3;
    if (pre !== cpu.seg[sreg]) loadUserSeg(cpu, sreg, pre, kernelGs);
  }
  for (const [o, r] of SC_REGS) cpu.setNum(r, sc.getUint32(o, true));
  cpu.rip = sc.getUint32(SC.ip, true);
  cpu.nextRip = cpu.rip;
  cpu.seg[CS] = cs;
  cpu.seg[SS] = ss;
  cpu.compat = cs === __USER32_CS;
  cpu.setFlags((cpu.getFlags() & ~FIX_EFLAGS) | (sc.getUint32(SC.flags, true) & FIX_EFLAGS));
  restoreFpu(cpu, sc.getUint32(SC.fpstate, true));
  if (uss !== null) {
    try {
      doSigaltstack(p, { sp: uss.getUint32(0, true), flags: uss.getInt32(4, true), size: uss.getUint32(8, true) }, esp);
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
    }
  }
}

// ---------------------------------------------------------------- the ia32 signal calls

/** compat_sigaction: handler, flags, restorer (32 bits each), then the 64-bit mask. */
function readCompatSigaction(p: Process, addr: number): SigAction {
  const v = readView(p.mem, addr, 20);
  return { handler: v.getUint32(0, true), flags: v.getUint32(4, true), restorer: v.getUint32(8, true), maskLo: v.getInt32(12, true), maskHi: v.getInt32(16, true) };
}

function ptr(addr: number): number {
  return addr >>> 0;
}

/** The conversions of the ia32 signal calls, by i386 name (ia32/syscalls.ts registers them). */
export const SIGNAL_COMPAT: Record<string, Handler> = {
  rt_sigaction: (p, a) => {
    const sig = a.int(0), act = ptr(a.u32(1)), oact = ptr(a.u32(2));
    if (a.u32(3) !== 8) throw new SysError(EINVAL);
    const o = doSigaction(p, sig, act !== 0 ? readCompatSigaction(p, act) : null, true);
    if (oact !== 0) {
      const b = new Uint8Array(20);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, compat(o.handler), true);
      dv.setUint32(4, o.flags >>> 0, true);
      dv.setUint32(8, compat(o.restorer), true);
      dv.setInt32(12, o.maskLo, true);
      dv.setInt32(16, o.maskHi, true);
      writeMem(p.mem, oact, b);
    }
    return 0;
  },
  /** The old sigaction: compat_old_sigaction { handler, mask (one word), flags, restorer }. */
  sigaction: (p, a) => {
    const sig = a.int(0), act = ptr(a.u32(1)), oact = ptr(a.u32(2));
    let next: SigAction | null = null;
    if (act !== 0) {
      const v = readView(p.mem, act, 16);
      next = { handler: v.getUint32(0, true), maskLo: v.getInt32(4, true), maskHi: 0, flags: v.getUint32(8, true), restorer: v.getUint32(12, true) };
    }
    const o = doSigaction(p, sig, next, true);
    if (oact !== 0) {
      const b = new Uint8Array(16);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, compat(o.handler), true);
      dv.setInt32(4, o.maskLo, true);
      dv.setUint32(8, o.flags >>> 0, true);
      dv.setUint32(12, compat(o.restorer), true);
      writeMem(p.mem, oact, b);
    }
    return 0;
  },
  /** signal(2), sys_signal: a one-shot handler that may be re-entered (SA_RESETHAND | SA_NODEFER); returns the old handler. */
  signal: (p, a) => {
    const o = doSigaction(p, a.int(0), { handler: a.u32(1), flags: SA_RESETHAND | SA_NODEFER, restorer: 0, maskLo: 0, maskHi: 0 }, true);
    return compat(o.handler) | 0;
  },
  /** compat_sys_sigprocmask: one mask word; SIG_SETMASK replaces only the first 32 signals. */
  sigprocmask: (p, a) => {
    const how = a.int(0), set = ptr(a.u32(1)), oset = ptr(a.u32(2));
    let next: { lo: number; hi: number } | null = null;
    if (set !== 0) {
      const w = p.mem.read32(set);
      if (how !== SIG_BLOCK && how !== SIG_UNBLOCK && how !== SIG_SETMASK) throw new SysError(EINVAL);
      next = { lo: w, hi: how === SIG_SETMASK ? p.blockedHi : 0 };
    }
    const old = doSigprocmask(p, how, next);
    if (oset !== 0) writeWord(p, oset, old.lo);
    return 0;
  },
  sigpending: (p, a) => {
    writeWord(p, ptr(a.u32(0)), blockedPending(p).lo);
    return 0;
  },
  /** sigsuspend(int, int, old_sigset_t mask): the mask is the third argument, its upper signals unblocked. */
  sigsuspend: (p, a) => doSigsuspend(p, a.u32(2), 0, 'sigsuspend'),
  /** compat_stack_t { ss_sp, ss_flags, ss_size }, 32 bits each. */
  sigaltstack: (p, a) => {
    const ss = ptr(a.u32(0)), oss = ptr(a.u32(1));
    let next: { sp: number; flags: number; size: number } | null = null;
    if (ss !== 0) {
      const v = readView(p.mem, ss, 12);
      next = { sp: v.getUint32(0, true), flags: v.getInt32(4, true), size: v.getUint32(8, true) };
    }
    const old = doSigaltstack(p, next, p.userRsp ?? p.cpu.rl[RSP] >>> 0);
    if (oss !== 0) {
      const b = new Uint8Array(12);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, compat(old.sp), true);
      dv.setInt32(4, old.flags, true);
      dv.setUint32(8, compat(old.size), true);
      writeMem(p.mem, oss, b);
    }
    return 0;
  },
  /** rt_sigtimedwait: the timeout an old_timespec32 (rt_sigtimedwait_time64's a 64-bit one), the siginfo a compat_siginfo. */
  rt_sigtimedwait: (p, a) => doRtSigtimedwait(p, a, 'timespec32', packCompatSigInfo),
  rt_sigtimedwait_time64: (p, a) => doRtSigtimedwait(p, a, 'timespec64', packCompatSigInfo),
  /** compat_siginfo: si_code at 8, si_pid and si_uid at 12 and 16. */
  rt_sigqueueinfo: (p, a) => {
    const v = readView(p.mem, ptr(a.u32(2)), 128);
    return doQueueinfo(p, a.int(0), -1, a.int(1), v.getInt32(8, true), v.getInt32(12, true), v.getUint32(16, true));
  },
  rt_tgsigqueueinfo: (p, a) => {
    const v = readView(p.mem, ptr(a.u32(3)), 128);
    return doQueueinfo(p, a.int(0), a.int(1), a.int(2), v.getInt32(8, true), v.getInt32(12, true), v.getUint32(16, true));
  },
  /** compat_itimerval: two compat_timevals of 32-bit seconds and microseconds. */
  setitimer: (p, a) => {
    const which = a.int(0), nw = ptr(a.u32(1)), old = ptr(a.u32(2));
    if (which < 0 || which > 2) throw new SysError(EINVAL);
    let value = 0n, interval = 0n;
    if (nw !== 0) {
      const v = readView(p.mem, nw, 16);
      [value, interval] = itimervalNs(BigInt(v.getInt32(0, true)), BigInt(v.getInt32(4, true)), BigInt(v.getInt32(8, true)), BigInt(v.getInt32(12, true)));
    }
    const [ov, oi] = timerSet(p, which, value, interval);
    if (old !== 0) writeMem(p.mem, old, packCompatItimerval(ov, oi));
    return 0;
  },
  getitimer: (p, a) => {
    const [v, i] = timerGet(p, a.int(0));
    writeMem(p.mem, ptr(a.u32(1)), packCompatItimerval(v, i));
    return 0;
  },
};

function writeWord(p: Process, addr: number, v: number): void {
  if (addr === 0) throw new SysError(EFAULT);
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  writeMem(p.mem, addr, b);
}

function packCompatItimerval(v: bigint, i: bigint): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, Number(i / 1000000000n), true);
  dv.setInt32(4, Number((i % 1000000000n) / 1000n), true);
  dv.setInt32(8, Number(v / 1000000000n), true);
  dv.setInt32(12, Number((v % 1000000000n) / 1000n), true);
  return b;
}
