// Builds the web map into one directory that the wangge binary embeds
// (build.rs runs `node web/build.mjs $OUT_DIR/web`; `npm run build` writes web/dist).
//
//   node build.mjs OUT_DIR
//
// What lands in OUT_DIR, every file served by src/web/mod.rs at the same path:
//
//   index.html                              the page; names the hashed JS and CSS below
//   assets/app-HASH.js, assets/app-HASH.css src/main.js and all it imports, MapLibre included
//   assets/chunk-HASH.js                    code loaded on demand (the statistics charts)
//   assets/app-HASH.js.LEGAL.txt            the licence headers of the bundled code
//   assets/maplibre-gl-worker-HASH.mjs      MapLibre 6's worker, a separate ES module (see below)
//   fonts/noto-sans-latin-{400,700}.woff2   the style's `font-faces` for Latin text (see below)
//   fonts/OFL.txt                           the fonts' licence
//   sw.js                                   the service worker (src/sw.js, see step 5b)
//   manifest.webmanifest, icon*.{svg,png}   the installable app's manifest and icons
//   FILE.br, FILE.gz                        each text file above (HTML, JS, CSS, text)
//                                           compressed once here, brotli at its best
//                                           quality and gzip at 9, so the server sends
//                                           them as they are to browsers that accept them
//
// Everything under assets/ is named by its content, so the server sends it as
// immutable; index.html and the fonts keep stable names (the style document
// names the fonts, src/tiles/style.rs) and are revalidated by ETag.
//
// Steps: 1. empty OUT_DIR; 2. copy MapLibre's worker under a hashed name;
// 3. bundle the app with esbuild, telling it the worker's name; 4. copy the
// fonts; 5. write index.html with the hashed names, 5b. the manifest and the
// service worker; 6. pre-compress.

import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const outArg = process.argv[2];
if (!outArg) {
  console.error('usage: node build.mjs OUT_DIR');
  process.exit(2);
}
const outDir = path.resolve(outArg);

/** The first 10 hex digits of a SHA-256: enough to tell builds apart. */
function contentHash(bytes) {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 10);
}

/** A file inside an installed npm package (resolved through its package.json). */
function packageFile(pkg, file) {
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
}

// 1. A clean directory, so that files of earlier builds are not embedded.
await rm(outDir, { recursive: true, force: true });
const assetsDir = path.join(outDir, 'assets');
await mkdir(assetsDir, { recursive: true });
await mkdir(path.join(outDir, 'fonts'), { recursive: true });

// 2. MapLibre GL JS 6 runs its parsing and tile work in a module worker that
// it loads from `maplibre-gl-worker.mjs` next to its own script. Bundled, its
// "own script" is app-HASH.js, so the app points it at the hashed copy with
// `setWorkerUrl` instead (the name arrives through `define` below).
const workerSource = await readFile(packageFile('maplibre-gl', 'dist/maplibre-gl-worker.mjs'));
const workerName = `maplibre-gl-worker-${contentHash(workerSource)}.mjs`;
await writeFile(path.join(assetsDir, workerName), workerSource);

// 3. The app: plain ES modules, MapLibre and its CSS bundled in.
const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  // Code only some views need (the statistics charts) is imported
  // dynamically and lands in chunks of its own, loaded when first used.
  splitting: true,
  chunkNames: 'chunk-[hash]',
  outdir: assetsDir,
  metafile: true,
  // Licence headers of MapLibre and its dependencies go into one file beside
  // the bundle rather than being dropped by the minifier.
  legalComments: 'linked',
  define: { __MAPLIBRE_WORKER__: JSON.stringify(workerName) },
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((p) => path.basename(p));
const appJs = outputs.find((p) => /^app-.*\.js$/.test(p));
const appCss = outputs.find((p) => /^app-.*\.css$/.test(p));
if (!appJs || !appCss) {
  throw new Error(`esbuild wrote no app JS or CSS: ${outputs.join(', ')}`);
}

// 4. Latin text (digits and letters in grid names and codes) is drawn from
// Noto Sans files that the style declares in `font-faces`, so labels look the
// same on every client and need no glyph server; Chinese characters are drawn
// with the browser's own fonts (MapLibre's local ideograph rendering).
for (const weight of [400, 700]) {
  await copyFile(
    packageFile('@fontsource/noto-sans', `files/noto-sans-latin-${weight}-normal.woff2`),
    path.join(outDir, 'fonts', `noto-sans-latin-${weight}.woff2`),
  );
}
await copyFile(packageFile('@fontsource/noto-sans', 'LICENSE'), path.join(outDir, 'fonts', 'OFL.txt'));

// 5. The page, naming this build's files.
const template = await readFile(path.join(here, 'index.html'), 'utf8');
const html = template
  .replaceAll('%APP_JS%', `assets/${appJs}`)
  .replaceAll('%APP_CSS%', `assets/${appCss}`);
const unknown = html.match(/%[A-Z_]+%/);
if (unknown) throw new Error(`index.html has an unknown placeholder ${unknown[0]}`);
await writeFile(path.join(outDir, 'index.html'), html);

// 5b. The installable app: the manifest and its icons (web/public, as they
// are), and the service worker with this build's shell to keep offline. Its
// VERSION changes with any file of the shell or font, so a new build
// replaces the old cache. Chunks loaded on demand and the fonts are kept when first used,
// not fetched ahead (a first visit pays only for what it shows).
for (const file of await readdir(path.join(here, 'public'))) {
  await copyFile(path.join(here, 'public', file), path.join(outDir, file));
}
const shell = ['./', `assets/${appJs}`, `assets/${appCss}`, `assets/${workerName}`];
// The fonts keep stable names but are cached first like the shell: their
// bytes count in VERSION, so a font-only update is picked up too.
const fonts = await Promise.all([400, 700].map((weight) =>
  readFile(path.join(outDir, 'fonts', `noto-sans-latin-${weight}.woff2`))));
const version = contentHash(Buffer.concat([Buffer.from(shell.join('\n') + html), ...fonts]));
const worker = (await readFile(path.join(here, 'src', 'sw.js'), 'utf8'))
  .replace("'%VERSION%'", JSON.stringify(version))
  .replace("'%SHELL%'", JSON.stringify(JSON.stringify(shell)));
if (/%[A-Z_]+%/.test(worker)) throw new Error('sw.js has a placeholder left');
await writeFile(path.join(outDir, 'sw.js'), worker);

// 6. Brotli at quality 11 is too slow to run per request but costs nothing
// once at build time; it makes MapLibre's bundle about a fifth of its size.
// Files already compressed (woff2) and tiny ones are left as they are.
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);
const COMPRESSIBLE = /\.(html|js|mjs|css|txt|json|svg)$/;
const MIN_COMPRESSED_SIZE = 1024;
const written = await readdir(outDir, { recursive: true, withFileTypes: true });
for (const entry of written) {
  if (!entry.isFile() || !COMPRESSIBLE.test(entry.name)) continue;
  const file = path.join(entry.parentPath, entry.name);
  const bytes = await readFile(file);
  if (bytes.length < MIN_COMPRESSED_SIZE) continue;
  const br = await brotli(bytes, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
      [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  await writeFile(`${file}.br`, br);
  await writeFile(`${file}.gz`, await gzip(bytes, { level: 9 }));
}

console.log(`web bundle in ${outDir}: index.html, assets/{${appJs},${appCss},${workerName}}, fonts/`);
