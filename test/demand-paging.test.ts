/**
 * Demand paging of file mappings (Memory.mapFile, src/kernel/filepages.ts):
 * a page is read from its file when first touched, and until then costs
 * nothing. The expected bytes are the file's, read here with node:fs.
 * test/fixtures/src/demandmap.c checks the same against a native run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Cloner } from '../src/cpu/clone.js';
import { Memory, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_USER, PROT_WRITE } from '../src/cpu/memory.js';
import { CpuFault } from '../src/cpu/fault.js';
import { filePages } from '../src/kernel/filepages.js';
import { PhysMem } from '../src/kernel/physmem.js';
import { rewriteSyscallSites } from '../src/entry/zpoline.js';

const R = PROT_READ | PROT_USER, RW = R | PROT_WRITE, RX = R | PROT_EXEC;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'demand-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A file of n pages and `extra` bytes of a pattern, and a page source of it. */
function file(n: number, extra = 0): { bytes: Uint8Array; src: NonNullable<ReturnType<typeof filePages>> } {
  const bytes = new Uint8Array(n * PAGE_SIZE + extra).map((_, i) => (i * 7 + (i >> 12) * 13 + 1) & 255);
  const p = path.join(dir, `f${n}-${extra}-${Math.random()}`);
  fs.writeFileSync(p, bytes);
  const fd = fs.openSync(p, 'r');
  const st = fs.fstatSync(fd);
  const src = filePages(fd, st.dev, st.ino)!;
  fs.closeSync(fd);
  expect(src).not.toBeNull();
  return { bytes, src };
}

function counted(): { mem: Memory; phys: PhysMem } {
  const phys = new PhysMem();
  const mem = new Memory();
  phys.attach(mem, null);
  return { mem, phys };
}

const A = 0x400000;

