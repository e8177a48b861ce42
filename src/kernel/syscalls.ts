/**
 * The syscall dispatch table: number → handler, assembled from the
 * implementation modules under sys/. Process.syscall looks handlers up here;
 * numbers without one are reported once and return -ENOSYS.
 */
import type { Handler } from './process.js';
import { registerFs } from './sys/fs.js';
import { registerMm } from './sys/mm.js';
import { registerProc } from './sys/proc.js';
import { registerSignal } from './sys/signal.js';
import { registerTime } from './sys/time.js';

export type { Handler } from './process.js';

export class HandlerTable {
  readonly handlers: (Handler | undefined)[] = new Array(462).fill(undefined);
  /** Install handler for syscall nr. */
  on(nr: number, h: Handler): void {
    this.handlers[nr] = h;
  }
}

function build(): (Handler | undefined)[] {
  const t = new HandlerTable();
  registerFs(t);
  registerMm(t);
  registerProc(t);
  registerSignal(t);
  registerTime(t);
  return t.handlers;
}

/** Handlers by syscall number (undefined = not implemented). */
export const SYSCALL_TABLE: readonly (Handler | undefined)[] = build();

/** True if syscall nr has a handler. */
export function isImplemented(nr: number): boolean {
  return nr >= 0 && nr < SYSCALL_TABLE.length && SYSCALL_TABLE[nr] !== undefined;
}
