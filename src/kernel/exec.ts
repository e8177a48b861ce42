/**
 * execve's binfmt_elf: Linux's load_elf_binary, load_elf_interp and
 * create_elf_tables (v6.x), with address randomization off (as under
 * `setarch -R`, or gdb's default). Given a program file, it maps the program
 * and, when PT_INTERP names one, its interpreter from the guest's root, as
 * private file mappings made through the process's MM (so /proc/self/maps
 * names them, and the executable-mapping hook sees them as it sees every
 * later mmap), builds the initial stack (the strings, AT_RANDOM's bytes, then
 * argc, argv, envp and the auxiliary vector), and returns where to start.
 *
 * Where things go, as Linux puts them:
 * - ET_EXEC at its own addresses;
 * - a PIE (ET_DYN with an interpreter) at ELF_ET_DYN_BASE, two thirds of
 *   TASK_SIZE, aligned down to its largest PT_LOAD alignment and to the page:
 *   0x555555554000 for the usual 4 KiB;
 * - the interpreter, and an ET_DYN without one (a static PIE, or ld.so run
 *   as the program), wherever mmap puts a mapping of the whole image:
 *   top-down below mmap_base (ld.so at 0x7ffff7fca000 on this machine);
 * - the heap right after the program's bss, except for an ET_DYN without an
 *   interpreter, whose brk Linux moves to ELF_ET_DYN_BASE (it would grow into
 *   the mmap area otherwise).
 * Linux then maps the vDSO below the interpreter; entrystub has no vDSO for
 * 64-bit programs (no AT_SYSINFO_EHDR: glibc makes real syscalls for the
 * time), so what ld.so maps next lands higher than natively by the vDSO's
 * size.
 *
 * An i386 program (compat_binfmt_elf) gets the same, in a 4 GiB address
 * space: its stack at IA32_PAGE_OFFSET, mmap_base below it, a PIE at the
 * compat ELF_ET_DYN_BASE (4 MiB), its interpreter (ld-linux.so.2, which must
 * be i386 too) top-down below mmap_base, and the 32-bit vDSO below that.
 *
 * Each PT_LOAD is mapped as elf_map does: the file's pages covering
 * [p_vaddr, p_vaddr + p_filesz) (the first of an ET_DYN with the size of the
 * whole image, the excess unmapped), the rest of the last file page zeroed
 * when the segment is writable, and the bss pages beyond as an anonymous
 * mapping (vm_brk_flags).
 */
import { hostFs as fs } from './hostlog.js';
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_USER, PROT_WRITE } from '../cpu/memory.js';
import { cpuidLeaf } from '../cpu/ops/system.js';
import type { CPU } from '../cpu/cpu.js';
import { DS, ES, FS, GS, __USER_DS } from '../cpu/segment.js';
import { ELIBBAD, ENOENT, SysError } from './errno.js';
import { AT, ET_DYN, ET_EXEC, ExecError, openExecutable, PHENT_SIZE, PHENT_SIZE_32, PT_DYNAMIC, PT_GNU_STACK, PT_INTERP, PT_LOAD, readElfHeaders, type ElfInfo, type LoadedImage, type Segment } from './loader.js';
import { hostFileSource, mappedName, mmapBaseFor, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, TASK_SIZE, type MapSource, type MM } from './mm.js';
import { SIGFRAME_MAX_SIZE } from './signal.js';
import type { Vfs } from './vfs.js';

/** Top of the user stack: TASK_SIZE (Linux's STACK_TOP without randomization). */
export const STACK_TOP = TASK_SIZE;
/**
 * A 32-bit (compat) program's address space ends at IA32_PAGE_OFFSET: its
 * TASK_SIZE and STACK_TOP. Its mmap_base is computed from it as the 64-bit
 * one is from TASK_SIZE (arch_pick_mmap_layout for a TIF_ADDR32 task).
 */
