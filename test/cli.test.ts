/**
 * Bad input to `entrystub run` and `serve`: a one-line error naming the file
 * and the problem and saying what to do, exit status 2, never a stack trace;
 * the errors of serve (port in use, gdb too old); and guest faults reported
 * as the signal Linux would send.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, ROOT } from './helpers/cases.js';
import { RawClient, startStub } from './gdb/helpers.js';

function run(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'run', ...args], { encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const BIN = (n: string) => path.join(ROOT, 'test/fixtures/bin', n);
const EXAMPLE = path.join(ROOT, 'examples', 'example-musl');
let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-cli-'));
  const hello = fs.readFileSync(BIN('hello-musl'));
  fs.writeFileSync(path.join(tmp, 'truncated'), hello.subarray(0, 100));
  const corrupt = Buffer.from(hello);
  corrupt.writeUInt16LE(0x3e, 18); // fine machine
  corrupt.writeBigUInt64LE(0xffffffn, 32); // e_phoff far beyond the file
  fs.writeFileSync(path.join(tmp, 'corrupt'), corrupt);
  const arm = Buffer.from(hello);
  arm.writeUInt16LE(183, 18); // EM_AARCH64
  fs.writeFileSync(path.join(tmp, 'aarch64'), arm);
  const elf32 = Buffer.from(hello);
  elf32[4] = 1;
  fs.writeFileSync(path.join(tmp, 'elf32'), elf32);
  fs.writeFileSync(path.join(tmp, 'script.sh'), '#!/bin/sh\necho hi\n');
});

describe('entrystub run: bad programs', () => {
  const cases: [string, () => string, RegExp][] = [
    ['missing file', () => path.join(tmp, 'nope'), /nope: no such file/],
    ['directory', () => tmp, /is a directory/],
    ['truncated ELF', () => path.join(tmp, 'truncated'), /truncated or corrupt ELF/],
    ['corrupt program headers', () => path.join(tmp, 'corrupt'), /truncated or corrupt ELF/],
    ['non-x86-64 ELF', () => path.join(tmp, 'aarch64'), /not x86-64/],
    ['32-bit ELF of another machine', () => path.join(tmp, 'elf32'), /32-bit ELF for machine 62, not i386/],
    ['not an ELF', () => path.join(tmp, 'script.sh'), /not an ELF file; entrystub runs x86-64 and i386 Linux executables, static or dynamically linked \(check with `file`\)/],
  ];
  for (const [name, file, msg] of cases) {
    it(name, () => {
      const r = run([file()]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(path.basename(file()));
      // and what to do about it
      expect(r.stderr).toMatch(/; (give the path|entrystub runs x86-64 and i386 Linux executables)/);
    });
  }
  // a dynamically linked program loads its interpreter from the guest's root
  const rootWithTrue = (): string => {
    const root = fs.mkdtempSync(path.join(tmp, 'root-'));
    fs.mkdirSync(path.join(root, 'bin'));
    fs.copyFileSync('/bin/true', path.join(root, 'bin', 'true'));
    return root;
  };
  it('an interpreter missing from --root', () => {
    const root = rootWithTrue();
    const r = run(['--root', root, path.join(root, 'bin', 'true')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^entrystub: \S+\/bin\/true: its interpreter \/lib64\/ld-linux-x86-64\.so\.2 (is not|cannot be found) in --root \S+; give --root the directory of a system that has it\n$/);
  });
  it('an interpreter that is no ELF (ELIBBAD)', () => {
    const root = rootWithTrue();
    fs.mkdirSync(path.join(root, 'lib64'));
    fs.writeFileSync(path.join(root, 'lib64', 'ld-linux-x86-64.so.2'), '#!/bin/sh\n');
    const r = run(['--root', root, path.join(root, 'bin', 'true')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^entrystub: \S+\/bin\/true: its interpreter \/lib64\/ld-linux-x86-64\.so\.2: not an ELF file; the interpreter must be an x86-64 ELF/);
  });
  // Linux's compat_binfmt_elf takes only an i386 interpreter for an i386 program, and binfmt_elf only an x86-64 one for an x86-64 program
  it('an interpreter of the other class (ELIBBAD): x86-64 ld.so for an i386 program, i386 ld.so for an x86-64 one', () => {
    const root = rootWithTrue();
    fs.copyFileSync(BIN('hello-i386dyn'), path.join(root, 'bin', 'hello32'));
    fs.mkdirSync(path.join(root, 'lib'));
    fs.mkdirSync(path.join(root, 'lib64'));
    fs.copyFileSync(fs.realpathSync('/lib64/ld-linux-x86-64.so.2'), path.join(root, 'lib', 'ld-linux.so.2'));
    fs.copyFileSync(fs.realpathSync('/lib/ld-linux.so.2'), path.join(root, 'lib64', 'ld-linux-x86-64.so.2'));
    const r32 = run(['--root', root, path.join(root, 'bin', 'hello32')]);
    expect(r32.code).toBe(2);
    expect(r32.stderr).toMatch(/^entrystub: \S+\/bin\/hello32: its interpreter \/lib\/ld-linux\.so\.2 is an x86-64 ELF; an i386 program needs an i386 interpreter \(ld-linux\.so\.2\)\n$/);
    const r64 = run(['--root', root, path.join(root, 'bin', 'true')]);
    expect(r64.code).toBe(2);
    expect(r64.stderr).toMatch(/^entrystub: \S+\/bin\/true: its interpreter \/lib64\/ld-linux-x86-64\.so\.2 is an i386 ELF; the interpreter must be an x86-64 ELF/);
  });
  it('serve says the same before listening', () => {
    const r = spawnSync(process.execPath, [CLI, 'serve', '--port', '0', path.join(tmp, 'nope')], { encoding: 'utf8', cwd: ROOT });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^entrystub: \S+nope: no such file; give the path of an x86-64 Linux program \(with none, entrystub runs its bundled example\)\n$/);
  });
});

describe('entrystub serve: errors a user can hit', () => {
  it('a port in use: one line saying to pick another', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [CLI, 'serve', '--port', String(port)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr!.on('data', (d) => (err += d));
        p.on('exit', (code) => resolve({ code, stderr: err }));
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `entrystub: 127.0.0.1:${port} is already in use (another entrystub, gdbserver or qemu -g?): choose another with --port N, or --port 0 for any free port\n`,
      );
    } finally {
      srv.close();
    }
  });

  it('a gdb older than 7.12 is refused with a message gdb prints', async () => {
    const p = spawn(process.execPath, [CLI, 'serve', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let err = '';
      const port = await new Promise<number>((resolve) =>
        p.stderr!.on('data', (d) => {
          err += d;
          const m = /listening on 127\.0\.0\.1:(\d+)/.exec(err);
          if (m) resolve(Number(m[1]));
        }),
      );
      // what gdb 7.11 announces: no vContSupported+
      const body = 'qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;fork-events+;vfork-events+;exec-events+';
      const reply = await new Promise<string>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          let sum = 0;
          for (const c of Buffer.from(body)) sum += c;
          s.write(`$${body}#${(sum & 0xff).toString(16).padStart(2, '0')}`);
        });
        let got = '';
        s.on('data', (d) => {
          got += d;
          const m = /\$([^#]*)#/.exec(got);
          if (m) {
            s.destroy();
            resolve(m[1]);
          }
        });
      });
      expect(reply).toBe('E.entrystub needs gdb 7.12 or newer (gdb 13 is tested); this gdb is older: install a newer one (apt-get install gdb)');
      // the stub logs before it replies, but its stderr pipe and the socket reach this process apart: the reply may come first
      const refused = /entrystub: a debugger connected and was refused: needs gdb 7\.12 or newer/;
      for (let t = 0; t < 250 && !refused.test(err); t++) await new Promise((r) => setTimeout(r, 20));
      expect(err).toMatch(refused);
    } finally {
      p.kill();
    }
  });
});

describe('entrystub serve: who may connect, and what vFile serves', () => {
  const hex = (t: string) => Buffer.from(t).toString('hex');

  it("--host '' is an error (it would listen on every interface)", () => {
    const r = spawnSync(process.execPath, [CLI, 'serve', '--host', '', '--port', '0'], { encoding: 'utf8', cwd: ROOT });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe("entrystub: --host '' would listen on every interface; give an address (default 127.0.0.1)\n");
  });

  it('--host other than loopback listens, with a warning that names the risk and the safe way', async () => {
    const p = spawn(process.execPath, [CLI, 'serve', '--host', '0.0.0.0', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      let err = '';
      await new Promise<void>((resolve) =>
        p.stderr!.on('data', (d) => {
          err += d;
          if (/listening on 0\.0\.0\.0:\d+/.test(err)) resolve();
        }),
      );
      expect(err).toMatch(
        /^entrystub: warning: listening on 0\.0\.0\.0: anyone who can reach it can debug the program, and through it run code and read files as this user \(uid \d+\); to debug from another machine, keep the default 127\.0\.0\.1 and use an SSH tunnel \(ssh -L 1234:127\.0\.0\.1:1234 this-host\)\n/,
      );
    } finally {
      p.kill();
    }
  });

  it('vFile: the program and the guest kernel image, not /etc/passwd; with --root DIR, what is in DIR', async () => {
    const s = await startStub(['--entry', 'nommu', EXAMPLE]);
    try {
      const c = await RawClient.attach(s.port);
      try {
        expect(await c.request(`vFile:open:${hex(EXAMPLE)},0,0`)).toMatch(/^F[0-9a-f]+$/);
        expect(await c.request(`vFile:open:${hex('/entrystub/guest/kernel-nommu.elf')},0,0`)).toMatch(/^F[0-9a-f]+$/);
        expect(await c.request(`vFile:open:${hex('/etc/passwd')},0,0`)).toBe('F-1,d'); // EACCES
        expect(await c.request(`vFile:open:${hex('/etc/shadow')},0,0`)).toBe('F-1,d');
      } finally {
        c.close();
      }
    } finally {
      await s.stop();
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-root-'));
    fs.copyFileSync(EXAMPLE, path.join(dir, 'prog'));
    fs.writeFileSync(path.join(dir, 'data.txt'), 'in the root\n');
    const r = await startStub(['--root', dir, path.join(dir, 'prog')]);
    try {
      const c = await RawClient.attach(r.port);
      try {
        const fd = await c.request(`vFile:open:${hex('/data.txt')},0,0`);
        expect(fd).toMatch(/^F[0-9a-f]+$/);
        expect(await c.request(`vFile:pread:${fd.slice(1)},100,0`)).toBe('Fc;in the root\n');
        expect(await c.request(`vFile:open:${hex('/etc/passwd')},0,0`)).toBe('F-1,2'); // not in DIR: ENOENT
      } finally {
        c.close();
      }
    } finally {
      await r.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--socket PATH: a Unix socket only this user may use; gdb connects with target remote PATH', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-sock-'));
    const sock = path.join(dir, 'stub.sock');
    const p = spawn(process.execPath, [CLI, 'serve', '--entry', 'direct', '--socket', sock, path.join(ROOT, 'test/gdb/fixtures/bin/gdbdemo')], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      let err = '';
      await new Promise<void>((resolve) =>
        p.stderr!.on('data', (d) => {
          err += d;
          if (err.includes(`in gdb: target remote ${sock}`)) resolve();
        }),
      );
      expect(fs.statSync(sock).mode & 0o777).toBe(0o600);
      const g = spawnSync('gdb', ['-nx', '-batch', '-ex', `target remote ${sock}`, '-ex', 'break add', '-ex', 'continue', '-ex', 'kill'], {
        encoding: 'utf8',
        cwd: ROOT,
        timeout: 60_000,
      });
      expect(g.stdout + g.stderr).toMatch(/Breakpoint 1, add \(a=1, b=2\) at gdbdemo\.c:20/);
      await new Promise<void>((r) => (p.exitCode !== null ? r() : p.on('exit', () => r())));
      expect(p.exitCode).toBe(0);
      expect(fs.existsSync(sock)).toBe(false);
    } finally {
      p.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('entrystub run: guest faults become signals', () => {
  it('an undecodable instruction is SIGILL with its address and bytes', () => {
    const r = run([BIN('faults-musl'), 'ud2']);
    expect(r.code).toBe(128 + 4);
    expect(r.stderr).toMatch(/SIGILL: illegal instruction at 0x[0-9a-f]+: 0f 0b/);
  });
  it('a NULL call is SIGSEGV at address 0', () => {
    const r = run([BIN('faults-musl'), 'null-call']);
    expect(r.code).toBe(128 + 11);
    expect(r.stderr).toMatch(/SIGSEGV: at 0x0: executing address 0x0/);
  });
  it('a divide by zero is SIGFPE', () => {
    const r = run([BIN('faults-musl'), 'div0']);
    expect(r.code).toBe(128 + 8);
    expect(r.stderr).toMatch(/SIGFPE/);
  });
  it('exit codes pass through', () => {
    expect(run([BIN('faults-musl'), 'exit42']).code).toBe(42);
  });
});

describe('run, trace and serve share --stats and --kernel-log', () => {
  const TABLE = /entrystub: \d+ guest instructions; syscalls through the nommu\/zpoline entry path:\n(.|\n)*\n +62 +kill +1 +\d+\.\d\n/;

  it('run and trace print the table at the end', () => {
    for (const cmd of ['run', 'trace']) {
      const r = spawnSync(process.execPath, [CLI, cmd, '--stats', '--kernel-log'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(TABLE);
    }
  });

  it('serve prints it when the program has ended and the debugger is gone', async () => {
    const s = await startStub(['--entry', 'nommu', '--stats', '--kernel-log', EXAMPLE]);
    const c = await RawClient.attach(s.port);
    try {
      c.sendPacket('QPassSignals:1e'); // gdb's SIGUSR1: to the program without a stop
      await c.expect(/\$OK#/);
      c.sendPacket('vCont;c');
      expect((await c.expect(/\$(W[^#]*)#/))[1]).toBe('W00');
    } finally {
      c.close();
    }
    expect(await s.exited).toBe(0);
    expect(s.stderr()).toMatch(TABLE);
    await s.stop();
  });
});

describe('the program\'s streams are its own: --log FILE and --quiet', () => {
  const DIAG = BIN('diag-musl');
  /** The native run: the oracle for what the program itself writes. */
  const native = (args: string[]) => spawnSync(DIAG, args, { encoding: 'utf8' });

  it('run --log: stderr is byte-identical to the native run; the diagnostics are in the file', () => {
    const log = path.join(tmp, 'run.log');
    const want = native([]);
    const r = run(['--log', log, DIAG]);
    expect(r.code).toBe(want.status);
    expect(r.stdout).toBe(want.stdout);
    expect(r.stderr).toBe(want.stderr);
    expect(fs.readFileSync(log, 'utf8')).toBe('entrystub: unimplemented syscall 103 (syslog)\n');
    // without --log the same diagnostic lands in the program's stderr
    expect(run([DIAG]).stderr).toBe('stderr: before\nentrystub: unimplemented syscall 103 (syslog)\nstderr: after\n');
  });

  it('run --log: the report of a fatal signal goes to the file too', () => {
    const log = path.join(tmp, 'segv.log');
    const want = native(['segv']);
    expect(want.signal).toBe('SIGSEGV');
    const r = run(['--log', log, DIAG, 'segv']);
    expect(r.code).toBe(128 + 11);
    expect(r.stderr).toBe(want.stderr);
    expect(fs.readFileSync(log, 'utf8')).toMatch(/^entrystub: unimplemented syscall 103 \(syslog\)\nentrystub: diag-musl: killed by SIGSEGV: .*0x10/);
  });

  it('run --quiet: no run-time diagnostics at all', () => {
    const r = run(['--quiet', DIAG, 'segv']);
    expect(r.code).toBe(128 + 11);
    expect(r.stderr).toBe(native(['segv']).stderr);
  });

  it('trace --log: the trace goes to the file, the program\'s stderr stays its own', () => {
    const log = path.join(tmp, 'trace.log');
    const r = spawnSync(process.execPath, [CLI, 'trace', '--log', log, DIAG], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(native([]).stderr);
    const text = fs.readFileSync(log, 'utf8');
    expect(text).toContain('entrystub: unimplemented syscall 103 (syslog)\n');
    expect(text).toMatch(/\nsyslog\(.*\) = -1 ENOSYS/);
    expect(text).toMatch(/\+\+\+ exited with 0 \+\+\+\n$/);
  });

  it('--stats lists the syscalls that got ENOSYS because entrystub lacks them', () => {
    const log = path.join(tmp, 'stats.log');
    const r = run(['--log', log, '--stats', DIAG]);
    expect(r.stderr).toBe(native([]).stderr);
    expect(fs.readFileSync(log, 'utf8')).toMatch(/\n  unimplemented, answered ENOSYS:\n +103  syslog +1\n$/);
  });

  it('serve --quiet: the stub still says where it listens, the program\'s diagnostics are gone', async () => {
    const s = await startStub(['--entry', 'nommu', '--quiet', DIAG]);
    const c = await RawClient.attach(s.port);
    try {
      c.sendPacket('vCont;c');
      expect((await c.expect(/\$(W[^#]*)#/))[1]).toBe('W00');
    } finally {
      c.close();
    }
    expect(await s.exited).toBe(0);
    expect(s.stderr()).toContain('stderr: before\nstderr: after\n');
    expect(s.stderr()).not.toContain('unimplemented');
    await s.stop();
  });
});
