/**
 * Bad input over a raw socket (no gdb): none of it may crash the stub or
 * lose the program's state. Also the protocol details gdb relies on:
 * acks and retransmission, breakpoints that leave memory alone, the
 * interrupt byte, one debugger at a time.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { GDBDEMO, RawClient, startStub, type RunningStub } from './helpers.js';

let stub: RunningStub;

beforeAll(async () => {
  stub = await startStub([GDBDEMO, '1000', 'forever']);
});
afterAll(async () => {
  await stub.stop();
  if (process.env.DEBUG_STUB) console.log(stub.stderr());
});

/** rip from a T stop reply (register 10 = rip, little-endian). */
function ripOf(reply: string): number {
  const m = /10:([0-9a-f]{16});/.exec(reply);
  if (!m) throw new Error(`no rip in ${reply}`);
  return Number(Buffer.from(m[1], 'hex').readBigUInt64LE());
}

describe('raw RSP: framing and bad input', () => {
  it('acks, bad checksum (NAK, retransmit), garbage, malformed and oversized packets, bad hex', async () => {
    const c = await RawClient.connect(stub.port);
    try {
      // a packet is acked, then answered
      c.sendPacket('qSupported:multiprocess+;swbreak+;vContSupported+');
      await c.expect(/^\+/);
      expect((await c.expect(/\$([^#]*)#[0-9a-f]{2}/))[1]).toMatch(/PacketSize=[0-9a-f]+;QStartNoAckMode\+;qXfer:features:read\+/);
      c.write('+');
      // bad checksum: NAK, and nothing is executed
      c.write('$g#00');
      await c.expect(/^-/);
      // our reply NAKed: the stub sends the same packet again
      const first = await c.request('qC');
      c.write('-');
      expect((await c.expect(/\$([^#]*)#[0-9a-f]{2}/))[1]).toBe(first);
      // noise between packets is skipped
      c.write('hello world');
      expect(await c.request('qC')).toBe(first);
      // malformed arguments and hex that does not parse: an error reply
      expect(await c.request('mxyz,4')).toMatch(/^E/);
      expect(await c.request('m401000')).toMatch(/^E/);
      expect(await c.request('M401000,2:zz12')).toMatch(/^E/);
      expect(await c.request('Pzz=00')).toMatch(/^E/);
      expect(await c.request('p999')).toMatch(/^E/);
      expect(await c.request('Z0,notanaddress,1')).toMatch(/^E/);
      expect(await c.request('vCont;q')).toMatch(/^E/);
      expect(await c.request('qXfer:features:read:target.xml:zz,10')).toMatch(/^E/);
      // unknown packets get an empty reply
      expect(await c.request('qNoSuchThing')).toBe('');
      expect(await c.request('vMustReplyEmpty')).toBe('');
      // a packet longer than PacketSize: refused, the connection goes on
      expect(await c.request('M401000,4000:' + '00'.repeat(0x4000))).toMatch(/^E/);
      expect(await c.request('qC')).toBe(first);
      // the program was never resumed: still at its entry point
      expect(ripOf(await c.request('?'))).toBe(0x40102b);
    } finally {
      c.close();
    }
  });

  it('the protocol to the letter: malformed is an error, lengths are capped, client data is not run-length decoded', async () => {
    const c = await RawClient.attach(stub.port);
    try {
      // a dangling escape at the end of X data is not 0x7d: an error, and nothing is written
      const before = await c.request('m404030,2');
      expect(await c.request('X404030,1:}')).toBe('E22');
      expect(await c.request('m404030,2')).toBe(before);
      // '*' in client data is a byte, not a run-length count (only replies are encoded)
      expect(await c.request('X404030,3:a*!')).toBe('OK');
      expect(await c.request('m404030,3')).toBe('612a21');
      expect(await c.request('M404030,2:a*!')).toBe('E22');
      // vCont with no action, or a thread id that does not parse: errors
      expect(await c.request('vCont;')).toBe('E22');
      expect(await c.request('vCont;s:zz')).toBe('E22');
      expect(await c.request('vCont;s:p3e8.zz')).toBe('E22');
      // T asks about one thread: all (-1) or any (0) is not one
      expect(await c.request('T-1')).toBe('E01');
      expect(await c.request('T0')).toBe('E01');
      expect(await c.request('Tp3e8.3e8')).toBe('OK');
      // a length of any size is capped to what a reply carries (gdbserver caps, it does not refuse)
      for (const len of ['ffffffffffffff', 'ffffffffffffffff', '0000000000000010', 'f'.repeat(30)]) {
        const r = await c.request(`m401000,${len}`);
        expect(r, len).toMatch(/^[0-9a-f]+$/);
        expect(r.length, len).toBe(len === '0000000000000010' ? 32 : 2 * Math.floor((0x4000 - 4) / 2));
      }
      expect(await c.request('m401000,0')).toBe('');
      // a packet name that merely starts like one we know is another packet: unsupported, empty
      expect(await c.request('qCRC:401000,10')).toBe('');
      expect(await c.request('gX')).toBe('E22');
      // the program is untouched
      expect(ripOf(await c.request('?'))).toBe(0x40102b);
    } finally {
      c.close();
    }
  });

  it('vKill of another process is an error and kills nothing', async () => {
    const c = await RawClient.attach(stub.port);
    try {
      expect(await c.request('vKill;1')).toBe('E01');
      expect(await c.request('vKill;zz')).toBe('E22');
      expect(ripOf(await c.request('?'))).toBe(0x40102b);
      expect(await c.request('qfThreadInfo')).toBe('m3e8');
    } finally {
      c.close();
    }
  });

  it('memory: unmapped is E14 and changes nothing; breakpoints leave memory alone; binary X', async () => {
    const c = await RawClient.attach(stub.port);
    try {
      expect(await c.request('m10,8')).toBe('E14');
      // a write that runs into an unmapped page changes nothing at all
      const before = await c.request('m404ff8,8');
      expect(await c.request('M404ff8,10:' + 'ab'.repeat(16))).toBe('E14');
      expect(await c.request('m404ff8,8')).toBe(before);
      // Z0 does not write int3: memory reads show the original bytes
      const orig = await c.request('m401139,4');
      expect(await c.request('Z0,401139,1')).toBe('OK');
      expect(await c.request('m401139,4')).toBe(orig);
      expect(await c.request('z0,401139,1')).toBe('OK');
      // X with binary escapes ('}' 0x7d, '#' 0x23, '$' 0x24, '*' 0x2a)
      const data = Buffer.from([0x7d, 0x23, 0x24, 0x2a, 0x00, 0xff]);
      let esc = '';
      for (const b of data) esc += b === 0x7d || b === 0x23 || b === 0x24 || b === 0x2a ? '}' + String.fromCharCode(b ^ 0x20) : String.fromCharCode(b);
      expect(await c.request(`X404030,0:`)).toBe('OK');
      expect(await c.request(`X404030,6:${esc}`)).toBe('OK');
      expect(await c.request('m404030,6')).toBe('7d23242a00ff');
      // read-only pages are writable to the debugger (ptrace semantics)
      expect(await c.request('M402000,1:47')).toBe('OK');
      expect(await c.request('m402000,1')).toBe('47');
      expect(await c.request('M402000,1:67')).toBe('OK');
    } finally {
      c.close();
    }
  });

  it('a second client is refused with a message; the first is unaffected', async () => {
    const a = await RawClient.attach(stub.port);
    try {
      const qc = await a.request('qC');
      const b = await RawClient.connect(stub.port);
      const reply = await b.request('qSupported');
      expect(reply).toMatch(/^E\.entrystub: another debugger is already attached/);
      b.close();
      expect(await a.request('qC')).toBe(qc);
      expect(ripOf(await a.request('?'))).toBe(0x40102b);
    } finally {
      a.close();
    }
  });

  it('0x03 stops a running continue with SIGINT; a client gone mid-continue leaves a stopped program', async () => {
    const a = await RawClient.attach(stub.port);
    a.sendPacket('vCont;c');
    await new Promise((r) => setTimeout(r, 300));
    a.write('\x03');
    const t = (await a.expect(/\$(T[^#]*)#[0-9a-f]{2}/))[1];
    expect(t).toMatch(/^T02/);
    const rip = ripOf(t);
    // the program is in its endless loop in main, past the write
    expect(rip).toBeGreaterThan(0x40114d);
    expect(rip).toBeLessThan(0x401300);
    // continue again and hang up without a word
    a.sendPacket('vCont;c');
    await new Promise((r) => setTimeout(r, 200));
    a.close();
    await new Promise((r) => setTimeout(r, 300));
    // a new debugger finds the program stopped, state intact, and can run it again
    const b = await RawClient.attach(stub.port);
    try {
      const stop = await b.request('?');
      expect(stop).toMatch(/^T02/);
      const counter1 = await b.request('m404028,8');
      b.sendPacket('vCont;c');
      await new Promise((r) => setTimeout(r, 200));
      b.write('\x03');
      expect((await b.expect(/\$(T[^#]*)#[0-9a-f]{2}/))[1]).toMatch(/^T02/);
      const counter2 = await b.request('m404028,8');
      expect(Buffer.from(counter2, 'hex').readBigUInt64LE()).toBeGreaterThan(Buffer.from(counter1, 'hex').readBigUInt64LE());
      expect(stub.stdout()).toBe('gdbdemo: hello\n');
    } finally {
      b.close();
    }
  });

  it('qXfer:threads: the one thread, named as Linux names it, in one round trip', async () => {
    const c = await RawClient.attach(stub.port);
    try {
      expect(await c.request('qSupported:multiprocess+;swbreak+;vContSupported+')).toContain('qXfer:threads:read+');
      expect(await c.request('qXfer:threads:read::0,1000')).toBe(
        'l<?xml version="1.0"?>\n<threads><thread id="p3e8.3e8" core="0" name="gdbdemo"/></threads>\n',
      );
      expect(await c.request('qXfer:threads:read:x:0,1000')).toMatch(/^E/);
    } finally {
      c.close();
    }
  });

  it('qXfer replies larger than the requested length come in m/l pieces', async () => {
    const c = await RawClient.attach(stub.port);
    try {
      let xml = '';
      for (let off = 0; ; ) {
        const r = await c.request(`qXfer:features:read:target.xml:${off.toString(16)},100`);
        expect(r[0]).toMatch(/[ml]/);
        xml += r.slice(1);
        off += r.length - 1;
        if (r[0] === 'l') break;
        expect(r.length - 1).toBe(0x100);
      }
      expect(xml).toMatch(/<architecture>i386:x86-64<\/architecture>/);
      expect(xml).toMatch(/<reg name="orig_rax" bitsize="64" type="int" regnum="57"\/>/);
      expect(xml.trim().endsWith('</target>')).toBe(true);
      // every register of the description reads with p (lldb reads them one by one)
      expect(await c.request('g')).toMatch(/^[0-9a-f]{1120}$/);
      const sizes = [...xml.matchAll(/bitsize="(\d+)"/g)].map((m) => Number(m[1]) / 4);
      expect(sizes).toHaveLength(60);
      for (let n = 0; n < 60; n++) expect(await c.request(`p${n.toString(16)}`)).toMatch(new RegExp(`^[0-9a-f]{${sizes[n]}}$`));
    } finally {
      c.close();
    }
  });
});

/**
 * After a reply the transport reads the socket directly for a while
 * (transport.ts); without a second CPU, or with ENTRYSTUB_SPIN_MS=0, every
 * packet goes through the event loop. Both must answer the same bytes, also
 * for input that arrives in pieces, several packets at once, and the
 * interrupt byte while the program is stopped (nothing to interrupt).
 */
describe('raw RSP: the fast path and the event loop answer alike', () => {
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function transcript(spinMs: string): Promise<string[]> {
    const s = await startStub([GDBDEMO, '1000', 'forever'], { env: { ENTRYSTUB_SPIN_MS: spinMs } });
    const c = await RawClient.attach(s.port);
    const got: string[] = [];
    const next = async () => got.push(RawClient.unrle((await c.expect(/\$([^#]*)#[0-9a-f]{2}/))[1]));
    try {
      got.push(await c.request('qSupported:multiprocess+;swbreak+;vContSupported+'));
      got.push(await c.request('QStartNoAckMode'));
      // a packet in three pieces, each arriving while the stub waits for the rest
      c.write('$vCont;s:p3');
      await wait(1);
      c.write('e8.3e8;c:p3e8');
      await wait(1);
      c.write('.-1#d4');
      await next();
      // three packets in one write, then the interrupt byte with nothing running
      c.write(['m401139,4', 'vCont;s', 'p10'].map((b) => `$${b}#${RawClient.checksum(b)}`).join('') + '\x03');
      for (let k = 0; k < 3; k++) await next();
      // a run of steps, each sent the moment the last reply is in
      for (let k = 0; k < 200; k++) got.push(await c.request('vCont;s'));
      got.push(await c.request('g'));
      // a continue is still stopped by the interrupt byte
      c.sendPacket('vCont;c');
      await wait(100);
      c.write('\x03');
      const stop = (await c.expect(/\$(T[^#]*)#[0-9a-f]{2}/))[1];
      got.push(stop.slice(0, 3));
      return got;
    } finally {
      c.close();
      await s.stop();
    }
  }

  it('same replies with ENTRYSTUB_SPIN_MS=5 and ENTRYSTUB_SPIN_MS=0', async () => {
    const fast = await transcript('5');
    const slow = await transcript('0');
    expect(fast).toEqual(slow);
    expect(fast.at(-1)).toBe('T02');
    expect(new Set(fast.slice(6, 206)).size).toBeGreaterThan(20); // the steps went somewhere
  });
});
