/**
 * --root against the real thing: the same busybox commands run natively under
 * chroot(8) in one scratch root and emulated with --root in an identical one
 * must print the same, exit the same, and leave the two roots the same, with
 * the directory outside both untouched. The roots hold the symlinks that
 * test path resolution (absolute ones re-rooted, '..' stopping at the root,
 * links naming host paths outside, chains, loops, dangling ones). chroot
 * needs root: the tests fail otherwise, unless ENTRYSTUB_SKIP_MISSING_TOOLS
 * is set (see helpers/tools.ts). (There is no /proc inside a
 * plain chroot, so the emulated procfs is left to confinement.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/cases.js';
import { need, needRoot } from './helpers/tools.js';

const BUSYBOX = need('busybox');
const CHROOT = need('chroot')!;
const isRoot = BUSYBOX !== null && CHROOT !== null && needRoot('chroot(8)');
let tmp: string, outside: string, nativeRoot: string, emuRoot: string;

function build(root: string): void {
  for (const d of ['bin', 'etc', 'home/user/dir', 'tmp']) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.copyFileSync(BUSYBOX!, path.join(root, 'bin/busybox'));
  fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
  fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:guest root:/root:/bin/sh\n');
  fs.writeFileSync(path.join(root, 'home/user/file'), 'inside\n');
  const link = (target: string, at: string) => fs.symlinkSync(target, path.join(root, at));
  link('/etc', 'home/user/abs-etc');
  link('../../../../../../../..' + outside + '/marker', 'home/user/climb');
  link(outside + '/marker', 'home/user/hostabs');
  link(outside, 'home/user/hostdir');
  link('dir', 'home/user/rel');
  link('loop2', 'home/user/loop1');
  link('loop1', 'home/user/loop2');
  link('/', 'home/user/toroot');
  link('nowhere', 'home/user/dangling');
  link('/home/user/abs-etc', 'home/user/chain');
}

/** Every path, type, link target and file content under root. */
function tree(root: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of fs.readdirSync(d).sort()) {
      const f = path.join(d, n);
      const st = fs.lstatSync(f);
      const rel = path.relative(root, f);
      if (rel === 'bin/busybox') continue;
      out.push(`${rel} ${st.mode.toString(8)} ${st.isSymbolicLink() ? '-> ' + fs.readlinkSync(f) : st.isFile() ? fs.readFileSync(f, 'latin1') : ''}`);
      if (st.isDirectory()) walk(f);
    }
  };
  walk(root);
  return out.join('\n');
}

beforeAll(() => {
  if (!isRoot) return;
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'entrystub-chroot-')));
  outside = path.join(tmp, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'marker'), 'MARKER\n');
  nativeRoot = path.join(tmp, 'native');
  emuRoot = path.join(tmp, 'emulated');
  build(nativeRoot);
  build(emuRoot);
});
afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** One applet run natively under chroot, and emulated under --root. */
function both(args: string[]): { native: [string, number | null]; emulated: [string, number | null] } {
  const n = spawnSync(CHROOT, [nativeRoot, '/bin/busybox', ...args], { encoding: 'utf8', env: {}, cwd: '/' });
  const e = spawnSync(process.execPath, [CLI, 'run', '--quiet', '--root', emuRoot, '--argv0', '/bin/busybox', path.join(emuRoot, 'bin/busybox'), ...args], {
    encoding: 'utf8',
    env: {},
    cwd: '/',
  });
  return { native: [n.stdout, n.status], emulated: [e.stdout, e.status] };
}

const COMMANDS: string[][] = [
  ['readlink', '-f', '/home/user/abs-etc/passwd'],
  ['readlink', '-f', '/home/user/chain/passwd'],
  ['readlink', '-f', '/home/user/toroot/home/user/rel'],
  ['readlink', '-f', '/home/user/climb'],
  ['readlink', '/home/user/hostabs'],
  ['realpath', '/home/user/toroot/..'],
  ['cat', '/home/user/abs-etc/passwd'],
  ['cat', '/home/user/chain/passwd', '/home/user/rel/../file'],
  ['cat', '/home/user/hostabs'],
  ['cat', '/home/user/climb'],
  ['cat', '/../../..' + '/home/user/file'],
  ['ls', '/home/user/hostdir/'],
  ['ls', '/home/user/toroot/etc'],
  ['stat', '-c', '%n %s %F', '/home/user/abs-etc', '/home/user/rel', '/home/user/file'],
  ['stat', '-L', '-c', '%n %s %F', '/home/user/abs-etc', '/home/user/rel', '/home/user/hostabs'],
  ['stat', '-c', '%n', '/home/user/loop1/x'],
  ['test', '-e', '/home/user/hostabs'],
  ['test', '-e', '/home/user/dangling'],
  ['test', '-L', '/home/user/dangling'],
  ['find', '/home', '-name', 'file'],
  // changes: each must land inside the root, the same way in both
  ['mkdir', '-p', '/home/user/hostdir/made'],
  ['touch', '/home/user/climb'],
  ['touch', '/home/user/dangling'],
  ['ln', '-s', '/etc/passwd', '/home/user/abs-etc/link'],
  ['cp', '/home/user/file', '/home/user/toroot/tmp/copy'],
  ['mv', '/home/user/toroot/tmp/copy', '/home/user/hostdir/moved'],
  ['chmod', '600', '/home/user/hostabs'],
  ['rm', '-f', '/home/user/climb'],
  ['cat', '/home/user/hostdir/moved'],
];

describe.skipIf(!isRoot)('--root does what chroot does (busybox, native chroot beside emulated --root)', () => {
  for (const cmd of COMMANDS)
    it(cmd.join(' '), () => {
      const r = both(cmd);
      expect(r.emulated).toEqual(r.native);
    });

  it('leaves both roots alike and the outside untouched', () => {
    expect(tree(emuRoot)).toBe(tree(nativeRoot));
    expect(fs.readdirSync(outside)).toEqual(['marker']);
    expect(fs.readFileSync(path.join(outside, 'marker'), 'utf8')).toBe('MARKER\n');
    expect(fs.statSync(path.join(outside, 'marker')).mode & 0o777).toBe(0o644);
  });
});
