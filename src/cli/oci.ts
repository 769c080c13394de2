// `containy-learn spec` (runc spec's config.json) and `containy-learn export IMAGE DIR` (a bundle runc runs).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, one } from './args.js';
import { UserError } from '../runtime/errors.js';
import { requireRoot } from '../runtime/privilege.js';
import { exampleConfig } from '../runtime/oci.js';
import { detectLayout } from '../runtime/cgroups/layout.js';

export async function specCommand(argv: string[]): Promise<number> {
  const p = parseArgs('spec', argv, [{ name: 'bundle', short: 'b', value: true }]);
  if (p.rest.length) throw new UserError(`spec: unexpected '${p.rest[0]}': see \`containy-learn spec --help\``);
  const file = path.join(path.resolve(one(p, 'bundle') ?? '.'), 'config.json');
  if (fs.existsSync(file)) throw new UserError(`spec: ${file} exists: remove it first (as runc spec says)`);
  fs.writeFileSync(file, JSON.stringify(exampleConfig(detectLayout() === 'v2'), null, '\t'));
  return 0;
}

export async function exportCommand(argv: string[]): Promise<number> {
  const p = parseArgs('export', argv, [], { stopAtPositional: false });
  if (p.rest.length !== 2) throw new UserError('export: give IMAGE and DIR, e.g. `containy-learn export base /tmp/bundle` (then `runc run -b /tmp/bundle box`)');
  requireRoot('export', 'it copies the layers with their owners and device files');
  const { exportBundle } = await import('../images/export.js');
  const out = exportBundle(p.rest[0], p.rest[1], detectLayout() === 'v2');
  process.stdout.write(`wrote ${out.rootfs} and ${out.config}\n`);
  return 0;
}
