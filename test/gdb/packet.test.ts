/**
 * The protocol layer alone: framing, escapes, run-length encoding, the
 * schema parser, signal numbering, and a session driving a fake target
 * (no emulator, no gdb).
 */
import { describe, it, expect } from 'vitest';
import { PacketReader, escapeBinary, frame, hexRle, rle, unescapeBinary, type Frame } from '../../dist/gdb/packet.js';
import { addr, compile, parse } from '../../dist/gdb/schema.js';
import { fromGdbSignal, toGdbSignal } from '../../dist/gdb/signals.js';
import { addrHex, toHex } from '../../dist/gdb/hex.js';
import { Stub } from '../../dist/gdb/stub.js';
import { X86_64_LINUX } from '../../dist/gdb/arch/x86_64.js';
import type { ResumeAction, StopReason, Target } from '../../dist/gdb/target.js';

/** A reply body as a client reads it: run-length encoding expanded, escapes undone. */
function decodeReply(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '}' && i + 1 < s.length) out += String.fromCharCode(s.charCodeAt(++i) ^ 0x20);
    else if (c === '*' && i + 1 < s.length && out.length > 0) out += out[out.length - 1].repeat(s.charCodeAt(++i) - 29);
    else out += c;
  }
  return out;
}

function frames(...chunks: string[]): Frame[] {
  const out: Frame[] = [];
  const r = new PacketReader((f) => out.push(f), 64);
  for (const c of chunks) r.feed(Buffer.from(c, 'latin1'));
  return out;
}

