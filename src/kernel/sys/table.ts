/**
 * The shape of a syscall implementation and the table the sys/ modules fill.
 * Kept apart from the dispatch (../syscalls.ts) so that the implementation
 * modules depend on this small module and on Process, never on the dispatch
 * that imports them: src/kernel has no import cycle.
 */
import { ENOSYS } from '../errno.js';
import { NR_SYSCALLS } from '../../guest/generated/abi.js';
import type { Process } from '../process.js';
import type { SyscallArgs } from './util.js';

/** A syscall body: returns RAX (negative = -errno) or throws SysError / a host error. */
export type Handler = (p: Process, a: SyscallArgs) => number;

/**
 * How a syscall is answered, for the README's table:
 * - 'yes': as Linux does;
 * - 'partly': the note says what is missing;
 * - 'enosys': ENOSYS because entrystub lacks it, on purpose (the note says why);
 * - 'linux-enosys': ENOSYS because Linux has no implementation either (sys_ni_syscall).
 * Numbers with no entry at all are ENOSYS too (reported, and listed by --stats).
 */
export type Support = 'yes' | 'partly' | 'enosys' | 'linux-enosys';

export class HandlerTable {
  readonly handlers: (Handler | undefined)[] = new Array(NR_SYSCALLS).fill(undefined);
  readonly support: (Support | undefined)[] = new Array(NR_SYSCALLS).fill(undefined);
  /**
   * What a handler leaves out of Linux's behaviour, by number: written next
   * to the handler (`t.on(nr, h, 'what is missing')`) so that the README's
   * table, generated from here, cannot drift from the code.
   */
  readonly notes: (string | undefined)[] = new Array(NR_SYSCALLS).fill(undefined);

  /** Install handler h for syscall nr; `partly` names what it does not do that Linux does. */
  on(nr: number, h: Handler, partly?: string): void {
    this.handlers[nr] = h;
    this.support[nr] = partly ? 'partly' : 'yes';
    this.notes[nr] = partly;
  }

  /**
   * Syscall nr answers ENOSYS on purpose, as a kernel built without it would
   * (`why` says so). The calls count for --stats but are not reported one by
   * one: the libc probes them at every start.
   */
  enosys(nr: number, why: string): void {
    this.handlers[nr] = (p) => {
      p.countEnosys(nr);
      return -ENOSYS;
    };
    this.support[nr] = 'enosys';
    this.notes[nr] = why;
  }

  /** Syscall nr is sys_ni_syscall on Linux x86-64 too: ENOSYS with nothing missing. */
  ni(nr: number): void {
    this.handlers[nr] = () => -ENOSYS;
    this.support[nr] = 'linux-enosys';
    this.notes[nr] = undefined;
  }
}
