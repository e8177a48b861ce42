/**
 * A static Go program built by Debian's golang-go at test time (CGO_ENABLED=0:
 * the runtime makes its own syscalls): net/http server and client on
 * loopback in one program, so goroutines on several OS threads (clone with
 * the thread flags, futexes), the runtime's signals (SIGURG preemption
 * through tgkill, on each thread's sigaltstack), netpoll (epoll and a pipe),
 * non-blocking sockets, accept4; and gochan.go: a worker pool over channels,
 * a contended mutex, timers, and a spinning goroutine that only async
 * preemption (SIGURG at any instruction) lets the GC stop. Each runs
 * natively first; every emulated run, in every entry configuration, must
 * print the same bytes and exit the same way.
 *
 * gochan runs several times in each configuration, at once: where a signal
 * lands depends on the host's timing, and a register a signal's return
 * once rounded to 53 bits (rt_sigreturn's rax through the guest kernel) made
 * a job's sum wrong in one run out of a few, or in every run with seccomp.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, ROOT } from './helpers/cases.js';
import { CONFIGS } from './helpers/configs.js';
import { need } from './helpers/tools.js';

const GO = need('go');
const SRC = path.join(ROOT, 'test/fixtures/src/go');
/** Each program, and how many emulated runs each configuration makes of it (concurrently). */
const PROGS: [string, number][] = [
  ['gohttp', 1],
  ['gochan', 3],
];

interface Run {
  stdout: string;
  stderr: string;
  status: number | null;
}

let out: string;
beforeAll(() => {
  if (!GO) return;
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-go-'));
  // a build cache of its own under the temporary directory: CI's HOME may not be writable, and nothing leaks
  const env = { ...process.env, CGO_ENABLED: '0', GOCACHE: path.join(os.tmpdir(), 'entrystub-go-cache'), GOPATH: path.join(out, 'gopath') };
  for (const [p] of PROGS) {
    const r = spawnSync(GO, ['build', '-o', path.join(out, p), path.join(SRC, `${p}.go`)], { env, encoding: 'utf8', cwd: SRC });
    if (r.status !== 0) throw new Error(`go build ${p}: ${r.stderr}`);
  }
}, 300_000);

function native(prog: string): Run {
  const r = spawnSync(prog, [], { env: {}, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** One emulated run, as a child process of its own (so that several run at once). */
function emulated(prog: string, opts: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [CLI, 'run', '--quiet', ...opts, prog], { env: {}, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      // a non-zero exit is a result to compare; a timeout or a failed spawn is not
      if (err && (child.exitCode === null || err.killed)) reject(err);
      else resolve({ stdout, stderr, status: child.exitCode });
    });
  });
}

describe.skipIf(!GO)('Go programs (golang-go, static)', () => {
  for (const [p, runs] of PROGS) {
    describe(p, () => {
      let expected: Run;
      beforeAll(() => {
        expected = native(path.join(out, p));
        expect(expected.status).toBe(0);
      });
      for (const c of CONFIGS) {
        it(runs > 1 ? `${c.name}, ${runs} runs` : c.name, { timeout: 300_000 }, async () => {
          const rs = await Promise.all(Array.from({ length: runs }, () => emulated(path.join(out, p), c.args)));
          for (const r of rs) {
            expect(r.stderr).not.toMatch(/unimplemented|fatal error|panic/);
            expect(r.stdout).toBe(expected.stdout);
            expect(r.status).toBe(expected.status);
          }
        });
      }
    });
  }
});
