// Docker's masked and read-only paths (moby oci defaults), apart from paths.ts so
// that code needing only the lists does not load koffi.

/** Files that leak host state, or directories of them: docker's MaskedPaths. */
export const DOCKER_MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

/** Host-global knobs that must not be written: docker's ReadonlyPaths. */
export const DOCKER_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
