/**
 * Everything the emulated kernel asks the host (a file's bytes, a stat, a
 * clock, random bytes, a sleep), as one log per machine, so that history
 * can be replayed: the machine is deterministic given these answers, so a
 * fresh machine given the same log runs the same instructions to the same
 * state without asking the host again. A read of stdin is not read twice,
 * output already written is not written again, a clock gives the time it
 * gave. Past the log's end the host is asked for real again, and the
 * answers are appended (live execution).
 *
 * The kernel reaches the host only through this module's wrappers (hostFs,
 * hostOs, the functions below): test/kernel-imports.test.ts checks that no
 * kernel module imports node:fs, node:os, node:crypto or node:child_process
 * itself. The log is active only while its machine runs (Machine.run and
 * load, see withHostLog); anything else that reads through the kernel's file
 * layer (gdb's vFile, monitor commands) asks the host directly and is not
 * part of history.
 */
import * as nodeFs from 'node:fs';
import * as nodeOs from 'node:os';
import * as childProcess from 'node:child_process';
import * as crypto from 'node:crypto';

/** One answer of the host. */
interface Answer {
  /** What was asked (checked on replay: a different question means history diverged). */
  readonly op: string;
  readonly ret?: unknown;
  readonly thrown?: unknown;
  /** Bytes the call wrote into its caller's buffers (a read's data), copied back on replay. */
  readonly fills?: Uint8Array[];
}

/** Replay asked a different question than the recorded run: the machine is not deterministic there. */
export class HistoryDiverged extends Error {
  constructor(at: number, asked: string, recorded: string) {
    super(`history diverged at host answer ${at}: replay asked ${asked}, the recorded run asked ${recorded}`);
  }
}

export class HostLog {
  /** answers: a recorded history to replay (a copy: this log appends to it once it runs live). */
  constructor(private readonly answers: Answer[] = []) {}

  /** Index of the next answer; at the end, the host is asked for real. */
  private cursor = 0;
  /** Index of answers[0]: the answers before it were dropped with the history they belonged to (dropBefore). */
  private base = 0;
  /** Bytes kept for fills (reads): what history costs beyond the answers themselves. */
  bytes = 0;
  /** Questions answered by the host itself while this log was active (a replay makes none until its end). */
  live = 0;

  /** A log for a fresh machine that replays this one's history from the start (while no answer was dropped). */
  replay(): HostLog {
    const r = new HostLog(this.answers.slice());
    r.bytes = this.bytes;
    r.base = r.cursor = this.base;
    return r;
  }

  /** History before answer `cursor` is gone (bounded history): its answers are dropped. */
  dropBefore(cursor: number): void {
    const n = Math.min(cursor, this.cursor) - this.base;
    if (n <= 0) return;
    for (const a of this.answers.splice(0, n)) for (const b of a.fills ?? []) this.bytes -= b.length;
    this.base += n;
  }

  /** A log for a machine restored from a snapshot taken when this log's next answer was `cursor`: it replays from there. */
  replayFrom(cursor: number): HostLog {
    const r = this.replay();
    r.cursor = Math.max(this.base, Math.min(cursor, this.base + this.answers.length));
    return r;
  }

  /** The index of the next answer (a snapshot of the machine notes where its log stood). */
  get position(): number {
    return this.cursor;
  }

  /** Answers recorded. */
  get length(): number {
    return this.base + this.answers.length;
  }

  /** The machine is replaying (some recorded answers are still to come). */
  get replaying(): boolean {
    return this.cursor < this.length;
  }

  /** Answer op: from the log while it lasts, else from the host (and record it). */
  ask<A extends unknown[], R>(op: string, fn: (...a: A) => R, args: A, fills?: Fills<A, R>): R {
    if (this.cursor < this.base + this.answers.length) {
      const a = this.answers[this.cursor - this.base];
      if (a.op !== op) throw new HistoryDiverged(this.cursor, op, a.op);
      this.cursor++;
      if (a.fills) {
        const into = fills!(args, a.ret as R);
        a.fills.forEach((b, k) => into[k].set(b));
      }
      if ('thrown' in a) throw a.thrown;
      return a.ret as R;
    }
    this.live++;
    let ret: R;
    // a question asked while answering one is part of that answer: not logged on its own (a replay never asks it)
    active = null;
    try {
      ret = fn(...args);
    } catch (e) {
      this.answers.push({ op, thrown: e });
      this.cursor++;
      throw e;
    } finally {
      active = this;
    }
    let copied: Uint8Array[] | undefined;
    if (fills) {
      copied = fills(args, ret).map((b) => b.slice());
      for (const b of copied) this.bytes += b.length;
    }
    this.answers.push(copied ? { op, ret, fills: copied } : { op, ret });
    this.cursor++;
    return ret;
  }
}

/** The caller's buffers a call wrote into, given its arguments and result. */
type Fills<A extends unknown[], R> = (args: A, ret: R) => Uint8Array[];

let active: HostLog | null = null;

/** From here on, log records (or replays) the host's answers; null: the host answers and nothing is kept. Returns the log that was active. */
export function enterHostLog(log: HostLog | null): HostLog | null {
  const prev = active;
  active = log;
  return prev;
}

