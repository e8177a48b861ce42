/**
 * gdb following the processes a program forks (fork-events, vfork-events,
 * multiprocess thread ids, D;pid and per-process breakpoints). The oracle is
 * gdb on the real process: the same commands run natively must print the
 * same catchpoint events, inferiors, breakpoint hits, backtraces, values
 * and exit codes (pids aside, and the place of a fork catchpoint: natively
 * gdb shows the user instruction after the syscall, through the stub the
 * guest kernel's fork, where the event happens).
 */
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, RawClient, gdbBatch, startStub } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb') !== null;

const FORKER = path.join(ROOT, 'test', 'gdb', 'fixtures', 'bin', 'forker');

/** gdb's lines a session is judged by, with pids, thread numbers and addresses made comparable. */
function essence(out: string): string[] {
  return out
    .split('\n')
    .filter((l) =>
      /^Catchpoint \d+ \((v?forked) process|^process \d+ is executing new program|^Thread \d+\.\d+ .* hit Catchpoint|^\[(Detaching|Attaching) after|^\[New inferior|^\[Inferior \d+ \(process \d+\) (exited|detached)|^Thread \d+\.\d+ .* hit Breakpoint|^#\d+ +\S|^\$\d+ = |^Value returned|^[ *] +\d+ +(process|<null>)/.test(l),
    )
    .map((l) =>
      l
        .replace(/process \d+/g, 'process N')
        .replace(/after (?:Thread \d+\.\d+|process N) fork to child (?:Thread \d+\.\d+|process N)/, 'after fork to child')
        .replace(/\(forked process N\).*/, '(forked process N)')
        .replace(/\(vforked process N\).*/, '(vforked process N)')
        .replace(/^#(\d+) +0x[0-9a-f]+ in /, '#$1 ')
        .replace(/argv=0x[0-9a-f]+/, 'argv=…') // the stack's place depends on the environment, which differs
        .replace(/^([ *] +\d+ +(?:process N|<null>)).*/, '$1')
        .replace(/Breakpoint (\d+)\.\d+,/, 'Breakpoint $1,')
        .replace(/(hit Catchpoint \d+ \(exec'd \S+\)),.*/, '$1'),
    );
}

/** The same commands natively (from the first instruction) and through the stub; the program's output of each. */
async function both(cmds: string[]): Promise<{ native: string[]; stub: string[]; nativeOut: string; stubOut: string; stubLog: string }> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-follow-'));
  const script = path.join(tmp, 'cmds.gdb');
  fs.writeFileSync(script, cmds.join('\n') + '\n');
  try {
    // (the native program's output goes elsewhere: written to gdb's pipe, it could land inside one of gdb's lines)
    const n = spawnSync('gdb', ['-nx', '-batch', '-iex', 'set width 0', '-iex', 'set inferior-tty /dev/null', '-ex', 'starti', '-x', script, FORKER], { encoding: 'utf8', timeout: 60_000 });
    const stub = await startStub(['--entry', 'nommu', FORKER]);
    try {
      const out = await gdbBatch(stub.port, { file: FORKER, ex: [`source ${script}`] });
      await Promise.race([stub.exited, new Promise((r) => setTimeout(r, 5_000))]);
      return { native: essence(n.stdout), stub: essence(out), nativeOut: n.stdout, stubOut: stub.stdout(), stubLog: stub.stderr() };
    } finally {
      await stub.stop();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const PROGRAM_OUTPUT = [
  'parent: forking',
  'child: work 45',
  'parent: fork child exited with 7',
  'parent: vfork child exited with 3',
  'parent: child_counter is still 0',
  "exec'd: again",
  'parent: exec child exited with 5',
];

describe.skipIf(!HAVE_GDB)('gdb follows forks', () => {
  it('catch fork and catch vfork stop in the parent; the children are let go; the program ends as natively', async () => {
    const r = await both(['catch fork', 'catch vfork', 'continue', 'continue', 'continue', 'continue']);
    expect(r.native).toEqual([
      'Catchpoint 1 (forked process N)',
      '[Detaching after fork from child process N]',
      'Catchpoint 2 (vforked process N)',
      '[Detaching after vfork from child process N]',
      'Catchpoint 1 (forked process N)',
      '[Detaching after fork from child process N]',
      '[Inferior 1 (process N) exited normally]',
    ]);
    expect(r.stub).toEqual(r.native);
    expect(r.stubOut.trim().split('\n')).toEqual(PROGRAM_OUTPUT);
  });

  it('follow-fork-mode child: a breakpoint in the child is hit in inferior 2, the parent runs on after the child ends', async () => {
    const r = await both(['set follow-fork-mode child', 'break child_work', 'continue', 'bt', 'info inferiors', 'finish', 'continue']);
    expect(r.native).toContain('[Attaching after fork to child]');
    expect(r.native).toContain('[Inferior 2 (process N) exited with code 07]');
    expect(r.stub).toEqual(r.native);
    expect(r.stub).toContain('Value returned is $1 = 45');
    // the parent, let go at the fork, ran to its end on its own
    expect(r.stubOut.trim().split('\n')).toEqual(PROGRAM_OUTPUT);
    expect(r.stubLog).toMatch(/the last process the debugger followed ended; the others run on/);
  });

  it('detach-on-fork off: both processes are inferiors, each with its own memory', async () => {
    const r = await both(['set detach-on-fork off', 'set schedule-multiple on', 'break child_work', 'continue', 'info inferiors', 'finish', 'p child_counter', 'inferior 1', 'p child_counter']);
    expect(r.native).toContain('[New inferior 2 (process N)]');
    expect(r.native).toContain('$2 = 45'); // the child's counter after child_work...
    expect(r.native).toContain('$3 = 0'); // ...and the parent's, untouched (copy on write)
    // the parent waits in waitpid: natively gdb shows the user frame, through the stub the task is in the guest kernel's wait4
    const frame0 = (l: string) => l.startsWith('#0');
    expect(r.stub.filter((l) => !frame0(l))).toEqual(r.native.filter((l) => !frame0(l)));
    expect(r.stub.filter(frame0)).toHaveLength(1);
    expect(r.stub.filter(frame0)[0]).toMatch(/^#0 {2}__x64_sys_wait4 \(\) at src\/guest\/generated\/syscall_table\.S:\d+$/);
  });
});

describe.skipIf(!HAVE_GDB)('gdb follows exec', () => {
  it('catch exec in a followed child: the new program is loaded, named and run to its exit, as natively', async () => {
    const r = await both([
      'set detach-on-fork off',
      'set schedule-multiple on',
      'catch exec',
      'continue',
      'inferior 1',
      'continue',
      'inferior 1',
      'continue',
      'info inferiors',
      'continue',
    ]);
    expect(r.native).toContain(`Thread 4.1 "exe" hit Catchpoint 1 (exec'd ${FORKER})`);
    expect(r.native).toContain('[Inferior 4 (process N) exited with code 05]');
    // (the catchpoint's frame: natively the new program's _start, through the stub the guest kernel's execve it returns from)
    const frameless = (l: string[]) => l.filter((x) => !x.startsWith('#0'));
    expect(frameless(r.stub)).toEqual(frameless(r.native));
  });
});

describe('the protocol of following processes', () => {
  it('fork-events in qSupported, the fork stop reply, the child\'s thread, Hg and D;pid of the child', async () => {
    const stub = await startStub(['--entry', 'direct', FORKER]);
    const c = await RawClient.attach(stub.port);
    try {
      const sup = await c.request('qSupported:multiprocess+;swbreak+;fork-events+;vfork-events+;exec-events+');
      expect(sup).toContain('fork-events+');
      expect(sup).toContain('vfork-events+');
      const fork = await c.request('vCont;c', 30_000);
      const m = /^T05.*thread:p3e8\.3e8;fork:p([0-9a-f]+)\.\1;$/.exec(fork);
      expect(m, fork).not.toBeNull();
      const child = m![1];
      expect(await c.request('qfThreadInfo')).toBe(`mp3e8.3e8,p${child}.${child}`);
      // the child's registers: its rax is fork's 0, the parent's is the child's pid
      expect(await c.request(`Hgp${child}.${child}`)).toBe('OK');
      expect((await c.request('p0')).slice(0, 16)).toBe('0000000000000000');
      expect(await c.request('Hgp3e8.3e8')).toBe('OK');
      expect(await c.request('p0')).toBe(Buffer.from(parseInt(child, 16).toString(16).padStart(16, '0'), 'hex').reverse().toString('hex'));
      expect(await c.request('Hgp7ff.7ff')).toMatch(/^E/);
      // let the child go: it runs on its own; the parent's wait sees it exit 7
      expect(await c.request(`D;${child}`)).toBe('OK');
      expect(await c.request('qfThreadInfo')).toBe('mp3e8.3e8');
      const vfork = await c.request('vCont;c', 30_000);
      expect(vfork).toMatch(/^T05.*thread:p3e8\.3e8;vfork:p[0-9a-f]+\.[0-9a-f]+;$/);
    } finally {
      c.close();
      await stub.stop();
    }
    expect(stub.stdout()).toContain('parent: fork child exited with 7');
  });

  it('without fork-events the children are not followed: one thread, no fork stop', async () => {
    const stub = await startStub(['--entry', 'direct', FORKER]);
    const c = await RawClient.attach(stub.port);
    try {
      expect(await c.request('qSupported:multiprocess+;swbreak+')).toContain('fork-events+');
      expect(await c.request('vCont;c', 30_000)).toBe('W00;process:3e8');
    } finally {
      c.close();
      await stub.stop();
    }
    expect(stub.stdout().trim().split('\n')).toEqual(PROGRAM_OUTPUT);
  });
});
