/**
 * Packet argument parsing by a compact schema, as QEMU's gdbstub does
 * (`GdbCmdParseEntry.schema`): each letter takes one field, any other
 * character must appear literally.
 *   L  a 64-bit address in hex (as the signed number src/cpu uses)
 *   l  a hex number (count, register number, type)
 *   s  a string up to the next literal of the schema
 *   S  the rest of the packet (may be empty)
 * parse('L,l', '401000,40') -> [0x401000, 0x40]; null when it does not fit.
 */
import { parseAddr, parseNum } from './hex.js';

export function parse(schema: string, args: string): (number | string)[] | null {
  const out: (number | string)[] = [];
  let pos = 0;
  for (let k = 0; k < schema.length; k++) {
    const c = schema[k];
    if (c === 'S') {
      out.push(args.slice(pos));
      pos = args.length;
      continue;
    }
    if (c === 'L' || c === 'l' || c === 's') {
      // the field runs to the next literal of the schema (or to the end)
      const lit = k + 1 < schema.length && !'LlsS'.includes(schema[k + 1]) ? schema[k + 1] : '';
      let end = lit ? args.indexOf(lit, pos) : args.length;
      if (end < 0) return null;
      const field = args.slice(pos, end);
      pos = end;
      if (c === 's') out.push(field);
      else {
        const v = c === 'L' ? parseAddr(field) : parseNum(field);
        if (v === null) return null;
        out.push(v);
      }
      continue;
    }
    if (args[pos] !== c) return null;
    pos++;
  }
  return pos === args.length ? out : null;
}
