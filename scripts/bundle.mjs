// `npm run build`'s second step: the installed command (package.json "bin") is dist/bin/entrystub.mjs, a small
// launcher (src/launcher.ts) that runs dist/bin/entrystub-bundle.cjs, the CLI bundled by esbuild from tsc's
// output into one CommonJS file. One file because resolving, reading and linking dist's ~150 modules was a third
// of a short `entrystub run` (bench: start-up); CommonJS because Node 20 keeps a V8 code cache only for a classic
// script (vm.Script), which the launcher uses so that the bundle is not compiled again on every run. Both sit two
// levels under the package root, as dist/<dir>/*.js does, so the paths the modules derive from import.meta.url
// (the guest images under src/guest) hold in them too.
// iced-x86 (a megabyte of wasm, used only by `trace --disasm`) stays outside, loaded when asked for.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const bundle = path.join(dist, 'bin', 'entrystub-bundle.cjs');

// The zpoline sweep cache's key names the decoder it was made by: hashed here, from the compiled modules the
// bundle is made of, once, rather than by hashing the whole bundle at every run.
const { decoderVersion } = await import(pathToFileURL(path.join(dist, 'entry', 'sweep-cache.js')).href);

await esbuild.build({
  entryPoints: [path.join(dist, 'cli.js')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['iced-x86'],
  // any other character escaped: the launcher reads the bundle as latin1, the cheaper decode
  charset: 'ascii',
  // import.meta does not exist in a CommonJS file: its url is the bundle's own (the launcher passes __filename),
  // and resolve (yargs' config `extends`) resolves from there
  banner: {
    js: 'var __import_meta_url = require("node:url").pathToFileURL(__filename).href;\n' +
      'var __import_meta_resolve = (s) => require("node:url").pathToFileURL(require.resolve(s)).href;',
  },
  define: {
    'import.meta.url': '__import_meta_url',
    'import.meta.resolve': '__import_meta_resolve',
    ENTRYSTUB_DECODER_VERSION: JSON.stringify(decoderVersion()),
  },
  logLevel: 'warning',
});

// the launcher holds the bundle's hash (the name of its code cache): computed when the bundle is made
const code = fs.readFileSync(bundle, 'utf8').replace(/^#!.*/, '');
fs.writeFileSync(bundle, code);
await esbuild.build({
  entryPoints: [path.join(dist, 'launcher.js')],
  outfile: path.join(dist, 'bin', 'entrystub.mjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  define: { ENTRYSTUB_BUNDLE_HASH: JSON.stringify(createHash('sha256').update(code).digest('hex')) },
  logLevel: 'warning',
});
