/**
 * The directory where entrystub keeps what it computed once and can compute
 * again: the zpoline sweeps (sweep-cache.ts) and V8's code cache of the
 * bundle (src/launcher.ts), each in a subdirectory. $ENTRYSTUB_CACHE_DIR,
 * else $XDG_CACHE_HOME/entrystub, else ~/.cache/entrystub; none at all with
 * ENTRYSTUB_CACHE_DIR=off.
 *
 * Every build names its files anew (a sweep's key holds the decoder's hash,
 * a code cache the bundle's), so without pruning the directory grew by a
 * megabyte or so per build, forever. A file read is marked used (its mtime),
 * and each write keeps the subdirectory to a number of files, dropping the
 * least recently used: a cache, not an archive.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The subdirectory `name` of the cache directory, or null when there is none (ENTRYSTUB_CACHE_DIR=off, no home). */
export function cacheSubdir(name: string): string | null {
  const env = process.env.ENTRYSTUB_CACHE_DIR;
  if (env === 'off') return null;
  if (env) return path.join(env, name);
  try {
    return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'entrystub', name);
  } catch {
    return null; // no home directory to find
  }
}

/** Mark a cache file used now, so that pruning keeps it. Best effort: a read-only cache still serves. */
export function markUsed(file: string): void {
  try {
    const now = new Date();
    fs.utimesSync(file, now, now);
  } catch {
    // read-only or gone: it is pruned a little earlier, no more
  }
}

/**
 * A write goes to `NAME.PID.tmp` and is renamed into place; a writer killed meanwhile (a stub stopped with SIGKILL
 * while it wrote its code cache at exit) leaves that file behind. None takes minutes: older ones are such leftovers.
 */
const TMP_LEFT_MS = 10 * 60_000;

/**
 * Keep at most `keep` files ending in `ext` in dir, removing the least recently used (oldest mtime), and the
 * leftovers of killed writers. Called after a write, which is rare (a miss); a file another process removes
 * meanwhile is a miss for it, never an error.
 */
export function prune(dir: string, ext: string, keep: number): void {
  let all: string[];
  try {
    all = fs.readdirSync(dir);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of all.filter((n) => n.endsWith('.tmp'))) {
    try {
      const f = path.join(dir, name);
      if (now - fs.statSync(f).mtimeMs > TMP_LEFT_MS) fs.rmSync(f, { force: true });
    } catch {
      // renamed into place or removed meanwhile
    }
  }
  const names = all.filter((n) => n.endsWith(ext));
  if (names.length <= keep) return;
  const aged: { name: string; mtime: number }[] = [];
  for (const name of names) {
    try {
      aged.push({ name, mtime: fs.statSync(path.join(dir, name)).mtimeMs });
    } catch {
      // removed by a concurrent prune
    }
  }
  aged.sort((a, b) => b.mtime - a.mtime);
  for (const { name } of aged.slice(keep)) {
    try {
      fs.rmSync(path.join(dir, name), { force: true });
    } catch {
      // not ours to remove (permissions): left
    }
  }
}
