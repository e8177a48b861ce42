/**
 * One debugger connection: framing state (ack mode, retransmission), what
 * the client said it supports, its vFile descriptors, and the dispatch of
 * packets to the command table. The session turns bytes into packets,
 * packets into handler calls (each with a PacketContext, never the session
 * itself), and stop reasons into stop replies. What outlives the connection
 * (the program, the last stop) belongs to its host, the stub.
 *
 * States: idle (waiting for a packet), running (a resume in progress: only
 * the interrupt byte is acted on, other packets wait), closed.
 */
import { addrHex, textToHex, toHex } from './hex.js';
import { frame, PacketReader, type Frame } from './packet.js';
import { toGdbSignal } from './signals.js';
import type { HostFile, ResumeAction, StopReason, Target } from './target.js';
import { COMMANDS } from './commands/index.js';
import { E_INVAL, MALFORMED, UNSUPPORTED, type Command } from './commands/command.js';
import { NO_REPLY, type ClientFeatures, type FileTable, type PacketContext, type ProgramControl, type Reply } from './commands/context.js';

interface Entry {
  command: Command;
  /** The name is a word (longer than one character, ending in a letter or digit): `qC` is not the start of `qCRC:`. */
  word: boolean;
}

/** First character -> commands starting with it, longest name first (alternatives of one name keep their order). */
const TABLE = new Map<string, Entry[]>();
for (const c of [...COMMANDS].sort((a, b) => b.name.length - a.name.length)) {
  const k = c.name[0];
  if (!TABLE.has(k)) TABLE.set(k, []);
  TABLE.get(k)!.push({ command: c, word: c.name.length > 1 && /[A-Za-z0-9]$/.test(c.name) });
}

function nameMatches(body: string, e: Entry): boolean {
  const name = e.command.name;
  if (!body.startsWith(name)) return false;
  return !e.word || body.length === name.length || !isWordChar(body.charCodeAt(name.length));
}

/** [A-Za-z0-9_] */
function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x5f || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
}

/** Packets kept while the program runs (gdb sends none but the interrupt byte; a flood is dropped, not stored). */
const MAX_QUEUED = 256;
/** vFile descriptors one connection may hold open (gdb uses a handful). */
const MAX_OPEN_FILES = 256;

/** What a session needs from the stub that hosts it. */
export interface SessionHost {
  readonly target: Target;
  readonly packetSize: number;
  readonly lastStop: StopReason;
  readonly attachedToExisting: boolean;
  /** A resume is in progress. */
  readonly running: boolean;
  /** Resumes started so far (the program may have changed since a count was taken). */
  readonly resumes: number;
  /** Start a resume; onStop hears its stop (unless the session goes away first). */
  resume(action: ResumeAction, onStop: (r: StopReason) => void): void;
  /** Stop the running resume (the interrupt byte). */
  interrupt(): void;
  /** The stop reply for an exit or termination was sent: the program is gone. */
  programEnded(): void;
  /** The last process the client followed ended while others live: they run on their own. */
  lastFollowedEnded(): void;
  kill(): void;
  detach(): void;
  attach(): void;
  /** Start a program: its first stop, or why it cannot run. */
  run(argv: string[]): StopReason | { error: string };
  restart(): void;
  exit(): void;
  log(msg: string): void;
  /** The session ended (the connection closed or was dropped). */
  closed(s: Session): void;
}

export class Session {
  private noAck = false;
  private client: ClientFeatures = { multiprocess: false, swbreak: false, hwbreak: false, vContSupported: false };
  /** The connection is gone. */
  closed = false;
  /** A well-formed packet has arrived (the handshake timeout no longer applies). */
  greeted = false;
  private readonly reader: PacketReader;
  private lastSent: Buffer | null = null;
  /**
   * gdb's first packet after a stop reply, when it was a memory read: at a
   * step gdb reads the frame's return address (the same 64-byte line while
   * the step stays in one frame), and the stub can read it before it is
   * asked, while gdb works on the stop reply (prepare()).
   */
  private readAfterStop: string | null = null;
  /** A stop reply went out and no packet has come since. */
  private justStopped = false;
  /** The reply to readAfterStop, read from the memory as it stands since the stop; good for the next packet only. */
  private prepared: { body: string; reply: string; resumes: number } | null = null;
  /** Packets that arrived while the target was running (all-stop: handled after the stop). */
  private queued: string[] = [];
  private readonly files = new Map<number, HostFile>();
  private nextFd = 3;
  private readonly cx: PacketContext;

