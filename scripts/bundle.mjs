// `npm run build`'s second step: the installed command (package.json "bin") is dist/bin/entrystub.mjs, one
// file bundled by esbuild from tsc's output. Node 20 has no compile cache for ES modules, and resolving,
// reading and linking dist's ~150 modules was a third of a short `entrystub run` (bench: start-up): the
// bundle is parsed once. It sits two levels under the package root, as dist/<dir>/*.js does, so the paths
// the modules derive from import.meta.url (the guest images under src/guest) hold in it too.
// iced-x86 (a megabyte of wasm, used only by `trace --disasm`) stays outside, loaded when asked for.
import * as esbuild from 'esbuild';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await esbuild.build({
  entryPoints: [path.join(root, 'dist', 'cli.js')],
  outfile: path.join(root, 'dist', 'bin', 'entrystub.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['iced-x86'],
  logLevel: 'warning',
});
