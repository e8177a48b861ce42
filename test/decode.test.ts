/**
 * The decoder checked against iced-x86 (a complete x86 decoder) over real
 * code: every instruction in the executable segments of busybox and of the
 * fixtures, decoded by a linear sweep, x87 included.
 *
 * Wherever our decoder accepts an instruction it must agree with iced on the
 * length, the mnemonic (the opcode table's, compared with iced's), and every
 * operand: registers, memory base/index/scale/displacement (RIP-relative ones
 * resolved), immediates and branch targets, as read from the fields the
 * chosen handler uses (opcodes/operands.ts). Wherever it rejects one, it must
 * raise #UD, as for the AVX and other extensions our CPUID does not
 * advertise; and every instruction of the ISA classes it does advertise must
 * be accepted, except those a user program cannot execute or that are left
 * out on purpose (EXEMPT).
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sweepEncodings, sweepFile, type Sweep } from './helpers/iced.js';
import { ROOT, busyboxPath } from './helpers/cases.js';

/** Debian's busybox-static: code no one here wrote (tools.ts: a missing one fails, unless opted out). */
const BUSYBOX = busyboxPath();

/**
 * Every opcode of the four maps under each mandatory prefix and REX.W/R/B,
 * with ModRM.reg 0-7 in a register and a memory form (all 256 ModRM bytes for
 * the x87 escapes), each encoding in its own 16-byte slot followed by
 * immediate bytes: the rows real code never reaches are checked too.
 */
function sweepTables(): Sweep {
  const encodings: number[][] = [];
  const escapes = [[], [0x0f], [0x0f, 0x38], [0x0f, 0x3a]];
  for (let map = 0; map < 4; map++)
    for (let op = 0; op < 256; op++) {
      if (map === 0 && (op === 0x0f || isPrefix(op))) continue;
      if (map === 1 && (op === 0x38 || op === 0x3a)) continue;
      const modrms: number[] = [];
      if (map === 0 && op >= 0xd8 && op <= 0xdf) for (let m = 0; m < 256; m++) modrms.push(m);
      else for (let reg = 0; reg < 8; reg++) modrms.push(0xc1 | (reg << 3), 0x40 | (reg << 3) | 3);
      for (const pfx of [[], [0x66], [0xf3], [0xf2]])
        for (const rex of [[], [0x48], [0x45]])
          for (const m of modrms) encodings.push([...pfx, ...rex, ...escapes[map], op, m, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]);
    }
  return sweepEncodings(encodings, 64);
}

function isPrefix(op: number): boolean {
  return (op & 0xf0) === 0x40 || [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3].includes(op);
}

describe('decoder agrees with iced-x86', () => {
  it('on every row of the opcode tables', () => {
    const r = sweepTables();
    expect(r.mismatches).toEqual([]);
    expect(r.notUD).toEqual([]);
    expect(Object.fromEntries(r.missing)).toEqual({});
    expect(r.checked).toBeGreaterThan(10000);
  });

  const files = [...(BUSYBOX ? [BUSYBOX] : []), path.join(ROOT, 'examples/example-musl'), ...fs.readdirSync(path.join(ROOT, 'test/fixtures/bin'), { recursive: true, encoding: 'utf8' }).map((f) => path.join(ROOT, 'test/fixtures/bin', f)).filter((f) => fs.statSync(f).isFile())];
  for (const file of files) {
    it(path.basename(file), () => {
      const r = sweepFile(file);
      expect(r.mismatches).toEqual([]);
      expect(r.notUD).toEqual([]);
      expect(Object.fromEntries(r.missing)).toEqual({});
      expect(r.checked).toBeGreaterThan(10);
    });
  }
});
