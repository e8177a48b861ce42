/**
 * Reverse execution. The machine is deterministic given the host's answers
 * (kernel/hostlog.ts) and what the debugger did to it, so history needs no
 * undo log: a GuestProcess recorded here keeps every call the debugger made
 * on it that can change what happens next (runs with their budgets, resumes
 * with a signal, register and memory writes, breakpoints, catches, which
 * task runs), and going back to an earlier instant means restoring the
 * nearest snapshot before it (Kept: taken every SNAPSHOT_INTERVAL guest
 * instructions while recording, and more finely while going back) and
 * re-issuing the recorded calls from there up to that instant. The restored
 * machine then takes the old one's place; running forward from there replays
 * the rest of the host's answers (a read of stdin is not read again, output
 * is not written again) until it is past the end of history, where it runs
 * live.
 *
 * An instant is a count of guest instructions (every task's, the guest
 * kernel's included), so a reverse step lands back inside the entry path as
 * readily as in user code. reverse-continue goes back stretch by stretch
 * (the history between two snapshots), newest first: a stretch whose notes
 * (src/machine/stretch.ts: the code it ran, the syscall stops looked for,
 * the pages read; a write watchpoint's page unchanged at both ends) show
 * that none of the breakpoints, watchpoints and catches set now could stop
 * in it is passed over; the others are replayed, with today's settings laid
 * over the ones set then, noting every place one would have stopped, and the
 * last of them is where the replay goes again and stops.
 *
 * So the cost of a reverse step is a replay of at most a stretch, and that of
 * a reverse-continue the stretches that may hold its stop (the figures are
 * in the README).
 */
import type { GuestEvent, GuestExecution, GuestMemory, GuestProcess, GuestRegs, GuestReverse, ReverseStop } from './port.js';

type WatchType = 'watch' | 'rwatch' | 'awatch';

/** A call on the process that can change what happens next, as it was made. */
interface Call {
  /** Make the same call on a replaying process (overlay: lay today's stop settings over it). */
  redo(p: GuestProcess, overlay: Overlay | null): void;
}

/** A run() call: how far it got and how it ended. */
interface RunCall {
  budget: number;
  resumeFrom: number;
  /** A debugger's step (a timer tick does not divert it: see GuestExecution.run). */
  stepping: boolean;
  /** Instructions executed before and after (the machine's icount). */
  from: number;
  to: number;
  /** Its event's kind (null: the budget ran out). */
  ended: GuestEvent['kind'] | null;
}

/** A call, or a run; setting: a call that sets where the machine stops (redone, with today's settings laid over, when a scan starts from a snapshot). */
type Entry = { call: Call; setting?: boolean } | { run: RunCall };

/** A snapshot of the machine (machine-port.ts), taken after entries[0 .. index) at instant icount. */
interface Kept {
  index: number;
  icount: number;
  state: unknown;
  /** Taken while going back (at recorded runs' ends, a tenth of the interval apart): kept only while going back near it. */
  fine?: boolean;
}

/**
 * Guest instructions between two snapshots while recording: a replay from the nearest is at most this long. A
 * snapshot costs about a millisecond of the clone and the collection of what it holds, whatever the interval:
 * once the block compiler's traces ran bench-crc at 340 M instructions a second, one every million instructions
 * cost 55% and more of the forward run (the figure is 25%), one every 4 million 16-25%; and 4 million
 * instructions replay in about 15 ms, far under a reverse-stepi's 50 ms.
 */
export const SNAPSHOT_INTERVAL = 4_000_000;
/** Going back, fine snapshots are taken this many times more often than while recording (the next steps back are then short). */
const FINE = 10;
/** The most segments reverse-continue replays in one run (continueBack). */
const MAX_BATCH = 16;

/** The stop settings in force now: reverse-continue stops where these would have stopped. */
interface Overlay {
  sw: number[];
  hw: number[];
  watches: { type: WatchType; addr: number; len: number }[];
  catching: null | 'all' | ReadonlySet<number>;
}

