/**
 * A packet handler table entry (QEMU's GdbCmdParseEntry): the packet name it
 * matches, whether the match is exact or a prefix, which capability it needs,
 * and the handler, which gets the rest of the packet and returns the reply.
 */
import type { Session } from '../session.js';

/** The reply will come later (a resume: the stop reply). */
export const ASYNC = Symbol('async');
/** The packet has no reply (k, R). */
export const NO_REPLY = Symbol('no-reply');

export type Reply = string | typeof ASYNC | typeof NO_REPLY;

export interface Command {
  name: string;
  /** The body must equal name (default: name is a prefix, the rest are arguments). */
  exact?: boolean;
  /** Handled only when this is true (the target has the capability); otherwise the reply is empty. */
  when?: (s: Session) => boolean;
  /** Default true: with no program (extended mode before vRun) the reply is E01. */
  needsTarget?: boolean;
  handler: (s: Session, args: string) => Reply;
}

export const OK = 'OK';
/** Malformed packet arguments (EINVAL). */
export const E_INVAL = 'E22';
/** Memory not accessible (EFAULT). */
export const E_FAULT = 'E14';
export const E_GENERIC = 'E01';
