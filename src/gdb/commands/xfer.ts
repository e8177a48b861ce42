/**
 * qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH — target description (features),
 * the program's path (exec-file), the auxiliary vector (auxv), loaded images
 * (libraries-svr4), the last signal's siginfo and the thread list (threads). Replies are `m` (more
 * follows) or `l` (last) with binary-escaped data, cut to fit a packet.
 */
import { addrHex } from '../hex.js';
import { escapeBinary } from '../packet.js';
import { parse } from '../schema.js';
import type { Session } from '../session.js';
import { E_INVAL, type Command, type Reply } from './command.js';

/** How many bytes of data, escaped, fit in max characters. */
export function fitEscaped(data: Uint8Array, start: number, count: number, max: number): number {
  let out = 0;
  let n = 0;
  while (n < count && start + n < data.length) {
    const c = data[start + n];
    const w = c === 0x23 || c === 0x24 || c === 0x7d || c === 0x2a ? 2 : 1;
    if (out + w > max) break;
    out += w;
    n++;
  }
  return n;
}

/** Serve [offset, offset+length) of a document. */
function chunk(s: Session, doc: Uint8Array, args: string): Reply {
  const p = parse('l,l', args);
  if (!p) return E_INVAL;
  const [off, len] = p as number[];
  if (off >= doc.length) return 'l';
  const n = fitEscaped(doc, off, len, s.packetSize - 1);
  const more = off + n < doc.length;
  return (more ? 'm' : 'l') + escapeBinary(doc.subarray(off, off + n));
}

/** ANNEX:OFFSET,LENGTH -> [annex, rest]. */
function annexOf(args: string): [string, string] | null {
  const i = args.lastIndexOf(':');
  return i < 0 ? null : [args.slice(0, i), args.slice(i + 1)];
}

const enc = new TextEncoder();

function features(s: Session, args: string): Reply {
  const a = annexOf(args);
  if (!a) return E_INVAL;
  const doc = s.target!.arch.features.get(a[0]);
  if (doc === undefined) return 'E00';
  return chunk(s, enc.encode(doc), a[1]);
}

function execFile(s: Session, args: string): Reply {
  const a = annexOf(args);
  if (!a) return E_INVAL;
  if (a[0] !== '' && parseInt(a[0], 16) !== s.target!.pid) return 'E00';
  return chunk(s, enc.encode(s.target!.execFile!.execFile()), a[1]);
}

function auxv(s: Session, args: string): Reply {
  const a = annexOf(args);
  if (!a || a[0] !== '') return E_INVAL;
  return chunk(s, s.target!.auxv!.auxv(), a[1]);
}

const xmlEsc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The library list: gdb 13 requires lmid; l_addr is the load offset (0 for an image linked at its address). */
export function librariesSvr4Xml(libs: { name: string; lAddr: number; lm?: number; lLd?: number }[]): string {
  let x = '<library-list-svr4 version="1.0">';
  for (const l of libs)
    x += `<library name="${xmlEsc(l.name)}" lm="0x${addrHex(l.lm ?? 0)}" l_addr="0x${addrHex(l.lAddr)}" l_ld="0x${addrHex(l.lLd ?? 0)}" lmid="0x0"/>`;
  return x + '</library-list-svr4>';
}

function librariesSvr4(s: Session, args: string): Reply {
  const a = annexOf(args);
  if (!a) return E_INVAL;
  return chunk(s, enc.encode(librariesSvr4Xml(s.target!.libraries!.libraries())), a[1]);
}

/** The thread list in one document (one round trip per stop, where qfThreadInfo/qsThreadInfo take two). */
function threads(s: Session, args: string): Reply {
  const a = annexOf(args);
  if (!a || a[0] !== '') return E_INVAL;
  const name = s.target!.threadName;
  const doc = `<?xml version="1.0"?>\n<threads><thread id="${s.threadId()}" core="0"${name ? ` name="${xmlEsc(name)}"` : ''}/></threads>\n`;
  return chunk(s, enc.encode(doc), a[1]);
}

function siginfo(s: Session, args: string): Reply {
  const a = annexOf(args);
  if (!a) return E_INVAL;
  const si = s.target!.siginfo!.siginfo();
  if (!si) return 'E01';
  return chunk(s, si, a[1]);
}

export const xferCommands: Command[] = [
  { name: 'qXfer:features:read:', handler: features },
  { name: 'qXfer:exec-file:read:', when: (s) => !!s.target?.execFile, handler: execFile },
  { name: 'qXfer:auxv:read:', when: (s) => !!s.target?.auxv, handler: auxv },
  { name: 'qXfer:libraries-svr4:read:', when: (s) => !!s.target?.libraries, handler: librariesSvr4 },
  { name: 'qXfer:siginfo:read:', when: (s) => !!s.target?.siginfo, handler: siginfo },
  { name: 'qXfer:threads:read:', handler: threads },
];
