/**
 * The shape of src/gdb, read from its sources: no import cycles (type-only
 * imports count), one module reaches the emulator (src/machine, src/kernel,
 * src/cpu) and it is the target's adapter, and packet handlers get typed
 * arguments (no casts in src/gdb/commands).
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './helpers.js';

const GDB = path.join(ROOT, 'src', 'gdb');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every module a source imports (static imports and re-exports, type-only included), as resolved .ts paths. */
function imports(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) {
    const spec = m[1];
    if (!spec.startsWith('.')) continue;
    out.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
  }
  return out;
}

describe('src/gdb layering', () => {
  const files = sources(GDB);
  const graph = new Map(files.map((f) => [f, imports(f)]));

  it('has no import cycles', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, stack: string[]) => {
      if (state.get(f) === 'done' || !graph.has(f)) return;
      if (state.get(f) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(f)), f].map((p) => path.relative(GDB, p)).join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const d of graph.get(f)!) visit(d, [...stack, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it('reaches the emulator only through the target adapter', () => {
    const emulator = ['machine', 'kernel', 'cpu'].map((d) => path.join(ROOT, 'src', d) + path.sep);
    const reaching = files.filter((f) => graph.get(f)!.some((d) => emulator.some((e) => d.startsWith(e)))).map((f) => path.relative(GDB, f));
    expect(reaching).toEqual(['target/machine-port.ts']);
  });

  it('hands packet handlers typed arguments: no casts (nor non-null assertions) in src/gdb/commands', () => {
    const code = (f: string) =>
      fs
        .readFileSync(f, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '')
        .replace(/'(\\.|[^'\\])*'|`(\\.|[^`\\])*`/g, "''");
    const casts = sources(path.join(GDB, 'commands')).flatMap((f) =>
      code(f)
        .split('\n')
        .filter((l) => /\bas\s+(?!const\b)[A-Za-z{[(]/.test(l) || /(=|\(|,|return)\s*<[A-Z][\w[\]]*>/.test(l) || /!\./.test(l))
        .map((l) => `${path.basename(f)}: ${l.trim()}`),
    );
    expect(casts).toEqual([]);
  });
});
