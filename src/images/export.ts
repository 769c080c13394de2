// `containy-learn export IMAGE DIR`: an OCI bundle runc runs: DIR/rootfs, the
// image's layers merged the way overlayfs shows them (a whiteout removes, an
// opaque directory hides what is below), and DIR/config.json, runc's example
// with the image's Entrypoint/Cmd, Env and WorkingDir, and the security a
// container of it gets with `run --image` (seccomp aside).
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../runtime/errors.js';
import * as libc from '../runtime/libc.js';
import { exampleConfig, ociSecurityFields } from '../runtime/oci.js';
import { defaultSecuritySpec } from '../runtime/security/options.js';
import { getImage } from './store.js';
import { CONTAINER_PATH } from '../runtime/paths.js';

const S_IFMT = 0o170000;

function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** Copy one layer onto the merged tree, applying its whiteouts. */
function applyLayer(src: string, dst: string): void {
  for (const name of fs.readdirSync(src)) {
    const from = path.join(src, name);
    const to = path.join(dst, name);
    const st = fs.lstatSync(from);
    const existing = fs.lstatSync(to, { throwIfNoEntry: false });
    if (isWhiteout(st)) {
      if (existing) fs.rmSync(to, { recursive: true, force: true });
      continue;
    }
    if (st.isDirectory()) {
      const opaque = libc.lgetxattr(from, 'trusted.overlay.opaque') === 'y';
      if (existing && (!existing.isDirectory() || opaque)) fs.rmSync(to, { recursive: true, force: true });
      if (!existing || !existing.isDirectory() || opaque) fs.mkdirSync(to);
      applyLayer(from, to);
      fs.lchownSync(to, st.uid, st.gid);
      fs.chmodSync(to, st.mode & 0o7777);
      continue;
    }
    if (existing) fs.rmSync(to, { recursive: true, force: true });
    if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
    else if (st.isFile()) fs.copyFileSync(from, to);
    else libc.mknod(to, st.mode & S_IFMT | (st.mode & 0o7777), Math.floor(st.rdev / 256) & 0xfff, st.rdev & 0xff);
    fs.lchownSync(to, st.uid, st.gid);
    if (!st.isSymbolicLink()) {
      fs.chmodSync(to, st.mode & 0o7777); // after chown, which clears set-uid bits
      fs.utimesSync(to, st.atime, st.mtime);
    }
  }
}

export interface ExportOptions {
  /** process.args instead of the image's Entrypoint and Cmd (as `docker create IMAGE CMD` then export). */
  args?: string[];
}

export function exportBundle(imageName: string, dir: string, cgroupV2: boolean, opts: ExportOptions = {}): { rootfs: string; config: string; configText: string } {
  const image = getImage(imageName, 'export');
  const bundle = path.resolve(dir);
  const rootfs = path.join(bundle, 'rootfs');
  const config = path.join(bundle, 'config.json');
  if (fs.existsSync(rootfs) || fs.existsSync(config)) throw new UserError(`export: ${bundle} already holds a rootfs or config.json: give a new or empty directory`);
  fs.mkdirSync(bundle, { recursive: true });
  const partial = path.join(bundle, '.rootfs.partial');
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { mode: 0o755 });
  let configText: string;
  try {
    for (const layer of image.layerDirs) applyLayer(layer, partial);
    const d = image.defaults;
    const spec = exampleConfig(cgroupV2) as { process: Record<string, unknown>; linux: Record<string, unknown> };
    // The defences `run --image` gives (docker's capabilities, masked and read-only paths), not runc's example's.
    const security = ociSecurityFields(defaultSecuritySpec());
    Object.assign(spec.process, security.process);
    Object.assign(spec.linux, security.linux);
    const args = opts.args ?? [...(d.Entrypoint ?? []), ...(d.Cmd ?? [])];
    // As docker does for an image without one: the default PATH, else the program is not found.
    const env = [...((d.Env ?? []).some((e) => e.startsWith('PATH=')) ? [] : [`PATH=${CONTAINER_PATH.join(':')}`]), ...(d.Env ?? [])];
    // Pipes, not a terminal: `runc run` from a script has no tty to give it.
    Object.assign(spec.process, { terminal: false, args: args.length ? args : ['sh'], env: env.some((e) => e.startsWith('TERM=')) ? env : [...env, 'TERM=xterm'], cwd: d.WorkingDir || '/' });
    configText = JSON.stringify(spec, null, 2) + '\n';
    fs.renameSync(partial, rootfs);
    fs.writeFileSync(config, configText);
  } catch (err) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw err;
  }
  return { rootfs, config, configText };
}
