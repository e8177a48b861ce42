/**
 * Where gdb looks for the separate debug file of an object (gdb's
 * find_separate_debug_file and build_id_to_debug_bfd, with the default
 * debug-file-directory /usr/lib/debug): by its build-id note,
 *   /usr/lib/debug/.build-id/xx/yyyy.debug
 * and by its .gnu_debuglink name N, next to it, in .debug/ beside it, and
 * under the debug directory:
 *   DIR/N   DIR/.debug/N   /usr/lib/debug/DIR/N
 * Read from the object's ELF headers; anything that does not parse gives no
 * paths (never an exception).
 */
import type { GuestFile } from './port.js';

const DEBUG_DIR = '/usr/lib/debug';
const SHT_NOTE = 7, PT_NOTE = 4, NT_GNU_BUILD_ID = 3;
/** Largest section or note area read (string tables, notes): headers of real objects are far smaller. */
const MAX_READ = 1 << 20;

export interface DebugIds {
  buildId: string | null;
  debuglink: string | null;
}

/** The build-id and .gnu_debuglink of an ELF64 little-endian file. */
export function debugIdsOf(f: GuestFile): DebugIds {
  const none: DebugIds = { buildId: null, debuglink: null };
  const read = (off: number, len: number): DataView | null => {
    if (off < 0 || len < 0 || len > MAX_READ || !Number.isSafeInteger(off)) return null;
    const b = f.pread(len, off);
    return typeof b === 'number' || b.length !== len ? null : new DataView(b.buffer, b.byteOffset, b.byteLength);
  };
  const eh = read(0, 64);
  if (!eh || eh.getUint32(0) !== 0x7f454c46 || eh.getUint8(4) !== 2 || eh.getUint8(5) !== 1) return none;
  const ids: DebugIds = { buildId: null, debuglink: null };
  const shoff = Number(eh.getBigUint64(0x28, true));
  const shentsize = eh.getUint16(0x3a, true), shnum = eh.getUint16(0x3c, true), shstrndx = eh.getUint16(0x3e, true);
  if (shoff > 0 && shentsize === 64 && shnum > 0 && shstrndx < shnum) {
    const sh = read(shoff, shnum * 64);
    if (sh) {
      const sec = (k: number) => ({
        name: sh.getUint32(k * 64, true),
        type: sh.getUint32(k * 64 + 4, true),
        offset: Number(sh.getBigUint64(k * 64 + 0x18, true)),
        size: Number(sh.getBigUint64(k * 64 + 0x20, true)),
      });
      const strs = sec(shstrndx);
      const names = read(strs.offset, strs.size);
      for (let k = 0; k < shnum && names; k++) {
        const s = sec(k);
        if (s.type === SHT_NOTE && ids.buildId === null) ids.buildId = buildIdIn(read(s.offset, s.size));
        if (cstring(names, s.name) === '.gnu_debuglink') {
          const d = read(s.offset, s.size);
          if (d) ids.debuglink = cstring(d, 0) || null;
        }
      }
    }
  }
  if (ids.buildId === null) {
    // no section headers (stripped of them): the notes of the program headers
    const phoff = Number(eh.getBigUint64(0x20, true));
    const phentsize = eh.getUint16(0x36, true), phnum = eh.getUint16(0x38, true);
    const ph = phentsize === 56 ? read(phoff, phnum * 56) : null;
    for (let k = 0; ph && k < phnum && ids.buildId === null; k++)
      if (ph.getUint32(k * 56, true) === PT_NOTE)
        ids.buildId = buildIdIn(read(Number(ph.getBigUint64(k * 56 + 8, true)), Number(ph.getBigUint64(k * 56 + 32, true))));
  }
  return ids;
}

/** The paths gdb may open for the separate debug file of the object at path (a guest path). */
export function debugPathsFor(path: string, ids: DebugIds): string[] {
  const out: string[] = [];
  if (ids.buildId && ids.buildId.length > 2) {
    const stem = `${DEBUG_DIR}/.build-id/${ids.buildId.slice(0, 2)}/${ids.buildId.slice(2)}`;
    out.push(stem + '.debug', stem);
  }
  if (ids.debuglink && !ids.debuglink.includes('/')) {
    const dir = path.slice(0, path.lastIndexOf('/') + 1) || '/';
    out.push(dir + ids.debuglink, dir + '.debug/' + ids.debuglink, DEBUG_DIR + dir + ids.debuglink);
  }
  return out;
}

/** The GNU build-id in a note area, as lowercase hex. */
function buildIdIn(notes: DataView | null): string | null {
  if (!notes) return null;
  let o = 0;
  while (o + 12 <= notes.byteLength) {
    const namesz = notes.getUint32(o, true), descsz = notes.getUint32(o + 4, true), type = notes.getUint32(o + 8, true);
    const name = o + 12, desc = name + align4(namesz);
    if (desc + descsz > notes.byteLength) return null;
    if (type === NT_GNU_BUILD_ID && namesz === 4 && cstring(notes, name) === 'GNU' && descsz > 0 && descsz <= 64) {
      let hex = '';
      for (let k = 0; k < descsz; k++) hex += notes.getUint8(desc + k).toString(16).padStart(2, '0');
      return hex;
    }
    o = desc + align4(descsz);
  }
  return null;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function cstring(v: DataView, off: number): string {
  let s = '';
  for (let k = off; k < v.byteLength && k < off + 4096; k++) {
    const c = v.getUint8(k);
    if (c === 0) return s;
    s += String.fromCharCode(c);
  }
  return s;
}
