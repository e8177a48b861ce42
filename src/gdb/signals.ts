/**
 * Signal numbers: the target speaks Linux's, the remote protocol gdb's own
 * (include/gdb/signals.def). They agree for 1-15 except 7 and 10/12.
 */

/** Linux signal number -> gdb's. */
const LINUX_TO_GDB: Record<number, number> = {
  1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 10 /* BUS */, 8: 8, 9: 9, 10: 30 /* USR1 */, 11: 11, 12: 31 /* USR2 */,
  13: 13, 14: 14, 15: 15, 17: 20 /* CHLD */, 18: 19 /* CONT */, 19: 17 /* STOP */, 20: 18 /* TSTP */, 21: 21, 22: 22,
  23: 16 /* URG */, 24: 24, 25: 25, 26: 26, 27: 27, 28: 28, 29: 23 /* IO */, 30: 32 /* PWR */, 31: 12 /* SYS */,
  32: 77 /* REALTIME_32 */, 64: 78 /* REALTIME_64 */,
};
const GDB_SIGNAL_UNKNOWN = 143;

const GDB_TO_LINUX: Record<number, number> = {};
for (const [l, g] of Object.entries(LINUX_TO_GDB)) GDB_TO_LINUX[g] = Number(l);

export function toGdbSignal(linux: number): number {
  if (linux === 0) return 0;
  if (linux >= 33 && linux <= 63) return linux + 12; // REALTIME_33.. = 45..
  return LINUX_TO_GDB[linux] ?? GDB_SIGNAL_UNKNOWN;
}

/** gdb's number -> Linux's (0 if Linux has no such signal). */
export function fromGdbSignal(gdb: number): number {
  if (gdb === 0) return 0;
  if (gdb >= 45 && gdb <= 75) return gdb - 12;
  return GDB_TO_LINUX[gdb] ?? 0;
}

export const SIGINT = 2;
export const SIGTRAP = 5;
