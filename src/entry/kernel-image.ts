/**
 * The guest kernel images (built from src/guest by `npm run build:guest`,
 * committed under src/guest/image): mapping one into an address space, its
 * symbols, and the bytes served to a debugger.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Memory, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_USER, PROT_WRITE } from '../cpu/memory.js';
import { parseElf } from '../kernel/loader.js';
import { COMP_DIR_PLACEHOLDER } from '../guest/generated/abi.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The installed tree: src/guest (sources and images) lives under it. */
export const INSTALL_ROOT = path.resolve(here, '..', '..');

/** Path of the committed guest kernel image of a model ('nommu', 'native'). */
export function imagePath(model: string): string {
  return path.join(INSTALL_ROOT, 'src', 'guest', 'image', `kernel-${model}.elf`);
}

export interface KernelImage {
  path: string;
  /** The part of the address space the kernel's text and data occupy (the zpoline page is not in it). */
  start: number;
  end: number;
  symbols: Map<string, number>;
  /** Source hash recorded by build.mjs. */
  srcHash: string;
  sym(name: string): number;
  /** Contains addr (text or data)? */
  contains(addr: number): boolean;
  /** symbol+0xoff for an address in the image, else null. */
  symbolize(addr: number): string | null;
}

/**
 * Map the image's PT_LOAD segments into mem (the kernel's pages, which every
 * address space shares). With user=true (UML nommu: no privilege levels)
 * the program may reach every page; otherwise the pages are
 * supervisor-only. A segment at address 0 is the zpoline page, mapped only
 * if zeroPage (the seccomp hook has no trampoline: a NULL call faults as it
 * would natively).
 */
export function loadKernelImage(mem: Memory, file: string, user: boolean, zeroPage: boolean): KernelImage {
  const data = new Uint8Array(fs.readFileSync(file));
  const elf = parseElf(data, file);
  let start = Infinity, end = -Infinity;
  for (const p of elf.phdrs.filter((q) => q.type === 1 && q.memsz > 0)) {
    const s = Math.floor(p.vaddr / PAGE_SIZE) * PAGE_SIZE;
    const e = Math.ceil((p.vaddr + p.memsz) / PAGE_SIZE) * PAGE_SIZE;
    const prot = (p.flags & 4 ? PROT_READ : 0) | (p.flags & 2 ? PROT_WRITE : 0) | (p.flags & 1 ? PROT_EXEC : 0) | (user ? PROT_USER : 0);
    if (s === 0 && !zeroPage) continue;
    mem.map(s, e - s, prot);
    mem.poke(p.vaddr, data.subarray(p.offset, p.offset + p.filesz));
    if (s === 0) continue; // the trampoline page is not the kernel proper
    start = Math.min(start, s);
    end = Math.max(end, e);
  }
  const { symbols, srcHash } = readSymbols(data);
  // made when first asked (a trace, the debugger), not at every start
  let sorted: [string, number][] | undefined;
  return {
    path: file,
    start,
    end,
    symbols,
    srcHash,
    sym(name: string): number {
      const v = symbols.get(name);
      if (v === undefined) throw new Error(`guest kernel image ${file}: no symbol ${name}`);
      return v;
    },
    contains: (addr) => addr >= start && addr < end,
    symbolize(addr: number): string | null {
      let best: [string, number] | null = null;
      sorted ??= [...symbols].filter(([n]) => !n.startsWith('.')).sort((a, b) => a[1] - b[1]);
      for (const s of sorted) {
        if (s[1] > addr) break;
        best = s;
      }
      if (!best || addr - best[1] >= 0x10000) return null;
      return addr === best[1] ? best[0] : `${best[0]}+0x${(addr - best[1]).toString(16)}`;
    },
  };
}

/** Symbols (as signed numbers) and the .entrystub.srchash note of an ELF64 file. */
export function readSymbols(data: Uint8Array): { symbols: Map<string, number>; srcHash: string } {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const shoff = Number(dv.getBigUint64(40, true));
  const shnum = dv.getUint16(60, true);
  const shstrndx = dv.getUint16(62, true);
  const sec = (k: number) => {
    const o = shoff + k * 64;
    return {
      name: dv.getUint32(o, true),
      type: dv.getUint32(o + 4, true),
      offset: Number(dv.getBigUint64(o + 24, true)),
      size: Number(dv.getBigUint64(o + 32, true)),
      link: dv.getUint32(o + 40, true),
    };
  };
  // one decode of the bytes, where a TextDecoder made per name was most of loading the image at every start
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const str = (off: number) => bytes.toString('utf8', off, bytes.indexOf(0, off));
  const shstr = sec(shstrndx);
  const symbols = new Map<string, number>();
  let srcHash = '';
  for (let k = 0; k < shnum; k++) {
    const s = sec(k);
    const name = str(shstr.offset + s.name);
    if (name === '.entrystub.srchash') srcHash = bytes.toString('utf8', s.offset, s.offset + s.size);
    if (s.type !== 2) continue; // SHT_SYMTAB
    const strtab = sec(s.link);
    for (let o = s.offset; o < s.offset + s.size; o += 24) {
      const nm = dv.getUint32(o, true);
      if (nm === 0) continue;
      // the signed 64-bit value from its halves (exact, and rounded as Number(BigInt) rounds past 2^53): no BigInt each
      symbols.set(str(strtab.offset + nm), dv.getInt32(o + 12, true) * 0x100000000 + dv.getUint32(o + 8, true));
    }
  }
  return { symbols, srcHash };
}

/**
 * The image as a debugger should read it: its DWARF compilation directory
 * (a placeholder, see build.mjs) replaced by the directory the sources are
 * installed in, padded with '/' to the same length, so that gdb finds
 * src/guest/*.S from any working directory. Left alone if the path does not
 * fit (then gdb needs `directory`).
 */
export function servedImage(file: string, sourceRoot = INSTALL_ROOT): Uint8Array {
  const data = new Uint8Array(fs.readFileSync(file));
  const from = Buffer.from(COMP_DIR_PLACEHOLDER, 'latin1');
  if (sourceRoot.length > from.length || !sourceRoot.startsWith('/')) return data;
  const to = Buffer.from(sourceRoot + '/'.repeat(from.length - sourceRoot.length), 'latin1');
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let at = buf.indexOf(from); at >= 0; at = buf.indexOf(from, at + from.length)) to.copy(buf, at);
  return data;
}
