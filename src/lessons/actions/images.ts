// The actions on the image store (lesson 9): write a docker save archive in the
// work directory, load it into the store, remove it. Containers of an image
// are `start`/`run` with `image: NAME`.
import { describeError } from '../../runtime/errors.js';
import { argvOf, command, text, workdirPath } from '../params.js';
import { inWorkdir } from './containers.js';
import type { ActionDef } from './types.js';

const layersParam = (v: unknown) =>
  Array.isArray(v) && v.length > 0 && v.every((l) => l === 'base' || (typeof l === 'object' && l !== null && !Array.isArray(l) && Object.values(l).every((c) => typeof c === 'string')))
    ? undefined
    : 'must be a list of layers, each base or a map of path to content, e.g. [base, {etc/added: "hi"}]';

const configParam = (v: unknown) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? undefined : 'must be a map, e.g. {Cmd: [sh]}');

export const saveImage: ActionDef = {
  name: 'save-image',
  summary: 'write a docker save archive (manifest.json, the config, a tar per layer) in the work directory',
  params: {
    file: { describe: 'the archive, relative to the work directory', required: true, validate: workdirPath },
    name: { describe: 'its RepoTags entry, e.g. two:latest', required: true, validate: text('two:latest') },
    layers: { describe: 'bottom first: base, or a map of path to content (.wh.NAME deletes NAME)', required: true, validate: layersParam },
    config: { describe: 'the image config\'s Env, Cmd, Entrypoint, WorkingDir', validate: configParam },
  },
  needs: () => ['root'],
  async run(ctx, p) {
    try {
      const output = ctx.runtime.images!.save(inWorkdir(ctx, p.file as string), p.layers as never, { name: p.name as string, config: p.config as Record<string, unknown> | undefined, baseDir: ctx.runtime.defaultRootfs() });
      return { output, files: [p.file as string] };
    } catch (err) {
      return { error: describeError(err) };
    }
  },
};

export const loadImage: ActionDef = {
  name: 'load-image',
  summary: 'load a docker save archive from the work directory into the image store, as containy-learn image load does',
  params: {
    file: { describe: 'the archive, relative to the work directory', required: true, validate: workdirPath },
    name: { describe: 'the image it holds: an older one of that name is removed first', required: true, validate: text('two:latest') },
  },
  needs: () => ['root', 'overlay'],
  async run(ctx, p) {
    try {
      const images = ctx.runtime.images!;
      if (images.find(p.name as string)) images.remove(p.name as string);
      const loaded = await images.load(inWorkdir(ctx, p.file as string));
      const lines = loaded.flatMap((i) => [
        `loaded ${i.name}: ${i.layers.length} layers, each unpacked once into a directory of its own`,
        'lowerdir= (the top layer first, as overlayfs reads it):',
        ...[...i.layerDirs].reverse().map((d) => `  ${d}`),
      ]);
      return { output: lines.join('\n') + '\n', files: loaded.flatMap((i) => i.layerDirs) };
    } catch (err) {
      return { error: describeError(err) };
    }
  },
};

export const exportImage: ActionDef = {
  name: 'export-image',
  summary: 'write an OCI bundle of an image in the work directory (rootfs/ and config.json), as containy-learn export does; the output is its config.json',
  params: {
    name: { describe: 'the image, e.g. two:latest', required: true, validate: text('two:latest') },
    bundle: { describe: 'the bundle directory, relative to the work directory', required: true, validate: workdirPath },
    command: { describe: 'what the bundle runs (process.args) instead of the image\'s Entrypoint and Cmd (text runs with sh -c)', validate: command },
  },
  needs: () => ['root'],
  async run(ctx, p) {
    try {
      const dir = inWorkdir(ctx, p.bundle as string);
      const out = ctx.runtime.images!.export(p.name as string, dir, p.command === undefined ? {} : { args: argvOf(p.command) });
      return { output: `${p.bundle as string}/rootfs: the image's layers, merged\n${p.bundle as string}/config.json:\n${out.configText}`, files: ['rootfs', 'config.json'] };
    } catch (err) {
      return { error: describeError(err) };
    }
  },
};

export const removeImage: ActionDef = {
  name: 'remove-image',
  summary: 'remove an image from the store (its layers too, when no other image uses them)',
  params: { name: { describe: 'the image, e.g. two:latest', required: true, validate: text('two:latest') } },
  needs: () => ['root'],
  async run(ctx, p) {
    try {
      ctx.runtime.images!.remove(p.name as string);
      return { output: `removed ${p.name as string}\n` };
    } catch (err) {
      return { error: describeError(err) };
    }
  },
};
