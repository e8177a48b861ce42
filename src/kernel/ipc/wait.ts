/**
 * How semop and msgsnd/msgrcv sleep: as the kernel's other blocking calls
 * do here (ready.ts), the call looks at its condition, and when it cannot
 * go on it waits for another task to act (the task parks and the whole call
 * is retried later: it has changed nothing before it waits). A signal ends
 * the wait with EINTR, which is final for semop and ERESTARTNOHAND for the
 * message calls (restarted only when no handler ran), as in Linux; a timeout
 * (semtimedop) is EAGAIN; an object removed while a task waits on it makes
 * that task's call fail with EIDRM.
 */
import { EAGAIN, EIDRM, EINTR, SysError } from '../errno.js';
import type { Process } from '../process.js';
import { waitEvent } from '../ready.js';
import type { IpcWaiter, WaitHome } from './objects.js';


/** At the start of a call that may have waited: EIDRM if the object it waited on went. */
export function checkRemoved(p: Process, home: WaitHome): void {
  const k = home.idrm.indexOf(p.tid);
  if (k < 0) return;
  home.idrm.splice(k, 1);
  throw new SysError(EIDRM);
}

/** The object waited on is gone: its waiters' calls fail with EIDRM when they run again. */
export function removedWhileWaiting(home: WaitHome, waiters: readonly IpcWaiter[]): void {
  for (const w of waiters) if (!home.idrm.includes(w.tid)) home.idrm.push(w.tid);
}

/**
 * Wait until another task may have changed what the call waits for (the
 * caller looks again; a parked task's call is retried from its start).
 * `restart` says how Linux returns from a signal: 'nohand' (ERESTARTNOHAND)
 * or null (plain EINTR). deadline: monotonic ns, or null. `ended` is
 * told when the wait ends with an error (the task waits no more).
 */
export function ipcWait(p: Process, deadline: bigint | null, restart: 'nohand' | null, what: string, ended: () => void): void {
  // a parked task (WouldBlock thrown through here) stays a waiter: its call runs again from the start
  const r = waitEvent(p, deadline, { at: null, host: false });
  if (r !== 'again') ended();
  if (r === 'signal') {
    p.interrupted = restart;
    throw new SysError(EINTR);
  }
  if (r === 'timeout') throw new SysError(EAGAIN);
  if (r === 'deadlock') {
    // every task waits: nobody can ever wake this one (Linux would sleep forever)
    p.warnOnce(`entrystub: ${what} waits for something no process can do; returning EAGAIN`);
    throw new SysError(EAGAIN);
  }
}
