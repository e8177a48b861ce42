/**
 * Every fixture's emulated stdout and exit status must be byte-identical to
 * its native run on this machine (recorded in test/fixtures/expected by
 * test/fixtures/record-native.sh): the real CPU is the oracle.
 */
import { describe, it, expect } from 'vitest';
import { runCase, loadCases, expectedOf } from './helpers/cases.js';

const cases = loadCases('test/fixtures/cases.json');

describe('fixtures match their native runs', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = runCase(c, 'bin');
      const exp = expectedOf(c, 'test/fixtures/expected');
      expect(r.stdout.toString('latin1')).toBe(exp.stdout.toString('latin1'));
      expect(r.status).toEqual(exp.status);
    });
  }
});
