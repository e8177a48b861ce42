/**
 * RSP framing: `$body#cs` packets, `+`/`-` acknowledgements, the interrupt
 * byte 0x03, binary escapes and run-length encoding (of replies only).
 * Knows nothing of what the packets mean.
 *
 * PacketReader is fed raw bytes and calls back with complete packets. It
 * never throws on bad input: garbage between packets is skipped, a bad
 * checksum is reported (the session NAKs it in ack mode), a packet longer
 * than maxPacket is reported as too long and its bytes dropped.
 */

export type Frame =
  | { kind: 'packet'; body: string }
  | { kind: 'bad-checksum'; body: string }
  | { kind: 'too-long' }
  | { kind: 'ack' }
  | { kind: 'nak' }
  | { kind: 'interrupt' };

const enum S {
  IDLE,
  BODY,
  CSUM1,
  CSUM2,
}

export class PacketReader {
  private state = S.IDLE;
  private chunks: string[] = [];
  private len = 0;
  private sum = 0;
  private csum = '';
  private overflow = false;

  constructor(
    private readonly onFrame: (f: Frame) => void,
    /** Longest body accepted (the PacketSize we advertise). */
    private readonly maxPacket: number,
  ) {}

  feed(data: Buffer): void {
    const s = data.toString('latin1');
    let i = 0;
    while (i < s.length) {
      switch (this.state) {
        case S.IDLE: {
          const c = s.charCodeAt(i++);
          if (c === 0x24 /* $ */) {
            this.state = S.BODY;
            this.chunks = [];
            this.len = 0;
            this.sum = 0;
            this.overflow = false;
          } else if (c === 0x03) this.onFrame({ kind: 'interrupt' });
          else if (c === 0x2b /* + */) this.onFrame({ kind: 'ack' });
          else if (c === 0x2d /* - */) this.onFrame({ kind: 'nak' });
          // anything else between packets is noise: skip it
          break;
        }
        case S.BODY: {
          // take everything up to '#' in one slice
          let j = s.indexOf('#', i);
          const end = j < 0 ? s.length : j;
          // a '$' inside a body means the previous packet was cut: restart there
          const dollar = s.indexOf('$', i);
          if (dollar >= 0 && dollar < end) {
            i = dollar + 1;
            this.chunks = [];
            this.len = 0;
            this.sum = 0;
            this.overflow = false;
            break;
          }
          for (let k = i; k < end; k++) this.sum += s.charCodeAt(k);
          if (!this.overflow) {
            this.len += end - i;
            if (this.len > this.maxPacket) {
              this.overflow = true;
              this.chunks = [];
            } else this.chunks.push(s.slice(i, end));
          }
          i = end;
          if (j >= 0) {
            i = j + 1;
            this.state = S.CSUM1;
            this.csum = '';
          }
          break;
        }
        case S.CSUM1:
          this.csum = s[i++];
          this.state = S.CSUM2;
          break;
        case S.CSUM2: {
          this.csum += s[i++];
          this.state = S.IDLE;
          if (this.overflow) {
            this.onFrame({ kind: 'too-long' });
            break;
          }
          const body = this.chunks.join('');
          this.chunks = [];
          const hi = hexValue(this.csum.charCodeAt(0)), lo = hexValue(this.csum.charCodeAt(1));
          const want = hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
          this.onFrame(want === (this.sum & 0xff) ? { kind: 'packet', body } : { kind: 'bad-checksum', body });
          break;
        }
      }
    }
  }
}

const HEX_CODES = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** A hex digit's value, -1 for any other character code. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  c |= 0x20; // A-F as a-f
  return c >= 0x61 && c <= 0x66 ? c - 0x61 + 10 : -1;
}

