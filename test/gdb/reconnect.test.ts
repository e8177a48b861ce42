/**
 * Every reconnect works, and a connection leaves nothing behind: immediate
 * raw reconnects (the old socket's close can reach the stub after the new
 * connection), real gdb doing `disconnect` then `target remote`, a client
 * that never says anything, vFile descriptors left open by a client, and a
 * soak of 1,000 connections with the stub's RSS and descriptor count read
 * from /proc at cycle 100 and cycle 1,000.
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as os from 'node:os';
import { GDBDEMO, RawClient, runMerged, startStub } from './helpers.js';
import { need } from '../helpers/tools.js';

const HAVE_GDB = need('gdb') !== null;

const hex = (s: string) => Buffer.from(s).toString('hex');

/** Connect, send one packet, read its reply, hang up: the reply (or why there was none). */
function oneShot(port: number, body: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      const m = /\$([^#]*)#[0-9a-f]{2}/.exec(buf);
      if (m) {
        s.destroy();
        resolve(m[1]);
      }
    });
    s.on('error', (e) => resolve(`error ${e.message}`));
    s.on('close', () => resolve(`closed after ${JSON.stringify(buf)}`));
    s.write(`$${body}#${RawClient.checksum(body)}`);
  });
}

/** The stub's resident set (KiB) and open descriptors, from /proc. */
function usage(pid: number): { rss: number; fds: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: Number(/VmRSS:\s+(\d+)/.exec(status)![1]), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

describe('reconnects', () => {
  it('1,000 of 1,000 immediate raw reconnects are served', async () => {
    const s = await startStub([GDBDEMO]);
    try {
      const refused: string[] = [];
      for (let i = 0; i < 1000; i++) {
        const r = await oneShot(s.port, 'qSupported:multiprocess+;vContSupported+');
        if (!r.startsWith('PacketSize=')) refused.push(r);
      }
      expect(refused).toEqual([]);
    } finally {
      await s.stop();
    }
  });

  it.skipIf(!HAVE_GDB)('real gdb: 100 of 100 `disconnect` then `target remote`, the program where it was', async () => {
    const s = await startStub([GDBDEMO]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-reconnect-'));
    try {
      const py = path.join(dir, 'cycle.py');
      fs.writeFileSync(
        py,
        [
          'import gdb',
          'ok = 0',
          'for i in range(100):',
          "    gdb.execute('disconnect', to_string=True)",
          '    try:',
          `        gdb.execute('target remote 127.0.0.1:${s.port}', to_string=True)`,
          "        if int(gdb.parse_and_eval('$pc')) == 0x40102b: ok += 1",
          '    except gdb.error as e:',
          "        print('cycle %d: %s' % (i, e))",
          "print('reconnected %d of 100' % ok)",
        ].join('\n'),
      );
      const out = await runMerged(
        'gdb',
        ['-nx', '-batch', '-iex', 'set pagination off', '-ex', `target remote 127.0.0.1:${s.port}`, '-x', py],
        240_000,
      );
      expect(out).toMatch(/reconnected 100 of 100/);
      expect(s.stderr()).not.toMatch(/refused/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await s.stop();
    }
  });

  it('a client that sends nothing is dropped after --handshake-timeout; the next is served', async () => {
    const s = await startStub(['--handshake-timeout', '1', GDBDEMO]);
    try {
      const silent = net.connect(s.port, '127.0.0.1');
      const closed = new Promise<number>((r) => {
        const t0 = Date.now();
        silent.on('close', () => r(Date.now() - t0));
      });
      silent.on('error', () => {});
      await new Promise((r) => silent.on('connect', r));
      // a client arriving meanwhile waits for the silent one to be dropped, and is served then
      const next = oneShot(s.port, 'qSupported');
      const ms = await closed;
      expect(ms).toBeGreaterThan(800);
      expect(ms).toBeLessThan(5000);
      expect(s.stderr()).toMatch(/dropped 127\.0\.0\.1:\d+: no packet within 1 s of connecting/);
      expect(await next).toMatch(/^PacketSize=/);
      expect(await oneShot(s.port, 'qSupported')).toMatch(/^PacketSize=/);
    } finally {
      await s.stop();
    }
  });

  it('vFile descriptors belong to the connection: at most 256 open, all closed when it ends', async () => {
    const s = await startStub([GDBDEMO]);
    try {
      const c = await RawClient.attach(s.port);
      const before = usage(s.proc.pid!).fds;
      const replies: string[] = [];
      for (let i = 0; i < 300; i++) replies.push(await c.request(`vFile:open:${hex(GDBDEMO)},0,0`));
      expect(replies.slice(0, 256).every((r) => /^F[0-9a-f]+$/.test(r))).toBe(true);
      expect(replies.slice(256)).toEqual(Array(44).fill('F-1,18')); // EMFILE
      expect(usage(s.proc.pid!).fds).toBeGreaterThanOrEqual(before + 256);
      c.close();
      // the next client finds the descriptors closed, and can open its own
      const d = await RawClient.attach(s.port);
      try {
        expect(usage(s.proc.pid!).fds).toBeLessThanOrEqual(before + 1);
        expect(await d.request(`vFile:open:${hex(GDBDEMO)},0,0`)).toBe('F3');
        expect(await d.request('vFile:pread:3,4,0')).toBe('F4;\x7fELF');
      } finally {
        d.close();
      }
    } finally {
      await s.stop();
    }
  });
});

describe('soak', () => {
  it('1,000 connections (vRun, gone mid-continue, vFile left open, steps): RSS and descriptors at 100 and 1,000 within 10%', async () => {
    const s = await startStub(['--entry', 'nommu', GDBDEMO, '1000', 'forever'], { multi: true });
    try {
      const at: Record<number, { rss: number; fds: number }> = {};
      for (let i = 1; i <= 1000; i++) {
        const c = await RawClient.attach(s.port);
        switch (i % 4) {
          case 0:
            expect(await c.request(`vRun;${hex(GDBDEMO)};${hex('1000')};${hex('forever')}`)).toMatch(/^T05/);
            break;
          case 1: // gone in the middle of a continue: the program runs on until the next client
            c.sendPacket('vCont;c');
            await new Promise((r) => setTimeout(r, 2));
            break;
          case 2: {
            await c.request('g');
            const fd = await c.request(`vFile:open:${hex(GDBDEMO)},0,0`);
            await c.request(`vFile:pread:${fd.slice(1)},1000,0`);
            break; // left open
          }
          case 3:
            await c.request('?');
            for (let k = 0; k < 5; k++) await c.request('vCont;s');
            break;
        }
        c.close();
        if (i === 100 || i === 1000) {
          await new Promise((r) => setTimeout(r, 300));
          at[i] = usage(s.proc.pid!);
        }
      }
      console.log(`soak: RSS ${at[100].rss} KiB -> ${at[1000].rss} KiB, descriptors ${at[100].fds} -> ${at[1000].fds}`);
      expect(Math.abs(at[1000].rss - at[100].rss) / at[100].rss).toBeLessThan(0.1);
      expect(Math.abs(at[1000].fds - at[100].fds) / at[100].fds).toBeLessThan(0.1);
      expect(s.stderr()).not.toMatch(/internal error|refused/);
    } finally {
      await s.stop();
    }
  });
});
