/**
 * What a CPU exception means for the task that took it: the signal Linux's
 * trap handlers send (do_page_fault, do_trap, do_int3...) with its si_code
 * and address, and the one-line report of what happened. Deciding whether
 * the signal is delivered, stops the task for a debugger, or kills it is
 * the Machine's (machine.ts).
 */
import type { CPU } from '../cpu/cpu.js';
import { RCX } from '../cpu/cpu.js';
import { CpuFault, PF_FETCH, PF_PRESENT, PF_WRITE, UndefinedOpcode, Vector } from '../cpu/fault.js';
import { PAGE_SIZE, type Memory } from '../cpu/memory.js';
import type { Insn } from '../cpu/insn.js';
import type { EntryModel } from '../entry/index.js';
import type { MM } from '../kernel/mm.js';
import { SIG, type SigInfo } from '../kernel/signal.js';

const SEGV_MAPERR = 1, SEGV_ACCERR = 2, BUS_ADRERR = 2, ILL_ILLOPN = 2, FPE_INTDIV = 1, SI_KERNEL = 0x80;

/** A guest address or value in hex; a negative number is a 64-bit value past 2^63 (reports only: not the hot path). */
export function hex(v: number): string {
  return v < 0 ? (BigInt(v) + (1n << 64n)).toString(16) : v.toString(16);
}

/** What the translation reads of the machine. */
export interface FaultContext {
  cpu: CPU;
  mem: Memory;
  model: EntryModel;
  mm: MM;
  /** The instruction at rip (an int3's length, to report the trap after it). */
  insnAt(rip: number, compat: boolean): Insn;
}

export interface FaultSignal {
  info: SigInfo;
  what: string;
  /** Taken in user code (else in the guest kernel: an oops unless the model fixes it up). */
  user: boolean;
}

/**
 * The signal for e, or null when the entry model claims the fault (a lazy
 * zpoline rewrite, the seccomp trap). An int3 leaves rip after itself: it is
 * a trap, reported after the instruction.
 */
export function faultSignal(e: CpuFault, m: FaultContext): FaultSignal | null {
  const { cpu, model } = m;
  const user = cpu.cpl === 3 && !model.kernel?.contains(cpu.rip);
  if (user && (e.vector === Vector.UD || e.vector === Vector.PF) && model.claimUserFault(e.vector, e.addr)) return null;
  const rip = cpu.rip;
  let info: SigInfo;
  let what: string;
  switch (e.vector) {
    case Vector.PF:
      // a page of a file mapping past the file's end: Linux's filemap fault says SIGBUS
      if (user && m.mm.busError(e.addr, (e.errorCode & PF_WRITE) !== 0, (e.errorCode & PF_FETCH) !== 0)) {
        info = { signo: SIG.BUS, code: BUS_ADRERR, addr: e.addr };
        what = `at 0x${hex(rip)}: ${e.errorCode & PF_FETCH ? 'executing' : e.errorCode & PF_WRITE ? 'writing' : 'reading'} address 0x${hex(e.addr)}, past the end of the file mapped there`;
        break;
      }
      // the zpoline page is the guest kernel's: to the program it is not there (MAPERR)
      info = { signo: SIG.SEGV, code: e.errorCode & PF_PRESENT && !(e.addr >= 0 && e.addr < PAGE_SIZE && model.reserved().length > 0) ? SEGV_ACCERR : SEGV_MAPERR, addr: e.addr };
      what = `at 0x${hex(rip)}: ${e.errorCode & PF_FETCH ? 'executing' : e.errorCode & PF_WRITE ? 'writing' : 'reading'} address 0x${hex(e.addr)}`;
      break;
    case Vector.UD: {
      const bytes = e instanceof UndefinedOpcode ? e.bytes : bytesAt(m.mem, rip);
      info = { signo: SIG.ILL, code: ILL_ILLOPN, addr: rip };
      what = `illegal instruction at 0x${hex(rip)}: ${bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
      break;
    }
    case Vector.DE:
      info = { signo: SIG.FPE, code: FPE_INTDIV, addr: rip };
      what = `integer divide error at 0x${hex(rip)}`;
      break;
    case Vector.BP:
      cpu.rip = rip + m.insnAt(rip, cpu.compat).len;
      info = { signo: SIG.TRAP, code: SI_KERNEL };
      what = `breakpoint trap at 0x${hex(rip)}`;
      break;
    default:
      info = { signo: SIG.SEGV, code: SI_KERNEL, addr: 0 };
      what = `general protection fault at 0x${hex(rip)}`;
      if (cpu.cpl === 0 && isSysretq(m.mem, rip)) what += ` (sysretq with non-canonical RCX 0x${hex(cpu.getNum(RCX))}, on the user stack)`;
  }
  return { info, what, user };
}

function isSysretq(mem: Memory, rip: number): boolean {
  const b = new Uint8Array(3);
  return mem.peek(rip, b) === 3 && b[0] === 0x48 && b[1] === 0x0f && b[2] === 0x07;
}

/** The first bytes at addr, for the report of an illegal instruction the decoder did not name. */
function bytesAt(mem: Memory, addr: number): number[] {
  const b = new Uint8Array(15);
  const n = mem.peek(addr, b);
  return [...b.subarray(0, Math.min(n, 4))];
}
