/**
 * ELF files as execve reads them: the header and program headers of a
 * program, its interpreter or a guest kernel image, validated with the
 * errno Linux's binfmt_elf gives, and what a loaded image is. Loading
 * (mapping, the stack, the auxiliary vector) is exec.ts.
 */
import type * as nodefs from 'node:fs';
import { hostFs as fs } from './hostlog.js';

export class ExecError extends Error {
  constructor(
    message: string,
    /** Linux errno the exec would fail with (ENOEXEC, ENOENT, EACCES, ENOMEM, EINVAL, ELIBBAD ...). */
    readonly errno: number,
    /** What the user can do about it, when the errno's usual advice does not fit. */
    readonly hint?: string,
  ) {
    super(message);
  }
}

export const AT = {
  NULL: 0,
  PHDR: 3,
  PHENT: 4,
  PHNUM: 5,
  PAGESZ: 6,
  BASE: 7,
  FLAGS: 8,
  ENTRY: 9,
  UID: 11,
  EUID: 12,
  GID: 13,
  EGID: 14,
  PLATFORM: 15,
  HWCAP: 16,
  CLKTCK: 17,
  SECURE: 23,
  RANDOM: 25,
  HWCAP2: 26,
  EXECFN: 31,
  SYSINFO: 32,
  SYSINFO_EHDR: 33,
  MINSIGSTKSZ: 51,
} as const;

export const PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3, PT_PHDR = 6, PT_GNU_STACK = 0x6474e551;
export const ET_EXEC = 2, ET_DYN = 3;
const EM_X86_64 = 62, EM_386 = 3;
const ELFCLASS32 = 1, ELFCLASS64 = 2;
/** sizeof(Elf64_Phdr). */
export const PHENT_SIZE = 56;
/** sizeof(Elf32_Phdr). */
export const PHENT_SIZE_32 = 32;

export interface Segment {
  start: number;
  end: number;
  /** PROT_READ | PROT_WRITE | PROT_EXEC (memory.ts bits) and PROT_USER. */
  prot: number;
}

/** An ELF file execve loaded: the program or its interpreter. */
export interface LoadedImage {
  /** Entry point (biased). */
  entry: number;
  /** Load bias: what was added to every p_vaddr (0 for ET_EXEC). */
  bias: number;
  /** Address of the program headers in memory (AT_PHDR), 0 if no segment holds them. */
  phdr: number;
  phnum: number;
  /** Page-aligned end of the highest segment (with its bss): where brk starts for the program. */
  brk: number;
  /** The PT_LOAD segments, page-aligned, as mapped. */
  segments: Segment[];
  /** PT_GNU_STACK asks for an executable stack. */
  execStack: boolean;
  /** Address of the PT_DYNAMIC array (biased), 0 without one. */
  dynamic: number;
  /** Guest path (canonical, as /proc/self/maps names it). */
  path: string;
  /** Host path of the file. */
  hostPath: string;
}

export interface ElfInfo {
  type: number;
  entry: number;
  phoff: number;
  phnum: number;
  phentsize: number;
  phdrs: { type: number; flags: number; offset: number; vaddr: number; filesz: number; memsz: number; align: number }[];
  /** ELFCLASS32 (i386): the program runs in compat mode. */
  is32: boolean;
}

/**
 * Parse and validate an ELF header: ELF64 x86-64, or ELF32 i386 (which runs
 * in compat mode, as IA32_EMULATION's compat_binfmt_elf). Throws ExecError
 * naming the problem.
 */
