"""`ddr ARGV...` in a fresh interpreter, reporting what it imported: the tests of start-up cost
(test_lazy_imports.py) and of commands loaded only when run (test_lazy_cli.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "mlflow", "torchvision", "sklearn", "dvc", "pandas")

# Prints one last line: PROBE {"code": exit status, "heavy": heavy modules imported, "loaded": project modules}.
PROBE = """
import json, sys
from pipelines.cli import main
try:
    main(sys.argv[1:])
    code = 0
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 1
heavy = sorted(m for m in %r if m in sys.modules)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("ddr", "pipelines", "registry"))
print("\\nPROBE " + json.dumps({"code": code, "heavy": heavy, "loaded": loaded}))
""" % (HEAVY,)


def probe(*argv: str, cwd: Path = ROOT) -> dict:
    """The PROBE report of `ddr ARGV...` run in `cwd`, with its "stdout" and "stderr"."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_DISABLE_TELEMETRY": "true"}
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], cwd=cwd, env=env, capture_output=True, text=True)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("PROBE ")]
    assert line, proc.stdout[-2000:] + proc.stderr[-2000:]
    return {**json.loads(line[-1][len("PROBE "):]), "stdout": proc.stdout, "stderr": proc.stderr}
