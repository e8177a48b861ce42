// `npm run build`'s second step: the installed command (package.json "bin") is dist/bin/entrystub.cjs, a small
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
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const bundle = path.join(dist, 'bin', 'entrystub-bundle.cjs');

// The zpoline sweep cache's key names the decoder it was made by: hashed here, from the compiled modules the
// bundle is made of, once, rather than by hashing the whole bundle at every run.
const { decoderVersion } = await import(pathToFileURL(path.join(dist, 'entry', 'sweep-cache.js')).href);

// Start-up (issue 16): what a short `entrystub run` does not use is not loaded or made when the bundle starts.
// - Node's built-in modules that only some commands or syscalls use: each `import` of one becomes an object whose
//   properties load the module on first use (esbuild's CommonJS output reads an import's properties where it uses
//   them, never at the import). The names are this Node's exports; a name the running Node lacks reads undefined,
//   as it would from the module itself.
// - What a dependency makes when it loads and uses only for help text, which a run never prints: made on first use
//   instead (LAZY_TEXT; the build fails if a line changes). string-width (yargs' help layout) makes an
//   Intl.Segmenter, ~10 ms of ICU set-up; yargs' platform shim reads process.stdout.columns, which makes Node
//   build the stdout stream (its net or tty module and a handle), and asserts through node:assert (the module and
//   its error formatting) where it only throws if the assertion fails: together ~10 ms of CPU, ~350 fresh host pages.
const LAZY_BUILTINS = /^(node:)?(assert|child_process|crypto|net|tty|worker_threads|zlib)$/;
const require = createRequire(import.meta.url);
const LAZY_TEXT = [
  {
    file: /[\\/]string-width[\\/]index\.js$/,
    eager: ['const segmenter = new Intl.Segmenter();'],
    lazy: ['let made; const segmenter = { segment: (s) => (made ??= new Intl.Segmenter()).segment(s) };'],
  },
  {
    file: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/,
    eager: [
      "stdColumns: typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null",
      'assert: {\n    notStrictEqual,\n    strictEqual\n  },',
    ],
    lazy: [
      "get stdColumns() { return typeof process.stdout.columns !== 'undefined' ? process.stdout.columns : null }",
      // yargs asserts on every run (its version guess): node:assert is loaded when one fails, to throw its error
      'assert: {\n    notStrictEqual: (a, b, m) => { if (Object.is(a, b)) notStrictEqual(a, b, m) },\n    strictEqual: (a, b, m) => { if (!Object.is(a, b)) strictEqual(a, b, m) }\n  },',
    ],
  },
];
const startLazily = {
  name: 'start-lazily',
  setup(build) {
    build.onResolve({ filter: LAZY_BUILTINS }, (args) =>
      args.namespace === 'lazy-builtin' ? { path: args.path, external: true } : { path: args.path, namespace: 'lazy-builtin' });
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const id = JSON.stringify(args.path);
      const props = Object.keys(require(args.path)).map((k) => `${JSON.stringify(k)}: { get: () => load()[${JSON.stringify(k)}], enumerable: true }`);
      return {
        contents: `let m; const load = () => (m ??= require(${id}));\nmodule.exports = Object.defineProperties({}, {\n${props.join(',\n')}\n});\n`,
        loader: 'js',
      };
    });
    for (const { file, eager, lazy } of LAZY_TEXT) {
      build.onLoad({ filter: file }, (args) => {
        let text = fs.readFileSync(args.path, 'utf8');
        for (const [k, e] of eager.entries()) {
          if (!text.includes(e)) throw new Error(`${args.path}: no longer has \`${e}\`, which scripts/bundle.mjs makes lazy`);
          text = text.replace(e, lazy[k]);
        }
        return { contents: text, loader: 'js' };
      });
    }
  },
};

await esbuild.build({
  plugins: [startLazily],
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

// The file is the function the launcher compiles, Node's own CommonJS wrapper around the bundle, written here
// rather than concatenated at every run: V8 flattens a concatenated source into a third copy of its megabyte and
// more (after the file's bytes and the string read from them), ~340 fresh host pages at ~25 us each on this kind
// of virtual machine. On the first line, so that the bundle's line numbers in a stack trace are its file's;
// strict, as the ES modules it was made of.
// The launcher holds the bundle's hash (the name of its code cache): computed when the bundle is made.
const code = '(function (exports, require, module, __filename, __dirname) { \'use strict\'; ' +
  fs.readFileSync(bundle, 'utf8').replace(/^#!.*/, '') + '\n})';
fs.writeFileSync(bundle, code);
// CommonJS too: Node loads an ES module entry point through its ES module loader, ~7 ms of CPU more per run
await esbuild.build({
  entryPoints: [path.join(dist, 'launcher.js')],
  outfile: path.join(dist, 'bin', 'entrystub.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  banner: { js: 'var __import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
  define: {
    ENTRYSTUB_BUNDLE_HASH: JSON.stringify(createHash('sha256').update(code).digest('hex')),
    'import.meta.url': '__import_meta_url',
  },
  logLevel: 'warning',
});
