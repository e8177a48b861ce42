/** The --stats table of `run`, `trace` and `serve`. */
import { formatUnimplemented } from '../kernel/syscalls.js';
import { syscallName } from '../kernel/sysnames.js';
import type { Machine } from './machine.js';

/** The --stats table: per syscall, how many and the instructions of the entry and exit path. */
export function formatStats(m: Machine): string {
  const rows = [...m.stats].sort((a, b) => a[0] - b[0]);
  let out = `entrystub: ${m.cpu.icount} guest instructions; syscalls through the ${m.model.label} entry path:\n`;
  out += `  ${'nr'.padStart(4)}  ${'syscall'.padEnd(18)} ${'count'.padStart(8)}  ${'insns/call'.padStart(10)}\n`;
  for (const [nr, st] of rows)
    out += `  ${String(nr).padStart(4)}  ${syscallName(nr).padEnd(18)} ${String(st.count).padStart(8)}  ${(st.insns / st.count).toFixed(1).padStart(10)}\n`;
  for (const l of m.model.statsLines()) out += l + '\n';
  return out + formatUnimplemented(m.proc);
}
