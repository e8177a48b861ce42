/**
 * A cache of zpoline's sweep results (zpoline.ts), so that a program run
 * again, or exec'd again within a run (a busybox shell running busybox
 * applets), is not decoded again: the sweep of busybox is most of
 * `entrystub run /bin/busybox true`.
 *
 * Why a cached answer is the sweep's answer: the key is a hash of everything
 * the sweep's result depends on, and nothing else names it:
 * - the bytes it decodes, [start, stop) where stop is just past the last
 *   0F 05 / 0F 34 pair (pages never touched count as the zeros they read as),
 *   and the up to 15 bytes past stop an instruction starting before stop may
 *   read, each with whether it can be fetched there (a fetch fault makes the
 *   sweep step one byte);
 * - the decoder and the sweep themselves: the contents of their compiled
 *   modules (decode, insn, the opcode tables, zpoline), so a changed decoder
 *   never meets an older answer.
 * Sites are stored as offsets from start (decoding does not depend on where
 * the bytes are). Before a cached site is rewritten its bytes are checked to
 * be 0F 05 or 0F 34 (zpoline.ts), so even a damaged cache file cannot make
 * the rewrite touch anything but a syscall instruction; a file that does not
 * parse is a miss.
 *
 * Results are kept for the process and in the cache directory's zpoline/
 * (cache-dir.ts: where it is, and how it is pruned), one file per key;
 * ENTRYSTUB_CACHE_DIR=off keeps them in the process only.
 * Files are written to a temporary name and renamed, so a concurrent run
 * reads a whole file or none. Failing to read or write the directory only
 * costs the sweep.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheSubdir, markUsed, prune } from './cache-dir.js';

const memo = new Map<string, number[]>();
let dirMemo: string | null | undefined;
let versionMemo: string | undefined;

/** The cache directory, or null: in the process only. */
function cacheDir(): string | null {
  if (dirMemo === undefined) dirMemo = cacheSubdir('zpoline');
  return dirMemo;
}

/**
 * How many programs' sweeps are kept (cache-dir.ts prunes the least recently used): a file is a few KiB, and a
 * build that changes the decoder makes every earlier one unreadable.
 */
export const SWEEPS_KEPT = 1024;

/** The decoder's version, hashed by scripts/bundle.mjs into the bundle it makes (by decoderVersion, unbundled). */
declare const ENTRYSTUB_DECODER_VERSION: string | undefined;

/** A hash of the decoder's and the sweep's compiled code (the modules this build runs). */
export function decoderVersion(): string {
  if (versionMemo !== undefined) return versionMemo;
  if (typeof ENTRYSTUB_DECODER_VERSION === 'string') return (versionMemo = ENTRYSTUB_DECODER_VERSION);
  const h = createHash('sha256');
  try {
    // the compiled modules, or the sources where they run as such (vitest)
    const self = fileURLToPath(import.meta.url);
    const ext = self.endsWith('.ts') ? '.ts' : '.js';
    const cpu = fileURLToPath(new URL('../cpu/', import.meta.url));
    const tables = fs.readdirSync(path.join(cpu, 'opcodes')).filter((f) => f.endsWith(ext)).sort().map((f) => `opcodes/${f}`);
    for (const f of [`decode${ext}`, `insn${ext}`, `fault${ext}`, ...tables]) h.update(f).update(fs.readFileSync(path.join(cpu, f)));
    h.update(fs.readFileSync(fileURLToPath(new URL(`./zpoline${ext}`, import.meta.url))));
  } catch {
    // no file to read: a version of this process only, which no cached sweep matches
    h.update(`${process.pid} ${Date.now()} ${Math.random()}`);
  }
  versionMemo = h.digest('hex');
  return versionMemo;
}

export class SweepKey {
  private readonly h = createHash('sha256');
  constructor() {
    this.h.update(decoderVersion());
  }
  bytes(b: Uint8Array): void {
    this.h.update(b);
  }
  digest(): string {
    return this.h.digest('hex');
  }
}

/** Use dir for the files (null: the process only) and forget what the process holds (for tests). */
export function useCacheDir(dir: string | null): void {
  dirMemo = dir === null ? null : path.join(dir, 'zpoline');
  memo.clear();
}

/** The file of a key, or null with no directory. */
export function cacheFile(key: string): string | null {
  const dir = cacheDir();
  return dir === null ? null : path.join(dir, `${key}.json`);
}

/** The site offsets recorded under key, or null. */
export function lookup(key: string): number[] | null {
  const m = memo.get(key);
  if (m !== undefined) return m;
  const dir = cacheDir();
  if (dir === null) return null;
  try {
    const v: unknown = JSON.parse(fs.readFileSync(path.join(dir, `${key}.json`), 'utf8'));
    if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x) && x >= 0)) return null;
    memo.set(key, v as number[]);
    markUsed(path.join(dir, `${key}.json`));
    return v as number[];
  } catch {
    return null;
  }
}

export function store(key: string, offsets: number[]): void {
  memo.set(key, offsets);
  const dir = cacheDir();
  if (dir === null) return;
  try {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = path.join(dir, `.${key}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(offsets));
    fs.renameSync(tmp, path.join(dir, `${key}.json`));
    prune(dir, '.json', SWEEPS_KEPT);
  } catch {
    /* a read-only or missing home: the process keeps its own */
  }
}
