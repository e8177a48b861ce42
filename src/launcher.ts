#!/usr/bin/env node
/**
 * The installed command (package.json "bin": dist/bin/entrystub.cjs, this
 * module bundled by scripts/bundle.mjs): it runs the CommonJS bundle of the
 * CLI (dist/bin/entrystub-bundle.cjs) through a V8 code cache.
 *
 * Why: most of the test suite, and of any short `entrystub run`, is start-up,
 * and compiling the 1.3 MB bundle was the largest part of it. Node 20 keeps
 * no compiled code between runs of an ES module (module.enableCompileCache
 * is Node 22.1+), but vm.Script takes and makes V8's code cache for a
 * classic script: so the bundle is CommonJS, compiled here with the cache
 * as cachedData. The cache is made at exit, once the run has compiled the
 * functions it used (a cache made right after compiling would hold only the
 * top level; V8 compiles functions lazily).
 *
 * The cache file sits beside the zpoline sweep cache, in the cache
 * directory's v8/ (src/entry/cache-dir.ts: where it is, and how the few most
 * recently used files are kept; ENTRYSTUB_CACHE_DIR=off keeps nothing), named by a hash of the bundle (computed when it was built),
 * Node's version and architecture and the V8 flags: a different build or
 * Node never reads another's cache. V8 checks the data again (its version,
 * flags and the source's length) and rejects what does not fit, and a file
 * whose checksum does not match is not given to V8; such a cache, or a
 * missing one, is written anew, to a temporary name then renamed, so a
 * concurrent run reads a whole file or none. Failing to read or write the
 * directory only costs the compile.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { cacheSubdir, markUsed, prune } from './entry/cache-dir.js';

/**
 * V8 flags for the emulator's runs. The interrupt budget (bytecode a function runs between two looks at whether
 * to optimize it) is 15 times V8's: in a short run (most of the test suite: a busybox applet, a fixture) TurboFan
 * spent more CPU compiling the decoder's and the ops' functions, and deoptimizing them on the next new operand
 * type, than the optimized code saved; a long run still optimizes its hot functions, a fraction of a second later.
 * Measured in the README (Speed). Part of the code cache's name: V8 rejects a cache made under other flags.
 */
const V8_FLAGS = ['--interrupt-budget=1000000'];
for (const f of V8_FLAGS) v8.setFlagsFromString(f);

/** The bundle's sha256, defined by scripts/bundle.mjs when it writes the bundle and this launcher together. */
declare const ENTRYSTUB_BUNDLE_HASH: string;

const here = path.dirname(fileURLToPath(import.meta.url));
const bundle = path.join(here, 'entrystub-bundle.cjs');

/** Code caches kept (cache-dir.ts prunes the least recently used): a megabyte each, one per build and Node. */
const KEEP = 4;

function cacheFile(): string | null {
  const dir = cacheSubdir('v8');
  if (dir === null) return null;
  const key = createHash('sha256')
    .update(`${ENTRYSTUB_BUNDLE_HASH}\0${process.version}\0${process.arch}\0${process.execArgv.join('\0')}\0${V8_FLAGS.join('\0')}`)
    .digest('hex');
  return path.join(dir, `${key}.bin`);
}

/**
 * A file is the SHA-1 of the data, then V8's code cache: V8 checks only the cache's header in a release
 * build (--verify-snapshot-checksum is off), and a damaged body could crash the process, not be rejected.
 */
const DIGEST = 20;
const digest = (data: Uint8Array): Buffer => createHash('sha1').update(data).digest();

/** Open a file to read, or null when it cannot be (a cache that is not there). */
function openOrNull(file: string | null): number | null {
  if (file === null) return null;
  try {
    return fs.openSync(file, 'r');
  } catch {
    return null;
  }
}

/** Read fd's first n bytes into buf; the count read (short if the file is). */
function readInto(fd: number, buf: Buffer, n: number): number {
  let at = 0;
  for (let got; at < n && (got = fs.readSync(fd, buf, at, n - at, at)) > 0; ) at += got;
  return at;
}

/**
 * The bundle's source and its code cache, read through one buffer: the source first, copied out as the string V8
 * compiles, then the cache over it. Each page of a fresh buffer is a host page fault (~25 us on this kind of virtual
 * machine), and a buffer per file touched the cache's megabyte twice. The buffer outlives the compile only as the
 * cache's bytes, which V8 has copied by then.
 */
function readBundle(cacheFd: number | null): { source: string; cachedData: Buffer | undefined } {
  const fd = fs.openSync(bundle, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    let cacheSize = 0;
    try {
      if (cacheFd !== null) cacheSize = fs.fstatSync(cacheFd).size;
    } catch {
      cacheFd = null;
    }
    const buf = Buffer.allocUnsafeSlow(Math.max(size, cacheSize));
    // latin1: the bundle is ASCII (scripts/bundle.mjs: charset), and latin1 is a copy where utf8 is a decode
    const source = buf.toString('latin1', 0, readInto(fd, buf, size));
    return { source, cachedData: cacheFd === null ? undefined : checkCache(buf.subarray(0, readInto(cacheFd, buf, cacheSize))) };
  } finally {
    fs.closeSync(fd);
    if (cacheFd !== null) fs.closeSync(cacheFd);
  }
}

/** A cache file's V8 data, if its digest holds. */
function checkCache(f: Buffer): Buffer | undefined {
  const data = f.subarray(DIGEST);
  if (f.length <= DIGEST || !digest(data).equals(f.subarray(0, DIGEST))) return undefined;
  return data;
}

function writeCache(file: string, make: () => Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const data = make();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, Buffer.concat([digest(data), data]));
    fs.renameSync(tmp, file);
    prune(path.dirname(file), '.bin', KEEP);
  } catch {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing more to undo
    }
  }
}

const file = cacheFile();
const cacheFd = openOrNull(file);
const { source, cachedData } = readBundle(cacheFd);
if (cachedData !== undefined) markUsed(file!);
// The file is the bundle inside Node's own CommonJS wrapper (scripts/bundle.mjs), so that the bundle sees what a
// module loaded by require() sees, and V8 compiles the string read, not a copy.
const script = new vm.Script(source, { filename: bundle, cachedData });
if (file !== null && (cachedData === undefined || script.cachedDataRejected === true)) {
  // process.exit() (how every command ends) still runs 'exit' listeners, synchronously
  process.once('exit', () => writeCache(file, () => script.createCachedData()));
}
const module = { exports: {} };
(script.runInThisContext() as (e: object, r: NodeJS.Require, m: object, f: string, d: string) => void)(
  module.exports,
  createRequire(bundle),
  module,
  bundle,
  here,
);
