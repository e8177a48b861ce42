/**
 * Threads: H (select; all-stop with one thread: accepted for ours, all or
 * any), T (is this thread alive: a specific thread only), qC, qfThreadInfo
 * and qsThreadInfo, qThreadExtraInfo. The thread list is the target's: none
 * once the program has ended (no ghost thread after the exit).
 */
import { textToHex } from '../hex.js';
import type { ThreadId } from '../schema.js';
import type { Target } from '../target.js';
import { command, E_GENERIC, E_INVAL, OK, type Command } from './command.js';

const always = (t: Target) => t;

/** Does id name the thread tid of process pid, or all/any (-1/0) where wild is allowed? */
export function namesThread(id: ThreadId, pid: number | null, tid: number, wild: boolean): boolean {
  if (pid === null) return false;
  const part = (v: number, ours: number) => v === ours || (wild && (v === -1 || v === 0));
  return (id.pid === undefined || part(id.pid, pid)) && part(id.tid, tid);
}

export const threadCommands: Command[] = [
  command({
    name: 'H',
    schema: 'ot',
    cap: always,
    process: false,
    handler: ([op, id], cx) => {
      if (op !== 'g' && op !== 'c') return E_INVAL;
      const pid = cx.target.pid;
      // before `run` there is nothing to select, and nothing to refuse (gdb sends Hgp0.0 at connect)
      if (pid === null) return OK;
      // a forked child not yet let go: gdb selects it to take its breakpoints out, then detaches it
      if (op === 'g' && id.pid !== undefined && id.pid !== pid && cx.target.processEvents?.isHeldChild(id.pid)) {
        cx.selectGeneral(id.pid);
        return OK;
      }
      if (!namesThread(id, pid, pid, true)) return E_GENERIC;
      if (op === 'g') cx.selectGeneral(null);
      return OK;
    },
  }),
  command({
    name: 'T',
    schema: 't',
    cap: always,
    handler: ([id], cx) => {
      const alive = cx.target.threads?.list() ?? [];
      return alive.some((t) => namesThread(id, cx.target.pid, t.tid, false)) ? OK : E_GENERIC;
    },
  }),
  command({ name: 'qC', schema: '', cap: always, handler: (_a, cx) => 'QC' + cx.threadId(cx.target.pid ?? 0) }),
  command({
    name: 'qfThreadInfo',
    schema: '',
    cap: always,
    process: false,
    handler: (_a, cx) => {
      const pid = cx.target.pid;
      const tids = cx.target.threads ? cx.target.threads.list().map((t) => t.tid) : pid === null ? [] : [pid];
      return tids.length > 0 ? 'm' + tids.map((t) => cx.threadId(t)).join(',') : 'l';
    },
  }),
  command({ name: 'qsThreadInfo', schema: '', cap: always, process: false, handler: () => 'l' }),
  command({
    name: 'qThreadExtraInfo,',
    schema: 't',
    cap: always,
    handler: ([id], cx) => {
      const pid = cx.target.pid;
      return pid !== null && namesThread(id, pid, pid, false) ? textToHex(cx.running ? 'running' : 'stopped') : E_GENERIC;
    },
  }),
];