export const STACK_TOP_32 = 0xffffe000;
/** What the loader maps for the stack before the MM sizes it by RLIMIT_STACK. */
export const STACK_SIZE = 8 * 1024 * 1024;
/** Linux's ELF_ET_DYN_BASE on x86-64: 2/3 of the address space (0x555555554aaa). */
export const ELF_ET_DYN_BASE = Math.floor(TASK_SIZE / 3) * 2;
/**
 * ELF_ET_DYN_BASE of a compat task (mmap_is_ia32(): TIF_ADDR32, set by
 * SET_PERSONALITY2 before anything is mapped): 4 MiB, where an i386 PIE goes,
 * leaving the rest of the 4 GiB for the mmap area above it.
 */
export const ELF_ET_DYN_BASE_32 = 0x400000;
/** AT_PLATFORM's string (ELF_PLATFORM; for a compat program, COMPAT_ELF_PLATFORM). */
const PLATFORM = 'x86_64', PLATFORM_32 = 'i686';
/** AT_HWCAP2 bit: the kernel lets user space use RDFSBASE and friends (CPUID.7.EBX bit 0, FSGSBASE). */
const HWCAP2_FSGSBASE = 1 << 1;
/** CLOCKS_PER_SEC as Linux reports it (USER_HZ). */
const CLKTCK = 100;
const PATH_MAX = 4096;

/** What exec needs of the process it replaces the image of: its (fresh) address space, its root, its credentials. */
export interface ExecContext {
  readonly mm: MM;
  readonly vfs: Vfs;
  readonly uid: number;
  readonly euid: number;
  readonly gid: number;
  readonly egid: number;
}

export interface ExecRequest {
  /** Host path of the program file. */
  hostPath: string;
  /** The path execve was given: AT_EXECFN. */
  filename: string;
  /** The program's name in error messages (default: filename). */
  name?: string;
  argv: string[];
  envp: string[];
  /** Ranges the guest kernel owns (the zpoline page): nothing may be loaded over them. */
  reserved: [number, number][];
  /** AT_RANDOM's 16 bytes. */
  random: Uint8Array;
  /**
   * The 32-bit vDSO a compat program gets (its entry sequence already chosen
   * by the entry model) and where __kernel_vsyscall is in it; none: no vDSO,
   * and glibc makes its calls with int $0x80 itself.
   */
  vdso32?: { image: Uint8Array; vsyscall: number };
}

/**
 * start_thread's data segments (the code and stack ones are the entry
 * model's: they decide how the syscall returns): DS and ES __USER_DS for an
 * i386 program (start_thread_ia32), null for an x86-64 one, FS and GS null,
 * and no TLS descriptors (flush_thread clears them).
 */
export function startThreadSegments(cpu: CPU, compat: boolean): void {
  const ds = compat ? __USER_DS : 0;
  cpu.seg[ES] = ds;
  cpu.seg[DS] = ds;
  cpu.seg[FS] = 0;
  cpu.seg[GS] = 0;
  cpu.gdt.tls.fill(null);
}

export interface Exec {
  program: LoadedImage;
  /** The interpreter, for a program with PT_INTERP. */
  interp: LoadedImage | null;
  /** PT_INTERP as the program names it. */
  interpPath: string | null;
  /** The first instruction: the interpreter's entry, or the program's. */
  entry: number;
  /** The initial stack pointer (at argc). */
  sp: number;
  /** The auxiliary vector as written on the stack, AT_NULL included. */
  auxv: [number, number][];
  /** An ELF32 i386 program: it runs in compat mode, with 4-byte words on its stack. */
  compat: boolean;
  /** Where the 32-bit vDSO is mapped (null: none). */
  vdso: number | null;
}

/**
 * map_vdso for a compat program: the image where mmap would put it (top-down
 * below mmap_base), read and executable, named [vdso]. Linux maps its vvar
 * pages (the clock data) just below; this vDSO reads none, so has none.
 */