/** Frame a body (already escaped/encoded, latin1) as `$body#cs`: written into the buffer once, summed there. */
export function frame(body: string): Buffer {
  const n = body.length;
  const b = Buffer.allocUnsafe(n + 4);
  b[0] = 0x24; // $
  b.write(body, 1, n, 'latin1');
  let sum = 0;
  for (let i = 1; i <= n; i++) sum += b[i];
  b[n + 1] = 0x23; // #
  b[n + 2] = HEX_CODES[(sum >> 4) & 15];
  b[n + 3] = HEX_CODES[sum & 15];
  return b;
}

/** Escape binary data (latin1 string) for a packet body: `#`, `$`, `}` and `*` become `}` + (c ^ 0x20). */
export function escapeBinary(data: Uint8Array): string {
  let s = '';
  let run = 0;
  const parts: string[] = [];
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c === 0x23 || c === 0x24 || c === 0x7d || c === 0x2a) {
      if (i > run) parts.push(Buffer.from(data.buffer, data.byteOffset + run, i - run).toString('latin1'));
      parts.push('}' + String.fromCharCode(c ^ 0x20));
      run = i + 1;
    }
  }
  if (run < data.length) parts.push(Buffer.from(data.buffer, data.byteOffset + run, data.length - run).toString('latin1'));
  s = parts.join('');
  return s;
}

/**
 * Undo `}` escapes of binary data from the client (X, vFile:pwrite); null
 * for a dangling escape. Client data is never run-length decoded: only
 * replies may be run-length encoded, so a `*` in client data is a byte.
 */
export function unescapeBinary(s: string): Uint8Array | null {
  const out = new Uint8Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c === 0x7d) {
      if (++i >= s.length) return null;
      c = s.charCodeAt(i) ^ 0x20;
    }
    out[n++] = c & 0xff;
  }
  return out.subarray(0, n);
}

/** How many bytes of data[start..start+count), escaped, fit in max characters. */
export function escapedLength(data: Uint8Array, start: number, count: number, max: number): number {
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

/**
 * Run-length encode a reply made of printable characters (hex register and
 * memory dumps, mostly zeros): `c*N` repeats c N-29 more times. Counts that
 * would produce '#' or '$' (6, 7) are shortened, as gdbserver does.
 */
export function rle(s: string): string {
  if (s.length < 8) return s;
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    let j = i + 1;
    while (j < s.length && s[j] === c && j - i < 98) j++;
    let n = j - i - 1; // repeats after the first
    if (n >= 3) {
      while (n + 29 === 0x23 || n + 29 === 0x24) n--;
      out += c + '*' + String.fromCharCode(n + 29);
      i += n + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** hexRle's output, reused: its text is copied into a string before it returns. */
let scratch = Buffer.allocUnsafe(512);

/**
 * rle(toHex(data)) in one pass over the bytes, with no string built on the
 * way: a memory or register reply (a step's frame read is one) is encoded
 * as bytes and made a string once.
 */
export function hexRle(data: Uint8Array): string {
  const n = data.length * 2;
  // the encoding is never longer than the hex text
  if (scratch.length < n) scratch = Buffer.allocUnsafe(n);
  const out = scratch;
  let o = 0;
  if (n < 8) {
    for (let k = 0; k < data.length; k++) {
      out[o++] = HEX_CODES[data[k] >> 4];
      out[o++] = HEX_CODES[data[k] & 15];
    }
    return out.toString('latin1', 0, o);
  }
  let i = 0;
  while (i < n) {
    const c = hexDigit(data, i);
    let j = i + 1;
    while (j < n && hexDigit(data, j) === c && j - i < 98) j++;
    let r = j - i - 1; // repeats after the first
    if (r >= 3) {
      while (r + 29 === 0x23 || r + 29 === 0x24) r--;
      out[o++] = c;
      out[o++] = 0x2a; // *
      out[o++] = r + 29;
      i += r + 1;
    } else {
      out[o++] = c;
      i++;
    }
  }
  return out.toString('latin1', 0, o);
}

/** The character code of digit k of data's hex text. */
function hexDigit(data: Uint8Array, k: number): number {
  const b = data[k >> 1];
  return HEX_CODES[(k & 1) === 0 ? b >> 4 : b & 15];
}
