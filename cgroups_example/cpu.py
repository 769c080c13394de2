"""Burn CPU for a few seconds and report how much CPU time this process got.

Usage: python3 cpu.py [SECONDS]   (default 3)

One busy thread can use at most one core. Under `--cpus 0.2` the cgroup's
quota (cpu.max / cpu.cfs_quota_us) lets it run 20 ms in every 100 ms period,
so it reports about 20% of one core.
"""
import sys
import time


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    wall_start = time.monotonic()
    cpu_start = time.process_time()
    spins = 0
    while time.monotonic() - wall_start < seconds:
        for _ in range(10000):
            spins += 1
    wall = time.monotonic() - wall_start
    cpu = time.process_time() - cpu_start
    print(f"burned CPU for {wall:.2f} s of wall time and got {cpu:.2f} s of CPU: {100 * cpu / wall:.0f}% of one core", flush=True)


if __name__ == "__main__":
    main()
