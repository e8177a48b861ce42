/**
 * The walk-throughs (gdb-scripts/walk-*.gdb): each is run with the real gdb
 * against `entrystub serve`, with the serve options its header comment
 * gives, and what gdb prints is compared with test/gdb/expected/walk-*.out.
 *
 * Only what legitimately varies is normalized: the checkout directory, user
 * stack addresses (they depend on the environment and the program's path),
 * gdb's separate-debug-file lookup, and the process id in gdb's inferior
 * lines. Code addresses, symbols, source lines and register values are
 * compared exactly.
 *
 * Regenerate the expected files (then read them: they are what users see):
 *   UPDATE_EXPECTED=1 npx vitest run test/gdb/walkthroughs.test.ts
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HAVE_GDB, ROOT, SCRIPTS, gdbBatch, startStub } from './helpers.js';

const EXPECTED = path.join(ROOT, 'test', 'gdb', 'expected');
const UPDATE = process.env.UPDATE_EXPECTED === '1';

/** Each walk-through and the `entrystub serve` arguments it is written for (program paths relative to the project). */
const WALKS: [script: string, serve: string[]][] = [
  ['walk-zpoline.gdb', ['--entry', 'nommu', '--hook', 'zpoline', 'test/fixtures/bin/entry-probe']],
  ['walk-seccomp.gdb', ['--entry', 'nommu', '--hook', 'seccomp', 'test/fixtures/bin/entry-probe']],
  ['walk-native-sysret.gdb', ['--entry', 'native', 'test/fixtures/bin/entry-probe']],
  ['walk-native-iret.gdb', ['--entry', 'native']],
  ['walk-catch-syscall.gdb', ['--entry', 'native', 'test/fixtures/bin/entry-probe']],
  ['walk-signal.gdb', ['--entry', 'nommu', '--hook', 'zpoline']],
];

/** The serve options a walk-through's header gives (`npx entrystub serve ...`), with the defaults spelled out. */
function headerServeArgs(script: string): string[] {
  const text = fs.readFileSync(path.join(SCRIPTS, script), 'utf8');
  const m = /^#\s+npx entrystub serve(.*?)\s*&?\s*$/m.exec(text);
  if (!m) throw new Error(`${script}: no "npx entrystub serve" line in its header`);
  const args = m[1].trim().split(/\s+/).filter(Boolean);
  if (!args.includes('--entry')) args.unshift('--entry', 'nommu');
  if (args[args.indexOf('--entry') + 1] === 'nommu' && !args.includes('--hook')) args.splice(args.indexOf('--entry') + 2, 0, '--hook', 'zpoline');
  return args;
}

function normalize(out: string): string {
  return (
    out
      .split(ROOT + '/')
      .join('<ROOT>/')
      // user stack addresses (and values pointing into the stack): 0x7fff........, with or without gdb's zero padding
      .replace(/\b0x(0000)?7fff[0-9a-f]{8}\b/g, (_m, pad: string | undefined) => `0x${pad ?? ''}7fffXXXXXXXX`)
      // gdb looking for a separate debug file: depends on gdb's debug-file-directory
      .replace(/^Reading \/\S+\/\.build-id\/\S+\.debug from remote target\.\.\.\n/gm, '')
      .replace(/\(process \d+\)/g, '(process N)')
  );
}

async function walk(script: string, serve: string[]): Promise<string> {
  const stub = await startStub(serve);
  try {
    return await gdbBatch(stub.port, { scripts: [script], timeout: 30_000 });
  } finally {
    await stub.stop();
  }
}

describe.skipIf(!HAVE_GDB)('walk-throughs (gdb-scripts/walk-*.gdb) against their expected output', () => {
  it('every walk-*.gdb is listed here, with the serve options its header gives', () => {
    const files = fs.readdirSync(SCRIPTS).filter((f) => /^walk-.*\.gdb$/.test(f));
    expect(files.sort()).toEqual(WALKS.map(([s]) => s).sort());
    for (const [script, serve] of WALKS) expect([script, headerServeArgs(script)]).toEqual([script, serve]);
  });

  for (const [script, serve] of WALKS) {
    it(script, async () => {
      const out = normalize(await walk(script, serve));
      // a script that stopped half-way (an error, a hang killed by the timeout) is never a valid expectation
      expect(out).not.toMatch(/Error in sourced command file|Remote connection closed|KeyboardInterrupt/);
      expect(out).toMatch(/\[Inferior 1 \(process N\) exited normally\]\n$/);
      const file = path.join(EXPECTED, script.replace(/\.gdb$/, '.out'));
      if (UPDATE) {
        fs.mkdirSync(EXPECTED, { recursive: true });
        fs.writeFileSync(file, out);
        return;
      }
      if (!fs.existsSync(file)) throw new Error(`${path.relative(ROOT, file)} is missing: run with UPDATE_EXPECTED=1 to create it`);
      expect(out).toBe(fs.readFileSync(file, 'utf8'));
    });
  }
});
