/**
 * src/kernel's module graph, read from the sources: no import cycle (type-only
 * imports count: they are a dependency of the design even when erased), and no
 * import upward out of the kernel layer (it may use src/cpu and the guest build's
 * generated facts, nothing above).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const KERNEL = path.join(ROOT, 'src', 'kernel');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return sources(p);
    return d.name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative module specifiers a file imports or re-exports (`import`, `import type`, `export ... from`). */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  const re = /^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms;
  for (const m of text.matchAll(re)) if (m[1].startsWith('.')) out.push(path.resolve(path.dirname(file), m[1]).replace(/\.js$/, '.ts'));
  return out;
}

const graph = new Map(sources(KERNEL).map((f) => [f, importsOf(f)]));

/** Every cycle found by a depth-first walk, as the list of files around it. */
function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of graph.get(f) ?? []) {
      if (!graph.has(g)) continue;
      if (state.get(g) === 'open') found.push(stack.slice(stack.indexOf(g)).concat(g).map((x) => path.relative(KERNEL, x)));
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

describe('src/kernel module graph', () => {
  it('reads the imports (the walk sees the dispatch and the implementations)', () => {
    const dispatch = graph.get(path.join(KERNEL, 'syscalls.ts'))!;
    expect(dispatch).toContain(path.join(KERNEL, 'sys', 'fs.ts'));
    expect(dispatch).toContain(path.join(KERNEL, 'process.ts'));
  });

  it('has no import cycle', () => {
    expect(cycles().map((c) => c.join(' -> '))).toEqual([]);
  });

  it('imports nothing from the layers above it (machine, gdb, trace, cli)', () => {
    // src/guest/generated holds facts the guest build generates (syscall names, pt_regs): data below every layer
    const upward: string[] = [];
    for (const [f, deps] of graph)
      for (const d of deps) {
        const rel = path.relative(path.join(ROOT, 'src'), d);
        if (!rel.startsWith('kernel' + path.sep) && !rel.startsWith('cpu' + path.sep) && !rel.startsWith(path.join('guest', 'generated') + path.sep)) upward.push(`${path.relative(KERNEL, f)} -> ${rel}`);
      }
    expect(upward).toEqual([]);
  });

  it('asks the host only through hostlog.ts (so that history can be replayed without asking it again)', () => {
    // value imports of the host's modules; a type-only import of node:fs is no question to the host
    const direct = /^\s*import\s+(?!type\b)[^;]*?from\s+'node:(fs|os|crypto|child_process)'/gms;
    const clocks = /\b(Date\.now|process\.hrtime|performance\.now|Atomics\.wait)\b/;
    const found: string[] = [];
    // hostnet.ts talks to its worker inside answers it logs itself (hostlog's asked): its waits are part of them
    const ownLog = new Set(['hostlog.ts', path.join('net', 'hostnet.ts')]);
    for (const f of graph.keys()) {
      if (ownLog.has(path.relative(KERNEL, f))) continue;
      const text = fs.readFileSync(f, 'utf8').replace(/\/\*[^]*?\*\/|\/\/.*$/gm, '');
      for (const m of text.matchAll(direct)) found.push(`${path.relative(KERNEL, f)}: node:${m[1]}`);
      const c = clocks.exec(text);
      if (c) found.push(`${path.relative(KERNEL, f)}: ${c[1]}`);
    }
    expect(found).toEqual([]);
  });
});