function mapVdso32(mm: MM, image: Uint8Array): number {
  const len = pageUp(image.length);
  const at = mm.findFree(len);
  mm.mem.map(at, len, PROT_READ | PROT_EXEC | PROT_USER);
  mm.mem.poke(at, image);
  mm.addVma(at, at + len, PROT_READ | PROT_EXEC, '[vdso]');
  return at;
}

const pageDown = (a: number): number => Math.floor(a / PAGE_SIZE) * PAGE_SIZE;
const pageUp = (a: number): number => Math.ceil(a / PAGE_SIZE) * PAGE_SIZE;
const pageOff = (a: number): number => a - pageDown(a);

type Phdr = ElfInfo['phdrs'][number];

/** The address space's shape for the program's ABI: where its stack ends and where a PIE goes. */
interface Layout {
  stackTop: number;
  dynBase: number;
}

/** An ELF file open for loading. */
interface ElfFile {
  fd: number;
  elf: ElfInfo;
  /** Host path, and the guest path /proc/self/maps shows. */
  hostPath: string;
  name: string;
  size: number;
}

/** The AT_HWCAP a kernel on the emulated CPU reports: CPUID.1:EDX, as x86's ELF_HWCAP. */
export function elfHwcap(): number {
  return cpuidLeaf(1, 0)[3] >>> 0;
}

/** AT_HWCAP2: HWCAP2_FSGSBASE when the emulated CPU has FSGSBASE (there is no ring-3 MWAIT). */
export function elfHwcap2(): number {
  return cpuidLeaf(7, 0)[1] & 1 ? HWCAP2_FSGSBASE : 0;
}

/**
 * Load a program into ctx's address space (which holds nothing of the
 * program's yet) and build its stack. Throws ExecError with the errno Linux's
 * execve would return.
 */
export function execElf(ctx: ExecContext, req: ExecRequest): Exec {
  const files: ElfFile[] = [];
  const name = req.name ?? req.filename;
  try {
    const prog = openElf(ctx, req.hostPath, name, files);
    const compat = prog.elf.is32;
    // the interpreter is read and checked before anything is mapped, as Linux does
    const ip = prog.elf.phdrs.find((p) => p.type === PT_INTERP);
    // a compat task's address space ends at 4 GiB: its mmap_base too (setup_new_exec's arch_pick_mmap_layout)
    if (compat) {
      ctx.mm.mmapBase = mmapBaseFor(ctx.mm.rlimitStack(), STACK_TOP_32);
      ctx.mm.taskSize = STACK_TOP_32;
    }
    const interpPath = ip ? readInterpPath(prog, ip, name) : null;
    const interpFile = interpPath !== null ? openInterp(ctx, interpPath, name, files, compat) : null;

    const layout: Layout = compat ? { stackTop: STACK_TOP_32, dynBase: ELF_ET_DYN_BASE_32 } : { stackTop: STACK_TOP, dynBase: ELF_ET_DYN_BASE };
    const program = loadImage(ctx.mm, prog, interpFile !== null ? 'pie' : 'own', req.reserved, name, layout);
    const interp = interpFile !== null ? loadImage(ctx.mm, interpFile, program.bias !== 0 ? 'interp-of-pie' : 'interp', req.reserved, name, layout) : null;

    // brk after the program's bss; Linux moves an ET_DYN's without an interpreter out of the mmap area
    const brk = prog.elf.type === ET_DYN && interpFile === null ? pageUp(layout.dynBase) : program.brk;
    ctx.mm.setBrkStart(brk, dataSpan(prog.elf));

    const entry = interp ? interp.entry : program.entry;
    const vdso = compat && req.vdso32 ? mapVdso32(ctx.mm, req.vdso32.image) : null;
    const sysinfo: [number, number][] = vdso !== null && req.vdso32 ? [[AT.SYSINFO, vdso + req.vdso32.vsyscall], [AT.SYSINFO_EHDR, vdso]] : [];
    const { sp, auxv } = createElfTables(ctx, req, program, interp, compat, sysinfo);
    return { program, interp, interpPath, entry, sp, auxv, compat, vdso };
  } finally {
    for (const f of files) fs.closeSync(f.fd);
  }
}

