/**
 * Shared by the fixture and busybox tests: run a case (from cases.json or
 * busybox-cases.json) under `entrystub run` and read what it should give.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runGuest } from './guests.js';
import { need } from './tools.js';

export { CLI, runCli, runGuest } from './guests.js';
export const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface Case {
  name: string;
  bin?: string;
  args: string[];
  env?: Record<string, string>;
  stdin?: string;
  cwd?: string;
  tags?: string[];
}

export type Status = { code: number } | { signal: string };

export interface RunResult {
  stdout: Buffer;
  stderr: string;
  status: Status;
}

const SIGNALS: Record<number, string> = {
  1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 5: 'SIGTRAP', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL',
  10: 'SIGUSR1', 11: 'SIGSEGV', 12: 'SIGUSR2', 13: 'SIGPIPE', 14: 'SIGALRM', 15: 'SIGTERM',
};

export function loadCases(file: string): Case[] {
  return JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as Case[];
}

export function expectedOf(c: Case, dir: string): { stdout: Buffer; status: Status } {
  const base = path.join(ROOT, dir, c.name);
  return {
    stdout: fs.readFileSync(base + '.stdout'),
    status: JSON.parse(fs.readFileSync(base + '.status', 'utf8')) as Status,
  };
}

/**
 * Run a case under the emulator (`entrystub run`, served by a runner:
 * guests.ts). kind 'bin' runs test/fixtures/bin/<bin> with argv[0] "prog";
 * 'busybox' runs the host's busybox with argv[0] "busybox". Asynchronous, so
 * that the cases of a describe.concurrent run at once, one per runner.
 */
export async function runCase(c: Case, kind: 'bin' | 'busybox', extra: string[] = []): Promise<RunResult> {
  const tmp = c.cwd === 'tmp' ? fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-')) : null;
  try {
    const prog = kind === 'bin' ? binPath(c.bin!) : busyboxPath()!;
    const argv0 = kind === 'bin' ? 'prog' : 'busybox';
    const input = c.stdin ? fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'data', c.stdin)) : Buffer.alloc(0);
    const r = await runGuest(['run', ...extra, '--argv0', argv0, prog, ...c.args], { cwd: tmp ?? ROOT, env: c.env ?? {}, input });
    const code = r.code ?? 1;
    const status: Status = code > 128 && code < 128 + 32 && SIGNALS[code - 128] ? { signal: SIGNALS[code - 128] } : { code };
    return { stdout: r.stdout, stderr: r.stderr.toString(), status };
  } finally {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** A case's program: a name in test/fixtures/bin, or a path from the root (examples/example-musl), as record.mjs reads it. */
export function binPath(bin: string): string {
  return bin.includes('/') ? path.join(ROOT, bin) : path.join(ROOT, 'test', 'fixtures', 'bin', bin);
}

/** The host's busybox-static (null when it is missing and the user opted out: see tools.ts). */
export function busyboxPath(): string | null {
  return need('busybox');
}