describe('framing', () => {
  it('splits packets across and within chunks, sees acks and the interrupt byte', () => {
    const m = frame('m10,4').toString('latin1');
    expect(frames('+$g#67' + m.slice(0, 3), m.slice(3, 7), m.slice(7), '\x03-')).toEqual([
      { kind: 'ack' },
      { kind: 'packet', body: 'g' },
      { kind: 'packet', body: 'm10,4' },
      { kind: 'interrupt' },
      { kind: 'nak' },
    ]);
  });
  it('reports bad checksums, oversized packets and restarts at a stray $', () => {
    expect(frames('$g#00')).toEqual([{ kind: 'bad-checksum', body: 'g' }]);
    expect(frames('$' + 'x'.repeat(100) + '#00')).toEqual([{ kind: 'too-long' }]);
    expect(frames('$gar$g#67')).toEqual([{ kind: 'packet', body: 'g' }]);
    expect(frames('$g#zz')).toEqual([{ kind: 'bad-checksum', body: 'g' }]);
  });
  it('frames with a checksum', () => {
    expect(frame('OK').toString()).toBe('$OK#9a');
  });
  it('escapes and unescapes binary data; client data is never run-length decoded; a dangling escape is an error', () => {
    const data = Uint8Array.from([0x23, 0x24, 0x7d, 0x2a, 0x41, 0]);
    const e = escapeBinary(data);
    expect(e).toBe('}\x03}\x04}]}\x0aA\0');
    expect(unescapeBinary(e)).toEqual(data);
    expect(unescapeBinary('a*!')).toEqual(Uint8Array.from([0x61, 0x2a, 0x21]));
    expect(unescapeBinary('ab}')).toBeNull();
  });
  it('run-length encodes replies without producing # or $', () => {
    expect(rle('0'.repeat(16))).toBe('0*,');
    expect(decodeReply(rle('0'.repeat(16)))).toBe('0'.repeat(16));
    for (let n = 1; n < 120; n++) {
      const s = 'a' + '0'.repeat(n) + 'b';
      const r = rle(s);
      expect(r).not.toMatch(/[#$]/);
      expect(decodeReply(r)).toBe(s);
    }
  });
  it('encodes bytes as hex run-length encoded in one pass, as rle(toHex()) does', () => {
    // runs of every length at every alignment, both nibbles, and the short replies left as they are
    let seed = 1;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let n = 0; n < 300; n++) {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = n % 3 === 0 ? rand() : rand() < 200 ? 0 : rand() < 128 ? 0x10 : 0x01;
      expect(hexRle(b)).toBe(rle(toHex(b)));
      b.fill(0x11, n >> 2, n >> 1);
      expect(hexRle(b)).toBe(rle(toHex(b)));
    }
  });
});

describe('schema parser and numbers', () => {
  const p = <S extends string>(schema: S, args: string) => parse(compile(schema), args);
  it('parses fields and rejects what does not fit', () => {
    expect(p('L,n', '401000,40')).toEqual([0x401000, 0x40]);
    expect(p('L,n:S', '10,2:abcd')).toEqual([0x10, 2, 'abcd']);
    expect(p('h,l,l', '2f62696e,0,1c0')).toEqual(['/bin', 0, 0x1c0]);
    expect(p('L,n:x', '10,2:abcd')).toEqual([0x10, 2, Uint8Array.from([0xab, 0xcd])]);
    expect(p('L,n:B', '10,3:}]*!')).toEqual([0x10, 3, Uint8Array.from([0x7d, 0x2a, 0x21])]);
    expect(p('L,n:B', '10,1:}')).toBeNull();
    expect(p('L,n', '40100g,4')).toBeNull();
    expect(p('L,n', '401000')).toBeNull();
    expect(p('L,n', '401000,4,5')).toBeNull();
    expect(p('L,n', ',4')).toBeNull();
    expect(p('x', 'abc')).toBeNull();
  });
  it('lengths of any size saturate; numbers and addresses have bounds; leading zeros are fine', () => {
    expect(p('L,n', '0,ffffffffffffff')).toEqual([0, Number.MAX_SAFE_INTEGER]);
    expect(p('L,n', '0,' + 'f'.repeat(40))).toEqual([0, Number.MAX_SAFE_INTEGER]);
    expect(p('L,n', '0,' + '0'.repeat(30) + '4')).toEqual([0, 4]);
    expect(p('l', 'f'.repeat(14))).toBeNull();
    expect(p('L', '0'.repeat(10) + 'ffffffff80000000')).toEqual([-0x80000000]);
  });
  it('lists, thread ids and vCont actions', () => {
    expect(p('l*;', 'e;10;14;')).toEqual([[0xe, 0x10, 0x14]]);
    expect(p('l*;', '')).toEqual([[]]);
    expect(p('l*;', '1;;2')).toBeNull();
    expect(p('h*;', ';6162')).toEqual([['', 'ab']]);
    expect(p('t', 'p3e8.3e8')).toEqual([{ pid: 0x3e8, tid: 0x3e8 }]);
    expect(p('t', 'p-1.-1')).toEqual([{ pid: -1, tid: -1 }]);
    expect(p('t', '-1')).toEqual([{ tid: -1 }]);
    expect(p('t', 'p3e8')).toEqual([{ pid: 0x3e8, tid: -1 }]);
    expect(p('t', 'zz')).toBeNull();
    expect(p('ot', 'gp0.0')).toEqual(['g', { pid: 0, tid: 0 }]);
    expect(p('A*;', 's:p1.1;c')).toEqual([[{ op: 's', thread: { pid: 1, tid: 1 } }, { op: 'c', thread: undefined }]]);
    expect(p('A*;', 'r401000,401010:p1.1')).toEqual([[{ op: 'r', start: 0x401000, end: 0x401010, thread: { pid: 1, tid: 1 } }]]);
    expect(p('A*;', 'C1e')).toEqual([[{ op: 'C', signal: 0x1e, thread: undefined }]]);
    for (const bad of ['', 's:zz', 'q', 'c1', 'r1', 'C', 's;']) expect(p('A*;', bad), bad).toBeNull();
  });
  it('addresses are the signed 64-bit values the CPU uses', () => {
    expect(addr('ffffffff80000000')).toBe(-0x80000000);
    expect(addr('7ffffffff000')).toBe(0x7ffffffff000);
    expect(addr('ffffffff810000f9')).toBe(-0x7effff07);
    expect(addrHex(-0x80000000)).toBe('ffffffff80000000');
    expect(addrHex(-0x7effff07)).toBe('ffffffff810000f9');
    expect(addrHex(-1)).toBe('ffffffffffffffff');
    expect(addr('1' + '0'.repeat(16))).toBeNull();
  });
  it('maps Linux signals to gdb numbers and back', () => {
    expect(toGdbSignal(10)).toBe(30); // SIGUSR1
    expect(toGdbSignal(11)).toBe(11);
    expect(toGdbSignal(7)).toBe(10); // SIGBUS
    expect(toGdbSignal(34)).toBe(46); // SIGRTMIN
    for (let s = 1; s <= 64; s++) if (s !== 16) expect(fromGdbSignal(toGdbSignal(s))).toBe(s);
  });
});

/** A target with 60 registers of zeros and 64 KiB of memory at 0x1000; a continue ends in an exit after 3 polls. */
function fakeTarget(): Target & { resumes: ResumeAction[] } {
  const mem = new Uint8Array(0x10000);
  const resumes: ResumeAction[] = [];
  let polls = 0;
  let pid: number | null = 42;
  return {
    arch: X86_64_LINUX,
    get pid() {
      return pid;
    },
    resumes,
    registers: {
      readAll: () => new Uint8Array(X86_64_LINUX.gSize),
      writeAll: () => {},
      read: (n) => (n < 60 ? new Uint8Array(X86_64_LINUX.regs[n].size) : null),
      write: (n) => n < 60,
    },
    memory: {
      read: (addr, len) => (addr >= 0x1000 && addr < 0x11000 ? mem.slice(addr - 0x1000, Math.min(addr - 0x1000 + len, 0x10000)) : new Uint8Array(0)),
      write: (addr, data) => {
        if (addr < 0x1000 || addr + data.length > 0x11000) return false;
        mem.set(data, addr - 0x1000);
        return true;
      },
    },
    execution: {
      rangeStep: false,
      resume: (a) => {
        resumes.push(a);
        polls = 0;
      },
      poll: (): StopReason | null => (++polls < 3 ? null : { kind: 'exited', code: 7 }),
      idleMs: () => 0,
      detach: () => {},
      attach: () => {},
      kill: () => {
        pid = null;
      },
      release: () => {
        pid = null;
      },
    },
  };
}

describe('session over a fake target', () => {
  async function talk(t: Target, packets: string[]): Promise<string[]> {
    const stub = new Stub(t, { multi: false, log: () => {} });
    const out: string[] = [];
    const s = stub.connect((b) => out.push(b.toString('latin1')), 'test', () => {})!;
    for (const p of packets) s.feed(p === '\x03' ? Buffer.from(p) : frame(p));
    await new Promise((r) => setTimeout(r, 50));
    return out.filter((x) => x !== '+').map((x) => decodeReply(x.replace(/^\$(.*)#[0-9a-f]{2}$/s, '$1')));
  }

  it('advertises only what the target supports', async () => {
    const [sup] = await talk(fakeTarget(), ['qSupported:multiprocess+;swbreak+']);
    expect(sup).toMatch(/PacketSize=4000/);
    expect(sup).toMatch(/qXfer:features:read\+/);
    expect(sup).not.toMatch(/QCatchSyscalls|qXfer:auxv|qXfer:exec-file|swbreak|vFile|libraries/);
    const [vc] = await talk(fakeTarget(), ['vCont?']);
    expect(vc).toBe('vCont;c;C;s;S;t');
  });

  it('answers unknown and unsupported packets empty, and runs a continue in slices to the W reply', async () => {
    const t = fakeTarget();
    const r = await talk(t, ['qSupported:multiprocess+', 'QCatchSyscalls:1', 'Z0,1000,1', 'qWhatever', 'qCRC:1000,4', 'm1000,4', 'm10,4', 'vCont;C1e:p2a.2a']);
    expect(r.slice(1)).toEqual(['', '', '', '', '00000000', 'E14', 'W07;process:2a']);
    // the action named the thread (it runs first) and left no other stopped
    expect(t.resumes).toEqual([{ kind: 'continue', signal: 10, threads: 'all', thread: 0x2a }]);
    // the end was reported: the target has no process any more
    expect(t.pid).toBeNull();
  });

  it('packets sent while the program runs wait for the stop, and a flood of them is dropped, not stored', async () => {
    const t = fakeTarget();
    t.execution.poll = () => null; // runs until interrupted
    const r = await talk(t, ['c', ...Array.from({ length: 1000 }, () => 'qC'), '\x03']);
    expect(r[0]).toMatch(/^T02/);
    expect(r.slice(1)).toEqual(Array.from({ length: 256 }, () => 'QC2a'));
  });

  it('reads ahead the memory gdb read first after the last stop, and answers from memory as it stands', () => {
    const t = fakeTarget();
    t.execution.poll = () => ({ kind: 'step' });
    let reads = 0;
    const read = t.memory!.read;
    t.memory!.read = (addr, len) => (reads++, read(addr, len));
    const out: string[] = [];
    const s = new Stub(t, { multi: false, log: () => {} }).connect((b) => out.push(b.toString('latin1')), 'test', () => {})!;
    // as the transport does: a packet, its reply sent, then prepare() while the client reads it
    const ask = (p: string): string => {
      out.length = 0;
      s.feed(frame(p));
      s.prepare();
      return out.filter((x) => x !== '+').map((x) => decodeReply(x.replace(/^\$(.*)#[0-9a-f]{2}$/s, '$1')))[0];
    };
    s.feed(Buffer.from('+'));
    expect(ask('vCont;s')).toMatch(/^T05/);
    expect(ask('m1000,4')).toBe('00000000'); // gdb's frame read after a step: noted
    expect(ask('vCont;s')).toMatch(/^T05/);
    expect(reads).toBe(2); // read ahead at once
    expect(ask('m1000,4')).toBe('00000000');
    expect(reads).toBe(2); // answered from the read ahead
    // a packet in between (a write) and the read ahead is dropped: the answer is the memory as it stands
    expect(ask('vCont;s')).toMatch(/^T05/);
    expect(ask('M1000,4:01020304')).toBe('OK');
    expect(ask('m1000,4')).toBe('01020304');
    // another read than the one read ahead is answered for itself
    expect(ask('vCont;s')).toMatch(/^T05/);
    expect(ask('m1002,2')).toBe('0304');
  });

  it('a malformed packet of a known kind is an error, never a crash', async () => {
    const r = await talk(fakeTarget(), ['gX', 'm1000', 'vCont;', 'vCont;s:zz', 'T-1', 'T0', 'X1000,1:}', 'H', 'Hx0', 'qC', '?']);
    expect(r).toEqual(['E22', 'E22', 'E22', 'E22', 'E01', 'E01', 'E22', 'E22', 'E22', 'QC2a', 'T0506:0000000000000000;07:0000000000000000;10:0000000000000000;thread:2a;']);
  });
});