/** A place in the replay where today's settings would stop. */
interface Candidate {
  /** Its order among the replay's stops of this kind (the replay that lands on it counts the same way). */
  ordinal: number;
  icount: number;
  event: GuestEvent;
}

/** A process recorded for reverse execution: it replays its own host answers in a fresh copy (machine-port.ts). */
export interface Replayable {
  replay(): GuestProcess & Replayable;
  /** A snapshot of the machine as it stands (opaque). */
  snapshot(): unknown;
  /** A fresh process standing where the snapshot was taken, replaying the host's answers from there. */
  restore(s: unknown): GuestProcess & Replayable;
  snapshotFacts(s: unknown): { icount: number; objects: number; pages: number; copied: number; thawed: number };
  /** The guest's resident memory (bytes), and how many frozen pages it has thawed so far. */
  memoryFacts(): { resident: number; thawed: number };
  /** History before the snapshot is gone: the host's answers before it are dropped. */
  dropLogBefore(s: unknown): void;
  /**
   * What ran since the last call, and a fresh note from here (null: it was
   * not noting): where code ran (the [start, end) of the blocks run,
   * flattened), the syscall numbers a stop was looked for, the pages read.
   */
  takeRan(): { code: number[]; syscalls: number[]; reads: number[] } | null;
  /**
   * Did nothing write [addr, addr+len) between two instants of this history,
   * snapshot a's and snapshot b's (null: the machine as it stands)? False when
   * it cannot tell.
   */
  unwritten(a: unknown, b: unknown | null, addr: number, len: number): boolean;
}

/**
 * What ran in instants [from, to) of history, each a superset: where code
 * ran, sorted [start, end) pairs of blocks (RanLog, src/cpu/run.ts); the
 * syscall numbers a stop was looked for; the pages read, sorted.
 */
interface Ran {
  from: number;
  to: number;
  ranges: Float64Array;
  syscalls: ReadonlySet<number>;
  reads: Float64Array;
}

/** How much history is kept (serve --history, --history-memory). */
export interface HistoryBounds {
  /** Guest instructions between snapshots (0: none; every step back replays from the first instruction, and nothing is dropped). */
  interval?: number;
  /** Keep at least the last this many instructions (Infinity: everything). */
  insns?: number;
  /** Bytes the snapshots may hold (null: twice the guest's resident memory, at least MIN_HISTORY_MEMORY). */
  memory?: number | null;
}

/** The least the snapshots may hold when the bound is twice a small guest's resident memory. */
export const MIN_HISTORY_MEMORY = 16 * 1024 * 1024;
/** What a snapshot costs beyond pages: its objects (an estimate per object cloned). */
const OBJECT_COST = 128;
const PAGE_BYTES = 4096;

export class History implements GuestProcess, GuestReverse {
  private inner: GuestProcess & Replayable;
  private entries: Entry[] = [];
  /** Today's stop settings (the last ones the debugger set). */
  private sw: number[] = [];
  private hw: number[] = [];
  /** Today's sets of each followed process (a debugger following several keeps one per process). */
  private readonly own = new Map<number, { sw: number[]; hw: number[] }>();
  private readonly watches = new Map<string, { type: WatchType; addr: number; len: number }>();
  private catching: null | 'all' | ReadonlySet<number> = null;
  /** Replays made (monitor history). */
  replays = 0;
  /** Snapshots, in order of their instants (the first: the start). */
  private snaps: Kept[] = [];
  /** Instructions replayed in all (monitor history: what going back cost). */
  replayed = 0;
  /** Stretches of history skipped by reverse-continue without a replay, as they could not have stopped (monitor history). */
  skipped = 0;
  /** Where code ran, stretch by stretch, in the history kept (reverse-continue skips a stretch that cannot hold a breakpoint). */
  private ran: Ran[] = [];
  /** The instant since which the machine in place notes where code runs. */
  private ranFrom = 0;

  private readonly interval: number;
  private readonly keepInsns: number;
  private readonly memoryBound: number | null;

