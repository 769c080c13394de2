// Ink, as the TUI uses it. The build bundles the workshop with Ink and React
// into one file (dist/tui/workshop.cjs, made by build-vendor.ts, which takes
// this module to be the ink package itself): importing the package means ~80
// files and ~400 ms before the first frame on a slow machine. From src/
// (tests), and in dist/ without the bundle, it is the package.
export { render, Box, Text, useInput, useStdout } from 'ink';
export type { Key } from 'ink';
