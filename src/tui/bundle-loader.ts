// Runs the workshop bundle (dist/tui/workshop.cjs, made by build-vendor.ts) with
// V8's code cache of what the menu's first frame ran. Node's compile cache
// (bin/containy-learn.js) keeps only what V8 compiles before a module runs,
// its top level; the ~700 functions of React, Ink and the menu that the first
// frame calls were compiled lazily again at every start (~20 ms on Node 22
// here, and Node 20 has no compile cache at all). `createCachedData()` on a
// vm.Script after the first frame holds those functions too, so the next start
// deserializes them instead of parsing and compiling them.
//
// The cache sits beside the bundle (dist/tui/.code-cache/), one file per Node
// version, architecture and bundle: the bundle's size and mtime are in its
// name, since V8 checks a cache against the length of the source, not its
// text. A cache V8 rejects (other V8 flags, another build of Node) is written
// again; where dist/ cannot be written there is none, and the bundle compiles
// as it always did.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';

const here = path.dirname(fileURLToPath(import.meta.url));
export const WORKSHOP_BUNDLE = path.join(here, 'workshop.cjs');
export const CODE_CACHE_DIR = path.join(here, '.code-cache');
/** The bundle's name for import() of a module outside it (a classic script has no import(): build-vendor.ts rewrites them). */
export const OUTSIDE_IMPORT = '__workshopImport';

export interface LoadedBundle<T> {
  exports: T;
  /** What V8 did with a code cache: compiled from it, refused it (it is written again), or there was none. */
  codeCache: 'used' | 'rejected' | 'none';
  /** Writes the code cache, when this start had none that V8 took; once. Call it once the first frame is drawn. */
  saveCodeCache(): void;
}

/** The bundle's exports, or undefined when there is no bundle (a tsc-only build: the caller imports the modules). */
export function loadWorkshopBundle<T>(bundle: string = WORKSHOP_BUNDLE, cacheDir: string = CODE_CACHE_DIR): LoadedBundle<T> | undefined {
  let source: string;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(bundle);
    source = fs.readFileSync(bundle, 'utf8');
  } catch {
    return undefined;
  }
  const prefix = `workshop-${process.version}-${process.arch}-`;
  const cacheFile = path.join(cacheDir, `${prefix}${stat.size}-${Math.trunc(stat.mtimeMs)}.bin`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // CommonJS's wrapper, on the bundle's first line so that its line numbers stay as built.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname, ${OUTSIDE_IMPORT}) {${source}\n})`, { filename: bundle, cachedData });
  const module = { exports: {} as T };
  const base = pathToFileURL(bundle);
  const importOutside = (specifier: string): Promise<unknown> => import(new URL(specifier, base).href);
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, path.dirname(bundle), importOutside);

  const codeCache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used';
  let saved = codeCache === 'used';
  return {
    exports: module.exports,
    codeCache,
    saveCodeCache() {
      if (saved) return;
      saved = true;
      try {
        fs.mkdirSync(cacheDir, { recursive: true });
        // The caches of this Node's earlier builds of the bundle are of no more use.
        for (const name of fs.readdirSync(cacheDir)) if (name.startsWith(prefix)) fs.rmSync(path.join(cacheDir, name), { force: true });
        // Written aside and renamed: a workshop starting meanwhile reads a whole cache or none.
        const partial = `${cacheFile}.${process.pid}`;
        fs.writeFileSync(partial, script.createCachedData());
        // `sudo containy-learn` in a learner's clone: the cache belongs to whoever owns the bundle,
        // so that their next `npm run build` may remove it.
        if (process.getuid?.() === 0) {
          const owner = fs.statSync(path.dirname(bundle));
          for (const file of [cacheDir, partial]) fs.chownSync(file, owner.uid, owner.gid);
        }
        fs.renameSync(partial, cacheFile);
      } catch {
        // dist/ not writable (an installed package): every start compiles, as before.
      }
    },
  };
}
