/**
 * Copy-on-write address spaces (src/cpu/memory.ts): what fork's child and
 * parent may see of each other's memory, and what a fork costs. The
 * expected values are the semantics of fork(2): after it, each side's
 * writes are its own; MAP_SHARED pages and the guest kernel's pages are one.
 */
import { describe, expect, it } from 'vitest';
import { CPU } from '../src/cpu/cpu.js';
import { cloneCpu } from '../src/cpu/context.js';
import { Memory, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_USER, PROT_WRITE } from '../src/cpu/memory.js';
import { BlockCache, runBlocks } from '../src/cpu/run.js';
import { PhysMem } from '../src/kernel/physmem.js';

const RW = PROT_READ | PROT_WRITE | PROT_USER;

function counted(): { mem: Memory; phys: PhysMem } {
  const phys = new PhysMem();
  const mem = new Memory();
  phys.attach(mem, null);
  return { mem, phys };
}

describe('Memory.fork: copy on write', () => {
  it('each side sees only its own writes after the fork', () => {
    const { mem: parent } = counted();
    parent.map(0x10000, 2 * PAGE_SIZE, RW);
    parent.write32(0x10000, 111);
    parent.write32(0x11000, 222);
    const child = parent.fork();
    expect(child.read32(0x10000)).toBe(111);
    child.write32(0x10000, 333);
    parent.write32(0x11000, 444);
    expect(parent.read32(0x10000)).toBe(111);
    expect(child.read32(0x10000)).toBe(333);
    expect(parent.read32(0x11000)).toBe(444);
    expect(child.read32(0x11000)).toBe(222);
  });

  it('a page read into the TLB before the other side writes keeps its old bytes', () => {
    const parent = new Memory();
    parent.map(0x10000, PAGE_SIZE, RW);
    parent.write8(0x10000, 1);
    const child = parent.fork();
    expect(child.read8(0x10000)).toBe(1); // child's read TLB holds the shared page
    expect(parent.read8(0x10000)).toBe(1);
    parent.write8(0x10000, 2); // the parent copies
    expect(child.read8(0x10000)).toBe(1);
    child.write8(0x10000, 3); // the child is the only owner now: no copy
    expect(child.read8(0x10000)).toBe(3);
    expect(parent.read8(0x10000)).toBe(2);
  });

  it('debugger and loader writes (poke) copy too', () => {
    const parent = new Memory();
    parent.map(0x10000, PAGE_SIZE, RW);
    const child = parent.fork();
    parent.write8(0x10000, 7);
    child.poke(0x10000, Uint8Array.of(9));
    expect(parent.read8(0x10000)).toBe(7);
    expect(child.read8(0x10000)).toBe(9);
  });

  it('mprotect in one address space leaves the other alone', () => {
    const parent = new Memory();
    parent.map(0x10000, PAGE_SIZE, RW);
    parent.write8(0x10000, 5);
    const child = parent.fork();
    child.protect(0x10000, PAGE_SIZE, PROT_READ | PROT_USER);
    expect(() => child.write8(0x10000, 1)).toThrow();
    parent.write8(0x10000, 6);
    expect(child.read8(0x10000)).toBe(5);
  });

  it('MAP_SHARED pages stay one page for both', () => {
    const parent = new Memory();
    parent.map(0x10000, PAGE_SIZE, RW);
    parent.shareRange(0x10000, PAGE_SIZE);
    const child = parent.fork();
    child.write32(0x10000, 42);
    expect(parent.read32(0x10000)).toBe(42);
  });

  it('the global store is one set of pages for every address space, never copied', () => {
    const store = new Memory();
    store.map(-0x20000000, PAGE_SIZE, RW);
    const a = new Memory();
    a.shareGlobal(store);
    const b = a.fork();
    a.write32(-0x20000000, 1234);
    expect(b.read32(-0x20000000)).toBe(1234);
    b.write32(-0x20000000, 99);
    expect(a.read32(-0x20000000)).toBe(99);
    expect(a.isMapped(-0x20000000)).toBe(true);
    expect(a.pageCount).toBe(0);
  });

  it('a fork counts no page twice, and each page is freed once, by its last owner', () => {
    const { mem: parent, phys } = counted();
    parent.map(0x10000, 256 * PAGE_SIZE, RW);
    for (let k = 0; k < 256; k++) parent.write8(0x10000 + k * PAGE_SIZE, k);
    expect(phys.pages).toBe(256);
    const children = Array.from({ length: 10 }, () => parent.fork());
    expect(phys.pages).toBe(256);
    children[0].write8(0x10000, 1);
    expect(phys.pages).toBe(257);
    for (const c of children) c.release();
    expect(phys.pages).toBe(256);
    parent.write8(0x10000, 2); // the parent's again alone: written in place
    expect(phys.pages).toBe(256);
    parent.unmap(0x10000, 256 * PAGE_SIZE);
    expect(phys.pages).toBe(0);
  });

  it('a fork costs a page table per 2 MiB, not a slot per page', () => {
    const parent = new Memory();
    parent.map(0x10000000, 64 * 1024 * 1024, RW);
    for (let a = 0x10000000; a < 0x14000000; a += PAGE_SIZE) parent.write8(a, 1);
    const t0 = performance.now();
    const children = Array.from({ length: 100 }, () => parent.fork());
    const ms = performance.now() - t0;
    // 100 forks of 16384 touched pages: were slots copied, this would take seconds
    expect(ms).toBeLessThan(500);
    children[50].write8(0x12000000, 9);
    expect(parent.read8(0x12000000)).toBe(1);
    expect(children[49].read8(0x12000000)).toBe(1);
    expect(children[50].read8(0x12000000)).toBe(9);
  });

  it('code in a shared page: each side runs its own copy after writing it', () => {
    // mov eax, imm32 ; vmcall  -- the parent rewrites the immediate after the fork
    const parent = new Memory();
    parent.map(0x400000, PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC | PROT_USER);
    parent.poke(0x400000, Uint8Array.of(0xb8, 1, 0, 0, 0, 0x0f, 0x01, 0xc1));
    const cpu = new CPU(parent);
    cpu.onTrap = (c) => {
      c.stopRequested = true;
    };
    const pblocks = new BlockCache(parent);
    cpu.rip = 0x400000;
    runBlocks(cpu, pblocks, 10);
    expect(cpu.rl[0]).toBe(1);
    const childMem = parent.fork();
    const child = cloneCpu(cpu, childMem);
    const cblocks = pblocks.fork(childMem, false);
    parent.poke(0x400001, Uint8Array.of(2));
    for (const [c, b] of [[cpu, pblocks], [child, cblocks]] as const) {
      c.rip = 0x400000;
      c.stopRequested = false;
      runBlocks(c, b, 10);
    }
    expect(cpu.rl[0]).toBe(2);
    expect(child.rl[0]).toBe(1);
  });
});
