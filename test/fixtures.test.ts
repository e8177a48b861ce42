/**
 * Every fixture's emulated stdout and exit status must be byte-identical to
 * its native run on this machine (recorded in test/fixtures/expected by
 * test/fixtures/record-native.sh): the real CPU is the oracle. Each runs in
 * every entry configuration (the `slow` benchmark-sized cases are left to
 * `npm run bench`).
 */
import { describe, it, expect } from 'vitest';
import { runCase, loadCases, expectedOf } from './helpers/cases.js';
import { CONFIGS } from './helpers/configs.js';

const cases = loadCases('test/fixtures/cases.json').filter((c) => !c.tags?.includes('slow'));

for (const cfg of CONFIGS) {
  describe.concurrent(`fixtures match their native runs (${cfg.name})`, () => {
    for (const c of cases) {
      it(c.name, async () => {
        const r = await runCase(c, 'bin', cfg.args);
        const exp = expectedOf(c, 'test/fixtures/expected');
        expect(r.stdout.toString('latin1')).toBe(exp.stdout.toString('latin1'));
        expect(r.status).toEqual(exp.status);
      });
    }
  });
}
