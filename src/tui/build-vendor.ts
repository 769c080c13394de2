// Build step (after tsc): bundles Ink and marked-terminal into single files
// under dist/tui/vendor/, so the workshop's first frame does not wait for
// Node to find, read and link ~100 small modules one by one. React stays
// external: the reconciler in the bundle and the JSX in our components must
// share one React. Run: node dist/tui/build-vendor.js
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(here, 'vendor');
const entries = path.join(outDir, '.entries');

const EXTERNAL = ['react', 'react/jsx-runtime'];
// marked-terminal imports cli-highlight (and all of highlight.js) for code blocks; ours never reach it.
const NO_HIGHLIGHT = path.join(entries, 'no-highlight.js');
// Ink's devtools (only with DEV=true) import react-devtools-core, which is not installed.
const NO_DEVTOOLS = path.join(entries, 'no-devtools.js');

async function bundle(name: string, source: string, alias: Record<string, string> = {}): Promise<void> {
  const entry = path.join(entries, `${name}.js`);
  fs.writeFileSync(entry, source);
  await build({
    input: entry,
    platform: 'node',
    external: EXTERNAL,
    resolve: { alias },
    transform: {
      define: {
        'process.env.NODE_ENV': '"production"',
        // yoga-layout fetch()es its WebAssembly from a data: URL when fetch exists, which loads
        // Node's whole fetch implementation (~25 ms); without it, it decodes the base64 itself.
        fetch: 'undefined',
      },
    },
    logLevel: 'warn',
    output: { file: path.join(outDir, `${name}.js`), format: 'esm', minify: true, codeSplitting: false },
  });
}

fs.rmSync(outDir, { recursive: true, force: true });
fs.mkdirSync(entries, { recursive: true });
fs.writeFileSync(NO_HIGHLIGHT, 'export function highlight(code) { return code; }\n');
fs.writeFileSync(NO_DEVTOOLS, "export default { initialize() {}, connectToDevTools() { throw new Error('react-devtools-core is not installed'); } };\n");
try {
  await bundle('ink', "export * from 'ink';\n", { 'react-devtools-core': NO_DEVTOOLS });
  await bundle('marked', "export { Marked } from 'marked';\nexport { markedTerminal } from 'marked-terminal';\n", { 'cli-highlight': NO_HIGHLIGHT });
} finally {
  fs.rmSync(entries, { recursive: true, force: true });
}
for (const name of fs.readdirSync(outDir)) {
  process.stdout.write(`build-vendor: ${path.join('dist/tui/vendor', name)} ${(fs.statSync(path.join(outDir, name)).size / 1024).toFixed(0)} KiB\n`);
}
