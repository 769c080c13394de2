// The resolve hook of module-log.mjs (it runs off the main thread on Node 20).
import fs from 'node:fs';

let log;
export function initialize(data) {
  log = data.log;
}

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  fs.appendFileSync(log, `${context.parentURL ?? 'entry'} -> ${resolved.url}\n`);
  return resolved;
}
