/**
 * Threads: H (select: Hg chooses the thread register, memory and breakpoint
 * packets refer to; all or any keeps the current one), T (is this thread
 * alive: a specific thread only), qC, qfThreadInfo and qsThreadInfo,
 * qThreadExtraInfo, QThreadEvents (thread create and exit stops). The thread list is the target's: the threads of every
 * process followed, none once the program has ended (no ghost thread after
 * the exit).
 */
import { textToHex } from '../hex.js';
import type { ThreadId } from '../schema.js';
import type { Target, ThreadInfo } from '../target.js';
import { command, E_GENERIC, E_INVAL, OK, type Command } from './command.js';

const always = (t: Target) => t;

/** Does id name the thread tid of process pid, or all/any (-1/0) where wild is allowed? */
export function namesThread(id: ThreadId, pid: number | null, tid: number, wild: boolean): boolean {
  if (pid === null) return false;
  const part = (v: number, ours: number) => v === ours || (wild && (v === -1 || v === 0));
  return (id.pid === undefined || part(id.pid, pid)) && part(id.tid, tid);
}

/** The live threads: the target's list, or the program's one thread. */
export function threadsOf(t: Target): ThreadInfo[] {
  if (t.threads) return t.threads.list();
  return t.pid === null ? [] : [{ pid: t.pid, tid: t.pid, name: '' }];
}

/** The thread an id names exactly (no wildcard), if it lives. */
function named(t: Target, id: ThreadId): ThreadInfo | undefined {
  return threadsOf(t).find((th) => namesThread(id, th.pid, th.tid, false));
}

export const threadCommands: Command[] = [
  command({
    name: 'H',
    schema: 'ot',
    cap: always,
    process: false,
    handler: ([op, id], cx) => {
      if (op !== 'g' && op !== 'c') return E_INVAL;
      const t = cx.target;
      // before `run` there is nothing to select, and nothing to refuse (gdb sends Hgp0.0 at connect)
      if (t.pid === null) return OK;
      if (id.tid === -1 || id.tid === 0) return OK; // all or any: the current thread stays
      const th = named(t, id);
      if (!th) return E_GENERIC;
      // Hc names the thread of the next resume, which vCont names again: only Hg changes what packets see
      if (op === 'g' && t.processes && !t.processes.select(th.tid)) return E_GENERIC;
      return OK;
    },
  }),
  command({
    name: 'T',
    schema: 't',
    cap: always,
    handler: ([id], cx) => (named(cx.target, id) ? OK : E_GENERIC),
  }),
  command({ name: 'qC', schema: '', cap: always, handler: (_a, cx) => 'QC' + cx.threadId(cx.target.processes?.selected()?.tid ?? cx.target.pid ?? 0) }),
  command({
    name: 'qfThreadInfo',
    schema: '',
    cap: always,
    process: false,
    handler: (_a, cx) => {
      const tids = threadsOf(cx.target).map((t) => t.tid);
      return tids.length > 0 ? 'm' + tids.map((t) => cx.threadId(t)).join(',') : 'l';
    },
  }),
  command({
    name: 'QThreadEvents:',
    schema: 'l',
    cap: (t) => t.threads,
    process: false,
    handler: ([on], _cx, th) => {
      if (on !== 0 && on !== 1) return E_INVAL;
      th.setEvents(on === 1);
      return OK;
    },
  }),
  command({ name: 'qsThreadInfo', schema: '', cap: always, process: false, handler: () => 'l' }),
  command({
    name: 'qThreadExtraInfo,',
    schema: 't',
    cap: always,
    handler: ([id], cx) => (named(cx.target, id) ? textToHex(cx.running ? 'running' : 'stopped') : E_GENERIC),
  }),
];
