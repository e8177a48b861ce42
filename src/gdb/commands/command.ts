/**
 * A packet handler table entry (QEMU's GdbCmdParseEntry): the packet name,
 * the schema of its arguments, the capability of the target it needs, and
 * whether it needs a process. The dispatcher (session.ts) finds the entry,
 * and run() does the rest in this order: no capability -> the packet is
 * unsupported (empty reply); arguments that do not fit the schema -> E22;
 * no process when one is needed -> E01; else the handler, with its typed
 * arguments, the narrow context and the capability.
 */
import { compile, parse, type Args } from '../schema.js';
import type { Target } from '../target.js';
import type { PacketContext, Reply } from './context.js';

export const OK = 'OK';
/** Malformed packet arguments (EINVAL). */
export const E_INVAL = 'E22';
/** Memory not accessible (EFAULT). */
export const E_FAULT = 'E14';
/** The operation failed, or there is no process (gdbserver's generic error). */
export const E_GENERIC = 'E01';

/** The entry has nothing to do with this packet: its capability is missing. */
export const UNSUPPORTED = Symbol('unsupported');
/** The arguments do not fit the schema. */
export const MALFORMED = Symbol('malformed');

export interface Command {
  /** The packet name (the rest of the packet is the arguments). */
  readonly name: string;
  run(args: string, cx: PacketContext): Reply | typeof UNSUPPORTED | typeof MALFORMED;
}

export interface CommandDef<S extends string, C> {
  name: string;
  schema: S;
  /** The capability the packet needs (undefined: unsupported, the reply is empty). */
  cap: (t: Target) => C | undefined;
  /** Default true: with no process (extended mode before `run`, or after the program ended) the reply is E01. */
  process?: boolean;
  handler: (args: Args<S>, cx: PacketContext, cap: C) => Reply;
}

export function command<S extends string, C>(def: CommandDef<S, C>): Command {
  const schema = compile(def.schema);
  const needsProcess = def.process ?? true;
  // gdb repeats a packet word for word (a step's vCont, the frame's m read at every step): the last arguments'
  // parse is kept and reused; not for byte arrays (x, B), which a handler may keep, and handlers treat the rest as read-only
  const memo = !/[xB]/.test(def.schema);
  let lastArgs: string | null = null;
  let lastParsed: Args<S> | null = null;
  return {
    name: def.name,
    run: (args, cx) => {
      const cap = def.cap(cx.target);
      if (cap === undefined) return UNSUPPORTED;
      let a: Args<S> | null;
      if (memo && args === lastArgs) a = lastParsed;
      else {
        a = parse(schema, args);
        if (memo) {
          lastArgs = args;
          lastParsed = a;
        }
      }
      if (a === null) return MALFORMED;
      if (needsProcess && cx.target.pid === null) return E_GENERIC;
      return def.handler(a, cx, cap);
    },
  };
}