  constructor(first: GuestProcess & Replayable, bounds: HistoryBounds = {}) {
    this.interval = bounds.interval ?? SNAPSHOT_INTERVAL;
    this.keepInsns = bounds.insns ?? Infinity;
    this.memoryBound = bounds.memory ?? null;
    this.inner = first;
    first.takeRan();
    this.ranFrom = first.exec.icount();
    if (this.interval > 0) {
      const state = first.snapshot();
      this.snaps.push({ index: 0, icount: 0, state });
      // the machine that runs is a restored copy from the start: every machine that will ever run (going back restores
      // copies) is then made the same way, with the same object shapes, and the engine's code optimized for the one that
      // recorded stays good for the ones restored (a first step back spent ~150 ms of CPU re-optimizing it)
      this.inner = first.restore(state);
    }
    this.pid = first.pid;
    const cur = () => this.inner;
    this.regs = {
      getRegs: (o) => cur().regs.getRegs(o),
      setRegs: (d) => {
        const c = d.slice();
        this.input((p) => p.regs.setRegs(c));
      },
      peekUser: (s, o, off) => cur().regs.peekUser(s, o, off),
      getFpRegs: (o) => cur().regs.getFpRegs(o),
      setFpRegs: (d) => {
        const c = d.slice();
        this.input((p) => p.regs.setFpRegs(c));
      },
      pc: () => cur().regs.pc(),
      setPc: (pc) => this.input((p) => p.regs.setPc(pc)),
    } satisfies GuestRegs;
    this.mem = {
      peek: (a, o) => cur().mem.peek(a, o),
      poke: (a, d) => {
        const c = d.slice();
        return this.input((p) => p.mem.poke(a, c));
      },
    } satisfies GuestMemory;
    this.exec = {
      run: (budget, resumeFrom, stepping) => this.run(budget, resumeFrom, stepping),
      resumeSignal: (sig) => this.input((p) => p.exec.resumeSignal(sig)),
      kill: () => cur().exec.kill(),
      ended: () => cur().exec.ended(),
      catchSyscalls: (which) => {
        const w = which === null || which === 'all' ? which : new Set(which);
        this.catching = w;
        this.config((p, o) => p.exec.catchSyscalls(o ? union(w, o.catching) : w), true);
      },
      syscallNumbers32: (numbers) => this.config((p) => p.exec.syscallNumbers32(numbers)),
      stopOnSignals: (on, pass) => {
        const ps = new Set(pass);
        this.config((p) => p.exec.stopOnSignals(on, ps));
      },
      setBreakpoints: (sw, hw) => {
        const s = [...sw], h = [...hw];
        [this.sw, this.hw] = [s, h];
        this.own.clear();
        this.config((p, o) => p.exec.setBreakpoints(o ? [...s, ...o.sw] : s, o ? [...h, ...o.hw] : h), true);
      },
      addWatch: (type, addr, len) => {
        const ok = this.input((p) => p.exec.addWatch(type, addr, len), true);
        if (ok) this.watches.set(`${type}:${addr}:${len}`, { type, addr, len });
        return ok;
      },
      removeWatch: (type, addr, len) => {
        this.watches.delete(`${type}:${addr}:${len}`);
        this.config((p, o) => {
          // a watch laid over by today's settings stays
          if (!o?.watches.some((w) => w.type === type && w.addr === addr && w.len === len)) p.exec.removeWatch(type, addr, len);
        }, true);
      },
      clearWatches: () => {
        this.watches.clear();
        this.config((p, o) => {
          p.exec.clearWatches();
          for (const w of o?.watches ?? []) p.exec.addWatch(w.type, w.addr, w.len);
        }, true);
      },
      insnsWithin: (s, e) => cur().exec.insnsWithin(s, e),
      icount: () => cur().exec.icount(),
      catchEvents: (ev) => {
        const e = { ...ev };
        this.config((p) => p.exec.catchEvents(e));
      },
      threadEvents: (on) => this.config((p) => p.exec.threadEvents(on)),
      resumeOnly: (tids) => {
        const t = tids === 'all' ? tids : new Set(tids);
        this.config((p) => p.exec.resumeOnly(t));
      },
      focus: (tid) => this.input((p) => p.exec.focus(tid)),
      detachProcess: (pid) => this.input((p) => p.exec.detachProcess(pid)),
      killProcess: (pid) => this.input((p) => p.exec.killProcess(pid)),
      setProcessBreakpoints: (pid, sw, hw) => {
        const s = [...sw], h = [...hw];
        this.own.set(pid, { sw: s, hw: h });
        this.config((p, o) => p.exec.setProcessBreakpoints(pid, o ? [...s, ...o.sw] : s, o ? [...h, ...o.hw] : h), true);
      },
    } satisfies GuestExecution;
  }

