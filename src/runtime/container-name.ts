// What a container may be called. The name becomes one path component (its run
// record, overlay directories and cgroup), the default hostname, and a word in
// shell command lines: so letters, digits, '_', '.', '-', starting with a letter or
// digit, and at most 63 characters, a DNS label's length, which also fits
// sethostname(2)'s limit of 64 bytes (HOST_NAME_MAX).
export const CONTAINER_NAME_MAX = 63;

const NAME = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,${CONTAINER_NAME_MAX - 1}}$`);

export function isContainerName(name: string): boolean {
  return NAME.test(name);
}

/** What is wrong with `name` as a container name, in words, or undefined. */
export function containerNameProblem(name: string, max = CONTAINER_NAME_MAX): string | undefined {
  if (isContainerName(name) && name.length <= max) return undefined;
  return `use letters, digits, '_', '.' or '-', starting with a letter or digit (at most ${max})`;
}
