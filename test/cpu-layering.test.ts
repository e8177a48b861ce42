/**
 * src/cpu is the bottom layer: it imports nothing from the layers above it,
 * and its own modules import each other without cycles (type-only imports
 * included), so each can be read, tested and compiled on its own.
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './helpers/cases.js';

const CPU_DIR = path.join(ROOT, 'src/cpu');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports and re-exports of a module (`import type` too), resolved to .ts paths. */
function imports(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gm)) out.push(path.resolve(path.dirname(file), m[1].replace(/\.js$/, '.ts')));
  return out;
}

describe('src/cpu layering', () => {
  const files = sources(CPU_DIR);
  const graph = new Map(files.map((f) => [f, imports(f)]));

  it('imports nothing from the layers above', () => {
    const upward = [...graph].flatMap(([f, deps]) => deps.filter((d) => !d.startsWith(CPU_DIR + path.sep)).map((d) => `${path.relative(ROOT, f)} -> ${path.relative(ROOT, d)}`));
    expect(upward).toEqual([]);
  });

  it('has no import cycles', () => {
    const cycles: string[] = [];
    const state = new Map<string, number>(); // 1 on the stack, 2 done
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 1);
      stack.push(f);
      for (const d of graph.get(f) ?? []) {
        if (state.get(d) === 1) cycles.push([...stack.slice(stack.indexOf(d)), d].map((p) => path.relative(CPU_DIR, p)).join(' -> '));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, 2);
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
    expect(files.length).toBeGreaterThan(20);
  });
});
