/**
 * Execution: resume (continue, step, range step, with a signal), run in
 * slices by poll(), the stop reason of each machine event, and what decides
 * which events stop: catch syscall (QCatchSyscalls) and the signals passed
 * without a stop (QPassSignals). Both settings belong to the debugger, not
 * to a process: gdb sends them only when they change, so every new process
 * gets them.
 *
 * As with ptrace: a continue stops at caught syscalls, a single or range
 * step never does; a step that delivers a signal to a handler stops at the
 * handler's first instruction.
 */
import type { CatchSyscallsOps, ExecutionOps, PassSignalsOps, ResumeAction, StopReason } from '../target.js';
import { putU32, putU64 } from '../hex.js';
import type { Breakpoints } from './breakpoints.js';
import type { GuestEvent, GuestProcess, GuestSigInfo, SyscallNumbers32 } from './port.js';

export class Execution implements ExecutionOps {
  readonly rangeStep = true;
  private action: ResumeAction = { kind: 'continue', signal: 0 };
  /** The first run of a resume passes over a breakpoint at this address (the one we are stopped at). */
  private resumeFrom = NaN;
  /** The last poll found the program sleeping in a syscall for about this many ms (idleMs). */
  private sleeping = 0;
  /** resumeSignal set up a handler frame: a step stops at the handler's first instruction. */
  private enteredHandler = false;
  private attached = true;
  private catching: null | 'all' | ReadonlySet<number> = null;
  private numbers32: SyscallNumbers32 = 'x86-64';
  private passing: ReadonlySet<number> = new Set();
  /** The process events the client follows (fork-events, vfork-events, exec-events). */
  private events = { fork: false, vfork: false, exec: false };
  private lastSiginfo: GuestSigInfo | null = null;

  constructor(
    private readonly proc: () => GuestProcess,
    private readonly current: () => GuestProcess | null,
    private readonly bps: Breakpoints,
    /** The process is gone (killed, or its end was reported): the target lets go of it. */
    private readonly gone: () => void,
    /** Processes record their history: bs and bc work (history.ts). */
    readonly reverse = false,
  ) {}

  /** A new process: it gets the debugger's settings. */
  adopt(p: GuestProcess): void {
    this.lastSiginfo = null;
    this.attached = true;
    p.exec.catchSyscalls(this.catching);
    p.exec.syscallNumbers32(this.numbers32);
    p.exec.stopOnSignals(true, this.passing);
    p.exec.catchEvents(this.events);
  }

  /** What the client announced it follows (qSupported): every process gets it. */
  setEvents(ev: { fork: boolean; vfork: boolean; exec: boolean }): void {
    this.events = { ...ev };
    this.current()?.exec.catchEvents(this.events);
  }

  readonly catchSyscalls: CatchSyscallsOps = {
    setCatch: (which) => {
      this.catching = which;
      this.current()?.exec.catchSyscalls(which);
    },
  };

  /** `monitor syscall-numbers32`: how the numbers of QCatchSyscalls and of the stops name a 32-bit task's calls. */
  get syscallNumbers32(): SyscallNumbers32 {
    return this.numbers32;
  }
  set syscallNumbers32(numbers: SyscallNumbers32) {
    this.numbers32 = numbers;
    this.current()?.exec.syscallNumbers32(numbers);
  }

  readonly passSignals: PassSignalsOps = {
    setPass: (sigs) => {
      this.passing = sigs;
      this.current()?.exec.stopOnSignals(this.attached, sigs);
    },
  };

  resume(a: ResumeAction): void {
    const p = this.proc();
    this.bps.apply();
    this.action = a;
    if (a.kind === 'reverse-step' || a.kind === 'reverse-continue') {
      // nothing is resumed: a replay of history lands on the earlier instant (poll)
      p.exec.catchSyscalls(this.attached && a.kind === 'reverse-continue' ? this.catching : null);
      return;
    }
    p.exec.catchSyscalls(this.attached && a.kind === 'continue' ? this.catching : null);
    p.exec.resumeOnly(a.threads ?? 'all');
    // a step is of the thread the client named (it runs first); registers are the running thread's from here
    if (a.thread !== undefined && (a.kind !== 'continue' || a.signal !== 0)) p.exec.focus(a.thread);
    else p.exec.focus(-1);
    if (a.addr !== undefined) p.regs.setPc(a.addr);
    const pc = p.regs.pc();
    p.exec.resumeSignal(a.signal);
    this.enteredHandler = p.regs.pc() !== pc && !p.exec.ended();
    this.resumeFrom = pc;
    this.action = a;
  }

  idleMs(): number {
    return this.sleeping;
  }

