/**
 * What a Machine is started with: the program, its argv, environment and
 * root, the host descriptors of its stdio, the entry model, the timer's
 * period, and the log of the host's answers (reverse execution).
 */
import type { HostLog } from '../kernel/hostlog.js';

export interface MachineOptions {
  /** Host path of the program file. */
  program: string;
  /** argv, including argv[0]. */
  argv: string[];
  /** Environment as KEY=VALUE strings. */
  env: string[];
  /** Host directory the guest sees as '/'. */
  root?: string;
  /** Guest working directory (default: the host cwd, as a guest path). */
  cwd?: string;
  stdin?: number;
  stdout?: number;
  stderr?: number;
  /** One-line reports for the user (unknown syscalls, bypassed sites); default: stderr. */
  warn?: (msg: string) => void;
  /** The entry model (src/entry/index.ts: nommu, native, direct; default nommu). */
  entry?: string;
  /** The model's hook (nommu: zpoline, lazy, seccomp; default: the model's first). */
  hook?: string;
  /** How a 32-bit program's vDSO enters the kernel (entry/vdso32.ts: sysenter, the default, or int80). */
  compatEntry?: string;
  /** Guest kernel messages (printk). */
  kernelLog?: (line: string) => void;
  /** Count syscalls and the instructions of their entry/exit path. */
  stats?: boolean;
  /** Record the host's answers here (or replay them, if it holds some): see kernel/hostlog.ts. */
  hostLog?: HostLog;
  /**
   * The timer interrupt's period in guest instructions (timer.ts; 0: off).
   * Default: DEFAULT_TIMER_HZ at the nominal guest clock.
   */
  timerInsns?: number;
}
