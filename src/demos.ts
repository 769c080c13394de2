// The workshop's demo scripts (cgroups_example/: containy's proc.py, mem.py,
// cpu.py), bound read-only at /cgroups_example into the containers the CLI and
// the lessons start. Workshop content, so not the runtime's: for the runtime it
// is an ordinary bind the caller asks for.
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './runtime/paths.js';
import type { BindMount } from './runtime/start/protocol.js';

export const CGROUPS_EXAMPLE = path.join(PACKAGE_ROOT, 'cgroups_example');

/** The read-only bind of the demos, or none when the package lacks them. */
export function demoBinds(): BindMount[] {
  return fs.existsSync(CGROUPS_EXAMPLE) ? [{ source: CGROUPS_EXAMPLE, target: '/cgroups_example', readonly: true }] : [];
}
