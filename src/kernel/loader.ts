/**
 * execve for static ELF64 x86-64 programs: validates the file, maps its
 * PT_LOAD segments, and builds the initial stack exactly as Linux's
 * create_elf_tables does (argc, argv, envp, auxv, then the strings and
 * AT_RANDOM bytes above), with no address randomization so runs are
 * reproducible.
 */
import * as fs from 'node:fs';
import { Memory, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_USER, PROT_WRITE } from '../cpu/memory.js';

export class ExecError extends Error {
  constructor(
    message: string,
    /** Linux errno the exec would fail with (ENOEXEC, ENOENT, EACCES, ENOMEM, EINVAL ...). */
    readonly errno: number,
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
  SYSINFO_EHDR: 33,
  MINSIGSTKSZ: 51,
} as const;

const PT_LOAD = 1, PT_INTERP = 3, PT_PHDR = 6, PT_GNU_STACK = 0x6474e551;
const ET_EXEC = 2, ET_DYN = 3, EM_X86_64 = 62;

/** Where a static-PIE program is placed (Linux's ELF_ET_DYN_BASE without randomization). */
export const PIE_BASE = 0x555555554000;
/** Top of the user stack (TASK_SIZE minus the guard page Linux keeps). */
export const STACK_TOP = 0x7ffffffff000;
export const STACK_SIZE = 8 * 1024 * 1024;

export interface Segment {
  start: number;
  end: number;
  prot: number;
}

export interface LoadedImage {
  entry: number;
  /** Load bias (0 for ET_EXEC). */
  bias: number;
  phdr: number;
  phnum: number;
  /** Page-aligned end of the highest segment: where brk starts. */
  brk: number;
  segments: Segment[];
  execStack: boolean;
  /** File offsets and sizes of executable segments (for syscall-site rewriting). */
  path: string;
}

export interface ElfInfo {
  type: number;
  entry: number;
  phoff: number;
  phnum: number;
  phentsize: number;
  phdrs: { type: number; flags: number; offset: number; vaddr: number; filesz: number; memsz: number; align: number }[];
}

/** Parse and validate an ELF64 x86-64 header; throws ExecError naming the problem. */
export function parseElf(data: Uint8Array, name: string): ElfInfo {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 64 || data[0] !== 0x7f || data[1] !== 0x45 || data[2] !== 0x4c || data[3] !== 0x46)
    throw new ExecError(`${name}: not an ELF file`, 8);
  if (data[4] !== 2) throw new ExecError(`${name}: not a 64-bit ELF (ELFCLASS${data[4] === 1 ? '32' : data[4]})`, 8);
  if (data[5] !== 1) throw new ExecError(`${name}: not a little-endian ELF`, 8);
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_X86_64) throw new ExecError(`${name}: ELF for machine ${machine}, not x86-64 (62)`, 8);
  if (type !== ET_EXEC && type !== ET_DYN) throw new ExecError(`${name}: ELF type ${type} is not an executable`, 8);
  const entry = Number(dv.getBigInt64(24, true));
  const phoff = Number(dv.getBigUint64(32, true));
  const phentsize = dv.getUint16(54, true);
  const phnum = dv.getUint16(56, true);
  if (phentsize !== 56 || phnum === 0 || phoff + phnum * 56 > data.length)
    throw new ExecError(`${name}: truncated or corrupt ELF (program headers out of range)`, 8);
  const phdrs = [];
  for (let k = 0; k < phnum; k++) {
    const o = phoff + k * 56;
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
  return { type, entry, phoff, phnum, phentsize, phdrs };
}

/**
 * The one-line message for a program given on the command line that cannot
 * run: what is wrong, then what to do about it.
 */
export function explainExecError(e: ExecError): string {
  switch (e.errno) {
    case 2:
      return `${e.message}; give the path of a static x86-64 Linux program (with none, entrystub runs its bundled example)`;
    case 8:
      return `${e.message}; entrystub runs static x86-64 Linux executables (check with \`file\`; build with gcc -static or musl-gcc -static)`;
    case 13:
      return `${e.message}; give the path of a readable program file`;
    default:
      return e.message;
  }
}

