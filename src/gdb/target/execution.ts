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
import type { CatchSyscallsOps, ExecutionOps, PassSignalsOps, ProcessEventsOps, ResumeAction, StopReason } from '../target.js';
import { putU32, putU64 } from '../hex.js';
import type { Breakpoints } from './breakpoints.js';
import type { GuestEvent, GuestProcess, GuestSigInfo } from './port.js';

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
  private passing: ReadonlySet<number> = new Set();
  private reported = { fork: false, vfork: false, exec: false };
  /** Children fork events named that the debugger has not detached. */
  private readonly heldChildren = new Set<number>();
  private lastSiginfo: GuestSigInfo | null = null;

  constructor(
    private readonly proc: () => GuestProcess,
    private readonly current: () => GuestProcess | null,
    private readonly bps: Breakpoints,
    /** The process is gone (killed, or its end was reported): the target lets go of it. */
    private readonly gone: () => void,
  ) {}

  /** A new process: it gets the debugger's settings. */
  adopt(p: GuestProcess): void {
    this.lastSiginfo = null;
    this.attached = true;
    p.exec.catchSyscalls(this.catching);
    p.exec.stopOnSignals(true, this.passing);
    p.exec.traceProcessEvents(this.reported);
    this.heldChildren.clear();
  }

  readonly processEvents: ProcessEventsOps = {
    setReported: (on) => {
      this.reported = { ...on };
      this.current()?.exec.traceProcessEvents(this.reported);
    },
    detachChild: (pid) => {
      if (!this.heldChildren.delete(pid)) return false;
      return this.current()?.exec.detachChild(pid) ?? false;
    },
    isHeldChild: (pid) => this.heldChildren.has(pid),
  };

  readonly catchSyscalls: CatchSyscallsOps = {
    setCatch: (which) => {
      this.catching = which;
      this.current()?.exec.catchSyscalls(which);
    },
  };

  readonly passSignals: PassSignalsOps = {
    setPass: (sigs) => {
      this.passing = sigs;
      this.current()?.exec.stopOnSignals(this.attached, sigs);
    },
  };

  resume(a: ResumeAction): void {
    const p = this.proc();
    this.bps.apply();
    p.exec.catchSyscalls(this.attached && a.kind === 'continue' ? this.catching : null);
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
        const ev = p.exec.run(1, this.takeResumeFrom());
        if (ev?.kind === 'blocked') return this.sleep(ev.ms); // the step ends when the syscall does
        return this.stopOf(ev) ?? { kind: 'step' };
      }
      case 'continue': {
        const ev = p.exec.run(budget, this.takeResumeFrom());
        if (ev?.kind === 'blocked') return this.sleep(ev.ms);
        return this.stopOf(ev);
      }
      case 'range': {
        const start = a.start ?? 0, end = a.end ?? 0;
        let left = budget;
        while (left > 0) {
          // whole blocks that lie inside the range, single instructions at its edges
          const n = p.exec.insnsWithin(start, end);
          const ev = p.exec.run(n, this.takeResumeFrom());
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

  /** The stop reason for a machine event, or null if still running. */
  private stopOf(ev: GuestEvent | null): StopReason | null {
    if (!ev) return null;
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
        this.heldChildren.add(ev.child);
        return { kind: ev.kind, child: ev.child };
      case 'vfork-done':
        return { kind: 'vfork-done' };
      case 'exec':
        return { kind: 'exec', path: ev.path };
    }
    return null;
  }

  detach(): void {
    const p = this.current();
    this.attached = false;
    // the children still held go with their parent: gdb's detach lets every process go
    for (const c of this.heldChildren) p?.exec.detachChild(c);
    this.heldChildren.clear();
    this.reported = { fork: false, vfork: false, exec: false };
    p?.exec.traceProcessEvents(this.reported);
    this.bps.clear();
    this.catching = null;
    if (!p) return;
    p.exec.catchSyscalls(null);
    p.exec.stopOnSignals(false, this.passing);
    this.bps.apply();
  }

  attach(): void {
    this.attached = true;
    this.current()?.exec.stopOnSignals(true, this.passing);
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