function openElf(ctx: ExecContext, hostPath: string, name: string, files: ElfFile[]): ElfFile {
  const fd = openExecutable(hostPath, name);
  const size = fs.fstatSync(fd).size;
  const file: ElfFile = { fd, elf: null as unknown as ElfInfo, hostPath, name: mappedName(ctx.vfs, fd, name), size };
  files.push(file);
  file.elf = readElfHeaders(fd, name);
  return file;
}

/** PT_INTERP's path: NUL-terminated, shorter than PATH_MAX (else ENOEXEC, as Linux). */
function readInterpPath(prog: ElfFile, ip: Phdr, name: string): string {
  if (ip.filesz < 2 || ip.filesz > PATH_MAX || ip.offset + ip.filesz > prog.size)
    throw new ExecError(`${name}: corrupt PT_INTERP`, 8);
  const b = new Uint8Array(ip.filesz);
  fs.readSync(prog.fd, b, 0, ip.filesz, ip.offset);
  if (b[ip.filesz - 1] !== 0) throw new ExecError(`${name}: corrupt PT_INTERP (not NUL-terminated)`, 8);
  return new TextDecoder().decode(b.subarray(0, b.indexOf(0)));
}

/**
 * The interpreter, looked up in the guest's root as the program would open
 * it; of the program's class (compat_binfmt_elf's elf_check_arch: an i386
 * program needs an i386 interpreter, ld-linux.so.2).
 */
function openInterp(ctx: ExecContext, interpPath: string, name: string, files: ElfFile[], compat: boolean): ElfFile {
  const where = ctx.vfs.confined ? `in --root ${ctx.vfs.root}` : 'on this machine';
  let host: string;
  try {
    host = ctx.vfs.resolve(interpPath, '/');
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    throw new ExecError(`${name}: its interpreter ${interpPath} cannot be found ${where}`, e.errno, 'give --root the directory of a system that has it');
  }
  if (!fs.existsSync(host))
    throw new ExecError(`${name}: its interpreter ${interpPath} is not ${where}`, ENOENT, 'give --root the directory of a system that has it');
  let f: ElfFile;
  try {
    f = openElf(ctx, host, interpPath, files);
  } catch (e) {
    if (!(e instanceof ExecError)) throw e;
    // Linux: an interpreter that is no ELF for this machine is ELIBBAD
    throw new ExecError(`${name}: its interpreter ${e.message}`, e.errno === 8 ? ELIBBAD : e.errno, interpHint(compat));
  }
  if (f.elf.is32 !== compat) throw new ExecError(`${name}: its interpreter ${interpPath} is ${f.elf.is32 ? 'an i386' : 'an x86-64'} ELF`, ELIBBAD, interpHint(compat));
  return f;
}

function interpHint(compat: boolean): string {
  return compat ? 'an i386 program needs an i386 interpreter (ld-linux.so.2)' : 'the interpreter must be an x86-64 ELF (ld-linux-x86-64.so.2)';
}

/** Linux's make_prot: PF_R/W/X to PROT_*. */
function elfProt(flags: number): number {
  return (flags & 4 ? PROT_READ : 0) | (flags & 2 ? PROT_WRITE : 0) | (flags & 1 ? PROT_EXEC : 0);
}

/** total_mapping_size: from the first PT_LOAD's page to the end of the highest one. */
function totalMappingSize(loads: Phdr[]): number {
  const min = Math.min(...loads.map((p) => pageDown(p.vaddr)));
  const max = Math.max(...loads.map((p) => p.vaddr + p.memsz));
  return max - min;
}

/** maximum_alignment: the largest power-of-two p_align of the PT_LOADs, at least a page. */
function maximumAlignment(loads: Phdr[]): number {
  let a = 0;
  for (const p of loads) if (p.align > 0 && Number.isSafeInteger(p.align) && (p.align & (p.align - 1)) === 0 && p.align > a) a = p.align;
  return pageUp(a);
}

