/**
 * What a packet handler may touch, and nothing more: the target's
 * capabilities, the reply writer (console output before the reply), the few
 * connection settings it needs, the connection's vFile descriptors, and the
 * program's lifecycle as the stub keeps it. The session implements it; the
 * handlers never see the session or the stub.
 */
import type { HostFile, ResumeAction, StopReason, Target } from '../target.js';

/** The packet has no reply (k, R, and a QStartNoAckMode that answered itself). */
export const NO_REPLY = Symbol('no-reply');

/** A reply body, a resume (the stop reply comes when it stops), or none. */
export type Reply = string | { resume: ResumeAction } | typeof NO_REPLY;

/** What the client announced in qSupported. */
export interface ClientFeatures {
  multiprocess: boolean;
  /** fork-events+, vfork-events+, exec-events+ (gdb follows processes with them; only with multiprocess). */
  forkEvents?: boolean;
  vforkEvents?: boolean;
  execEvents?: boolean;
  swbreak: boolean;
  hwbreak: boolean;
  vContSupported: boolean;
}

/** The program as the stub keeps it across connections. */
export interface ProgramControl {
  /** What the last resume ended with (the reply to `?`). */
  readonly lastStop: StopReason;
  /** The client attached to a program that was already running (qAttached: 1). */
  readonly attachedToExisting: boolean;
  /** k / vKill: end the program. */
  kill(): void;
  /** D: let the program run on its own. */
  detach(): void;
  /** vRun: start a program (argv[0] '' = the default one); the stop reply, or an error reply. */
  run(argv: string[]): string;
  /** R: start the last program again. */
  restart(): void;
  /** vAttach: the client takes the program over. */
  attach(): void;
  /** `monitor exit`: end the stub once this reply is out (as gdbserver's). */
  exit(): void;
}

/** The vFile descriptors of one connection (closed when it ends). */
export interface FileTable {
  /** A descriptor for f, or null when the connection has too many open (EMFILE). */
  add(f: HostFile): number | null;
  get(fd: number): HostFile | undefined;
  /** Close fd; false if it was not open. */
  close(fd: number): boolean;
}

export interface PacketContext {
  readonly target: Target;
  /** Largest packet body we send and accept (advertised as PacketSize). */
  readonly packetSize: number;
  /** What the client announced in qSupported. */
  readonly client: ClientFeatures;
  /** qSupported: remember what the client announced. */
  negotiate(features: ClientFeatures): void;
  /** QStartNoAckMode: send this reply (still acknowledged), then stop acknowledging. */
  startNoAck(reply: string): void;
  /** Send an `O` console-output packet before the reply. */
  console(text: string): void;
  /** The stop reply packet (T/S/W/X) for a stop reason. */
  stopReply(r: StopReason): string;
  /** A thread id as this client writes them (`p<pid>.<tid>` with multiprocess). */
  threadId(tid: number): string;
  /**
   * Hg selected a process other than the target's: a child a fork event
   * named, which gdb selects only to take its breakpoints out before it
   * detaches it (null: the target's own).
   */
  readonly generalChild: number | null;
  selectGeneral(child: number | null): void;
  /** A resume is in progress (qThreadExtraInfo). */
  readonly running: boolean;
  readonly program: ProgramControl;
  readonly files: FileTable;
  /** A one-line report for the stub's user. */
  log(msg: string): void;
}