/** Read a program file, turning host errors into ExecErrors. */
export function readProgram(hostPath: string, name: string): Uint8Array {
  let st: fs.Stats;
  try {
    st = fs.statSync(hostPath);
  } catch {
    throw new ExecError(`${name}: no such file`, 2);
  }
  if (st.isDirectory()) throw new ExecError(`${name}: is a directory`, 13);
  if (!st.isFile()) throw new ExecError(`${name}: not a regular file`, 13);
  try {
    return new Uint8Array(fs.readFileSync(hostPath));
  } catch (e) {
    throw new ExecError(`${name}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`, 13);
  }
}

function elfProt(flags: number): number {
  return (flags & 4 ? PROT_READ : 0) | (flags & 2 ? PROT_WRITE : 0) | (flags & 1 ? PROT_EXEC : 0) | PROT_USER;
}

/**
 * Map the program's segments. `reserved` lists ranges the program must not
 * overlap (the trampoline page, the guest kernel): overlapping one is ENOMEM/EINVAL.
 */
export function loadElf(mem: Memory, data: Uint8Array, name: string, reserved: [number, number][] = []): LoadedImage {
  const elf = parseElf(data, name);
  if (elf.phdrs.some((p) => p.type === PT_INTERP))
    throw new ExecError(`${name}: dynamically linked (has PT_INTERP)`, 8);
  const loads = elf.phdrs.filter((p) => p.type === PT_LOAD);
  if (loads.length === 0) throw new ExecError(`${name}: no loadable segments`, 8);
  const bias = elf.type === ET_DYN ? PIE_BASE - Math.floor(Math.min(...loads.map((p) => p.vaddr)) / PAGE_SIZE) * PAGE_SIZE : 0;
  const segments: Segment[] = [];
  let brk = 0;
  for (const p of loads) {
    if (p.filesz > p.memsz || p.offset + p.filesz > data.length)
      throw new ExecError(`${name}: truncated or corrupt ELF (segment beyond end of file)`, 8);
    if ((p.vaddr - p.offset) % PAGE_SIZE !== 0) throw new ExecError(`${name}: misaligned segment`, 22);
    const start = Math.floor((p.vaddr + bias) / PAGE_SIZE) * PAGE_SIZE;
    const end = Math.ceil((p.vaddr + bias + p.memsz) / PAGE_SIZE) * PAGE_SIZE;
    if (end > STACK_TOP - STACK_SIZE || start < 0) throw new ExecError(`${name}: segment outside the user address space`, 12);
    for (const [rs, re] of reserved)
      if (start < re && end > rs)
        throw new ExecError(
          `${name}: segment at 0x${start.toString(16)}-0x${end.toString(16)} overlaps the guest kernel's reserved range 0x${rs.toString(16)}-0x${re.toString(16)}`,
          start === 0 ? 22 : 12,
        );
    segments.push({ start, end, prot: elfProt(p.flags) });
    brk = Math.max(brk, end);
  }
  // map (later segments may share a page with earlier ones: union the protections)
  for (const s of segments) {
    const prev = mem.protAt(s.start);
    mem.map(s.start, s.end - s.start, prev >= 0 ? prev | s.prot : s.prot);
  }
  for (const p of loads) if (p.filesz > 0) mem.poke(p.vaddr + bias, data.subarray(p.offset, p.offset + p.filesz));
  // PT_PHDR, or the headers inside the first segment that covers them
  let phdr = 0;
  const pp = elf.phdrs.find((p) => p.type === PT_PHDR);
  if (pp) phdr = pp.vaddr + bias;
  else {
    const l = loads.find((p) => p.offset <= elf.phoff && elf.phoff < p.offset + p.filesz);
    if (l) phdr = l.vaddr + bias + (elf.phoff - l.offset);
  }
  const gs = elf.phdrs.find((p) => p.type === PT_GNU_STACK);
  return {
    entry: elf.entry + bias,
    bias,
    phdr,
    phnum: elf.phnum,
    brk,
    segments,
    execStack: gs ? (gs.flags & 1) !== 0 : false,
    path: name,
  };
}

