/**
 * The READMEs' examples are real (README.md's, and gdb-scripts/README.md's
 * for the gdb scripts): every fenced block preceded by a
 * `<!-- readme-test: KIND [SESSION] -->` comment is run here and the output it
 * shows must appear in what the commands really print, line by line and in
 * order (the README may leave lines out; a line `...` marks where it does,
 * and `...` inside a line stands for any text).
 *
 *   shell          `$ entrystub ARGS` lines, each followed by its output
 *                  (stdout and stderr as a terminal shows them); run as
 *                  `node dist/bin/entrystub.cjs ARGS` (package.json bin).
 *   serve SESSION  `$ entrystub serve ARGS` and what the stub prints; the
 *                  stub the SESSION's debugger blocks connect to.
 *   gdb SESSION    an optional `$ gdb ... -ex 'CMD'` line, then `(gdb) CMD`
 *                  lines each followed by its output. All gdb blocks of a
 *                  session are one gdb run, in README order. A backtrace
 *                  (`bt`) is shown whole: every frame, and why gdb stopped.
 *   lldb SESSION   `$ lldb FILE`, then `(lldb) CMD` lines and output.
 *   file PATH      the block is the content of the repository file PATH.
 *   entry-table    the table of entry models: each row's instruction count
 *                  for a getpid is what `entrystub trace --path` reports.
 *
 * What legitimately varies is normalized on both sides: stack addresses
 * (the initial stack depends on the environment's size), the stub's port,
 * runs of blanks. Code addresses, pids and instruction counts of a path are
 * deterministic and compared as they are.
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, ROOT, gdbBatch, runMerged, startStub, type RunningStub } from './gdb/helpers.js';
import { need } from './helpers/tools.js';

const HAVE_GDB = need('gdb') !== null;
const HAVE_LLDB = need('lldb') !== null;

/** The documents whose marked blocks are run; the first is the project's README. */
const DOCS = ['README.md', 'gdb-scripts/README.md'];
const text = (doc: string) => fs.readFileSync(path.join(ROOT, doc), 'utf8');
const README = text('README.md');

interface Block {
  /** the document it is in, for messages and sessions */
  doc: string;
  kind: string;
  arg: string;
  lines: string[];
  /** 1-based line of the block's first content line in its document, for messages. */
  at: number;
}

/** Every `<!-- readme-test: ... -->` marker and the fenced block after it. */
function blocks(doc: string): Block[] {
  const lines = text(doc).split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^<!--\s*readme-test:\s*(\S+)\s*(.*?)\s*-->\s*$/.exec(lines[i]);
    if (!m) continue;
    let j = i + 1;
    while (j < lines.length && lines[j].trim() === '') j++;
    if (m[1] === 'entry-table') {
      // a markdown table, not a fenced block
      const rows: string[] = [];
      while (j < lines.length && lines[j].startsWith('|')) rows.push(lines[j++]);
      out.push({ doc, kind: m[1], arg: m[2], lines: rows, at: i + 2 });
      continue;
    }
    const fence = /^(```+|~~~+)/.exec(lines[j] ?? '');
    if (!fence) throw new Error(`${doc}:${i + 1}: readme-test marker not followed by a fenced block`);
    const body: string[] = [];
    let k = j + 1;
    for (; k < lines.length && !lines[k].startsWith(fence[1]); k++) body.push(lines[k]);
    if (k >= lines.length) throw new Error(`${doc}:${j + 1}: unterminated fence`);
    out.push({ doc, kind: m[1], arg: m[2], lines: body, at: j + 2 });
    i = k;
  }
  return out;
}

const ALL = DOCS.flatMap(blocks);

/** Stack addresses (0x7fff..., also zero-padded) and the stub's port vary; blanks are not significant. */
function normalize(s: string): string {
  return s
    .replace(/0x(?:0000)?7fff[0-9a-f]{8}\b/g, '0x7fff<stack>')
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT')
    .replace(/\s+/g, ' ')
    .trim();
}

function lineMatcher(expected: string): RegExp {
  const parts = normalize(expected).split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

/**
 * The expected lines (README) appear in the actual output in order; `...`
 * lines are only markers. Returns a message describing the first miss.
 */
function missing(expected: string[], actual: string): string | null {
  const got = actual.split('\n').map(normalize);
  let pos = 0;
  for (const e of expected) {
    if (e.trim() === '' || e.trim() === '...') continue;
    const re = lineMatcher(e);
    let k = pos;
    while (k < got.length && !re.test(got[k])) k++;
    if (k === got.length) return `README line not found (in order):\n  ${e}\nin the real output:\n${actual.replace(/^/gm, '  | ')}`;
    pos = k + 1;
  }
  return null;
}

/** A command and the output the README shows for it. */
interface Step {
  cmd: string;
  expect: string[];
  /** where in its document, for messages */
  at: string;
}

/** Split a block into `prompt CMD` steps; lines before the first prompt belong to `head`. */
function steps(b: Block, prompt: RegExp): { head: string[]; steps: Step[] } {
  const head: string[] = [];
  const st: Step[] = [];
  b.lines.forEach((line, k) => {
    const m = prompt.exec(line);
    if (m) st.push({ cmd: m[1].trim(), expect: [], at: `${b.doc}:${b.at + k}` });
    else if (st.length) st[st.length - 1].expect.push(line);
    else head.push(line);
  });
  return { head, steps: st };
}

/** `entrystub ARGS` -> ARGS, splitting on blanks and honouring '...' quotes; a trailing `# comment` is dropped. */
function words(cmd: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(cmd))) {
    if (m[3]?.startsWith('#')) break;
    out.push(m[1] ?? m[2] ?? m[3]);
  }
  return out;
}

