/**
 * A program that sleeps in a syscall under the stub: the stub keeps reading
 * packets (the syscall is retried, not slept in on the host thread), so the
 * interrupt byte stops it at once, with the registers Linux shows for a task
 * sleeping in a syscall; resuming finishes the same sleep (its deadline is
 * kept). Also the direct entry's catch-syscall stops as ptrace makes them:
 * rax -ENOSYS at entry, and orig_rax written by the debugger decides what runs.
 */
import { describe, it, expect } from 'vitest';
import { busyboxPath } from '../helpers/cases.js';
import { GDBDEMO, GdbMI, RawClient, gdbBatch, startStub } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb') !== null;

const BUSYBOX = busyboxPath(); // null: missing, and the user opted out (helpers/tools.ts)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Register n (hex regnum) as a signed little-endian 64-bit value. */
async function reg(c: RawClient, n: number): Promise<bigint> {
  const b = Buffer.from(await c.request(`p${n.toString(16)}`), 'hex');
  return b.length === 8 ? b.readBigInt64LE() : BigInt(b.readInt32LE());
}

const hex = (a: bigint) => BigInt.asUintN(64, a).toString(16);

const RAX = 0, RIP = 16, CS = 18, ORIG_RAX = 57;
const NANOSLEEPS = [35n /* nanosleep */, 230n /* clock_nanosleep */];

describe.skipIf(!BUSYBOX)('a program sleeping in a syscall', () => {
  for (const entry of ['direct', 'nommu', 'native']) {
    it(`${entry}: 0x03 stops \`sleep 2\` at once; continuing ends the same sleep`, async () => {
      const stub = await startStub(['--entry', entry, BUSYBOX!, 'sleep', '2']);
      const c = await RawClient.attach(stub.port);
      try {
        const t0 = Date.now();
        c.sendPacket('vCont;c');
        await sleep(1200);
        const ti = Date.now();
        c.write('\x03');
        const stop = (await c.expect(/\$(T[^#]*)#[0-9a-f]{2}/, 5000))[1];
        expect(stop).toMatch(/^T02/);
        expect(Date.now() - ti).toBeLessThan(500); // not at the end of the sleep
        if (entry === 'direct') {
          // as Linux shows a task sleeping in a syscall: past the syscall, -ERESTARTSYS, orig_rax the number
          expect(await reg(c, RAX)).toBe(-512n);
          expect(NANOSLEEPS).toContain(await reg(c, ORIG_RAX));
          const rip = await reg(c, RIP);
          expect(await c.request(`m${hex(rip - 2n)},2`)).toBe('0f05');
        } else {
          // in the guest kernel, at the hypercall of the sleeping syscall
          const rip = await reg(c, RIP);
          expect(await c.request(`m${hex(rip)},3`)).toBe('0f01c1'); // vmcall
          expect(await reg(c, CS)).toBe(entry === 'native' ? 0x10n : 0x33n);
        }
        c.sendPacket('vCont;c');
        const end = (await c.expect(/\$(W[^#]*)#[0-9a-f]{2}/, 10_000))[1];
        expect(end).toBe('W00');
        // the sleep's deadline was kept across the stop: 2 s from the start, not 2 s after the resume
        const total = Date.now() - t0;
        expect(total).toBeGreaterThanOrEqual(1950);
        expect(total).toBeLessThan(2900); // a new 2 s sleep would end after 3.2 s
      } finally {
        c.close();
        await stub.stop();
      }
    });
  }

  it('direct: a read of an empty stdin pipe is interrupted, and reads what arrives after', async () => {
    const stub = await startStub([BUSYBOX!, 'cat'], { stdin: 'pipe' });
    const c = await RawClient.attach(stub.port);
    try {
      c.sendPacket('vCont;c');
      await sleep(300);
      c.write('\x03');
      expect((await c.expect(/\$(T[^#]*)#[0-9a-f]{2}/, 5000))[1]).toMatch(/^T02/);
      expect(await reg(c, ORIG_RAX)).toBe(0n); // read
      stub.proc.stdin!.end('typed after the stop\n');
      c.sendPacket('vCont;c');
      expect((await c.expect(/\$(W[^#]*)#[0-9a-f]{2}/, 10_000))[1]).toBe('W00');
      expect(stub.stdout()).toBe('typed after the stop\n');
    } finally {
      c.close();
      await stub.stop();
    }
  });
});

describe.skipIf(!HAVE_GDB || !BUSYBOX)('gdb pausing a sleeping program', () => {
  it('nommu: -exec-interrupt stops inside the guest kernel; bt reaches the user caller', async () => {
    const stub = await startStub(['--entry', 'nommu', BUSYBOX!, 'sleep', '3']);
    const mi = new GdbMI();
    try {
      await mi.wait(/\(gdb\)/);
      expect(await mi.cmd('-gdb-set mi-async on')).toBe('done');
      expect(await mi.cmd(`-target-select remote 127.0.0.1:${stub.port}`)).toBe('connected');
      expect(await mi.cmd('-exec-continue')).toBe('running');
      await sleep(800);
      await mi.cmd('-exec-interrupt');
      const stop = await mi.wait(/\*stopped,([^\n]*)\n/, 5000);
      expect(stop[1]).toMatch(/reason="signal-received",signal-name="SIGINT".*func="__x64_sys_clock_nanosleep"/);
      const frames = await mi.cmd('-stack-list-frames');
      // do_syscall_64, then the entry frame (a signal frame to gdb: see src/guest/cfi.h), then the program
      expect(frames).toMatch(/func="do_syscall_64",file="src\/guest\/syscall\.c".*frame=\{level="\d+",addr="0x[0-9a-f]+",func="<signal handler called>"\},frame=\{level="\d+",addr="0x0*4[0-9a-f]+"/);
      expect(await mi.cmd('-exec-continue')).toBe('running');
      await mi.wait(/\*stopped,reason="exited-normally"/, 10_000);
    } finally {
      await mi.quit();
      await stub.stop();
    }
  });
});

describe.skipIf(!HAVE_GDB)('direct entry: catch syscall as ptrace shows it', () => {
  it('orig_rax -1 at the entry stop skips the syscall; a changed argument is used', async () => {
    const stub = await startStub([GDBDEMO]);
    try {
      // as with ptrace, the skipped call has no exit stop: the program runs on to its end
      const out = await gdbBatch(stub.port, {
        ex: ['catch syscall write', 'continue', 'p $rax', 'set $orig_rax = -1', 'continue'],
      });
      expect(out).toMatch(/Catchpoint 1 \(call to syscall write\)[^\n]*\n\$1 = -38\n/);
      expect(out).not.toMatch(/returned from syscall write/);
      expect(out).toMatch(/exited with code 03/);
      expect(stub.stdout()).not.toContain('gdbdemo: hello');
    } finally {
      await stub.stop();
    }
    const stub2 = await startStub([GDBDEMO]);
    try {
      // write's length argument shortened at the entry stop: the syscall runs with it
      const out = await gdbBatch(stub2.port, { ex: ['catch syscall write', 'continue', 'set $rdx = 4', 'continue', 'p $rax', 'continue'] });
      expect(out).toMatch(/Catchpoint 1 \(returned from syscall write\)[^\n]*\n\$1 = 4\n/);
      expect(stub2.stdout()).toBe('gdbd');
    } finally {
      await stub2.stop();
    }
  });
});
