/**
 * One debugger connection: framing state (ack mode, retransmission), what
 * the client said it supports, and the packet dispatch table. The session
 * turns bytes into packets, packets into calls on the Target through the
 * handler modules in commands/, and StopReasons into stop replies.
 *
 * States: idle (waiting for a packet), running (a resume in progress: only
 * the interrupt byte is acted on, other packets wait), closed.
 */
import { addrHex, textToHex } from './hex.js';
import { frame, PacketReader, type Frame } from './packet.js';
import { toGdbSignal } from './signals.js';
import type { Stub } from './stub.js';
import type { ResumeAction, StopReason, Target } from './target.js';
import { ASYNC, NO_REPLY, type Command, type Reply } from './commands/command.js';
import { baseCommands } from './commands/base.js';
import { resumeCommands } from './commands/resume.js';
import { breakpointCommands } from './commands/breakpoints.js';
import { xferCommands } from './commands/xfer.js';
import { catchSyscallCommands } from './commands/catch-syscalls.js';
import { signalCommands } from './commands/signals.js';
import { hostIoCommands } from './commands/host-io.js';
import { monitorCommands } from './commands/monitor.js';
import { extendedCommands } from './commands/extended.js';

/** Every packet the stub knows, grouped by the module that handles it. */
const COMMANDS: Command[] = [
  ...baseCommands,
  ...resumeCommands,
  ...breakpointCommands,
  ...xferCommands,
  ...catchSyscallCommands,
  ...signalCommands,
  ...hostIoCommands,
  ...monitorCommands,
  ...extendedCommands,
];

/** First character -> commands starting with it, longest name first. */
const TABLE = new Map<string, Command[]>();
for (const c of [...COMMANDS].sort((a, b) => b.name.length - a.name.length)) {
  const k = c.name[0];
  if (!TABLE.has(k)) TABLE.set(k, []);
  TABLE.get(k)!.push(c);
}

/** What the client announced in qSupported. */
export interface ClientFeatures {
  multiprocess: boolean;
  swbreak: boolean;
  hwbreak: boolean;
  vContSupported: boolean;
}

export class Session {
  noAck = false;
  /** Extended mode was requested with `!`. */
  extended = false;
  client: ClientFeatures = { multiprocess: false, swbreak: false, hwbreak: false, vContSupported: false };
  /** The connection is gone. */
  closed = false;
  private readonly reader: PacketReader;
  private lastSent: Buffer | null = null;
  /** Packets that arrived while the target was running (all-stop: handled after the stop). */
  private queued: string[] = [];
  /** Largest packet body we accept and send. */
  readonly packetSize: number;

  constructor(
    readonly stub: Stub,
    private readonly write: (b: Buffer) => void,
    readonly name: string,
  ) {
    this.packetSize = stub.packetSize;
    this.reader = new PacketReader((f) => this.onFrame(f), this.packetSize);
  }

  get target(): Target | null {
    return this.stub.target;
  }

