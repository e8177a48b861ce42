/**
 * The protocol layer alone: framing, escapes, run-length encoding, the
 * schema parser, signal numbering, and a session driving a fake target
 * (no emulator, no gdb).
 */
import { describe, it, expect } from 'vitest';
import { PacketReader, escapeBinary, frame, rle, unescape, type Frame } from '../../dist/gdb/packet.js';
import { parse } from '../../dist/gdb/schema.js';
import { fromGdbSignal, toGdbSignal } from '../../dist/gdb/signals.js';
import { parseAddr, addrHex } from '../../dist/gdb/hex.js';
import { Stub } from '../../dist/gdb/stub.js';
import { X86_64_LINUX } from '../../dist/gdb/arch/x86_64.js';
import type { ResumeAction, StopReason, Target } from '../../dist/gdb/target.js';

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
  it('escapes and unescapes binary data', () => {
    const data = Uint8Array.from([0x23, 0x24, 0x7d, 0x2a, 0x41, 0]);
    const e = escapeBinary(data);
    expect(e).toBe('}\x03}\x04}]}\x0aA\0');
    expect(Buffer.from(unescape(e), 'latin1')).toEqual(Buffer.from(data));
  });
  it('run-length encodes without producing # or $', () => {
    expect(rle('0'.repeat(16))).toBe('0*,');
    expect(unescape(rle('0'.repeat(16)))).toBe('0'.repeat(16));
    for (let n = 1; n < 120; n++) {
      const s = 'a' + '0'.repeat(n) + 'b';
      const r = rle(s);
      expect(r).not.toMatch(/[#$]/);
      expect(unescape(r)).toBe(s);
    }
  });
});

describe('schema parser and numbers', () => {
  it('parses fields and rejects what does not fit', () => {
    expect(parse('L,l', '401000,40')).toEqual([0x401000, 0x40]);
    expect(parse('L,l:S', '10,2:abcd')).toEqual([0x10, 2, 'abcd']);
    expect(parse('s,l,l', '2f62696e,0,1c0')).toEqual(['2f62696e', 0, 0x1c0]);
    expect(parse('L,l', '40100g,4')).toBeNull();
    expect(parse('L,l', '401000')).toBeNull();
    expect(parse('L,l', '401000,4,5')).toBeNull();
  });
  it('addresses are the signed 64-bit values the CPU uses', () => {
    expect(parseAddr('ffffffff80000000')).toBe(-0x80000000);
    expect(parseAddr('7ffffffff000')).toBe(0x7ffffffff000);
    expect(addrHex(-0x80000000)).toBe('ffffffff80000000');
    expect(parseAddr('1' + '0'.repeat(16))).toBeNull();
  });
  it('maps Linux signals to gdb numbers and back', () => {
    expect(toGdbSignal(10)).toBe(30); // SIGUSR1
    expect(toGdbSignal(11)).toBe(11);
    expect(toGdbSignal(7)).toBe(10); // SIGBUS
    expect(toGdbSignal(34)).toBe(46); // SIGRTMIN
    for (let s = 1; s <= 64; s++) if (s !== 16) expect(fromGdbSignal(toGdbSignal(s))).toBe(s);
  });
});

/** A target with 60 registers of zeros and 64 KiB of memory at 0x1000; it stops after n polls. */
function fakeTarget(): Target & { resumes: ResumeAction[] } {
  const mem = new Uint8Array(0x10000);
  const resumes: ResumeAction[] = [];
  let polls = 0;
  return {
    arch: X86_64_LINUX,
    pid: 42,
    resumes,
    readRegisters: () => new Uint8Array(X86_64_LINUX.gSize),
    writeRegisters: () => {},
    readRegister: (n) => (n < 60 ? new Uint8Array(X86_64_LINUX.regs[n].size) : null),
    writeRegister: (n) => n < 60,
    readMemory: (addr, len) => (addr >= 0x1000 && addr < 0x11000 ? mem.slice(addr - 0x1000, Math.min(addr - 0x1000 + len, 0x10000)) : new Uint8Array(0)),
    writeMemory: (addr, data) => {
      if (addr < 0x1000 || addr + data.length > 0x11000) return false;
      mem.set(data, addr - 0x1000);
      return true;
    },
    resume: (a) => {
      resumes.push(a);
      polls = 0;
    },
    poll: (): StopReason | null => (++polls < 3 ? null : { kind: 'exited', code: 7 }),
    detach: () => {},
    attach: () => {},
    kill: () => {},
  };
}

describe('session over a fake target', () => {
  async function talk(t: Target, packets: string[]): Promise<string[]> {
    const stub = new Stub(t, { multi: false, log: () => {} });
    const out: string[] = [];
    const s = stub.connect((b) => out.push(b.toString('latin1')), 'test')!;
    for (const p of packets) s.feed(frame(p));
    await new Promise((r) => setTimeout(r, 50));
    return out.filter((x) => x !== '+').map((x) => unescape(x.replace(/^\$(.*)#[0-9a-f]{2}$/s, '$1')));
  }

  it('advertises only what the target supports', async () => {
    const [sup] = await talk(fakeTarget(), ['qSupported:multiprocess+;swbreak+']);
    expect(sup).toMatch(/PacketSize=4000/);
    expect(sup).toMatch(/qXfer:features:read\+/);
    expect(sup).not.toMatch(/QCatchSyscalls|qXfer:auxv|qXfer:exec-file|swbreak|vFile/);
    const [vc] = await talk(fakeTarget(), ['vCont?']);
    expect(vc).toBe('vCont;c;C;s;S;t');
  });

  it('answers unknown and unsupported packets empty, and runs a continue in slices to the W reply', async () => {
    const t = fakeTarget();
    const r = await talk(t, ['qSupported:multiprocess+', 'QCatchSyscalls:1', 'Z0,1000,1', 'qWhatever', 'm1000,4', 'm10,4', 'vCont;C1e:p2a.2a']);
    expect(r.slice(1)).toEqual(['', '', '', '00000000', 'E14', 'W07;process:2a']);
    expect(t.resumes).toEqual([{ kind: 'continue', signal: 10 }]);
  });
});
