// Ink, as the TUI uses it. Importing the ink package means ~80 files and
// ~400 ms before the first frame on a slow machine; the build bundles it into
// one file (dist/tui/vendor/ink.js, made by build-vendor.ts), which loads in a
// fraction of that. Without the bundle (tests run from src/) it is the package.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundled = new URL('./vendor/ink.js', import.meta.url);
const ink: typeof import('ink') = fs.existsSync(fileURLToPath(bundled)) ? await import(bundled.href) : await import('ink');

export const { render, Box, Text, useInput, useStdout } = ink;
export type { Key } from 'ink';
