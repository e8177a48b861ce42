/**
 * Memory is bounded (issue 17). The guest's own limits (RLIMIT_AS, RLIMIT_DATA,
 * RLIMIT_STACK), inherited from an outer ulimit or set by the program, end its
 * allocations where Linux ends them: the memlimit fixture run natively under
 * the same ulimit is the oracle. And the machine's memory (--mem-limit, by
 * default what the host's own limit leaves Node) ends a program that touches
 * more as Linux's OOM killer would, while Node itself never fails an
 * allocation (it used to abort with std::bad_alloc under `ulimit -v`).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT } from './helpers/cases.js';

const MEMLIMIT = path.join(ROOT, 'test/fixtures/bin/memlimit-musl');
const TOUCH = path.join(ROOT, 'test/fixtures/bin/malloc-musl');

interface Ran {
  out: string;
  status: number | null;
  signal: NodeJS.Signals | null;
  err: string;
}

/** `sh -c 'ulimit ...; exec CMD'`: the limit applies to the program natively, and to Node (and so the guest) emulated. */
function under(ulimit: string, argv: string[]): Ran {
  const quoted = argv.map((a) => `'${a}'`).join(' ');
  const r = spawnSync('sh', ['-c', `ulimit ${ulimit}; exec ${quoted}`], { encoding: 'utf8', timeout: 180_000 });
  if (r.error) throw r.error;
  return { out: r.stdout, status: r.status, signal: r.signal, err: r.stderr };
}

const emu = (...args: string[]) => [process.execPath, CLI, 'run', '--quiet', ...args];

describe('the guest\'s limits end its allocations where Linux does (native oracle)', () => {
  // Node needs about 1 GiB of address space for itself: below ~1.5 GiB it may fail on its own, guest or not
  const cases: [string, string[], string[]][] = [
    ['-v 2097152', ['malloc'], []],
    ['-v 3145728', ['malloc'], []],
    ['-v 2097152', ['mmap'], []],
    // nommu's guest kernel sits at 0x60000000, in the program's address space (as in UML nommu), where
    // natively a 2 GiB heap would grow: the native entry keeps the kernel in the upper half
    ['-v 2097152', ['brk'], ['--entry', 'native']],
    ['-v 2097152', ['stack'], []],
    ['-s 1024', ['stack'], []],
    ['-s 1024', ['stackdepth'], []],
    ['-s 65536', ['stackdepth'], []],
    ['-s 8192', ['stackdepth'], []],
    ['-s 1024', ['malloc', '300'], []],
  ];
  for (const [ulimit, args, opts] of cases)
    it(`ulimit ${ulimit}: memlimit ${args.join(' ')}`, () => {
      const want = under(ulimit, [MEMLIMIT, ...args]);
      const got = under(ulimit, emu(...opts, MEMLIMIT, ...args));
      expect(got.out, got.err).toBe(want.out);
      // a native death by signal is 128 + signal as the emulator reports it
      expect(got.status).toBe(want.signal ? 128 + (want.signal === 'SIGSEGV' ? 11 : 0) : want.status);
    });
});

describe('the machine\'s memory (--mem-limit)', () => {
  it('a program touching more than --mem-limit is killed by SIGKILL, as by the OOM killer', () => {
    // malloc-musl touches between 128 and 256 MiB at its peak
    const r = spawnSync(process.execPath, [CLI, 'run', '--mem-limit', '64M', TOUCH], { encoding: 'utf8' });
    expect(r.status).toBe(128 + 9);
    expect(r.stderr).toMatch(/out of memory: the program's pages reached the 64 MiB of --mem-limit; killed by SIGKILL/);
    expect(spawnSync(process.execPath, [CLI, 'run', '--mem-limit', '512M', TOUCH]).status).toBe(0);
  });

  it('under ulimit -v, Node keeps what it needs: the program is killed, Node does not abort', () => {
    // write 1 MiB after another until something gives: natively the 2 GiB address space; here the
    // machine's memory, which is what the 2 GiB leave once Node has its share
    const r = under('-v 2097152', [process.execPath, CLI, 'run', MEMLIMIT, 'touch']);
    expect(r.err).not.toMatch(/bad_alloc|FATAL ERROR|Aborted/);
    expect(r.status).toBe(128 + 9);
    expect(r.err).toMatch(/out of memory: the program's pages reached the \d+ MiB of --mem-limit/);
  });

  it('rejects a size it cannot read', () => {
    const r = spawnSync(process.execPath, [CLI, 'run', '--mem-limit', 'lots', TOUCH], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--mem-limit lots: not a size/);
  });
});