export function parseElf(data: Uint8Array, name: string): ElfInfo {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 52 || data[0] !== 0x7f || data[1] !== 0x45 || data[2] !== 0x4c || data[3] !== 0x46)
    throw new ExecError(`${name}: not an ELF file`, 8);
  if (data[4] !== ELFCLASS64 && data[4] !== ELFCLASS32) throw new ExecError(`${name}: unknown ELF class ${data[4]}`, 8);
  if (data[5] !== 1) throw new ExecError(`${name}: not a little-endian ELF`, 8);
  const is32 = data[4] === ELFCLASS32;
  if (!is32 && data.length < 64) throw new ExecError(`${name}: not an ELF file`, 8);
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  if (is32 && machine !== EM_386) throw new ExecError(`${name}: 32-bit ELF for machine ${machine}, not i386 (3)`, 8);
  if (!is32 && machine !== EM_X86_64) throw new ExecError(`${name}: ELF for machine ${machine}, not x86-64 (62)`, 8);
  if (type !== ET_EXEC && type !== ET_DYN) throw new ExecError(`${name}: ELF type ${type} is not an executable`, 8);
  const phsize = is32 ? PHENT_SIZE_32 : PHENT_SIZE;
  const entry = is32 ? dv.getUint32(24, true) : Number(dv.getBigInt64(24, true));
  const phoff = is32 ? dv.getUint32(28, true) : Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(is32 ? 42 : 54, true);
  const phnum = dv.getUint16(is32 ? 44 : 56, true);
  if (phentsize !== phsize || phnum === 0 || phoff + phnum * phsize > data.length)
    throw new ExecError(`${name}: truncated or corrupt ELF (program headers out of range)`, 8);
  const phdrs = [];
  for (let k = 0; k < phnum; k++) {
    const o = phoff + k * phsize;
    if (is32)
      phdrs.push({
        type: dv.getUint32(o, true),
        offset: dv.getUint32(o + 4, true),
        vaddr: dv.getUint32(o + 8, true),
        filesz: dv.getUint32(o + 16, true),
        memsz: dv.getUint32(o + 20, true),
        flags: dv.getUint32(o + 24, true),
        align: dv.getUint32(o + 28, true),
      });
    else
      phdrs.push({
        type: dv.getUint32(o, true),
        flags: dv.getUint32(o + 4, true),
        offset: Number(dv.getBigUint64(o + 8, true)),
        vaddr: Number(dv.getBigInt64(o + 16, true)), // signed: kernel images live at 0xffffffff8...
        filesz: Number(dv.getBigUint64(o + 32, true)),
        memsz: Number(dv.getBigUint64(o + 40, true)),
        align: Number(dv.getBigUint64(o + 48, true)),
      });
  }
  return { type, entry, phoff, phnum, phentsize, phdrs, is32 };
}

/**
 * The one-line message for a program given on the command line that cannot
 * run: what is wrong, then what to do about it.
 */
export function explainExecError(e: ExecError): string {
  if (e.hint !== undefined) return `${e.message}; ${e.hint}`;
  switch (e.errno) {
    case 2:
      return `${e.message}; give the path of an x86-64 Linux program (with none, entrystub runs its bundled example)`;
    case 8:
      return `${e.message}; entrystub runs x86-64 and i386 Linux executables, static or dynamically linked (check with \`file\`)`;
    case 13:
      return `${e.message}; give the path of a readable program file`;
    default:
      return e.message;
  }
}

/**
 * Open a program file for execve: a regular file, readable; turns host
 * errors into ExecErrors. Returns the host descriptor (the caller closes it).
 */
export function openExecutable(hostPath: string, name: string): number {
  let st: nodefs.Stats;
  try {
    st = fs.statSync(hostPath);
  } catch {
    throw new ExecError(`${name}: no such file`, 2);
  }
  if (st.isDirectory()) throw new ExecError(`${name}: is a directory`, 13);
  if (!st.isFile()) throw new ExecError(`${name}: not a regular file`, 13);
  try {
    return fs.openSync(hostPath, 'r');
  } catch (e) {
    throw new ExecError(`${name}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`, 13);
  }
}

/**
 * The ELF header and program headers of an open file (what binfmt_elf
 * reads before mapping anything): at most 64 KiB of headers, as Linux's
 * elf_read_phdrs allows.
 */
export function readElfHeaders(fd: number, name: string): ElfInfo {
  const eh = new Uint8Array(64);
  const n = fs.readSync(fd, eh, 0, 64, 0);
  if (n < 64) return parseElf(eh.subarray(0, n), name); // throws: not an ELF / truncated
  const dv = new DataView(eh.buffer);
  const is32 = eh[4] === ELFCLASS32;
  const phoff = is32 ? dv.getUint32(28, true) : Number(dv.getBigUint64(32, true));
  const size = is32 ? dv.getUint16(44, true) * PHENT_SIZE_32 : dv.getUint16(56, true) * PHENT_SIZE;
  if (size > 65536 || phoff > 0x7fffffff) throw new ExecError(`${name}: truncated or corrupt ELF (program headers out of range)`, 8);
  const buf = new Uint8Array(Math.max(phoff + size, 64));
  buf.set(eh);
  const got = 64 + (buf.length > 64 ? fs.readSync(fd, buf, 64, buf.length - 64, 64) : 0);
  return parseElf(buf.subarray(0, got), name);
}
