"""Progress on stderr: a bar with done/total and an ETA on a terminal, one line per event otherwise."""
import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest

from ddr.eval.events import BatchStarted, CacheHit, TrainingFinished, TrainingStarted
from ddr.grid.events import CellDispatched, CellEvent, CellFinished, GridStarted, PoolPlanned, PoolTrained
from pipelines.progress import GridProgress, TrainingProgress

from tests.pipelines.conftest import FIXTURES


def test_lines_when_not_a_terminal():
    out = io.StringIO()
    with TrainingProgress(out) as p:
        for n in (1, 2, 3):
            p.on_event(TrainingStarted(n, 3, "syn", 0, 0.01))  # no line of its own
            p.on_event(TrainingFinished(n, 3, "syn", 0, 0.01, 0.5, 0.1))
        p.on_event(CacheHit(4, 4, "random", 1, 0.05, 0.25))
    assert out.getvalue().splitlines() == [f"[{n}/3] syn          round 0 lr 0.01   acc 0.5000 (0.1s)" for n in (1, 2, 3)] \
        + ["[4/4] random       round 1 lr 0.05   acc 0.2500 (cached)"]


def test_bar_counts_trainings_and_cells():
    out = io.StringIO()
    with TrainingProgress(out, tty=True) as p:
        p("teachers: ConvNet-2")  # a plain message stays a line
        p("[2/4] a message that looks like a count")  # counts nothing: only events do
        assert p.bar is None
        p.on_event(TrainingStarted(1, 4, "real", 0, 0.01))
        assert p.bar.n == 0 and p.bar.total == 4
        p.on_event(TrainingFinished(1, 4, "real", 0, 0.01, 0.9, 0.2))
        p.on_event(CacheHit(3, 4, "syn", 0, 0.05, 0.6))
        p.on_event(BatchStarted(2, "batched"))  # a line above the bar
        assert p.bar.n == 3 and p.bar.total == 4
    text = out.getvalue()
    assert "teachers: ConvNet-2\n" in text and "3/4 trainings" in text and "<" in text  # elapsed<remaining
    assert "training 2 students at once (engine batched)\n" in text
    out = io.StringIO()
    with GridProgress(out, tty=True) as g:
        g.on_event(GridStarted("demo", 5, 2, "serial"))
        g.on_event(PoolPlanned(3, 27, 9, 12))  # a line
        g.on_event(PoolTrained(1, 12, "m/digits/ipc1/lrs-hard", "real", 0, 0.01, 0.9, 1.5))  # beside the bar
        g.on_event(CellDispatched("abc123", "lrs/r1", 1))
        g.on_event(CellEvent("abc123", TrainingFinished(4, 9, "syn", 1, 0.01, 0.5, 0.1)))  # beside the bar
        g("abc123 lrs/r1: finished in 3.0s")  # a line, not a count: only events count
        assert g.bar.n == 2
        g.on_event(CellFinished("abc123", "lrs/r1", 3.0, "LRS 0.5000"))
        assert g.bar.n == 3 and g.bar.total == 5
    text = out.getvalue()
    assert "3/5 cells" in text and "grid demo: 5 cells, 2 finished before, 3 to run (serial executor)" in text
    assert "abc123 lrs/r1: attempt 1 dispatched\n" in text and "abc123 [4/9] syn" in text
    assert "pool: 3 cells plan 27 trainings, 9 cached; 12 unique to train" in text
    assert "pool [1/12] m/digits/ipc1/lrs-hard real" in text  # in the bar's postfix, not a line of its own
    assert not any(line.startswith("pool [") for line in text.splitlines())


@pytest.mark.slow
def test_ddr_eval_draws_a_bar_on_a_terminal(tmp_path, digits):
    from ddr.data import random_baseline, write_distilled

    write_distilled(tmp_path / "set", random_baseline(digits, 1, 4))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # a 120-column terminal
    env = {**os.environ, "DDR_CACHE_DIR": str(tmp_path / "cache"), "COLUMNS": "120"}
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "eval", "acc", "--distilled", "set",
                             "--dataset", "digits", "--ipc", "1", "--protocol", str(FIXTURES / "tiny-lrs.yaml"),
                             "--rounds", "1", "--no-mlflow"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    out, _ = proc.communicate(timeout=300)
    os.close(master)
    err = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, err
    assert "\r" in err and "2/2 trainings" in err  # redrawn in place, done/total
    assert "ACC" in out.decode()  # the result table still goes to stdout
