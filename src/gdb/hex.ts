/**
 * Hex and little-endian helpers shared by the packet handlers and the target.
 *
 * Packet bodies are handled as latin1 strings (one char per byte), so binary
 * packets (X, vFile replies) survive unchanged. Addresses are JS numbers
 * holding the *signed* 64-bit value, as in src/cpu: gdb's unsigned
 * ffffffff80000000 becomes -0x80000000. Nothing here uses BigInt: a stop
 * reply in the native kernel (0xffffffff81...) is on the stepping path.
 */

const HEX = '0123456789abcdef';
/** Byte -> two hex digits. */
const BYTE_HEX: string[] = Array.from({ length: 256 }, (_, b) => HEX[b >> 4] + HEX[b & 15]);

export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += BYTE_HEX[bytes[i]];
  return s;
}

/** Text -> hex of its UTF-8 bytes (qRcmd output). */
export function textToHex(text: string): string {
  return toHex(Buffer.from(text, 'utf8'));
}

/** Hex digits -> bytes; null if the string is not an even run of hex digits. */
export function fromHex(s: string): Uint8Array | null {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return null;
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** A signed 64-bit number as unsigned hex without leading zeros (addresses in replies). */
export function addrHex(v: number): string {
  if (v >= 0) return v.toString(16);
  const hi = Math.floor(v / 4294967296);
  const lo = v - hi * 4294967296;
  return (hi >>> 0).toString(16) + lo.toString(16).padStart(8, '0');
}

/** Write a number (signed or unsigned 64-bit, exact integer) little-endian into out[off..off+8). */
export function putU64(out: Uint8Array, off: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  putU32(out, off, v - hi * 4294967296);
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
  return (getU32(b, off + 4) | 0) * 4294967296 + getU32(b, off);
}