/** A log is recording or replaying the host's answers now (a machine with history is running or loading). */
export function hostLogActive(): boolean {
  return active !== null;
}

/** Run f with log active (enterHostLog), then the one active before. */
export function withHostLog<T>(log: HostLog | null, f: () => T): T {
  const prev = enterHostLog(log);
  try {
    return f();
  } finally {
    active = prev;
  }
}

/** fn as a question to the host: answered through the active log, if any (a replay returns the recorded answer without calling fn). */
export function asked<A extends unknown[], R>(op: string, fn: (...a: A) => R, fills?: Fills<A, R>): (...a: A) => R {
  return (...args: A): R => (active === null ? fn(...args) : active.ask(op, fn, args, fills));
}

function bytesOf(v: NodeJS.ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** readSync(fd, buffer, offset, length, position) or readSync(fd, buffer, options): the bytes it read. */
const readFills: Fills<unknown[], number> = (args, n) => {
  const buf = bytesOf(args[1] as NodeJS.ArrayBufferView);
  const off = typeof args[2] === 'number' ? args[2] : ((args[2] as { offset?: number } | undefined)?.offset ?? 0);
  return [buf.subarray(off, off + n)];
};

/** readvSync(fd, buffers, position): the buffers filled in order, n bytes in all. */
const readvFills: Fills<unknown[], number> = (args, n) => {
  const out: Uint8Array[] = [];
  for (const v of args[1] as NodeJS.ArrayBufferView[]) {
    if (n <= 0) break;
    const b = bytesOf(v);
    out.push(b.subarray(0, Math.min(n, b.length)));
    n -= b.length;
  }
  return out;
};

/** A directory being read: each entry is a question of its own. */
function loggedDir(dir: nodeFs.Dir): nodeFs.Dir {
  return Object.assign(Object.create(dir) as nodeFs.Dir, {
    readSync: asked('Dir.readSync', () => dir.readSync()),
    closeSync: asked('Dir.closeSync', () => dir.closeSync()),
  });
}

/**
 * mod with the functions whose keys pass `wrap` as questions to the host, `own` as given, and the rest read from
 * mod when used: some of node:fs's are getters that load modules (fs.ReadStream loads the file streams, ~7 ms of
 * every start, issue 16), which reading every value here would run.
 */
function logModule<M extends object>(name: string, mod: M, wrap: (key: string) => boolean, special: Record<string, Fills<unknown[], never>> = {}, own: Record<string, unknown> = {}): M {
  const out: Record<string, unknown> = { ...own };
  for (const key of Object.keys(mod)) {
    if (key in own) continue;
    const v = wrap(key) ? (mod as Record<string, unknown>)[key] : undefined;
    if (typeof v === 'function') out[key] = asked(`${name}.${key}`, v as (...a: unknown[]) => unknown, special[key] as Fills<unknown[], unknown>);
    else Object.defineProperty(out, key, { get: () => (mod as Record<string, unknown>)[key], enumerable: true });
  }
  return out as M;
}

/** node:fs as the kernel uses it: every *Sync call a question to the host (the classes and constants as they are). */
export const hostFs: typeof nodeFs = logModule('fs', nodeFs, (k) => k.endsWith('Sync'), { readSync: readFills, readvSync: readvFills } as Record<string, Fills<unknown[], never>>, {
  opendirSync: asked('fs.opendirSync', (p: nodeFs.PathLike, o?: nodeFs.OpenDirOptions) => loggedDir(nodeFs.opendirSync(p, o))),
});

/** node:os as the kernel uses it: the machine's figures (load, uptime, free memory) change from run to run. */
export const hostOs: typeof nodeOs = logModule('os', nodeOs, () => true);

export const randomBytes = asked('crypto.randomBytes', (n: number): Buffer => crypto.randomBytes(n));
export const randomFillSync = asked('crypto.randomFillSync', <T extends NodeJS.ArrayBufferView>(b: T): T => crypto.randomFillSync(b), (args) => [bytesOf(args[0] as NodeJS.ArrayBufferView)]);
// childProcess.spawnSync read at the call, not here: the bundle loads node:child_process (net, streams: ~10 ms) on its
// first use (scripts/bundle.mjs), and few runs spawn a host process
export const spawnSync = asked('child_process.spawnSync', (...a: unknown[]): unknown => (childProcess.spawnSync as (...x: unknown[]) => unknown)(...a)) as typeof childProcess.spawnSync;

/**
 * CLOCK_REALTIME minus the monotonic clock, read once when the emulator
 * starts: the wall clock runs smoothly from there (a replay in the same
 * process reads the same offset, and the monotonic readings come from the log).
 */
export const REALTIME_BASE_NS = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();

/** process.hrtime.bigint(): CLOCK_MONOTONIC's source. */
export const hrtimeNs = asked('hrtime', (): bigint => process.hrtime.bigint());
/** Date.now(). */
export const dateNow = asked('Date.now', (): number => Date.now());

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/** Block the thread for ms milliseconds (a replay does not wait: the clocks it reads afterwards say how long it took). */
export const sleepMs = asked('sleep', (ms: number): void => {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
});
