/**
 * qRcmd,HEX — `monitor CMD`. The output goes back as `O` packets, then OK.
 */
import { hexToText } from '../hex.js';
import type { Session } from '../session.js';
import { E_INVAL, OK, type Command, type Reply } from './command.js';

function rcmd(s: Session, args: string): Reply {
  const cmd = hexToText(args);
  if (cmd === null) return E_INVAL;
  const out = s.target!.monitor!.command(cmd.trim());
  if (out === null) {
    // as gdbserver: the message, then OK (an error reply makes gdb print only "Protocol error with Rcmd")
    s.console(`entrystub: unknown monitor command '${cmd.trim()}' (try 'monitor help')\n`);
    return OK;
  }
  // O packets carry at most a packet's worth of hex each
  const max = Math.floor((s.packetSize - 2) / 2);
  for (let i = 0; i < out.length; i += max) s.console(out.slice(i, i + max));
  return OK;
}

export const monitorCommands: Command[] = [{ name: 'qRcmd,', when: (s) => !!s.target?.monitor, handler: rcmd }];
