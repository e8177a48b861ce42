/**
 * Packet argument schemas, as QEMU's gdbstub declares them
 * (`GdbCmdParseEntry.schema`), typed: the argument tuple a handler gets is
 * derived from its schema string by the compiler, and the dispatcher parses
 * and validates before the handler runs. A letter is a field; any other
 * character must appear literally. A field runs to the next literal of the
 * schema (or to the end of the packet).
 *
 *   L  an address: 1-16 hex digits (after leading zeros), the signed 64-bit value src/cpu uses
 *   l  a number (register, type, fd, signal): 1-13 hex digits after leading zeros
 *   n  a length: any number of hex digits, saturating (gdbserver caps lengths, it does not refuse them)
 *   s  text as it is, up to the next literal (may be empty)
 *   h  text in hex (vFile paths, vRun arguments, qRcmd): even hex digits, decoded as UTF-8 (may be empty)
 *   x  bytes in hex (M, P, G): even hex digits
 *   B  binary data to the end, `}` escapes undone; a dangling `}` does not parse. Never
 *      run-length decoded: only replies may be run-length encoded.
 *   t  a thread id: `p<pid>.<tid>`, `p<pid>`, or `<tid>`, each part hex, -1 (all) or 0 (any)
 *   o  one character (the operation of H)
 *   A  a vCont action: c, s, t, C<sig>, S<sig> or r<start>,<end>, then optionally :<thread id>
 *   S  the rest of the packet as it is
 * A field letter followed by `*` and a separator is a list of such fields to
 * the end of the packet ("l*;": 1;2;3). A numeric list may end with the
 * separator (gdb's QPassSignals does) and may be empty; other items may not be empty.
 *
 *   parse(compile('L,n'), '401000,40') -> [0x401000, 0x40]; null when it does not fit.
 */
import { fromHex } from './hex.js';
import { unescapeBinary } from './packet.js';

/** A thread id: a number, or -1 (all threads), or 0 (any thread); pid absent without the `p` form. */
export interface ThreadId {
  pid?: number;
  tid: number;
}

export type VContAction =
  | { op: 'c' | 's' | 't'; thread?: ThreadId }
  | { op: 'C' | 'S'; signal: number; thread?: ThreadId }
  | { op: 'r'; start: number; end: number; thread?: ThreadId };

interface FieldTypes {
  L: number;
  l: number;
  n: number;
  s: string;
  h: string;
  x: Uint8Array;
  B: Uint8Array;
  t: ThreadId;
  o: string;
  A: VContAction;
  S: string;
}
type FieldChar = keyof FieldTypes;

/** The argument tuple of a schema: `Args<'L,n:x'>` = [number, number, Uint8Array]. */
export type Args<S extends string> = S extends `${infer C}${infer R}`
  ? C extends FieldChar
    ? R extends `*${string}${infer R2}`
      ? [FieldTypes[C][], ...Args<R2>]
      : [FieldTypes[C], ...Args<R>]
    : Args<R>
  : [];

type Step = { lit: string } | { field: FieldChar; until: string; list: string | null };

/** A schema compiled once, when the command table is built. */
export interface Schema<S extends string> {
  readonly text: S;
  readonly steps: readonly Step[];
}

const FIELDS = new Set<string>(['L', 'l', 'n', 's', 'h', 'x', 'B', 't', 'o', 'A', 'S']);
const isField = (c: string | undefined): c is FieldChar => c !== undefined && FIELDS.has(c);
/** Fields that run to the end of the packet whatever follows. */
const TO_END = new Set(['B', 'S']);

export function compile<S extends string>(text: S): Schema<S> {
  const steps: Step[] = [];
  for (let k = 0; k < text.length; k++) {
    const field = text[k];
    if (!isField(field)) {
      steps.push({ lit: field });
      continue;
    }
    if (text[k + 1] === '*') {
      const sep = text[k + 2];
      if (sep === undefined || isField(sep) || k + 3 !== text.length) throw new Error(`schema ${text}: a list takes a separator and ends the schema`);
      steps.push({ field, until: '', list: sep });
      break;
    }
    const next = text[k + 1] ?? '';
    if (isField(next) && field !== 'o') throw new Error(`schema ${text}: field ${field} needs a literal after it`);
    if (TO_END.has(field) && next !== '') throw new Error(`schema ${text}: ${field} must end the schema`);
    steps.push({ field, until: next, list: null });
  }
  return { text, steps };
}

