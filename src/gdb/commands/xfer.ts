/**
 * qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH — the target description
 * (features), the program's path (exec-file), the auxiliary vector (auxv),
 * the loaded images (libraries-svr4), the last signal's siginfo and the
 * thread list (threads). Replies are `m` (more follows) or `l` (last) with
 * binary-escaped data, cut to fit a packet.
 */
import { addrHex } from '../hex.js';
import { escapeBinary, escapedLength } from '../packet.js';
import type { Library, Target } from '../target.js';
import { command, E_GENERIC, E_INVAL, type Command } from './command.js';
import type { PacketContext } from './context.js';

const enc = new TextEncoder();

/** Serve [offset, offset+length) of a document. */
function chunk(cx: PacketContext, doc: Uint8Array, off: number, len: number): string {
  if (off >= doc.length) return 'l';
  const n = escapedLength(doc, off, len, cx.packetSize - 1);
  return (off + n < doc.length ? 'm' : 'l') + escapeBinary(doc.subarray(off, off + n));
}

const xmlEsc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The library list: gdb 13 requires lmid; l_addr is the load offset (0 for
 * an image linked at its address); main-lm names the program's own link_map,
 * as gdbserver sends it, so gdb knows the head of the list it leaves out.
 */
export function librariesSvr4Xml(libs: Library[], mainLm: number | null = null): string {
  let x = `<library-list-svr4 version="1.0"${mainLm === null ? '' : ` main-lm="0x${addrHex(mainLm)}"`}>`;
  for (const l of libs)
    x += `<library name="${xmlEsc(l.name)}" lm="0x${addrHex(l.lm ?? 0)}" l_addr="0x${addrHex(l.lAddr)}" l_ld="0x${addrHex(l.lLd ?? 0)}" lmid="0x0"/>`;
  return x + '</library-list-svr4>';
}

/** An object read with no annex (exec-file's annex names a process: handled there). */
function xfer<C>(object: string, cap: (t: Target) => C | undefined, doc: (cap: C, cx: PacketContext, annex: string) => Uint8Array | null, process = true): Command {
  return command({
    name: `qXfer:${object}:read:`,
    schema: 's:n,n',
    cap,
    process,
    handler: ([annex, off, len], cx, c) => {
      if (annex !== '' && object !== 'exec-file') return E_INVAL;
      const d = doc(c, cx, annex);
      return d === null ? E_GENERIC : chunk(cx, d, off, len);
    },
  });
}

export const xferCommands: Command[] = [
  command({
    name: 'qXfer:features:read:',
    schema: 's:n,n',
    cap: (t) => t,
    process: false,
    handler: ([annex, off, len], cx) => {
      const doc = cx.target.arch.features.get(annex);
      return doc === undefined ? 'E00' : chunk(cx, enc.encode(doc), off, len);
    },
  }),
  // the annex is a pid in hex: ours, or (following forks) another process followed
  xfer('exec-file', (t) => t.execFile, (x, _cx, annex) => {
    if (annex === '') return enc.encode(x.execFile()!);
    if (!/^[0-9a-f]+$/i.test(annex)) return null;
    const path = x.execFile(parseInt(annex, 16));
    return path === null ? null : enc.encode(path);
  }),
  xfer('auxv', (t) => t.auxv, (a) => a.auxv()),
  xfer('libraries-svr4', (t) => t.libraries, (l) => {
    const { libraries, mainLm } = l.libraries();
    return enc.encode(librariesSvr4Xml(libraries, mainLm));
  }, false),
  xfer('siginfo', (t) => t.siginfo, (s) => s.siginfo()),
  // one round trip per stop for the thread list (qfThreadInfo/qsThreadInfo take two), with names
  xfer(
    'threads',
    (t) => t.threads,
    (th, cx) => {
      let doc = '<?xml version="1.0"?>\n<threads>';
      for (const t of th.list()) doc += `<thread id="${cx.threadId(t.tid)}" core="0" name="${xmlEsc(t.name)}"/>`;
      return enc.encode(doc + '</threads>\n');
    },
    false,
  ),
];