/** end_data - start_data of load_elf_binary: the highest PT_LOAD's start to the end of the highest file contents. */
function dataSpan(elf: ElfInfo): number {
  let start = 0, end = 0;
  for (const p of elf.phdrs) {
    if (p.type !== PT_LOAD) continue;
    start = Math.max(start, p.vaddr);
    end = Math.max(end, p.vaddr + p.filesz);
  }
  return Math.max(0, end - start);
}

/**
 * Map an image's PT_LOAD segments. How: 'own' (the program, static: ET_EXEC
 * at its addresses, ET_DYN where mmap puts it), 'pie' (the program of an
 * interpreter: ET_DYN at ELF_ET_DYN_BASE), 'interp' and 'interp-of-pie' (the
 * interpreter: ET_DYN where mmap puts it, with its first p_vaddr as the hint
 * unless the program was relocated, as load_elf_interp's no_base).
 */
function loadImage(mm: MM, f: ElfFile, how: 'own' | 'pie' | 'interp' | 'interp-of-pie', reserved: [number, number][], progName: string, layout: Layout): LoadedImage {
  const { elf } = f;
  const name = how.startsWith('interp') ? `${progName}: its interpreter ${f.name}` : progName;
  const loads = elf.phdrs.filter((p) => p.type === PT_LOAD);
  if (loads.length === 0) throw new ExecError(`${name}: no loadable segments`, 8);
  for (const p of loads) {
    if (p.filesz > p.memsz || p.offset + p.filesz > f.size) throw new ExecError(`${name}: truncated or corrupt ELF (segment beyond end of file)`, 8);
    if (pageOff(p.vaddr) !== pageOff(p.offset)) throw new ExecError(`${name}: misaligned segment`, 22);
  }
  const dyn = elf.type === ET_DYN;
  const total = dyn ? totalMappingSize(loads) : 0;
  let bias = 0;
  // where the first segment goes: a fixed place, or a hint mmap may honour
  let fixedFirst = elf.type === ET_EXEC;
  if (dyn && how === 'pie') {
    const align = maximumAlignment(loads);
    bias = pageDown(Math.floor(layout.dynBase / align) * align - loads[0].vaddr);
    fixedFirst = true;
  } else if (dyn && how === 'own' && maximumAlignment(loads) > PAGE_SIZE) {
    // a large alignment: find where mmap would put the image, then align it there
    const align = maximumAlignment(loads);
    const probe = guard(name, () => mm.mmap(0, total, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 0, null));
    mm.munmap(probe, total);
    bias = pageDown(Math.floor(probe / align) * align - loads[0].vaddr);
    fixedFirst = true;
  } else if (dyn && how === 'interp-of-pie') {
    bias = -pageDown(loads[0].vaddr); // no hint: mmap's own choice
  }
  if (fixedFirst) checkReserved(loads, bias, reserved, name, layout.stackTop);

  const src = hostFileSource(f.fd, f.hostPath, f.name, 0, { writeBack: false, mayWrite: false });
  const segments: Segment[] = [];
  let first = true;
  for (const p of loads) {
    const prot = elfProt(p.flags);
    let flags = MAP_PRIVATE;
    if (!first) flags |= MAP_FIXED;
    else if (fixedFirst) flags |= MAP_FIXED_NOREPLACE;
    const addr = bias + p.vaddr;
    const at = guard(name, () => elfLoad(mm, src, addr, p, prot, flags, first ? total : 0));
    if (first && dyn) bias += at - pageDown(addr);
    first = false;
    segments.push({ start: pageDown(bias + p.vaddr), end: pageUp(bias + p.vaddr + p.memsz), prot: prot | PROT_USER });
  }
  // the program headers: in the segment whose file contents hold them (AT_PHDR)
  let phdr = 0;
  for (const p of loads) if (p.offset <= elf.phoff && elf.phoff < p.offset + p.filesz) phdr = elf.phoff - p.offset + p.vaddr + bias;
  const gs = elf.phdrs.find((p) => p.type === PT_GNU_STACK);
  const pd = elf.phdrs.find((p) => p.type === PT_DYNAMIC);
  return {
    entry: elf.entry + bias,
    bias,
    phdr,
    phnum: elf.phnum,
    brk: pageUp(Math.max(...loads.map((p) => bias + p.vaddr + p.memsz))),
    segments,
    execStack: gs ? (gs.flags & 1) !== 0 : false,
    dynamic: pd ? pd.vaddr + bias : 0,
    path: f.name,
    hostPath: f.hostPath,
  };
}

