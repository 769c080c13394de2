#!/usr/bin/env node
import module from 'node:module';

// Node 22.1+ keeps V8's compiled code of our modules between runs (in the OS's temp directory;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off): the menu opens without compiling the workshop's
// ~400 KiB again. Node 20 has no such cache and compiles every time.
module.enableCompileCache?.();
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
