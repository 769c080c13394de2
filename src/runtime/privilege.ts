// The one check that a command runs as root, so every refusal reads the same
// and names what needs it and why.
import { UserError } from './errors.js';

/** Throws UserError `<what> needs root (<why>): run it with sudo` unless running as uid 0. */
export function requireRoot(what: string, why: string): void {
  if (process.getuid?.() !== 0) throw new UserError(`${what} needs root (${why}): run it with sudo`);
}
