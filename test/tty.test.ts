/**
 * Terminal ioctls on a real terminal: script(1) gives each run a fresh
 * pseudo-terminal, and the same commands run natively in another one are the
 * oracle. A setting the program makes must be the terminal's afterwards (the
 * native `stty` run after it sees it), and what it reads must be what the
 * terminal has (its size included).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from './helpers/cases.js';
import { need } from './helpers/tools.js';

// script(1) gives each run its pseudo-terminal
const BUSYBOX = need('busybox', 'script');
const EMU = `${process.execPath} ${CLI} run`;

/** Output of a shell command line run on a new pseudo-terminal. */
function onPty(cmd: string): string {
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 120_000, env: { PATH: '/usr/bin:/bin' } });
  if (r.error) throw r.error;
  return r.stdout;
}

/** `busybox ARGS` natively and emulated, each followed by `after` (run natively, to see what is left on the terminal). */
function both(args: string, after = ''): { native: string; emulated: string } {
  const tail = after ? `; ${after}` : '';
  return { native: onPty(`${BUSYBOX} ${args}${tail}`), emulated: onPty(`${EMU} ${BUSYBOX} ${args}${tail}`) };
}

describe.skipIf(!BUSYBOX)('terminal settings are the terminal\'s (TCGETS, TCSETS, TIOCGWINSZ, TIOCSWINSZ)', () => {
  it('stty -a reads the settings and the size the terminal has', () => {
    const r = both('stty -a');
    expect(r.native).toMatch(/speed \d+ baud/);
    expect(r.emulated).toBe(r.native);
  });

  it('what stty sets is on the terminal after the program exits', () => {
    const r = both('stty cols 100 rows 30 -echo -icanon min 3', 'stty -a');
    expect(r.native).toMatch(/rows 30; columns 100;[^]*-icanon[^]*-echo /);
    expect(r.emulated).toBe(r.native);
  });

  it('raw mode, read back with stty -g', () => {
    // -echo: script(1) sends ^D at the end, which a raw terminal with echo would show, or not, by timing
    const r = both('stty raw -opost -echo', 'stty -g');
    expect(r.native).toMatch(/^0:[0-9a-f]+:bf:8a30:/);
    expect(r.emulated).toBe(r.native);
  });
});
