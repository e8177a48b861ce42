/**
 * The host sockets as the kernel sees them: what the host-sockets worker
 * (hostnet.ts) reports, and the main thread's endpoints its reports go to.
 * Types only, importing nothing: the kernel's own table of a machine's host
 * sockets (Kernel.hostSockets) names them without depending on the worker.
 */

/** An event of the worker, for the socket with that id. */
export interface HostEvent {
  id: number;
  t: 'data' | 'end' | 'error' | 'close' | 'connect' | 'conn' | 'msg';
  data?: Uint8Array;
  code?: string;
  /** conn: the accepted connection's id. */
  nid?: number;
  local?: [string, number];
  remote?: [string, number];
  /** msg: the sender. */
  addr?: string;
  port?: number;
}

/** The main thread's side of a host socket: where its events go. */
export interface HostEndpoint {
  onEvent(e: HostEvent): void;
}

/**
 * A machine's own host sockets by id (Kernel.hostSockets): part of its
 * state, so that a machine restored from a snapshot has its own copies of
 * them, and the worker's events go to the copies of the machine that takes
 * them (drain), not to the sockets of the machine that was cloned.
 */
export type HostSockets = Map<number, HostEndpoint>;
