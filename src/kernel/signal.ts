/**
 * Signal delivery and rt_sigreturn, with Linux's x86-64 rt_sigframe layout:
 *
 *   frame+0    pretcode (sa_restorer: where the handler's `ret` goes)
 *   frame+8    struct ucontext { uc_flags, uc_link, uc_stack(24), uc_mcontext(256), uc_sigmask(8) }
 *   frame+312  struct siginfo (128 bytes)
 *   below the frame's top: the 512-byte fxsave image, 64-byte aligned, that uc_mcontext.fpstate points at
 *
 * At handler entry RSP = frame (so RSP+8 is 16-byte aligned, as after a call),
 * RDI = signo, RSI = &info, RDX = &uc, RAX = 0.
 */
import { CPU, RAX, RCX, RDX, RSI, RDI, RSP, RBP, RBX, DF, TF, RF, AC } from '../cpu/cpu.js';
import type { Memory } from '../cpu/memory.js';

export const SIG = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13,
  ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24,
  XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(SIG).map(([k, v]) => [v, 'SIG' + k]));
export function signalName(sig: number): string {
  return NAMES[sig] ?? (sig >= 34 && sig <= 64 ? `SIGRT${sig - 34}` : `signal ${sig}`);
}

/**
 * SA_IA32_ABI, SA_X32_ABI: kernel-internal sa_flags bits recording the ABI of
 * the sigaction call that installed a handler, which decides its frame
 * (is_ia32_frame): a 32-bit program's handlers get ia32 frames.
 */
export const SA_IA32_ABI = 0x02000000, SA_X32_ABI = 0x01000000;
export const SA_NOCLDWAIT = 2, SA_SIGINFO = 4, SA_ONSTACK = 0x08000000, SA_RESTART = 0x10000000, SA_NODEFER = 0x40000000, SA_RESETHAND = 0x80000000, SA_RESTORER = 0x04000000;
export const SS_ONSTACK = 1, SS_DISABLE = 2;
export const SIG_DFL = 0, SIG_IGN = 1;

/**
 * A signal's action. A value: an action is replaced, never changed in place
 * (rt_sigaction, exec, SA_RESETHAND), so actions are frozen and shared, by
 * a forked child and by the machine's snapshots (src/cpu/clone.ts shares a
 * frozen object of plain values rather than copy it).
 */
export interface SigAction {
  readonly handler: number;
  readonly flags: number;
  readonly restorer: number;
  readonly maskLo: number;
  readonly maskHi: number;
}

/** A signal's action as a frozen value (see SigAction). */
export function sigAction(a: SigAction): SigAction {
  return Object.freeze({ handler: a.handler, flags: a.flags, restorer: a.restorer, maskLo: a.maskLo, maskHi: a.maskHi });
}

/** The default action, SIG_DFL with no flags: one value for every signal of every process. */
export const DEFAULT_ACTION: SigAction = sigAction({ handler: 0, flags: 0, restorer: 0, maskLo: 0, maskHi: 0 });

/** The signal state of a process; Process implements it. */
export interface SignalState {
  sigactions: SigAction[];
  blockedLo: number;
  blockedHi: number;
  pending: Set<number>;
  altstack: { sp: number; flags: number; size: number };
  /** Mask to restore after the handler instead of the current one (set by rt_sigsuspend). */
  savedMask?: { lo: number; hi: number } | null;
}

export interface SigInfo {
  signo: number;
  code: number;
  /** si_addr for faults. */
  addr?: number;
  /** si_pid/si_uid for kill and SIGCHLD. */
  pid?: number;
  uid?: number;
  /** SIGCHLD: si_status, the child's exit code or the signal that ended it. */
  status?: number;
}

/** si_code of SIGCHLD: how the child changed state. */
export const CLD_EXITED = 1, CLD_KILLED = 2, CLD_DUMPED = 3;

/**
 * struct siginfo (128 bytes, x86-64) as the kernel writes it for a signal
 * frame, rt_sigtimedwait or waitid: si_signo, si_code, then the union at
 * offset 16: si_addr for faults, or si_pid and si_uid, then for SIGCHLD
 * si_status (si_utime and si_stime stay 0).
 */
export function packSigInfo(info: SigInfo): Uint8Array {
  const b = new Uint8Array(128);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, info.signo, true);
  dv.setInt32(8, info.code, true);
  if (info.addr !== undefined) dv.setBigInt64(16, BigInt(info.addr), true);
  else if (info.pid !== undefined) {
    dv.setInt32(16, info.pid, true);
    dv.setUint32(20, info.uid ?? 0, true);
    if (info.status !== undefined) dv.setInt32(24, info.status, true);
  }
  return b;
}

