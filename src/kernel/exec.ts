/**
 * binfmt_elf for the static programs loader.ts maps: a program image in an
 * address space, its initial stack and auxiliary vector, and its memory map.
 * One function for the first program (Machine.load) and for execve.
 */
import { randomBytes } from 'node:crypto';
import { PROT_READ, PROT_WRITE, type Memory } from '../cpu/memory.js';
import { buildStack, loadElf, STACK_SIZE, STACK_TOP, type LoadedImage } from './loader.js';
import type { MM } from './mm.js';

export interface ExecArgs {
  argv: string[];
  envp: string[];
  /** AT_EXECFN: the path as execve was given it. */
  execfn: string;
  /** Ranges the program may not be loaded over (the guest kernel's). */
  reserved: [number, number][];
  uid: number;
  euid: number;
  gid: number;
  egid: number;
}

/** Load the program (ELF bytes `data`) into mem and build its stack: the image and the initial RSP. Throws ExecError. */
export function execImage(mem: Memory, mm: MM, data: Uint8Array, name: string, a: ExecArgs): { img: LoadedImage; sp: number } {
  const img = loadElf(mem, data, name, a.reserved);
  const sp = buildStack(mem, img, {
    argv: a.argv,
    envp: a.envp,
    execfn: a.execfn,
    uid: a.uid,
    euid: a.euid,
    gid: a.gid,
    egid: a.egid,
    hwcap: 0x178bfbff,
    random: randomBytes(16),
    platform: 'x86_64',
  });
  for (const [s, e] of a.reserved) mm.reserveForKernel(s, e);
  for (const s of img.segments) mm.addVma(s.start, s.end, s.prot, 'elf');
  mm.setBrkStart(img.brk);
  mm.addVma(STACK_TOP - STACK_SIZE, STACK_TOP, PROT_READ | PROT_WRITE, '[stack]');
  return { img, sp };
}
