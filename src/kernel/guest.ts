/**
 * The guest kernel image (built from src/guest by `npm run build:guest`, the
 * ELF committed under src/guest/image) and the parts of exec that belong to
 * the entry models: mapping the image, the zpoline trampoline page at
 * address 0, and the rewrite of `syscall`/`sysenter` sites to `call *%rax`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode } from '../cpu/decode.js';
import { CpuFault } from '../cpu/fault.js';
import { Memory, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_USER, PROT_WRITE } from '../cpu/memory.js';
import { parseElf } from './loader.js';

export type EntryModel = 'direct' | 'nommu' | 'native';
export type Hook = 'zpoline' | 'lazy' | 'seccomp';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Path of the committed guest kernel image for an entry model. */
export function imagePath(model: 'nommu' | 'native'): string {
  // dist/kernel -> src/guest/image (the images are not build output: they are committed)
  return path.resolve(here, '..', '..', 'src', 'guest', 'image', `kernel-${model}.elf`);
}

/** NR_syscalls of the guest's table: the trampoline's sled is this long. */
export const NR_SYSCALLS = 462;

export interface KernelImage {
  path: string;
  start: number;
  end: number;
  symbols: Map<string, number>;
  /** Source hash recorded by build.mjs. */
  srcHash: string;
  sym(name: string): number;
}

/** Load the image's segments into memory (user-accessible only for nommu). */
export function loadKernelImage(mem: Memory, model: 'nommu' | 'native'): KernelImage {
  const file = imagePath(model);
  const data = new Uint8Array(fs.readFileSync(file));
  const elf = parseElf(data, file);
  let start = Infinity, end = 0;
  const user = model === 'nommu' ? PROT_USER : 0;
  for (const p of elf.phdrs.filter((q) => q.type === 1)) {
    const s = Math.floor(p.vaddr / PAGE_SIZE) * PAGE_SIZE;
    const e = Math.ceil((p.vaddr + p.memsz) / PAGE_SIZE) * PAGE_SIZE;
    const prot = (p.flags & 4 ? PROT_READ : 0) | (p.flags & 2 ? PROT_WRITE : 0) | (p.flags & 1 ? PROT_EXEC : 0) | user;
    mem.map(s, e - s, prot);
    mem.poke(p.vaddr, data.subarray(p.offset, p.offset + p.filesz));
    start = Math.min(start, s);
    end = Math.max(end, e);
  }
  const { symbols, srcHash } = readSymbols(data);
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
  const str = (off: number) => {
    let e = off;
    while (data[e] !== 0) e++;
    return new TextDecoder().decode(data.subarray(off, e));
  };
  const shstr = sec(shstrndx);
  const symbols = new Map<string, number>();
  let srcHash = '';
  for (let k = 0; k < shnum; k++) {
    const s = sec(k);
    const name = str(shstr.offset + s.name);
    if (name === '.entrystub.srchash') srcHash = new TextDecoder().decode(data.subarray(s.offset, s.offset + s.size));
    if (s.type !== 2) continue; // SHT_SYMTAB
    const strtab = sec(s.link);
    for (let o = s.offset; o < s.offset + s.size; o += 24) {
      const nm = dv.getUint32(o, true);
      if (nm === 0) continue;
      const value = dv.getBigInt64(o + 8, true);
      symbols.set(str(strtab.offset + nm), Number(value));
    }
  }
  return { symbols, srcHash };
}

/**
 * The zpoline trampoline page at address 0: a nop sled of NR_syscalls bytes
 * (with the EB 7F short jump at 214/215), then
 * `movabs $__kernel_vsyscall,%r11; pop %rcx; jmp *%r11`. Execute-only.
 */
export function trampolineBytes(kernelVsyscall: number): Uint8Array {
  const b = new Uint8Array(PAGE_SIZE).fill(0xcc);
  b.fill(0x90, 0, NR_SYSCALLS);
  b[214] = 0xeb;
  b[215] = 0x7f;
  let o = NR_SYSCALLS;
  b[o++] = 0x49; // movabs $imm64, %r11
  b[o++] = 0xbb;
  const v = BigInt.asUintN(64, BigInt(kernelVsyscall));
  for (let k = 0; k < 8; k++) b[o++] = Number((v >> BigInt(8 * k)) & 0xffn);
  b[o++] = 0x59; // pop %rcx: the return address `call *%rax` pushed
  b[o++] = 0x41; // jmp *%r11
  b[o++] = 0xff;
  b[o++] = 0xe3;
  // Numbers beyond the table must still reach do_syscall_64 (which answers
  // -ENOSYS): the rest of the page is a second sled ending in a jump back to
  // the tail. (Real zpoline and UML stop at NR_syscalls; a larger number
  // would run into whatever follows.)
  b.fill(0x90, o, PAGE_SIZE - 5);
  const rel = NR_SYSCALLS - PAGE_SIZE;
  b[PAGE_SIZE - 5] = 0xe9; // jmp rel32 to the tail
  new DataView(b.buffer).setInt32(PAGE_SIZE - 4, rel, true);
  return b;
}

/** Offset of the trampoline's tail (movabs; pop %rcx; jmp *%r11) and its end. */
export const TRAMPOLINE_TAIL = NR_SYSCALLS;
export const TRAMPOLINE_TAIL_END = NR_SYSCALLS + 14;

export function mapTrampoline(mem: Memory, kernelVsyscall: number): void {
  mem.map(0, PAGE_SIZE, PROT_EXEC | PROT_USER);
  mem.poke(0, trampolineBytes(kernelVsyscall));
}

/**
 * zpoline's exec-time rewrite: a linear sweep with the real decoder over the
 * given executable ranges; every true `syscall` (0F 05) or `sysenter`
 * (0F 34) becomes `call *%rax` (FF D0). Returns the rewritten addresses.
 */
export function rewriteSyscallSites(mem: Memory, ranges: [number, number][]): number[] {
  const sites: number[] = [];
  for (const [start, end] of ranges) {
    let a = start;
    const probe = new Uint8Array(2);
    while (a < end) {
      mem.peek(a, probe);
      if (probe[0] === 0x0f && probe[1] === 0x34) {
        // sysenter (not in the decoder: it is #UD in 64-bit mode on Intel)
        sites.push(a);
        a += 2;
        continue;
      }
      let len = 1;
      try {
        const i = decode(mem, a);
        len = i.len;
        if (i.opc === 0x105) sites.push(a);
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
      }
      a += len;
    }
  }
  for (const s of sites) mem.poke(s, Uint8Array.of(0xff, 0xd0));
  return sites;
}