  poll(budget: number): StopReason | null {
    const a = this.action;
    const p = this.proc();
    this.sleeping = 0;
    switch (a.kind) {
      case 'step': {
        if (this.enteredHandler) return { kind: 'step' };
        const ev = p.exec.run(1, this.takeResumeFrom(), true);
        if (ev?.kind === 'blocked') return this.sleep(ev.ms); // the step ends when the syscall does
        return this.stopOf(ev) ?? { kind: 'step' };
      }
      case 'continue': {
        const ev = p.exec.run(budget, this.takeResumeFrom());
        if (ev?.kind === 'blocked') return this.sleep(ev.ms);
        return this.stopOf(ev);
      }
      case 'reverse-step':
      case 'reverse-continue': {
        const h = p.reverse;
        if (!h) return { kind: 'step' };
        const r = a.kind === 'reverse-step' ? h.stepBack() : h.continueBack();
        const st: StopReason = (r.event && this.stopOf(r.event)) || { kind: 'step' };
        if (r.begin) st.historyBegin = true;
        return st;
      }
      case 'range': {
        const start = a.start ?? 0, end = a.end ?? 0;
        let left = budget;
        while (left > 0) {
          // whole blocks that lie inside the range, single instructions at its edges
          const n = p.exec.insnsWithin(start, end);
          const ev = p.exec.run(n, this.takeResumeFrom(), true);
          if (ev?.kind === 'blocked') return this.sleep(ev.ms);
          const st = this.stopOf(ev);
          if (st) return st;
          const pc = p.regs.pc();
          if (pc < start || pc >= end) return { kind: 'step' };
          left -= n;
        }
        return null;
      }
    }
  }

  /** The program sleeps in a syscall: no stop yet, poll again in about ms. */
  private sleep(ms: number): null {
    this.sleeping = ms;
    return null;
  }

  private takeResumeFrom(): number {
    const r = this.resumeFrom;
    this.resumeFrom = NaN;
    return r;
  }

  /** The stop reason for a machine event (in the thread it happened in), or null if still running. */
  private stopOf(ev: GuestEvent | null): StopReason | null {
    const r = ev && this.reasonOf(ev);
    if (r && ev!.tid !== undefined) r.tid = ev!.tid;
    return r;
  }

  private reasonOf(ev: GuestEvent): StopReason | null {
    switch (ev.kind) {
      case 'exited':
        return { kind: 'exited', code: ev.code };
      case 'killed':
        return { kind: 'terminated', signal: ev.signal };
      case 'breakpoint':
        return ev.type === 'hw' ? { kind: 'hwbreak', addr: ev.addr } : { kind: 'swbreak', addr: ev.addr };
      case 'watch':
        return { kind: 'watch', type: ev.type, addr: ev.addr };
      case 'syscall-entry':
        return { kind: 'syscall-entry', nr: ev.nr };
      case 'syscall-return':
        return { kind: 'syscall-return', nr: ev.nr };
      case 'signal':
        this.lastSiginfo = ev.info;
        return { kind: 'signal', signal: ev.info.signo };
      case 'fork':
      case 'vfork':
        return { kind: ev.kind, child: ev.child };
      case 'vfork-done':
        return { kind: 'vforkdone' };
      case 'thread-created':
        return { kind: 'thread-created', tid: ev.child };
      case 'thread-exited':
        return { kind: 'thread-exited', code: ev.code };
      case 'exec':
        this.bps.execd(ev.tid);
        return { kind: 'exec', path: ev.path };
      case 'process-exited':
        this.bps.gone(ev.pid);
        return { kind: 'process-exited', pid: ev.pid, code: ev.code, last: ev.last };
      case 'process-killed':
        this.bps.gone(ev.pid);
        return { kind: 'process-terminated', pid: ev.pid, signal: ev.signal, last: ev.last };
    }
    return null;
  }

  detach(): void {
    const p = this.current();
    this.attached = false;
    this.bps.clear();
    this.catching = null;
    if (!p) return;
    p.exec.catchSyscalls(null);
    p.exec.catchEvents({ fork: false, vfork: false, exec: false });
    p.exec.threadEvents(false);
    p.exec.resumeOnly('all'); // a child the client held runs on too
    p.exec.stopOnSignals(false, this.passing);
    this.bps.apply();
  }

  attach(): void {
    this.attached = true;
    this.current()?.exec.stopOnSignals(true, this.passing);
    this.current()?.exec.catchEvents(this.events);
  }

  kill(): void {
    this.current()?.exec.kill();
    this.gone();
  }

  release(): void {
    this.gone();
  }

  /** Linux's 128-byte siginfo_t of the last signal stop. */
  siginfo(): Uint8Array | null {
    const si = this.lastSiginfo;
    if (!si || !this.current()) return null;
    const b = new Uint8Array(128);
    putU32(b, 0, si.signo);
    putU32(b, 8, si.code);
    if (si.addr !== undefined) putU64(b, 16, si.addr);
    else {
      putU32(b, 16, si.pid ?? 0);
      putU32(b, 20, si.uid ?? 0);
    }
    return b;
  }
}
