#!/usr/bin/env node
// chalk honours NO_COLOR only through FORCE_COLOR=0, and only if it is set before chalk loads.
if (process.env.NO_COLOR) process.env.FORCE_COLOR = '0';

const { existsSync } = await import('node:fs');
const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('containy-learn: not built yet: run `npm install && npm run build` in the project directory\n');
  process.exit(125);
}
const { main, exitProcess } = await import(cli.href);
exitProcess(await main(process.argv.slice(2)));