  readonly pid: number;
  readonly reverse: GuestReverse = this;
  readonly regs: GuestRegs;
  readonly mem: GuestMemory;
  readonly exec: GuestExecution;
  get files(): GuestProcess['files'] {
    return this.inner.files;
  }

  get image(): GuestProcess['image'] {
    return this.inner.image;
  }

  /**
   * The entry-path facts, as the machine in place has them; the two
   * settings that change when timer interrupts are taken (a tick armed for a
   * chosen instruction, steps that may be interrupted) are calls of history.
   */
  readonly kernel: GuestProcess['kernel'] = new Proxy({} as GuestProcess['kernel'], {
    get: (_t, key) => {
      if (key === 'armTimer') return (n: number) => this.input((p) => p.kernel.armTimer(n));
      const k = this.inner.kernel;
      const v: unknown = Reflect.get(k, key);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(k) : v;
    },
    set: (_t, key, v) => {
      if (key === 'stepInterrupts') this.input((p) => void (p.kernel.stepInterrupts = Boolean(v)));
      else Reflect.set(this.inner.kernel, key, v);
      return true;
    },
  });

  tasks(): ReturnType<GuestProcess['tasks']> {
    return this.inner.tasks();
  }

  select(tid: number): boolean {
    return this.input((p) => p.select(tid));
  }

  selected(): ReturnType<GuestProcess['selected']> {
    return this.inner.selected();
  }

  exePathOf(pid: number): string | null {
    return this.inner.exePathOf(pid);
  }

  dispose(): void {
    this.inner.dispose();
  }

  /** The instant the machine stands at (guest instructions since the program's first). */
  now(): number {
    return this.inner.exec.icount();
  }

  /** The first instant of history (it moves forward when a bound drops the oldest part). */
  start(): number {
    return this.snaps[0]?.icount ?? 0;
  }

  /** What `monitor history` says. */
  describe(): string {
    const runs = this.entries.filter((e) => 'run' in e).length;
    const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
    const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
    const fine = this.snaps.filter((k) => k.fine).length;
    const at = this.snaps.map((k) => k.icount);
    const list = at.length <= 12 ? at.join(', ') : `${at.slice(0, 6).join(', ')}, ... ${at.slice(-6).join(', ')}`;
    const keep = this.keepInsns === Infinity ? 'everything' : `the last ${this.keepInsns}`;
    return (
      `history: ${this.now()} guest instructions since the start; recorded from instant ${this.start()} (${this.now() - this.start()} instructions back; bound: ${keep}); ` +
      `${this.entries.length} debugger calls (${runs} runs) kept\n` +
      `snapshots: ${this.snaps.length} (${fine} fine) every ${this.interval} instructions, at ${list}; ` +
      `holding ${mib(this.heldBytes())} of ${mib(this.memoryLimit())} allowed (guest resident ${mib(this.inner.memoryFacts().resident)})\n` +
      `going back replays from the nearest snapshot: ${this.replays} replays so far, ${this.replayed} instructions replayed; ` +
      `reverse-continue skipped ${this.skipped} stretches that could not stop (${this.ran.length} stretches' notes kept, ${kib(this.notesBytes())}: ` +
      `${this.ran.reduce((n, r) => n + r.ranges.length / 2, 0)} code ranges, ${this.ran.reduce((n, r) => n + r.syscalls.size, 0)} syscall numbers, ${this.ran.reduce((n, r) => n + r.reads.length, 0)} pages read)\n`
    );
  }