/** Parse args by a schema: the typed fields, or null when the packet does not fit. */
export function parse<S extends string>(schema: Schema<S>, args: string): Args<S> | null {
  const out: unknown[] = [];
  let pos = 0;
  for (const st of schema.steps) {
    if ('lit' in st) {
      if (args[pos] !== st.lit) return null;
      pos++;
      continue;
    }
    if (st.list !== null) {
      const items = args.slice(pos).split(st.list);
      const numeric = st.field === 'l' || st.field === 'L' || st.field === 'n';
      if (numeric && items[items.length - 1] === '') items.pop();
      const vals: unknown[] = [];
      for (const it of items) {
        const v = field(st.field, it);
        if (v === null) return null;
        vals.push(v);
      }
      out.push(vals);
      pos = args.length;
      continue;
    }
    let end: number;
    if (st.field === 'o') end = pos + 1;
    else if (st.until === '' || TO_END.has(st.field)) end = args.length;
    else {
      end = args.indexOf(st.until, pos);
      if (end < 0) return null;
    }
    if (end > args.length) return null;
    const v = field(st.field, args.slice(pos, end));
    if (v === null) return null;
    out.push(v);
    pos = end;
  }
  if (pos !== args.length) return null;
  // the steps were built from S, each pushing the value its letter's type names: out has the shape Args<S>
  return out as Args<S>;
}

const HEX_RE = /^[0-9a-fA-F]+$/;

function field(c: FieldChar, s: string): FieldTypes[FieldChar] | null {
  switch (c) {
    case 'L':
      return addr(s);
    case 'l':
      return num(s);
    case 'n':
      return length(s);
    case 's':
    case 'S':
      return s;
    case 'h': {
      const b = fromHex(s);
      return b === null ? null : Buffer.from(b).toString('utf8');
    }
    case 'x':
      return fromHex(s);
    case 'B':
      return unescapeBinary(s);
    case 't':
      return threadId(s);
    case 'o':
      return s.length === 1 ? s : null;
    case 'A':
      return vContAction(s);
  }
}

/** Hex digits without leading zeros ('' for zero); null if not hex. */
function significant(s: string): string | null {
  if (!HEX_RE.test(s)) return null;
  let k = 0;
  while (k < s.length - 1 && s[k] === '0') k++;
  return s.slice(k);
}

/** An unsigned 64-bit hex address as the signed value a JS number holds (exact for canonical addresses). */
export function addr(s: string): number | null {
  const d = significant(s);
  if (d === null || d.length > 16) return null;
  if (d.length <= 13) return parseInt(d, 16);
  // hi:lo halves keep it free of BigInt; values beyond 2^53 round as the CPU's numbers do
  const hi = parseInt(d.slice(0, d.length - 8), 16), lo = parseInt(d.slice(-8), 16);
  return (hi >= 0x80000000 ? hi - 0x100000000 : hi) * 4294967296 + lo;
}

function num(s: string): number | null {
  const d = significant(s);
  return d === null || d.length > 13 ? null : parseInt(d, 16);
}

function length(s: string): number | null {
  const d = significant(s);
  if (d === null) return null;
  return d.length > 13 ? Number.MAX_SAFE_INTEGER : parseInt(d, 16);
}

/** `p<pid>.<tid>`, `p<pid>`, `<tid>`; each part hex or -1. */
function threadId(s: string): ThreadId | null {
  const part = (x: string): number | null => (x === '-1' ? -1 : num(x));
  if (s.startsWith('p')) {
    const dot = s.indexOf('.');
    const pid = part(dot < 0 ? s.slice(1) : s.slice(1, dot));
    if (pid === null) return null;
    if (dot < 0) return { pid, tid: -1 };
    const tid = part(s.slice(dot + 1));
    return tid === null ? null : { pid, tid };
  }
  const tid = part(s);
  return tid === null ? null : { tid };
}

function vContAction(s: string): VContAction | null {
  const colon = s.indexOf(':');
  let thread: ThreadId | undefined;
  if (colon >= 0) {
    const t = threadId(s.slice(colon + 1));
    if (t === null) return null;
    thread = t;
  }
  const act = colon < 0 ? s : s.slice(0, colon);
  switch (act[0]) {
    case 'c':
    case 's':
    case 't':
      return act.length === 1 ? { op: act[0], thread } : null;
    case 'C':
    case 'S': {
      const sig = act.length === 2 || act.length === 3 ? num(act.slice(1)) : null;
      return sig === null ? null : { op: act[0], signal: sig, thread };
    }
    case 'r': {
      const comma = act.indexOf(',');
      if (comma < 0) return null;
      const start = addr(act.slice(1, comma)), end = addr(act.slice(comma + 1));
      return start === null || end === null ? null : { op: 'r', start, end, thread };
    }
  }
  return null;
}
