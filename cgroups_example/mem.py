"""Allocate 100 MiB at a time and print each allocation, as containy's mem.py does.

The memory is written, not just reserved: b"\\x01" * size fills every page, so
the kernel really charges it to the cgroup (bytearray(size) would be lazily
zeroed pages, not charged until touched). Under `--memory 512M` with no swap,
five chunks (500 MiB) fit beside the interpreter and the 6th gets the process
OOM-killed: exit status 137 (128 + SIGKILL).
"""
import time

CHUNK = 100 * 1024 * 1024


def main() -> None:
    chunks = []
    while True:
        chunks.append(b"\x01" * CHUNK)
        total = len(chunks) * CHUNK // (1024 * 1024)
        print(f"[{time.time():.3f}] :: 100 MiB was allocated ({total} MiB in total)", flush=True)


if __name__ == "__main__":
    main()
