/**
 * The installed command's launcher (src/launcher.ts) and its V8 code cache,
 * run as the `bin` is (package.json): the first run of a build leaves a
 * cache file, the next runs read it as it is (V8 accepts it: it is not
 * written again), a damaged one is rejected and written anew without the run
 * noticing, and ENTRYSTUB_CACHE_DIR=off writes nothing. Every run's output
 * and status are native busybox's.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/cases.js';
import { need } from './helpers/tools.js';

const BUSYBOX = need('busybox');
const ARGS = ['sh', '-c', 'echo launched; exit 3'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-launcher-'));

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** `entrystub run busybox ARGS` with the cache in dir, checked against the native run. */
function run(dir: string): void {
  const native = spawnSync(BUSYBOX!, ARGS, { encoding: 'utf8' });
  const r = spawnSync(process.execPath, [CLI, 'run', BUSYBOX!, ...ARGS], { encoding: 'utf8', env: { ...process.env, ENTRYSTUB_CACHE_DIR: dir }, timeout: 120_000 });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(native.stdout);
  expect(r.status).toBe(native.status);
}

const codeCaches = (dir: string): string[] => {
  const v8 = path.join(dir, 'v8');
  return fs.existsSync(v8) ? fs.readdirSync(v8).map((f) => path.join(v8, f)) : [];
};

describe.skipIf(!BUSYBOX)('the launcher and its V8 code cache', () => {
  it("keeps the directory to the few most recently used caches (other builds' are dropped)", () => {
    const dir = path.join(tmp, 'pruned');
    const v8 = path.join(dir, 'v8');
    fs.mkdirSync(v8, { recursive: true });
    const others = Array.from({ length: 6 }, (_, k) => path.join(v8, `${String(k).repeat(64)}.bin`));
    others.forEach((f, k) => {
      fs.writeFileSync(f, 'another build');
      const t = new Date(Date.now() - (k + 1) * 60_000); // others[0] the most recently used
      fs.utimesSync(f, t, t);
    });
    // a killed writer's leftover, and the file of a write in progress
    const [leftover, writing] = [path.join(v8, `${'a'.repeat(64)}.bin.1.tmp`), path.join(v8, `${'b'.repeat(64)}.bin.2.tmp`)];
    fs.writeFileSync(leftover, 'half');
    fs.writeFileSync(writing, 'half');
    const hourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(leftover, hourAgo, hourAgo);
    run(dir);
    expect(fs.existsSync(leftover)).toBe(false);
    expect(fs.existsSync(writing)).toBe(true);
    fs.rmSync(writing);
    const left = codeCaches(dir);
    expect(left).toHaveLength(4);
    expect(left.filter((f) => !others.includes(f))).toHaveLength(1); // this build's, just written
    expect(others.slice(0, 3).every((f) => left.includes(f))).toBe(true);
  });

  it('is made by the first run, then read as it is; a damaged one is made again', () => {
    const dir = path.join(tmp, 'cache');
    run(dir);
    const [file, ...more] = codeCaches(dir);
    expect(more).toEqual([]);
    expect(file).toMatch(/[0-9a-f]{64}\.bin$/);
    const made = fs.readFileSync(file);
    expect(made.length).toBeGreaterThan(100_000); // the functions the run compiled, not only the top level
    const { ino } = fs.statSync(file);
    const old = new Date(Date.now() - 86_400_000);
    fs.utimesSync(file, old, old);

    run(dir);
    const again = fs.statSync(file);
    expect(again.ino).toBe(ino); // accepted: not written again (a new cache is renamed over it: another inode)
    expect(fs.readFileSync(file).equals(made)).toBe(true);
    expect(again.mtimeMs).toBeGreaterThan(old.getTime() + 3_600_000); // marked used, so that pruning keeps it

    const damaged = Buffer.from(made);
    for (let k = 4096; k < damaged.length; k += 4096) damaged[k] ^= 0x5a; // its body: V8 checks only the header
    fs.writeFileSync(file, damaged);
    run(dir);
    expect(codeCaches(dir)).toEqual([file]); // no temporary file left behind
    expect(fs.readFileSync(file).equals(damaged)).toBe(false);
    expect(fs.readFileSync(file).length).toBeGreaterThan(100_000);
  });

  it('ENTRYSTUB_CACHE_DIR=off keeps nothing', () => {
    const cwd = path.join(tmp, 'off');
    fs.mkdirSync(cwd);
    const r = spawnSync(process.execPath, [CLI, 'run', BUSYBOX!, ...ARGS], { encoding: 'utf8', cwd, env: { ...process.env, ENTRYSTUB_CACHE_DIR: 'off' } });
    expect(r.stdout).toBe('launched\n');
    expect(r.status).toBe(3);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });
});