export interface StackSetup {
  argv: string[];
  envp: string[];
  execfn: string;
  uid: number;
  euid: number;
  gid: number;
  egid: number;
  hwcap: number;
  random: Uint8Array; // 16 bytes
  platform: string;
  /** Extra auxv entries (e.g. AT_SYSINFO_EHDR). */
  extraAux?: [number, number][];
}

/**
 * Map the stack and build Linux's initial process stack. Returns the initial RSP
 * (pointing at argc, 16-byte aligned).
 */
export function buildStack(mem: Memory, img: LoadedImage, s: StackSetup): number {
  const prot = PROT_READ | PROT_WRITE | PROT_USER | (img.execStack ? PROT_EXEC : 0);
  mem.map(STACK_TOP - STACK_SIZE, STACK_SIZE, prot);
  const enc = new TextEncoder();
  let sp = STACK_TOP;
  const put = (bytes: Uint8Array): number => {
    sp -= bytes.length;
    mem.poke(sp, bytes);
    return sp;
  };
  const cstr = (x: string): Uint8Array => {
    const b = enc.encode(x);
    const o = new Uint8Array(b.length + 1);
    o.set(b);
    return o;
  };
  // Linux puts the filename at the very top, then envp and argv strings
  sp -= 8; // the end marker word
  const execfnAddr = put(cstr(s.execfn));
  const envAddrs: number[] = [];
  const argAddrs: number[] = [];
  for (let k = s.envp.length - 1; k >= 0; k--) envAddrs.unshift(put(cstr(s.envp[k])));
  for (let k = s.argv.length - 1; k >= 0; k--) argAddrs.unshift(put(cstr(s.argv[k])));
  sp = Math.floor(sp / 16) * 16;
  const platformAddr = put(cstr(s.platform));
  sp = Math.floor(sp / 16) * 16;
  const randomAddr = put(s.random.subarray(0, 16));
  const aux: [number, number][] = [
    ...(s.extraAux ?? []),
    [AT.HWCAP, s.hwcap],
    [AT.PAGESZ, PAGE_SIZE],
    [AT.CLKTCK, 100],
    [AT.PHDR, img.phdr],
    [AT.PHENT, 56],
    [AT.PHNUM, img.phnum],
    [AT.BASE, 0],
    [AT.FLAGS, 0],
    [AT.ENTRY, img.entry],
    [AT.UID, s.uid],
    [AT.EUID, s.euid],
    [AT.GID, s.gid],
    [AT.EGID, s.egid],
    [AT.SECURE, 0],
    [AT.RANDOM, randomAddr],
    [AT.HWCAP2, 0],
    [AT.EXECFN, execfnAddr],
    [AT.PLATFORM, platformAddr],
    [AT.MINSIGSTKSZ, 2048],
    [AT.NULL, 0],
  ];
  const words = 1 + argAddrs.length + 1 + envAddrs.length + 1 + aux.length * 2;
  sp -= words * 8;
  sp = Math.floor(sp / 16) * 16;
  const out = new DataView(new ArrayBuffer(words * 8));
  let o = 0;
  const w = (v: number) => {
    out.setBigUint64(o, BigInt.asUintN(64, BigInt(v)), true);
    o += 8;
  };
  w(s.argv.length);
  for (const a of argAddrs) w(a);
  w(0);
  for (const e of envAddrs) w(e);
  w(0);
  for (const [k, v] of aux) {
    w(k);
    w(v);
  }
  mem.poke(sp, new Uint8Array(out.buffer));
  return sp;
}
