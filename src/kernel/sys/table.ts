/**
 * The shape of a syscall implementation and the table the sys/ modules fill.
 * Kept apart from the dispatch (../syscalls.ts) so that the implementation
 * modules depend on this small module and on Process, never on the dispatch
 * that imports them: src/kernel has no import cycle.
 */
import { NR_SYSCALLS } from '../guest.js';
import type { Process } from '../process.js';
import type { SyscallArgs } from './util.js';

/** A syscall body: returns RAX (negative = -errno) or throws SysError / a host error. */
export type Handler = (p: Process, a: SyscallArgs) => number;

export class HandlerTable {
  readonly handlers: (Handler | undefined)[] = new Array(NR_SYSCALLS).fill(undefined);
  /**
   * What a handler leaves out of Linux's behaviour, by number: the README's
   * syscall table says "partly" and shows this note. Written next to the
   * handler (`t.on(nr, h, 'what is missing')`) so the two cannot drift.
   */
  readonly partly: (string | undefined)[] = new Array(NR_SYSCALLS).fill(undefined);

  /** Install handler h for syscall nr; `partly` names what it does not do that Linux does. */
  on(nr: number, h: Handler, partly?: string): void {
    this.handlers[nr] = h;
    this.partly[nr] = partly;
  }
}
