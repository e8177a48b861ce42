/**
 * Seeded fuzzing of the stub: mutations of valid packets (every kind the
 * stub knows, as gdb sends them) and random bytes, framed or not. No packet
 * may make a handler throw (an "internal error"), hang the stub, or crash
 * it; afterwards it still answers `?` and `g`.
 *
 * 100,000 packets go through the real Session, Stub and MachineTarget in
 * this process (fast: no sockets); a few thousand more go over TCP to a real
 * `entrystub serve --multi`. The seed is printed; replay a failure with
 * ENTRYSTUB_FUZZ_SEED=<seed> (ENTRYSTUB_FUZZ_COUNT changes the count).
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import { frame } from '../../dist/gdb/packet.js';
import { Stub } from '../../dist/gdb/stub.js';
import type { Session } from '../../dist/gdb/session.js';
import { LaunchError, MachineTarget, spawnGuest } from '../../dist/gdb/target/index.js';
import { GDBDEMO, RawClient, startStub } from './helpers.js';
import { FUZZ_SEED, rng } from '../helpers/fuzz.js';

// a fixed seed, so every run (and CI) tries the same packets; ENTRYSTUB_FUZZ_SEED=N tries others
const SEED = FUZZ_SEED;
const COUNT = process.env.ENTRYSTUB_FUZZ_COUNT ? Number(process.env.ENTRYSTUB_FUZZ_COUNT) : 100_000;
console.log(`fuzz seed ${SEED} (replay: ENTRYSTUB_FUZZ_SEED=${SEED})`);

const hex = (s: string) => Buffer.from(s).toString('hex');
const PID = '3e8';

/** Valid packets of every kind the stub knows (but `monitor exit`, which ends the stub by design). */
const CORPUS = [
  'qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;vContSupported+;xmlRegisters=i386',
  'qSupported',
  'QStartNoAckMode',
  'vMustReplyEmpty',
  '?',
  'g',
  'G' + '00'.repeat(560),
  'p10',
  'p7',
  'p18',
  'P10=2b10400000000000',
  'P22=7f03000000000000',
  'm401000,40',
  'm7ffffffde000,100',
  'M404030,4:01020304',
  'X404030,4:ab}]*#',
  'X404030,0:',
  'Z0,401139,1',
  'z0,401139,1',
  'Z1,401139,1',
  'z1,401139,1',
  'Z2,404028,8',
  'z2,404028,8',
  'Z3,404030,4',
  'Z4,404030,4',
  'z4,404030,4',
  'vCont?',
  `vCont;s:p${PID}.${PID}`,
  `vCont;s:p${PID}.${PID};c:p${PID}.-1`,
  'vCont;c',
  `vCont;r401139,401150:p${PID}.${PID}`,
  'vCont;C1e',
  'vCont;t',
  's',
  'c',
  'S05',
  'C0b;401139',
  'c401139',
  `Hgp${PID}.${PID}`,
  'Hc-1',
  'Hgp0.0',
  `T${PID}`,
  'qC',
  'qfThreadInfo',
  'qsThreadInfo',
  `qThreadExtraInfo,p${PID}.${PID}`,
  `qAttached:${PID}`,
  'qAttached',
  'qOffsets',
  'qSymbol::',
  'QPassSignals:e;1e;',
  'QProgramSignals:0;1;3;',
  'QCatchSyscalls:1;1;3c',
  'QCatchSyscalls:1',
  'QCatchSyscalls:0',
  'QDisableRandomization:1',
  'qXfer:features:read:target.xml:0,ffb',
  'qXfer:features:read:target.xml:7fd,ffb',
  'qXfer:auxv:read::0,1000',
  'qXfer:exec-file:read::0,1000',
  `qXfer:exec-file:read:${PID}:0,1000`,
  'qXfer:threads:read::0,1000',
  'qXfer:siginfo:read::0,80',
  'qXfer:libraries-svr4:read::0,1000',
  'vFile:setfs:0',
  `vFile:open:${hex(GDBDEMO)},0,0`,
  `vFile:open:${hex('/proc/1000/maps')},0,0`,
  `vFile:open:${hex('/etc/passwd')},0,0`,
  'vFile:pread:3,4000,0',
  'vFile:pread:4,100,10',
  'vFile:fstat:3',
  'vFile:close:3',
  `vFile:readlink:${hex('/proc/1000/exe')}`,
  `qRcmd,${hex('help')}`,
  `qRcmd,${hex('stats')}`,
  `qRcmd,${hex('ptregs')}`,
  `qRcmd,${hex('mode')}`,
  '!',
  `vRun;${hex(GDBDEMO)};${hex('1000')};${hex('forever')}`,
  'vRun;',
  `vKill;${PID}`,
  `vAttach;${PID}`,
  'R00',
  'k',
  'D',
  `D;${PID}`,
  'qTStatus',
  'x0,0',
  'QThreadSuffixSupported',
  'jThreadsInfo',
];

