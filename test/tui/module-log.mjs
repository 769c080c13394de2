// Preload (node --import) for first-frame-imports.test.ts: writes every module
// the process loads to $CONTAINY_MODULE_LOG, one "parent -> module" line per
// ES import (a resolve hook, which sees dynamic import() too), and at exit
// "require -> file" for each CommonJS file in require's cache (koffi and its
// native addon are loaded with require).
import fs from 'node:fs';
import { createRequire, register } from 'node:module';

const log = process.env.CONTAINY_MODULE_LOG;
if (log) {
  register(new URL('./module-log-hooks.mjs', import.meta.url), { data: { log } });
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    fs.appendFileSync(log, Object.keys(require.cache).map((file) => `require -> ${file}\n`).join(''));
  });
}