  /** Bytes from the connection. */
  feed(data: Buffer): void {
    if (!this.closed) this.reader.feed(data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stub.disconnect(this);
  }

  private onFrame(f: Frame): void {
    switch (f.kind) {
      case 'ack':
        return;
      case 'nak':
        if (this.lastSent) this.write(this.lastSent);
        return;
      case 'interrupt':
        if (this.stub.runner.running) this.stub.runner.interrupt();
        return;
      case 'bad-checksum':
        if (!this.noAck) {
          this.write(Buffer.from('-'));
          return;
        }
        // no-ack mode: the transport is reliable and the client does not retransmit
        return this.onPacket(f.body);
      case 'too-long':
        if (!this.noAck) this.write(Buffer.from('+'));
        this.send('E.packet longer than PacketSize');
        return;
      case 'packet':
        if (!this.noAck) this.write(Buffer.from('+'));
        return this.onPacket(f.body);
    }
  }

  private onPacket(body: string): void {
    if (this.stub.runner.running) {
      this.queued.push(body);
      return;
    }
    let reply: Reply;
    try {
      reply = this.dispatch(body);
    } catch (e) {
      this.stub.opts.log(`entrystub: internal error handling '${body.slice(0, 40)}': ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      reply = 'E.internal error';
    }
    if (reply === ASYNC || reply === NO_REPLY) return;
    this.send(reply);
  }

  private dispatch(body: string): Reply {
    const cands = TABLE.get(body[0]);
    if (cands) {
      for (const c of cands) {
        if (c.exact ? body !== c.name : !body.startsWith(c.name)) continue;
        // no program (extended mode): an error, not "unsupported" (gdb would call that a protocol error)
        if (c.needsTarget !== false && !this.target) return 'E01';
        if (c.when && !c.when(this)) continue;
        return c.handler(this, body.slice(c.name.length));
      }
    }
    return ''; // unknown packet: empty reply
  }

  /** Send one packet (body already escaped/encoded). */
  send(body: string): void {
    if (this.closed) return;
    const b = frame(body);
    if (!this.noAck) this.lastSent = b;
    this.write(b);
  }

  /** Send an `O` console-output packet. */
  console(text: string): void {
    this.send('O' + textToHex(text));
  }

  // ---- threads ----

  /** The thread id as the client expects it (`p<pid>.<tid>` with multiprocess). */
  threadId(): string {
    const p = (this.target?.pid ?? 1).toString(16);
    return this.client.multiprocess ? `p${p}.${p}` : p;
  }

  /** Does a thread id from the client name our thread (or all / any)? */
  isOurThread(id: string): boolean {
    const t = this.target;
    if (!t) return false;
    let s = id;
    if (s.startsWith('p')) {
      const dot = s.indexOf('.');
      const pid = s.slice(1, dot < 0 ? undefined : dot);
      if (pid !== '-1' && parseInt(pid, 16) !== t.pid) return false;
      if (dot < 0) return true;
      s = s.slice(dot + 1);
    }
    return s === '-1' || s === '0' || parseInt(s, 16) === t.pid;
  }

  // ---- execution ----

  /** Start a resume; the stop reply is sent when it stops. */
  resume(action: ResumeAction): Reply {
    const t = this.target;
    if (!t) return 'E01';
    this.stub.runner.start(t, action, (r) => this.stopped(r));
    return ASYNC;
  }

  private stopped(r: StopReason): void {
    this.stub.lastStop = r;
    this.send(this.stopReply(r));
    if (r.kind === 'exited' || r.kind === 'terminated') this.stub.programEnded();
    // packets that came in while running
    while (this.queued.length > 0 && !this.stub.runner.running) this.onPacket(this.queued.shift()!);
  }

  /** The stop reply packet (T/S/W/X) for a stop reason. */
  stopReply(r: StopReason): string {
    const t = this.target;
    const proc = this.client.multiprocess && t ? `;process:${t.pid.toString(16)}` : '';
    switch (r.kind) {
      case 'exited':
        return 'W' + hex2(r.code) + proc;
      case 'terminated':
        return 'X' + hex2(toGdbSignal(r.signal)) + proc;
    }
    if (!t) return 'W00';
    let sig = 5;
    let reason = '';
    switch (r.kind) {
      case 'swbreak':
        if (this.client.swbreak) reason = 'swbreak:;';
        break;
      case 'hwbreak':
        if (this.client.hwbreak) reason = 'hwbreak:;';
        break;
      case 'watch':
        reason = `${r.type}:${addrHex(r.addr)};`;
        break;
      case 'signal':
        sig = toGdbSignal(r.signal);
        break;
      case 'interrupted':
        sig = 2;
        break;
      case 'syscall-entry':
        reason = `syscall_entry:${r.nr.toString(16)};`;
        break;
      case 'syscall-return':
        reason = `syscall_return:${r.nr.toString(16)};`;
        break;
      case 'library':
        reason = 'library:;';
        break;
    }
    let s = 'T' + hex2(sig);
    // expedited registers: gdb needs no `g` after a step
    for (const n of t.arch.expedited) {
      const v = t.readRegister(n);
      if (v) s += hex2(n) + ':' + Buffer.from(v).toString('hex') + ';';
    }
    return s + 'thread:' + this.threadId() + ';' + reason;
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