const ODD = ['}', '*', '#', '$', ',', ':', ';', '=', '-', '.', 'p', '0', 'f', 'ffffffffffffffff', '\x03', '+', '-', '\x00', '\xff', '}}', '*\x20'];

function generator(r: () => number): () => string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const randomBytes = (n: number) => {
    let s = '';
    for (let k = 0; k < n; k++) s += String.fromCharCode(Math.floor(r() * 256));
    return s;
  };
  const mutate = (p: string): string => {
    const n = 1 + Math.floor(r() * 3);
    for (let k = 0; k < n; k++) {
      const at = Math.floor(r() * (p.length + 1));
      switch (Math.floor(r() * 8)) {
        case 0: // replace a character
          p = p.slice(0, at) + pick(ODD) + p.slice(at + 1);
          break;
        case 1: // insert
          p = p.slice(0, at) + (r() < 0.5 ? pick(ODD) : randomBytes(1 + Math.floor(r() * 4))) + p.slice(at);
          break;
        case 2: // delete a span
          p = p.slice(0, at) + p.slice(at + Math.floor(r() * 8));
          break;
        case 3: // truncate
          p = p.slice(0, at);
          break;
        case 4: // a number made huge, empty or negative
          p = p.replace(/[0-9a-f]+/, pick(['', 'f'.repeat(1 + Math.floor(r() * 40)), '-1', '0'.repeat(20), '8000000000000000']));
          break;
        case 5: // duplicate a piece
          p = p.slice(0, at) + p.slice(Math.max(0, at - 6), at) + p.slice(at);
          break;
        case 6: // two packets in one
          p = p + pick([';', ',', ':', '']) + pick(CORPUS);
          break;
        case 7: // a field dropped between separators
          p = p.replace(/[,:;]([^,:;]*)/, (_m, x: string) => (r() < 0.5 ? '' : ',' + x + ','));
          break;
      }
    }
    return p;
  };
  return () => {
    const kind = r();
    if (kind < 0.05) return randomBytes(Math.floor(r() * 64)); // raw bytes, no framing
    const body = kind < 0.25 ? pick(CORPUS) : kind < 0.93 ? mutate(pick(CORPUS)) : randomBytes(Math.floor(r() * 40));
    const f = frame(body).toString('latin1');
    return r() < 0.04 ? f.slice(0, -2) + 'zz' : f; // a bad checksum now and then
  };
}

const devnull = fs.openSync('/dev/null', 'w');

