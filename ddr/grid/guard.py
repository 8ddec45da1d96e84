"""`python -m ddr.grid.guard PARENT_PID -- COMMAND...`: run COMMAND so that it dies with PARENT_PID.

The grid's private `mlflow server` (and `ddr server`'s) runs under this guard, which leads the server's
process group. When the process that started it is gone, even by SIGKILL (no `finally` runs there), the
guard sees itself re-parented and stops the whole group: no orphaned server keeps the port and the store.
SIGTERM to the group (the normal stop) reaches the command directly; the guard then exits with its status.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

POLL_S = 0.5
GRACE_S = 10.0


def _stop_group(child: subprocess.Popen) -> int:
    os.killpg(os.getpgid(0), signal.SIGTERM)  # ours ignores it (below); the command and its workers do not
    try:
        return child.wait(GRACE_S)
    except subprocess.TimeoutExpired:
        os.killpg(os.getpgid(0), signal.SIGKILL)
        return -signal.SIGKILL


def _default_signals() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m ddr.grid.guard PARENT_PID -- COMMAND...", file=sys.stderr)
        return 2
    if os.getpgid(0) != os.getpid():  # it stops its whole process group: never its starter's
        print("ddr.grid.guard: must lead its own process group (start it with start_new_session=True)", file=sys.stderr)
        return 2
    parent = int(argv[0])
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a group-wide SIGTERM stops the command; we follow it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    child = subprocess.Popen(argv[2:], preexec_fn=_default_signals)  # an ignored signal stays ignored over exec
    while True:
        try:
            return child.wait(POLL_S)
        except subprocess.TimeoutExpired:
            pass
        if os.getppid() != parent:  # re-parented: whoever started us is gone
            return _stop_group(child)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