function entrystubArgs(s: Step): string[] {
  // `npx entrystub` is the same command run from a checkout (the README's tour writes it so)
  const w = words(s.cmd.replace(/^npx /, ''));
  if (w[0] !== 'entrystub') throw new Error(`${s.at}: only \`entrystub ...\` commands are run: ${s.cmd}`);
  return w.slice(1);
}

/**
 * `serve` arguments for startStub. startStub chooses `--entry direct` unless
 * told otherwise; the README's default is the CLI's (nommu), so say it. Options
 * go before the program: everything after it is the program's.
 */
function serveArgs(args: string[]): string[] {
  const a = args.slice(1);
  return a.includes('--entry') ? a : ['--entry', 'nommu', ...a];
}

const fail = (msg: string | null) => {
  if (msg) expect.fail(msg);
};

describe(DOCS.join(' and '), () => {
  it('README.md starts with the two setup commands', () => {
    const code = README.split('\n').filter((l) => l.startsWith('    '));
    // set up, install the command (it works from any directory: test/install.test.ts), run the main job
    expect(code[0]).toMatch(/^ {4}npm install && npm install -g \. && entrystub trace --path(\s+#.*)?$/);
    expect(code[1]).toMatch(/^ {4}npm test(\s+#.*)?$/);
    // and the README says what it runs
    const kinds = new Set(ALL.map((b) => b.kind));
    for (const k of ['shell', 'serve', 'gdb', 'lldb', 'file', 'entry-table']) expect(kinds, `no readme-test block of kind ${k}`).toContain(k);
    const serves = ALL.filter((b) => b.kind === 'serve').map((b) => b.lines[0]);
    expect(serves.some((l) => /--entry native/.test(l))).toBe(true);
    expect(serves.some((l) => !/--entry/.test(l))).toBe(true);
  });

  describe('shell blocks', () => {
    for (const b of ALL.filter((x) => x.kind === 'shell')) {
      for (const s of steps(b, /^\$ (.*)$/).steps) {
        it(`${s.at}: ${s.cmd}`, async () => {
          const out = await runMerged(process.execPath, [CLI, ...entrystubArgs(s)], 30_000);
          fail(missing(s.expect, out));
        });
      }
    }
  });

  it('file blocks are the files they show', () => {
    for (const b of ALL.filter((x) => x.kind === 'file')) {
      const file = fs.readFileSync(path.join(ROOT, b.arg), 'utf8');
      const shown = b.lines.join('\n');
      if (b.arg.endsWith('.json')) expect(JSON.parse(shown), `${b.doc}:${b.at}`).toEqual(JSON.parse(file));
      else expect(shown.trim()).toBe(file.trim());
    }
  });

  it('the entry table: instructions per getpid, as `trace --path` counts them', async () => {
    const table = ALL.find((x) => x.kind === 'entry-table')!;
    const rows = table.lines.slice(2).map((r) => r.split('|').slice(1, -1).map((c) => c.trim()));
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const row of rows) {
      const [entry, hook] = [...row[0].matchAll(/`([a-z]+)`/g)].map((m) => m[1]);
      const want = Number(/^\d+/.exec(row[row.length - 1])![0]);
      const opts = entry === 'nommu' ? ['--entry', 'nommu', '--hook', hook] : ['--entry', entry];
      const out = await runMerged(process.execPath, [CLI, 'trace', '--path', ...opts], 30_000);
      const m = /^getpid\(\) = \d+\n(?: {2}↳ .*; (\d+) instructions\n)?/m.exec(out);
      expect(m, `${row[0]}: no getpid in\n${out}`).not.toBeNull();
      // the direct model has no path: the host handles the one syscall instruction in place
      expect(m![1] === undefined ? 1 : Number(m![1]), row[0]).toBe(want);
    }
  });

  // sessions: a stub and the debugger blocks that talk to it
  const sessions = new Map<string, Block[]>();
  for (const b of ALL.filter((x) => ['serve', 'gdb', 'lldb'].includes(x.kind))) {
    if (!b.arg) throw new Error(`${b.doc}:${b.at}: ${b.kind} block without a session name`);
    const key = `${b.doc} ${b.arg}`;
    sessions.set(key, [...(sessions.get(key) ?? []), b]);
  }

  for (const [name, bs] of sessions) {
    const serve = bs.filter((b) => b.kind === 'serve');
    const dbg = bs.filter((b) => b.kind !== 'serve');
    const kind = dbg[0]?.kind;
    const skip = kind === 'gdb' ? !HAVE_GDB : !HAVE_LLDB;
    it.skipIf(skip)(`session ${name}: ${serve[0]?.lines[0] ?? '(no serve block)'}, then ${kind}`, async () => {
      expect(serve, `session ${name}: exactly one serve block`).toHaveLength(1);
      expect(dbg.length, `session ${name}: debugger blocks`).toBeGreaterThan(0);
      expect(new Set(dbg.map((b) => b.kind)).size, `session ${name}: one debugger`).toBe(1);
      const sv = steps(serve[0], /^\$ (.*)$/).steps;
      expect(sv).toHaveLength(1);
      const args = entrystubArgs(sv[0]);
      expect(args[0]).toBe('serve');
      const stub: RunningStub = await startStub(serveArgs(args));
      try {
        if (kind === 'gdb') await runGdb(dbg, stub.port);
        else await runLldb(dbg, stub.port);
        // what the stub printed, by the end of the session
        fail(missing(sv[0].expect, stub.stderr()));
      } finally {
        await stub.stop();
      }
    });
  }
});

const MARK = (k: number) => `@@readme-test step ${k}@@`;

/** Run the gdb steps of a session in one gdb, with a marker before each command to cut the output. */
async function runGdb(bs: Block[], port: number): Promise<void> {
  const all: Step[] = [];
  for (const b of bs) {
    const { head, steps: st } = steps(b, /^\(gdb\) (.*)$/);
    const start = head.findIndex((l) => l.startsWith('$ gdb'));
    if (start >= 0) {
      // the -ex commands of the command line, with the output shown under it
      const exs = [...head[start].matchAll(/-ex\s+'([^']*)'/g)].map((m) => m[1]);
      exs.forEach((cmd, k) => all.push({ cmd, expect: k === exs.length - 1 ? head.slice(start + 1) : [], at: `${b.doc}:${b.at + start}` }));
    } else if (head.some((l) => l.trim() && l.trim() !== '...')) throw new Error(`${b.doc}:${b.at}: output before the first (gdb) command`);
    all.push(...st);
  }
  const ex: string[] = [];
  all.forEach((s, k) => {
    ex.push(`echo \\n${MARK(k)}\\n`);
    ex.push(s.cmd.replace(/^target (extended-)?remote :1234$/, `target $1remote 127.0.0.1:${port}`));
  });
  const out = await gdbBatch(null, { ex, timeout: 60_000 });
  all.forEach((s, k) => {
    const from = out.indexOf(MARK(k));
    expect(from, `gdb never reached ${s.at} (${s.cmd}); it printed:\n${out}`).toBeGreaterThanOrEqual(0);
    const to = k + 1 < all.length ? out.indexOf(MARK(k + 1)) : out.length;
    const seg = out.slice(from + MARK(k).length, to < 0 ? out.length : to);
    const m = missing(s.expect, seg);
    if (m) expect.fail(`${s.at}: (gdb) ${s.cmd}\n${m}`);
    if (/^(bt|backtrace|where)\b/.test(s.cmd)) {
      // the lines shown were found in order above; as many as gdb printed means none is left out
      const frames = (lines: string[]) => lines.map(normalize).filter((l) => /^#\d+ |^Backtrace stopped/.test(l));
      expect(frames(s.expect).length, `${s.at}: (gdb) ${s.cmd} leaves out frames gdb printed:\n${seg}`).toBe(frames(seg.split('\n')).length);
    }
  });
}

/** Run the lldb steps of a session in one lldb --batch; lldb echoes each `(lldb) CMD`, which cuts the output. */
async function runLldb(bs: Block[], port: number): Promise<void> {
  let file: string | undefined;
  const all: Step[] = [];
  for (const b of bs) {
    const { head, steps: st } = steps(b, /^\(lldb\) (.*)$/);
    for (const l of head) {
      const m = /^\$ lldb(?:\s+(\S+))?\s*$/.exec(l);
      if (m) file = m[1];
    }
    all.push(...st);
  }
  const cmds = all.map((s) => s.cmd.replace(/^gdb-remote 1234$/, `gdb-remote 127.0.0.1:${port}`));
  const out = await runMerged('lldb', ['--no-lldbinit', '--batch', ...(file ? [file] : []), ...cmds.flatMap((c) => ['-o', c])], 60_000);
  // lldb prints "(lldb) CMD" before each command's output
  const lines = out.split('\n');
  let at = 0;
  all.forEach((s, k) => {
    const echo = `(lldb) ${cmds[k]}`;
    while (at < lines.length && lines[at].trim() !== echo) at++;
    expect(at, `lldb never ran ${s.at} (${s.cmd}); it printed:\n${out}`).toBeLessThan(lines.length);
    let end = at + 1;
    while (end < lines.length && !(k + 1 < all.length && lines[end].trim() === `(lldb) ${cmds[k + 1]}`)) end++;
    const m = missing(s.expect, lines.slice(at + 1, end).join('\n'));
    if (m) expect.fail(`${s.at}: (lldb) ${s.cmd}\n${m}`);
    at = end;
  });
}
