/**
 * The entry models by name: the only place that knows which exist. The CLI
 * takes its --entry and --hook choices from here; the machine makes its
 * model here. A new model is a module and a row.
 */
import { DirectEntry } from './direct.js';
import type { EntryModel, EntryPort } from './model.js';
import { NativeEntry } from './native.js';
import { NOMMU_HOOKS, NommuEntry, type NommuHook } from './nommu.js';
import { COMPAT_ENTRIES, DEFAULT_COMPAT_ENTRY, type CompatEntry } from './vdso32.js';

export { COMPAT_ENTRIES, DEFAULT_COMPAT_ENTRY };

interface ModelRow {
  /** One line for --help. */
  help: string;
  /** The hooks the model takes (--hook), first = default; none if it takes none. */
  hooks: readonly string[];
  make(port: EntryPort, hook: string, compatEntry: CompatEntry): EntryModel;
}

export const ENTRY_MODELS: Record<string, ModelRow> = {
  nommu: {
    help: 'UML without MMU: __kernel_vsyscall, return by jmp *%rcx',
    hooks: NOMMU_HOOKS,
    make: (port, hook) => new NommuEntry(port, hook as NommuHook),
  },
  native: {
    help: "Linux 5.8's entry_SYSCALL_64 at CPL 0, return by SYSRET or IRET",
    hooks: [],
    make: (port, _hook, compatEntry) => new NativeEntry(port, compatEntry),
  },
  direct: {
    help: 'the host handles `syscall` in place (the baseline)',
    hooks: [],
    make: (port, _hook, compatEntry) => new DirectEntry(port, compatEntry),
  },
};

export const DEFAULT_ENTRY = 'nommu';

/** All hook names any model takes (for --hook's choices). */
export const ALL_HOOKS: readonly string[] = [...new Set(Object.values(ENTRY_MODELS).flatMap((m) => m.hooks))];

/**
 * Make the model `name` (with `hook`, or its default, and the entry a 32-bit
 * program's vDSO uses); throws with a message naming the choices.
 */
export function makeEntryModel(name: string, hook: string | undefined, port: EntryPort, compatEntry: string = DEFAULT_COMPAT_ENTRY): EntryModel {
  const row = ENTRY_MODELS[name];
  if (!row) throw new Error(`unknown entry model '${name}' (choose ${Object.keys(ENTRY_MODELS).join(', ')})`);
  const h = hook ?? row.hooks[0] ?? '';
  if (row.hooks.length > 0 && !row.hooks.includes(h)) throw new Error(`--entry ${name} takes --hook ${row.hooks.join(', ')}, not '${h}'`);
  if (!(COMPAT_ENTRIES as readonly string[]).includes(compatEntry)) throw new Error(`unknown compat entry '${compatEntry}' (choose ${COMPAT_ENTRIES.join(', ')})`);
  return row.make(port, h, compatEntry as CompatEntry);
}

export type { EntryModel, EntryPort, Ia32Sigreturn, PathInfo } from './model.js';
