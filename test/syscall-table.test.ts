/**
 * The README's table of every syscall is generated from the handler table
 * (src/kernel/syscalls.ts syscallSupport: the handlers, and the note written
 * next to each one that is partial): this test fails when the two disagree.
 * To rewrite the README's table after changing the code:
 *
 *   UPDATE_SYSCALL_TABLE=1 npx vitest run test/syscall-table.test.ts
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { syscallSupport, type SyscallSupport } from '../src/kernel/syscalls.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const README = path.join(ROOT, 'README.md');
const BEGIN = '<!-- syscall-table: generated from src/kernel/syscalls.ts (syscallSupport); test/syscall-table.test.ts checks it -->';
const END = '<!-- /syscall-table -->';

const WORDS: Record<SyscallSupport['support'], string> = {
  yes: 'yes',
  partly: 'partly',
  enosys: 'ENOSYS',
  'linux-enosys': 'ENOSYS, as Linux',
  no: 'ENOSYS, not yet',
};

function render(rows: SyscallSupport[]): string {
  const count = (s: SyscallSupport['support']) => rows.filter((r) => r.support === s).length;
  const lines = [
    BEGIN,
    `<details><summary>All ${rows.length} syscalls of syscall_64.tbl: ${count('yes')} as Linux, ${count('partly')} partly, ` +
      `${count('enosys') + count('no')} ENOSYS (entrystub lacks them), ${count('linux-enosys')} ENOSYS as on Linux</summary>`,
    '',
    '| nr | syscall | entrystub | what is missing |',
    '|---:|---|---|---|',
    ...rows.map((r) => `| ${r.nr} | ${r.name} | ${WORDS[r.support]} | ${r.note.replace(/\|/g, '\\|')} |`),
    '',
    '</details>',
    END,
  ];
  return lines.join('\n');
}

describe('the README\'s syscall table', () => {
  const rows = syscallSupport();

  it('lists every syscall of src/guest/syscall_64.tbl, once, in order', () => {
    const tbl = fs
      .readFileSync(path.join(ROOT, 'src', 'guest', 'syscall_64.tbl'), 'utf8')
      .split('\n')
      .filter((l) => /^\d+\s/.test(l))
      .map((l) => l.split(/\s+/).slice(0, 2).join(' '));
    expect(rows.map((r) => `${r.nr} ${r.name}`)).toEqual(tbl);
  });

  it('says what a partial syscall lacks, and only then', () => {
    for (const r of rows) expect(r.note !== '', `${r.nr} ${r.name}`).toBe(r.support === 'partly' || r.support === 'enosys');
  });

  it('is what the code says', () => {
    const text = fs.readFileSync(README, 'utf8');
    const a = text.indexOf(BEGIN), b = text.indexOf(END);
    const want = render(rows);
    if (process.env.UPDATE_SYSCALL_TABLE) {
      if (a < 0 || b < 0) throw new Error(`README.md has no ${BEGIN} ... ${END} section to rewrite`);
      fs.writeFileSync(README, text.slice(0, a) + want + text.slice(b + END.length));
      return;
    }
    expect(a, 'README.md lacks the syscall table section').toBeGreaterThanOrEqual(0);
    expect(text.slice(a, b + END.length)).toBe(want);
  });
});