  constructor(
    private readonly host: SessionHost,
    private readonly write: (b: Buffer) => void,
    readonly name: string,
    /** End the connection from our side (`monitor exit`). */
    private readonly hangup: () => void,
  ) {
    this.reader = new PacketReader((f) => this.onFrame(f), host.packetSize);
    this.cx = this.context();
  }

  /** Bytes from the connection. */
  feed(data: Buffer): void {
    if (!this.closed) this.reader.feed(data);
  }

  /** The connection ended: release what it held (vFile descriptors), then tell the host. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queued = [];
    for (const f of this.files.values()) f.close();
    this.files.clear();
    this.hangup();
    this.host.closed(this);
  }

  private onFrame(f: Frame): void {
    switch (f.kind) {
      case 'ack':
        return;
      case 'nak':
        if (this.lastSent) this.write(this.lastSent);
        return;
      case 'interrupt':
        if (this.host.running) this.host.interrupt();
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
        this.greeted = true;
        return this.onPacket(f.body);
    }
  }

  private onPacket(body: string): void {
    if (this.justStopped) {
      this.justStopped = false;
      this.readAfterStop = body[0] === 'm' ? body : null;
    }
    const ready = this.prepared;
    this.prepared = null;
    if (ready !== null && ready.body === body && ready.resumes === this.host.resumes && !this.host.running) return this.send(ready.reply);
    if (this.host.running) {
      if (this.queued.length < MAX_QUEUED) this.queued.push(body);
      else if (this.queued.length === MAX_QUEUED) {
        this.host.log(`entrystub: ${this.name} sends packets while the program runs; dropping them until it stops`);
        this.queued.push(''); // the marker: logged once per stop
      }
      return;
    }
    let reply: Reply;
    try {
      reply = this.dispatch(body);
    } catch (e) {
      this.host.log(`entrystub: internal error handling '${body.slice(0, 40)}': ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      reply = 'E.internal error';
    }
    if (reply === NO_REPLY) return;
    if (typeof reply === 'string') return this.send(reply);
    this.host.resume(reply.resume, (r) => this.stopped(r));
  }

  private dispatch(body: string): Reply {
    let malformed = false;
    for (const e of TABLE.get(body[0]) ?? []) {
      if (!nameMatches(body, e)) continue;
      const r = e.command.run(body.slice(e.command.name.length), this.cx);
      if (r === UNSUPPORTED) return '';
      if (r === MALFORMED) {
        malformed = true; // another entry of the same name may take these arguments
        continue;
      }
      return r;
    }
    return malformed ? E_INVAL : ''; // unknown packet: empty reply
  }

  /** Send one packet (body already escaped/encoded). */
  private send(body: string): void {
    if (this.closed) return;
    const b = frame(body);
    if (!this.noAck) this.lastSent = b;
    this.write(b);
  }

  /** The stub's program stopped (a resume of this session, or the stop of a program this session attached to). */
  stopped(r: StopReason): void {
    this.send(this.stopReply(r));
    this.justStopped = true;
    this.prepared = null;
    if (r.kind === 'exited' || r.kind === 'terminated') this.host.programEnded();
    else if ((r.kind === 'process-exited' || r.kind === 'process-terminated') && r.last) this.host.lastFollowedEnded();
    this.drain();
  }

  /**
   * The transport has sent the replies and waits for the client: read now
   * what gdb asked first after the previous stop, if it is likely to ask it
   * again (a stop reply just went out). Nothing changes memory before the
   * next packet (the program is stopped, and only a packet resumes it or
   * writes), and the answer serves only a next packet identical to it.
   */
  prepare(): void {
    const body = this.readAfterStop;
    if (!this.justStopped || body === null || this.prepared !== null || this.host.running || this.closed || this.queued.length > 0) return;
    let reply: Reply;
    try {
      reply = this.dispatch(body);
    } catch {
      return; // asked for real, it is answered (or its error logged) then
    }
    if (typeof reply === 'string') this.prepared = { body, reply, resumes: this.host.resumes };
  }

  /** Handle the packets that came in while the program ran. */
  drain(): void {
    if (this.queued.length > MAX_QUEUED) this.queued.length = MAX_QUEUED;
    while (this.queued.length > 0 && !this.host.running && !this.closed) this.onPacket(this.queued.shift()!);
  }

