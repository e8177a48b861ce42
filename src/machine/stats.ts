/** The --stats table of `run`, `trace` and `serve` (what it counts: counts.ts). */
import { formatUnimplemented } from '../kernel/syscalls.js';
import { syscallName } from '../kernel/sysnames.js';
import { ia32Name } from '../kernel/ia32/table.js';
import type { Machine } from './machine.js';

/**
 * The --stats table: per syscall, how many and the instructions of the
 * entry and exit path (every process's), then, when the program ran more
 * than one process, a line per process: its instructions, its syscalls and
 * how it ended.
 */
export function formatStats(m: Machine): string {
  const rows = [...m.stats.calls].sort((a, b) => a[0] - b[0]);
  // a 32-bit program's calls are counted by their i386 numbers
  const name = m.leader.exec?.compat ? ia32Name : syscallName;
  let out = `entrystub: ${m.icount} guest instructions; syscalls through the ${m.model.label} entry path:\n`;
  out += `  ${'nr'.padStart(4)}  ${'syscall'.padEnd(18)} ${'count'.padStart(8)}  ${'insns/call'.padStart(10)}\n`;
  for (const [nr, st] of rows)
    out += `  ${String(nr).padStart(4)}  ${name(nr).padEnd(18)} ${String(st.count).padStart(8)}  ${(st.insns / st.count).toFixed(1).padStart(10)}\n`;
  for (const l of m.model.statsLines()) out += l + '\n';
  out += `  schedule: ${m.schedule.switches} task switches, hash ${m.schedule.hash.toString(16).padStart(8, '0')}\n`;
  if (m.kernel) out += `  ${m.timer.describe()}\n`;
  if (m.stats.procs.size > 1) {
    out += `  ${'pid'.padStart(6)}  ${'process'.padEnd(16)} ${'instructions'.padStart(12)}  ${'syscalls'.padStart(8)}  end\n`;
    for (const [pid, st] of [...m.stats.procs].sort((a, b) => a[0] - b[0])) {
      const live = m.os.procs.get(pid);
      const insns = st.end === null && live ? st.insns + live.threads.reduce((n, t) => n + t.cpu.icount, 0) : st.insns;
      out += `  ${String(pid).padStart(6)}  ${st.comm.padEnd(16)} ${String(insns).padStart(12)}  ${String(st.syscalls).padStart(8)}  ${st.end ?? 'running'}\n`;
    }
  }
  return out + formatUnimplemented(m.leader);
}
