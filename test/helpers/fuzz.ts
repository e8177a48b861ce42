/**
 * Shared by the seeded fuzz tests (test/gdb/fuzz.test.ts, test/exec-decode-fuzz.test.ts):
 * one seed for a run, fixed by default so that every run (and CI) tries the
 * same inputs; ENTRYSTUB_FUZZ_SEED=N tries others and replays a failure.
 */
export const FUZZ_SEED = process.env.ENTRYSTUB_FUZZ_SEED ? Number(process.env.ENTRYSTUB_FUZZ_SEED) : 0x5eed1;

/** mulberry32: a small seeded generator of numbers in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