  private threadId(tid: number): string {
    const t = this.host.target;
    const pid = t.threads?.list().find((th) => th.tid === tid)?.pid ?? t.pid ?? tid;
    return this.threadIdOf(pid, tid);
  }

  /** The thread-id of a thread whose process is known. */
  private threadIdOf(pid: number, tid: number): string {
    return this.client.multiprocess ? `p${pid.toString(16)}.${tid.toString(16)}` : tid.toString(16);
  }

  /** The stop reply packet (T/S/W/X) for a stop reason. */
  private stopReply(r: StopReason): string {
    const t = this.host.target;
    const pid = t.pid;
    const proc = (p: number | null) => (this.client.multiprocess && p !== null ? `;process:${p.toString(16)}` : '');
    switch (r.kind) {
      case 'exited':
        return 'W' + hex2(r.code) + proc(pid);
      case 'terminated':
        return 'X' + hex2(toGdbSignal(r.signal)) + proc(pid);
      case 'process-exited':
        return 'W' + hex2(r.code) + proc(r.pid);
      case 'process-terminated':
        return 'X' + hex2(toGdbSignal(r.signal)) + proc(r.pid);
      case 'thread-exited':
        return 'w' + hex2(r.code) + ';' + this.threadId(r.tid ?? pid ?? 0);
    }
    if (pid === null) return 'W00';
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
      case 'fork':
      case 'vfork':
        // the new process's one thread: its tid is its pid
        reason = `${r.kind}:${this.client.multiprocess ? `p${r.child.toString(16)}.${r.child.toString(16)}` : r.child.toString(16)};`;
        break;
      case 'vforkdone':
        reason = 'vforkdone:;';
        break;
      case 'thread-created':
        reason = 'create:;';
        break;
      case 'exec':
        reason = `exec:${textToHex(r.path)};`;
        break;
    }
    let s = 'T' + hex2(sig);
    // expedited registers: gdb needs no `g` after a step
    for (const n of t.arch.expedited) {
      const v = t.registers.read(n);
      if (v) s += hex2(n) + ':' + toHex(v) + ';';
    }
    if (r.historyBegin) reason += 'replaylog:begin;';
    // the stop's thread; without one, the selected thread, whose process is known without listing every thread
    const sel = r.tid === undefined ? t.processes?.selected() : undefined;
    const thread = sel ? this.threadIdOf(sel.pid, sel.tid) : this.threadId(r.tid ?? pid);
    return s + 'thread:' + thread + ';' + reason;
  }

  /** What the handlers may touch. */
  private context(): PacketContext {
    const host = this.host;
    const files: FileTable = {
      add: (f) => {
        if (this.files.size >= MAX_OPEN_FILES) return null;
        while (this.files.has(this.nextFd)) this.nextFd++;
        const fd = this.nextFd++;
        this.files.set(fd, f);
        return fd;
      },
      get: (fd) => this.files.get(fd),
      close: (fd) => {
        const f = this.files.get(fd);
        if (!f) return false;
        this.files.delete(fd);
        f.close();
        if (fd < this.nextFd) this.nextFd = fd;
        return true;
      },
    };
    const program: ProgramControl = {
      get lastStop() {
        return host.lastStop;
      },
      get attachedToExisting() {
        return host.attachedToExisting;
      },
      kill: () => host.kill(),
      detach: () => host.detach(),
      attach: () => host.attach(),
      run: (argv) => {
        const r = host.run(argv);
        return 'error' in r ? `E.${r.error}` : this.stopReply(r);
      },
      restart: () => host.restart(),
      exit: () => host.exit(),
    };
    const session = this;
    return {
      target: host.target,
      packetSize: host.packetSize,
      get client() {
        return session.client;
      },
      negotiate: (features) => {
        this.client = features;
      },
      startNoAck: (reply) => {
        // this reply still goes out in ack mode; from the next packet on, no acks
        this.send(reply);
        this.noAck = true;
      },
      console: (text) => this.send('O' + textToHex(text)),
      stopReply: (r) => this.stopReply(r),
      threadId: (tid) => this.threadId(tid),
      get running() {
        return host.running;
      },
      program,
      files,
      log: (msg) => host.log(msg),
    };
  }
}

const HEX2: string[] = Array.from({ length: 256 }, (_, n) => n.toString(16).padStart(2, '0'));

function hex2(n: number): string {
  return n >= 0 && n < 256 ? HEX2[n] : n.toString(16).padStart(2, '0');
}
