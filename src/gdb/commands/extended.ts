/**
 * Extended remote (`target extended-remote`, `entrystub serve --multi`):
 * ! enables it; vRun starts a program (killing the current one), vKill ends
 * it, R restarts the last one, vAttach re-attaches to the program when it
 * was detached. Without --multi these get an empty reply.
 */
import { hexToText } from '../hex.js';
import type { Session } from '../session.js';
import { E_GENERIC, NO_REPLY, OK, type Command, type Reply } from './command.js';

function vRun(s: Session, args: string): Reply {
  const argv: string[] = [];
  for (const h of args.split(';')) {
    const t = hexToText(h);
    if (t === null) return 'E22';
    argv.push(t);
  }
  return start(s, argv);
}

function start(s: Session, argv: string[]): Reply {
  const stub = s.stub;
  if (stub.runner.running) return E_GENERIC;
  stub.target?.kill();
  stub.setTarget(null);
  try {
    stub.setTarget(stub.opts.launch!(argv));
  } catch (e) {
    s.stub.opts.log(`entrystub: vRun: ${(e as Error).message}`);
    stub.lastStop = { kind: 'exited', code: 127 };
    return `E.${(e as Error).message}`;
  }
  stub.lastArgv = argv;
  stub.detached = false;
  stub.attachedToExisting = false;
  stub.lastStop = { kind: 'step' };
  return s.stopReply(stub.lastStop);
}

function vKill(s: Session): Reply {
  s.stub.target?.kill();
  s.stub.lastStop = { kind: 'terminated', signal: 9 };
  if (s.stub.opts.multi) s.stub.setTarget(null);
  s.stub.programEnded();
  return OK;
}

function vAttach(s: Session, args: string): Reply {
  const t = s.stub.target;
  if (!t || parseInt(args, 16) !== t.pid) return E_GENERIC;
  s.stub.attachedToExisting = true;
  return s.stopReply(s.stub.lastStop);
}

const multi = (s: Session) => s.stub.opts.multi && !!s.stub.opts.launch;

export const extendedCommands: Command[] = [
  {
    name: '!',
    exact: true,
    needsTarget: false,
    when: multi,
    handler: (s) => {
      s.extended = true;
      return OK;
    },
  },
  { name: 'vRun;', needsTarget: false, when: multi, handler: vRun },
  // gdb kills with vKill in plain remote mode too (with multiprocess)
  { name: 'vKill;', needsTarget: false, handler: vKill },
  {
    name: 'R',
    needsTarget: false,
    when: multi,
    handler: (s) => {
      start(s, s.stub.lastArgv);
      return NO_REPLY;
    },
  },
  { name: 'vAttach;', needsTarget: false, when: multi, handler: vAttach },
];
