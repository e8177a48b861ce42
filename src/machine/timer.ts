/**
 * The timer: a periodic interrupt counted in guest instructions, at a
 * nominal guest clock of GUEST_HZ instructions per second. Each task's
 * CPU ticks on its own instruction count (tick k is due once it has
 * retired k * period instructions), so the same program with the same
 * input is interrupted at the same instructions every run, however the
 * other tasks are scheduled and whatever a debugger does between them.
 *
 * The run loop's instruction budget ends at the next tick (runBlocks and
 * the compiled blocks already stop exactly at a budget), so the hot loop
 * does not look at the timer at all. A due tick is delivered by the entry
 * model at the next instruction boundary where the guest kernel can take
 * it; until then it stays pending (ticks that fall due meanwhile merge
 * into it, as a local APIC's one IRR bit per vector).
 */
import type { CPU } from '../cpu/cpu.js';

/** The nominal guest clock: instructions per second of guest time (1 GHz, one instruction a cycle). */
export const GUEST_HZ = 1_000_000_000;
/** The default tick rate: CONFIG_HZ_1000. Its cost is measured in the README (bench-crc with the timer on and off). */
export const DEFAULT_TIMER_HZ = 1000;

/**
 * The shortest period: a tick takes a few hundred instructions of the guest
 * kernel (the entry, the handler, the exit work), during which the next one
 * would already fall due; with a shorter period every return to the program
 * would be interrupted again at once, and the program would never advance
 * (an interrupt storm).
 */
export const MIN_TIMER_PERIOD = 1000;

/** Where a delivered interrupt found the CPU. */
export type InterruptMode = 'user' | 'kernel';

export class Timer {
  /** Instructions between ticks; 0: no timer. */
  readonly period: number;
  /**
   * When each task CPU's next tick falls due (its instruction count); a CPU
   * not in the map is due at the first multiple of the period.
   */
  private readonly next = new WeakMap<CPU, number>();
  /** Interrupts delivered, by where they found the CPU. */
  readonly taken = { user: 0, kernel: 0 };
  /**
   * A debugger's single step may be interrupted (the step then stops at the
   * handler's first instruction). Off by default, as QEMU's gdbstub steps
   * with IRQs masked (`maintenance packet qqemu.sstep`): a `stepi` in the
   * program goes to its next instruction, and the tick waits for the resume.
   */
  stepInterrupts = false;

  constructor(period: number) {
    this.period = period > 0 ? Math.round(period) : 0;
    if (this.period !== 0 && this.period < MIN_TIMER_PERIOD) throw new RangeError(`timer period ${this.period}: at least ${MIN_TIMER_PERIOD} instructions`);
  }

  /** --timer-hz N at the nominal clock: the period in instructions (0 Hz: off). */
  static fromHz(hz: number): Timer {
    return new Timer(hz > 0 ? GUEST_HZ / hz : 0);
  }

  private dueAt(cpu: CPU): number {
    return this.next.get(cpu) ?? this.period;
  }

  /** A tick is due (and not yet delivered) on this CPU. */
  due(cpu: CPU): boolean {
    return this.period !== 0 && cpu.icount >= this.dueAt(cpu);
  }

  /** Instructions the CPU may run before its next tick falls due (Infinity: no timer; 0: one is due). */
  until(cpu: CPU): number {
    if (this.period === 0) return Infinity;
    return Math.max(0, this.dueAt(cpu) - cpu.icount);
  }

  /** The due tick was delivered: the ones due meanwhile merge into it; the next is at the next multiple of the period. */
  delivered(cpu: CPU, mode: InterruptMode): void {
    this.next.set(cpu, (Math.floor(cpu.icount / this.period) + 1) * this.period);
    this.taken[mode]++;
  }

  /**
   * A debugger arms the CPU's next tick n instructions from now (`monitor
   * timer-next`), to take an interrupt at a chosen point; the ticks after
   * it fall on the period's multiples again.
   */
  armIn(cpu: CPU, n: number): void {
    if (this.period !== 0) this.next.set(cpu, cpu.icount + Math.max(0, n));
  }

  /** The line of --stats and `monitor interrupts`. */
  describe(): string {
    if (this.period === 0) return 'timer: off';
    const hz = GUEST_HZ / this.period;
    return `timer interrupts: ${this.taken.user + this.taken.kernel} (${this.taken.user} in user mode, ${this.taken.kernel} in kernel mode); a tick every ${this.period} instructions (${Number.isInteger(hz) ? hz : hz.toFixed(3)} Hz at ${GUEST_HZ / 1e9} GHz)`;
  }
}
