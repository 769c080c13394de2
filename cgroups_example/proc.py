"""Fork 10 children and print each PID, as containy's proc.py does.

Each child stays alive about a second, so all of them count against the
cgroup's pids.max at once; then it exits. Under `--pids-limit 10` the
parent (1) plus 9 children fill the limit and the 10th fork is refused:
the kernel answers EAGAIN, which Python raises as BlockingIOError.
"""
import os
import sys
import time

FORK_TIMES = 10
CHILD_LIFETIME_S = 1.0


def main() -> int:
    children = []
    status = 0
    for _ in range(FORK_TIMES):
        try:
            pid = os.fork()
        except OSError as err:
            print(f"[{time.time():.3f}] :: fork refused: {err}", flush=True)
            status = 1
            break
        if pid == 0:
            time.sleep(CHILD_LIFETIME_S)
            os._exit(0)
        children.append(pid)
        print(f"[{time.time():.3f}] :: new process with PID: {pid}", flush=True)
    for pid in children:
        os.waitpid(pid, 0)
    print(f"{len(children)} of {FORK_TIMES} forks succeeded", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
