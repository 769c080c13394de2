// marked and marked-terminal, as the lesson text uses them: bundled by the
// build (dist/tui/vendor/marked.js) without the syntax highlighter
// marked-terminal imports but we never call (code blocks are laid out by
// markdown.ts), which makes opening the first lesson ~4x faster. From src/
// (tests) it is the packages. (The workshop bundle takes ./marked.js to be
// dist/tui/vendor/marked.js itself, loaded when the first lesson text is.)
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundled = new URL('./vendor/marked.js', import.meta.url);
const vendor: { Marked: typeof import('marked').Marked; markedTerminal: typeof import('marked-terminal').markedTerminal } = fs.existsSync(
  fileURLToPath(bundled),
)
  ? await import(bundled.href)
  : { Marked: (await import('marked')).Marked, markedTerminal: (await import('marked-terminal')).markedTerminal };

export const { Marked, markedTerminal } = vendor;