/** Signals whose default action is to ignore. */
const DEFAULT_IGNORE = new Set<number>([SIG.CHLD, SIG.URG, SIG.WINCH, SIG.CONT]);
/** Stop signals: no job control here, so treat them as ignored. */
const DEFAULT_STOP = new Set<number>([SIG.STOP, SIG.TSTP, SIG.TTIN, SIG.TTOU]);

export function isBlocked(st: { blockedLo: number; blockedHi: number }, sig: number): boolean {
  const b = sig - 1;
  return b < 32 ? ((st.blockedLo >>> b) & 1) === 1 : ((st.blockedHi >>> (b - 32)) & 1) === 1;
}

/** What happens to an undelivered signal with its current disposition. */
export function disposition(st: SignalState, sig: number): 'handle' | 'ignore' | 'terminate' {
  const act = st.sigactions[sig];
  const h = act ? act.handler : SIG_DFL;
  if (sig === SIG.KILL) return 'terminate';
  if (h === SIG_IGN) return 'ignore';
  if (h === SIG_DFL) return DEFAULT_IGNORE.has(sig) || DEFAULT_STOP.has(sig) ? 'ignore' : 'terminate';
  return 'handle';
}

const FRAME_SIZE = 440; // pretcode + ucontext (304) + siginfo (128)
/** The FPU state a frame carries: the fxsave image (the emulated CPU has no XSAVE). */
const FPSTATE_SIZE = 512;
/**
 * AT_MINSIGSTKSZ: the most one signal frame takes, as Linux's
 * get_sigframe_size() computes it for this FPU on a 64-bit-only kernel: the
 * frame and its 16-byte alignment, the FPU state and its 64-byte alignment,
 * rounded up to 16 (1040 bytes).
 */
export const SIGFRAME_MAX_SIZE = Math.ceil((FRAME_SIZE + 15 + FPSTATE_SIZE + 63) / 16) * 16;
const UC = 8, MC = UC + 40, SIGMASK = UC + 296, INFO = 312;
// sigcontext register order
const MC_REGS = [8, 9, 10, 11, 12, 13, 14, 15, RDI, RSI, RBP, RBX, RDX, RAX, RCX, RSP];

function w64(mem: Memory, a: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  mem.write64(a, (v - hi * 4294967296) | 0, hi | 0);
}
function r64(mem: Memory, a: number): number {
  const lo = mem.read64(a);
  return mem.hi * 4294967296 + (lo >>> 0);
}

/**
 * Build the rt_sigframe and redirect the CPU to the handler. Throws a CpuFault
 * (from the memory accesses) if the user stack is unusable; the caller then
 * kills the process with SIGSEGV, as Linux does.
 */
export function setupFrame(cpu: CPU, st: SignalState, info: SigInfo, fxsave: (cpu: CPU, mem: Memory, addr: number) => void): void {
  const mem = cpu.mem;
  const act = st.sigactions[info.signo];
  const [top, onAlt, switched] = frameTop(st, act, cpu.getNum(RSP));
  // skip the red zone (a fresh alternate stack has nothing below its top)
  let sp = switched ? top : top - 128;
  sp = Math.floor((sp - FPSTATE_SIZE) / 64) * 64;
  const fpstate = sp;
  const frame = Math.floor((sp - FRAME_SIZE) / 16) * 16 - 8;
  // write everything; a fault here propagates before any register changed
  fxsave(cpu, mem, fpstate);
  w64(mem, frame, act.restorer);
  w64(mem, frame + UC, 0); // uc_flags
  w64(mem, frame + UC + 8, 0); // uc_link
  w64(mem, frame + UC + 16, st.altstack.sp);
  mem.write32(frame + UC + 24, ucStackFlags(st, onAlt));
  mem.write32(frame + UC + 28, 0);
  w64(mem, frame + UC + 32, st.altstack.size);
  for (let k = 0; k < 16; k++) mem.write64(frame + MC + k * 8, cpu.rl[MC_REGS[k]], cpu.rh[MC_REGS[k]]);
  w64(mem, frame + MC + 128, cpu.rip);
  mem.write64(frame + MC + 136, cpu.getFlags(), 0);
  mem.write16(frame + MC + 144, cpu.seg[1]); // cs
  mem.write16(frame + MC + 146, 0); // gs
  mem.write16(frame + MC + 148, 0); // fs
  mem.write16(frame + MC + 150, cpu.seg[2]); // ss
  w64(mem, frame + MC + 152, 0); // err
  w64(mem, frame + MC + 160, trapNo(info));
  w64(mem, frame + MC + 176, info.addr ?? 0); // cr2
  w64(mem, frame + MC + 184, fpstate);
  for (let k = 0; k < 8; k++) w64(mem, frame + MC + 192 + k * 8, 0);
  const saved = st.savedMask ?? { lo: st.blockedLo, hi: st.blockedHi };
  mem.write64(frame + SIGMASK, saved.lo, saved.hi);
  mem.write64(frame + MC + 168, saved.lo, 0); // oldmask
  // siginfo
  mem.writeBytes(frame + INFO, packSigInfo(info));
  st.savedMask = null;
  // now switch the CPU to the handler
  cpu.setNum(RSP, frame);
  cpu.setNum(RDI, info.signo);
  cpu.setNum(RSI, frame + INFO);
  cpu.setNum(RDX, frame + UC);
  cpu.setNum(RAX, 0);
  cpu.rip = act.handler;
  enterHandler(cpu, st, info.signo);
}

