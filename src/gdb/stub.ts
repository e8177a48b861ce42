/**
 * The stub: what outlives one debugger connection. It owns the target (the
 * program being debugged), the runner, the last stop, and who is attached.
 * Sessions (one per connection, session.ts) come and go; the program's state
 * stays here, so a client that disconnects mid-`continue` leaves a stopped
 * program the next gdb can attach to.
 */
import { Runner } from './runner.js';
import { Session } from './session.js';
import type { HostFile, StopReason, Target } from './target.js';

export interface StubOptions {
  /** Extended mode (`--multi`): vRun/R/vKill, and the stub outlives the program. */
  multi: boolean;
  /** Largest packet body we accept and send (advertised as PacketSize). */
  packetSize?: number;
  /** One-line reports for the stub's user (stderr). */
  log: (msg: string) => void;
  /**
   * Load a program (vRun, R): argv[0] is the program path ('' = the default
   * program). Throws an Error whose message says why it cannot be run.
   */
  launch?: (argv: string[]) => Target;
}

export const DEFAULT_PACKET_SIZE = 0x4000;

export class Stub {
  target: Target | null;
  /** What the last resume ended with (the reply to `?`). */
  lastStop: StopReason = { kind: 'step' };
  readonly runner: Runner;
  readonly packetSize: number;
  /** The attached client, if any. */
  session: Session | null = null;
  /** After D: the program runs on its own until it ends or a debugger attaches. */
  detached = false;
  /** The current client attached to a program that was already running (qAttached: 1). */
  attachedToExisting = false;
  /** vFile descriptors (gdb's), across processes. */
  readonly files = new Map<number, HostFile>();
  nextFd = 3;
  /** Settings the debugger made that every process gets (gdb sends them only when they change). */
  passSignals = new Set<number>();
  catchSyscalls: null | 'all' | Set<number> = null;
  /** argv of the last vRun (for R). */
  lastArgv: string[] = [''];
  /** Called once when a non-extended stub has nothing left to do (program gone, no client). */
  onDone: (() => void) | null = null;
  private done = false;

  constructor(
    target: Target | null,
    readonly opts: StubOptions,
  ) {
    this.target = target;
    this.packetSize = opts.packetSize ?? DEFAULT_PACKET_SIZE;
    this.runner = new Runner(opts.log);
  }

  /** Make `t` the program being debugged, with the debugger's settings. */
  setTarget(t: Target | null): void {
    this.target = t;
    if (!t) return;
    t.passSignals?.setPass(this.passSignals);
    t.catchSyscalls?.setCatch(this.catchSyscalls);
  }

  /** A new connection: its session, or null when another debugger is attached. */
  connect(write: (b: Buffer) => void, name: string): Session | null {
    if (this.session) {
      this.opts.log(`entrystub: refused ${name}: a debugger is already attached`);
      return null;
    }
    const s = new Session(this, write, name);
    this.session = s;
    this.attachedToExisting = this.detached;
    if (this.detached && this.target) {
      // attach to the free-running program: stop it where it is
      this.detached = false;
      this.target.attach();
      if (this.runner.running) {
        this.runner.redirect((r) => this.stoppedWithoutClient(r));
        this.runner.interrupt();
      }
    }
    this.opts.log(`entrystub: debugger attached (${name})`);
    return s;
  }

  /** The connection of session s closed. */
  disconnect(s: Session): void {
    if (this.session !== s) return;
    this.session = null;
    this.opts.log(`entrystub: debugger detached (${s.name})`);
    if (this.runner.running && !this.detached) {
      // gone mid-continue: stop the program where it is and keep it for the next client
      this.runner.redirect((r) => this.stoppedWithoutClient(r));
      this.runner.interrupt();
    }
    this.checkDone();
  }

  /** D: let the program run on its own. */
  detach(): void {
    const t = this.target;
    if (!t) return;
    this.detached = true;
    t.detach();
    const go = () => {
      if (!this.detached || this.target !== t || this.runner.running) return;
      this.runner.start(t, { kind: 'continue', signal: 0 }, (r) => {
        this.lastStop = r;
        if (r.kind === 'exited' || r.kind === 'terminated') {
          this.detached = false;
          this.programEnded();
        } else if (this.detached) setImmediate(go); // stray stop while free: carry on
      });
    };
    setImmediate(go);
  }

  private stoppedWithoutClient(r: StopReason): void {
    this.lastStop = r;
    if (r.kind === 'exited' || r.kind === 'terminated') this.programEnded();
  }

  /** The program exited, was killed or terminated. */
  programEnded(): void {
    this.checkDone();
  }

  /** True when the program has ended. */
  get ended(): boolean {
    return !this.target || this.lastStop.kind === 'exited' || this.lastStop.kind === 'terminated';
  }

  private checkDone(): void {
    if (this.done || this.opts.multi || this.session || !this.ended) return;
    this.done = true;
    this.onDone?.();
  }
}
