/** What --stats counts as the machine runs: every process's syscalls and instructions (stats.ts prints it). */
import type { Process } from '../kernel/process.js';
import { signalName } from '../kernel/signal.js';

/** Per-syscall figures for --stats. */
export interface SyscallStat {
  count: number;
  /** Guest instructions from the user instruction to the next user instruction, summed. */
  insns: number;
}

/** A process's figures for --stats: its syscalls, and its guest instructions once it has ended. */
export interface ProcStat {
  comm: string;
  syscalls: number;
  insns: number;
  end: string | null;
}

/** The counts --stats prints, kept as the machine runs. */
export class MachineStats {
  /** Per syscall number, every process's calls. */
  readonly calls = new Map<number, SyscallStat>();
  /** Per process (pid). */
  readonly procs = new Map<number, ProcStat>();

  private of(p: Process): ProcStat {
    let st = this.procs.get(p.pid);
    if (!st) {
      st = { comm: p.comm, syscalls: 0, insns: 0, end: null };
      this.procs.set(p.pid, st);
    }
    st.comm = p.comm;
    return st;
  }

  /** A syscall's trip through the entry path, of `insns` guest instructions, made by p. */
  trip(nr: number, insns: number, p: Process): void {
    let st = this.calls.get(nr);
    if (st === undefined) {
      st = { count: 0, insns: 0 };
      this.calls.set(nr, st);
    }
    st.count++;
    st.insns += insns;
    this.of(p).syscalls++;
  }

  /** A task of p ended after `insns` guest instructions (and with it p, if it was the last). */
  taskExited(p: Process, insns: number): void {
    const st = this.of(p);
    st.insns += insns;
    if (p.ended) st.end = p.termSignal !== null ? `killed by ${signalName(p.termSignal)}` : `exited with ${p.exitCode}`;
  }
}
