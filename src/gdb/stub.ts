/**
 * The stub: what outlives one debugger connection. It owns the target (and
 * through it the program), the runner, the last stop, and who is attached.
 * Sessions (one per connection, session.ts) come and go; the program stays:
 *  - a client that disconnects while the program is stopped leaves it
 *    stopped for the next one (gdb's `disconnect`);
 *  - a client that goes away while the program runs (gdb quitting in the
 *    middle of a `continue`, a dropped link) leaves it running on its own,
 *    as after `detach`, as gdbserver does; the next client stops it where
 *    it is; without --multi the stub ends when the program does;
 *  - `k`/`vKill` end the program; without --multi the stub ends with the
 *    connection.
 */
import { Runner } from './runner.js';
import { Session, type SessionHost } from './session.js';
import type { ResumeAction, StopReason, Target } from './target.js';

export interface StubOptions {
  /** Extended mode (`--multi`): the stub outlives the program. */
  multi: boolean;
  /** Largest packet body we accept and send (advertised as PacketSize). */
  packetSize?: number;
  /** One-line reports for the stub's user (stderr). */
  log: (msg: string) => void;
  /** Start a program in the target (vRun, R): throws an Error whose message says why it cannot run. */
  launch?: (argv: string[]) => void;
}

export const DEFAULT_PACKET_SIZE = 0x4000;

export class Stub implements SessionHost {
  /** What the last resume ended with (the reply to `?`). */
  lastStop: StopReason = { kind: 'step' };
  readonly runner: Runner;
  readonly packetSize: number;
  /** The attached client, if any. */
  session: Session | null = null;
  /** After D (or a client gone mid-continue): the program runs on its own until it ends or a debugger attaches. */
  private detached = false;
  /** The current client attached to a program that was already running (qAttached: 1). */
  attachedToExisting = false;
  /** argv of the last vRun (for R). */
  private lastArgv: string[] = [''];
  /** Called once when the stub has nothing left to do: without --multi, program gone and no client; or `monitor exit`. */
  onDone: (() => void) | null = null;
  /** Called when no client is attached any more (a waiting connection can be served). */
  onFree: (() => void) | null = null;
  private done = false;
  private exiting = false;

  constructor(
    readonly target: Target,
    readonly opts: StubOptions,
  ) {
    this.packetSize = opts.packetSize ?? DEFAULT_PACKET_SIZE;
    this.runner = new Runner(opts.log);
  }

  get running(): boolean {
    return this.runner.running;
  }

  get resumes(): number {
    return this.runner.starts;
  }

  /** A debugger is attached. */
  get busy(): boolean {
    return this.session !== null;
  }

  log(msg: string): void {
    this.opts.log(msg);
  }

  /** A new connection: its session, or null when another debugger is attached (or the stub is ending). */
  connect(write: (b: Buffer) => void, name: string, hangup: () => void): Session | null {
    if (this.session || this.done) return null;
    const s = new Session(this, write, name, hangup);
    this.session = s;
    this.attachedToExisting = this.detached;
    if (this.detached) {
      // attach to the free-running program: stop it where it is
      this.detached = false;
      this.target.execution.attach();
      if (this.runner.running) {
        this.runner.redirect((r) => this.stoppedForAttach(r));
        this.runner.interrupt();
      }
    }
    this.log(`entrystub: debugger attached (${name})`);
    return s;
  }

  /** The program stopped for a client that attached while it ran free. */
  private stoppedForAttach(r: StopReason): void {
    this.lastStop = r;
    if (r.kind === 'exited' || r.kind === 'terminated') this.programEnded();
    this.session?.drain();
  }

