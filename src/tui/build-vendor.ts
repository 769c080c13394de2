// Build step (after tsc): bundles the workshop (dist/tui/*.js with React and
// Ink) into dist/tui/workshop.cjs, and marked with marked-terminal into
// dist/tui/vendor/marked.js, so the first frame does not wait for Node to
// find, read, compile and link ~100 small modules one by one. The lesson
// loader, the lesson engine and the runtime stay outside, loaded by path
// (the engine, and koffi with it, only when a lesson opens); marked loads
// after the first frame. Run: node dist/tui/build-vendor.js
//
// The workshop bundle is a classic script, not an ES module, because
// bundle-loader.ts runs it through vm.Script to keep V8's code cache of what
// the first frame ran (see there). So it may neither await at its top level
// (yoga-layout does: aliased below) nor import(): its imports of modules
// outside it become calls of the loader's `__workshopImport`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'rolldown';
import { CODE_CACHE_DIR, OUTSIDE_IMPORT } from './bundle-loader.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(here, 'vendor');
const entries = path.join(outDir, '.entries');
const WORKSHOP = path.join(here, 'workshop.cjs');

const DEFINE = {
  'process.env.NODE_ENV': '"production"',
  // yoga-layout fetch()es its WebAssembly from a data: URL when fetch exists, which loads
  // Node's whole fetch implementation (~25 ms); without it, it decodes the base64 itself.
  fetch: 'undefined',
};
// marked-terminal imports cli-highlight (and all of highlight.js) for code blocks; ours never reach it.
const NO_HIGHLIGHT = path.join(entries, 'no-highlight.js');
// Ink's reconciler awaits, at its top level and only with DEV=true, React's devtools (react-devtools-core,
// not installed) and its own package.json for them. A classic script cannot await there, and the
// workshop has no devtools: those two awaits become what Ink uses without DEV.
const INK_DEV_AWAITS: Array<[string, string]> = [
  ["await import('./devtools.js')", 'undefined'],
  ['await loadPackageJson()', '{ name: undefined, version: undefined }'],
];
const inkWithoutDevtools: Plugin = {
  name: 'ink-without-devtools',
  transform(code, id) {
    if (!/[\\/]ink[\\/]build[\\/]reconciler\.js$/.test(id)) return null;
    let out = code;
    for (const [awaited, value] of INK_DEV_AWAITS) {
      if (!out.includes(awaited)) throw new Error(`build-vendor: ink's reconciler.js no longer has \`${awaited}\`: look again at inkWithoutDevtools`);
      out = out.replace(awaited, value);
    }
    return { code: out };
  },
};
// Ink and its helpers measure every line (and wrap-ansi every character) with string-width, which
// segments non-ASCII text into graphemes with Intl.Segmenter: ~10 ms to set up ICU's break
// iterator and ~20 ms for the menu's first frame here. The workshop lays its rows out with
// text.ts's textWidth; Ink measuring with the same rule is one home for it, and fast.
const TEXT_WIDTH = path.join(entries, 'text-width.js');
// yoga-layout's index awaits its WebAssembly at its top level, which a classic script cannot. Ink
// uses Yoga only inside functions, so the default export may be a binding that is filled once
// yogaReady resolves; the bundle's entry exports yogaReady and the loader awaits it.
const YOGA = path.join(entries, 'yoga.js');
const YOGA_SOURCE = `import { loadYoga } from 'yoga-layout/load';
export * from 'yoga-layout/load';
let Yoga;
export const yogaReady = loadYoga().then((loaded) => { Yoga = loaded; });
export { Yoga as default };
`;
const WORKSHOP_ENTRY = path.join(entries, 'workshop.js');

async function bundle(name: string, source: string, alias: Record<string, string> = {}): Promise<void> {
  const entry = path.join(entries, `${name}.js`);
  fs.writeFileSync(entry, source);
  await build({
    input: entry,
    platform: 'node',
    resolve: { alias },
    transform: { define: DEFINE },
    logLevel: 'warn',
    output: { file: path.join(outDir, `${name}.js`), format: 'esm', minify: true, codeSplitting: false },
  });
}

/** The specifiers the bundle imports from outside it, relative to dist/tui/ (collected while bundling). */
const outside = new Set<string>();

