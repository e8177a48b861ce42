/**
 * The base protocol: connection setup (qSupported, QStartNoAckMode,
 * vMustReplyEmpty), stop status (?), threads (H, T, qC, qfThreadInfo,
 * qsThreadInfo, qThreadExtraInfo, qAttached), registers (g, G, p, P),
 * memory (m, M, X), qOffsets, qSymbol, k and D.
 */
import { fromHex, parseNum, textToHex, toHex } from '../hex.js';
import { bodyBytes, rle, unescape } from '../packet.js';
import { parse } from '../schema.js';
import type { Session } from '../session.js';
import { E_FAULT, E_GENERIC, E_INVAL, NO_REPLY, OK, type Command } from './command.js';

/** qSupported: what we support, derived from the target's capabilities. */
function qSupported(s: Session, args: string): string {
  const feats = args.startsWith(':') ? args.slice(1).split(';') : [];
  const has = (f: string) => feats.includes(f + '+');
  // gdb has announced qRelocInsn+ since 7.3 and vContSupported+ since 7.12 (lldb sends neither)
  if (has('qRelocInsn') && !has('vContSupported')) {
    const msg = 'entrystub needs gdb 7.12 or newer (gdb 13 is tested); this gdb is older: install a newer one (apt-get install gdb)';
    s.stub.opts.log(`entrystub: a debugger connected and was refused: ${msg.replace(/^entrystub /, '')}`);
    return 'E.' + msg;
  }
  s.client = {
    multiprocess: has('multiprocess'),
    swbreak: has('swbreak'),
    hwbreak: has('hwbreak'),
    vContSupported: has('vContSupported'),
  };
  const t = s.target;
  const out = [`PacketSize=${s.packetSize.toString(16)}`, 'QStartNoAckMode+', 'qXfer:features:read+', 'vContSupported+', 'multiprocess+', 'QDisableRandomization+'];
  if (t?.breakpoints || !t) out.push('swbreak+');
  if (t?.breakpoints?.addHw || !t) out.push('hwbreak+');
  if (t?.execFile || !t) out.push('qXfer:exec-file:read+');
  if (t?.auxv || !t) out.push('qXfer:auxv:read+');
  if (t?.libraries) out.push('qXfer:libraries-svr4:read+');
  if (t?.siginfo || !t) out.push('qXfer:siginfo:read+');
  out.push('qXfer:threads:read+');
  if (t?.catchSyscalls || !t) out.push('QCatchSyscalls+');
  if (t?.passSignals || !t) out.push('QPassSignals+', 'QProgramSignals+');
  return out.join(';');
}

function readRegs(s: Session): string {
  return rle(toHex(s.target!.readRegisters()));
}

function writeRegs(s: Session, args: string): string {
  const b = fromHex(args);
  if (b === null || b.length > s.target!.arch.gSize) return E_INVAL;
  s.target!.writeRegisters(b);
  return OK;
}

function readReg(s: Session, args: string): string {
  const n = parseNum(args);
  if (n === null) return E_INVAL;
  const v = s.target!.readRegister(n);
  return v ? rle(toHex(v)) : E_INVAL;
}

function writeReg(s: Session, args: string): string {
  const p = parse('l=S', args);
  if (!p) return E_INVAL;
  const b = fromHex(p[1] as string);
  if (b === null) return E_INVAL;
  return s.target!.writeRegister(p[0] as number, b) ? OK : E_INVAL;
}

function readMem(s: Session, args: string): string {
  const p = parse('L,l', args);
  if (!p) return E_INVAL;
  const [addr, len] = p as number[];
  // a reply larger than a packet is cut: gdb reads the rest with another `m`
  const n = Math.min(len, Math.floor((s.packetSize - 4) / 2));
  if (n === 0) return '';
  const b = s.target!.readMemory(addr, n);
  return b.length === 0 ? E_FAULT : rle(toHex(b));
}

function writeMemHex(s: Session, args: string): string {
  const p = parse('L,l:S', args);
  if (!p) return E_INVAL;
  const [addr, len] = p as number[];
  const b = fromHex(p[2] as string);
  if (b === null || b.length !== len) return E_INVAL;
  return s.target!.writeMemory(addr, b) ? OK : E_FAULT;
}

function writeMemBinary(s: Session, args: string): string {
  const colon = args.indexOf(':');
  if (colon < 0) return E_INVAL;
  const p = parse('L,l', args.slice(0, colon));
  if (!p) return E_INVAL;
  const [addr, len] = p as number[];
  const data = bodyBytes(unescape(args.slice(colon + 1)));
  if (data.length !== len) return E_INVAL;
  if (len === 0) return OK; // gdb's probe for X support
  return s.target!.writeMemory(addr, data) ? OK : E_FAULT;
}

function threadAlive(s: Session, args: string): string {
  return s.isOurThread(args) ? OK : E_GENERIC;
}

function stopStatus(s: Session): string {
  if (!s.target) return 'W00';
  return s.stopReply(s.stub.lastStop);
}

function kill(s: Session): typeof NO_REPLY {
  s.target!.kill();
  s.stub.lastStop = { kind: 'terminated', signal: 9 };
  s.stub.programEnded();
  return NO_REPLY;
}

function detach(s: Session): string {
  s.stub.detach();
  return OK;
}

function offsets(s: Session): string {
  const o = s.target!.sectionOffsets!.offsets();
  const h = (v: number) => v.toString(16).padStart(16, '0');
  return `Text=${h(o.text)};Data=${h(o.data)};Bss=${h(o.bss)}`;
}

export const baseCommands: Command[] = [
  { name: 'qSupported', needsTarget: false, handler: qSupported },
  {
    name: 'QStartNoAckMode',
    exact: true,
    needsTarget: false,
    handler: (s) => {
      // this reply still goes out in ack mode; from the next packet on, no acks
      s.send(OK);
      s.noAck = true;
      return NO_REPLY;
    },
  },
  { name: 'vMustReplyEmpty', exact: true, needsTarget: false, handler: () => '' },
  { name: '?', exact: true, needsTarget: false, handler: stopStatus },
  { name: 'g', exact: true, handler: readRegs },
  { name: 'G', handler: writeRegs },
  { name: 'p', handler: readReg },
  { name: 'P', handler: writeReg },
  { name: 'm', handler: readMem },
  { name: 'M', handler: writeMemHex },
  { name: 'X', handler: writeMemBinary },
  { name: 'H', needsTarget: false, handler: () => OK },
  { name: 'T', handler: threadAlive },
  { name: 'qC', exact: true, handler: (s) => 'QC' + s.threadId() },
  { name: 'qfThreadInfo', exact: true, needsTarget: false, handler: (s) => (s.target ? 'm' + s.threadId() : 'l') },
  { name: 'qsThreadInfo', exact: true, needsTarget: false, handler: () => 'l' },
  {
    name: 'qThreadExtraInfo,',
    handler: (s, a) => (s.isOurThread(a) ? textToHex(s.stub.runner.running ? 'running' : 'stopped') : E_GENERIC),
  },
  // 0: the stub created the process (gdb kills it on quit rather than detaching)
  { name: 'qAttached', needsTarget: false, handler: (s) => (s.stub.attachedToExisting ? '1' : '0') },
  { name: 'qOffsets', exact: true, when: (s) => !!s.target?.sectionOffsets, handler: offsets },
  { name: 'qSymbol:', needsTarget: false, handler: () => OK },
  { name: 'k', exact: true, handler: kill },
  { name: 'D', handler: detach },
  { name: 'QDisableRandomization:', needsTarget: false, handler: () => OK },
];
