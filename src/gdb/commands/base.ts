/**
 * Connection setup and the program's state: qSupported, QStartNoAckMode,
 * vMustReplyEmpty, ? (the last stop), qAttached, qOffsets, qSymbol,
 * QDisableRandomization, k and D.
 */
import type { Target } from '../target.js';
import { command, E_GENERIC, OK, type Command } from './command.js';
import { NO_REPLY, type PacketContext } from './context.js';

const always = (t: Target) => t;

/** qSupported: what we support, derived from the target's capabilities (they do not change with the process). */
function qSupported(feats: string[], cx: PacketContext): string {
  const has = (f: string) => feats.includes(f + '+');
  // gdb has announced qRelocInsn+ since 7.3 and vContSupported+ since 7.12 (lldb sends neither)
  if (has('qRelocInsn') && !has('vContSupported')) {
    const msg = 'entrystub needs gdb 7.12 or newer (gdb 13 is tested); this gdb is older: install a newer one (apt-get install gdb)';
    cx.log(`entrystub: a debugger connected and was refused: ${msg.replace(/^entrystub /, '')}`);
    return 'E.' + msg;
  }
  cx.negotiate({ multiprocess: has('multiprocess'), swbreak: has('swbreak'), hwbreak: has('hwbreak'), vContSupported: has('vContSupported') });
  const t = cx.target;
  const out = [`PacketSize=${cx.packetSize.toString(16)}`, 'QStartNoAckMode+', 'qXfer:features:read+', 'vContSupported+', 'multiprocess+', 'QDisableRandomization+'];
  if (t.breakpoints) out.push('swbreak+');
  if (t.breakpoints?.hw) out.push('hwbreak+');
  if (t.execFile) out.push('qXfer:exec-file:read+');
  if (t.auxv) out.push('qXfer:auxv:read+');
  if (t.libraries) out.push('qXfer:libraries-svr4:read+');
  if (t.siginfo) out.push('qXfer:siginfo:read+');
  if (t.threads) out.push('qXfer:threads:read+', 'QThreadEvents+');
  if (t.catchSyscalls) out.push('QCatchSyscalls+');
  if (t.execution?.reverse) out.push('ReverseStep+', 'ReverseContinue+');
  if (t.passSignals) out.push('QPassSignals+', 'QProgramSignals+');
  if (t.processes) {
    // each event is reported only when both sides announce it (gdb's rule)
    out.push('fork-events+', 'vfork-events+', 'exec-events+');
    t.processes.setEvents({ fork: has('fork-events'), vfork: has('vfork-events'), exec: has('exec-events') });
  }
  return out.join(';');
}

function stopStatus(cx: PacketContext): string {
  const last = cx.program.lastStop;
  if (cx.target.pid !== null || last.kind === 'exited' || last.kind === 'terminated') return cx.stopReply(last);
  return 'W00'; // never had a process (extended mode before `run`): as gdbserver
}

export const baseCommands: Command[] = [
  command({ name: 'qSupported', schema: '', cap: always, process: false, handler: (_a, cx) => qSupported([], cx) }),
  command({ name: 'qSupported:', schema: 'S', cap: always, process: false, handler: ([f], cx) => qSupported(f.split(';'), cx) }),
  command({
    name: 'QStartNoAckMode',
    schema: '',
    cap: always,
    process: false,
    handler: (_a, cx) => {
      cx.startNoAck(OK);
      return NO_REPLY;
    },
  }),
  command({ name: 'vMustReplyEmpty', schema: '', cap: always, process: false, handler: () => '' }),
  command({ name: '?', schema: '', cap: always, process: false, handler: (_a, cx) => stopStatus(cx) }),
  // 0: the stub created the process (gdb kills it on quit rather than detaching)
  command({ name: 'qAttached', schema: '', cap: always, handler: (_a, cx) => (cx.program.attachedToExisting ? '1' : '0') }),
  command({
    name: 'qAttached:',
    schema: 'l',
    cap: always,
    handler: ([pid], cx) => (pid !== cx.target.pid ? E_GENERIC : cx.program.attachedToExisting ? '1' : '0'),
  }),
  command({
    name: 'qOffsets',
    schema: '',
    cap: (t) => t.sectionOffsets,
    handler: (_a, _cx, so) => {
      const o = so.offsets();
      const h = (v: number) => v.toString(16).padStart(16, '0');
      return `Text=${h(o.text)};Data=${h(o.data)};Bss=${h(o.bss)}`;
    },
  }),
  // no symbol lookups wanted
  command({ name: 'qSymbol:', schema: 'S', cap: always, process: false, handler: () => OK }),
  // there is no randomization to disable: the layout is always Linux's without ASLR
  command({ name: 'QDisableRandomization:', schema: 'l', cap: always, process: false, handler: () => OK }),
  command({
    name: 'k',
    schema: '',
    cap: always,
    handler: (_a, cx) => {
      cx.program.kill();
      return NO_REPLY;
    },
  }),
  command({
    name: 'D',
    schema: '',
    cap: always,
    handler: (_a, cx) => {
      cx.program.detach();
      return OK;
    },
  }),
  command({
    name: 'D;',
    schema: 'l',
    cap: always,
    handler: ([pid], cx) => {
      // one of several processes followed: that one goes its own way, the session goes on with the others
      const procs = cx.target.processes;
      if (procs && procs.count() > 1) return procs.detach(pid) ? OK : E_GENERIC;
      if (pid !== cx.target.pid && !cx.target.threads?.list().some((t) => t.pid === pid)) return E_GENERIC;
      cx.program.detach();
      return OK;
    },
  }),
];