  /**
   * What history holds beyond the running machine (an estimate): the bytes
   * of every page thawed since the first snapshot (its old bytes are held by
   * snapshots only), what each clone copied, and its objects; and the
   * stretches' notes.
   */
  private heldBytes(): number {
    if (this.snaps.length === 0) return 0;
    const first = this.inner.snapshotFacts(this.snaps[0].state);
    let n = (this.inner.memoryFacts().thawed - first.thawed) * PAGE_BYTES + this.notesBytes();
    for (const k of this.snaps) {
      const f = this.inner.snapshotFacts(k.state);
      n += f.copied + f.objects * OBJECT_COST;
    }
    return Math.max(0, n);
  }

  /** What the stretches' notes hold (an estimate: their arrays, a set's entry at 16 bytes, each note an object). */
  private notesBytes(): number {
    let n = 0;
    for (const r of this.ran) n += r.ranges.byteLength + r.reads.byteLength + r.syscalls.size * 16 + OBJECT_COST;
    return n;
  }

  private memoryLimit(): number {
    return this.memoryBound ?? Math.max(2 * this.inner.memoryFacts().resident, MIN_HISTORY_MEMORY);
  }

  /** Drop the oldest history while the bounds say so (keeping one snapshot: the new start). */
  private trim(): void {
    const now = this.now();
    while (this.snaps.length > 1 && (this.snaps[1].icount <= now - this.keepInsns || this.heldBytes() > this.memoryLimit())) {
      this.snaps.shift();
      const first = this.snaps[0];
      // the calls before the new start are done with
      const cut = first.index;
      this.entries = this.entries.slice(cut);
      for (const k of this.snaps) k.index -= cut;
      this.inner.dropLogBefore(first.state);
    }
    const start = this.start();
    this.ran = this.ran.filter((r) => r.to > start);
  }

  // ---- recording ----

  /** A call that changes the machine's state: made now and again on every replay. */
  private input<R>(f: (p: GuestProcess) => R, setting = false): R {
    this.entries.push({ call: { redo: (p) => void f(p) }, setting });
    return f(this.inner);
  }

  /** A call that changes where the machine stops (and so which calls follow): replayed, with today's settings laid over it when scanning. */
  private config(f: (p: GuestProcess, o: Overlay | null) => void, setting = false): void {
    this.entries.push({ call: { redo: f }, setting });
    f(this.inner, null);
  }

  private run(budget: number, resumeFrom: number, given?: boolean): GuestEvent | null {
    // as the machine takes it when not given; a replay's shorter budget must not turn a run into a step
    const stepping = given ?? budget === 1;
    const from = this.inner.exec.icount();
    const ev = this.inner.exec.run(budget, resumeFrom, stepping);
    this.entries.push({ run: { budget, resumeFrom, stepping, from, to: this.inner.exec.icount(), ended: ev?.kind ?? null } });
    this.maybeSnapshot();
    return ev;
  }

  /** A snapshot when the last is an interval behind (runs are sliced: the stub's runner runs 100k instructions at a time). */
  private maybeSnapshot(): void {
    if (this.interval <= 0 || this.inner.exec.ended()) return;
    const now = this.now();
    const last = this.snaps[this.snaps.length - 1];
    if (last && now - last.icount < this.interval) return;
    this.noteRan();
    this.snaps.push({ index: this.entries.length, icount: now, state: this.inner.snapshot() });
    this.trim();
  }

  /** Where the machine in place ran code since the last note: a stretch of history's summary. */
  private noteRan(): void {
    const now = this.now();
    const note = this.inner.takeRan();
    if (note !== null && now > this.ranFrom) this.ran.push(stretch(this.ranFrom, now, note));
    this.ranFrom = now;
  }