/**
 * What the workshop's modules import, as the bundle takes it: ./ink.js is
 * the ink package itself (bundled), ./marked.js the vendor bundle (loaded
 * when first asked for), and anything outside dist/tui (the lesson loader,
 * the engine, the runtime) stays a module of its own at the same relative path.
 */
const workshopImports: Plugin = {
  name: 'workshop-imports',
  resolveId(source, importer) {
    if (!importer) return null;
    if (source === 'string-width') return TEXT_WIDTH;
    if (source === 'yoga-layout') return YOGA;
    if (path.dirname(importer) !== here) return null;
    if (source === './ink.js') return this.resolve('ink', importer, { skipSelf: true });
    // step-list imports nothing: in the bundle, not a module to load.
    if (source === '../lessons/step-list.js') return null;
    const specifier = source === './marked.js' ? './vendor/marked.js' : source.startsWith('../') ? source : undefined;
    if (!specifier) return null;
    outside.add(specifier);
    return { id: specifier, external: true };
  },
};

/**
 * The bundle's `import("X")` of each module outside it, as a call of the
 * loader's function; anything else left that looks like an import() would
 * throw in a classic script, so it fails the build here instead.
 */
function callLoaderForOutsideImports(code: string): string {
  let rewritten = code;
  for (const specifier of outside) {
    for (const quote of ['"', "'", '`']) rewritten = rewritten.replaceAll(`import(${quote}${specifier}${quote})`, `${OUTSIDE_IMPORT}(${quote}${specifier}${quote})`);
  }
  const left = rewritten.match(/\bimport\s*\(\s*["'`][^"'`]*["'`]\s*\)/g);
  if (left) throw new Error(`build-vendor: the workshop bundle still imports ${left.join(', ')}: mark it external in workshopImports`);
  return rewritten;
}

async function bundleWorkshop(): Promise<void> {
  fs.writeFileSync(YOGA, YOGA_SOURCE);
  fs.writeFileSync(WORKSHOP_ENTRY, `export * from ${JSON.stringify(path.join(here, 'index.js'))};\nexport { yogaReady } from 'yoga-layout';\n`);
  const result = await build({
    input: WORKSHOP_ENTRY,
    platform: 'node',
    plugins: [workshopImports, inkWithoutDevtools],
    // Ink's helpers split text into graphemes: graphemes.ts does it without ICU's ~15 ms setup when it can.
    transform: { define: DEFINE, inject: { 'Intl.Segmenter': [path.join(here, 'graphemes.js'), 'GraphemeSegmenter'] } },
    logLevel: 'warn',
    write: false,
    output: { format: 'cjs', minify: true, codeSplitting: false },
  });
  const chunks = result.output.filter((o) => o.type === 'chunk');
  if (chunks.length !== 1) throw new Error(`build-vendor: the workshop bundle came out as ${chunks.length} chunks, not one`);
  fs.writeFileSync(WORKSHOP, callLoaderForOutsideImports(chunks[0].code));
}

fs.rmSync(outDir, { recursive: true, force: true });
fs.rmSync(WORKSHOP, { force: true });
try {
  fs.rmSync(CODE_CACHE_DIR, { recursive: true, force: true });
} catch {
  // not ours to remove: stale anyway, since a cache is used only for the bundle build it names
}
fs.mkdirSync(entries, { recursive: true });
fs.writeFileSync(NO_HIGHLIGHT, 'export function highlight(code) { return code; }\n');
fs.writeFileSync(TEXT_WIDTH, `export { textWidth as default } from ${JSON.stringify(path.join(here, 'text.js'))};\n`);
try {
  await bundleWorkshop();
  await bundle('marked', "export { Marked } from 'marked';\nexport { markedTerminal } from 'marked-terminal';\n", { 'cli-highlight': NO_HIGHLIGHT });
} finally {
  fs.rmSync(entries, { recursive: true, force: true });
}
for (const file of [WORKSHOP, ...fs.readdirSync(outDir).map((name) => path.join(outDir, name))]) {
  process.stdout.write(`build-vendor: ${path.relative(path.dirname(path.dirname(here)), file)} ${(fs.statSync(file).size / 1024).toFixed(0)} KiB\n`);
}