/** A segment over the guest kernel's range (the zpoline page at 0) cannot be loaded. */
function checkReserved(loads: Phdr[], bias: number, reserved: [number, number][], name: string, stackTop: number): void {
  for (const p of loads) {
    const start = pageDown(bias + p.vaddr), end = pageUp(bias + p.vaddr + p.memsz);
    if (start < 0 || end > stackTop - STACK_SIZE) throw new ExecError(`${name}: segment outside the user address space`, 12);
    for (const [rs, re] of reserved)
      if (start < re && end > rs)
        throw new ExecError(
          `${name}: segment at 0x${start.toString(16)}-0x${end.toString(16)} overlaps the guest kernel's reserved range 0x${rs.toString(16)}-0x${re.toString(16)}`,
          start === 0 ? 22 : 12,
        );
  }
}

/** An MM error while loading: exec fails with its errno. */
function guard<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    throw new ExecError(`${name}: cannot map its segments (errno ${e.errno})`, e.errno);
  }
}

/** elf_load: map one segment's file pages, zero the tail of the last one, map its bss. Returns where it went. */
function elfLoad(mm: MM, src: MapSource, addr: number, p: Phdr, prot: number, flags: number, total: number): number {
  let mapAddr: number, zeroStart: number, zeroEnd: number;
  if (p.filesz > 0) {
    mapAddr = elfMap(mm, src, addr, p, prot, flags, total);
    zeroStart = mapAddr + pageOff(p.vaddr) + p.filesz;
    zeroEnd = mapAddr + pageOff(p.vaddr) + p.memsz;
    // padzero: only a writable segment's page can be cleared (Linux ignores the fault otherwise)
    if (p.memsz > p.filesz && prot & PROT_WRITE && pageOff(zeroStart) !== 0)
      mm.mem.poke(zeroStart, new Uint8Array(PAGE_SIZE - pageOff(zeroStart)));
  } else {
    mapAddr = zeroStart = pageDown(addr);
    zeroEnd = zeroStart + pageOff(p.vaddr) + p.memsz;
  }
  if (p.memsz > p.filesz) {
    const s = pageUp(zeroStart), e = pageUp(zeroEnd);
    // vm_brk_flags: anonymous, read-write (and executable if the segment is)
    if (e > s) mm.mmap(s, e - s, PROT_READ | PROT_WRITE | (prot & PROT_EXEC), MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, 0, null);
  }
  return mapAddr;
}

/** elf_map: the file pages of a segment; the first of an ET_DYN reserves the whole image, then gives back the excess. */
function elfMap(mm: MM, src: MapSource, addr: number, p: Phdr, prot: number, flags: number, total: number): number {
  const size = pageUp(p.filesz + pageOff(p.vaddr));
  const off = p.offset - pageOff(p.vaddr);
  addr = pageDown(addr);
  if (total > 0) {
    const t = pageUp(total);
    const at = mm.mmap(addr, t, prot, flags, off, src);
    if (t > size) mm.munmap(at + size, t - size);
    return at;
  }
  return mm.mmap(addr, size, prot, flags, off, src);
}

/**
 * create_elf_tables, on a stack set up as setup_arg_pages leaves it: at the
 * top the filename, the environment and argument strings; below them
 * (16-byte aligned) AT_PLATFORM's string and AT_RANDOM's 16 bytes, unaligned
 * as Linux leaves them; then argc, argv, envp and the auxiliary vector,
 * 16-byte aligned at argc.
 */
