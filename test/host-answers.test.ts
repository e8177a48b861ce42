/**
 * Answers that depend on the machine (its CPUs, memory, the caller's groups,
 * the order a file system keeps a directory in) cannot be recorded once: the
 * oracle is the same command run natively on this machine, now, beside the
 * emulated run. Each case here failed before the host syscall behind it was
 * made to answer as Linux does (issue 13).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/cases.js';
import { need } from './helpers/tools.js';

// busybox's applets, util-linux's wrappers, and bash (run by the dynamic loader, as Debian ships it)
const BUSYBOX = need('busybox', 'setpriv', 'taskset', 'bash')!;
const HAVE_TOOLS = BUSYBOX !== null;
const LDSO = '/lib64/ld-linux-x86-64.so.2';
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-host-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

interface Ran {
  stdout: string;
  status: number | null;
}

/** Run argv natively, with `wrap` (e.g. setpriv, taskset) in front. */
function native(argv: string[], wrap: string[] = [], opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Ran {
  const all = [...wrap, ...argv];
  const r = spawnSync(all[0], all.slice(1), { encoding: 'utf8', env: opts.env ?? {}, input: opts.stdin ?? '', timeout: 60_000 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, status: r.status };
}

/** Run argv under `entrystub run`, the emulator itself started under `wrap`. */
function emulated(argv: string[], wrap: string[] = [], opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Ran {
  const all = [...wrap, process.execPath, CLI, 'run', ...argv];
  const r = spawnSync(all[0], all.slice(1), { encoding: 'utf8', env: opts.env ?? {}, input: opts.stdin ?? '', timeout: 120_000 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, status: r.status };
}

function same(argv: string[], wrap: string[] = [], opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): void {
  const want = native(argv, wrap, opts);
  expect(want.status).toBe(0);
  expect(emulated(argv, wrap, opts)).toEqual(want);
}

describe.skipIf(!HAVE_TOOLS)('identity and CPUs (getgroups, sched_getaffinity)', () => {
  it('id: the supplementary groups are the caller\'s own, none or several', () => {
    same([BUSYBOX, 'id']);
    same([BUSYBOX, 'id'], ['setpriv', '--groups', '4,20']);
  });

  it('nproc: every CPU the process may run on, and only those', () => {
    same([BUSYBOX, 'nproc']);
    same([BUSYBOX, 'nproc'], ['taskset', '-c', '0']);
  });
});

describe.skipIf(!HAVE_TOOLS)('memory figures (sysinfo)', () => {
  /** `free`'s Mem: and Swap: rows as numbers. */
  const rows = (out: string): Record<string, number[]> =>
    Object.fromEntries(
      out
        .split('\n')
        .filter((l) => /^(Mem|Swap):/.test(l))
        .map((l) => {
          const [k, ...v] = l.trim().split(/\s+/);
          return [k.slice(0, -1), v.map(Number)];
        }),
    );

  it('free: the totals are the machine\'s, and the rest is what it has (within what changes between two runs)', () => {
    const want = rows(native([BUSYBOX, 'free']).stdout);
    const got = rows(emulated([BUSYBOX, 'free']).stdout);
    const total = want.Mem[0];
    expect(got.Mem[0]).toBe(total);
    expect(got.Swap[0]).toBe(want.Swap[0]);
    // used, free, shared, buff/cache, available: memory moves a little between the two runs
    for (let k = 1; k < want.Mem.length; k++) expect(Math.abs(got.Mem[k] - want.Mem[k])).toBeLessThan(total * 0.03);
    expect(got.Mem[1] + got.Mem[2]).toBeLessThanOrEqual(total);
  });
});

describe.skipIf(!HAVE_TOOLS)('directory order (getdents64)', () => {
  const dir = path.join(scratch, 'order');
  fs.mkdirSync(dir);
  // names and a creation order that no sort reproduces
  const names = Array.from({ length: 60 }, (_, k) => `${((k * 7919) % 61).toString(36)}-${'xyzab'[k % 5]}${k}`);
  for (const n of names) fs.writeFileSync(path.join(dir, n), '');
  fs.mkdirSync(path.join(dir, 'sub'));
  for (const n of names.slice(0, 20)) fs.writeFileSync(path.join(dir, 'sub', n), '');

  it('find lists entries in the directory\'s own order, as Linux returns them', () => {
    same([BUSYBOX, 'find', dir]);
  });

  it('ls -U -A (GNU ls, unsorted) gives the same order', () => {
    same([LDSO, '/bin/ls', '-U', '-A', dir]);
  });
});

describe.skipIf(!HAVE_TOOLS)('socket calls on a descriptor that is not a socket (getpeername)', () => {
  it('bash reading a script from a file does not take its stdin for a network connection', () => {
    const home = path.join(scratch, 'home');
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(path.join(home, '.bashrc'), 'echo sourced ~/.bashrc\n');
    const script = path.join(scratch, 'script.sh');
    fs.writeFileSync(script, 'echo from the script\n');
    // bash's stdin is a file: getpeername(0) must fail with ENOTSOCK, or bash runs ~/.bashrc as if started by sshd
    const env = { HOME: home, PATH: '/usr/bin:/bin' };
    const want = spawnSync('sh', ['-c', `bash -c 'echo ok' < ${script}`], { encoding: 'utf8', env });
    const got = spawnSync('sh', ['-c', `${process.execPath} ${CLI} run ${LDSO} /bin/bash -c 'echo ok' < ${script}`], { encoding: 'utf8', env, timeout: 120_000 });
    expect(want.stdout).toBe('ok\n');
    expect(got.stdout).toBe(want.stdout);
  });
});
