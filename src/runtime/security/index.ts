// The security building blocks a container start uses: capabilities, seccomp,
// masked and read-only paths, no_new_privs. Importing this loads koffi; the CLI
// imports options.ts (pure) alone.
export * from './capabilities.js';
export * from './profile.js';
export * from './options.js';
export { DOCKER_DEFAULT_SECCOMP } from './default-profile.js';
export { applyMaskedPaths, applyReadonlyPaths, remountReadonly, DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS } from './paths.js';
export { compileSeccompFilter, type CompiledFilter } from './seccomp.js';
export { compileSecurity, type StageSecurity } from './compile.js';
export { enterSecurity, dropBoundingSet, setCapabilitySets } from './enter.js';