function createElfTables(ctx: ExecContext, req: ExecRequest, program: LoadedImage, interp: LoadedImage | null, compat: boolean, sysinfo: [number, number][]): { sp: number; auxv: [number, number][] } {
  const { mm } = ctx;
  const mem = mm.mem;
  const prot = PROT_READ | PROT_WRITE | (program.execStack ? PROT_EXEC : 0);
  // a compat program's stack: below 4 GiB, of 4-byte words (compat_binfmt_elf's elf_addr_t)
  const top = compat ? STACK_TOP_32 : STACK_TOP;
  const word = compat ? 4 : 8;
  mem.map(top - STACK_SIZE, STACK_SIZE, prot | PROT_USER);
  const enc = new TextEncoder();
  let p = top - 8; // bprm->p starts one (kernel) word below the top
  const put = (bytes: Uint8Array): number => {
    p -= bytes.length;
    mem.poke(p, bytes);
    return p;
  };
  const cstr = (x: string): Uint8Array => {
    const b = enc.encode(x);
    const o = new Uint8Array(b.length + 1);
    o.set(b);
    return o;
  };
  const execfn = put(cstr(req.filename));
  const envAddrs: number[] = [];
  const argAddrs: number[] = [];
  for (let k = req.envp.length - 1; k >= 0; k--) envAddrs.unshift(put(cstr(req.envp[k])));
  for (let k = req.argv.length - 1; k >= 0; k--) argAddrs.unshift(put(cstr(req.argv[k])));
  p = Math.floor(p / 16) * 16; // arch_align_stack
  const platform = put(cstr(compat ? PLATFORM_32 : PLATFORM));
  const random = put(req.random.subarray(0, 16));
  // ARCH_DLINFO first (ARCH_DLINFO_IA32's AT_SYSINFO and AT_SYSINFO_EHDR for a compat program's vDSO), then the generic entries in Linux's order
  const auxv: [number, number][] = [
    ...sysinfo,
    [AT.MINSIGSTKSZ, SIGFRAME_MAX_SIZE],
    [AT.HWCAP, elfHwcap()],
    [AT.PAGESZ, PAGE_SIZE],
    [AT.CLKTCK, CLKTCK],
    [AT.PHDR, program.phdr],
    [AT.PHENT, compat ? PHENT_SIZE_32 : PHENT_SIZE],
    [AT.PHNUM, program.phnum],
    [AT.BASE, interp ? interp.bias : 0],
    [AT.FLAGS, 0],
    [AT.ENTRY, program.entry],
    [AT.UID, ctx.uid],
    [AT.EUID, ctx.euid],
    [AT.GID, ctx.gid],
    [AT.EGID, ctx.egid],
    [AT.SECURE, 0],
    [AT.RANDOM, random],
    [AT.HWCAP2, elfHwcap2()],
    [AT.EXECFN, execfn],
    [AT.PLATFORM, platform],
    // no AT_RSEQ_*: entrystub's kernel is one without CONFIG_RSEQ (rseq is ENOSYS)
    [AT.NULL, 0],
  ];
  const words = 1 + argAddrs.length + 1 + envAddrs.length + 1 + auxv.length * 2;
  const sp = Math.floor((p - words * word) / 16) * 16; // STACK_ROUND
  const out = new Uint8Array(words * word);
  const dv = new DataView(out.buffer);
  let o = 0;
  const w = (v: number): void => {
    dv.setUint32(o, v >>> 0, true);
    if (word === 8) dv.setUint32(o + 4, Math.floor(v / 4294967296) >>> 0, true);
    o += word;
  };
  w(req.argv.length);
  for (const a of argAddrs) w(a);
  w(0);
  for (const e of envAddrs) w(e);
  w(0);
  for (const [k, v] of auxv) {
    w(k);
    w(v);
  }
  mem.poke(sp, out);
  mm.addVma(top - STACK_SIZE, top, prot, '[stack]');
  return { sp, auxv };
}
