/**
 * The bundled example: the program `entrystub run`, `trace` and `serve` run
 * when given none (examples/example.c: a write, a getpid, and a kill of
 * itself whose SIGUSR1 handler runs on the way out). It ships in the package
 * beside the guest kernel, so it is there wherever entrystub is installed.
 */
import * as path from 'node:path';
import { INSTALL_ROOT } from './entry/kernel-image.js';

export const EXAMPLE = path.join(INSTALL_ROOT, 'examples', 'example-musl');