describe('file mappings are read at first touch', () => {
  it('mapping costs no page; each access makes only the page it touches, with the file bytes at its offset', () => {
    const { mem, phys } = counted();
    const { bytes, src } = file(8);
    mem.mapFile(A, 6 * PAGE_SIZE, R, src, 2 * PAGE_SIZE);
    expect(phys.pages).toBe(0);
    expect(mem.read8(A + 3 * PAGE_SIZE + 5)).toBe(bytes[5 * PAGE_SIZE + 5]);
    expect(mem.read32(A + 17)).toBe(new DataView(bytes.buffer).getInt32(2 * PAGE_SIZE + 17, true));
    expect(phys.pages).toBe(2);
    expect(mem.pageNumbers()).toEqual([A / PAGE_SIZE, A / PAGE_SIZE + 3]);
  });

  it('the partial last page reads zeros past the end of the file', () => {
    const { mem } = counted();
    const { bytes, src } = file(1, 100);
    mem.mapFile(A, 2 * PAGE_SIZE, R, src, 0);
    expect(mem.readBytes(A + PAGE_SIZE, PAGE_SIZE)).toEqual(Uint8Array.from([...bytes.subarray(PAGE_SIZE), ...new Uint8Array(PAGE_SIZE - 100)]));
  });

  it('a debugger read (peek) sees the file without making a page; its write (poke) makes the page from the file', () => {
    const { mem, phys } = counted();
    const { bytes, src } = file(4);
    mem.mapFile(A, 4 * PAGE_SIZE, RX, src, 0);
    const out = new Uint8Array(2 * PAGE_SIZE);
    expect(mem.peek(A + PAGE_SIZE + 10, out)).toBe(out.length);
    expect(out).toEqual(bytes.subarray(PAGE_SIZE + 10, 3 * PAGE_SIZE + 10));
    expect(phys.pages).toBe(0);
    mem.poke(A + 2 * PAGE_SIZE + 1, Uint8Array.of(0xcc));
    expect(phys.pages).toBe(1);
    const page = new Uint8Array(PAGE_SIZE);
    mem.peek(A + 2 * PAGE_SIZE, page);
    const want = bytes.slice(2 * PAGE_SIZE, 3 * PAGE_SIZE);
    want[1] = 0xcc;
    expect(page).toEqual(want);
  });

  it('mprotect and a map over part of it split the mapping, each piece reading its own offset', () => {
    const { mem } = counted();
    const { bytes, src } = file(6);
    mem.mapFile(A, 6 * PAGE_SIZE, R, src, 0);
    mem.protect(A + 2 * PAGE_SIZE, 2 * PAGE_SIZE, RW);
    mem.map(A + 4 * PAGE_SIZE, 4 * PAGE_SIZE, RW);
    expect(mem.protAt(A)).toBe(R);
    expect(mem.protAt(A + 3 * PAGE_SIZE)).toBe(RW);
    for (let k = 0; k < 6; k++) expect(mem.read8(A + k * PAGE_SIZE + 9)).toBe(bytes[k * PAGE_SIZE + 9]);
    expect(mem.read8(A + 7 * PAGE_SIZE)).toBe(0); // beyond the file mapping: anonymous
    expect(() => mem.write8(A + PAGE_SIZE, 1)).toThrow(CpuFault);
    mem.write8(A + 3 * PAGE_SIZE, 1);
    expect(mem.read8(A + 3 * PAGE_SIZE)).toBe(1);
  });

  it('after a fork, each side makes its own pages from the file, and a write is its own', () => {
    const { mem: parent } = counted();
    const { bytes, src } = file(3);
    parent.mapFile(A, 3 * PAGE_SIZE, RW, src, 0);
    parent.write8(A, 0xaa);
    const child = parent.fork();
    child.write8(A + PAGE_SIZE, 0xbb);
    expect(parent.read8(A + PAGE_SIZE)).toBe(bytes[PAGE_SIZE]);
    expect(child.read8(A)).toBe(0xaa);
    expect(child.read8(A + 2 * PAGE_SIZE + 3)).toBe(bytes[2 * PAGE_SIZE + 3]);
    expect(parent.read8(A + 2 * PAGE_SIZE + 3)).toBe(bytes[2 * PAGE_SIZE + 3]);
  });

  it('a restored snapshot reads the untouched pages from the file too', () => {
    const { mem } = counted();
    const { bytes, src } = file(3);
    mem.mapFile(A, 3 * PAGE_SIZE, RW, src, 0);
    mem.write8(A, 5);
    const snap = new Cloner('snapshot').clone(mem);
    mem.write8(A + PAGE_SIZE, 6);
    const back = new Cloner('restore').clone(snap);
    expect(back.read8(A)).toBe(5);
    expect(back.read8(A + PAGE_SIZE)).toBe(bytes[PAGE_SIZE]);
    expect(back.read8(A + 2 * PAGE_SIZE + 1)).toBe(bytes[2 * PAGE_SIZE + 1]);
  });

  it('the memory limit is met at a page\'s first touch, not at the mapping', () => {
    const phys = new PhysMem();
    phys.limit = 2 * PAGE_SIZE;
    const mem = new Memory();
    let oom = 0;
    phys.attach(mem, { mm: { touched: () => {} }, oom: () => oom++ });
    const { src } = file(8);
    mem.mapFile(A, 8 * PAGE_SIZE, R, src, 0);
    mem.read8(A);
    mem.read8(A + PAGE_SIZE);
    expect(oom).toBe(0);
    mem.read8(A + 5 * PAGE_SIZE);
    expect(oom).toBe(1);
  });

  it("zpoline's sweep finds a site in an untouched page and makes only the page it rewrites", () => {
    const { mem, phys } = counted();
    const code = new Uint8Array(4 * PAGE_SIZE).fill(0x90); // nops
    code.set([0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0xc3], 2 * PAGE_SIZE + 40); // mov $39,%eax; syscall; ret
    const p = path.join(dir, 'code');
    fs.writeFileSync(p, code);
    const fd = fs.openSync(p, 'r');
    const st = fs.fstatSync(fd);
    const src = filePages(fd, st.dev, st.ino)!;
    fs.closeSync(fd);
    mem.mapFile(A, 4 * PAGE_SIZE, RX, src, 0);
    expect(rewriteSyscallSites(mem, [[A, A + 4 * PAGE_SIZE]])).toEqual([A + 2 * PAGE_SIZE + 45]);
    expect(mem.pageNumbers()).toEqual([A / PAGE_SIZE + 2]);
    expect(phys.pages).toBe(1);
    expect(mem.read8(A + 2 * PAGE_SIZE + 45)).toBe(0xff);
    expect(mem.read8(A + 2 * PAGE_SIZE + 46)).toBe(0xd0);
  });
});
