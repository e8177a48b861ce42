/**
 * zpoline's sweep through its cache (src/entry/sweep-cache.ts): a cached
 * answer is the sweep's own, a damaged cache file can only ever make the
 * rewrite skip a site (never rewrite anything but a syscall), and a change
 * to any byte the sweep reads is another key.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Memory, PROT_EXEC, PROT_READ, PROT_USER } from '../src/cpu/memory.js';
import { lastKey, rewriteSyscallSites } from '../src/entry/zpoline.js';
import { SWEEPS_KEPT, cacheFile, useCacheDir } from '../src/entry/sweep-cache.js';
import { rng } from './helpers/fuzz.js';

const CODE = 0x400000, LEN = 0x3000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-sweep-cache-'));
afterAll(() => {
  useCacheDir(null);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Code-like bytes: random instructions' worth of bytes with syscall and sysenter pairs among them. */
function code(seed: number): Uint8Array {
  const r = rng(seed);
  const b = new Uint8Array(LEN - 0x800); // the last pages' tail is never written: zeros, as a segment's bss
  for (let k = 0; k < b.length; k++) b[k] = Math.floor(r() * 256);
  for (let k = 0; k < 60; k++) {
    const a = Math.floor(r() * (b.length - 2));
    b[a] = 0x0f;
    b[a + 1] = r() < 0.9 ? 0x05 : 0x34;
  }
  return b;
}

function memWith(bytes: Uint8Array): Memory {
  const mem = new Memory();
  mem.map(CODE, LEN, PROT_READ | PROT_EXEC | PROT_USER);
  mem.poke(CODE, bytes);
  return mem;
}

function image(mem: Memory): Buffer {
  const b = new Uint8Array(LEN);
  mem.peek(CODE, b);
  return Buffer.from(b);
}

describe("zpoline's sweep cache", () => {
  it('a cached answer (from the process, then from the file) rewrites what the sweep rewrites', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const bytes = code(seed);
      useCacheDir(null);
      const fresh = memWith(bytes);
      const sites = rewriteSyscallSites(fresh, [[CODE, CODE + LEN]]);
      expect(sites.length).toBeGreaterThan(0);
      useCacheDir(dir);
      const first = memWith(bytes); // a miss: swept, stored
      expect(rewriteSyscallSites(first, [[CODE, CODE + LEN]])).toEqual(sites);
      expect(fs.existsSync(cacheFile(lastKey)!)).toBe(true);
      const again = memWith(bytes); // from the process
      expect(rewriteSyscallSites(again, [[CODE, CODE + LEN]])).toEqual(sites);
      useCacheDir(dir); // a new process: from the file
      const fromFile = memWith(bytes);
      expect(rewriteSyscallSites(fromFile, [[CODE, CODE + LEN]])).toEqual(sites);
      expect(image(fromFile).equals(image(fresh))).toBe(true);
    }
  });

  it('a damaged cache file rewrites only true syscall pairs, and a file that does not parse is a miss', () => {
    const bytes = code(7);
    useCacheDir(null);
    const fresh = memWith(bytes);
    const sites = rewriteSyscallSites(fresh, [[CODE, CODE + LEN]]);
    useCacheDir(dir);
    rewriteSyscallSites(memWith(bytes), [[CODE, CODE + LEN]]);
    const file = cacheFile(lastKey)!;
    // every offset of the range, the true sites among them: only 0F 05 / 0F 34 pairs are rewritten
    fs.writeFileSync(file, JSON.stringify(Array.from({ length: LEN }, (_, k) => k)));
    useCacheDir(dir);
    const m = memWith(bytes);
    const got = rewriteSyscallSites(m, [[CODE, CODE + LEN]]);
    // (the sweep takes a prefixed syscall, 48 0F 05, at its first byte)
    for (const a of got) {
      const at = bytes.subarray(a - CODE, a - CODE + 15);
      const pair = at.findIndex((x, k) => x === 0x0f && (at[k + 1] === 0x05 || at[k + 1] === 0x34));
      expect(pair >= 0 && at.subarray(0, pair).every((x) => (x >= 0x40 && x <= 0x4f) || [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65].includes(x))).toBe(true);
    }
    expect(got).toEqual(expect.arrayContaining(sites));
    // not JSON, or not offsets: swept again
    for (const bad of ['{', '{"a":1}', '[-4]', '[1.5]']) {
      fs.writeFileSync(file, bad);
      useCacheDir(dir);
      const m2 = memWith(bytes);
      expect(rewriteSyscallSites(m2, [[CODE, CODE + LEN]])).toEqual(sites);
    }
  });

  it('a byte changed before the last syscall pair, or in the bytes just past it, is another key', () => {
    const bytes = code(9);
    useCacheDir(null);
    rewriteSyscallSites(memWith(bytes), [[CODE, CODE + LEN]]);
    const key = lastKey;
    let last = 0;
    for (let a = 0; a + 1 < bytes.length; a++) if (bytes[a] === 0x0f && (bytes[a + 1] === 0x05 || bytes[a + 1] === 0x34)) last = a;
    for (const at of [0, last >> 1, last + 2, last + 16]) {
      const b = bytes.slice();
      b[at] ^= 0x40;
      rewriteSyscallSites(memWith(b), [[CODE, CODE + LEN]]);
      if (at < last + 2 + 15) expect(lastKey).not.toBe(key);
      else expect(lastKey).toBe(key); // beyond what any instruction before the pair can read
    }
  });

  it('keeps the most recently used sweeps: a hit marks its file used, a store drops the least recently used', () => {
    const pruned = path.join(dir, 'pruned');
    const zp = path.join(pruned, 'zpoline');
    fs.mkdirSync(zp, { recursive: true });
    const old = (k: number) => path.join(zp, `${k.toString(16).padStart(64, '0')}.json`);
    for (let k = 0; k < SWEEPS_KEPT; k++) {
      fs.writeFileSync(old(k), '[]');
      const t = new Date(Date.now() - 86_400_000 - k * 1000); // old(0) the most recently used
      fs.utimesSync(old(k), t, t);
    }
    const bytes = code(11);
    useCacheDir(pruned);
    rewriteSyscallSites(memWith(bytes), [[CODE, CODE + LEN]]); // a miss: stored, and the oldest dropped
    const mine = cacheFile(lastKey)!;
    const t = new Date(Date.now() - 2 * 86_400_000); // older than every other
    fs.utimesSync(mine, t, t);
    useCacheDir(pruned); // a new process: a hit marks it used
    rewriteSyscallSites(memWith(bytes), [[CODE, CODE + LEN]]);
    expect(fs.statSync(mine).mtimeMs).toBeGreaterThan(Date.now() - 3_600_000);
    const names = fs.readdirSync(zp);
    expect(names).toHaveLength(SWEEPS_KEPT);
    expect(fs.existsSync(old(SWEEPS_KEPT - 1))).toBe(false);
    expect(fs.existsSync(old(SWEEPS_KEPT - 2))).toBe(true);
  });
});
