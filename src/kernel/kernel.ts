/**
 * State the emulated kernel keeps across processes, as opposed to what each
 * Process owns: today the flock table; the process table, pipes shared
 * between processes and the like belong here when there are several
 * processes, and the machine's memory. Every Process points at one Kernel (by default the one of this
 * host process, so two emulated processes in one Node see each other's
 * locks, as two processes on one Linux machine do).
 */
import { hostAllowedCpus } from './host.js';
import { FlockTable } from './locks.js';
import { PhysMem } from './physmem.js';

export class Kernel {
  readonly flocks = new FlockTable();
  /** The machine's memory: guest pages counted against --mem-limit. */
  readonly physmem = new PhysMem();
  /** The machine's CPUs: those the host process may run on when we start (sched_setaffinity cannot go beyond them). */
  readonly cpus: readonly number[] = hostAllowedCpus();
}

/** The kernel of this host process. */
export const defaultKernel = new Kernel();
