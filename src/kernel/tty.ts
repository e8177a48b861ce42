/**
 * Terminal settings of a real host terminal, read and applied through the
 * host's stty(1) with the terminal as its standard input: Node has no
 * tcgetattr/tcsetattr, and a terminal's settings are the terminal's, not the
 * emulator's (a program that turns echo off must find echo off in the shell
 * after it, as natively).
 *
 * `stty -g` prints and accepts glibc's struct termios as
 * iflag:oflag:cflag:lflag:cc[0]:...:cc[31] in hex. The kernel's struct
 * termios (TCGETS/TCSETS: 4 flag words, c_line, 19 control characters) maps
 * onto it field for field; glibc's c_cc[19..31] are unused. Not carried:
 * c_line (the line discipline, TIOCSETD's business), and TCSETSF's flush of
 * pending input.
 *
 * Each call is a process spawn (a few ms): terminals are interactive.
 *
 * Node saves the settings of its fds 0-2 when it starts and puts them back
 * when it exits (node.cc's ResetStdio), which would undo what the program
 * set. It skips a descriptor that is closed by then, so once the program has
 * changed a terminal, the terminal descriptors among 0-2 are closed on exit.
 */
import { hostFs as fs, spawnSync } from './hostlog.js';
import * as tty from 'node:tty';

/** Size of the kernel's struct termios and its control characters. */
export const KERNEL_TERMIOS_SIZE = 36;
const KERNEL_NCCS = 19;
const GLIBC_NCCS = 32;

/** Why a terminal operation could not be done on the host. */
export class TtyError extends Error {}

function stty(hostFd: number, args: string[]): string {
  const r = spawnSync('stty', args, { stdio: [hostFd, 'pipe', 'pipe'], encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new TtyError(`stty ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new TtyError(`stty ${args.join(' ')}: ${r.stderr.trim() || `exit status ${r.status}`}`);
  return r.stdout;
}

/** TCGETS: the terminal's settings as the kernel's struct termios. */
export function ttyGetAttr(hostFd: number): Uint8Array {
  const fields = stty(hostFd, ['-g']).trim().split(':');
  if (fields.length !== 4 + GLIBC_NCCS || fields.some((f) => !/^[0-9a-f]+$/i.test(f))) throw new TtyError(`stty -g: unexpected output ${fields.join(':')}`);
  const out = new Uint8Array(KERNEL_TERMIOS_SIZE);
  const dv = new DataView(out.buffer);
  for (let k = 0; k < 4; k++) dv.setUint32(k * 4, parseInt(fields[k], 16) >>> 0, true);
  out[16] = 0; // c_line: N_TTY (stty does not show it)
  for (let k = 0; k < KERNEL_NCCS; k++) out[17 + k] = parseInt(fields[4 + k], 16) & 0xff;
  return out;
}

let keepOnExit = false;

/** The settings the program gave stay when we exit: keep Node from restoring its own. */
function keepSettingsOnExit(): void {
  if (keepOnExit) return;
  keepOnExit = true;
  process.on('exit', () => {
    for (const fd of [0, 1, 2])
      if (tty.isatty(fd))
        try {
          fs.closeSync(fd);
        } catch {
          /* already closed */
        }
  });
}

/** TCSETS (and W, F): apply the kernel's struct termios to the terminal. */
export function ttySetAttr(hostFd: number, termios: Uint8Array): void {
  keepSettingsOnExit();
  const dv = new DataView(termios.buffer, termios.byteOffset, termios.byteLength);
  const fields: string[] = [];
  for (let k = 0; k < 4; k++) fields.push(dv.getUint32(k * 4, true).toString(16));
  for (let k = 0; k < GLIBC_NCCS; k++) fields.push((k < KERNEL_NCCS ? termios[17 + k] : 0).toString(16));
  stty(hostFd, [fields.join(':')]);
}

/** TIOCGWINSZ: [rows, cols] of the terminal. */
export function ttyGetWinsize(hostFd: number): [number, number] {
  const m = /^(\d+) (\d+)$/.exec(stty(hostFd, ['size']).trim());
  if (!m) throw new TtyError('stty size: unexpected output');
  return [Number(m[1]), Number(m[2])];
}

/** TIOCSWINSZ: set rows and cols (the pixel sizes are not settable through stty). */
export function ttySetWinsize(hostFd: number, rows: number, cols: number): void {
  stty(hostFd, ['rows', String(rows), 'cols', String(cols)]);
}
