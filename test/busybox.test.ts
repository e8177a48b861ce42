/**
 * Programs no one here wrote: Debian's busybox-static applets, emulated,
 * must give the same stdout and exit status as native busybox on the same
 * inputs (recorded in test/fixtures/expected/busybox by record-native.sh),
 * in every entry configuration, shell pipelines, `$(...)`, jobs, xargs and
 * timeout (fork, exec, wait and pipes between processes) included.
 */
import { describe, it, expect } from 'vitest';
import { busyboxPath, runCase, loadCases, expectedOf } from './helpers/cases.js';
import { CONFIGS } from './helpers/configs.js';

const cases = loadCases('test/fixtures/busybox-cases.json');

// the four entry configurations (the direct baseline is covered by the fixtures)
for (const cfg of CONFIGS.filter((c) => c.name !== 'direct')) {
  describe.skipIf(!busyboxPath()).concurrent(`busybox applets match native busybox (${cfg.name})`, () => {
    for (const c of cases) {
      it(c.name, async () => {
        const r = await runCase(c, 'busybox', cfg.args);
        const exp = expectedOf(c, 'test/fixtures/expected/busybox');
        expect(r.stdout.toString('latin1')).toBe(exp.stdout.toString('latin1'));
        expect(r.status).toEqual(exp.status);
      });
    }
  });
}
