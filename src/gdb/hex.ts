/**
 * Hex and little-endian helpers shared by the packet handlers.
 *
 * Packet bodies are handled as latin1 strings (one char per byte), so binary
 * packets (X, vFile:pwrite) survive unchanged. Addresses are JS numbers
 * holding the *signed* 64-bit value, as in src/cpu: gdb's unsigned
 * ffffffff80000000 becomes -0x80000000.
 */

const HEX = '0123456789abcdef';
/** Byte -> two hex digits. */
const BYTE_HEX: string[] = Array.from({ length: 256 }, (_, b) => HEX[b >> 4] + HEX[b & 15]);

export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += BYTE_HEX[bytes[i]];
  return s;
}

/** Text -> hex of its UTF-8 bytes (qRcmd output, qXfer annexes). */
export function textToHex(text: string): string {
  return toHex(Buffer.from(text, 'utf8'));
}

/** Hex digits -> bytes; null if the string is not an even run of hex digits. */
export function fromHex(s: string): Uint8Array | null {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return null;
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** Hex -> text (qRcmd, vFile paths, vRun arguments); null if not hex. */
export function hexToText(s: string): string | null {
  const b = fromHex(s);
  return b === null ? null : Buffer.from(b).toString('utf8');
}

const HEX_RE = /^[0-9a-fA-F]+$/;
const TWO64 = 1n << 64n;
const TWO63 = 1n << 63n;

/** An unsigned hex number as the signed 64-bit value a number holds (null if not hex or > 64 bits). */
export function parseAddr(s: string): number | null {
  if (!HEX_RE.test(s) || s.length > 16) return null;
  if (s.length <= 13) return parseInt(s, 16);
  let v = BigInt('0x' + s);
  if (v >= TWO63) v -= TWO64;
  return Number(v);
}

/** A hex count or register number (null if not hex or unreasonably large). */
export function parseNum(s: string): number | null {
  if (!HEX_RE.test(s) || s.length > 13) return null;
  return parseInt(s, 16);
}

/** A signed 64-bit number as unsigned hex without leading zeros (addresses in replies). */
export function addrHex(v: number): string {
  return v >= 0 ? v.toString(16) : BigInt.asUintN(64, BigInt(v)).toString(16);
}

/** Write a number (signed or unsigned 64-bit, exact integer) little-endian into out[off..off+8). */
export function putU64(out: Uint8Array, off: number, v: number): void {
  let lo: number, hi: number;
  if (v >= 0 && v < 2 ** 53) {
    lo = v % 4294967296;
    hi = Math.floor(v / 4294967296);
  } else {
    const b = BigInt.asUintN(64, BigInt(v));
    lo = Number(b & 0xffffffffn);
    hi = Number(b >> 32n);
  }
  putU32(out, off, lo);
  putU32(out, off + 4, hi);
}

export function putU32(out: Uint8Array, off: number, v: number): void {
  out[off] = v & 0xff;
  out[off + 1] = (v >>> 8) & 0xff;
  out[off + 2] = (v >>> 16) & 0xff;
  out[off + 3] = (v >>> 24) & 0xff;
}

export function getU32(b: Uint8Array, off: number): number {
  return (b[off] | (b[off + 1] << 8) | (b[off + 2] << 16) | (b[off + 3] << 24)) >>> 0;
}

/** Little-endian 64-bit value as a signed number (exact for canonical addresses). */
export function getS64(b: Uint8Array, off: number): number {
  const lo = getU32(b, off);
  const hi = getU32(b, off + 4) | 0;
  return hi * 4294967296 + lo;
}

/** Little-endian 64-bit value from two 32-bit halves, as 16 hex digits (expedited registers). */
export function halvesHex(lo: number, hi: number): string {
  return (
    BYTE_HEX[lo & 0xff] + BYTE_HEX[(lo >>> 8) & 0xff] + BYTE_HEX[(lo >>> 16) & 0xff] + BYTE_HEX[(lo >>> 24) & 0xff] +
    BYTE_HEX[hi & 0xff] + BYTE_HEX[(hi >>> 8) & 0xff] + BYTE_HEX[(hi >>> 16) & 0xff] + BYTE_HEX[(hi >>> 24) & 0xff]
  );
}

/** A number (signed 64-bit) as 16 little-endian hex digits. */
export function u64Hex(v: number): string {
  const b = new Uint8Array(8);
  putU64(b, 0, v);
  return toHex(b);
}