  /**
   * Could today's settings have stopped in instants [from, to) of history?
   * No when the watched ranges of write and access watchpoints kept the
   * same bytes from snapshot `a` to `b` (null: now), and the summaries of
   * the stretches covering it say that no code ran at a breakpoint's
   * address, no stop was looked for at a caught syscall (any syscall, when
   * all are caught), and no page of a read or access watchpoint was read.
   */
  private mayStop(from: number, to: number, a: Kept, b: Kept | null, o: Overlay): boolean {
    for (const w of o.watches) if (w.type !== 'rwatch' && !this.inner.unwritten(a.state, b?.state ?? null, w.addr, w.len)) return true;
    const bps = [...o.sw, ...o.hw];
    const read = o.watches.filter((w) => w.type !== 'watch').map((w) => [pageOf(w.addr), pageOf(w.addr + Math.max(w.len, 1) - 1)]);
    const catching = o.catching;
    if (bps.length === 0 && read.length === 0 && catching === null) return false;
    let at = from;
    for (const r of [...this.ran].sort((x, y) => x.from - y.from)) {
      if (r.to <= at || r.from >= to) continue;
      if (r.from > at) return true; // a stretch no summary covers
      if (bps.some((x) => holds(r.ranges, x))) return true;
      if (catching === 'all' ? r.syscalls.size > 0 : catching !== null && [...catching].some((nr) => r.syscalls.has(nr))) return true;
      if (read.some(([p, q]) => readAny(r.reads, p, q))) return true;
      at = r.to;
      if (at >= to) return false;
    }
    return true;
  }

  /** Do the stretches' notes cover instants [from, to) already? */
  private noted(from: number, to: number): boolean {
    let at = from;
    for (const r of [...this.ran].sort((x, y) => x.from - y.from)) {
      if (r.to <= at || r.from >= to) continue;
      if (r.from > at) return false;
      at = r.to;
      if (at >= to) return true;
    }
    return false;
  }

  /** The latest snapshot at or before instant `at` (null: none, replay from the start). */
  private snapBefore(at: number): Kept | null {
    for (let k = this.snaps.length - 1; k >= 0; k--) if (this.snaps[k].icount <= at) return this.snaps[k];
    return null;
  }

  // ---- going back ----

  /** reverse-stepi: the instant one instruction earlier (the start of history if there is none). */
  stepBack(): ReverseStop {
    const now = this.now();
    if (now <= this.start()) return { event: null, begin: true };
    this.rewind({ until: now - 1 });
    return { event: null, begin: this.now() <= this.start() };
  }

  /**
   * reverse-continue: back to the last place before now where a breakpoint,
   * watchpoint or caught syscall set now would have stopped; the start of
   * history if there is none.
   */
  continueBack(): ReverseStop {
    const now = this.now();
    // every set in force now, the followed processes' too: a breakpoint of any of them stops going back
    const own = [...this.own.values()];
    const overlay: Overlay = {
      sw: [...new Set([...this.sw, ...own.flatMap((o) => o.sw)])],
      hw: [...new Set([...this.hw, ...own.flatMap((o) => o.hw)])],
      watches: [...this.watches.values()],
      catching: this.catching,
    };
    this.noteRan();
    // segment by segment backwards, each from its snapshot: the cost is the distance gone back, not the length of history;
    // a segment where today's settings cannot have stopped (mayStop) is passed without a replay
    let until = now;
    let end: Kept | null = null;
    let batch = 1;
    for (let first = true; ; first = false) {
      // the first segment ends now; each earlier one ends where the one after it starts
      let start = this.snapBefore(first ? now : until - 1);
      if (start !== null && !this.mayStop(start.icount, until, start, end, overlay)) {
        this.skipped++;
        if (start.icount <= this.start()) break;
        [until, end] = [start.icount, start];
        continue;
      }
      // the segments before it that may stop too are replayed with it, in one run from the earliest one's snapshot: a
      // batch that doubles as the scan goes on, so that going a long way back costs a restore (and the blocks decoded
      // anew) per batch rather than per segment, and at most twice the segments back to the stop
      for (let n = 1; n < batch && start !== null && start.icount > this.start(); n++) {
        const prev = this.snapBefore(start.icount - 1);
        if (prev === null || !this.mayStop(prev.icount, start.icount, prev, start, overlay)) break;
        start = prev;
      }
      batch = Math.min(2 * batch, MAX_BATCH);
      const found = this.replayScan(start, until, overlay);
      // a stop at this very instant is the one we stand at (a breakpoint stops before its instruction); a watch stops after the access
      // (the access of the instruction just before a segment's end is that segment's), and going back lands before it
      const before = found.filter((c) => (c.event.kind === 'watch' ? c.icount <= until : c.icount < until));
      const last = before[before.length - 1];
      if (last) {
        if (last.event.kind === 'watch') {
          // going backwards, the access is undone: gdb is shown the instruction that made it, before it ran
          this.rewind({ until: last.icount - 1 });
          return { event: last.event, begin: false };
        }
        this.rewind({ until: last.icount, overlay, candidate: last.ordinal, start });
        return { event: last.event, begin: false };
      }
      if (start === null || start.icount <= this.start()) break;
      [until, end] = [start.icount, start];
    }
    this.rewind({ until: this.start() });
    return { event: null, begin: true };
  }

