// Hand-made archives for the image tests: docker save and docker export
// shapes, written with the project's own small tar writer.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
export { dockerSave, treeEntries } from '../../src/images/save.js';

/** Every path under root with its type, mode, owner and content hash: equal before and after means untouched. */
export function treeDigest(root: string): string {
  const hash = createHash('sha256');
  const walk = (rel: string) => {
    const p = path.join(root, rel);
    const st = fs.lstatSync(p);
    hash.update(`${rel}\0${st.mode}\0${st.uid}\0${st.gid}\0${st.size}\0${st.mtimeMs}\0`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(rel, e));
    else if (st.isSymbolicLink()) hash.update(fs.readlinkSync(p));
    else if (st.isFile()) hash.update(fs.readFileSync(p));
  };
  walk('');
  return hash.digest('hex');
}
