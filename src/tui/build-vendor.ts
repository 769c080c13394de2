// Build step (after tsc): bundles the workshop (dist/tui/*.js with React and
// Ink) into dist/tui/workshop.js, and marked with marked-terminal into
// dist/tui/vendor/marked.js, so the first frame does not wait for Node to
// find, read, compile and link ~100 small modules one by one. The lesson
// loader, the lesson engine and the runtime stay outside, loaded by path
// (the engine, and koffi with it, only when a lesson opens); marked loads
// after the first frame. Run: node dist/tui/build-vendor.js
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'rolldown';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(here, 'vendor');
const entries = path.join(outDir, '.entries');
const WORKSHOP = path.join(here, 'workshop.js');

const DEFINE = {
  'process.env.NODE_ENV': '"production"',
  // yoga-layout fetch()es its WebAssembly from a data: URL when fetch exists, which loads
  // Node's whole fetch implementation (~25 ms); without it, it decodes the base64 itself.
  fetch: 'undefined',
};
// marked-terminal imports cli-highlight (and all of highlight.js) for code blocks; ours never reach it.
const NO_HIGHLIGHT = path.join(entries, 'no-highlight.js');
// Ink's devtools (only with DEV=true) import react-devtools-core, which is not installed, and ws,
// which would be compiled on every start for nothing: loading them fails as the missing package would.
const NO_DEVTOOLS = path.join(entries, 'no-devtools.js');
// Ink and its helpers measure every line (and wrap-ansi every character) with string-width, which
// segments non-ASCII text into graphemes with Intl.Segmenter: ~10 ms to set up ICU's break
// iterator and ~20 ms for the menu's first frame here. The workshop lays its rows out with
// text.ts's textWidth; Ink measuring with the same rule is one home for it, and fast.
const TEXT_WIDTH = path.join(entries, 'text-width.js');

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
    if (source === './devtools.js' && /[\\/]ink[\\/]build[\\/]/.test(importer)) return NO_DEVTOOLS;
    if (source === 'string-width') return TEXT_WIDTH;
    if (path.dirname(importer) !== here) return null;
    if (source === './ink.js') return this.resolve('ink', importer, { skipSelf: true });
    if (source === './marked.js') return { id: './vendor/marked.js', external: true };
    if (source.startsWith('../')) return { id: source, external: true };
    return null;
  },
};

async function bundleWorkshop(): Promise<void> {
  await build({
    input: path.join(here, 'index.js'),
    platform: 'node',
    plugins: [workshopImports],
    // Ink's helpers split text into graphemes: graphemes.ts does it without ICU's ~15 ms setup when it can.
    transform: { define: DEFINE, inject: { 'Intl.Segmenter': [path.join(here, 'graphemes.js'), 'GraphemeSegmenter'] } },
    logLevel: 'warn',
    output: { file: WORKSHOP, format: 'esm', minify: true, codeSplitting: false },
  });
}

fs.rmSync(outDir, { recursive: true, force: true });
fs.rmSync(WORKSHOP, { force: true });
fs.mkdirSync(entries, { recursive: true });
fs.writeFileSync(NO_HIGHLIGHT, 'export function highlight(code) { return code; }\n');
fs.writeFileSync(NO_DEVTOOLS, "throw new Error('react-devtools-core is not installed');\n");
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
