// What `run --image NAME` starts: the image's layers as the root, and its
// config's Entrypoint, Cmd, Env and WorkingDir as defaults, as docker reads them.
import { UserError } from '../runtime/errors.js';
import type { ContainerSpec } from '../runtime/spec.js';
import { BASE_IMAGE, getImage } from './store.js';

/** The spec of a container of image `name`; `command` (if any) replaces Cmd, as `docker run IMAGE COMMAND` does. */
export function specFromImage(name: string, command: string[]): ContainerSpec {
  const image = getImage(name, 'run --image');
  const d = image.defaults;
  const argv = [...(d.Entrypoint ?? []), ...(command.length ? command : (d.Cmd ?? []))];
  if (!argv.length) throw new UserError(`run --image: ${image.name} has no Cmd or Entrypoint: say what to run, e.g. \`containy-learn run --image ${image.name} -- /bin/sh\``);
  if (d.User && !['root', '0', '0:0', 'root:root'].includes(d.User)) {
    throw new UserError(`run --image: ${image.name}'s config sets User ${JSON.stringify(d.User)}, and containy-learn runs commands as root only (no user switch yet): run a command as that user yourself, e.g. with su or setpriv`);
  }
  const env: Record<string, string> = {};
  for (const kv of d.Env ?? []) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return {
    argv,
    env,
    cwd: d.WorkingDir || undefined,
    // The base stays the runtime's default, so that `run` builds it when it is missing.
    rootfs: image.name === BASE_IMAGE ? undefined : image.layerDirs,
  };
}