  /**
   * Replay the calls of history on a machine restored from the nearest
   * snapshot (or a fresh one) up to instant `until` (or, with an overlay, up
   * to that candidate stop), then let it take the old one's place with the
   * calls it was given as its own history.
   */
  private rewind(to: { until: number; overlay?: Overlay; candidate?: number; start?: Kept | null }): void {
    const start = to.start !== undefined ? to.start : this.snapBefore(to.until);
    const fine = { step: Math.max(1, Math.floor(this.interval / FINE)), last: start?.icount ?? 0, taken: [] as Kept[] };
    const { proc, entries } = this.replayInto(start, to.until, to.overlay ?? null, to.candidate ?? -1, undefined, this.interval > 0 ? fine : undefined);
    this.inner = proc;
    this.entries = entries;
    const now = this.now();
    // what ran after now was a future that is gone; what the replay ran is a stretch of its own
    this.ran = this.ran.filter((r) => r.to <= now);
    this.ranFrom = start?.icount ?? 0;
    this.noteRan();
    // snapshots after the last call kept unchanged, or past the instant now, named a future that is gone; fine ones are kept near here only
    const from = start?.icount ?? 0;
    this.snaps = [...this.snaps, ...fine.taken]
      .filter((k) => (k.index <= entries.length - 1 || k.index === 0) && k.icount <= now && (!k.fine || (k.icount >= from && k.icount <= now)))
      .sort((a, b) => a.icount - b.icount);
    this.trim();
  }

  /** Scan history from start up to `until` with today's settings laid over it: where they would have stopped, in order. */
  private replayScan(start: Kept | null, until: number, overlay: Overlay): Candidate[] {
    const out: Candidate[] = [];
    const { proc } = this.replayInto(start, until, overlay, -1, out);
    // the scan ran that stretch of history as it was: where its code ran is kept for the next reverse-continue
    const from = start?.icount ?? 0, to = proc.exec.icount();
    const note = proc.takeRan();
    if (note !== null && to > from && !this.noted(from, to)) this.ran.push(stretch(from, to, note));
    return out;
  }