/**
 * Where a signal's frame goes below: the interrupted stack pointer sp, or the
 * top of the alternate stack for an SA_ONSTACK handler when it is set up and
 * not already in use (sigsp); whether sp is on the alternate stack; whether
 * the frame switches to it.
 */
export function frameTop(st: SignalState, act: SigAction, sp: number): [number, boolean, boolean] {
  const alt = st.altstack;
  const usable = alt.flags !== SS_DISABLE && alt.size > 0;
  const onAlt = usable && sp > alt.sp && sp <= alt.sp + alt.size;
  const switched = (act.flags & SA_ONSTACK) !== 0 && usable && !onAlt;
  return [switched ? alt.sp + alt.size : sp, onAlt, switched];
}

/** uc_stack.ss_flags in a frame: SS_DISABLE without an alternate stack, SS_ONSTACK if the signal came while on it. */
export function ucStackFlags(st: SignalState, onAlt: boolean): number {
  return st.altstack.flags === SS_DISABLE ? SS_DISABLE : onAlt ? SS_ONSTACK : 0;
}

/** sigcontext's trapno: the page fault's vector for SIGSEGV, else 0. */
export function trapNo(info: SigInfo): number {
  return info.signo === SIG.SEGV ? 14 : 0;
}

/**
 * The rest of handle_signal once a frame is written and the CPU points at
 * the handler: DF, TF, RF (and AC) cleared for it, the handled signal (unless
 * SA_NODEFER) and sa_mask blocked while it runs, SA_RESETHAND's reset.
 */
export function enterHandler(cpu: CPU, st: SignalState, signo: number): void {
  const act = st.sigactions[signo];
  cpu.setFlags(cpu.getFlags() & ~(DF | TF | RF | AC));
  st.blockedLo |= act.maskLo;
  st.blockedHi |= act.maskHi;
  if (!(act.flags & SA_NODEFER)) {
    const b = signo - 1;
    if (b < 32) st.blockedLo |= 1 << b;
    else st.blockedHi |= 1 << (b - 32);
  }
  st.blockedLo &= ~((1 << (SIG.KILL - 1)) | (1 << (SIG.STOP - 1)));
  if (act.flags & SA_RESETHAND) st.sigactions[signo] = DEFAULT_ACTION;
}

/** rt_sigreturn: restore the context saved by setupFrame (RSP points just above pretcode). */
export function sigreturn(cpu: CPU, st: SignalState, fxrstor: (cpu: CPU, mem: Memory, addr: number) => void): void {
  const mem = cpu.mem;
  const frame = cpu.getNum(RSP) - 8;
  const regs: [number, number][] = [];
  for (let k = 0; k < 16; k++) {
    const lo = mem.read64(frame + MC + k * 8);
    regs.push([lo, mem.hi]);
  }
  const rip = r64(mem, frame + MC + 128);
  const flags = mem.read32(frame + MC + 136);
  const fpstate = r64(mem, frame + MC + 184);
  const maskLo = mem.read32(frame + SIGMASK);
  const maskHi = mem.read32(frame + SIGMASK + 4);
  if (fpstate !== 0) fxrstor(cpu, mem, fpstate);
  for (let k = 0; k < 16; k++) cpu.set64(MC_REGS[k], regs[k][0], regs[k][1]);
  cpu.rip = rip;
  cpu.nextRip = rip;
  // user-changeable flags only
  const USER = 0x3f7fd5 & ~(0x3000 | 0x200); // not IOPL, not IF
  cpu.setFlags((cpu.getFlags() & ~USER) | (flags & USER));
  st.blockedLo = maskLo & ~((1 << (SIG.KILL - 1)) | (1 << (SIG.STOP - 1)));
  st.blockedHi = maskHi;
}