  /** The session s ended. */
  closed(s: Session): void {
    if (this.session !== s) return;
    this.session = null;
    if (this.exiting) return this.finish();
    if (this.runner.running && !this.detached) {
      this.log(`entrystub: debugger gone (${s.name}) while the program ran; it runs on until it ends or a debugger attaches`);
      this.runFree();
    } else if (this.target.pid !== null && !this.detached) {
      this.log(`entrystub: debugger disconnected (${s.name}); the program stays stopped for the next one`);
    } else this.log(`entrystub: debugger disconnected (${s.name})`);
    this.checkDone();
    if (!this.done) this.onFree?.();
  }

  resume(action: ResumeAction, onStop: (r: StopReason) => void): void {
    this.runner.start(this.target.execution, action, (r) => {
      this.lastStop = r;
      onStop(r);
    });
  }

  interrupt(): void {
    this.runner.interrupt();
  }

  /** The program exited, was killed or terminated: let go of it. */
  programEnded(): void {
    const r = this.lastStop;
    if (this.target.pid !== null) {
      this.log(r.kind === 'exited' ? `entrystub: the program exited with status ${r.code}` : `entrystub: the program was terminated by signal ${r.kind === 'terminated' ? r.signal : '?'}`);
      this.target.execution.release();
    }
    this.detached = false;
    this.checkDone();
  }

  /** The client followed processes and the last of them ended: the program's others run on, as after D. */
  lastFollowedEnded(): void {
    this.log('entrystub: the last process the debugger followed ended; the others run on');
    this.detached = true;
    this.target.execution.detach();
    setImmediate(() => this.runFree());
  }

  kill(): void {
    if (this.target.pid !== null) this.log('entrystub: the debugger killed the program');
    this.target.execution.kill();
    this.lastStop = { kind: 'terminated', signal: 9 };
    this.detached = false;
    this.checkDone();
  }

  /** D: let the program run on its own. */
  detach(): void {
    if (this.target.pid === null) return;
    this.log('entrystub: the debugger detached; the program runs on');
    this.detached = true;
    this.target.execution.detach();
    setImmediate(() => this.runFree());
  }

  /** Run the program with no debugger: to its end, or until a debugger attaches (connect() stops it). */
  private runFree(): void {
    this.detached = true;
    this.target.execution.detach();
    const go = () => {
      if (!this.detached || this.target.pid === null) return;
      if (this.runner.running) return this.runner.redirect(free);
      this.runner.start(this.target.execution, { kind: 'continue', signal: 0 }, free);
    };
    const free = (r: StopReason) => {
      this.lastStop = r;
      if (r.kind === 'exited' || r.kind === 'terminated') this.programEnded();
      else if (this.detached) setImmediate(go); // a stray stop while free (an interrupt): carry on
    };
    go();
  }

  attach(): void {
    this.attachedToExisting = true;
  }

  run(argv: string[]): StopReason | { error: string } {
    if (this.runner.running) return { error: 'the program is running' };
    const launch = this.opts.launch;
    if (!launch) return { error: 'this stub cannot start programs' };
    try {
      launch(argv);
    } catch (e) {
      // nothing changed: the current program, if any, is still there as it was
      const msg = e instanceof Error ? e.message : String(e);
      this.log(`entrystub: vRun: ${msg}`);
      return { error: msg };
    }
    this.lastArgv = argv;
    this.detached = false;
    this.attachedToExisting = false;
    this.lastStop = { kind: 'step' };
    return this.lastStop;
  }

  restart(): void {
    this.run(this.lastArgv);
  }

  /** `monitor exit`: end the program and the stub once the reply is out, as gdbserver does. */
  exit(): void {
    this.log('entrystub: monitor exit: ending');
    this.exiting = true;
    if (this.target.pid !== null) this.target.execution.kill();
    this.detached = false;
    // the reply to qRcmd is written before this returns to the event loop
    setImmediate(() => (this.session ? this.session.close() : this.finish()));
  }

  /** True when there is no program left to debug. */
  get ended(): boolean {
    return this.target.pid === null;
  }

  private checkDone(): void {
    if (this.done || this.opts.multi || this.session || !this.ended) return;
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.onDone?.();
  }
}