function newStub(logs: string[]): { stub: Stub; target: MachineTarget } {
  const launch = (argv: string[]) => {
    if (argv[0] !== '' && argv[0] !== GDBDEMO) throw new LaunchError(`${argv[0]}: no such file`);
    return spawnGuest({ program: GDBDEMO, argv: ['gdbdemo', '1000', 'forever'], env: [], stdout: devnull, stderr: devnull, warn: () => {}, entry: 'direct' });
  };
  const target = new MachineTarget({ launch, extended: true });
  target.start(['']);
  const stub = new Stub(target, { multi: true, log: (m) => logs.push(m), launch: (argv) => target.start(argv) });
  return { stub, target };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('fuzz', () => {
  it(`${COUNT} mutated and random packets: no internal error, no hang, ? and g still answered`, async () => {
    const next = generator(rng(SEED));
    const logs: string[] = [];
    let { stub } = newStub(logs);
    let out = '';
    /** Replies by kind: the fuzz must reach the handlers, not only the framing. */
    const kinds = new Map<string, number>();
    const count = (b: Buffer) => {
      for (const m of b.toString('latin1').matchAll(/\$([^#]*)#/g)) {
        const k = m[1] === '' ? 'empty' : m[1] === 'OK' || /^E\d\d$/.test(m[1]) ? m[1] : m[1][0];
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
    };
    const connect = (): Session => {
      const s = stub.connect(
        (b) => {
          count(b);
          out = (out + b.toString('latin1')).slice(-4096);
        },
        'fuzz',
        () => {},
      );
      if (!s) throw new Error('the stub refused a client with none attached');
      return s;
    };
    let session = connect();
    let sent = '';
    let restarts = 0;
    const start = Date.now();
    for (let i = 0; i < COUNT; i++) {
      sent = next();
      session.feed(Buffer.from(sent, 'latin1'));
      // a resume: stop it as gdb would, with the interrupt byte
      for (let k = 0; stub.running && k < 50; k++) {
        session.feed(Buffer.from('\x03', 'latin1'));
        await tick();
      }
      if (stub.running) {
        // detached (D): the program runs free and 0x03 is not ours to send; a new client stops it
        session.close();
        session = connect();
        for (let k = 0; stub.running && k < 200; k++) await tick();
        if (stub.running) throw new Error(`packet ${i} ${JSON.stringify(sent)}: the program does not stop`);
      }
      if (session.closed) session = connect();
      const internal = logs.find((l) => l.includes('internal error'));
      if (internal) throw new Error(`packet ${i} ${JSON.stringify(sent)} (seed ${SEED}): ${internal}`);
      if (stub.target.pid === null && i % 50 === 0) {
        // k or vKill ended the program: start it again so the next packets have one
        session.feed(frame(`vRun;${hex(GDBDEMO)}`));
        restarts++;
      }
    }
    // still answering, in whichever ack mode the fuzz left it
    session.close();
    session = connect();
    out = '';
    if (stub.target.pid === null) session.feed(frame(`vRun;${hex(GDBDEMO)}`));
    out = '';
    session.feed(frame('?'));
    expect(out, logs.slice(-5).join("\n")).toMatch(/\$T[0-9a-f]{2}[^#]*thread:[^#]*#[0-9a-f]{2}/); // whatever stop the fuzz left
    out = '';
    session.feed(frame('g'));
    const g = RawClient.unrle(/\$([^#]*)#/.exec(out)![1]);
    expect(g).toMatch(/^[0-9a-f]{1120}$/);
    console.log(`fuzz: ${COUNT} packets in ${((Date.now() - start) / 1000).toFixed(1)} s, ${restarts} restarts of the program; replies: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    for (const k of ['OK', 'E22', 'E01', 'E14', 'empty', 'T', 'F', 'l', 'm', 'O']) expect(kinds.get(k) ?? 0, k).toBeGreaterThan(COUNT / 2000);
    expect((kinds.get('W') ?? 0) + (kinds.get('X') ?? 0)).toBeGreaterThan(0);
    session.close();
  }, 600_000);

  it('a few thousand over TCP to `entrystub serve --multi`: the stub lives and answers', async () => {
    const s = await startStub([GDBDEMO, '1000', 'forever'], { multi: true });
    const next = generator(rng(SEED ^ 0x5eed));
    try {
      let c = await RawClient.attach(s.port);
      for (let i = 0; i < 3000; i++) {
        c.write(next());
        if (i % 100 === 99) {
          // let it catch up, interrupt whatever runs, and start over on a fresh connection now and then
          c.write('\x03');
          await new Promise((r) => setTimeout(r, 5));
          if (i % 1000 === 999) {
            c.close();
            c = await RawClient.attach(s.port);
          }
        }
      }
      c.close();
      const d = await RawClient.attach(s.port);
      try {
        let stop = await d.request('?');
        if (stop.startsWith('W') || stop.startsWith('X')) {
          expect(await d.request(`vRun;${hex(GDBDEMO)}`)).toMatch(/^T05/);
          stop = await d.request('?');
        }
        expect(stop).toMatch(/^T..[^#]*thread:/);
        expect(await d.request('g')).toMatch(/^[0-9a-f]{1120}$/);
      } finally {
        d.close();
      }
      expect(s.proc.exitCode).toBeNull();
      expect(s.stderr()).not.toMatch(/internal error/);
    } finally {
      await s.stop();
    }
  });
});
