// The security building blocks a container start uses: capabilities, seccomp,
// masked and read-only paths, no_new_privs. The CLI needs only options.ts (pure).
//
// How a start uses them, in order:
//  launcher: securitySpecFrom(flags)          bad flags/profile: UserError, nothing created
//            compileSecurity(spec)            libseccomp → BPF; may run while the stage boots
//            … send the StageSecurity in the stage's order (JSON)
//  stage:    mounts, /proc, /sys, /dev in the new root
//            applyReadonlyPaths(root, s.readonlyPaths); applyMaskedPaths(root, s.maskedPaths)
//            pivot_root, detach the old root
//            if s.readonlyRoot: remountReadonly('/')
//            sethostname, unshare(CLONE_NEWCGROUP), chdir, find the program, stdio
//            (everything needing CAP_SYS_ADMIN is done by now)
//            enterSecurity(s)                 then nothing but execve
export * from './capabilities.js';
export * from './profile.js';
export * from './options.js';
export { DOCKER_DEFAULT_SECCOMP } from './default-profile.js';
export { applyMaskedPaths, applyReadonlyPaths, remountReadonly, DOCKER_MASKED_PATHS, DOCKER_READONLY_PATHS } from './paths.js';
export { compileSeccompFilter, type CompiledFilter } from './seccomp.js';
export { compileSecurity, type StageSecurity } from './compile.js';
export { enterSecurity, dropBoundingSet, setCapabilitySets } from './enter.js';
export { explainRefusals } from './explain.js';
