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
          const want = /^[0-9a-fA-F]{2}$/.test(this.csum) ? parseInt(this.csum, 16) : -1;
          this.onFrame(want === (this.sum & 0xff) ? { kind: 'packet', body } : { kind: 'bad-checksum', body });
          break;
        }
      }
    }
  }
}

/** Frame a body (already escaped/encoded, latin1) as `$body#cs`. */
export function frame(body: string): Buffer {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += body.charCodeAt(i);
  const cs = (sum & 0xff).toString(16).padStart(2, '0');
  return Buffer.from('$' + body + '#' + cs, 'latin1');
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
