/**
 * Runs a resume in slices: target.poll(SLICE) and then setImmediate, so the
 * event loop reads socket input between slices and the interrupt byte stops
 * a running `continue` promptly (QEMU user mode ignores it: GDB-RSP.md §0.5).
 * The first slice runs at once, so a single step answers in the same turn.
 */
import type { ExecutionOps, ResumeAction, StopReason } from './target.js';

/** Instructions per slice: a few milliseconds of guest time. */
export const SLICE = 100_000;

export class Runner {
  private target: ExecutionOps | null = null;
  private onStop: ((r: StopReason) => void) | null = null;
  private interruptRequested = false;
  private scheduled = false;
  /** A timer that polls again while the program sleeps in a syscall. */
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly log: (msg: string) => void) {}

  /** Resumes started (by any client, or by the stub for a program running free). */
  starts = 0;

  get running(): boolean {
    return this.target !== null;
  }

  start(target: ExecutionOps, action: ResumeAction, onStop: (r: StopReason) => void): void {
    if (this.target) throw new Error('already running');
    this.starts++;
    this.target = target;
    this.onStop = onStop;
    this.interruptRequested = false;
    try {
      target.resume(action);
    } catch (e) {
      this.internalError(e);
      return;
    }
    this.slice();
  }

  /** Stop the running resume at the next slice boundary with {kind: 'interrupted'}. */
  interrupt(): void {
    if (!this.target) return;
    this.interruptRequested = true;
    if (this.timer) {
      // sleeping in a syscall: stop now rather than when the sleep's poll comes
      clearTimeout(this.timer);
      this.timer = null;
      this.scheduled = false;
      this.slice();
    }
  }

  /** Replace who hears about the stop (a session that went away hands over to the stub). */
  redirect(onStop: (r: StopReason) => void): void {
    this.onStop = onStop;
  }

  private readonly tick = (): void => {
    this.scheduled = false;
    this.timer = null;
    this.slice();
  };

  private slice(): void {
    const t = this.target;
    if (!t) return;
    if (this.interruptRequested) return this.finish({ kind: 'interrupted' });
    let r: StopReason | null;
    try {
      r = t.poll(SLICE);
    } catch (e) {
      return this.internalError(e);
    }
    if (r) return this.finish(r);
    if (!this.scheduled) {
      this.scheduled = true;
      const idle = t.idleMs();
      if (idle > 0) this.timer = setTimeout(this.tick, idle);
      else setImmediate(this.tick);
    }
  }

  private internalError(e: unknown): void {
    this.log(`entrystub: internal error while running: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    this.finish({ kind: 'interrupted' });
  }

  private finish(r: StopReason): void {
    const cb = this.onStop;
    this.target = null;
    this.onStop = null;
    this.interruptRequested = false;
    cb?.(r);
  }
}
