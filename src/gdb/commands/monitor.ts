/**
 * qRcmd,HEX — `monitor CMD`. The stub's own commands (help, exit) work with
 * or without a process; the target's say so when there is none. Output goes
 * back as `O` packets, then OK (as gdbserver: an error reply makes gdb print
 * only "Protocol error with Rcmd").
 */
import type { MonitorCommand, Target } from '../target.js';
import { command, OK, type Command } from './command.js';
import type { PacketContext } from './context.js';

function help(cmds: readonly MonitorCommand[]): string {
  const rows: [string, string][] = [['help', 'this list'], ...cmds.map((c): [string, string] => [c.name, c.help]), ['exit', 'end the program and the stub']];
  return 'entrystub monitor commands:\n' + rows.map(([n, h]) => `  monitor ${n.padEnd(8)} ${h}\n`).join('');
}

function rcmd(line: string, cx: PacketContext): string {
  const cmd = line.trim();
  const [name = '', ...rest] = cmd.split(/\s+/);
  const cmds = cx.target.monitor?.commands ?? [];
  const say = (text: string) => {
    // O packets carry at most a packet's worth of hex each
    const max = Math.floor((cx.packetSize - 2) / 2);
    for (let i = 0; i < text.length; i += max) cx.console(text.slice(i, i + max));
  };
  if (name === '' || name === 'help') say(help(cmds));
  else if (name === 'exit') {
    say('entrystub: exiting\n');
    cx.program.exit();
  } else {
    const c = cmds.find((k) => k.name === name);
    if (!c) say(`entrystub: unknown monitor command '${cmd}' (try 'monitor help')\n`);
    else if (c.needsProcess && cx.target.pid === null) say(`entrystub: monitor ${name}: there is no process (start one with \`run\`)\n`);
    else say(c.run(rest.join(' ')));
  }
  return OK;
}

export const monitorCommands: Command[] = [
  command({ name: 'qRcmd,', schema: 'h', cap: (t: Target) => t, process: false, handler: ([line], cx) => rcmd(line, cx) }),
];