  private replayInto(
    start: Kept | null,
    until: number,
    overlay: Overlay | null,
    stopAt: number,
    found?: Candidate[],
    fine?: { step: number; last: number; taken: Kept[] },
  ): { proc: GuestProcess & Replayable; entries: Entry[] } {
    this.replays++;
    const q = start ? this.inner.restore(start.state) : this.inner.replay();
    const from = start?.index ?? 0;
    const kept: Entry[] = this.entries.slice(0, from);
    const icount0 = q.exec.icount();
    if (overlay) {
      applyOverlay(q, overlay);
      // the settings in force at the snapshot, with today's laid over them
      for (const e of kept) if ('call' in e && e.setting) e.call.redo(q, overlay);
    }
    let ordinal = 0;
    for (let k = from; k < this.entries.length; k++) {
      const e = this.entries[k];
      if ('call' in e) {
        e.call.redo(q, overlay);
        kept.push(e);
        continue;
      }
      const r = e.run;
      let icount = q.exec.icount();
      if (icount >= until) break;
      let left = Math.min(r.budget - (icount - r.from), until - icount);
      let rf = r.resumeFrom;
      for (;;) {
        const start = q.exec.icount();
        const ev = q.exec.run(left, rf, r.stepping);
        icount = q.exec.icount();
        left -= icount - start;
        const original = r.ended !== null && icount === r.to && ev?.kind === r.ended;
        if (ev && overlay && stopsHere(ev, overlay)) {
          found?.push({ ordinal, icount, event: ev });
          if (ordinal === stopAt) {
            kept.push({ run: { ...r, budget: r.budget, to: icount, ended: ev.kind } });
            this.replayed += icount - icount0;
            return { proc: q, entries: kept };
          }
          ordinal++;
        }
        if (ev === null || original || left <= 0 || icount >= until) break;
        if (ev.kind === 'exited' || ev.kind === 'killed') break;
        // a stop of today's settings the recorded run did not make: go on from it, as the recorded run went past
        rf = q.regs.pc();
      }
      kept.push({ run: { ...r, to: icount } });
      if (icount >= until) break;
      // going back to stay (not a scan): fine snapshots on the way, at the recorded runs' ends (a run cut elsewhere
      // could end a slice the recorded run did not, and the clock is read at a slice's end), so that the next steps
      // back replay a tenth as far
      if (fine && icount - fine.last >= fine.step) {
        fine.taken.push({ index: k + 1, icount, state: q.snapshot(), fine: true });
        fine.last = icount;
      }
    }
    this.replayed += q.exec.icount() - icount0;
    return { proc: q, entries: kept };
  }
}

/** A stretch's summary from the machine's note. */
function stretch(from: number, to: number, note: { code: number[]; syscalls: number[]; reads: number[] }): Ran {
  return { from, to, ranges: packRanges(note.code), syscalls: new Set(note.syscalls), reads: Float64Array.from(note.reads).sort() };
}

/** The page number of an address, as guest memory numbers pages (src/cpu/memory.ts). */
function pageOf(addr: number): number {
  return Math.floor(addr / PAGE_BYTES);
}

/** Does the sorted list of pages read hold one of pages [p, q]? */
function readAny(reads: Float64Array, p: number, q: number): boolean {
  let lo = 0, hi = reads.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (reads[m] < p) lo = m + 1;
    else hi = m;
  }
  return lo < reads.length && reads[lo] <= q;
}

/** Block ranges as RanLog gives them, deduplicated and sorted by start. */
function packRanges(flat: number[]): Float64Array {
  const pairs: [number, number][] = [];
  for (let k = 0; k < flat.length; k += 2) pairs.push([flat[k], flat[k + 1]]);
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: number[] = [];
  for (const [s, e] of pairs) {
    const n = out.length;
    if (n > 0 && out[n - 2] === s && out[n - 1] === e) continue;
    out.push(s, e);
  }
  return Float64Array.from(out);
}

/** Does one of the ranges hold address x? */
function holds(ranges: Float64Array, x: number): boolean {
  for (let k = 0; k < ranges.length && ranges[k] <= x; k += 2) if (x < ranges[k + 1]) return true;
  return false;
}

/** Lay today's stop settings on a fresh replaying process. */
function applyOverlay(p: GuestProcess, o: Overlay): void {
  p.exec.setBreakpoints(o.sw, o.hw);
  for (const w of o.watches) p.exec.addWatch(w.type, w.addr, w.len);
  p.exec.catchSyscalls(o.catching);
}

function union(a: null | 'all' | ReadonlySet<number>, b: null | 'all' | ReadonlySet<number>): null | 'all' | ReadonlySet<number> {
  if (a === 'all' || b === 'all') return 'all';
  if (a === null) return b;
  if (b === null) return a;
  return new Set([...a, ...b]);
}

/** Would today's settings stop at this event? */
function stopsHere(ev: GuestEvent, o: Overlay): boolean {
  switch (ev.kind) {
    case 'breakpoint':
      return (ev.type === 'sw' ? o.sw : o.hw).includes(ev.addr);
    case 'watch':
      return o.watches.some((w) => w.type === ev.type && w.addr === ev.addr);
    case 'syscall-entry':
    case 'syscall-return':
      return o.catching === 'all' || (o.catching !== null && o.catching.has(ev.nr));
    default:
      return false;
  }
}
