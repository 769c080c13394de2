// containy's bundle format: <bundle>/configy.json, read the way containy reads it.
// Every problem is found before anything is created, and named by its field.
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from './errors.js';
import { NAMESPACES, type ContainerSpec, type NamespaceName } from './spec.js';
import { limitsFromConfigy } from './cgroups/limits.js';
import { parseConfigyUserns } from './userns/idmap.js';

// containy spells two namespaces the long way.
const NAMESPACE_ALIASES: Record<string, NamespaceName> = { network: 'net', mount: 'mnt', ns: 'mnt' };

function fieldError(field: string, problem: string, fix: string): UserError {
  return new UserError(`configy.json: ${field}: ${problem}; ${fix}`);
}

function expectString(value: unknown, field: string, fix: string): string {
  if (typeof value !== 'string' || value === '') throw fieldError(field, value === undefined ? 'missing' : `expected a non-empty string, got ${JSON.stringify(value)}`, fix);
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseCommand(cmd: unknown): string[] {
  // containy: "cmd": {"command": "/bin/bash", "cmd_argv": "-c 'echo hi'"}; early bundles: "cmd": "/bin/bash".
  if (typeof cmd === 'string' && cmd) return [cmd];
  if (!isObject(cmd)) throw fieldError('cmd', cmd === undefined ? 'missing' : 'expected an object', 'give "cmd": {"command": "/bin/sh", "cmd_argv": ""}');
  const command = expectString(cmd.command, 'cmd.command', 'name the program to run, e.g. "/bin/sh"');
  const args = cmd.cmd_argv;
  if (args === undefined || args === '') return [command];
  if (typeof args === 'string') return [command, ...splitArgs(args)];
  if (Array.isArray(args) && args.every((a) => typeof a === 'string')) return [command, ...(args as string[])];
  throw fieldError('cmd.cmd_argv', `expected a string or a list of strings, got ${JSON.stringify(args)}`, 'e.g. "cmd_argv": "-c \'echo hi\'"');
}

/** Split a cmd_argv string like a shell would for simple quoting ('...' and "..."). */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  const re = /'([^']*)'|"((?:\\.|[^"\\])*)"|(\S+)/g;
  for (const m of s.matchAll(re)) out.push(m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3]);
  return out;
}

function parseNamespaces(list: unknown): NamespaceName[] | undefined {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) throw fieldError('isolation.namespaces', 'expected a list', `e.g. ["${NAMESPACES.join('", "')}"]`);
  // "user" is no NamespaceName: it is the userns section's (parseConfigyUserns), made first by a helper.
  return list.flatMap((item, i): NamespaceName[] => {
    const field = `isolation.namespaces[${i}]`;
    if (typeof item !== 'string') throw fieldError(field, `expected a string, got ${JSON.stringify(item)}`, `use one of ${NAMESPACES.join(', ')}`);
    if (item === 'user') return [];
    const name = (NAMESPACE_ALIASES[item] ?? item) as NamespaceName;
    if (!NAMESPACES.includes(name)) throw fieldError(field, `unknown namespace '${item}'`, `use one of ${NAMESPACES.join(', ')} (or containy's "network", "mount", "user")`);
    return [name];
  });
}

/** Read <bundle>/configy.json into a container spec. */
export function loadBundle(bundleDir: string): ContainerSpec {
  const file = path.join(bundleDir, 'configy.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`no configy.json in ${bundleDir}: give --bundle DIR with a containy bundle, or a command: containy-learn run -- /bin/sh`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file} is not valid JSON (${(err as Error).message}): fix the syntax, e.g. with \`python3 -m json.tool ${file}\``);
  }
  if (!isObject(json)) throw new UserError(`${file}: expected a JSON object at the top level`);
  if (json.version !== undefined && typeof json.version !== 'string') throw fieldError('version', 'expected a string', 'e.g. "version": "v1"');
  const argv = parseCommand(json.cmd);
  const spec: ContainerSpec = { argv };
  if (json.rootfsPath !== undefined) {
    const rootfs = path.resolve(bundleDir, expectString(json.rootfsPath, 'rootfsPath', 'give the root filesystem directory, relative to the bundle'));
    if (!fs.existsSync(rootfs)) throw fieldError('rootfsPath', `${rootfs} does not exist`, 'point it at a root filesystem directory (or leave it out to use the base rootfs)');
    spec.rootfs = rootfs;
  }
  if (json.containerName !== undefined) spec.name = expectString(json.containerName, 'containerName', 'e.g. "containerName": "box"');
  const isolation = json.isolation;
  if (isolation !== undefined) {
    if (!isObject(isolation)) throw fieldError('isolation', 'expected an object', 'e.g. "isolation": {"namespaces": ["pid", "uts"], "cgroups": []}');
    spec.namespaces = parseNamespaces(isolation.namespaces);
    if (isolation.cgroups !== undefined) {
      if (!Array.isArray(isolation.cgroups)) throw fieldError('isolation.cgroups', 'expected a list', 'e.g. [{"type": "memory", "resource": "memory.max", "value": "512M"}]');
      spec.limits = limitsFromConfigy(isolation.cgroups);
    }
    if (Array.isArray(isolation.namespaces) && isolation.namespaces.includes('user')) spec.userns = parseConfigyUserns(json.userns);
  }
  return spec;
}
