/**
 * The compat-mode (32-bit) decoder checked against iced-x86 in 32-bit mode,
 * as test/decode.test.ts checks the 64-bit one: every instruction of Debian's
 * i386 busybox-static by a linear sweep, and every opcode-table row in
 * 32-bit encodings (40-4F are inc/dec there, not REX). The i386 fixtures
 * (test/fixtures/bin/*-i386) are swept by decode.test.ts with the others.
 */
import { describe, it, expect } from 'vitest';
import { sweepEncodings, sweepFile, type Sweep } from './helpers/iced.js';
import { busybox32 } from './helpers/i386.js';

/** Every opcode of the four maps under each mandatory prefix, ModRM.reg 0-7 in a register and a memory form. */
function sweepTables(): Sweep {
  const encodings: number[][] = [];
  const escapes = [[], [0x0f], [0x0f, 0x38], [0x0f, 0x3a]];
  const prefixes = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3];
  for (let map = 0; map < 4; map++)
    for (let op = 0; op < 256; op++) {
      if (map === 0 && (op === 0x0f || prefixes.includes(op))) continue;
      if (map === 1 && (op === 0x38 || op === 0x3a)) continue;
      const modrms: number[] = [];
      if (map === 0 && op >= 0xd8 && op <= 0xdf) for (let m = 0; m < 256; m++) modrms.push(m);
      else for (let reg = 0; reg < 8; reg++) modrms.push(0xc1 | (reg << 3), 0x40 | (reg << 3) | 3);
      for (const pfx of [[], [0x66], [0xf3], [0xf2]]) for (const m of modrms) encodings.push([...pfx, ...escapes[map], op, m, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]);
    }
  return sweepEncodings(encodings, 32);
}

describe('compat-mode decoder agrees with iced-x86 (32-bit)', () => {
  it('on every row of the opcode tables', () => {
    const r = sweepTables();
    expect(r.mismatches).toEqual([]);
    expect(r.notUD).toEqual([]);
    expect(Object.fromEntries(r.missing)).toEqual({});
    expect(r.checked).toBeGreaterThan(10000);
  });

  it("busybox-static:i386's code", () => {
    const r = sweepFile(busybox32());
    expect(r.is32).toBe(true);
    expect(r.mismatches).toEqual([]);
    expect(r.notUD).toEqual([]);
    expect(Object.fromEntries(r.missing)).toEqual({});
    expect(r.checked).toBeGreaterThan(100000);
  });
});
